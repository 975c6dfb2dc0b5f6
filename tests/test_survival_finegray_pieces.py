"""Fine–Gray's extended rows written chunk by chunk into arrays of the final size, and the
weighted score residuals built block by block, equal the whole-table construction exactly
(the reference below is the construction they replace), and so does the fitted model."""

from __future__ import annotations

import numpy as np
import pytest

from ips_study.designs.survival import _riskset
from ips_study.designs.survival.competing import (_censoring_km, _extended_rows, _step,
                                                  check_status, fine_gray, finegray_data)
from ips_study.designs.survival.cox import CoxPH


def _whole_table_rows(time, status, X, cause=1):
    """The extended rows built for the whole table at once (the earlier construction)."""
    time, X = np.asarray(time, float), np.asarray(X, float)
    status = check_status(status, cause)
    n = len(time)
    ctime, G = _censoring_km(time, status)
    is_cause = status == cause
    tmax = time[is_cause].max()
    jumps = ctime[G < np.r_[1.0, G[:-1]]]
    jumps = jumps[jumps < tmax]
    comp = np.flatnonzero((status > 0) & ~is_cause & (time < tmax))
    lo_idx = np.searchsorted(jumps, time[comp], side="right")
    n_piece = len(jumps) - lo_idx + 1
    subj = np.repeat(comp, n_piece)
    pos = np.arange(len(subj)) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
    j = np.repeat(lo_idx, n_piece) + pos
    grid = np.r_[jumps, tmax]
    lo = np.where(pos == 0, time[subj], grid[np.maximum(j - 1, 0)])
    hi = grid[np.minimum(j, len(jumps))]
    w = _step(ctime, G, lo) / _step(ctime, G, time[subj], left=True)
    keep = hi > lo
    subj, lo, hi, w = subj[keep], lo[keep], hi[keep], w[keep]
    origin = min(float(time.min()), 0.0) - 1.0
    return {"start": np.r_[np.full(n, origin), lo], "stop": np.r_[time, hi],
            "event": np.r_[is_cause, np.zeros(len(subj), bool)].astype(int),
            "weight": np.r_[np.ones(n), w], "X": np.vstack([X, X[subj]]),
            "subject": np.r_[np.arange(n), subj]}


def _data(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n), rng.integers(0, 3, n)])
    t = rng.exponential(10 * np.exp(-0.3 * X[:, 0]), n)
    if ties:                                     # monthly times: many ties and empty pieces
        t = np.ceil(t)
    status = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    return t, status, X


@pytest.mark.parametrize("seed,ties", [(1, False), (2, True), (3, True)])
@pytest.mark.parametrize("chunk", [1, 5, 10_000])
def test_extended_rows_equal_whole_table(seed, ties, chunk):
    t, s, X = _data(400, seed, ties)
    ref = _whole_table_rows(t, s, X)
    got = _extended_rows(t, s, X, chunk=chunk)
    assert got.keys() == ref.keys()
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k].astype(bool) if k == "event" else ref[k], err_msg=k)
    pub = finegray_data(t, s, X)
    assert pub["event"].dtype == ref["event"].dtype
    np.testing.assert_array_equal(pub["event"], ref["event"])


@pytest.mark.parametrize("seed,ties", [(4, False), (5, True)])
def test_fine_gray_equals_whole_table_fit(monkeypatch, seed, ties):
    """Estimates, model, robust and crr covariances bit for bit, blocks smaller than the data."""
    t, s, X = _data(700, seed, ties)
    monkeypatch.setattr(_riskset, "CHUNK", 97)
    fit = fine_gray(t, s, X)
    ext = _whole_table_rows(t, s, X)
    ref = CoxPH(ties="breslow").fit(ext["X"], ext["stop"], ext["event"], start=ext["start"],
                                    weights=ext["weight"], cluster=ext["subject"])
    U = ref.score_residuals() * ref._w[:, None]         # the whole-table residuals
    eta = np.stack([np.bincount(ext["subject"], U[:, j], minlength=len(t))
                    for j in range(U.shape[1])], axis=1)
    from ips_study.designs.survival.competing import _censoring_term

    tot = eta + _censoring_term(ref, t, s, 1)
    crr = ref.cov_ @ (tot.T @ tot) @ ref.cov_
    np.testing.assert_array_equal(fit.params_, ref.params_)
    np.testing.assert_array_equal(fit.cov_, ref.cov_)
    np.testing.assert_array_equal(fit.cov_robust_, ref.cov_robust_)
    np.testing.assert_array_equal(fit.cov_crr_, crr)
    assert fit.n_extended_ == len(ext["stop"])
