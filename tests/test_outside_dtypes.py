"""Outcome, treatment and weight dtypes as an outside tester (or the month panel) passes them.

The month panel stores its 0/1 outcomes as int8 and small counts as int16/int32, and a
caller's employment indicator is often a bool. Every public estimator must read any integer,
boolean (numpy, nullable, pyarrow) or float dtype for ``y``, ``treat`` and ``weights`` as the
same float64 numbers: each result here equals the float64 panel's to 1e-12. The
boolean-outcome cases marked "(bug)" were refused ("y is not numeric") before session 8.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips

pytest.importorskip("pyarrow")


def _panel(seed=2, n_units=9, years=range(2011, 2019)):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_units):
        for j, t in enumerate(years):
            d = int(k == 0 and t >= 2015)
            rows.append({"kommune": f"{k + 1:04d}", "aar": t, "tiltak": d, "vekt": 1 + k % 3,
                         "i_arbeid": bool(rng.random() < 0.3 + 0.04 * k + 0.3 * d)})
    return pd.DataFrame(rows)


ROLES = {"y": "i_arbeid", "unit": "kommune", "time": "aar", "treat": "tiltak"}

FITS = {
    "did": lambda d: ips.did(d, **ROLES, inference="cluster"),
    "did weighted": lambda d: ips.did(d, **ROLES, weights="vekt", inference="cluster"),
    "event_study": lambda d: ips.event_study(d, **ROLES, inference="cluster"),
    "synth": lambda d: ips.synth(d, **ROLES),
    "sdid": lambda d: ips.sdid(d, **ROLES),
    "att_gt": lambda d: ips.att_gt(d, **ROLES),
    "bacon": lambda d: ips.bacon(d, **ROLES),
}

Y_CODINGS = {
    "bool (bug)": "bool",
    "nullable boolean (bug)": "boolean",
    "pyarrow bool (bug)": "bool[pyarrow]",
    "int8": "int8",
    "int16": "int16",
    "uint8": "uint8",
    "float32": "float32",
}


def _numbers(res):
    out = [float(res.estimate)]
    for name in ("std_error",):
        v = getattr(res, name, None)
        if v is not None and np.isfinite(v):
            out.append(float(v))
    tidy = res.tidy()
    out += tidy.select_dtypes("number").to_numpy(float).ravel().tolist()
    return np.array(out)


def _fit(name, d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # one treated unit: few-cluster warnings
        return FITS[name](d)


@pytest.mark.parametrize("coding", list(Y_CODINGS))
@pytest.mark.parametrize("design", list(FITS))
def test_outcome_dtype_gives_the_float64_numbers(design, coding):
    df = _panel()
    base = _numbers(_fit(design, df.assign(i_arbeid=df.i_arbeid.astype("float64"))))
    got = _numbers(_fit(design, df.assign(i_arbeid=df.i_arbeid.astype(Y_CODINGS[coding]))))
    np.testing.assert_allclose(got, base, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "Int8", "int16[pyarrow]"])
@pytest.mark.parametrize("design", ["did weighted", "event_study", "att_gt", "sdid"])
def test_narrow_integer_treat_and_weights(design, dtype):
    """The month panel's int8/int16 columns as ``treat``, ``weights`` and ``y`` at once."""
    df = _panel()
    base = _numbers(_fit(design, df.assign(i_arbeid=df.i_arbeid.astype(float))))
    narrow = df.assign(i_arbeid=df.i_arbeid.astype(dtype), tiltak=df.tiltak.astype(dtype),
                       vekt=df.vekt.astype(dtype))
    np.testing.assert_allclose(_numbers(_fit(design, narrow)), base, rtol=1e-12,
                               atol=1e-12, equal_nan=True)


def test_boolean_outcome_is_the_share_difference():
    """A hand check that True counts as 1: the 2x2 DiD of a bool outcome is the difference
    of the shares."""
    df = _panel(years=[2014, 2015])
    res = _fit("did", df)
    s = df.groupby([df.kommune.eq("0001"), "aar"]).i_arbeid.mean()
    assert res.estimate == pytest.approx((s[True, 2015] - s[True, 2014])
                                         - (s[False, 2015] - s[False, 2014]), abs=1e-12)


def test_text_outcome_is_still_refused_by_name():
    df = _panel().assign(i_arbeid=lambda d: d.i_arbeid.map({True: "ja", False: "nei"}))
    with pytest.raises(ValueError, match=r"y='i_arbeid' is not numeric or boolean"):
        ips.did(df, **ROLES)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16"])
def test_survival_entries_read_narrow_event_time_and_covariates(dtype):
    rng = np.random.default_rng(4)
    n = 300
    df = pd.DataFrame({"dager": rng.integers(1, 60, n), "hendelse": rng.random(n) < 0.6,
                       "kvinne": rng.random(n) < 0.5})
    base = ips.cox(df.astype({"dager": float, "hendelse": float, "kvinne": float}),
                   stop="dager", event="hendelse", covariates=["kvinne"])
    tdt = "int16" if dtype == "bool" else dtype
    got = ips.cox(df.astype({"dager": tdt, "hendelse": dtype, "kvinne": dtype}),
                  stop="dager", event="hendelse", covariates=["kvinne"])
    np.testing.assert_allclose(np.r_[got.params, got.std_errors],
                               np.r_[base.params, base.std_errors], rtol=1e-12)
    km0 = ips.kaplan_meier(df.astype({"dager": float, "hendelse": float}), stop="dager",
                           event="hendelse").tidy()
    km1 = ips.kaplan_meier(df.astype({"dager": tdt, "hendelse": dtype}), stop="dager",
                           event="hendelse").tidy()
    np.testing.assert_allclose(km1.select_dtypes("number").to_numpy(float),
                               km0.select_dtypes("number").to_numpy(float), rtol=1e-12)
