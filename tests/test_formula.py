"""The formula interface (ips_study.formula): a formula gives exactly the numbers of the
equivalent column arguments, in every estimator that takes one, and R/pyfixest agree.

R numbers: tests/reference/survival_gray_logrank_formula.R (coxph on lung with a factor and
a log term). pyfixest numbers: tests/reference/did_roles_pyfixest.py (did with a covariate
and weights).
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.formula import FormulaError, covariate_design, formula_roles, parse


def _same(a, b):
    """Identical numbers, labels aside."""
    np.testing.assert_array_equal(a.params.to_numpy(), b.params.to_numpy())
    np.testing.assert_array_equal(a.std_errors.to_numpy(), b.std_errors.to_numpy())


@pytest.fixture(scope="module")
def lung():
    d = pd.read_csv("tests/data/lung.csv")
    return d.assign(log_age=np.log(d["age"]), sex_t=d["sex"].map({1: "m", 2: "f"}))


# -- parsing and design -------------------------------------------------------------------
def test_design_labels_and_reference_level():
    d = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "g": ["b", "a", "c", "a"]})
    X = covariate_design(d, "~ x + C(g) + I(x ** 2)")
    assert X.columns.tolist() == ["x", "C(g)[T.b]", "C(g)[T.c]", "I(x ** 2)"]
    assert X["C(g)[T.b]"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert X["I(x ** 2)"].tolist() == [1.0, 4.0, 9.0, 16.0]


def test_a_missing_category_is_missing_not_the_reference_level():
    # formulaic alone codes a missing category as all-zero dummies (the reference level)
    d = pd.DataFrame({"x": [1.0, 2.0, 3.0], "g": ["b", None, "a"]})
    X = covariate_design(d, "~ x + C(g)")
    assert X.iloc[1].isna().all() and X.iloc[[0, 2]].notna().all().all()


@pytest.mark.parametrize("formula, outcome, message", [
    ("~ 0 + x", None, "drop '0 +'"),
    ("~ x - 1", None, "drop '0 +'"),
    ("y ~ x", False, "covariates only"),
    ("~ x", True, "needs one outcome"),
    ("y ~ x | z", None, "one right-hand side"),
    ("y ~ (", None, "cannot be parsed"),
])
def test_formula_misuse_is_one_line(formula, outcome, message):
    with pytest.raises(FormulaError, match=re.escape(message)) as err:
        parse(formula, outcome=outcome)
    assert "\n" not in str(err.value)


def test_formula_and_column_arguments_together_is_an_error():
    d = pd.DataFrame({"y": [1.0], "x": [2.0]})
    with pytest.raises(FormulaError, match="not both"):
        formula_roles(d, "y ~ x", y="y")
    with pytest.raises(FormulaError, match="not both"):
        ips.cox(d, stop="y", event="x", covariates=["x"], formula="~ x")
    with pytest.raises(FormulaError, match="y= .* or formula="):
        formula_roles(d, None)


def test_unknown_column_and_infinite_term_are_named(lung):
    with pytest.raises(FormulaError, match="'weight' not in data"):
        ips.cox(lung, stop="time", event="status", event_value=2, formula="~ age + weight")
    with pytest.raises(FormulaError, match=re.escape("'log(x)' are infinite or undefined in 2 row")):
        covariate_design(pd.DataFrame({"x": [0.0, 1.0, -1.0, np.nan]}), "~ log(x)")


# -- survival -----------------------------------------------------------------------------
def test_cox_formula_equals_columns_and_r(lung):
    f = ips.cox(lung, stop="time", event="status", event_value=2, missing="drop",
                formula="~ ph.ecog + C(sex) + log(age)")
    c = ips.cox(lung.assign(sex=lung["sex"].astype(str)), stop="time", event="status",
                event_value=2, covariates=["ph.ecog", "sex", "log_age"], missing="drop")
    _same(f, c)
    assert f.params.index.tolist() == ["ph.ecog", "C(sex)[T.2]", "log(age)"]
    assert f.notes[0].startswith("1 row(s) dropped for missing values (ph.ecog: 1)")
    ref = pd.read_csv("tests/reference/survival_logrank_weights_formula.csv").set_index("what")
    ref = ref["value"]
    r_names = ["ph.ecog", "factor(sex)2", "log(age)"]
    np.testing.assert_allclose(f.params, ref[[f"coef_{n}" for n in r_names]], rtol=1e-8)
    np.testing.assert_allclose(f.std_errors, ref[[f"se_{n}" for n in r_names]], rtol=1e-8)
    assert f.n_events == ref["nevent"] and f.nobs == ref["n"]


def test_quoted_names_and_their_missing_values(lung):
    f = ips.cox(lung, stop="time", event="status", event_value=2, missing="drop",
                formula="~ age + log(`wt.loss` + 30)")
    c = ips.cox(lung.assign(lw=np.log(lung["wt.loss"] + 30)), stop="time", event="status",
                event_value=2, covariates=["age", "lw"], missing="drop")
    _same(f, c)
    assert f.notes[0].startswith("14 row(s) dropped for missing values (wt.loss: 14)")


def test_cox_formula_missing_rule_names_the_raw_column(lung):
    with pytest.raises(ValueError, match="ph.ecog: 1"):
        ips.cox(lung, stop="time", event="status", event_value=2, formula="~ C(ph.ecog)")


def test_fine_gray_formula_equals_columns():
    m = pd.read_csv("tests/data/mgus2.csv")
    f = ips.fine_gray(m, stop="etime", event="event", cause=1, formula="~ age + C(sex)")
    c = ips.fine_gray(m, stop="etime", event="event", cause=1, covariates=["age", "sex"])
    _same(f, c)
    assert f.params.index.tolist() == ["age", "C(sex)[T.M]"]
    with pytest.raises(TypeError, match="covariates= .* or formula="):
        ips.fine_gray(m, stop="etime", event="event", cause=1)


@pytest.fixture(scope="module")
def person_periods():
    rng = np.random.default_rng(5)
    n = 6000
    d = pd.DataFrame({"k": rng.integers(0, 4, n), "year": rng.integers(0, 3, n),
                      "g": rng.integers(0, 20, n), "x": rng.normal(size=n),
                      "grp": rng.choice(["u", "v", "w"], n)})
    d["tr"] = ((d["g"] < 10) & (d["year"] == 2)).astype(int)
    d["y"] = (rng.uniform(size=n) < 0.1 * np.exp(0.3 * d["tr"] + 0.2 * d["x"])).astype(int)
    return d.assign(x2=d["x"] ** 2)


def test_discrete_hazard_formula_equals_columns(person_periods):
    d = person_periods
    args = dict(event="y", duration="k", time="year", treat="tr", cluster="g")
    _same(ips.discrete_hazard(d, formula="~ x + I(x ** 2)", **args),
          ips.discrete_hazard(d, covariates=["x", "x2"], **args))
    # a categorical enters as 0/1 numbers: the same model, its dummy columns in another
    # position of the GLM design, so equal to the IRLS tolerance rather than bit for bit
    f = ips.discrete_hazard(d, formula="~ x + C(grp)", **args)
    c = ips.discrete_hazard(d, covariates=["x", "grp"], **args)
    assert f.params.index.tolist() == ["tr", "x", "C(grp)[T.v]", "C(grp)[T.w]"]
    np.testing.assert_allclose(f.params, c.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(f.std_errors, c.std_errors, rtol=1e-9)


# -- difference in differences ------------------------------------------------------------
@pytest.fixture(scope="module")
def panel():
    return pd.read_csv("tests/reference/did_roles_panel.csv")


def _cluster(fn, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the few-treated-clusters warning of CRV1
        return fn(**kw, inference="cluster")


def test_did_formula_equals_columns_and_pyfixest(panel):
    roles = dict(unit="pid", time="aar", treat="tiltak", cluster="kommune", weights="vekt")
    f = _cluster(ips.did, data=panel, formula="lonn ~ alder", **roles)
    c = _cluster(ips.did, data=panel, y="lonn", covariates=["alder"], **roles)
    assert (f.estimate, f.std_error) == (c.estimate, c.std_error)
    assert f.outcome == "lonn"
    ref = pd.read_csv("tests/reference/did_roles_pyfixest_output.csv").set_index(["case", "term"])
    r = ref.loc[("did_x_w", "treated_post")]
    assert f.estimate == pytest.approx(r["estimate"], abs=1e-8)
    assert f.std_error == pytest.approx(r["std_error"], abs=1e-8)


def test_did_formula_with_transforms_and_categoricals_equals_columns(panel):
    p = panel.assign(band=np.where(panel["alder"] < 40, "young", "old"),
                     log_lonn=np.log(panel["lonn"]), alder2=panel["alder"] ** 2)
    roles = dict(unit="pid", time="aar", treat="tiltak", cluster="kommune")
    f = _cluster(ips.did, data=p, formula="log(lonn) ~ alder + I(alder ** 2) + C(band)", **roles)
    c = _cluster(ips.did, data=p, y="log_lonn", covariates=["alder", "alder2", "band"], **roles)
    assert (f.estimate, f.std_error) == (c.estimate, c.std_error)
    assert f.outcome == "log(lonn)"


def test_event_study_formula_equals_columns(panel):
    roles = dict(unit="pid", time="aar", treat="tiltak", cluster="kommune", bins=(-3, 3))
    f = _cluster(ips.event_study, data=panel, formula="lonn ~ alder", **roles)
    c = _cluster(ips.event_study, data=panel, y="lonn", covariates=["alder"], **roles)
    _same(f, c)
    with pytest.raises(FormulaError, match="not both"):
        ips.event_study(panel, formula="lonn ~ alder", covariates=["alder"], **roles)


def test_did_formula_missing_values_follow_the_missing_rule(panel):
    p = panel.assign(alder=panel["alder"].where(panel.index % 50 != 0))
    roles = dict(unit="pid", time="aar", treat="tiltak", cluster="kommune")
    with pytest.raises(ValueError, match="missing value"):
        _cluster(ips.did, data=p, formula="lonn ~ alder", **roles)
    f = _cluster(ips.did, data=p, formula="lonn ~ alder", missing="drop", **roles)
    c = _cluster(ips.did, data=p, y="lonn", covariates=["alder"], missing="drop", **roles)
    assert (f.estimate, f.std_error) == (c.estimate, c.std_error)
