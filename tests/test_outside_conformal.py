"""``ips.conformal_test`` as an outside tester calls it: foreign names and time codings.

The pre/post split and the moving-block permutations follow the order of the periods, so
each time coding must give the numbers of the integer-coded panel, and text periods that
sorting would put out of time order must be refused by name. The test marked "(bug)"
failed before the fix: "Q1-2020" sorted before "Q2-2019", and the message blamed the
treatment column.
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
    lambda j: f"{j + 1}/2019",                                   # month without zero
], ids=["quarter first", "month/year"])
def test_conformal_refuses_text_periods_out_of_sorted_order(labels):
    """(bug) such labels were sorted as text, so the treated unit seemed to switch off."""
    df = _panel()
    with pytest.raises(ValueError, match=r"time='j': text periods"):
        ips.conformal_test(df.assign(j=df.j.map(labels)), y="utfall", unit="kommune",
                           time="j", treat="tiltak", n_perm=50)
    cat = pd.Categorical(df.j.map(labels))            # unordered: categories sorted as text
    with pytest.raises(ValueError, match=r"time='j': text periods"):
        ips.conformal_test(df.assign(j=cat), y="utfall", unit="kommune", time="j",
                           treat="tiltak", n_perm=50)
