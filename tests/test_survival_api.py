"""Public survival fitters: results objects, input checks and Cox convergence (issue 18).

Each silent-wrong-answer case of the issue has a test here that failed before the fix.
R reference numbers on other data sets: tests/test_survival_api_r.py.
"""

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.designs.survival.competing import fine_gray as fine_gray_arrays
from ips_study.designs.survival.competing import gray_test
from ips_study.designs.survival.cox import CoxPH, MonotoneLikelihoodError
from ips_study.designs.survival.km import km_curve, logrank_test
from ips_study.designs.survival.tte import run_lengths

matplotlib.use("Agg")
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def lung():
    return pd.read_csv(DATA / "lung.csv")


# -- event coding ------------------------------------------------------------------------------
def test_r_status_coding_is_refused_not_cast(lung):
    d = lung.dropna(subset=["age"])
    status = d["status"].to_numpy()          # 1 = censored, 2 = dead
    with pytest.raises(ValueError, match="boolean or 0/1"):
        CoxPH().fit(d[["age"]].to_numpy(), d["time"], status)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        km_curve(None, d["time"], status)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        logrank_test(None, d["time"], status, d["sex"])
    with pytest.raises(ValueError, match=r"event column 'status'.*event_value=2"):
        ips.cox(lung, stop="time", event="status", covariates=["age"])
    with pytest.raises(ValueError, match="event_value=2"):
        ips.kaplan_meier(lung, stop="time", event="status")


def test_event_value_names_the_event(lung):
    km = ips.kaplan_meier(lung, stop="time", event="status", event_value=2)
    assert km.n_events == 165 and km.curves["all"]["surv"].iloc[-1] > 0
    r = ips.cox(lung, stop="time", event="status", event_value=2, covariates=["age"])
    assert r.n_events == 165
    # boolean and 0/1 codings give the same fit
    r2 = ips.cox(lung.assign(dead=lung["status"] == 2), stop="time", event="dead",
                 covariates=["age"])
    assert r2.params["age"] == pytest.approx(r.params["age"], rel=1e-12)


# -- missing values ----------------------------------------------------------------------------
def test_nan_time_is_refused_or_dropped():
    with pytest.raises(ValueError, match="stop has 1 missing"):
        km_curve(None, np.array([1.0, np.nan, 3.0]), np.array([1, 1, 0]))
    d = pd.DataFrame({"t": [1.0, np.nan, 3.0, 4.0], "e": [1, 1, 0, 1]})
    with pytest.raises(ValueError, match=r"t: 1.*missing='drop'"):
        ips.kaplan_meier(d, stop="t", event="e")
    km = ips.kaplan_meier(d, stop="t", event="e", missing="drop")
    assert km.nobs == 3 and km.notes == ("1 row(s) dropped for missing values (t: 1).",)
    # the row is gone, not at risk at every time
    assert km.curves["all"]["n_risk"].tolist() == [3.0, 1.0]


def test_missing_group_label_is_not_counted_in_the_last_group():
    with pytest.raises(ValueError, match="group has 1 missing"):
        logrank_test(np.zeros(4), [1., 2., 3., 4.], [1, 1, 1, 1], [1, 2, np.nan, 2])
    with pytest.raises(ValueError, match="group has 1 missing"):
        gray_test(np.zeros(4), [1., 2., 3., 4.], [1, 2, 1, 1], [1, 2, np.nan, 2])
    d = pd.DataFrame({"t": [1., 2., 3., 4.], "e": [1, 1, 1, 1], "g": [1, 2, np.nan, 2]})
    km = ips.kaplan_meier(d, stop="t", event="e", by="g", missing="drop")
    assert km.test["observed"].to_dict() == {1.0: 1.0, 2.0: 2.0}


def test_missing_cluster_labels_are_not_merged_into_one_cluster():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 1))
    t = rng.exponential(size=40)
    cl = np.repeat(np.arange(10.0), 4)
    cl[[3, 17]] = np.nan
    with pytest.raises(ValueError, match="cluster has 2 missing"):
        CoxPH().fit(x, t, np.ones(40), cluster=cl)
    with pytest.raises(ValueError, match="strata has 2 missing"):
        CoxPH().fit(x, t, np.ones(40), strata=cl)


def test_nan_covariate_is_named():
    x = np.c_[np.arange(6.0), [1.0, np.nan, 0.0, 1.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match=r"'bmi' \(1\)"):
        CoxPH().fit(x, np.arange(1.0, 7.0), np.ones(6), names=["age", "bmi"])
    d = pd.DataFrame({"t": np.arange(1.0, 7.0), "e": 1, "age": x[:, 0], "bmi": x[:, 1]})
    with pytest.raises(ValueError, match="bmi: 1"):
        ips.cox(d, stop="t", event="e", covariates=["age", "bmi"])


# -- identification ----------------------------------------------------------------------------
def test_constant_and_collinear_covariates_are_reported_by_name(lung):
    d = lung.dropna(subset=["age", "ph.ecog"]).assign(one=1.0)
    d["age_months"] = d["age"] * 12
    with pytest.raises(ValueError, match="'one'"):
        CoxPH().fit(d[["age", "one"]].to_numpy(), d["time"], d["status"] == 2,
                    names=["age", "one"])
    with pytest.raises(ValueError, match="collinear.*'age_months'"):
        CoxPH().fit(d[["age", "age_months"]].to_numpy(), d["time"], d["status"] == 2,
                    names=["age", "age_months"])
    # the DataFrame fitter drops them with a NaN coefficient and a note, as R's NA
    r = ips.cox(d, stop="time", event="status", event_value=2,
                covariates=["age", "one", "age_months", "ph.ecog"])
    assert r.params.index.tolist() == ["age", "one", "age_months", "ph.ecog"]
    assert r.params[["one", "age_months"]].isna().all()
    assert any("'one', 'age_months'" in n for n in r.notes)
    alone = ips.cox(d, stop="time", event="status", event_value=2, covariates=["age", "ph.ecog"])
    np.testing.assert_allclose(r.params.dropna(), alone.params, rtol=1e-12)


def test_no_events_is_a_clear_error():
    with pytest.raises(ValueError, match="no events"):
        CoxPH().fit(np.arange(5.0), np.arange(1.0, 6.0), np.zeros(5))


def test_unknown_cause_is_named():
    d = pd.DataFrame({"t": [1., 2., 3., 4., 5., 6.], "s": [1, 2, 0, 1, 2, 1],
                      "x": [0., 1., 0., 1., 1., 0.]})
    with pytest.raises(ValueError, match=r"cause 3 does not occur in column 's'.*\[1, 2\]"):
        ips.fine_gray(d, stop="t", event="s", cause=3, covariates=["x"])
    with pytest.raises(ValueError, match="cause 3"):
        ips.cumulative_incidence(d, stop="t", event="s", cause=3)
    with pytest.raises(ValueError, match="cause 3 does not occur"):
        fine_gray_arrays(d["t"], d["s"], d[["x"]], cause=3)


def test_start_message_only_when_start_given():
    x = np.array([0.0, 1.0, 0.0, 1.0])
    # right-censored data with a time 0: fitted, no complaint about "start < stop"
    fit = CoxPH().fit(x, [0.0, 1.0, 2.0, 3.0], [1, 1, 0, 1])
    assert np.isfinite(fit.params_).all()
    with pytest.raises(ValueError, match=r"start < stop \(1 row"):
        CoxPH().fit(x, [1.0, 1.0, 2.0, 3.0], [1, 1, 0, 1], start=[0.0, 1.0, 0.0, 0.0])


# -- convergence -------------------------------------------------------------------------------
def test_wide_linear_predictor_reaches_the_finite_mle():
    # linear predictor spans ~48 (tests/reference/survival_wide_span.py); before the fix the
    # late risk sets were computed as differences of huge early sums and the fit blamed a
    # monotone likelihood. R coxph (timefix = FALSE): 8.128876694092744, se 0.612449971847481
    d = pd.read_csv(DATA / "cox_wide_span.csv")
    r = ips.cox(d, stop="time", event="event", covariates=["x"])
    assert np.ptp(d["x"] * r.params["x"]) > 45
    assert r.params["x"] == pytest.approx(8.128876694092744, rel=1e-8)
    assert r.std_errors["x"] == pytest.approx(0.612449971847481, rel=1e-7)
    assert r.extras["loglik"] == pytest.approx(-302.287003773910897, rel=1e-10)


def test_monotone_likelihood_names_the_diverging_covariate():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"age": rng.normal(size=100), "grp": np.repeat([0.0, 1.0], 50),
                      "t": rng.exponential(size=100)})
    d["e"] = (d["grp"] == 0).astype(int)          # group 1 has no events
    with pytest.raises(MonotoneLikelihoodError, match="'grp'") as err:
        ips.cox(d, stop="t", event="e", covariates=["age", "grp"])
    assert err.value.terms == ["grp"]


def test_run_lengths_of_nothing():
    assert run_lengths(np.zeros(0, bool), np.zeros(0, bool)).tolist() == []


# -- results objects ---------------------------------------------------------------------------
def test_cox_results_interface(lung):
    r = ips.cox(lung, stop="time", event="status", event_value=2, covariates=["age", "sex"],
                cluster="inst", missing="drop")
    assert r.se_type == "cluster" and r.nobs == 227 and r.n_units == 18
    ci = r.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and list(ci.index) == ["age", "sex"]
    np.testing.assert_allclose(r.hazard_ratios, np.exp(r.params))
    assert r.cov.shape == (2, 2)
    np.testing.assert_allclose(np.sqrt(np.diag(r.cov)), r.std_errors)
    text = r.summary().as_text()
    assert "exp(coef)" in text and "cluster" in text
    assert set(r.tidy().columns) >= {"estimate", "std_error", "p_value", "conf_low", "conf_high"}
    assert r.pvalues.index.tolist() == ["age", "sex"]
    ax = r.plot()
    assert ax.get_xscale() == "log"
    z = r.zph()
    assert "GLOBAL" in z.table.index


def test_curve_results_plot_with_risk_table_through_disclosure():
    d = pd.DataFrame({"t": np.r_[np.arange(1.0, 21.0), np.arange(1.0, 7.0)],
                      "e": 1, "g": ["a"] * 20 + ["b"] * 6})
    km = ips.kaplan_meier(d, stop="t", event="e", by="g")
    ax = km.plot(at_risk=True, times=[0, 5, 10])
    texts = [t.get_text() for t in ax.texts]
    # group b: 6 at risk at 0, 2 at 5 (shown as <5), 0 at 10
    assert "<5" in texts and "2" not in texts and "6" in texts
    # the curve of b stops where fewer than 5 are at risk
    xb = ax.lines[1].get_xdata()
    assert max(xb) < 3
    assert "Log-rank" in km.summary().as_text()
    ci = ips.cumulative_incidence(d.assign(s=np.where(d["t"] % 3 == 0, 2, 1)), stop="t",
                                  event="s", cause=1, by="g")
    assert ci.plot(at_risk=True) is not None
    assert ci.at_times([0.5])["estimate"].tolist() == [0.0, 0.0]


def test_at_times_is_exported():
    from ips_study.designs.survival import at_times, fitters

    assert at_times is fitters.at_times
    curve = ips.kaplan_meier(pd.DataFrame({"t": [1., 2.], "e": [1, 1]}), stop="t",
                             event="e").curves["all"]
    assert at_times(curve, [0.5, 1.5])["surv"].tolist() == [1.0, 0.5]


# -- discrete-time hazard ----------------------------------------------------------------------
def test_discrete_hazard_cluster_is_not_the_fixed_effect_group():
    rng = np.random.default_rng(5)
    n = 6000
    d = pd.DataFrame({"k": rng.integers(0, 4, n), "year": rng.integers(0, 3, n),
                      "muni": rng.integers(0, 30, n), "x": rng.normal(size=n)})
    d["region"] = d["muni"] // 5
    d["tr"] = ((d["muni"] < 15) & (d["year"] == 2)).astype(int)
    d["y"] = (rng.uniform(size=n) < 0.05 * np.exp(0.3 * d["tr"] + 0.2 * d["x"])).astype(int)
    plain = ips.discrete_hazard(d, event="y", duration="k", time="year", treat="tr",
                                cluster="region", covariates=["x"])
    fe = ips.discrete_hazard(d, event="y", duration="k", time="year", treat="tr",
                             cluster="region", covariates=["x"], fe="muni")
    assert plain.n_units == fe.n_units == 6              # clustered by region
    assert plain.params["tr"] != pytest.approx(fe.params["tr"], rel=1e-6)  # muni FE added
    # x is one numeric coefficient, not one dummy per distinct value
    assert fe.params.index.tolist() == ["tr", "x"]
    assert fe.params["x"] == pytest.approx(0.2, abs=0.15)


def test_fine_gray_without_censoring_before_the_last_event():
    # no censoring jump before the last event of the cause: the extended data used to index
    # an empty array (IndexError in `ips-study reproduce` on synth --persons 1000 --seed 2).
    # R: crr(1:12, s, cbind(x), failcode = 1) -> -0.242361176981866, SE 0.714338174300344
    # (crr's own convergence tolerance is 1e-6)
    d = pd.DataFrame({"t": np.arange(1.0, 13.0), "s": [1, 2, 1, 2, 1, 2, 1, 1, 2, 1, 2, 1],
                      "x": [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0]})
    r = ips.fine_gray(d, stop="t", event="s", cause=1, covariates=["x"])
    assert r.params["x"] == pytest.approx(-0.242361176981866, rel=1e-5)
    assert r.std_errors["x"] == pytest.approx(0.714338174300344, rel=1e-5)


def test_logrank_with_a_group_never_at_risk_at_an_event():
    # group b is censored before the first event: its variance row is zero (LinAlgError
    # stopped the km design in reproduce on synth 1000/seed 2). R survdiff: chisq
    # 2.4693877551 on 1 degree of freedom
    r = logrank_test(None, [0.5, 0.6, 1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 0, 1, 1, 0], list("bbaaaccc"))
    assert r["statistic"] == pytest.approx(2.4693877551, rel=1e-9)
    assert r["df"] == 1
