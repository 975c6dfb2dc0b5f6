"""Gray's test with a group never at risk, and the weighted log-rank test (issue #18).

References: tests/reference/survival_gray_logrank_formula.R (R 4.2.2, survival 3.5-3,
cmprsk 2.2-11), numbers in tests/reference/survival_gray_never_at_risk_tests.csv and
survival_logrank_weights_formula.csv.
"""

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.designs.survival.competing import gray_test
from ips_study.designs.survival.km import chi2_form, logrank_test

REF = "tests/reference/"


@pytest.fixture(scope="module")
def never_at_risk():
    return (pd.read_csv(REF + "survival_gray_never_at_risk.csv"),
            pd.read_csv(REF + "survival_gray_never_at_risk_tests.csv").set_index("cause"))


@pytest.mark.parametrize("label", ["c", "0c"])      # the empty group sorted last, or first
@pytest.mark.parametrize("cause", [1, 2])
def test_gray_with_a_group_never_at_risk_equals_cuminc_without_it(never_at_risk, cause, label):
    # group c is censored at 0.5, before any event: it contributes nothing, and its score and
    # variance make V singular. cuminc returns statistic -1 there (undefined); the
    # generalised inverse gives the test without the group, df = rank = 1. Before the fix:
    # LinAlgError when the group sorts first, df = 2 (a wrong p) when it sorts last.
    d, ref = never_at_risk
    assert (ref["stat_all_groups"] == -1).all()          # R's answer is undefined here
    d = d.assign(group=d["group"].replace({"c": label}))
    r = gray_test(None, d["time"], d["status"], d["group"], cause=cause)
    assert r["statistic"] == pytest.approx(ref.at[cause, "stat_without_c"], rel=1e-9)
    assert r["df"] == 1
    assert r["p_value"] == pytest.approx(ref.at[cause, "p_without_c"], rel=1e-8)


def test_cumulative_incidence_entry_point_reports_the_rank(never_at_risk):
    d, ref = never_at_risk
    r = ips.cumulative_incidence(d, stop="time", event="status", cause=2, by="group")
    assert r.test["df"] == 1
    assert r.test["statistic"] == pytest.approx(ref.at[2, "stat_without_c"], rel=1e-9)


def test_chi2_form_full_rank_is_the_plain_quadratic_form():
    V = np.array([[2.0, 0.5], [0.5, 1.0]])
    s = np.array([1.0, -2.0])
    assert chi2_form(s, V) == (pytest.approx(float(s @ np.linalg.solve(V, s)), rel=1e-14), 2)


@pytest.fixture(scope="module")
def lung():
    d = pd.read_csv("tests/data/lung.csv")
    return d.assign(w=1 + (np.arange(1, len(d) + 1) % 3))


def test_weighted_logrank_equals_survdiff_on_repeated_rows(lung):
    # the weights used to apply to the curves only: the test ignored them (statistic 10.33)
    ref = pd.read_csv(REF + "survival_logrank_weights_formula.csv").set_index("what")["value"]
    r = ips.kaplan_meier(lung, stop="time", event="status", event_value=2, by="sex", weights="w")
    assert r.test["statistic"] == pytest.approx(ref["survdiff_repeated_chisq"], rel=1e-10)
    np.testing.assert_allclose(r.test["observed"], ref[["observed_1", "observed_2"]], rtol=1e-12)
    np.testing.assert_allclose(r.test["expected"], ref[["expected_1", "expected_2"]], rtol=1e-10)
    # coxph's weighted score test differs only by survdiff's tie correction (n-d)/(n-1)
    assert r.test["statistic"] == pytest.approx(ref["coxph_breslow_weighted_score"], rel=0.03)


def test_weighted_logrank_equals_the_repeated_data_in_python(lung):
    rep = lung.loc[lung.index.repeat(lung["w"])]
    a = logrank_test(None, lung["time"], lung["status"] == 2, lung["sex"], weights=lung["w"])
    b = logrank_test(None, rep["time"], rep["status"] == 2, rep["sex"])
    assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-12)
    assert logrank_test(None, lung["time"], lung["status"] == 2, lung["sex"],
                        weights=np.ones(len(lung)))["statistic"] == pytest.approx(
        logrank_test(None, lung["time"], lung["status"] == 2, lung["sex"])["statistic"], rel=1e-14)
