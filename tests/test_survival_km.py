"""Kaplan–Meier, medians and log-rank against R survfit / quantile / survdiff.

Reference numbers: tests/reference/survival_rossi.R and survival_tv.R (R 4.2.2, survival
3.5-3). The delayed-entry case uses Surv(start, stop, event) in R.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ips_study.designs.survival.km import (at_times, km_by_group, km_curve, logrank_test,
                                           median_survival, plot_curves, risk_table)

DATA = Path(__file__).parent / "data"
REF = Path(__file__).parent / "reference"
COLS = ["time", "n_risk", "n_event", "surv", "std_err", "lower", "upper"]


def _compare(curves, ref):
    for g, r in ref.groupby("group"):
        ours = curves[g] if g in curves else curves[int(g)]
        ours = ours[ours["n_event"] > 0].reset_index(drop=True)
        np.testing.assert_allclose(ours[COLS].to_numpy(float), r[COLS].to_numpy(float),
                                   rtol=1e-9, atol=1e-12)


def test_km_rossi_equals_survfit():
    d = pd.read_csv(DATA / "rossi.csv").assign(start=0)
    curves = km_by_group(d, group="fin", stop="week", event="arrest")
    _compare(curves, pd.read_csv(REF / "survival_rossi_km.csv"))


def test_km_delayed_entry_equals_survfit():
    tv = pd.read_csv(DATA / "survival_tv.csv")
    curves = km_by_group(tv, group="treated")
    _compare(curves, pd.read_csv(REF / "survival_tv_km.csv"))


def test_medians_equal_r_quantile():
    tv = pd.read_csv(DATA / "survival_tv.csv")
    ref = pd.read_csv(REF / "survival_tv_median.csv")
    for g, c in km_by_group(tv, group="treated").items():
        r = ref.loc[ref["group"] == g].iloc[0]
        assert median_survival(c) == pytest.approx((r["median"], r["lower"], r["upper"]))


def test_median_midpoint_rule():
    # S drops to exactly 0.5 at t=2 and stays until t=4: R reports the mid-point 3
    c = km_curve(np.zeros(2), np.array([2.0, 4.0]), np.array([1, 1]))
    assert median_survival(c)[0] == pytest.approx(3.0)


def test_logrank_equals_survdiff():
    d = pd.read_csv(DATA / "rossi.csv")
    ref = pd.read_csv(REF / "survival_rossi_logrank.csv").set_index("test")
    two = logrank_test(np.zeros(len(d)), d["week"], d["arrest"], d["fin"])
    assert two["statistic"] == pytest.approx(ref.loc["fin", "chisq"], rel=1e-10)
    four = logrank_test(np.zeros(len(d)), d["week"], d["arrest"],
                        d["fin"].astype(str) + d["mar"].astype(str))
    assert four["statistic"] == pytest.approx(ref.loc["fin_mar", "chisq"], rel=1e-10)
    assert four["df"] == 3
    assert four["observed"].sum() == d["arrest"].sum()


def test_logrank_lifelines_live():
    lifelines = pytest.importorskip("lifelines.statistics")
    d = pd.read_csv(DATA / "rossi.csv")
    a, b = d[d.fin == 0], d[d.fin == 1]
    ll = lifelines.logrank_test(a.week, b.week, a.arrest, b.arrest)
    ours = logrank_test(np.zeros(len(d)), d["week"], d["arrest"], d["fin"])
    assert ours["statistic"] == pytest.approx(ll.test_statistic, rel=1e-8)


def test_risk_table_counts_delayed_entry():
    d = pd.DataFrame({"g": ["a", "a", "b"], "start": [0, 5, 0], "stop": [10, 8, 3]})
    rt = risk_table(d, [1, 5, 6, 9], group="g")
    # row 2 enters after 5: at risk at 6 but not at 5 (intervals are (start, stop])
    assert rt.loc["a"].tolist() == [1, 1, 2, 1]
    assert rt.loc["b"].tolist() == [1, 0, 0, 0]


def test_at_times_and_plot():
    c = km_curve(np.zeros(4), np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 1]))
    v = at_times(c, [0.5, 1.0, 2.5])
    assert v["surv"].tolist() == pytest.approx([1.0, 0.75, 0.5])
    ax = plot_curves({"all": c})
    assert ax.get_ylabel() == "Survival"
