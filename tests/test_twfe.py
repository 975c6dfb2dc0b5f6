"""Tests of ips_study.designs.twfe: the balanced fast paths against the general path.

The reference in every case is an explicit dummy-variable regression (numpy ``lstsq`` with a
column per person and per period), independent of the within transformation being tested;
the within estimator and its cluster scores must match it by Frisch-Waugh-Lovell.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.did import codes, fit_panel
from ips_study.designs.twfe import Demeaner, TwfeFit, small_sample_factor

T = 10  # periods
U = 6  # municipalities; unit 0 is treated


def make_panel(persons=60, *, seed=0, movers=False, p=1):
    """Person-major balanced panel arrays; ``B`` depends on the period only."""
    rng = np.random.default_rng(seed)
    person = np.repeat(np.arange(persons), T)
    period = np.tile(np.arange(T), persons)
    owner = rng.integers(0, U, persons)
    owner[:8] = 0  # the treated municipality is never empty
    unit = owner[person].copy()
    if movers:
        move = rng.random(len(unit)) < 0.05
        unit[move] = rng.integers(0, U, move.sum())
    post = (period >= T // 2).astype(np.int8)
    # event-study style timing bins (p columns) or the DiD post indicator (p = 1)
    B = (post[:, None].astype(float) if p == 1 else
         np.column_stack([(period == T // 2 + j) for j in range(p)]).astype(float))
    y = (rng.normal(size=persons)[person] + 0.1 * period + rng.normal(0, 0.3, (U, T))[unit, period]
         + 0.5 * (unit == 0) * post + rng.normal(size=len(person)))
    return dict(y=y, B=B, unit=unit, period=period, person=person, post=post)


def fit(d, rows=None, *, fast=True, Z=None):
    rows = np.arange(len(d["y"])) if rows is None else rows
    person = codes(pd.Series(d["person"][rows]))[0]
    period = d["period"][rows]
    Zr = np.empty((len(rows), 0)) if Z is None else Z[rows]
    return TwfeFit(y=d["y"][rows], B=d["B"][rows], Z=Zr, unit=d["unit"][rows],
                   unit_labels=np.arange(U).astype(str), treated=0, period=period,
                   period_labels=np.arange(T).astype(str), post=d["post"][rows],
                   fe=[person, period], terms=[f"b{j}" for j in range(d["B"].shape[1])],
                   covariates=[] if Z is None else ["z"], fast=fast)


def dummy_reference(f: TwfeFit):
    """Coefficients and unscaled CRV1 covariance from a regression with every dummy."""
    F = np.column_stack([np.eye(f.demeaner.levels[0])[f.fe[0]],
                         np.eye(f.demeaner.levels[1])[f.fe[1]][:, 1:]])
    X = np.column_stack([f.treatment(f.treated), f.Z])
    # partial the dummies out of X (FWL); lstsq handles the rank deficiency of F
    Xt = X - F @ np.linalg.lstsq(F, X, rcond=None)[0]
    coef = np.linalg.lstsq(np.column_stack([X, F]), f.y, rcond=None)[0]
    beta = coef[: X.shape[1]]
    e = f.y - np.column_stack([X, F]) @ coef
    bread = np.linalg.inv(Xt.T @ Xt)
    s = np.column_stack([np.bincount(f.unit, weights=Xt[:, j] * e, minlength=U)
                         for j in range(X.shape[1])])
    return beta, bread @ s.T @ s @ bread, Xt, e


def assert_matches_reference(f: TwfeFit):
    beta, V, Xt, e = dummy_reference(f)
    np.testing.assert_allclose(f.beta, beta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f.vcov_cluster("none"), V, rtol=1e-9, atol=1e-15)
    # the lazily built pieces (wild bootstrap, Conley-Taber) agree too
    np.testing.assert_allclose(f.Xt, Xt, atol=1e-10)
    np.testing.assert_allclose(f.resid, e, atol=1e-9)
    np.testing.assert_allclose(f.yt - f.Xt @ f.beta, f.resid, atol=1e-12)


def assert_same_fit(a: TwfeFit, b: TwfeFit, order=None):
    order = np.arange(a.n) if order is None else order
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-12)
    np.testing.assert_allclose(a.vcov_cluster(), b.vcov_cluster(), rtol=1e-9)
    assert a.k_fe_nonnested == b.k_fe_nonnested
    np.testing.assert_allclose(a.resid, b.resid[order], atol=1e-10)


def test_sorted_balanced_panel_uses_grid_closed_form_and_matches_general_path():
    d = make_panel()
    fast, slow = fit(d), fit(d, fast=False)
    assert fast.demeaner.grid and fast.closed_form
    assert not slow.demeaner.balanced and not slow.closed_form
    assert_same_fit(fast, slow)
    assert_matches_reference(fast)
    assert_matches_reference(slow)


def test_shuffled_balanced_panel_uses_closed_form_and_matches():
    d = make_panel(seed=1)
    order = np.random.default_rng(5).permutation(len(d["y"]))
    fast = fit(d, order)
    assert fast.demeaner.balanced and not fast.demeaner.grid and fast.closed_form
    assert_same_fit(fast, fit(d), order)
    assert_matches_reference(fast)


def test_one_row_dropped_takes_general_path_and_matches():
    d = make_panel(seed=2)
    rows = np.delete(np.arange(len(d["y"])), 37)
    f = fit(d, rows)
    assert not f.demeaner.balanced and not f.closed_form
    assert_same_fit(f, fit(d, rows, fast=False))
    assert_matches_reference(f)


def test_movers_use_grid_demeaning_not_closed_form():
    d = make_panel(seed=3, movers=True)
    f = fit(d)
    assert f.demeaner.grid and not f.closed_form
    assert_same_fit(f, fit(d, fast=False))
    assert_matches_reference(f)
    # persons are not nested in municipalities, so their effects count in the dof
    assert f.k_fe_nonnested == 60 + T - 1


def test_event_study_timing_matrix_in_closed_form():
    d = make_panel(seed=4, p=3)
    f = fit(d)
    assert f.closed_form and f.p == 3
    assert_same_fit(f, fit(d, fast=False))
    assert_matches_reference(f)


def test_covariates_or_non_period_timing_fall_back():
    d = make_panel(seed=5)
    z = np.random.default_rng(0).normal(size=len(d["y"]))[:, None]
    f = fit(d, Z=z)
    assert f.demeaner.grid and not f.closed_form
    assert_matches_reference(f)
    # a timing matrix that varies within a period breaks the rank-one structure
    d["B"] = d["B"] * (1 + (d["person"] % 2))[:, None]
    g = fit(d)
    assert g.demeaner.grid and not g.closed_form
    assert_matches_reference(g)


def test_fixest_small_sample_factor_counts_nested_person_effects_as_one():
    d = make_panel(seed=6)
    f = fit(d)
    # persons nested in clusters count 1, periods T (minus one for the second effect)
    assert f.k_fe_nonnested == 1 + T - 1
    expect = small_sample_factor("fixest", n=f.n, k=1, n_clusters=U, k_fe_nonnested=T)
    assert f.crv_factor() == pytest.approx(expect, rel=1e-15)


def test_grid_demeaning_equals_alternating_projections():
    rng = np.random.default_rng(7)
    i, t = np.repeat(np.arange(40), 9), np.tile(np.arange(9), 40)
    x = rng.normal(size=(360, 3)) + i[:, None]
    fast, slow = Demeaner([i, t]), Demeaner([i, t], fast=False)
    assert fast.grid and not slow.balanced
    np.testing.assert_allclose(fast(x), slow(x), atol=1e-10)
    assert fast.subset(np.arange(0, 360, 2)).fast and not slow.subset(np.arange(10)).fast


def test_codes_dense_with_and_without_unused_levels():
    s = pd.Series([5, 3, 3, 9, 5], dtype=np.int32)
    c, lab = codes(s)
    assert c.tolist() == [1, 0, 0, 2, 1] and lab.tolist() == [3, 5, 9]
    c, lab = codes(pd.Series([4, 2, 3, 2]))
    assert c.dtype == np.intp and c.tolist() == [2, 0, 1, 0] and lab.tolist() == [2, 3, 4]
    cat = pd.Series(pd.Categorical(["b", "a", "b"], categories=["a", "b", "c"]))
    c, lab = codes(cat)
    assert c.tolist() == [1, 0, 1] and lab.tolist() == ["a", "b"]
    c, lab = codes(cat.cat.remove_unused_categories())
    assert c.dtype == np.intp and c.tolist() == [1, 0, 1] and lab.tolist() == ["a", "b"]


def test_fit_panel_same_result_in_any_row_order():
    d = make_panel(persons=80, seed=8)
    df = pd.DataFrame({"person_id": d["person"].astype(str), "municipality":
                       (1804 + d["unit"]).astype(str), "period": (2008 + d["period"]).astype(str),
                       "post": d["post"], "y": d["y"]})
    cfg = StudyConfig(freq="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a = fit_panel(df, outcome="y", config=cfg, inference="cluster")
        b = fit_panel(df.sample(frac=1, random_state=1), outcome="y", config=cfg,
                      inference="cluster")
        # clustered SEs on the closed form never build the n-row demeaned columns
        assert not any(hasattr(a.fit, k) for k in ("_Xt", "_yt", "_resid"))
        w = a.with_inference("wild", reps=99)  # uses the lazily built Xt, yt
    assert a.fit.closed_form and b.fit.closed_form and a.fit.demeaner.grid
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)
    assert np.isfinite(w.p_value)
