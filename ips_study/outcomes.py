"""Spell arithmetic on a person x month grid: the vectorised core of panel building.

A *grid* is a dense ``(n_persons, n_months)`` array for one partition of persons and a
contiguous range of calendar months starting at ``MonthGrid.first``. Spells become grid
values by listing the cells (person-months) each spell covers (:meth:`MonthGrid.cells`), so
the cost is linear in covered cells and no Python loop runs over persons or spells;
:meth:`MonthGrid.count` keeps the difference-array form (``+1`` at the first month, ``-1``
after the last, cumulative sum along months), which the tests use as a cross-check.

Definitions (data contract, section 4):

* a spell *covers* a month if it overlaps any day of it (benefit and work indicators);
* a spell *holds on* a month if it covers the first day of it (residence, "on disability
  pension at the index date");
* ``workdays`` of a month = weekdays (Mon-Fri) covered by each work spell x ``fte``/100,
  summed over spells and capped at the month's weekdays. Year values are sums of capped
  months, so the year panel is exactly the aggregate of the month panel.

>>> g = MonthGrid.from_range("2012-01", "2012-03", n_persons=1)
>>> s = pd.to_datetime(["2012-01-31"]); e = pd.to_datetime(["2012-02-01"])
>>> g.cover(np.array([0]), s, e).tolist()
[[True, True, False]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_NAT_MONTH = np.iinfo(np.int64).min


def as_datetime64(dates) -> np.ndarray:
    """``datetime64[ns]`` array; typed input is viewed, not re-parsed (pandas' parser walks
    datetime arrays element by element to decide on caching, which dominates on large data)."""
    if getattr(dates, "dtype", None) is not None and np.dtype(dates.dtype).kind == "M":
        return np.asarray(dates, dtype="datetime64[ns]")
    return np.asarray(pd.to_datetime(dates), dtype="datetime64[ns]")


def month_id(dates) -> np.ndarray:
    """Months since 1970-01 as int64 (``NaT`` -> a very small sentinel)."""
    arr = as_datetime64(dates)
    out = arr.astype("datetime64[M]").astype(np.int64)
    out[np.isnat(arr)] = _NAT_MONTH
    return out


def month_start(mid: np.ndarray) -> np.ndarray:
    """First day (datetime64[D]) of month ids from :func:`month_id`."""
    return np.asarray(mid, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")


@dataclass(frozen=True)
class MonthGrid:
    """A person x month grid: ``n_persons`` rows, months ``first .. first + n_months - 1``."""

    first: int  # month id of column 0
    n_months: int
    n_persons: int

    @classmethod
    def from_range(cls, start, end, n_persons: int) -> "MonthGrid":
        a, b = month_id([start])[0], month_id([end])[0]
        if b < a:
            raise ValueError("grid end before grid start")
        return cls(int(a), int(b - a + 1), int(n_persons))

    # -- calendar ---------------------------------------------------------------------------
    @property
    def month_ids(self) -> np.ndarray:
        return np.arange(self.first, self.first + self.n_months, dtype=np.int64)

    @property
    def starts(self) -> np.ndarray:
        """First day of each month (datetime64[D])."""
        return month_start(self.month_ids)

    @property
    def weekdays(self) -> np.ndarray:
        """Number of weekdays (Mon-Fri) in each month."""
        s = self.starts
        e = month_start(self.month_ids + 1)
        return np.busday_count(s, e).astype(np.float64)

    # -- spell -> month ranges --------------------------------------------------------------
    def _range(self, start, end, *, first_day: bool) -> tuple[np.ndarray, np.ndarray]:
        """Grid column range [lo, hi] of each spell (hi < lo means the spell misses the grid).

        ``first_day=True`` counts a month only when the spell covers its first day.
        """
        s = as_datetime64(start)
        e = as_datetime64(end)
        lo = month_id(s)
        if first_day:
            day1 = s.astype("datetime64[M]").astype("datetime64[ns]")
            lo = lo + (s > day1)
        hi = month_id(e)
        hi = np.where(np.isnat(e), self.first + self.n_months - 1, hi)
        lo = np.clip(lo - self.first, 0, self.n_months)
        hi = np.clip(hi - self.first, -1, self.n_months - 1)
        bad = np.isnat(s)
        lo[bad], hi[bad] = 1, 0
        return lo, hi

    def _diff_count(self, rows, lo, hi, weights=None) -> np.ndarray:
        ok = lo <= hi
        rows, lo, hi = rows[ok], lo[ok], hi[ok]
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
        width = self.n_months + 1
        size = self.n_persons * width
        up = np.bincount(rows * width + lo, weights=w, minlength=size)
        down = np.bincount(rows * width + hi + 1, weights=w, minlength=size)
        return np.cumsum((up - down).reshape(self.n_persons, width), axis=1)[:, :-1]

    # -- grids ------------------------------------------------------------------------------
    def count(self, rows, start, end, *, first_day: bool = False) -> np.ndarray:
        """Number of spells covering each person-month (int32)."""
        lo, hi = self._range(start, end, first_day=first_day)
        return np.rint(self._diff_count(np.asarray(rows), lo, hi)).astype(np.int32)

    def cover(self, rows, start, end, *, first_day: bool = False) -> np.ndarray:
        """Whether any spell covers each person-month (bool)."""
        out = np.zeros((self.n_persons, self.n_months), dtype=bool)
        out.reshape(-1)[self.cells(rows, start, end, first_day=first_day)[0]] = True
        return out

    def cells(self, rows, start, end, labels=None, *, first_day: bool = False):
        """Flat grid cells (``row * n_months + month``) that each spell covers, spell by spell.

        Returns ``(cells, labels)``: ``labels`` repeats each spell's label for its cells
        (``None`` when no labels are given). Spells cover few of the grid's cells (benefits:
        about 15 of 144 months a person), so listing covered cells beats difference arrays,
        whose cumulative sums pass over every cell.

        >>> g = MonthGrid.from_range("2012-01", "2012-03", n_persons=2)
        >>> g.cells([1], pd.to_datetime(["2012-02-10"]), pd.to_datetime([None]), ["a"])
        (array([4, 5]), array(['a', 'a'], dtype='<U1'))
        """
        lo, hi = self._range(start, end, first_day=first_day)
        lengths = np.maximum(hi - lo + 1, 0)
        cells = _expand(np.asarray(rows, dtype=np.int64) * self.n_months + lo, lengths)
        return cells, (None if labels is None else np.repeat(np.asarray(labels), lengths))

    def cover_kinds(self, rows, start, end, kinds, n_kinds: int, *,
                    first_day: bool = False) -> np.ndarray:
        """:meth:`cover` for several spell kinds at once: bool array ``(n_kinds, persons, months)``.

        ``kinds`` holds each spell's kind in ``0 .. n_kinds - 1`` (other values are ignored).
        """
        cells, kind = self.cells(rows, start, end, np.asarray(kinds, dtype=np.int64), first_day=first_day)
        ok = (kind >= 0) & (kind < n_kinds)
        out = np.zeros((n_kinds, self.n_persons, self.n_months), dtype=bool)
        out.reshape(-1)[kind[ok] * (self.n_persons * self.n_months) + cells[ok]] = True
        return out

    def workdays(self, rows, start, end, fte) -> np.ndarray:
        """FTE-weighted weekdays worked per person-month, capped at the month's weekdays."""
        cells, days = self.workday_cells(rows, start, end, fte)
        total = np.bincount(cells, weights=days, minlength=self.n_persons * self.n_months)
        return cap_workdays(total, np.tile(self.weekdays, self.n_persons)).reshape(self.n_persons, self.n_months)

    def work_spans(self, rows, start, end, fte):
        """Work spells cut to the grid: ``(rows, first day, last day, fte share, first month,
        last month)``, days as ``datetime64[D]``, months as grid columns; spells outside the
        grid or without a start are dropped (open ends run to the grid's last day)."""
        rows = np.asarray(rows, dtype=np.int64)
        s = as_datetime64(start).astype("datetime64[D]")
        e_raw = as_datetime64(end)
        grid_end = month_start(np.array([self.first + self.n_months])) - np.timedelta64(1, "D")
        e = np.where(np.isnat(e_raw), grid_end[0], e_raw.astype("datetime64[D]"))
        grid_start = self.starts[0]
        s = np.maximum(s, grid_start)
        e = np.minimum(e, grid_end[0])
        ok = (e >= s) & ~np.isnat(s)
        rows, s, e = rows[ok], s[ok], e[ok]
        f = np.asarray(fte, dtype=np.float64)[ok] / 100.0
        lo = s.astype("datetime64[M]").astype(np.int64) - self.first
        hi = e.astype("datetime64[M]").astype(np.int64) - self.first
        return rows, s, e, f, lo, hi

    def workday_cells(self, rows, start, end, fte) -> tuple[np.ndarray, np.ndarray]:
        """FTE-weighted weekdays of each spell in each grid cell it covers, before summing.

        Returns ``(cells, days)`` as :meth:`cells`; the cells are those :meth:`cover` marks.
        """
        rows, s, e, f, lo, hi = self.work_spans(rows, start, end, fte)
        one_day = np.timedelta64(1, "D")
        # the month's weekdays, except in the spell's first and last months, which count
        # their own weekdays; each times the spell's fte share
        lengths = hi - lo + 1
        ends = np.cumsum(lengths)
        month = _expand(lo, lengths)
        days = self.weekdays[month]
        first_end = np.minimum(month_start(lo + self.first + 1), e + one_day)
        days[ends - lengths] = np.busday_count(s, first_end)
        multi = lengths > 1
        days[ends[multi] - 1] = np.busday_count(month_start(hi[multi] + self.first), e[multi] + one_day)
        cells = np.repeat(rows * self.n_months, lengths) + month
        return cells, days * np.repeat(f, lengths)


def cap_workdays(total: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Summed spell workdays rounded at 1e-10 and capped at the month's weekdays.

    Rounding makes the sum independent of the order spells are added in (fte has at most
    two decimals, so no true value lies near a rounding tie).

    >>> cap_workdays(np.array([0.1 + 0.2, 25.0]), np.array([21.0, 21.0])).tolist()
    [0.3, 21.0]
    """
    total = np.round(total.astype(np.float64, copy=False), 10)
    return np.minimum(total, weekdays, out=total)


def _expand(first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``first[i], first[i] + 1, ..., first[i] + lengths[i] - 1`` for every i, concatenated."""
    first = np.asarray(first, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    keep = lengths > 0
    first, lengths = first[keep], lengths[keep]
    offset = first - (np.cumsum(lengths) - lengths)
    return np.repeat(offset, lengths) + np.arange(lengths.sum(), dtype=np.int64)


def age_at_month_start(birth_mid: np.ndarray, birth_day: np.ndarray, month_ids: np.ndarray) -> np.ndarray:
    """Completed years of age on the first day of each month (persons x months)."""
    diff = month_ids[None, :] - birth_mid[:, None]
    return (diff - (birth_day[:, None] > 1)) // 12
