"""The streamed unbalanced TWFE fit against the old iterative path (alternating projections).

On an unbalanced two-way panel sorted by person, :class:`ips_study.within.TwfeFit` fits from
the exact two-way solve's demeaned blocks (``TwfeFit._fit_streamed``): coefficients, bread,
cluster scores and the fixed-effect count come from block sums, and no demeaned column of all
rows is built unless an inference method asks. The reference is the previous path,
``fast=False``: every column demeaned by alternating projections (to 1e-13) and least
squares on the explicit columns. Both are exact up to rounding and the projections'
tolerance, so they must agree to 1e-10 (observed: about 1e-12).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.did import did, fit_panel
from ips_study.designs.roles import cell_sums
from ips_study.designs.timelabels import code_counts, codes, mapped_codes, period_codes
from ips_study.twoway import TwoWaySchur, person_runs
from ips_study.within import TwfeFit

T, U = 14, 7  # periods, clusters (cluster 0 treated)


def panel(seed, *, P=260, kind="enter_exit", singletons=0, weights=False, q=0, movers=False,
          p=1):
    """Person-sorted unbalanced panel arrays for :class:`TwfeFit`."""
    rng = np.random.default_rng(seed)
    start = np.where(rng.random(P) < 0.4, rng.integers(1, T - 2, P), 0)
    stop = np.where(rng.random(P) < 0.4,
                    start + 2 + (rng.random(P) * (T - 2 - start)).astype(int), T)
    if singletons:
        stop[-singletons:] = start[-singletons:] + 1  # persons seen once
    person = np.repeat(np.arange(P), stop - start)
    period = np.concatenate([np.arange(a, b) for a, b in zip(start, stop)])
    if kind == "holes":
        keep = rng.random(len(person)) < 5 / 6
        keep[np.r_[0, np.flatnonzero(np.diff(person)) + 1]] = True  # every person stays
        person, period = person[keep], period[keep]
    owner = rng.integers(0, U, P)
    owner[:12] = 0
    unit = owner[person].copy()
    if movers:
        move = rng.random(len(unit)) < 0.04
        unit[move] = rng.integers(1, U, move.sum())
    post = (period >= T // 2).astype(np.int8)
    B = (post[:, None].astype(float) if p == 1 else
         np.column_stack([period == T // 2 + j for j in range(p)]).astype(float))
    y = (3 * rng.normal(size=P)[person] + 0.2 * period + rng.normal(0, 0.4, (U, T))[unit, period]
         + 0.5 * (unit == 0) * post + rng.normal(size=len(person)))
    Z = rng.normal(size=(len(y), q)) + 0.1 * period[:, None] + (person % 3)[:, None]
    return dict(y=y, B=B, Z=Z, unit=unit, unit_labels=np.arange(U).astype(str), treated=0,
                period=period, period_labels=np.arange(T).astype(str), post=post,
                fe=[person, period], weights=rng.uniform(0.2, 3, len(y)) if weights else None,
                terms=[f"b{j}" for j in range(p)], covariates=[f"z{j}" for j in range(q)])


def assert_same(new: TwfeFit, old: TwfeFit, tol=1e-10):
    np.testing.assert_allclose(new.beta, old.beta, rtol=0, atol=tol)
    V, V0 = new.vcov_cluster(), old.vcov_cluster()
    np.testing.assert_allclose(V, V0, rtol=0, atol=tol * np.abs(V0).max())
    np.testing.assert_allclose(new.cluster_scores(), old.cluster_scores(), rtol=0,
                               atol=tol * np.abs(old.cluster_scores()).max())
    np.testing.assert_allclose(new.bread, old.bread, rtol=tol)
    assert new.k_fe_nonnested == old.k_fe_nonnested
    assert new.crv_factor() == old.crv_factor()


CASES = {
    "enter_exit": {},
    "holes": dict(kind="holes"),
    "singletons": dict(kind="holes", singletons=15),
    "weights": dict(weights=True),
    "covariates": dict(kind="holes", q=2),
    "weights_covariates_singletons": dict(weights=True, q=3, singletons=9),
    "movers": dict(kind="holes", movers=True, weights=True, q=1),
    "event_bins": dict(p=3, singletons=4),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_streamed_fit_equals_alternating_projections(case, seed):
    d = panel(seed, **CASES[case])
    new, old = TwfeFit(**d), TwfeFit(**d, fast=False)
    assert new.streamed and not old.streamed
    assert_same(new, old)
    # nothing of all rows was demeaned for the clustered SE
    assert not any(k in vars(new) for k in ("_Xt", "_yt", "_resid"))
    # built on request, they equal the explicit columns (wild bootstrap, Conley-Taber)
    np.testing.assert_allclose(new.Xt, old.Xt, rtol=0, atol=1e-10)
    np.testing.assert_allclose(new.resid, old.resid, rtol=0, atol=1e-10)


@pytest.mark.parametrize("case", ["enter_exit", "weights_covariates_singletons"])
def test_timing_by_period_equals_explicit_rows(case):
    # B=None: the rows' timing is read from the (T, p) table, never built for the fit
    d = panel(3, **CASES[case])
    by_period = np.zeros((T, d["B"].shape[1]))
    by_period[d["period"]] = d["B"]
    lazy = TwfeFit(**{**d, "B": None, "timing": by_period[None]})
    assert lazy.streamed and lazy._B is None
    assert_same(lazy, TwfeFit(**d, fast=False))
    assert lazy._B is None
    np.testing.assert_array_equal(lazy.B, d["B"])  # built on first use


def test_unsorted_rows_take_the_eager_direct_path_with_the_same_result():
    d = panel(4, kind="holes", weights=True, q=1)
    order = np.random.default_rng(0).permutation(len(d["y"]))
    shuffled = {k: (v[order] if isinstance(v, np.ndarray) and len(v) == len(d["y"]) else v)
                for k, v in d.items()}
    shuffled["fe"] = [f[order] for f in d["fe"]]
    f = TwfeFit(**shuffled)
    assert not f.streamed and f.demeaner.schur() is not None
    assert_same(f, TwfeFit(**d, fast=False))


def test_streamed_fit_matches_a_dummy_variable_regression():
    # independent of any within transformation: every person and period dummy in lstsq
    d = panel(5, P=60, kind="holes", weights=True, q=1, singletons=3)
    f = TwfeFit(**d)
    assert f.streamed
    person, period = d["fe"]
    F = np.column_stack([np.eye(person.max() + 1)[person], np.eye(T)[period][:, 1:]])
    X = np.column_stack([np.where(d["unit"] == 0, d["B"][:, 0], 0.0), d["Z"]])
    sw = np.sqrt(d["weights"])
    coef = np.linalg.lstsq(np.column_stack([X, F]) * sw[:, None], d["y"] * sw, rcond=None)[0]
    np.testing.assert_allclose(f.beta, coef[:2], rtol=1e-10)


def test_fit_panel_sorted_unbalanced_uses_streamed_fit_and_any_order_agrees():
    d = panel(6, P=400, kind="holes")
    df = pd.DataFrame({"person_id": d["fe"][0], "municipality": (1804 + d["unit"]).astype(str),
                       "period": (2008 + d["period"]).astype(str), "post": d["post"],
                       "y": d["y"]})
    cfg = StudyConfig(freq="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a = fit_panel(df, outcome="y", config=cfg, inference="cluster")
        b = fit_panel(df.sample(frac=1, random_state=2), outcome="y", config=cfg,
                      inference="cluster")
        df["treat"] = ((df["municipality"] == "1804") & (df["post"] == 1)).astype(int)
        c = did(df, y="y", unit="person_id", time="period", treat="treat",
                cluster="municipality", inference="cluster")
    assert a.fit.streamed and not b.fit.streamed
    assert a.fit._B is None
    assert not any(k in vars(a.fit) for k in ("_Xt", "_yt", "_resid"))
    assert b.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)
    assert c.fit.streamed
    assert c.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert c.std_error == pytest.approx(a.std_error, rel=1e-10)


def test_person_runs_only_for_sorted_dense_codes():
    assert person_runs(np.array([0, 0, 1, 2, 2, 2]), 3).tolist() == [0, 2, 3, 6]
    assert person_runs(np.array([0, 1, 0]), 2) is None  # not sorted
    assert person_runs(np.array([0, 0, 2]), 3) is None  # code 1 unused
    assert person_runs(np.array([0, 0, 1]), 3) is None  # code 2 unused
    sc = TwoWaySchur(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 1]), None, 3, 2)
    assert sc.starts.tolist() == [0, 2, 3, 5] and sc.n_i.tolist() == [2, 1, 2]


def test_demeaned_blocks_equal_whole_demeaning():
    d = panel(7, kind="holes", weights=True)
    person, period = d["fe"]
    sc = TwoWaySchur(person, period, d["weights"], person.max() + 1, T)
    X = np.column_stack([d["y"], period ** 2.0])
    whole = sc.demean(X)
    got = np.empty_like(whole)
    n_blocks = 0
    for lo, hi, Xt in sc.demeaned_blocks(lambda lo, hi: X[lo:hi].T.copy(), block=97):
        got[lo:hi] = Xt.T
        n_blocks += 1
    assert n_blocks > 5
    np.testing.assert_allclose(got, whole, rtol=0, atol=1e-11)


def test_narrow_codes_are_counted_and_mapped_without_widening_errors(monkeypatch):
    import ips_study.timelabels as tl

    monkeypatch.setattr(tl, "BLOCK", 4)  # several blocks on a small column
    x = np.array([3, 1, 1, 0, 3, 3, 1, 0, 0, 3], dtype=np.int8)
    assert code_counts(x, 5).tolist() == np.bincount(x, minlength=5).tolist()
    table = np.array([2, 0, -1, 1, 7])
    assert mapped_codes(table, x).tolist() == table[x].tolist()
    assert mapped_codes(np.arange(4), x).dtype == np.intp
    cat = pd.Series(pd.Categorical.from_codes(x, categories=list("abcde")))
    c, lab = codes(cat)
    assert c.tolist() == [2, 1, 1, 0, 2, 2, 1, 0, 0, 2] and lab.tolist() == ["a", "b", "d"]
    # periods: categories out of time order and one unused
    per = pd.Series(pd.Categorical.from_codes(x, categories=["2011", "2009", "2012", "2010",
                                                             "2013"]))
    code, labels, numbers = period_codes(per, "t")
    assert labels.tolist() == ["2009", "2010", "2011"] and numbers.tolist() == [2009, 2010, 2011]
    assert code.tolist() == [1, 0, 0, 2, 1, 1, 0, 2, 2, 1]
    # sorted integers with and without gaps
    c, lab = codes(pd.Series(np.array([5, 5, 6, 8, 8], dtype=np.int32)))
    assert c.tolist() == [0, 0, 1, 2, 2] and lab.tolist() == [5, 6, 8]
    c, lab = codes(pd.Series(np.array([5, 5, 6, 7, 7], dtype=np.int32)))
    assert c.tolist() == [0, 0, 1, 2, 2] and lab.tolist() == [5, 6, 7]


def test_cell_sums_equal_bincount():
    rng = np.random.default_rng(8)
    n = (1 << 18) + 1234  # more than one block
    cl, t = rng.integers(0, 9, n), rng.integers(0, 11, n)
    w, keep = rng.random(n), rng.random(n) < 0.3
    cell = cl * 11 + t
    np.testing.assert_array_equal(cell_sums(cl, t, 11, 99), np.bincount(cell, minlength=99))
    np.testing.assert_allclose(cell_sums(cl, t, 11, 99, w, keep),
                               np.bincount(cell[keep], w[keep], minlength=99), rtol=1e-12)


@pytest.mark.parametrize("kind", ["enter_exit", "holes", "all_gaps"])
def test_spells_periods_matrix_equals_dense_product(kind):
    # persons in one unbroken run of periods go through the difference array, the rest
    # (gaps, a period seen twice) through the dense blocks; both give N' diag(1/n) N
    d = panel(9, P=500, kind="enter_exit" if kind == "enter_exit" else "holes",
              singletons=0 if kind == "all_gaps" else 5)
    person, period = d["fe"]
    if kind == "holes":  # a person with one period twice
        person, period = np.r_[person, person[-1]], np.r_[period, period[-1]]
    if kind == "all_gaps":  # every person has a gap: no unbroken spell at all
        first = np.r_[0, np.flatnonzero(np.diff(person)) + 1]
        last = np.r_[first[1:], len(person)] - 1
        long = last - first >= 2
        keep = np.isin(person, np.flatnonzero(long))
        keep[first[long] + 1] = False  # each remaining person loses its second row
        person, period = np.unique(person[keep], return_inverse=True)[1], period[keep]
    sc = TwoWaySchur(person, period, None, person.max() + 1, T)
    one = sc._spells()[0]
    if kind == "all_gaps":
        assert not one.any()
    else:
        assert one.any() and (one.all() if kind == "enter_exit" else not one.all())
    dense = sc._cross(person, period, None, sc.inv_n)
    np.testing.assert_allclose(sc.off, dense, rtol=0, atol=1e-12 * np.abs(dense).max())
    np.testing.assert_array_equal(sc.off == 0, dense == 0)


def test_narrow_codes_widen_only_when_read():
    from ips_study.designs.roles import panel_roles
    from ips_study.narrow import NarrowCodes

    d = panel(10, kind="holes")
    months = pd.period_range("2010-01", periods=T, freq="M").astype(str)
    df = pd.DataFrame({
        "pid": (d["fe"][0] + 7).astype(np.int32),  # sorted ids, every id in the range used
        "kommune": pd.Categorical.from_codes(d["unit"], [f"k{u}" for u in range(U)]),
        "month": pd.Categorical.from_codes(d["period"], list(months)),
        "y": d["y"], "d": ((d["unit"] == 0) & (d["post"] == 1)).astype(np.int8)})
    rp = panel_roles(df, y="y", unit="pid", time="month", treat="d", cluster="kommune")
    for c in (rp.unit_codes, rp.time_codes, rp.cluster_codes):
        assert isinstance(c, NarrowCodes) and c.raw.dtype != np.intp and c._full is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one treated cluster
        res = did(df, y="y", unit="pid", time="month", treat="d", cluster="kommune",
                  inference="cluster")
    f = res.fit
    assert f.streamed and all(c._full is None for c in (f._unit, f._period, *f._fe))
    # read: the same intp codes as the eager coding, and the same fit
    np.testing.assert_array_equal(rp.unit, d["fe"][0])
    np.testing.assert_array_equal(rp.time, d["period"])
    np.testing.assert_array_equal(rp.cluster, d["unit"])
    assert rp.unit.dtype == rp.time.dtype == rp.cluster.dtype == np.intp
    ref = TwfeFit(**{**d, "B": None, "timing": f.timing}, fast=False)
    assert_same(f, ref)
    np.testing.assert_array_equal(f.post, d["post"])
    np.testing.assert_array_equal(f.period_post(), np.arange(T) >= T // 2)


def test_narrow_codes_behave_as_intp_codes():
    from ips_study.narrow import NarrowCodes, as_codes

    raw = np.array([4, 2, 2, 3], dtype=np.int16)
    table = np.array([9, 9, 0, 2, 1])
    for c, want in ((NarrowCodes(raw, 3, table), table[raw]),
                    (NarrowCodes(raw, 3, offset=2), raw - 2)):
        assert c.full().dtype == np.intp and c.full().tolist() == want.tolist()
        assert c[1:3].tolist() == want[1:3].tolist() and c[[3, 0]].tolist() == want[[3, 0]].tolist()
        assert c.bincount().tolist() == np.bincount(want, minlength=3).tolist()
        assert np.asarray(c).tolist() == want.tolist()
    wide = np.arange(5)
    w = as_codes(wide)
    assert w.n_levels == 5 and w.same(as_codes(wide)) and not w.same(as_codes(wide.copy()))
    assert not w.full().flags.writeable  # no caller can write into the column
