"""Competing risks against R cmprsk::cuminc / crr and lifelines' Aalen–Johansen fitter.

Reference numbers: tests/reference/survival_cr.R (R 4.2.2, survival 3.5-3, cmprsk 2.2-11).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ips_study.designs.survival.competing import (cumulative_incidence, fine_gray,
                                                  finegray_data, gray_test)

DATA = Path(__file__).parent / "data"
REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def cr():
    return pd.read_csv(DATA / "survival_cr.csv")


def test_cuminc_estimates_and_variances_equal_cmprsk(cr):
    ref = pd.read_csv(REF / "survival_cr_cuminc.csv")
    for (g, cause), r in ref.groupby(["group", "cause"]):
        sub = cr[cr["group"] == g]
        ci = cumulative_incidence(np.zeros(len(sub)), sub["time"], sub["status"], cause=cause)
        # cuminc lists each jump twice (value before, value after); the last row extends
        # the curve to the largest follow-up time. Compare the "after" rows.
        r = r.iloc[1:-1].iloc[1::2]
        idx = np.searchsorted(ci["time"].to_numpy(), r["time"].to_numpy(), side="right") - 1
        np.testing.assert_allclose(ci["estimate"].to_numpy()[idx], r["est"], atol=1e-12)
        np.testing.assert_allclose(ci["variance"].to_numpy()[idx], r["var"], atol=1e-12)


@pytest.mark.parametrize("cause", [1, 2])
def test_gray_test_equals_cmprsk(cr, cause):
    ref = pd.read_csv(REF / "survival_cr_gray.csv").set_index("cause")
    t = gray_test(np.zeros(len(cr)), cr["time"], cr["status"], cr["group"], cause=cause)
    assert t["statistic"] == pytest.approx(ref.loc[cause, "stat"], rel=1e-10)
    assert t["p_value"] == pytest.approx(ref.loc[cause, "pv"], rel=1e-8)


def test_gray_test_stratified_adds_strata(cr):
    """Stratified statistic = score/variance summed over strata (checked against halves)."""
    s = (cr["x2"]).to_numpy()
    t = gray_test(np.zeros(len(cr)), cr["time"], cr["status"], cr["group"], strata=s)
    parts = [gray_test(np.zeros((s == k).sum()), cr["time"][s == k], cr["status"][s == k],
                       cr["group"][s == k]) for k in (0, 1)]
    score = parts[0]["score"] + parts[1]["score"]
    V = parts[0]["variance"] + parts[1]["variance"]
    assert t["statistic"] == pytest.approx(float(score @ np.linalg.solve(V, score)))


def test_fine_gray_equals_crr(cr):
    ref = pd.read_csv(REF / "survival_cr_finegray.csv")
    fit = fine_gray(cr["time"].to_numpy(), cr["status"].to_numpy(), cr[["x1", "x2"]].to_numpy(),
                    names=["x1", "x2"])
    np.testing.assert_allclose(fit.params_, ref["crr_coef"], atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_crr_)), ref["crr_se"], rtol=1e-6)
    # the plain sandwich on the extended data ignores the estimation of the censoring
    # distribution: close to crr's SE but not equal (documented)
    robust = np.sqrt(np.diag(fit.cov_robust_))
    np.testing.assert_allclose(robust, ref["crr_se"], rtol=1e-3)
    assert not np.allclose(robust, ref["crr_se"], rtol=1e-6)


def test_finegray_weights_are_censoring_ratios(cr):
    ext = finegray_data(cr["time"], cr["status"], cr[["x1"]])
    n = len(cr)
    assert (ext["weight"][:n] == 1).all()
    w = ext["weight"][n:]
    assert ((w > 0) & (w <= 1 + 1e-12)).all()
    # only competing-event subjects are extended, and their pieces tile (T_i, t_max]
    subj = ext["subject"][n:]
    assert set(cr["status"].to_numpy()[subj]) == {2}
    pieces = pd.DataFrame({"s": subj, "lo": ext["start"][n:], "hi": ext["stop"][n:]})
    for s, p in pieces.groupby("s"):
        assert p["lo"].iloc[0] == cr["time"].iloc[s]
        np.testing.assert_array_equal(p["lo"].to_numpy()[1:], p["hi"].to_numpy()[:-1])
        # weights never increase along a subject's pieces (G is non-increasing)
        assert (np.diff(ext["weight"][n:][subj == s]) <= 1e-12).all()


def test_aalen_johansen_lifelines_live(cr):
    lifelines = pytest.importorskip("lifelines")
    # lifelines' fitter refuses tied times, so break ties deterministically for both
    t = cr["time"].to_numpy() + np.arange(len(cr)) * 1e-6
    aj = lifelines.AalenJohansenFitter(calculate_variance=False)
    aj.fit(t, cr["status"], event_of_interest=1)
    ours = cumulative_incidence(np.zeros(len(cr)), t, cr["status"], cause=1)
    theirs = aj.cumulative_density_.iloc[:, 0]
    idx = np.searchsorted(ours["time"].to_numpy(), theirs.index.to_numpy(), side="right") - 1
    est = np.where(idx >= 0, ours["estimate"].to_numpy()[np.maximum(idx, 0)], 0.0)
    np.testing.assert_allclose(est, theirs.to_numpy(), atol=1e-10)


def test_delayed_entry_reduces_to_right_censored_when_entry_zero(cr):
    a = cumulative_incidence(np.zeros(len(cr)), cr["time"], cr["status"])
    # a late entrant with no event before entry changes risk sets only after entry
    late = cumulative_incidence(np.r_[np.zeros(len(cr)), 100.0], np.r_[cr["time"], 101.0],
                                np.r_[cr["status"], 0])
    pd.testing.assert_frame_equal(a, late.iloc[: len(a)])
