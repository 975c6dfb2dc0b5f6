"""Time labels: the order of the periods and a number per period that counts them.

A top-level module (below both :mod:`ips_study.designs` and :mod:`ips_study.inference`,
which may not import the designs) so that every design and the conformal test read periods
the same way. ``ips_study.designs.timelabels`` re-exports it, with its errors as
``DesignError``.

A design needs the periods in their real order (which rows are before adoption) and the
event study needs to count periods (event time), so a period missing from the whole panel
must show as a gap. What is accepted for the ``time`` column:

* integers (also as text, ``"2019"``): the integer;
* dates (``datetime64``, text ``"2019-03-15"``, or an object column of ``datetime.date`` /
  ``Timestamp`` values): in their regular step (dates on one day of the month, or all on
  month ends such as ``2019-12-31``, count months; other dates days divided by the common
  step);
* pandas ``Period`` values: their ordinal (one per period of the frequency);
* an **ordered** pandas ``Categorical``: the position in its categories, so a category no
  row uses is a gap;
* text in a recognised format: year-months ``"2019-03"`` (counting months), quarters ``"2019Q1"``,
  ``"2019-Q1"``, ``"Q1-2019"``, ``"Q1 2019"``, halves ``"2019H1"``, ``"2019-H2"``,
  ``"H1-2019"`` (also ``S`` for semester), case-insensitive; the same format throughout.

Other text (``"spring"``, ``"wave 2"``) has no known order and is refused with a one-line
error telling to pass an ordered Categorical. Non-integer numbers keep their order but
count no periods (``numbers`` is ``None``).

Examples
--------
>>> import pandas as pd
>>> code, labels, numbers = period_codes(pd.Series(["2011Q2", "2010Q4", "2011Q1"]), "t")
>>> code.tolist(), labels.tolist(), numbers.tolist()
([2, 0, 1], ['2010Q4', '2011Q1', '2011Q2'], [8043, 8044, 8045])
>>> s = pd.Series(pd.Categorical(["b", "d"], categories=["a", "b", "c", "d"], ordered=True))
>>> period_codes(s, "t")[2].tolist()
[1, 3]
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

from ips_study.narrow import NarrowCodes, as_codes


class TimeLabelError(ValueError):
    """A ``time`` column whose periods have no known order or count (the message names the
    column, never a value). :mod:`ips_study.designs` re-raises it as its ``DesignError``."""

_Q = (re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$", re.I), re.compile(r"^Q([1-4])\s*[-/ ]?\s*(\d{4})$", re.I))
_H = (re.compile(r"^(\d{4})\s*[-/ ]?\s*[HS]([12])$", re.I),
      re.compile(r"^[HS]([12])\s*[-/ ]?\s*(\d{4})$", re.I))

REFUSED = ("has text labels that are not integers, dates, year-months (2019-03), quarters "
           "(2019Q1) or halves (2019H1), so their order is unknown: pass an ordered pandas "
           "Categorical (pd.Categorical(values, categories=[periods in order], ordered=True)), "
           "dates, periods or integers")


#: rows per block when narrow integer codes are counted or mapped (bincount and take widen
#: their index argument to intp: on a whole column that is a table-sized copy)
BLOCK = 1 << 18


def code_counts(x: np.ndarray, n: int) -> np.ndarray:
    """``np.bincount(x, minlength=n)`` of non-negative integer codes of any width, without
    widening the whole column at once."""
    if x.dtype == np.intp or len(x) <= BLOCK:
        return np.bincount(x, minlength=n)
    out = np.zeros(n, dtype=np.intp)
    for lo in range(0, len(x), BLOCK):
        out += np.bincount(x[lo:lo + BLOCK], minlength=n)
    return out


def mapped_codes(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``table[x]`` as intp for codes ``x`` of any integer width, block by block (one new
    array: the result), or a plain widening when ``table`` is the identity."""
    table = np.asarray(table, dtype=np.intp)
    if np.array_equal(table, np.arange(len(table))):
        return x.astype(np.intp)
    out = np.empty(len(x), dtype=np.intp)
    for lo in range(0, len(x), BLOCK):
        np.take(table, x[lo:lo + BLOCK], out=out[lo:lo + BLOCK], mode="clip")
    return out


def codes(col: pd.Series, sort: bool = False, narrow: bool = False):
    """Dense integer codes 0..L-1 and labels of a column.

    Categorical and small-range integer columns are coded in O(n) without hashing (a 20M-row
    person-month panel spends most of its set-up time here otherwise), with the codes as the
    only table-sized array made. ``narrow=True`` returns
    :class:`~ips_study.narrow.NarrowCodes` instead of an intp array: a categorical's codes
    and sorted integers (every value in their range used) are then kept as they are, so no
    table-sized array is made at all.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        c = col.cat.codes.to_numpy()
        if len(c) and c.min() >= 0:
            cats = np.asarray(col.cat.categories)
            used = code_counts(c, len(cats)) > 0
            table = np.cumsum(used) - 1
            if narrow:
                ident = np.array_equal(table, np.arange(len(table)))
                return NarrowCodes(c, int(used.sum()), None if ident else table), cats[used]
            return mapped_codes(table, c), cats[used]
    elif pd.api.types.is_integer_dtype(col.dtype) and len(col):
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v):
            # sorted values (a person-major panel): every level in lo..hi is used when there
            # are that many runs, counted without a bincount over all levels
            if len(v) > 1 and (v[1:] >= v[:-1]).all() and \
                    np.count_nonzero(v[1:] != v[:-1]) == hi - lo:
                if narrow:
                    return NarrowCodes(v, hi - lo + 1, offset=lo), np.arange(lo, hi + 1)
                return np.subtract(v, lo, dtype=np.intp), np.arange(lo, hi + 1)
            x = np.subtract(v, lo, dtype=np.intp)
            used = np.bincount(x, minlength=hi - lo + 1) > 0
            if used.all():
                x, labels = x, np.arange(lo, hi + 1)
            else:
                x, labels = (np.cumsum(used) - 1)[x], np.flatnonzero(used) + lo
            return (as_codes(x, len(labels)) if narrow else x), labels
    x, labels = pd.factorize(col, sort=sort)
    return (as_codes(x, len(labels)) if narrow else x), labels


def _yearly(labels: list[str], patterns, per_year: int) -> np.ndarray | None:
    """``year * per_year + k - 1`` when every label matches one of the two spellings."""
    out = np.empty(len(labels), dtype=np.int64)
    year_first, k_first = patterns
    for i, s in enumerate(labels):
        m = year_first.match(s)
        if m:
            out[i] = int(m.group(1)) * per_year + int(m.group(2)) - 1
            continue
        m = k_first.match(s)
        if not m:
            return None
        out[i] = int(m.group(2)) * per_year + int(m.group(1)) - 1
    return out


def _date_numbers(ts: pd.DatetimeIndex) -> np.ndarray:
    """Dates on one day of the month (month starts, the 15th) or all on month ends
    (period-end stamps: 2019-12-31, 2019-03-31) count months; other dates days divided by
    their common step. Counting days between month ends would make a year 365 or 366
    "periods" and their common step one day."""
    if len(ts) and ((ts.day == ts.day[0]).all() and ts.day[0] <= 28 or ts.is_month_end.all()):
        m = np.asarray(ts.year * 12 + ts.month - 1, dtype=np.int64)
    else:
        m = np.asarray((ts - ts.min()).days, dtype=np.int64)
    m = m - m.min() if len(m) else m
    d = np.diff(np.sort(m))
    step = int(np.gcd.reduce(d)) if len(d) else 1
    return m // max(step, 1)


def _text_numbers(labels: pd.Series, name: str) -> np.ndarray:
    # an object column of date or Period objects (datetime.date from a database driver,
    # Timestamps put together row by row) is read as what it holds, not as its text
    if len(labels) and all(isinstance(s, (datetime.date, np.datetime64)) for s in labels):
        return _date_numbers(pd.DatetimeIndex(pd.to_datetime(list(labels))))
    if len(labels) and all(isinstance(s, pd.Period) for s in labels):
        if len({s.freqstr for s in labels}) == 1:
            return np.array([s.ordinal for s in labels], dtype=np.int64)
        raise TimeLabelError(f"time={name!r} mixes pandas Periods of different frequencies")
    text = [str(s).strip() for s in labels]
    num = pd.to_numeric(pd.Series(text), errors="coerce")
    if num.notna().all() and np.allclose(num, np.round(num)):
        return num.to_numpy(np.int64)
    months = pd.to_datetime(pd.Series(text), format="%Y-%m", errors="coerce")
    if months.notna().all():        # year-months count months, whatever their step
        return np.asarray(months.dt.year * 12 + months.dt.month - 1, dtype=np.int64)
    dates = pd.to_datetime(pd.Series(text), format="%Y-%m-%d", errors="coerce")
    if dates.notna().all():
        return _date_numbers(pd.DatetimeIndex(dates))
    for patterns, per_year in ((_Q, 4), (_H, 2)):
        out = _yearly(text, patterns, per_year)
        if out is not None:
            return out
    raise TimeLabelError(f"time={name!r} {REFUSED}")


def period_numbers(labels, col: pd.Series, name: str) -> np.ndarray | None:
    """A number per label of ``col`` such that differences count periods (module docstring)."""
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        if dt.ordered:
            return dt.categories.get_indexer(pd.Index(labels)).astype(np.int64)
        return period_numbers(labels, pd.Series(dt.categories), name)
    if isinstance(dt, pd.PeriodDtype):
        return np.array([p.ordinal for p in labels], dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(dt):
        return _date_numbers(pd.DatetimeIndex(labels))
    if pd.api.types.is_bool_dtype(dt):
        raise TimeLabelError(f"time={name!r} is boolean: pass periods (integers, dates, ...)")
    if pd.api.types.is_numeric_dtype(dt):
        v = np.asarray(labels, dtype=float)
        return v.astype(np.int64) if np.allclose(v, np.round(v)) else None
    return _text_numbers(pd.Series(labels), name)


def _by_number(code: np.ndarray, labels, numbers: np.ndarray):
    """Codes ordered by period number; labels naming the same period share a code."""
    uniq, inverse = np.unique(numbers, return_inverse=True)
    first = np.full(len(uniq), -1)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return inverse[code], np.asarray(labels)[first], uniq


def period_codes(col: pd.Series, name: str, narrow: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Dense period codes in time order, the label of each code, and its number (``None``:
    non-integer numbers, which keep their order but count no periods). ``narrow=True``: the
    codes as :class:`~ips_study.narrow.NarrowCodes` (a categorical's own codes are kept).

    Raises
    ------
    TimeLabelError
        text labels in no recognised format, or a boolean column (one line, naming it).
    """
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        # the categories are few: order the used ones, then map every row's category code to
        # its time code in one pass (O(n) on the codes, one table-sized array)
        x = col.cat.codes.to_numpy()
        used = np.flatnonzero(code_counts(x, len(dt.categories)) > 0)
        labels = np.asarray(dt.categories)[used]
        code, labels, numbers = _by_number(np.arange(len(used)), labels,
                                           period_numbers(labels, col, name))
        table = np.full(len(dt.categories), -1, dtype=np.intp)
        table[used] = code
        if narrow:
            ident = np.array_equal(table, np.arange(len(table)))
            return NarrowCodes(x, len(labels), None if ident else table), labels, numbers
        return mapped_codes(table, x), labels, numbers
    if pd.api.types.is_bool_dtype(dt) or not (
            pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_datetime64_any_dtype(dt)
            or isinstance(dt, pd.PeriodDtype)):
        code, labels = pd.factorize(col, sort=False)
        code, labels, numbers = _by_number(code, labels, period_numbers(labels, col, name))
        return (as_codes(code, len(labels)) if narrow else code), labels, numbers
    # numbers, dates and periods sort in time order already
    code, labels = codes(col, sort=True, narrow=narrow)
    return code, np.asarray(labels), period_numbers(labels, col, name)


def in_time_order(wide: pd.DataFrame, col: pd.Series, name: str) -> pd.DataFrame:
    """``wide`` (one column per label of ``col``, e.g. a pivot) with its columns in time
    order: a pivot sorts text labels as text, and ``"Q1-2011"`` sorts before ``"Q2-2010"``."""
    pos = wide.columns.get_indexer(pd.Index(period_codes(col, name)[1]))
    return wide.iloc[:, pos] if len(pos) == wide.shape[1] and (pos >= 0).all() else wide
