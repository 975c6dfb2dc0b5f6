"""Tests of ips_study.designs.did / event / twfe: estimates, cross-checks, results interface."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs import get_design
from ips_study.designs.did import aggregate, example_panel, fit_event_panel, fit_panel
from ips_study.designs.event import event_bins
from ips_study.designs.twfe import Demeaner, fixed_effect_dof

REF = Path(__file__).parent / "reference"
CFG = StudyConfig()


def read_ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"did_panel_{name}.csv",
                       dtype={"person_id": str, "municipality": str, "period": str})


def quiet_fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit_panel(*args, **kw)


@pytest.fixture(scope="module")
def panel():
    return example_panel(seed=3, effect=4.0)


# -- point estimate ---------------------------------------------------------------------------
def test_two_by_two_equals_hand_computed_did():
    rng = np.random.default_rng(0)
    rows = []
    for m, n in [("1804", 7), ("1900", 5), ("1901", 9), ("1902", 4)]:
        for i in range(n):
            base = rng.normal(50, 10)
            for year, post in [("2012", 0), ("2013", 1)]:
                rows.append((f"{m}-{i}", m, year, post, base + rng.normal(0, 5)))
    df = pd.DataFrame(rows, columns=["person_id", "municipality", "period", "post", "workdays"])
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    means = df.groupby(["treated", "post"])["workdays"].mean()
    hand = (means[1, 1] - means[1, 0]) - (means[0, 1] - means[0, 0])
    res = quiet_fit(df, outcome="workdays", config=CFG, inference="cluster")
    assert res.estimate == pytest.approx(hand, rel=1e-12)
    # the aggregate panel weighted by persons gives the same 2x2 contrast
    agg = quiet_fit(df, outcome="workdays", config=CFG, inference="cluster",
                    level="municipality")
    assert agg.estimate == pytest.approx(hand, rel=1e-12)


def test_recovers_effect_and_municipality_level_agrees(panel):
    res = quiet_fit(panel, outcome="workdays", config=CFG, inference="cluster")
    # effect 4 days; treated-post mean has SD about 15/sqrt(60*7) plus municipality shocks (3)
    assert abs(res.estimate - 4.0) < 3 * 3.0
    agg_panel = aggregate(panel, "workdays")
    a = quiet_fit(agg_panel, outcome="workdays", config=CFG, inference="cluster")
    b = quiet_fit(panel, outcome="workdays", config=CFG, inference="cluster",
                  level="municipality")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    # balanced panel without movers: person-level and weighted aggregate estimates coincide
    assert a.estimate == pytest.approx(res.estimate, rel=1e-9)


# -- cross-checks against stored references ------------------------------------------------------
def test_municipality_level_with_categorical_covariate(panel):
    female = np.random.default_rng(2).random(panel["person_id"].nunique()) < 0.5
    p = panel.assign(sex=np.where(female[pd.factorize(panel["person_id"])[0]], "F", "M"))
    # drop person-years at random so the sex mix varies within municipalities over time
    p = p.sample(frac=0.8, random_state=1)
    res = quiet_fit(p, outcome="workdays", config=CFG, level="municipality",
                    covariates=["sex"], inference="cluster")
    assert res.fit.covariates == ["sex_M"] and res.n_obs == 21 * 12
    assert np.isfinite(res.std_error)


@pytest.mark.parametrize("case,name,kw", [
    ("balanced", "balanced", {}),
    ("balanced_x", "balanced", {"covariates": ["x"]}),
    ("unbalanced", "unbalanced", {}),
])
def test_matches_r_plm_sandwich(case, name, kw):
    ref = pd.read_csv(REF / "did_plm_output.csv").set_index("case").loc[case]
    res = quiet_fit(read_ref(name), outcome="workdays", config=CFG, inference="cluster",
                    small_sample="stata", **kw)
    assert res.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    assert res.std_error == pytest.approx(ref["std_error"], rel=1e-6)


def test_matches_r_aggregate():
    refs = pd.read_csv(REF / "did_plm_output.csv").set_index("case")
    agg = read_ref("aggregate")
    res = quiet_fit(agg, outcome="workdays", config=CFG, inference="cluster",
                    small_sample="stata", weights=False)
    assert res.estimate == pytest.approx(refs.loc["aggregate", "estimate"], rel=1e-6)
    assert res.std_error == pytest.approx(refs.loc["aggregate", "std_error"], rel=1e-6)
    # weighted: R's vcovCL(type="HC0", cadjust=TRUE) uses the factor G/(G-1) only
    res = quiet_fit(agg, outcome="workdays", config=CFG, inference="cluster", small_sample="none")
    G = res.n_units
    ref = refs.loc["aggregate_weighted"]
    assert res.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    assert res.std_error * np.sqrt(G / (G - 1)) == pytest.approx(ref["std_error"], rel=1e-6)


PYFIXEST_CASES = [("balanced", "balanced", {}), ("balanced_x", "balanced", {"covariates": ["x"]}),
                  ("unbalanced", "unbalanced", {}),
                  ("aggregate_weighted", "aggregate", {})]


@pytest.mark.parametrize("case,name,kw", PYFIXEST_CASES)
def test_matches_stored_pyfixest(case, name, kw):
    ref = pd.read_csv(REF / "did_pyfixest_output.csv").set_index("case").loc[case]
    res = quiet_fit(read_ref(name), outcome="workdays", config=CFG, inference="cluster", **kw)
    assert res.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    assert res.std_error == pytest.approx(ref["std_error"], rel=1e-6)


@pytest.mark.parametrize("case,name,kw", PYFIXEST_CASES[:3])
def test_matches_live_pyfixest(case, name, kw):
    pf = pytest.importorskip("pyfixest")
    d = read_ref(name)
    d["treated_post"] = (d["treated"] * d["post"]).astype(float)
    fml = "workdays ~ treated_post" + (" + x" if kw else "") + " | person_id + period"
    m = pf.feols(fml, data=d, vcov={"CRV1": "municipality"})
    res = quiet_fit(d, outcome="workdays", config=CFG, inference="cluster", **kw)
    assert res.estimate == pytest.approx(m.coef()["treated_post"], rel=1e-6)
    assert res.std_error == pytest.approx(m.se()["treated_post"], rel=1e-6)


def test_matches_linearmodels_panelols():
    from linearmodels import PanelOLS

    d = read_ref("unbalanced")
    d["treated_post"] = (d["treated"] * d["post"]).astype(float)
    d["year"] = d["period"].astype(int)
    lm = PanelOLS(d.set_index(["person_id", "year"])["workdays"],
                  d.set_index(["person_id", "year"])[["treated_post"]],
                  entity_effects=True, time_effects=True)
    clusters = pd.Series(pd.factorize(d["municipality"])[0], index=lm.dependent.index,
                         name="municipality").to_frame()
    fit = lm.fit(cov_type="clustered", clusters=clusters, group_debias=False, debiased=False)
    res = quiet_fit(d, outcome="workdays", config=CFG, inference="cluster", small_sample="none")
    assert res.estimate == pytest.approx(fit.params["treated_post"], rel=1e-6)
    # linearmodels 7.1 scales the clustered covariance by n / (n - absorbed effects) even with
    # debiased=False, absorbed = persons + periods - 1
    n, absorbed = len(d), d["person_id"].nunique() + d["period"].nunique() - 1
    assert res.std_error * np.sqrt(n / (n - absorbed)) == pytest.approx(
        fit.std_errors["treated_post"], rel=1e-6)


def test_event_study_matches_stored_pyfixest():
    ref = pd.read_csv(REF / "did_pyfixest_output.csv")
    ref = ref[ref["case"] == "event"].set_index("term")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = fit_event_panel(read_ref("balanced"), outcome="workdays", config=CFG,
                              inference="cluster", window=(-3, 2))
    t = res.tidy().loc[ref.index]
    np.testing.assert_allclose(t["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(t["std_error"], ref["std_error"], rtol=1e-6)


# -- within transformation ---------------------------------------------------------------------
def test_map_equals_balanced_closed_form():
    rng = np.random.default_rng(1)
    i, t = np.repeat(np.arange(30), 8), np.tile(np.arange(8), 30)
    x = rng.normal(size=(240, 2))
    fast = Demeaner([i, t])
    assert fast.balanced
    slow = Demeaner([i, t], weights=np.ones(240))  # weights force the MAP path
    assert not slow.balanced
    np.testing.assert_allclose(fast(x), slow(x), atol=1e-10)
    # demeaned columns are orthogonal to every dummy
    np.testing.assert_allclose(np.bincount(i, weights=fast(x[:, 0])), 0, atol=1e-10)
    np.testing.assert_allclose(np.bincount(t, weights=fast(x[:, 0])), 0, atol=1e-10)


def test_fixed_effect_dof_counts_nested():
    person = np.repeat(np.arange(6), 2)
    period = np.tile(np.arange(2), 6)
    cluster = np.repeat(np.arange(3), 4)
    # person (6 levels) nested in clusters -> counted as 1; period 2 levels; minus 1 for 2nd FE
    assert fixed_effect_dof([person, period], cluster) == (7, 2)


def test_collinear_covariate_is_dropped_with_warning(panel):
    p = panel.assign(age=panel["period"].astype(int) - 1980)  # collinear with year effects
    with pytest.warns(UserWarning, match="collinear"):
        res = fit_panel(p, outcome="workdays", config=CFG, inference="placebo",
                        covariates=["age"])
    ref = fit_panel(panel, outcome="workdays", config=CFG, inference="placebo")
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-9)


def test_other_adopters_are_dropped(panel):
    p = panel.copy()
    p.loc[p["municipality"] == "1805", "ips_start"] = pd.Timestamp("2015-01-01")
    res = fit_panel(p, outcome="workdays", config=CFG, inference="placebo")
    assert res.n_units == 20 and res.extras["dropped_municipalities"] == ["1805"]


def test_errors_are_clear(panel):
    with pytest.raises(KeyError, match="nosuch"):
        fit_panel(panel, outcome="nosuch", config=CFG)
    with pytest.raises(ValueError, match="treated municipality"):
        fit_panel(panel, outcome="workdays", config=CFG.replace(treated_municipality="0301"))
    with pytest.raises(ValueError, match="level"):
        fit_panel(panel, outcome="workdays", config=CFG, level="county")


# -- results interface -------------------------------------------------------------------------
def test_results_interface_and_json(panel, tmp_path):
    res = fit_panel(panel, outcome="workdays", config=CFG, inference="placebo")
    d = json.loads(res.to_json(tmp_path / "out.json"))
    for key in ("design", "outcome", "estimate", "std_error", "conf_int", "p_value", "n_obs",
                "n_units", "inference"):
        assert key in d
    assert d["design"] == "did" and d["inference"] == "placebo"
    assert d["n_obs"] == len(panel) and d["n_units"] == 21
    s = res.summary()
    assert "treated_post" in s.as_text() and "<table" in s.as_html()
    assert "tabular" in s.as_latex()
    assert res.plot().get_title().startswith("did")
    assert res.placebo_plot().get_xlabel().startswith("treated_post")
    assert get_design("did") is fit_panel


def test_with_inference_switches_without_refitting(panel):
    res = fit_panel(panel, outcome="workdays", config=CFG, inference="placebo")
    with pytest.warns(UserWarning, match="treated cluster"):
        cl = res.with_inference("cluster")
    assert cl.fit is res.fit and cl.estimate == res.estimate
    assert cl.inference == "cluster" and res.inference == "placebo"
    assert cl.std_error != res.std_error
    ft = res.with_inference("ferman-pinto", level=0.9)
    assert ft.level == 0.9
    with pytest.raises(ValueError, match="unknown inference"):
        res.with_inference("jackknife")


def test_event_study_table_binning_and_pretrend(panel):
    res = fit_event_panel(panel, outcome="workdays", config=CFG, inference="conley-taber",
                          window=(-3, 3))
    et = res.event_time()
    assert et["event_time"].tolist() == list(range(-3, 4))
    ref_row = et.set_index("event_time").loc[-1]
    assert ref_row["estimate"] == 0 and ref_row["std_error"] == 0
    # post_average is the mean of the post coefficients
    t = res.tidy()
    post = [f"event_{k}" for k in range(0, 4)]
    assert res.main_term == "post_average"
    assert res.estimate == pytest.approx(t.loc[post, "estimate"].mean(), rel=1e-12)
    pt = res.pretrend_test()
    assert pt["df"] == 2 and 0 < pt["p_value"] <= 1
    d = res.to_dict()
    assert len(d["event_time"]) == 7 and d["extras"]["pretrend"]["df"] == 2
    assert res.plot().get_xlabel() == "Event time"
    with pytest.raises(ValueError, match="reference bin"):
        fit_event_panel(panel, outcome="workdays", config=CFG, ref=-9, window=(-3, 3))


def test_event_bins_and_monthly_panel():
    assert event_bins(np.array([-30, -13, -12, -1, 0, 11, 12, 40]), bin_width=12,
                      window=(-2, 2)).tolist() == [-2, -2, -1, -1, 0, 0, 1, 2]
    rng = np.random.default_rng(5)
    months = pd.period_range("2011-01", "2014-12", freq="M").astype(str)
    rows = [(f"{m}-{i}", m, mo) for m, n in [("1804", 5)] + [(f"19{j:02d}", 4) for j in range(20)]
            for i in range(n) for mo in months]
    df = pd.DataFrame(rows, columns=["person_id", "municipality", "period"])
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["employed"] = rng.binomial(1, 0.4, len(df)).astype(float)
    res = fit_event_panel(df, outcome="employed", config=CFG, inference="placebo", bin_width=12)
    # event time is derived from the YYYY-MM labels: 48 months -> yearly bins -2..1
    assert res.event_time()["event_time"].tolist() == [-2, -1, 0, 1]
