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


# -- statsmodels / linearmodels style accessors -------------------------------------------------
def test_accessors_read_from_tidy_and_are_labelled():
    tidy = pd.DataFrame({"estimate": [2.0, -1.0], "std_error": [0.5, 0.25]},
                        index=["a", "b"])
    res = Results(tidy, design="did", outcome="y", inference="placebo", n_obs=40, n_units=4)
    t = res.tidy()
    pd.testing.assert_series_equal(res.params, t["estimate"], check_names=False)
    pd.testing.assert_series_equal(res.std_errors, t["std_error"], check_names=False)
    pd.testing.assert_series_equal(res.bse, res.std_errors)
    assert list(res.tstats) == [4.0, -4.0]
    pd.testing.assert_series_equal(res.pvalues, t["p_value"], check_names=False)
    assert res.nobs == 40
    # no covariance from a rank-based method: labelled, all NaN, flagged
    assert not res.has_cov
    assert list(res.cov.index) == ["a", "b"] and res.cov.isna().all().all()


def test_cov_is_labelled_when_the_method_has_one():
    from ips_study.config import StudyConfig
    from ips_study.designs.event import fit_event_panel
    from ips_study.designs.did import example_panel

    with pytest.warns(UserWarning, match="treated cluster"):
        res = fit_event_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig(),
                              inference="cluster")
    assert res.has_cov
    cov = res.cov
    assert list(cov.index) == list(res.tidy().index) == list(cov.columns)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), res.std_errors.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(cov.to_numpy(), cov.to_numpy().T, atol=1e-12)


def test_cov_shape_is_checked():
    tidy = pd.DataFrame({"estimate": [1.0], "std_error": [1.0]}, index=["a"])
    with pytest.raises(ValueError, match="cov has shape"):
        Results(tidy, design="d", outcome="y", inference="cluster", n_obs=1, n_units=1,
                cov=np.eye(2))
