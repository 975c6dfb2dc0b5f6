"""Placebo refits of all assignments at once (``inference.placebo_fit.assignment_batch``).

The batch path builds the within cross-products of every placebo treatment from group sums
and one periods x periods system instead of demeaning each placebo column. It must equal the
one-column-at-a-time refits (alternating projections converged to 1e-13) to 1e-10 on
unbalanced panels: random holes, persons entering and leaving, movers, weights, covariates,
event-study bins and several treated units.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.did import did, example_panel, fit_event_panel, fit_panel
from ips_study.inference.assignments import assignment_estimates
from ips_study.inference.placebo_fit import (_controls_piece, _solve, assignment_batch,
                                             placebo_batch)
from ips_study.inference.randomization import placebo_estimates
from ips_study.twoway import CellGram, TwoWaySchur
from ips_study import within
from ips_study.within import Demeaner

CFG = StudyConfig()


def unbalanced(seed: int, movers: bool = False) -> pd.DataFrame:
    """Example person-year panel with holes and persons entering late and leaving early."""
    p = example_panel(n_controls=15, treated_size=40, years=range(2010, 2018), seed=seed)
    rng = np.random.default_rng(seed)
    year = p["period"].astype(int).to_numpy()
    pid = p["person_id"].to_numpy()
    persons = np.unique(pid)
    enter = dict(zip(persons, np.where(rng.random(len(persons)) < 0.3,
                                       rng.integers(2011, 2016, len(persons)), 2010)))
    leave = dict(zip(persons, np.where(rng.random(len(persons)) < 0.3,
                                       rng.integers(2012, 2017, len(persons)), 2017)))
    keep = ((year >= pd.Series(pid).map(enter).to_numpy())
            & (year <= pd.Series(pid).map(leave).to_numpy())
            & (rng.random(len(p)) > 0.1))
    p = p[keep].copy()
    if movers:
        # some persons move to another control municipality from a random year on
        ctrl = sorted(set(p["municipality"]) - {"1804"})
        who = rng.choice(p["person_id"].unique(), 25, replace=False)
        for i, person in enumerate(who):
            rows = (p["person_id"] == person) & (p["period"].astype(int) >= 2013 + i % 3)
            p.loc[rows, "municipality"] = ctrl[i % len(ctrl)]
        p = p[~p["person_id"].isin(p.loc[p["municipality"] == "1804", "person_id"]) |
              (p["municipality"] == "1804")]
    return p


def fit(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit_panel(panel, outcome="workdays", config=CFG, inference="cluster", **kw).fit


def one_by_one(fit):
    """The previous path: each placebo column demeaned by alternating projections."""
    rows, dm, _, _ = _controls_piece(fit)
    dm = Demeaner(dm.fe, dm.weights, fast=False)
    yt = dm(fit.y[rows])
    Zt = dm(fit.Z[rows]) if fit.Z.shape[1] else np.empty((len(rows), 0))
    unit, B = fit.unit[rows], fit.B[rows]
    w = None if fit.weights is None else fit.weights[rows]
    controls = np.flatnonzero(np.bincount(unit, minlength=fit.n_units) > 0)
    Zw = Zt if w is None else Zt * w[:, None]
    out = np.empty((len(controls), fit.p))
    for j, u in enumerate(controls):
        Dt = dm((unit == u)[:, None] * B)
        Dw = Dt if w is None else Dt * w[:, None]
        out[j] = _solve(Dw.T @ Dt, Dw.T @ yt, Dw.T @ Zt, Zw.T @ Zt, Zw.T @ yt)
    return out, controls


@pytest.mark.parametrize("movers", [False, True])
@pytest.mark.parametrize("options", [{}, {"weights": "w"}, {"covariates": ["x"]}])
def test_batch_equals_one_by_one_on_unbalanced_panels(movers, options):
    p = unbalanced(11, movers)
    rng = np.random.default_rng(5)
    p = p.assign(w=rng.uniform(0.5, 2.0, len(p)), x=rng.normal(size=len(p)))
    p["workdays"] += 3 * p["x"]
    f = fit(p, **options)
    assert not f.demeaner.balanced
    ref, codes = one_by_one(f)
    est, codes2 = placebo_estimates(f)
    np.testing.assert_array_equal(codes, codes2)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(est, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(placebo_batch(f, codes), ref, rtol=0, atol=1e-10)


def test_batch_equals_full_refit_with_the_placebo_unit_treated():
    # an independent check: the placebo estimate is the DiD of a fit where that control is
    # the treated municipality (truly treated rows dropped)
    p = unbalanced(12, movers=True)
    f = fit(p)
    est, codes = placebo_estimates(f)
    labels = list(f.unit_labels[codes])
    controls = p[p["municipality"] != "1804"]
    for lab in (labels[0], labels[7]):
        brute = fit_panel(controls, outcome="workdays",
                          config=CFG.replace(treated_municipality=str(lab)),
                          inference="cluster")
        assert est[labels.index(lab), 0] == pytest.approx(brute.estimate, abs=1e-10)


def test_event_study_bins_and_not_identified_placebos():
    p = unbalanced(13)
    small = sorted(set(p["municipality"]) - {"1804"})[0]
    p = p[~((p["municipality"] == small) & (p["period"] == "2015"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = fit_event_panel(p, outcome="workdays", config=CFG, inference="cluster")
    f = res.fit
    assert f.p > 1
    ref, codes = one_by_one(f)
    est, _ = placebo_estimates(f)
    bad = ~np.isfinite(ref).all(axis=1)
    assert bad.sum() == 1 and list(f.unit_labels[codes[bad]]) == [small]
    np.testing.assert_array_equal(np.isnan(est).any(axis=1), bad)
    np.testing.assert_allclose(est[~bad], ref[~bad], rtol=0, atol=1e-10)


def test_several_treated_assignments_with_movers(monkeypatch):
    # cross terms between the assigned units come from persons who moved between them;
    # different adoption years make the assignments ordered (permutations)
    p = unbalanced(14, movers=True)
    second = sorted(set(p["municipality"]) - {"1804"})[-1]
    year = p["period"].astype(int)
    p = p.assign(treat_now=(((p["municipality"] == "1804") & (year >= 2014))
                            | ((p["municipality"] == second) & (year >= 2015))).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = did(p, y="workdays", unit="person_id", time="period", treat="treat_now",
                  cluster="municipality", inference="cluster")
    f = res.fit
    assert len(f.treated_units) == 2
    controls = np.flatnonzero(~f.is_treated_unit)
    assigns = np.array([(a, b) for a in controls for b in controls if a != b])
    with monkeypatch.context() as m:
        m.setattr(within, "MAX_PERIODS", 0)  # reference: alternating projections
        ref = assignment_estimates(f, assigns)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(assignment_batch(f, assigns), ref, rtol=0, atol=1e-10)


def test_cellgram_blocks_equal_demeaned_columns():
    rng = np.random.default_rng(0)
    n, P, T, G = 400, 60, 9, 5
    person = rng.integers(0, P, n)
    period = rng.integers(0, T, n)
    owner = rng.integers(0, G, P)
    group = np.where(rng.random(n) < 0.1, rng.integers(0, G, n), owner[person])
    w = rng.uniform(0.5, 2, n)
    person = np.unique(person, return_inverse=True)[1]
    V = rng.normal(size=(T, 2))
    cg = CellGram(TwoWaySchur(person, period, w, person.max() + 1, T), group, G)
    dm = Demeaner([person, period], w, fast=False)
    gram = cg.gram(V)
    for g in range(G):
        Dt = dm((group == g)[:, None] * V[period])
        np.testing.assert_allclose(gram[g], (Dt * w[:, None]).T @ Dt, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("block", [None, 7 * 9])
def test_direct_two_way_demeaning_equals_alternating_projections(monkeypatch, block):
    # unsorted rows, weights, a person seen once and two disconnected blocks of periods;
    # a small block size forces the person blocks (sorted by block number first)
    if block:
        monkeypatch.setattr(TwoWaySchur, "BLOCK", block)
    rng = np.random.default_rng(1)
    n, P, T = 3000, 400, 12
    person = rng.integers(0, P, n)
    period = np.where(person < 200, rng.integers(0, 6, n), rng.integers(6, T, n))
    person = np.unique(person, return_inverse=True)[1]
    w = rng.uniform(0.5, 2, n)
    X = rng.normal(size=(n, 3)) + person[:, None] * 0.1 + period[:, None]
    for weights in (None, w):
        direct = Demeaner([person, period], weights)
        assert direct.schur() is not None
        slow = Demeaner([person, period], weights, fast=False)
        np.testing.assert_allclose(direct(X), slow(X), rtol=0, atol=1e-10)


def test_subset_downdates_the_periods_matrix():
    # the controls-only demeaner takes its periods x periods matrix from the full sample's
    p = unbalanced(15, movers=True)
    f = fit(p)
    assert f.demeaner.schur() is not None
    rows = np.flatnonzero(~f.is_treated_unit[f.unit])
    dm = f.demeaner.subset(rows)
    assert vars(dm).get("_schur") is not None  # set by subset, before any demeaning
    fresh = TwoWaySchur(dm.fe[0], dm.fe[1], dm.weights, dm.levels[0], dm.levels[1])
    np.testing.assert_allclose(dm._schur.off, fresh.off, rtol=0,
                               atol=1e-12 * np.abs(fresh.off).max())
