"""The survival fitters as an outside tester calls them: foreign names, codings and dtypes.

``ips.cox``, ``kaplan_meier``, ``cumulative_incidence``, ``fine_gray`` and
``discrete_hazard`` on small fresh data with Norwegian column names, events coded as
bool / 0-1 / float / text / R's 1-2, nullable and pyarrow dtypes, unsorted rows with a
duplicated index, ties, a time of 0 and delayed entry; compared with lifelines, statsmodels,
hand formulas, and R's cmprsk (tests/reference/outside_competing.R). Tests marked "(bug)"
failed before the fix they name.
"""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips

lifelines = pytest.importorskip("lifelines")
pytest.importorskip("pyarrow")

REF = pathlib.Path(__file__).parent / "reference"


def _persons(seed=11, n=120):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"alder": rng.normal(50, 10, n).round(),
                      "arm": rng.choice(["ctl", "ips"], n)})
    lin = 0.03 * (d.alder - 50) - 0.5 * (d.arm == "ips")
    d["tid"] = np.ceil(rng.exponential(20 * np.exp(-lin))).clip(max=40)   # whole months: ties
    d["hendelse"] = ((rng.uniform(size=n) < 0.75) & (d.tid < 40)).astype(int)
    return d


def _lifelines_cox(d):
    x = d.assign(ips=(d.arm == "ips").astype(float))[["tid", "hendelse", "alder", "ips"]]
    return lifelines.CoxPHFitter().fit(x, "tid", "hendelse",
                                       fit_options={"precision": 1e-12, "max_steps": 200})


COX_CODINGS = {
    "shuffled, duplicated index": (lambda d: d.sample(frac=1, random_state=1).set_index(
        pd.Index([0] * len(d))), {}),
    "bool event": (lambda d: d.assign(hendelse=d.hendelse.astype(bool)), {}),
    "float event": (lambda d: d.assign(hendelse=d.hendelse.astype(float)), {}),
    "nullable boolean event": (lambda d: d.assign(hendelse=d.hendelse.astype("boolean")), {}),
    "pyarrow bool event": (lambda d: d.assign(
        hendelse=d.hendelse.astype(bool).astype("bool[pyarrow]")), {}),
    "text event with event_value": (lambda d: d.assign(
        hendelse=np.where(d.hendelse == 1, "ja", "nei")), {"event_value": "ja"}),
    "R coding 1/2": (lambda d: d.assign(hendelse=d.hendelse + 1), {"event_value": 2}),
    "nullable Int64 time": (lambda d: d.assign(tid=d.tid.astype("Int64")), {}),
    "pyarrow double time": (lambda d: d.assign(tid=d.tid.astype("double[pyarrow]")), {}),
    "pyarrow string arm": (lambda d: d.assign(arm=d.arm.astype("string[pyarrow]")), {}),
    "categorical arm": (lambda d: d.assign(arm=pd.Categorical(d.arm)), {}),
    "categorical arm, unused first category (bug)": (lambda d: d.assign(
        arm=pd.Categorical(d.arm, categories=["zzz", "ctl", "ips"])), {}),
    "start column of zeros": (lambda d: d.assign(inn=0.0), {"start": "inn"}),
}


@pytest.mark.parametrize("coding", list(COX_CODINGS))
def test_cox_equals_lifelines_under_foreign_codings(coding):
    d = _persons()
    ref = _lifelines_cox(d)
    change, kw = COX_CODINGS[coding]
    fit = ips.cox(change(d), stop="tid", event="hendelse", covariates=["alder", "arm"], **kw)
    assert fit.params.index.tolist() == ["alder", "arm[ips]"]
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params_.to_numpy(), atol=1e-9)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.standard_errors_.to_numpy(),
                               atol=1e-9)
    assert fit.n_events == d.hendelse.sum()


def test_cox_formula_with_unused_first_category_labels_the_used_reference():
    """(bug) the unused first category became the formula's reference: 'C(arm)[T.ctl]' got
    the contrast of ctl with ips, mislabelled, and 'C(arm)[T.ips]' a NaN."""
    d = _persons()
    ref = _lifelines_cox(d)
    cat = d.assign(arm=pd.Categorical(d.arm, categories=["zzz", "ctl", "ips"]))
    fit = ips.cox(cat, stop="tid", event="hendelse", formula="~ alder + C(arm)")
    assert fit.params.index.tolist() == ["alder", "C(arm)[T.ips]"]
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params_.to_numpy(), atol=1e-9)


def test_cox_missing_covariate_rule():
    d = _persons()
    d.loc[4, "alder"] = np.nan
    with pytest.raises(ValueError, match=r"alder: 1"):
        ips.cox(d, stop="tid", event="hendelse", covariates=["alder", "arm"])
    fit = ips.cox(d, stop="tid", event="hendelse", covariates=["alder", "arm"], missing="drop")
    ref = _lifelines_cox(d.dropna())
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params_.to_numpy(), atol=1e-9)
    assert fit.nobs == len(d) - 1 and "1 row(s) dropped" in fit.notes[0]


def test_cox_delayed_entry_equals_lifelines_time_varying():
    rng = np.random.default_rng(12)
    n = 80
    d = pd.DataFrame({"inn": rng.integers(0, 5, n).astype(float), "x": rng.normal(size=n),
                      "id": np.arange(n)})
    d["ut"] = d.inn + rng.integers(1, 15, n)
    d["hend"] = rng.integers(0, 2, n)
    ref = lifelines.CoxTimeVaryingFitter().fit(d, id_col="id", start_col="inn",
                                                stop_col="ut", event_col="hend")
    fit = ips.cox(d.sample(frac=1, random_state=3), stop="ut", event="hend", start="inn",
                  covariates=["x"])
    assert fit.params["x"] == pytest.approx(ref.params_["x"], abs=1e-8)
    assert fit.std_errors["x"] == pytest.approx(ref.standard_errors_["x"], abs=1e-6)


@pytest.mark.parametrize("fitter", ["cox", "kaplan_meier", "cumulative_incidence", "fine_gray"])
def test_dates_or_text_as_times_are_refused_by_column(fitter):
    """(bug) a date column was read as nanoseconds since 1970 (every row at risk since
    then), and text times failed with a message quoting a row's value."""
    d = pd.DataFrame({"t": pd.to_datetime(["2020-01-05", "2020-02-11", "2020-03-02",
                                           "2020-04-20"]), "e": [1, 0, 1, 1],
                      "x": [1.0, 2.0, 3.0, 1.0]})
    kw = {"stop": "t", "event": "e"}
    if fitter in ("cumulative_incidence", "fine_gray"):
        kw["cause"] = 1
    if fitter in ("cox", "fine_gray"):
        kw["covariates"] = ["x"]
    with pytest.raises(ValueError, match=r"stop='t' holds dates"):
        getattr(ips, fitter)(d, **kw)
    text = d.assign(t=d.t.dt.strftime("%Y-%m-%d"))
    with pytest.raises(ValueError, match=r"stop='t' must be numeric") as err:
        getattr(ips, fitter)(text, **kw)
    assert "2020" not in str(err.value)


def test_durations_as_timedelta_are_days():
    d = _persons()
    days = ips.kaplan_meier(d.assign(tid=pd.to_timedelta(d.tid, unit="D")), stop="tid",
                            event="hendelse")
    plain = ips.kaplan_meier(d, stop="tid", event="hendelse")
    pd.testing.assert_frame_equal(days.curves["all"], plain.curves["all"])


def test_kaplan_meier_delayed_entry_and_codings_equal_lifelines():
    rng = np.random.default_rng(12)
    n = 80
    d = pd.DataFrame({"inn": rng.integers(0, 5, n).astype(float),
                      "grp": rng.choice(["b", "a"], n)})
    d["ut"] = d.inn + rng.integers(1, 15, n)
    d["st"] = rng.choice(["sensurert", "ufor", "jobb"], n)
    km = ips.kaplan_meier(d.assign(grp=d.grp.astype("string[pyarrow]")).sample(
        frac=1, random_state=1), stop="ut", event="st", event_value="ufor", start="inn",
        by="grp")
    for g in ("a", "b"):
        s = d[d.grp == g]
        ref = lifelines.KaplanMeierFitter().fit(s.ut, s.st == "ufor", entry=s.inn)
        c = km.curves[g]
        np.testing.assert_allclose(c.surv, ref.survival_function_at_times(c.time), atol=1e-12)


def _hand_aalen_johansen(start, stop, status):
    """Cumulative incidence of cause 1 with delayed entry, by the product-limit formula."""
    F, S, out = 0.0, 1.0, {}
    for t in np.sort(np.unique(stop[status > 0])):
        at_risk = ((start < t) & (stop >= t)).sum()
        d1 = ((stop == t) & (status == 1)).sum()
        dall = ((stop == t) & (status > 0)).sum()
        F += S * d1 / at_risk
        S *= 1 - dall / at_risk
        out[t] = F
    return pd.Series(out)


CAUSE_CODINGS = {
    "integers": (lambda s: s, 1, 0),
    "floats": (lambda s: s.astype(float), 1.0, 0),
    "nullable Int64": (lambda s: s.astype("Int64"), 1, 0),
    "text": (lambda s: s.map({0: "sensurert", 1: "ufor", 2: "jobb"}), "ufor", "sensurert"),
    "categorical text": (lambda s: s.map({0: "c", 1: "ufor", 2: "jobb"}).astype("category"),
                         "ufor", "c"),
    "pyarrow text": (lambda s: s.map({0: "sensurert", 1: "ufor", 2: "jobb"}).astype(
        "string[pyarrow]"), "ufor", "sensurert"),
}


@pytest.mark.parametrize("coding", list(CAUSE_CODINGS))
@pytest.mark.parametrize("entry", [False, True])
def test_cumulative_incidence_equals_hand_aalen_johansen(coding, entry):
    rng = np.random.default_rng(12)
    n = 80
    d = pd.DataFrame({"inn": rng.integers(0, 5, n).astype(float),
                      "st": rng.choice([0, 1, 2], n, p=[.3, .4, .3])})
    d["ut"] = d.inn + rng.integers(1, 15, n)
    change, cause, censored = CAUSE_CODINGS[coding]
    ci = ips.cumulative_incidence(d.assign(st=change(d.st)), stop="ut", event="st",
                                  cause=cause, censored=censored,
                                  start="inn" if entry else None)
    start = d.inn.to_numpy() if entry else np.full(n, -np.inf)
    ref = _hand_aalen_johansen(start, d.ut.to_numpy(), d.st.to_numpy())
    c = ci.curves["all"]
    np.testing.assert_allclose(c.estimate, ref[c.time].to_numpy(), atol=1e-12)


def test_text_causes_with_numeric_default_censored_are_refused():
    """(bug) with text codes and the default censored=0 nothing was censored: every
    censored row counted as a competing event, silently."""
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6],
                      "s": ["cens", "death", "relapse", "cens", "death", "relapse"],
                      "x": [0.1, 0.5, -0.2, 0.3, 1.0, -1.0]})
    with pytest.raises(ValueError, match=r"column 's' holds text codes.*censored="):
        ips.cumulative_incidence(d, stop="t", event="s", cause="death")
    with pytest.raises(ValueError, match=r"censored="):
        ips.fine_gray(d, stop="t", event="s", cause="death", covariates=["x"])


def test_competing_risks_with_time_zero_and_ties_equal_cmprsk():
    """(bug) fine_gray refused a time of 0 ("every interval needs start < stop") though no
    start was given; R's crr takes it. Numbers from tests/reference/outside_competing.R."""
    d = pd.read_csv(REF / "outside_competing.csv")
    r = pd.read_csv(REF / "outside_competing_out.csv").set_index("name")["value"]
    assert (d.maaned == 0).sum() == 2
    d = d.assign(gruppe=d.gruppe.astype("string[pyarrow]")).sample(frac=1, random_state=5)
    fg = ips.fine_gray(d, stop="maaned", event="utfall", cause=1, covariates=["x", "gruppe"])
    np.testing.assert_allclose(fg.params, r[["crr_x", "crr_gruppeb"]], atol=1e-8)
    np.testing.assert_allclose(fg.std_errors, r[["crr_se_x", "crr_se_gruppeb"]], atol=1e-8)
    ci = ips.cumulative_incidence(d, stop="maaned", event="utfall", cause=1, by="gruppe")
    assert ci.test["statistic"] == pytest.approx(r["gray_stat_cause1"], abs=1e-9)
    at = ci.at_times([0, 3, 6, 9]).set_index(["group", "time"])["estimate"]
    for g in ("a", "b"):
        np.testing.assert_allclose(at[g], r[[f"cif_{g}_1_t{t}" for t in (0, 3, 6, 9)]],
                                   atol=1e-10)
    var = ci.curves["a"].set_index("time")["variance"]
    np.testing.assert_allclose([var[var.index <= t].iloc[-1] for t in (0, 3, 6, 9)],
                               r[[f"var_a_1_t{t}" for t in (0, 3, 6, 9)]], atol=1e-10)


def _person_periods(seed=8, n=3000):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"varighet": rng.integers(0, 4, n), "aar": rng.integers(2015, 2018, n),
                      "kommune": rng.choice([f"{k:04d}" for k in range(12)], n),
                      "alder": rng.normal(30, 5, n).round(1)})
    d["tp"] = ((d.kommune < "0006") & (d.aar == 2017)).astype(int)
    d["hend"] = (rng.uniform(size=n) < 0.1 * np.exp(0.4 * d.tp + 0.02 * (d.alder - 30))
                 ).astype(int)
    return d


HAZARD_CODINGS = {
    "shuffled, duplicated index": (lambda d: d.sample(frac=1, random_state=1).set_index(
        pd.Index([2] * len(d))), {}),
    "text event": (lambda d: d.assign(hend=np.where(d.hend == 1, "ja", "nei")),
                   {"event_value": "ja"}),
    "pyarrow bool treat": (lambda d: d.assign(tp=d.tp.astype(bool).astype("bool[pyarrow]")),
                           {}),
    "nullable boolean treat": (lambda d: d.assign(tp=d.tp.astype("boolean")), {}),
    "text years": (lambda d: d.assign(aar=d.aar.astype(str)), {}),
    "pyarrow string cluster": (lambda d: d.assign(kommune=d.kommune.astype("string[pyarrow]")),
                               {}),
    "nullable Int64 duration": (lambda d: d.assign(varighet=d.varighet.astype("Int64")), {}),
}


@pytest.mark.parametrize("coding", list(HAZARD_CODINGS))
def test_discrete_hazard_equals_statsmodels_glm(coding):
    sm = pytest.importorskip("statsmodels.api")
    import statsmodels.formula.api as smf

    d = _person_periods()
    link = sm.families.links.CLogLog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.glm("hend ~ tp + alder + C(aar) + C(varighet)", d,
                      family=sm.families.Binomial(link)).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(d.kommune)[0]})
    change, kw = HAZARD_CODINGS[coding]
    fit = ips.discrete_hazard(change(d), event="hend", duration="varighet", time="aar",
                              treat="tp", cluster="kommune", covariates=["alder"], **kw)
    np.testing.assert_allclose(fit.params, ref.params[["tp", "alder"]], atol=1e-8)
    np.testing.assert_allclose(fit.std_errors, ref.bse[["tp", "alder"]], atol=1e-8)


def test_discrete_hazard_text_treatment_is_named():
    """(bug) a text treatment failed with "could not convert string to float: 'no'", a
    row's value and no column."""
    d = _person_periods(n=400)
    with pytest.raises(ValueError, match=r"treat column 'tp' must be numeric") as err:
        ips.discrete_hazard(d.assign(tp=np.where(d.tp == 1, "yes", "no")), event="hend",
                            duration="varighet", time="aar", treat="tp", cluster="kommune")
    assert "'no'" not in str(err.value)


def test_curves_come_in_the_order_of_the_groups_values():
    """(bug) groups were ordered as text: 10 before 9, and a categorical's own order
    (lav < middels < hoy) was lost; R's survfit orders by value and by factor level."""
    rng = np.random.default_rng(3)
    n = 90
    d = pd.DataFrame({"t": rng.integers(1, 25, n).astype(float), "e": rng.integers(0, 2, n),
                      "k": rng.choice([9, 10, 2], n),
                      "niva": pd.Categorical(rng.choice(["lav", "middels", "hoy"], n),
                                             categories=["lav", "middels", "hoy"])})
    assert list(ips.kaplan_meier(d, stop="t", event="e", by="k").curves) == [2, 9, 10]
    km = ips.kaplan_meier(d, stop="t", event="e", by="niva")
    assert list(km.curves) == ["lav", "middels", "hoy"]
    assert km.medians().index.tolist() == ["lav", "middels", "hoy"]
    ci = ips.cumulative_incidence(d, stop="t", event="e", cause=1, by="k")
    assert list(ci.curves) == [2, 9, 10]


def test_several_by_columns_never_merge_different_combinations():
    """(bug) ("a|b", "c") and ("a", "b|c") were joined into one label "a|b|c", so two
    groups (or strata, or clusters) became one without a word."""
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6, 7, 8], "e": [1, 1, 0, 1, 1, 0, 1, 1],
                      "p": ["a|b", "a", "a|b", "a", "a|b", "a", "a|b", "a"],
                      "q": ["c", "b|c", "c", "b|c", "c", "b|c", "c", "b|c"]})
    with pytest.raises(ValueError, match=r"columns 'p', 'q'.*one label"):
        ips.kaplan_meier(d, stop="t", event="e", by=["p", "q"])
    km = ips.kaplan_meier(d.assign(p=d.p.str.replace("|", "/")), stop="t", event="e",
                          by=["p", "q"])
    assert len(km.curves) == 2


def test_kaplan_meier_refuses_negative_weights_like_cox():
    """(bug) a negative case weight was used as it is in the curve and the log-rank test
    (cox refused it)."""
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1],
                      "vekt": [1.0, -1, 1, 2, 1, 1]})
    with pytest.raises(ValueError, match=r"weights='vekt' has 1 negative"):
        ips.kaplan_meier(d, stop="t", event="e", weights="vekt")


@pytest.mark.parametrize("fitter", ["cox", "fine_gray", "discrete_hazard"])
def test_infinite_covariates_are_named(fitter):
    """(bug) an infinite covariate stopped in a solver with "array must not contain infs or
    NaNs" (statsmodels: "exog contains inf or nans"), naming no column."""
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"t": rng.integers(1, 20, 40).astype(float), "e": rng.integers(0, 2, 40),
                      "x": rng.normal(size=40), "s": rng.choice([0, 1, 2], 40),
                      "c": np.arange(40) % 5, "tr": np.arange(40) % 2})
    d.loc[3, "x"] = np.inf
    call = {"cox": lambda: ips.cox(d, stop="t", event="e", covariates=["x"]),
            "fine_gray": lambda: ips.fine_gray(d, stop="t", event="s", cause=1,
                                               covariates=["x"]),
            "discrete_hazard": lambda: ips.discrete_hazard(
                d, event="e", duration=None, time=None, treat="tr", cluster="c",
                covariates=["x"])}[fitter]
    with pytest.raises(ValueError, match=r"covariates: 'x' has 1 infinite"):
        call()


def test_infinite_times_are_named():
    """(bug) an infinite time was taken as a row at risk for ever (R's coxph refuses it)."""
    d = pd.DataFrame({"t": [1, 2, 3, np.inf, 5, 6, 7], "e": [1, 0, 1, 0, 1, 1, 0],
                      "x": [0.1, 0.5, 0.2, 0.9, 0.3, 0.1, 0.4]})
    with pytest.raises(ValueError, match=r"stop='t' has 1 infinite"):
        ips.cox(d, stop="t", event="e", covariates=["x"])
    with pytest.raises(ValueError, match=r"stop='t' has 1 infinite"):
        ips.kaplan_meier(d, stop="t", event="e")


def _aliased_in_risk_sets(seed=3, n=300):
    """``a`` and ``b`` differ only on rows censored before the first event: the design
    check (whole table) passes, but no risk set at an event time tells them apart."""
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < .5).astype(int)
    early = np.arange(n) < 30
    t = np.where(early, 0.5, rng.exponential(5, n) + 1.0)
    return pd.DataFrame({"tid_ø": t, "død": (~early) & (rng.random(n) < .7),
                         "alder²": rng.normal(size=n), "a": a, "b": np.where(early, 1 - a, a)})


def test_cox_names_covariates_collinear_within_risk_sets_in_one_warning():
    """(bug) the singular information leaked scipy LinAlgWarnings from every Newton step and
    the huge steps were then reported as a monotone likelihood in 'a' and 'b'."""
    from scipy.linalg import LinAlgWarning
    from ips_study.designs.survival.cox import IdentificationWarning

    df = _aliased_in_risk_sets()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        res = ips.cox(df, stop="tid_ø", event="død", covariates=["alder²", "a", "b"])
    assert not [w for w in got if issubclass(w.category, LinAlgWarning)]
    ident = [str(w.message) for w in got if issubclass(w.category, IdentificationWarning)]
    assert len(ident) == 1 and "'a', 'b'" in ident[0] and "alder²" not in ident[0]
    # the identified coefficient is the one of the model without the alias (a + b together)
    ref = ips.cox(df.assign(ab=df.a), stop="tid_ø", event="død", covariates=["alder²", "ab"])
    assert res.params["alder²"] == pytest.approx(ref.params["alder²"], rel=1e-6)
    assert res.params["a"] + res.params["b"] == pytest.approx(ref.params["ab"], rel=1e-6)


def test_cox_well_conditioned_fit_raises_no_warning():
    d = _persons()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ips.cox(d, stop="tid", event="hendelse", covariates=["alder", "arm"])


@pytest.mark.parametrize("ties", [False, True])
def test_cox_cluster_se_against_lifelines_is_a_ties_question(ties):
    """lifelines 0.30's cluster-robust SE (``cluster_col``) builds each row's score residual
    from its position in the sorted data ("TODO: doesn't handle ties" in
    ``_compute_score_within_strata``): tied rows get different risk sets and no Efron
    weighting, while its coefficients and model variance are Efron's. Without ties the two
    sandwiches are the same formula and agree to rounding; with ties they differ (here by
    about 1e-2 relative) and ours is the one that equals R ``coxph(..., cluster=)``
    (tests/test_survival_cox.py, tests/test_survival_api_r.py)."""
    rng = np.random.default_rng(11)
    n = 120
    d = pd.DataFrame({"alder": rng.normal(50, 10, n).round(),
                      "ips": (rng.random(n) < .5).astype(float)})
    t = rng.exponential(20 * np.exp(-0.03 * (d.alder - 50) + 0.5 * d.ips))
    d["tid"] = np.ceil(t) if ties else t
    d["hendelse"] = (rng.uniform(size=n) < 0.75).astype(int)
    d["kl"] = rng.integers(0, 15, n)
    ours = ips.cox(d, stop="tid", event="hendelse", covariates=["alder", "ips"], cluster="kl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll = lifelines.CoxPHFitter().fit(d[["tid", "hendelse", "alder", "ips", "kl"]], "tid",
                                         "hendelse", cluster_col="kl")
    np.testing.assert_allclose(ours.params.to_numpy(), ll.params_.to_numpy(), atol=1e-7)
    rel = np.abs(ours.std_errors.to_numpy() / ll.standard_errors_.to_numpy() - 1)
    if ties:
        assert d.tid.duplicated().any() and rel.max() > 1e-3
    else:
        assert rel.max() < 1e-7
