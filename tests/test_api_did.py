"""ips.did / ips.event_study on any long DataFrame: roles, several treated units, misuse errors,
and the bugs of issue 17 (event-study binning, weights=False, CLI options, seeds)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.config import StudyConfig
from ips_study.designs.did import aggregate, example_panel, fit_panel
from ips_study.designs.event import fit_event_panel
from ips_study.designs.roles import DesignError

CFG = StudyConfig()


def outside_panel(seed=0, adopt=None, drop=((1, 2012),), n=24, effect=2.0):
    """A municipality-year panel with its own column names and unit sizes.

    ``adopt`` maps unit index -> adoption year (default: units 0 and 1 in 2015, unit 2 in
    2017); unit 1 misses ``drop`` rows (unbalanced treated unit). Noise falls with size.
    """
    adopt = {0: 2015, 1: 2015, 2: 2017} if adopt is None else adopt
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, pop = rng.normal(), int(rng.integers(20, 2000))
        for t in range(2010, 2021):
            if (i, t) in drop:
                continue
            d = int(i in adopt and t >= adopt[i])
            rows.append({"region": f"r{i:02d}", "yr": t, "pop": pop, "pol": d,
                         "out": a + 0.1 * t + rng.normal() + 10 * rng.normal() / np.sqrt(pop)
                         + effect * d})
    return pd.DataFrame(rows)


def dummy_ols(df, y, unit, time, X):
    """Coefficients of X in OLS of y on X, unit dummies and time dummies (independent check)."""
    D = pd.get_dummies(df[[unit, time]].astype(str), drop_first=True, dtype=float)
    M = np.column_stack([df[X].to_numpy(float), np.ones(len(df)), D.to_numpy()])
    beta = np.linalg.lstsq(M, df[y].to_numpy(float), rcond=None)[0]
    return beta[: len(X)]


def one_line(exc_info):
    msg = str(exc_info.value)
    assert "\n" not in msg
    return msg


@pytest.fixture(scope="module")
def panel():
    return example_panel(seed=1)


# -- the new calls ---------------------------------------------------------------------------------
def test_top_level_did_on_a_small_typed_frame():
    df = pd.DataFrame({
        "region": ["A"] * 4 + ["B"] * 4 + ["C"] * 4 + ["D"] * 4,
        "year": [2019, 2020, 2021, 2022] * 4,
        "jobs": [10., 11, 15, 16, 9, 10, 11, 12, 12, 12, 13, 15, 8, 10, 10, 11],
        "reform": [0, 0, 1, 1] + [0] * 12})
    res = ips.did(df, y="jobs", unit="region", time="year", treat="reform", inference="placebo")
    assert res.estimate == pytest.approx(dummy_ols(df, "jobs", "region", "year", ["reform"])[0],
                                         abs=1e-10)
    assert res.nobs == 16 and list(res.params.index) == ["treated_post"]


@pytest.mark.parametrize("level", ["person", "municipality"])
def test_fit_panel_is_an_adapter_over_did(panel, level):
    """The register adapter equals ips.did on the same data with the roles spelled out."""
    old = fit_panel(panel, outcome="workdays", config=CFG, level=level, inference="placebo-t")
    p = panel.assign(ips=((panel["municipality"] == "1804") & (panel["post"] == 1)).astype(int))
    if level == "person":
        new = ips.did(p, y="workdays", unit="person_id", time="period", treat="ips",
                      cluster="municipality")
    else:
        agg = aggregate(p, "workdays").assign(
            ips=lambda d: ((d["municipality"] == "1804") & (d["post"] == 1)).astype(int))
        new = ips.did(agg, y="workdays", unit="municipality", time="period", treat="ips",
                      weights="n_persons", size="n_persons")
    pd.testing.assert_frame_equal(old.tidy(), new.tidy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["int", "str", "datetime", "category"])
def test_unit_and_time_of_any_dtype(kind):
    df = outside_panel()
    base = ips.did(df, y="out", unit="region", time="yr", treat="pol", inference="placebo",
                   size="pop")
    conv = {"int": lambda s: s, "str": lambda s: s.astype(str),
            "datetime": lambda s: pd.to_datetime(s.astype(str) + "-01-01"),
            "category": lambda s: s.astype("category")}[kind]
    d2 = df.assign(yr=conv(df["yr"]), region=df["region"].str[1:].astype(int))
    res = ips.did(d2, y="out", unit="region", time="yr", treat="pol", inference="placebo",
                  size="pop")
    assert res.estimate == pytest.approx(base.estimate, abs=1e-10)
    assert res.p_value == base.p_value
    ev0 = ips.event_study(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                          inference="placebo")
    ev = ips.event_study(d2, y="out", unit="region", time="yr", treat="pol", size="pop",
                         inference="placebo")
    np.testing.assert_allclose(ev.params, ev0.params, atol=1e-10)


# -- several treated units -------------------------------------------------------------------------
def test_several_treated_units_equal_the_dummy_regression():
    df = outside_panel()
    res = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                  inference="placebo")
    assert res.estimate == pytest.approx(dummy_ols(df, "out", "region", "yr", ["pol"])[0],
                                         abs=1e-9)
    assert res.extras["n_treated"] == 3


def test_treated_rows_are_never_controls():
    """The issue's case: shifting a second treated unit's post rows by +100 moves the estimate
    by its share (it is treated), and a unit never treated moves nothing it should not."""
    df = outside_panel(adopt={0: 2015, 1: 2015})
    base = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                   inference="placebo")
    bumped = df.copy()
    bumped.loc[(bumped["region"] == "r01") & (bumped["pol"] == 1), "out"] += 100
    res = ips.did(bumped, y="out", unit="region", time="yr", treat="pol", size="pop",
                  inference="placebo")
    # treated: the estimate rises (as a control it would fall)
    assert res.estimate > base.estimate + 10
    assert res.estimate == pytest.approx(
        dummy_ols(bumped, "out", "region", "yr", ["pol"])[0], abs=1e-9)


def test_several_treated_placebo_enumerates_assignments():
    df = outside_panel(adopt={0: 2015, 1: 2015}, n=12)
    res = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                  inference="placebo")
    # C(10, 2) = 45 unordered assignments of the common timing, all used
    assert res.extras["n_placebos"] == 45 and res.extras["assignments"] == "all"
    draws = res._null_draws[:, 0]
    assert res.p_value == pytest.approx((1 + np.sum(np.abs(draws) >= abs(res.estimate)))
                                        / (len(draws) + 1))
    # different adoption years: ordered assignments (permutations)
    df2 = outside_panel(adopt={0: 2015, 1: 2017}, n=8)
    res2 = ips.did(df2, y="out", unit="region", time="yr", treat="pol", size="pop",
                   inference="conley-taber")
    assert res2.extras["n_placebos"] == 6 * 5


def test_several_treated_random_assignments_follow_the_seed():
    df = outside_panel()
    a = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                inference="placebo", reps=99, seed=5)
    b = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                inference="placebo", reps=99, seed=5)
    c = a.with_inference("placebo", reps=99, seed=6)
    assert a.extras["assignments"] == "random" and a.extras["seed"] == 5
    np.testing.assert_array_equal(a._null_draws, b._null_draws)
    assert not np.array_equal(a._null_draws, c._null_draws)


@pytest.mark.parametrize("method", ["placebo-t", "ferman-pinto"])
def test_several_treated_size_methods_rescale(method):
    df = outside_panel()
    res = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                  inference=method, reps=199)
    params = res.extras["variance_function"]["treated_post"]
    assert params["B"] > 0  # noise falls with size in outside_panel: the size model is used
    assert 0 < res.p_value <= 1 and np.isfinite(res.std_error)


def test_several_treated_refuses_within_variance():
    df = outside_panel()
    with pytest.raises(ValueError, match="one treated unit") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                inference="placebo-t", variance="within")
    one_line(e)


def test_event_study_several_treated_staggered_equals_dummy_regression():
    df = outside_panel()
    res = ips.event_study(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                          inference="placebo", reps=49, bins=(-4, 3))
    first = df[df["pol"] == 1].groupby("region")["yr"].min()
    e = df["yr"] - df["region"].map(first)
    k = np.clip(e, -4, 3)
    X = []
    for b in [b for b in range(-4, 4) if b != -1]:
        name = f"event_{b}"
        df[name] = ((k == b) & e.notna()).astype(float)
        X.append(name)
    np.testing.assert_allclose(res.params[X], dummy_ols(df, "out", "region", "yr", X),
                               atol=1e-9)


# -- misuse: one line naming the column --------------------------------------------------------------
def test_missing_role_column():
    df = outside_panel()
    with pytest.raises(DesignError, match="treat='policy'") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="policy", size="pop")
    one_line(e)
    with pytest.raises(KeyError):  # also a KeyError, as pandas would raise
        ips.event_study(df, y="outcome", unit="region", time="yr", treat="pol")


def test_treatment_that_switches_off():
    df = outside_panel()
    df.loc[(df["region"] == "r00") & (df["yr"] == 2019), "pol"] = 0
    with pytest.raises(DesignError, match="treat='pol' switches off in 1") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop")
    one_line(e)


def test_treatment_not_zero_one_and_treated_from_the_start():
    df = outside_panel()
    with pytest.raises(DesignError, match="treat='pop' must be a 0/1"):
        ips.did(df, y="out", unit="region", time="yr", treat="pop")
    df.loc[df["region"] == "r05", "pol"] = 1
    with pytest.raises(DesignError, match="first observed period in 1") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop")
    one_line(e)


def test_unit_treated_in_data_but_not_in_design(panel):
    p = panel.copy()
    p.loc[p["municipality"] == "1805", "treated"] = 1
    with pytest.raises(DesignError, match="column 'treated' marks 1 municipality") as e:
        fit_panel(p, outcome="workdays", config=CFG)
    one_line(e)


def test_non_numeric_outcome():
    df = outside_panel().assign(out=lambda d: d["out"].astype(str))
    with pytest.raises(DesignError, match="y='out' is not numeric") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop")
    one_line(e)


@pytest.mark.parametrize("column", ["out", "region", "yr", "pol", "pop"])
def test_nan_in_a_role_column_is_an_error_or_a_counted_drop(column):
    df = outside_panel()
    df[column] = df[column].astype(object if column == "region" else float)
    df.loc[[5, 40, 77], column] = np.nan
    with pytest.raises(DesignError, match=f"'{column}' has 3 missing") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop")
    one_line(e)
    res = ips.did(df, y="out", unit="region", time="yr", treat="pol", size="pop",
                  missing="drop", inference="placebo")
    assert res.nobs == len(df) - 3
    assert any("dropped 3 row(s)" in n for n in res.notes)


def test_treatment_varying_within_a_cluster_period(panel):
    p = panel.assign(ips=((panel["municipality"] == "1804") & (panel["post"] == 1)).astype(int))
    p.loc[p.index[p["ips"] == 1][:5], "ips"] = 0
    with pytest.raises(DesignError, match="varies within a 'municipality'") as e:
        ips.did(p, y="workdays", unit="person_id", time="period", treat="ips",
                cluster="municipality")
    one_line(e)


def test_size_methods_refuse_data_without_sizes():
    df = outside_panel()
    with pytest.raises(DesignError, match="pass size=") as e:
        ips.did(df, y="out", unit="region", time="yr", treat="pol")
    one_line(e)
    res = ips.did(df, y="out", unit="region", time="yr", treat="pol", inference="placebo")
    with pytest.raises(DesignError, match="rescales by unit size"):
        res.with_inference("ferman-pinto")


def test_unknown_inference_option_is_named():
    df = outside_panel()
    with pytest.raises(ValueError, match="no option 'reps'; valid options: small_sample"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ips.did(df, y="out", unit="region", time="yr", treat="pol", inference="cluster",
                    reps=9)


# -- bugs of issue 17 ----------------------------------------------------------------------------
def test_event_bins_come_from_the_treated_unit(panel):
    """Repro: Bodø's 2010 row dropped gave LinAlgError (bin -3 had no treated row)."""
    p = panel[~((panel["municipality"] == "1804") & (panel["period"] == "2010"))]
    res = fit_event_panel(p, outcome="workdays", config=CFG, inference="placebo",
                          level="municipality")
    assert "event_-3" not in res.params.index and "event_-2" in res.params.index
    agg = aggregate(p, "workdays")
    e = agg["event_time"].where(agg["municipality"] == "1804")
    X = []
    for k in sorted(e.dropna().unique()):
        if k != -1:
            agg[f"event_{int(k)}"] = (e == k).astype(float)
            X.append(f"event_{int(k)}")
    w = np.sqrt(agg["n_persons"].to_numpy())
    wagg = agg.assign(**{c: agg[c] * w for c in ["workdays", *X]})
    D = pd.get_dummies(agg[["municipality", "period"]], dtype=float).to_numpy() * w[:, None]
    M = np.column_stack([wagg[X].to_numpy(), D])
    beta = np.linalg.lstsq(M, wagg["workdays"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(res.params[X], beta[: len(X)], atol=1e-8)


def test_event_bins_ignore_controls_event_time(panel):
    base = fit_event_panel(panel, outcome="workdays", config=CFG, inference="placebo")
    nan_controls = panel.copy()
    nan_controls["event_time"] = nan_controls["event_time"].astype(float)
    nan_controls.loc[nan_controls["municipality"] != "1804", "event_time"] = np.nan
    res = fit_event_panel(nan_controls, outcome="workdays", config=CFG, inference="placebo")
    pd.testing.assert_series_equal(res.params, base.params, rtol=1e-10)
    # controls observed in more years than the treated unit: no term for those years
    extra = panel[(panel["municipality"] != "1804") & (panel["period"].isin(["2008", "2009"]))]
    extra = extra.assign(period=extra["period"].map({"2008": "2006", "2009": "2007"}),
                         event_time=extra["event_time"] - 2,
                         period_start=extra["period_start"] - pd.DateOffset(years=2))
    wide = pd.concat([panel, extra], ignore_index=True)
    res2 = fit_event_panel(wide, outcome="workdays", config=CFG, inference="placebo")
    assert list(res2.params.index) == list(base.params.index)


def test_weights_false_keeps_the_size_model(panel):
    """weights=False gave every municipality size 1: placebo-t == placebo exactly."""
    agg = aggregate(panel, "workdays")
    t = fit_panel(agg, outcome="workdays", config=CFG, weights=False, inference="placebo-t")
    sizes = t.fit.unit_sizes()
    np.testing.assert_allclose(sizes, agg.groupby("municipality")["n_persons"].mean(), rtol=1e-12)
    assert t.fit.weights is None
    pl = t.with_inference("placebo")
    assert t.std_error != pytest.approx(pl.std_error, rel=1e-6)


def test_seed_comes_from_the_call_or_the_study_config(panel):
    agg = aggregate(panel, "workdays")
    a = fit_panel(agg, outcome="workdays", config=CFG.replace(seed=7), inference="wild",
                  reps=199, interval=False)
    b = fit_panel(agg, outcome="workdays", config=CFG, inference="wild", reps=199,
                  interval=False, seed=7)
    c = fit_panel(agg, outcome="workdays", config=CFG, inference="wild", reps=199,
                  interval=False)
    assert a.extras["seed"] == b.extras["seed"] == 7 and c.extras["seed"] == CFG.seed
    assert a.p_value == b.p_value


def test_readme_and_docs_did_examples_run():
    """The DiD blocks of README.md and docs/designs.md run as written."""
    import re
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    root = Path(__file__).parent.parent
    for doc in ("README.md", "docs/designs.md"):
        blocks = re.findall(r"```python\n(.*?)```", (root / doc).read_text(), re.S)
        code = next(b for b in blocks if "ips.did(" in b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns = {}
            exec(compile(code, doc, "exec"), ns)
        assert ns["res"].extras["n_treated"] == 2
