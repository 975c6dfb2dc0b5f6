"""Parse the distinct date strings of a column: ISO ``YYYY-MM-DD`` and FD-Trygd ``YYYYMM``.

Register columns hold a few thousand distinct dates however long the table is, so this runs
on the distinct values only (see :mod:`.columns`). The rules are those of ``pandas.to_datetime``
with ``format="%Y-%m-%d"`` / ``"%Y%m"`` and ``errors="coerce"``, which the loader used before,
computed with Arrow's regular expressions and NumPy calendar arithmetic instead of a Python
call per value:

* ISO: four, two and two ASCII digits, optionally followed by a midnight time
  (``T00:00``, ``00:00:00``, ``00:00:00.000``); month 1-12, day within the month;
* ``YYYYMM``: six digits, month 1-12; the first day of the month, or its last day in a spell's
  end column (``end=True``);
* any calendar date of years 1-9999 is a date, also outside pandas' nanosecond range (before
  1677-09-22 or after 2262-04-11), where pandas gives up: ``9999-12-31`` (a "never" marker) or
  ``0001-01-01`` is a real date that later checks call ``out_of_range`` (years outside
  1880-2100), not an unparseable one; year 0 does not exist and is not a date.

Strings with non-ASCII characters (full-width digits from some exports) take the pandas path.

Example
-------
>>> import numpy as np
>>> days, ym = parse_date_strings(np.array(["2013-01-15", "201302", "2013-02-30"], dtype=object), end=True)
>>> days.view("datetime64[D]")[:2].astype(str).tolist(), bool(days[2] == NAT), ym.tolist()
(['2013-01-15', '2013-02-28'], True, [False, True, False])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min
ISO = r"\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?)?"
YYYYMM = r"\d{6}"


def parse_date_strings(values: np.ndarray, *, end: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of date strings (:data:`NAT` where not a date) and which were ``YYYYMM``.

    Parameters
    ----------
    values : object ndarray of str
        Trimmed, non-empty strings (the distinct values of a column).
    end : bool
        ``YYYYMM`` means the last day of the month (a spell's end column).

    Returns
    -------
    days : int64 ndarray
        Days since 1970-01-01, :data:`NAT` for a value that is no date.
    yyyymm : bool ndarray
        Values written as ``YYYYMM`` (counted in the report's ``yyyymm_dates`` note).
    """
    n = len(values)
    days = np.full(n, NAT, np.int64)
    ym = np.zeros(n, bool)
    if not n:
        return days, ym
    arr = pa.array(values, pa.string())
    ascii_ = pc.fill_null(pc.string_is_ascii(arr), False).to_numpy(zero_copy_only=False)
    iso = _matches(arr, ISO) & ascii_
    ym = _matches(arr, YYYYMM) & ascii_
    if iso.any():
        part = arr.filter(pa.array(iso))
        y, m, d = (_digits(part, a, b) for a, b in ((0, 4), (5, 7), (8, 10)))
        first, after = _month_bounds(y, m)
        day = first + d - 1
        ok = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (day < after)
        days[iso] = np.where(ok, day, NAT)
    if ym.any():
        part = arr.filter(pa.array(ym))
        y, m = _digits(part, 0, 4), _digits(part, 4, 6)
        first, after = _month_bounds(y, m)
        ok = (y >= 1) & (m >= 1) & (m <= 12)
        days[ym] = np.where(ok, after - 1 if end else first, NAT)
    other = ~ascii_
    if other.any():
        days[other], ym[other] = _pandas_dates(values[other], end)
    return days, ym


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    hit = pc.match_substring_regex(arr, f"^(?:{pattern})$")
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def _digits(arr: pa.Array, start: int, stop: int) -> np.ndarray:
    return pc.cast(pc.utf8_slice_codeunits(arr, start, stop), pa.int64()).to_numpy(zero_copy_only=False)


def _month_bounds(year: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First day of the month and first day of the next (day numbers; any month number)."""
    months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    after = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first, after


def _ns_range(parsed: pd.Series) -> pd.Series:
    """Dates outside datetime64[ns] as NaT, in ns: the rule of pandas 2, whose parser coerced
    them; pandas 3 parses to a coarser unit and keeps them, so the rule is applied here."""
    ok = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(ok).astype("datetime64[ns]")


def _pandas_dates(values: np.ndarray, end: bool) -> tuple[np.ndarray, np.ndarray]:
    """The pandas rules for strings the fast path does not take (non-ASCII digits)."""
    s = pd.Series(values, dtype=object)
    iso = s.str.fullmatch(ISO, na=False)  # a non-string is no match (pandas 3: NaN, not False)
    ym = s.str.fullmatch(YYYYMM, na=False)
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if iso.any():
        parsed[iso] = _ns_range(pd.to_datetime(s[iso].str[:10], format="%Y-%m-%d", errors="coerce"))
    if ym.any():
        months = _ns_range(pd.to_datetime(s[ym], format="%Y%m", errors="coerce"))
        parsed[ym] = months + pd.offsets.MonthEnd(0) if end else months
    days = np.asarray(parsed.to_numpy(), dtype="datetime64[D]").view(np.int64)
    return days, ym.to_numpy(dtype=bool)
