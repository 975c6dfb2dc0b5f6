"""``att_gt`` periods coded as ``did``/``event_study`` accept them (outside tester).

Before session 8 ``att_gt(treat=...)`` refused dates, ``datetime.date`` objects and pandas
Periods ("must hold integer periods") although ``did`` and ``event_study`` count them.
Each coding here must give the integer-coded panel's ATT(g,t), aggregations and standard
errors; yearly dates and Periods must report calendar years in ``group``/``time``.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips


def _panel(seed=7, n_units=12, n_periods=7):
    rng = np.random.default_rng(seed)
    adopt = {0: 3, 1: 3, 2: 5, 3: 5}           # two adoption groups, eight never treated
    rows = []
    for k in range(n_units):
        for j in range(n_periods):
            d = int(k in adopt and j >= adopt[k])
            rows.append({"enhet": f"K{k:03d}", "j": j, "behandlet": d,
                         "y": rng.normal() + 0.3 * k + 0.2 * j + 1.0 * d})
    return pd.DataFrame(rows)


def _fit(d, time="j"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ips.att_gt(d, y="y", unit="enhet", time=time, treat="behandlet")


YEARLY = {
    "year-end datetime": lambda j: pd.Timestamp(f"{2015 + j}-12-31"),
    "new-year datetime": lambda j: pd.Timestamp(f"{2015 + j}-01-01"),
    "date objects": lambda j: dt.date(2015 + j, 12, 31),
    "annual Period": lambda j: pd.Period(str(2015 + j), freq="Y"),
    "text years": lambda j: str(2015 + j),
}


@pytest.mark.parametrize("coding", list(YEARLY))
def test_att_gt_yearly_dates_and_periods_give_calendar_years(coding):
    """(bug) refused: "time='t' must hold integer periods"."""
    df = _panel()
    base = _fit(df.assign(t=df.j + 2015), time="t")
    t = df.j.map(YEARLY[coding])
    if coding == "annual Period":
        t = pd.PeriodIndex(t, freq="Y")        # a Period column, not objects
    got = _fit(df.assign(t=t), time="t")
    pd.testing.assert_frame_equal(got.tidy(), base.tidy(), check_exact=False, rtol=1e-12)
    for kind in ("simple", "group", "dynamic", "calendar"):
        pd.testing.assert_frame_equal(got.aggregate(kind).tidy(), base.aggregate(kind).tidy(),
                                      check_exact=False, rtol=1e-12)


MONTHLY = {
    "month-start datetime": lambda j: pd.Timestamp("2019-11-01") + pd.DateOffset(months=j),
    "month-end datetime": lambda j: pd.Timestamp("2019-11-30") + pd.offsets.MonthEnd(j),
    "monthly Period": lambda j: pd.Period("2019-11", freq="M") + j,
    "text year-months": lambda j: (pd.Period("2019-11", freq="M") + j).strftime("%Y-%m"),
    "quarters, quarter first": lambda j: f"Q{(j + 3) % 4 + 1}-{2019 + (j + 3) // 4}",
}


@pytest.mark.parametrize("coding", list(MONTHLY))
def test_att_gt_sub_yearly_periods_count_like_event_study(coding):
    """Months and quarters count one step per period, as ``event_study`` counts them: the
    estimates and the dynamic (event-time) aggregation equal the integer counter's."""
    df = _panel()
    base = _fit(df)
    got = _fit(df.assign(j=df.j.map(MONTHLY[coding])))
    cols = ["estimate", "std_error"]
    np.testing.assert_allclose(got.tidy()[cols].to_numpy(), base.tidy()[cols].to_numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(got.tidy()["time"] - got.tidy()["group"],
                               base.tidy()["time"] - base.tidy()["group"])
    pd.testing.assert_frame_equal(got.aggregate("dynamic").tidy(),
                                  base.aggregate("dynamic").tidy(), check_exact=False,
                                  rtol=1e-12)
    kw = {"y": "y", "unit": "enhet", "time": "j", "treat": "behandlet",
          "inference": "cluster"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # four treated clusters
        es_base = ips.event_study(df, **kw)
        es_got = ips.event_study(df.assign(j=df.j.map(MONTHLY[coding])), **kw)
    np.testing.assert_allclose(es_got.tidy()["estimate"], es_base.tidy()["estimate"],
                               rtol=1e-12)


def test_att_gt_refuses_uncountable_periods_by_name():
    df = _panel()
    with pytest.raises(ValueError, match=r"time='j'"):
        _fit(df.assign(j=df.j + 0.5))
    with pytest.raises(ValueError, match=r"time='j' has text labels"):
        _fit(df.assign(j=df.j.map(lambda j: f"bølge {j}")))
