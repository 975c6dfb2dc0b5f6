"""``ips.conformal_test`` as an outside tester calls it: foreign names and time codings.

The pre/post split and the moving-block permutations follow the order of the periods, so
each time coding must give the numbers of the integer-coded panel, and text periods that
sorting would put out of time order must be refused by name. Tests marked "(bug)"
failed before their fix: "Q1-2020" sorted before "Q2-2019", and the message blamed the
treatment column (session 7); such labels were then refused rather than read (session 8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ips_study as ips


def _panel():
    rng = np.random.default_rng(1)
    rows = []
    for k in range(6):
        for j in range(12):
            d = int(k == 0 and j >= 9)
            rows.append({"kommune": f"0{k}", "j": j, "tiltak": d,
                         "utfall": np.sin(j) * (1 + 0.1 * k) + rng.normal(0, .1) + 3 * d})
    return pd.DataFrame(rows)


TIMES = {
    "shuffled rows": None,
    "year-first quarters": lambda j: f"{2019 + j // 4}Q{j % 4 + 1}",
    "year-months": lambda j: f"2019-{j + 1:02d}",
    "month-start dates": lambda j: pd.Timestamp("2019-01-01") + pd.DateOffset(months=j),
    "ordered categorical": "ordered",
}


@pytest.mark.parametrize("coding", list(TIMES))
@pytest.mark.parametrize("method", ["sc", "did"])
def test_conformal_p_value_does_not_depend_on_the_time_coding(coding, method):
    df = _panel()
    kw = {"y": "utfall", "unit": "kommune", "time": "j", "treat": "tiltak", "method": method,
          "permutation": "iid", "n_perm": 300, "seed": 4}
    base = ips.conformal_test(df, theta0=1.0, **kw)
    f = TIMES[coding]
    if f is None:
        d = df.sample(frac=1, random_state=3).set_index(pd.Index([0] * len(df)))
    elif f == "ordered":
        cats = [f"uke {j}" for j in range(12)]
        d = df.assign(j=pd.Categorical(df.j.map(lambda j: f"uke {j}"), categories=cats,
                                       ordered=True))
    else:
        d = df.assign(j=df.j.map(f))
    got = ips.conformal_test(d, theta0=1.0, **kw)
    assert got.p_value == pytest.approx(base.p_value, abs=1e-12)
    mb = {**kw, "permutation": "mb"}
    assert ips.conformal_test(d, theta0=1.0, **mb).p_value == pytest.approx(
        ips.conformal_test(df, theta0=1.0, **mb).p_value, abs=1e-12)


@pytest.mark.parametrize("labels", [
    lambda j: f"Q{j % 4 + 1}-{2019 + j // 4}",                   # quarter first
    lambda j: f"{2019 + j // 4}-Q{j % 4 + 1}",
    lambda j: f"H{j % 2 + 1} {2015 + j // 2}",                   # halves, half first
    lambda j: pd.Period(f"{2019 + j // 4}Q{j % 4 + 1}", freq="Q"),  # pandas Periods
    lambda j: (pd.Timestamp("2018-12-31") + pd.offsets.MonthEnd(j + 1)).date(),  # month ends
], ids=["quarter first", "year-dash-quarter", "half first", "Period", "date objects"])
@pytest.mark.parametrize("categorical", [False, True])
def test_conformal_reads_periods_like_the_designs(labels, categorical):
    """(bug) "Q1-2020" and "H1 2015" were refused (sorting as text would misorder them)
    because ``inference`` could not use the designs' period parser; it now lives in
    ``ips_study.timelabels`` and the p-value equals the integer-coded panel's."""
    df = _panel()
    kw = {"y": "utfall", "unit": "kommune", "time": "j", "treat": "tiltak",
          "permutation": "mb"}
    t = df.j.map(labels)
    if categorical:                     # unordered: the categories' text order is not time
        t = pd.Categorical(t.astype(str))
    got = ips.conformal_test(df.assign(j=t), theta0=1.0, **kw)
    assert got.p_value == pytest.approx(ips.conformal_test(df, theta0=1.0, **kw).p_value,
                                        abs=1e-12)


def test_conformal_refuses_text_periods_of_unknown_order():
    df = _panel()
    with pytest.raises(ValueError, match=r"time='j' has text labels .* ordered pandas "
                                         r"Categorical"):
        ips.conformal_test(df.assign(j=df.j.map(lambda j: f"{j + 1}/2019")), y="utfall",
                           unit="kommune", time="j", treat="tiltak", n_perm=50)


@pytest.mark.parametrize("dtype", ["bool", "boolean", "int8", "int16", "bool[pyarrow]"])
def test_conformal_accepts_boolean_and_narrow_integer_outcomes(dtype):
    """A 0/1 outcome held as bool, nullable boolean or a narrow integer (the month panel's
    int8 indicators) is the float 0/1 outcome."""
    rng = np.random.default_rng(5)
    df = _panel().assign(utfall=lambda d: (rng.random(len(d)) < 0.3 + 0.5 * d.tiltak))
    kw = {"y": "utfall", "unit": "kommune", "time": "j", "treat": "tiltak",
          "permutation": "mb"}
    base = ips.conformal_test(df.assign(utfall=df.utfall.astype(float)), theta0=0.2, **kw)
    got = ips.conformal_test(df.assign(utfall=df.utfall.astype(dtype)), theta0=0.2, **kw)
    assert got.p_value == pytest.approx(base.p_value, abs=1e-12)
