"""Compiled one-pass kernel for the rows of a person-month panel (numba).

:func:`fill_month_rows` writes every output column of one person partition in a single pass
over its persons: each person's benefit and work spells are spread over a month-sized scratch
row (in L1 cache), the calendar-year ``ltbd`` is counted from it, and then each included month
writes its row of all 24 columns; :func:`residence_grid` gives the municipality and alive
grids it reads. The NumPy formulation it replaces built each column in its
own pass over the rows (a boolean kinds x rows matrix, index gathers, ``bincount`` of the
workdays, conversions), about 120 ns of CPU a row against the kernel's few tens (measurements
in ``docs/benchmarks.md``, Panels).

The kernel releases the GIL (``nogil``), so the worker threads of :func:`ips_study.panel.iter_panel`
build partitions on all cores. It is compiled on first use and cached next to this file
(``cache=True``; see ``docs/dependencies.md`` for read-only installs).

Values equal the NumPy formulation exactly: spells are added in the same order (``workdays``
sums are bit-identical before rounding), rounding is ``rint(x * 1e10) / 1e10`` as in
``np.round(x, 10)``, and weekday counts use the closed form below, equal to
``np.busday_count``.

>>> _weekdays_before(4), _weekdays_before(11)   # Monday 1970-01-05, a week later
(0, 5)
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import njit

from .registers.schema import BENEFITS


def _compiled(fn):
    """``njit(cache=True, nogil=True)``; without a writable cache location (a read-only
    install and a read-only home, no ``NUMBA_CACHE_DIR``) numba refuses ``cache=True``, so the
    kernel is then compiled in every process instead (a few seconds on first use)."""
    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:   # numba: "cannot cache function ...: no locator available"
        # one message (same text and line: the default warning filter shows it once)
        warnings.warn("ips_study's panel kernel cannot be cached next to the package or in the home "
                      "directory; it is compiled in each process (a few seconds). Set NUMBA_CACHE_DIR "
                      "to a writable directory to keep it.", RuntimeWarning, stacklevel=1)
        return njit(nogil=True)(fn)


#: int64 view of ``NaT``
NAT = np.iinfo(np.int64).min
#: rows of the output blocks (see :func:`fill_month_rows`)
CODE_ROWS = ("person_id", "period", "municipality", "sex", "current_municipality")
INT_ROWS = ("period_start", "ips_start")
SHORT_ROWS = ("event_time", "age")
#: benefit kinds, one bit each in a uint8 (at most 8)
N_BENEFITS = len(BENEFITS)
#: 0/1 columns: the flags, then the month panel's indicator outcomes (int8, docs/panel.md)
FLAG_ROWS = ("treated", "post", "exposed",
             "disability", "work_assessment", "sickness", "unemployment", "social_assistance",
             "qualification", "health_benefit", "any_benefit", "employed", "ltbd")
FLOAT_ROWS = ("workdays",)


@_compiled
def _weekdays_before(day):
    """Weekdays (Mon-Fri) from Monday 1970-01-05 up to, not including, ``day`` (days since
    1970-01-01; negative before that Monday). ``busday_count(a, b) = f(b) - f(a)``."""
    x = day - 4
    return 5 * (x // 7) + min(x % 7, 5)


@_compiled
def residence_grid(n_persons, rows, lo, hi, start, code, birth, death, starts):
    """Municipality of residence on each month's first day and being alive, persons x months.

    ``rows``, ``lo``, ``hi``, ``start``, ``code``: residence spells sorted by person (person,
    first and last grid month holding the first day, start as int64 ns, municipality code).
    Where spells overlap, the later-starting one wins, and of two starting the same day the
    later in table order (as a stable sort by start followed by writes in that order).
    ``birth``, ``death``: int64 ns per person (``NAT``: unknown birth, no death); ``starts``:
    first day of each month, int64 ns. Returns ``(muni int32, alive bool)``; -1: no residence.
    """
    n_m = len(starts)
    muni = np.full((n_persons, n_m), -1, np.int32)
    alive = np.empty((n_persons, n_m), np.bool_)
    best = np.empty(n_m, np.int64)     # start of the spell holding each month so far
    s = 0
    for p in range(n_persons):
        best[:] = NAT
        while s < len(rows) and rows[s] == p:
            for m in range(lo[s], hi[s] + 1):
                if start[s] >= best[m]:
                    best[m] = start[s]
                    muni[p, m] = code[s]
            s += 1
        b, d = birth[p], death[p]
        for m in range(n_m):
            alive[p, m] = b != NAT and b <= starts[m] and (d == NAT or d >= starts[m])
    if s != len(rows):
        raise ValueError("residence spells must be sorted by person row within the partition")
    return muni, alive


@_compiled
def count_rows(include):
    """First output row of each person (length ``persons + 1``: the last entry is the total)."""
    n_p, n_m = include.shape
    start = np.empty(n_p + 1, np.int64)
    r = 0
    for p in range(n_p):
        start[p] = r
        for m in range(n_m):
            r += include[p, m]
    start[n_p] = r
    return start


@_compiled
def fill_month_rows(include, observed, muni, base_muni, row_start,
                    ben_rows, ben_lo, ben_hi, ben_kind, health_bits,
                    work_rows, work_lo, work_hi, work_s, work_e, work_f,
                    month_day, weekdays, year_first, year_col, ltbd_months,
                    age_offset, sex_code, starts_ns, post_m, event_m, ips_ns, treated_code,
                    codes, ints, shorts, flags, floats):
    """Write the rows of one partition into the output blocks.

    Parameters (``P`` persons, ``M`` months of the grid, ``n`` = ``row_start[-1]`` rows)
    ----------
    include, observed : bool (P, M)
        Person-months in the panel; person-months observed (``ltbd`` counts these).
    muni : int32 (P, M)
        Municipality code of residence on each month's first day (-1: none).
    base_muni : int32 (P,) or empty
        Closed cohort: the baseline municipality, which then labels every row (``muni`` goes
        to ``current_municipality``); empty for the open design.
    row_start : int64 (P + 1,)
        From :func:`count_rows`.
    ben_rows, ben_lo, ben_hi, ben_kind
        Benefit spells sorted by person: person, first and last grid month covered (any
        day), kind (index into ``BENEFITS``, -1 unknown: ignored).
    health_bits : int
        Bit mask of the health benefits' kinds.
    work_rows, work_lo, work_hi, work_s, work_e, work_f
        Work spells sorted by person, cut to the grid: person, first and last grid month,
        first and last day (days since 1970-01-01), FTE share.
    month_day : int64 (M + 1,)
        First day of each grid month and of the month after.
    weekdays : float64 (M,)
        Weekdays of each month (the cap of ``workdays``).
    year_first, year_col
        First grid month of each calendar year; calendar year (index) of each month.
    age_offset : int64 (P,)
        Completed months of age at grid month 0 (age = ``(offset + m) // 12``).
    sex_code : int32 (P,)
    starts_ns, post_m, event_m : (M,)
        Period start (ns), post-period flag, event time of each month.
    ips_ns : int64 (codes,)
        IPS start of each municipality code (ns, ``NAT`` when none).
    codes, ints, shorts, flags, floats : output blocks
        int32 ``(4 or 5, n)``, int64 ``(2, n)``, int16 ``(2, n)``, int8 ``(13, n)``, float64
        ``(1, n)`` in the orders :data:`CODE_ROWS`, :data:`INT_ROWS`, :data:`SHORT_ROWS`,
        :data:`FLAG_ROWS`, :data:`FLOAT_ROWS`: 57 bytes a row (open design).
    """
    n_p, n_m = include.shape
    n_y = len(year_first)
    closed = len(base_muni) > 0
    bits = np.zeros(n_m, np.uint8)      # benefit kinds of each month, one bit a kind
    employed = np.zeros(n_m, np.uint8)
    days = np.zeros(n_m, np.float64)    # FTE-weighted weekdays summed over work spells
    ltbd = np.zeros(n_y, np.int8)
    b = 0
    w = 0
    for p in range(n_p):
        bits[:] = 0
        employed[:] = 0
        days[:] = 0.0
        while b < len(ben_rows) and ben_rows[b] == p:
            k = ben_kind[b]
            if k >= 0:
                for m in range(ben_lo[b], ben_hi[b] + 1):
                    bits[m] |= np.uint8(1 << k)
            b += 1
        while w < len(work_rows) and work_rows[w] == p:
            lo, hi = work_lo[w], work_hi[w]
            for m in range(lo, hi + 1):
                # the spell's own first and last days in its first and last months
                a = work_s[w] if m == lo else month_day[m]
                z = work_e[w] + 1 if m == hi else month_day[m + 1]
                employed[m] = 1
                days[m] += float(_weekdays_before(z) - _weekdays_before(a)) * work_f[w]
            w += 1
        for j in range(n_y):
            hi = year_first[j + 1] if j + 1 < n_y else n_m
            c = 0
            for m in range(year_first[j], hi):
                if observed[p, m] and (bits[m] & health_bits) != 0:
                    c += 1
            ltbd[j] = 1 if c >= ltbd_months else 0
        r = row_start[p]
        for m in range(n_m):
            if not include[p, m]:
                continue
            mu = base_muni[p] if closed else muni[p, m]
            codes[0, r] = p
            codes[1, r] = m
            codes[2, r] = mu
            codes[3, r] = sex_code[p]
            if closed:
                codes[4, r] = muni[p, m]
            ps = starts_ns[m]
            ip = ips_ns[mu]
            ints[0, r] = ps
            ints[1, r] = ip
            shorts[0, r] = event_m[m]
            shorts[1, r] = (age_offset[p] + m) // 12
            flags[0, r] = mu == treated_code
            flags[1, r] = post_m[m]
            flags[2, r] = ip != NAT and ip <= ps
            bb = bits[m]
            for k in range(N_BENEFITS):
                flags[3 + k, r] = (bb >> k) & 1
            flags[9, r] = 1 if (bb & health_bits) != 0 else 0
            flags[10, r] = 1 if bb != 0 else 0
            flags[11, r] = employed[m]
            flags[12, r] = ltbd[year_col[m]]
            # np.round(x, 10), then the month's weekdays as the cap
            floats[0, r] = min(np.rint(days[m] * 1e10) / 1e10, weekdays[m])
            r += 1
    if b != len(ben_rows) or w != len(work_rows):
        raise ValueError("benefit and work spells must be sorted by person row within the partition")
