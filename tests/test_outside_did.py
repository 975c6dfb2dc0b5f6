"""The DiD family as an outside tester calls it: foreign column names and codings.

Each estimator is called through the documented roles (``y``, ``unit``, ``time``,
``treat``) on small fresh panels with Norwegian column names, unit ids with leading zeros or
large integers, unsorted rows with a duplicated index, nullable and pyarrow dtypes, and
compared with an independent computation in the test (statsmodels OLS with dummies, a hand
2x2 difference). Tests marked "(bug)" failed before the fix they name.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import ips_study as ips
from ips_study.designs.roles import DesignError

pytest.importorskip("pyarrow")


def _panel(seed=3, n_units=8, years=range(2015, 2021), adopt=None):
    """Unit x year panel; ``adopt`` maps unit index -> first treated year."""
    adopt = {0: 2018, 1: 2019} if adopt is None else adopt
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_units):
        for j, t in enumerate(years):
            d = int(k in adopt and t >= adopt[k])
            rows.append({"kommune": f"{k + 1:05d}", "aar": t, "idx": j,
                         "utfall": rng.normal() + 0.5 * k + 0.2 * j + 1.5 * d, "tiltak": d,
                         "x": rng.normal()})
    return pd.DataFrame(rows)


def _ols_did(df, covariates=""):
    return smf.ols(f"utfall ~ tiltak {covariates}+ C(kommune) + C(aar)", df).fit()


def _did(df, **kw):
    kw = {"y": "utfall", "unit": "kommune", "time": "aar", "treat": "tiltak",
          "inference": "cluster", **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # few treated clusters
        return ips.did(df, **kw)


DID_CODINGS = {
    "shuffled, duplicated index": lambda d: d.sample(frac=1, random_state=1).set_index(
        pd.Index([5] * len(d))),
    "bool treat": lambda d: d.assign(tiltak=d.tiltak.astype(bool)),
    "float treat": lambda d: d.assign(tiltak=d.tiltak.astype(float)),
    "nullable Int64 treat": lambda d: d.assign(tiltak=d.tiltak.astype("Int64")),
    "nullable boolean treat": lambda d: d.assign(tiltak=d.tiltak.astype("boolean")),
    "pyarrow bool treat (bug)": lambda d: d.assign(
        tiltak=d.tiltak.astype(bool).astype("bool[pyarrow]")),
    "pyarrow int treat": lambda d: d.assign(tiltak=d.tiltak.astype("int64[pyarrow]")),
    "pandas string unit": lambda d: d.assign(kommune=d.kommune.astype("string")),
    "pyarrow string unit": lambda d: d.assign(kommune=d.kommune.astype("string[pyarrow]")),
    "large int unit": lambda d: d.assign(kommune=d.kommune.astype(int) * 10 ** 15 + 1),
    "categorical unit": lambda d: d.assign(kommune=pd.Categorical(d.kommune)),
    "text years": lambda d: d.assign(aar=d.aar.astype(str)),
    "pyarrow text years": lambda d: d.assign(aar=d.aar.astype("string[pyarrow]")),
    "year-end dates": lambda d: d.assign(aar=pd.to_datetime(d.aar.astype(str) + "-12-31")),
    "pandas Period": lambda d: d.assign(aar=pd.PeriodIndex(d.aar.astype(str), freq="Y")),
    "nullable Int64 time": lambda d: d.assign(aar=d.aar.astype("Int64")),
    "pyarrow double y": lambda d: d.assign(utfall=d.utfall.astype("double[pyarrow]")),
    "nullable Float64 y": lambda d: d.assign(utfall=d.utfall.astype("Float64")),
}


@pytest.mark.parametrize("coding", list(DID_CODINGS))
def test_did_equals_dummy_ols_under_foreign_codings(coding):
    df = _panel()
    ref = _ols_did(df)
    res = _did(DID_CODINGS[coding](df))
    assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
    assert res.n_obs == len(df)


def test_did_with_covariate_and_formula_equals_dummy_ols():
    df = _panel().assign(x=lambda d: d.x.astype("Float64"))
    ref = _ols_did(df.astype({"x": float}), "+ x ")
    assert _did(df, covariates=["x"]).estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
    res = _did(df.drop(columns="utfall").assign(**{"my y": df.utfall}), y=None,
               formula="`my y` ~ x")
    assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)


def test_did_text_treatment_is_named_with_its_dtype():
    df = _panel()
    with pytest.raises(DesignError, match=r"treat='tiltak'.*0/1.*dtype"):
        _did(df.assign(tiltak=np.where(df.tiltak == 1, "yes", "no")))


def test_did_missing_outcome_rule():
    """NaN in the outcome: an error naming y, or with missing='drop' the row is dropped and
    counted; the estimate is then OLS on the remaining rows."""
    df = _panel()
    df.loc[7, "utfall"] = np.nan
    with pytest.raises(DesignError, match=r"y='utfall' has 1 missing"):
        _did(df)
    res = _did(df, missing="drop")
    ref = _ols_did(df.dropna())
    assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
    assert any("dropped 1 row" in n for n in res.notes)


def test_did_formula_missing_values_are_named_by_their_columns():
    """(bug) the message named a derived term with the wrong count ("covariates[0]=
    'C(grp)[T.b]' has 2 missing value(s)") instead of the columns the formula reads."""
    df = _panel()
    df["grp"] = np.random.default_rng(0).choice(["a", "b", "c"], len(df))
    df["lonn"] = np.random.default_rng(1).uniform(1, 3, len(df))
    df.loc[5, "grp"] = None
    df.loc[9, "lonn"] = np.nan
    for fit in (_did, lambda d, **kw: ips.event_study(d, unit="kommune", time="aar",
                                                      treat="tiltak", inference="cluster", **kw)):
        with pytest.raises(ValueError, match=r"\('grp': 1, 'lonn': 1\).*missing='drop'"):
            fit(df.drop(columns="utfall").assign(ut=df.utfall), y=None,
                formula="ut ~ C(grp) + log(lonn)")
    res = _did(df, y=None, formula="utfall ~ C(grp) + log(lonn)", missing="drop")
    ref = smf.ols("utfall ~ tiltak + C(grp) + np.log(lonn) + C(kommune) + C(aar)",
                  df.dropna()).fit()
    assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
    assert res.n_obs == len(df) - 2


def test_did_categorical_covariate_with_unused_first_category_is_not_misreported():
    """(bug) an unused first category was the dropped reference, so every used level got
    a dummy and one was reported as dropped for collinearity."""
    df = _panel()
    df["grp"] = np.random.default_rng(0).choice(["a", "b", "c"], len(df))
    ref = _ols_did(df, "+ C(grp) ")
    cat = df.assign(grp=pd.Categorical(df.grp, categories=["z", "a", "b", "c"]))
    for kw in ({"covariates": ["grp"]}, {"y": None, "formula": "utfall ~ C(grp)"}):
        res = _did(cat, **kw)
        assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
        assert not any("collinear" in n for n in res.notes), res.notes


def _event_reference(df):
    """statsmodels OLS with one dummy per event time of the treated units (ref -1)."""
    first = df[df.tiltak == 1].groupby("kommune").idx.min()
    e = df.idx - df.kommune.map(first)
    terms = {}
    for k in sorted(e.dropna().unique()):
        if k != -1:
            name = f"ev{int(k) + 20}"
            df = df.assign(**{name: (e == k).astype(float)})
            terms[int(k)] = name
    fit = smf.ols("utfall ~ " + " + ".join(terms.values()) + " + C(kommune) + C(aar)", df).fit()
    return {k: fit.params[c] for k, c in terms.items()} | {-1: 0.0}


EVENT_TIMES = {
    "integers": lambda d: d.aar,
    "year starts": lambda d: pd.to_datetime(d.aar.astype(str) + "-01-01"),
    "year ends (bug)": lambda d: pd.to_datetime(d.aar.astype(str) + "-12-31"),
    "quarter ends (bug)": lambda d: d.idx.map(
        lambda j: pd.Timestamp("2019-03-31") + pd.offsets.QuarterEnd(j)).astype("datetime64[ns]"),
    "month ends (bug)": lambda d: d.idx.map(
        lambda j: pd.Timestamp("2019-01-31") + pd.offsets.MonthEnd(j)).astype("datetime64[ns]"),
    "15th of each month (bug)": lambda d: d.idx.map(
        lambda j: pd.Timestamp("2019-01-15") + pd.DateOffset(months=j)).astype("datetime64[ns]"),
    "datetime.date objects (bug)": lambda d: d.aar.map(lambda t: dt.date(t, 12, 31)),
    "Timestamp objects (bug)": lambda d: pd.Series(
        [pd.Timestamp(f"{t}-01-01") for t in d.aar], index=d.index, dtype=object),
    "pyarrow timestamps": lambda d: pd.to_datetime(d.aar.astype(str) + "-01-01").astype(
        "timestamp[us][pyarrow]"),
    "pyarrow date32 year ends (bug)": lambda d: pd.Series(pd.array(
        [dt.date(t, 12, 31) for t in d.aar], dtype="date32[pyarrow]"), index=d.index),
    "monthly Periods": lambda d: d.idx.map(lambda j: pd.Period("2019-01", "M") + j),
    "quarters as text": lambda d: d.idx.map(lambda j: f"Q{j % 4 + 1}-{2019 + j // 4}"),
    "weekly dates": lambda d: d.idx.map(
        lambda j: pd.Timestamp("2019-01-07") + pd.Timedelta(weeks=j)).astype("datetime64[ns]"),
}


@pytest.mark.parametrize("coding", list(EVENT_TIMES))
def test_event_study_counts_periods_of_any_time_coding(coding):
    """Period-end dates (2019-12-31, month ends) used to be counted in days, so event time
    ran in hundreds and ``ref=-1`` did not exist; date objects were refused as text."""
    df = _panel(adopt={0: 2018, 1: 2019}, years=range(2014, 2021))
    ref = _event_reference(df)
    d = df.assign(aar=EVENT_TIMES[coding](df)).sample(frac=1, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ips.event_study(d, y="utfall", unit="kommune", time="aar", treat="tiltak",
                              inference="cluster")
    et = res.event_time()
    assert sorted(et.event_time) == sorted(ref)
    got = dict(zip(et.event_time, et.estimate))
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k


def _hand_att(df, g_year, t):
    """Callaway-Sant'Anna ATT(g, t), never-treated comparison, varying base period, no
    covariates: the 2x2 difference in mean changes."""
    wide = df.pivot(index="kommune", columns="aar", values="utfall")
    first = df[df.tiltak == 1].groupby("kommune").aar.min().reindex(wide.index).fillna(0)
    base = g_year - 1 if t >= g_year else t - 1
    dy = wide[t] - wide[base]
    return dy[first == g_year].mean() - dy[first == 0].mean()


@pytest.mark.parametrize("coding", ["shuffled, duplicated index", "pyarrow bool treat (bug)",
                                    "pyarrow string unit", "large int unit",
                                    "nullable Int64 time", "pyarrow text years"])
def test_att_gt_equals_hand_two_by_two(coding):
    """(bug) pyarrow booleans were refused; years as text were refused by att_gt though
    every other design reads them."""
    df = _panel(seed=7, n_units=12, adopt={0: 2017, 1: 2017, 2: 2019, 3: 2019})
    d = DID_CODINGS[coding](df)
    res = ips.att_gt(d, y="utfall", unit="kommune", time="aar", treat="tiltak")
    tidy = res.tidy()
    assert len(tidy) == 10
    for _, row in tidy.iterrows():
        assert row.estimate == pytest.approx(_hand_att(df, int(row.group), int(row.time)),
                                             abs=1e-10)


def test_att_gt_group_column_codings_and_text_time():
    df = _panel(seed=7, n_units=12, adopt={0: 2017, 1: 2017, 2: 2019, 3: 2019})
    first = df[df.tiltak == 1].groupby("kommune").aar.min()
    df["forste"] = df.kommune.map(first)            # NaN = never treated
    base = ips.att_gt(df, y="utfall", unit="kommune", time="aar", treat="tiltak").tidy()
    for g in (df.forste, df.forste.astype("Int64"), df.forste.fillna(0), df.forste.fillna(np.inf)):
        got = ips.att_gt(df.assign(forste=g), y="utfall", unit="kommune", time="aar",
                         group="forste").tidy()
        np.testing.assert_allclose(got.estimate, base.estimate, atol=1e-12)
    # (bug) text periods with group= stopped with "can only concatenate str"
    with pytest.raises(DesignError, match=r"time='aar'.*integer periods"):
        ips.att_gt(df.assign(aar=df.aar.astype(str)), y="utfall", unit="kommune", time="aar",
                   group="forste")


def _block_panel(seed=21):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(10):
        f = rng.normal()
        for j, t in enumerate(range(2010, 2020)):
            d = int(k == 3 and t >= 2016)
            rows.append({"kommune": f"0{k:03d}", "aar": t, "idx": j, "tiltak": d,
                         "utfall": 5 + 0.3 * k + 0.1 * f * j + rng.normal(0, .2) + 2 * d})
    return pd.DataFrame(rows)


BLOCK_CODINGS = {
    "shuffled": lambda d: d.sample(frac=1, random_state=4).set_index(pd.Index([3] * len(d))),
    "pyarrow bool treat (bug)": lambda d: d.assign(
        tiltak=d.tiltak.astype(bool).astype("bool[pyarrow]")),
    "year-end dates": lambda d: d.assign(aar=pd.to_datetime(d.aar.astype(str) + "-12-31")),
    "quarters as text": lambda d: d.assign(
        aar=d.idx.map(lambda j: f"Q{j % 4 + 1}-{2010 + j // 4}")),
    "large int unit": lambda d: d.assign(kommune=d.kommune.astype(int) + 10 ** 12),
    "pyarrow string unit": lambda d: d.assign(kommune=d.kommune.astype("string[pyarrow]")),
}


@pytest.mark.parametrize("coding", list(BLOCK_CODINGS))
def test_sdid_synth_bacon_under_foreign_codings(coding):
    """``sdid(method="did")`` and ``bacon`` equal the dummy OLS; ``sdid`` and ``synth`` give
    the numbers of the plain integer-coded panel."""
    df = _block_panel()
    ref = smf.ols("utfall ~ tiltak + C(kommune) + C(aar)", df).fit().params["tiltak"]
    d = BLOCK_CODINGS[coding](df)
    kw = {"y": "utfall", "unit": "kommune", "time": "aar", "treat": "tiltak"}
    assert ips.sdid(d, method="did", **kw).estimate == pytest.approx(ref, abs=1e-10)
    assert ips.bacon(d, **kw).estimate == pytest.approx(ref, abs=1e-10)
    assert ips.sdid(d, replications=20, **kw).estimate == pytest.approx(
        ips.sdid(df, replications=20, **kw).estimate, abs=1e-10)
    assert ips.synth(d, placebo=False, leave_one_out=False, **kw).estimate == pytest.approx(
        ips.synth(df, placebo=False, leave_one_out=False, **kw).estimate, abs=1e-8)


@pytest.mark.parametrize("design", ["synth", "sdid", "bacon", "att_gt"])
def test_missing_outcome_message_offers_no_option_the_design_lacks(design):
    """(bug) the message said "pass missing='drop'", an argument these designs do not take."""
    df = _block_panel()
    df.loc[7, "utfall"] = np.nan
    with pytest.raises(DesignError, match="y='utfall' has 1 missing") as err:
        getattr(ips, design)(df, y="utfall", unit="kommune", time="aar", treat="tiltak")
    assert "missing='drop'" not in str(err.value)


def test_att_gt_text_covariate_equals_its_dummy():
    """(bug) a text covariate failed with "could not convert string to float", quoting a
    row's value; it now enters as 0/1 dummies (first level the reference), as in did."""
    df = _panel(seed=7, n_units=12, adopt={0: 2017, 1: 2017, 2: 2019, 3: 2019})
    rng = np.random.default_rng(2)
    df["sektor"] = df.kommune.map(dict(zip(df.kommune.unique(),
                                           rng.choice(["offentlig", "privat", "frivillig"], 12))))
    dummies = pd.get_dummies(df.sektor, prefix="s", drop_first=True, dtype=float)
    kw = {"y": "utfall", "unit": "kommune", "time": "aar", "treat": "tiltak"}
    ref = ips.att_gt(df.join(dummies), covariates=list(dummies.columns), **kw).tidy()
    for sektor in (df.sektor, df.sektor.astype("string[pyarrow]"), pd.Categorical(df.sektor)):
        got = ips.att_gt(df.assign(sektor=sektor), covariates=["sektor"], **kw).tidy()
        np.testing.assert_allclose(got.estimate, ref.estimate, atol=1e-12)
        np.testing.assert_allclose(got.std_error, ref.std_error, atol=1e-12)
    with pytest.raises(ValueError, match=r"covariate 'sektor' has 1 missing"):
        ips.att_gt(df.assign(sektor=df.sektor.where(df.index != 3)), covariates=["sektor"], **kw)


@pytest.mark.parametrize("width", [0, -2, 1.5])
def test_event_study_bin_width_must_be_a_positive_whole_number(width):
    """(bug) 0 put every event time in bin 0 and then blamed ref=-1; 1.5 was cut to 1."""
    with pytest.raises(DesignError, match=r"bin_width must be a positive whole number"):
        ips.event_study(_panel(), y="utfall", unit="kommune", time="aar", treat="tiltak",
                        inference="cluster", bin_width=width)


@pytest.mark.parametrize("arg, column, value", [
    ("y", "utfall", np.inf), ("covariates[0]", "x", -np.inf), ("weights", "n", np.inf),
    ("size", "n", np.inf)])
def test_did_infinite_values_are_named(arg, column, value):
    """(bug) an infinite outcome gave an estimate of NaN without a word; infinite weights
    or covariates stopped in a solver ("array must not contain infs or NaNs")."""
    df = _panel().assign(n=100.0)
    df.loc[3, column] = value
    kw = {"covariates": ["x"]} if arg.startswith("cov") else {arg: column} if arg in (
        "weights", "size") else {}
    with pytest.raises(DesignError, match=rf"{re.escape(arg)}='{column}' has 1 infinite"):
        _did(df, **kw)


def test_did_negative_size_is_refused():
    df = _panel().assign(n=100.0)
    df.loc[3, "n"] = -5.0
    with pytest.raises(DesignError, match=r"size='n' has 1 negative"):
        ips.did(df, y="utfall", unit="kommune", time="aar", treat="tiltak", size="n")


def _person_panel():
    rng = np.random.default_rng(9)
    rows = []
    for m in range(8):
        for p in range(6):
            for t in range(2015, 2021):
                if rng.uniform() < 0.1:
                    continue                      # unbalanced: persons miss years
                d = int(m == 0 and t >= 2018)
                rows.append({"kommune": f"0{m:03d}", "person": f"{m:02d}{p:04d}", "aar": t,
                             "utfall": rng.normal() + 0.2 * m + 0.1 * t + d, "tiltak": d})
    return pd.DataFrame(rows)


PERSON_CODINGS = {
    "shuffled, duplicated index": lambda d: d.sample(frac=1, random_state=1).set_index(
        pd.Index([1] * len(d))),
    "large int ids": lambda d: d.assign(person=d.person.astype(int) + 10 ** 14,
                                        kommune=d.kommune.astype(int)),
    "pyarrow strings": lambda d: d.assign(person=d.person.astype("string[pyarrow]"),
                                          kommune=d.kommune.astype("string[pyarrow]")),
}


@pytest.mark.parametrize("inference", ["placebo-t", "placebo", "conley-taber", "ferman-pinto",
                                       "wild", "cluster"])
def test_person_level_inference_does_not_depend_on_the_coding(inference):
    """unit = person, cluster = municipality: every inference method gives the same
    estimate, standard error, p-value and interval under other id codings and row orders."""
    df = _person_panel()
    kw = {"y": "utfall", "unit": "person", "time": "aar", "treat": "tiltak",
          "cluster": "kommune", "inference": inference, "seed": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = ips.did(df, **kw)
        want = [base.estimate, base.std_error, base.p_value, *base.conf_int().iloc[0]]
        for coding in PERSON_CODINGS.values():
            r = ips.did(coding(df), **kw)
            got = [r.estimate, r.std_error, r.p_value, *r.conf_int().iloc[0]]
            np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("column", ["fylke", "w"])
def test_att_gt_missing_cluster_or_weight_is_named(column):
    """(bug) units with a missing cluster label were pooled into one extra cluster, without
    a word, and a missing weight made every estimate NaN."""
    df = _panel(seed=7, n_units=12, adopt={0: 2017, 1: 2017, 2: 2019, 3: 2019})
    df["w"] = df.kommune.map(dict(zip(df.kommune.unique(), np.arange(1, 13) / 3)))
    df["fylke"] = df.kommune.map(dict(zip(df.kommune.unique(), list("AABBCCDDEEFF"))))
    df.loc[df.kommune == "00005", column] = None
    arg = "cluster" if column == "fylke" else "weights"
    with pytest.raises(ValueError, match=rf"{arg}='{column}' has 6 missing"):
        ips.att_gt(df, y="utfall", unit="kommune", time="aar", treat="tiltak", weights="w",
                   cluster="fylke")


def test_att_gt_weights_must_be_constant_within_unit():
    """(bug) a weight that varied over a unit's periods was read from its first period."""
    df = _panel(seed=7, n_units=12, adopt={0: 2017, 1: 2017, 2: 2019, 3: 2019})
    df["w"] = 1.0 + 0.1 * df.idx
    with pytest.raises(ValueError, match=r"weights='w' must be constant within each unit"):
        ips.att_gt(df, y="utfall", unit="kommune", time="aar", treat="tiltak", weights="w")


@pytest.mark.parametrize("bad, message", [
    (lambda x: np.where(np.arange(len(x)) % 2, "a", "b"), r"'x' must be numeric, got dtype"),
    (lambda x: x.where(x.index != 5, np.inf), r"'x' has infinite values"),
])
def test_synth_predictors_are_checked_by_name(bad, message):
    """(bug) a text predictor failed with "dtype 'str' does not support operation 'mean'",
    an infinite one with "array must not contain infs or NaNs"."""
    df = _block_panel()
    df["x"] = np.random.default_rng(0).normal(size=len(df))
    with pytest.raises(DesignError, match=rf"predictors: {message}"):
        ips.synth(df.assign(x=bad(df.x)), y="utfall", unit="kommune", time="aar",
                  treat="tiltak", predictors=["x"], placebo=False, leave_one_out=False)
    # a missing value is skipped in the pre-period mean (documented)
    nan = ips.synth(df.assign(x=df.x.where(df.index != 5)), y="utfall", unit="kommune",
                    time="aar", treat="tiltak", predictors=["x"], placebo=False,
                    leave_one_out=False)
    assert np.isfinite(nan.estimate)


def _all_eventually_treated(seed=8, n_units=12, years=range(2010, 2019)):
    """Staggered adoption in 2013, 2015 and 2017, every unit treated by the end."""
    adopt = {k: (2013, 2015, 2017)[k % 3] for k in range(n_units)}
    return _panel(seed=seed, n_units=n_units, years=years, adopt=adopt)


def test_did_fits_all_eventually_treated_panel_from_timing():
    """(bug) refused ("every unit is treated, none is a control") although TWFE is identified
    from the adoption timing: equals dummy OLS, CRV1 equals statsmodels' raw cluster
    sandwich, and a note says the not-yet-treated are the controls."""
    df = _all_eventually_treated()
    ref = _ols_did(df)
    res = _did(df, small_sample="none")
    assert res.estimate == pytest.approx(ref.params["tiltak"], abs=1e-10)
    raw = smf.ols("utfall ~ tiltak + C(kommune) + C(aar)", df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df.kommune)[0],
                                      "use_correction": False})
    assert res.std_error == pytest.approx(raw.bse["tiltak"], rel=1e-9)
    assert any("eventually treated" in n and "not-yet-treated" in n for n in res.notes)
    wild = _did(df, inference="wild", reps=199)
    assert wild.estimate == pytest.approx(res.estimate, abs=1e-12)


@pytest.mark.parametrize("inference", ["placebo-t", "placebo", "conley-taber", "ferman-pinto"])
def test_did_all_eventually_treated_refuses_placebo_inference_by_reason(inference):
    df = _all_eventually_treated()
    with pytest.raises(DesignError, match=rf"inference='{inference}' moves the treatment onto "
                                          r"never-treated units.*every 'kommune' unit"):
        _did(df, inference=inference)
    # switching after the fit is refused the same way
    with pytest.raises(DesignError, match="never-treated"):
        _did(df).with_inference(inference)


def test_did_all_treated_at_once_is_not_identified():
    df = _panel(adopt={k: 2018 for k in range(8)})
    with pytest.raises(DesignError, match=r"all from the same period.*collinear with the time"):
        _did(df)


def test_event_study_all_eventually_treated_names_the_reason_and_att_gt():
    df = _all_eventually_treated()
    with pytest.raises(DesignError, match=r"every 'kommune' unit is eventually treated.*linear "
                                          r"trend.*att_gt\(\.\.\., control_group="
                                          r"'not_yet_treated'\)"):
        ips.event_study(df, y="utfall", unit="kommune", time="aar", treat="tiltak",
                        inference="cluster")
    # the pointer works: att_gt with not-yet-treated controls fits the same panel
    gt = ips.att_gt(df, y="utfall", unit="kommune", time="aar", treat="tiltak",
                    control_group="not_yet_treated")
    assert np.isfinite(gt.aggregate("dynamic").estimate)


def test_cluster_note_names_the_callers_cluster_column():
    """(bug) the note said "clustered by municipality" whatever the cluster column was."""
    res = _did(_panel().rename(columns={"kommune": "region"}), unit="region")
    assert any(n.startswith("CRV1 clustered by region (8 clusters") for n in res.notes)
