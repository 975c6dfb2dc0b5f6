"""Spell arithmetic on a person x month grid: the vectorised core of panel building.

A *grid* is a dense ``(n_persons, n_months)`` array for one partition of persons and a
contiguous range of calendar months starting at ``MonthGrid.first``. Spells become grid
values through difference arrays (``+1`` at the first month, ``-1`` after the last, cumulative
sum along months), so the cost is linear in spells plus grid cells and no Python loop runs over
persons or spells.

Definitions (SPEC section 4):

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
        return self.count(rows, start, end, first_day=first_day) > 0

    def assign(self, rows, start, end, values, *, first_day: bool = True, fill=-1) -> np.ndarray:
        """Value of the spell holding each month (later-starting spells win on overlap)."""
        rows = np.asarray(rows)
        lo, hi = self._range(start, end, first_day=first_day)
        values = np.asarray(values)
        order = np.argsort(as_datetime64(start), kind="stable")
        rows, lo, hi, values = rows[order], lo[order], hi[order], values[order]
        ok = lo <= hi
        rows, lo, hi, values = rows[ok], lo[ok], hi[ok], values[ok]
        lengths = hi - lo + 1
        out = np.full((self.n_persons, self.n_months), fill, dtype=values.dtype if values.size else np.int64)
        if lengths.sum() == 0:
            return out
        base = np.repeat(rows * self.n_months + lo, lengths)
        offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out.reshape(-1)[base + offset] = np.repeat(values, lengths)
        return out

    def workdays(self, rows, start, end, fte) -> np.ndarray:
        """FTE-weighted weekdays worked per person-month, capped at the month's weekdays."""
        rows = np.asarray(rows)
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
        one_day = np.timedelta64(1, "D")
        size = self.n_persons * self.n_months
        same = lo == hi
        # spells within one month: their own weekday count
        part = np.bincount(rows[same] * self.n_months + lo[same],
                           weights=np.busday_count(s[same], e[same] + one_day) * f[same],
                           minlength=size).astype(np.float64)
        m = ~same
        first_end = month_start(lo[m] + self.first + 1)
        last_start = month_start(hi[m] + self.first)
        part += np.bincount(rows[m] * self.n_months + lo[m],
                            weights=np.busday_count(s[m], first_end) * f[m], minlength=size)
        part += np.bincount(rows[m] * self.n_months + hi[m],
                            weights=np.busday_count(last_start, e[m] + one_day) * f[m], minlength=size)
        # whole months strictly inside a spell: fte rate x weekdays of the month
        rate = self._diff_count(rows[m], lo[m] + 1, hi[m] - 1, weights=f[m])
        total = part.reshape(self.n_persons, self.n_months) + rate * self.weekdays
        return np.minimum(np.round(total, 10), self.weekdays)


def age_at_month_start(birth_mid: np.ndarray, birth_day: np.ndarray, month_ids: np.ndarray) -> np.ndarray:
    """Completed years of age on the first day of each month (persons x months)."""
    diff = month_ids[None, :] - birth_mid[:, None]
    return (diff - (birth_day[:, None] > 1)) // 12
