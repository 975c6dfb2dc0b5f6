"""The shared results interface."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ips_study.results import Results

matplotlib.use("Agg")


def make(**kw):
    tidy = pd.DataFrame({"estimate": [2.0, -1.0], "std_error": [0.5, 2.0]}, index=["treated_post", "x"])
    return Results(tidy, design="did", outcome="workdays", inference="cluster", n_obs=100, n_units=10, **kw)


def test_tidy_is_the_single_source_of_truth():
    r = make()
    t = r.tidy()
    assert r.estimate == t.at["treated_post", "estimate"] == 2.0
    assert r.p_value == pytest.approx(2 * stats.norm.sf(4.0))
    lo, hi = r.conf_int().loc["treated_post"]
    assert (lo, hi) == pytest.approx((2 - 1.959964 * 0.5, 2 + 1.959964 * 0.5), rel=1e-6)
    t.loc["treated_post", "estimate"] = 99  # a copy: the results object is read-only
    assert r.estimate == 2.0


def test_t_reference_and_other_levels():
    r = make(df_resid=9)
    lo, _ = r.conf_int(0.9).loc["treated_post"]
    assert lo == pytest.approx(2 - stats.t(9).ppf(0.95) * 0.5)


def test_custom_interval_function_is_used_for_other_levels():
    fn = lambda level: pd.DataFrame({"lower": [-level], "upper": [level]}, index=["treated_post"])  # noqa: E731
    r = make(conf_int_fn=fn)
    assert r.conf_int(0.8).loc["treated_post", "upper"] == 0.8


def test_json_follows_the_spec_and_is_stable():
    et = pd.DataFrame({"event_time": [-1, 0], "estimate": [0.0, 1.5], "std_error": [np.nan, 0.3],
                       "conf_low": [np.nan, 0.9], "conf_high": [np.nan, 2.1]})
    r = make(event_time=et)
    d = json.loads(r.to_json())
    for key in ("design", "outcome", "estimate", "std_error", "conf_int", "p_value", "n_obs",
                "n_units", "inference", "event_time"):
        assert key in d
    assert d["event_time"][0]["std_error"] is None and d["event_time"][1]["conf_int"] == [0.9, 2.1]
    assert r.to_json() == make(event_time=et).to_json()


def test_summary_renders_three_ways_and_plot_returns_axes():
    r = make()
    s = r.summary()
    assert "workdays" in s.as_text() and "<table" in s.as_html() and "\\begin{tabular}" in s.as_latex()
    ax = r.plot()
    assert hasattr(ax, "get_title") and "workdays" in ax.get_title()


def test_bad_input():
    with pytest.raises(ValueError, match="std_error"):
        Results(pd.DataFrame({"estimate": [1.0]}, index=["a"]), design="d", outcome="o",
                inference="i", n_obs=1, n_units=1)
    with pytest.raises(KeyError, match="main term"):
        make(main_term="nope")
