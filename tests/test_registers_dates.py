"""Date strings: the vectorised parser agrees with the pandas rules it replaced (kept as the slow
reference path ``_pandas_dates``) on edge cases and on many random strings, except that a calendar
date outside pandas' nanosecond range (years 1-1677 and 2262-9999) is a date (then out of range),
which the reference takes from Python's ``datetime``."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pytest

from ips_study.registers.columns import MAX_DAY, MIN_DAY
from ips_study.registers.dates import ISO, NAT, _pandas_dates, parse_date_strings

EDGES = ["1677-09-21", "1677-09-22", "2262-04-11", "2262-04-12", "0000-01-01", "2012-02-29", "2013-02-29",
         "2000-02-29", "1900-02-29", "2012-00-10", "2012-13-01", "2012-01-00", "2012-01-32", "2012-04-31",
         "9999-12-31", "201213", "201200", "167709", "167710", "226203", "2012-01-01T00:00:00.000",
         "2012-01-01 00:00", "2012-01-01T00:00:00.", "2012-01-01 00:00:00.0", "2012-01-01T00:00:01",
         "201201", "000101", "\uff12\uff10\uff11\uff12-01-01", "\uff12\uff10\uff11\uff12\uff10\uff11",
         "2012-1-01", "20120101", "1880-01-01", "2012-01-01x", "x2012-01-01", "01.02.2012", "2012/01/01",
         "-2012-01-01", "2012-01-01 ", "12345", "1234567", "abcdef"]


def _verdict(days):
    out = (days != NAT) & ((days < MIN_DAY) | (days > MAX_DAY))
    return np.where(out, -1, days)


def _calendar_day(value: str, end: bool) -> int:
    """Day number of an ASCII ISO or YYYYMM date by Python's calendar (years 1-9999), else NAT."""
    try:
        if value.isascii() and len(value) == 6 and value.isdigit():
            y, m = int(value[:4]), int(value[4:])
            day = dt.date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        else:
            day = dt.date.fromisoformat(value[:10]) if value.isascii() and re.fullmatch(ISO, value) else None
    except ValueError:
        return NAT
    return NAT if day is None else (day - dt.date(1970, 1, 1)).days


def _reference(values, end):
    days, ym = _pandas_dates(values, end)
    days = days.copy()
    for i in np.flatnonzero(days == NAT):
        # pandas cannot hold these; the parser must still read them as dates (issue #20)
        days[i] = _calendar_day(values[i], end)
    return days, ym


def _same(values, end):
    values = np.array(values, dtype=object)
    got_days, got_ym = parse_date_strings(values, end=end)
    want_days, want_ym = _reference(values, end)
    # only the verdict matters outside 1880-2100 (out_of_range): pandas' day for 1677-09-22
    # comes back wrapped to 2262-04-11 by the ns -> day cast, both are out of range
    got_days, want_days = _verdict(got_days), _verdict(want_days)
    bad = [(v, g, w) for v, g, w in zip(values, got_days, want_days) if g != w]
    assert not bad
    np.testing.assert_array_equal(got_ym, want_ym)


@pytest.mark.parametrize("end", [False, True])
def test_edge_cases_match_pandas(end):
    _same(EDGES, end)


@pytest.mark.parametrize("end", [False, True])
def test_random_strings_match_pandas(end):
    rng = np.random.default_rng(5)
    n = 4000
    y = rng.integers(1600, 2300, n)
    m = rng.integers(0, 14, n)
    d = rng.integers(0, 33, n)
    iso = [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y, m, d)]
    suffix = rng.choice(["", "", "T00:00", " 00:00:00", "T00:00:00.000", "T01:00", "Z"], n)
    ym = [f"{a:04d}{b:02d}" for a, b in zip(y, m)]
    values = [s + t for s, t in zip(iso, suffix)] + ym
    # yyyymm ends past 2262-03 overflow inside pandas (an old crash): compare below it
    if end:
        values = [v for v in values if not (len(v) == 6 and v >= "226204")]
    _same(values, end)


def test_end_of_month_and_overflow_month():
    days, ym = parse_date_strings(np.array(["201202", "226204"], dtype=object), end=True)
    assert days.view("datetime64[D]").astype(str).tolist() == ["2012-02-29", "2262-04-30"] and ym.all()


def test_empty():
    days, ym = parse_date_strings(np.empty(0, dtype=object))
    assert days.shape == ym.shape == (0,)


def test_dates_beyond_pandas_range_are_dates_then_out_of_range():
    """``9999-12-31`` and ``0001-01-01`` are real dates outside 1880-2100: out_of_range, not
    unparseable (issue #20); year 0 does not exist and stays unparseable."""
    from ips_study.registers.columns import R, parse_column
    from ips_study.registers.schema import TABLES

    col = next(c for c in TABLES["employment"].columns if c.name == "end_date")
    values = ["9999-12-31", "0001-01-01", "999912", "000101", "0000-01-01", "2012-05-31"]
    parsed = parse_column(pa.array(values), col, end=True)
    name = {code: reason for reason, code in R.items()}
    got = [name.get(int(r), "ok") for r in parsed.reason]
    assert got == ["out_of_range"] * 4 + ["unparseable_date", "ok"]
