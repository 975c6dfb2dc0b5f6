"""Spell merging, vectorised: duplicates, overlaps and touching spells become one spell.

Two spells of the same group (same person and, for benefits, the same benefit and grade)
are merged when they overlap or *touch*: the next spell starts on or before the day after the
previous one ends (``next start <= previous end + 1 day``). An empty end (``NaT``) is an open
spell and covers every later day. A merged spell keeps the first row's other columns, the
earliest start and the latest end of its members.

The work is done on integer day numbers with NumPy: one sort by (group, start), a running
maximum of the end date offset by the group number (so that one global
``np.maximum.accumulate`` acts as a per-group running maximum) and a cumulative sum of
"starts a new spell" flags. No per-row Python loop.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"person_id": ["a", "a", "a"], "benefit": ["sickness"] * 3,
...                    "start_date": pd.to_datetime(["2010-01-01", "2010-02-01", "2011-01-01"]),
...                    "end_date": pd.to_datetime(["2010-01-31", "2010-03-31", None])})
>>> merged, n = merge_spells(df, by=["person_id", "benefit"])
>>> n, merged["end_date"].astype(str).tolist()
(1, ['2010-03-31', 'NaT'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_NAT = np.iinfo(np.int64).min


def group_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Dense int64 group numbers for the combination of several key arrays.

    Missing values (None/NaN) form a group of their own, so a spell without a grade only
    merges with other spells without a grade.
    """
    code = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    for col in columns:
        c, uniques = pd.factorize(col, use_na_sentinel=False)
        k = max(len(uniques), 1)
        code = code * k + c.astype(np.int64)
        if len(code) and code.max() > 2**40:  # keep the product of group counts far from overflow
            code = pd.factorize(code)[0].astype(np.int64)
    return code


def merge_days(code: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Core of :func:`merge_spells` on integer day numbers.

    Parameters
    ----------
    code : int64 array
        Group of each spell (see :func:`group_codes`).
    start, end : int64 arrays
        Day numbers; ``end`` may hold the NaT integer (``np.iinfo(np.int64).min``) for an
        open end. ``start`` must not be NaT.

    Returns
    -------
    first : int64 array
        Row positions (into the input) of the first member of each merged spell, ordered by
        group then start.
    new_end : int64 array
        End day of each merged spell (NaT integer when open).
    """
    n = len(code)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    code = np.asarray(code, np.int64)
    start = np.asarray(start, np.int64)
    end = np.asarray(end, np.int64)
    open_ = end == _NAT
    lo = start.min()
    hi = max(start.max(), end.max())  # the NaT integer is below every day: open ends drop out
    sentinel = hi - lo + 2  # beyond every real end + 1: an open end covers all later starts
    span = sentinel + 2
    s_rel = start - lo
    e_rel = np.where(open_, sentinel, end - lo)
    key = code * span + s_rel
    if n > 1 and not (np.diff(key) >= 0).all():  # deliveries are often already sorted
        order = np.argsort(key, kind="stable")
        code, s_rel, e_rel = code[order], s_rel[order], e_rel[order]
    else:
        order = None
    base = code * span
    reach = np.maximum.accumulate(base + e_rel)  # running max end within the group
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (code[1:] != code[:-1]) | (base[1:] + s_rel[1:] > reach[:-1] + 1)
    first_sorted = np.flatnonzero(new)
    last_sorted = np.r_[first_sorted[1:] - 1, n - 1]
    e_new = reach[last_sorted] - base[last_sorted]
    new_end = np.where(e_new >= sentinel, _NAT, e_new + lo)
    first = first_sorted if order is None else order[first_sorted]
    return first.astype(np.int64, copy=False), new_end.astype(np.int64, copy=False)


def merge_days_blocks(code: np.ndarray, start: np.ndarray, end: np.ndarray, *,
                      workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """:func:`merge_days` on contiguous blocks of rows, side by side in threads.

    Deliveries come sorted by person, so the rows split into blocks whose groups do not
    overlap (every group number in one block is below every group number in the next).
    Merging each block alone then gives exactly the result of one global merge -- the same
    spells, in the same order, with the same first member -- and NumPy's sort and gathers
    release the GIL, so two cores share the work. Without such a split (unsorted input) this
    is one :func:`merge_days` call.

    Examples
    --------
    >>> code = np.array([0, 0, 1, 1, 2, 2])
    >>> start = np.array([0, 5, 0, 9, 3, 1])
    >>> end = np.array([5, 8, 2, 9, 4, 1])
    >>> [a.tolist() for a in merge_days_blocks(code, start, end)] == [a.tolist() for a in merge_days(code, start, end)]
    True
    """
    n = len(code)
    code = np.asarray(code, np.int64)
    if workers < 2 or n < 2 * workers:
        return merge_days(code, start, end)
    # a cut before row j is clean if every group number before it is below every one after it
    before = np.maximum.accumulate(code)[:-1]
    after = np.minimum.accumulate(code[::-1])[::-1][1:]
    clean = np.flatnonzero(before < after) + 1
    cuts = [0]
    for i in range(1, workers):
        at = np.searchsorted(clean, n * i // workers)
        if at < len(clean) and clean[at] > cuts[-1] and clean[at] < n:
            cuts.append(int(clean[at]))
    cuts.append(n)
    if len(cuts) == 2:
        return merge_days(code, start, end)
    from concurrent.futures import ThreadPoolExecutor

    blocks = list(zip(cuts[:-1], cuts[1:]))
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        parts = list(pool.map(lambda ab: merge_days(code[ab[0]:ab[1]], start[ab[0]:ab[1]], end[ab[0]:ab[1]]),
                              blocks))
    first = np.concatenate([f + a for (f, _), (a, _) in zip(parts, blocks)])
    return first, np.concatenate([e for _, e in parts])


def to_days(values) -> np.ndarray:
    """datetime-like array -> int64 day numbers (NaT -> ``np.iinfo(np.int64).min``)."""
    arr = np.asarray(values, dtype="datetime64[D]")
    return arr.view(np.int64)


def from_days(days: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """int64 day numbers (NaT integer allowed) -> datetime64[ns].

    ``inplace=True`` converts an int64 array the caller owns in its own memory (no second
    table-sized array) and returns a ``datetime64[ns]`` view of it.
    """
    if not inplace:
        return np.asarray(days, np.int64).view("datetime64[D]").astype("datetime64[ns]")
    if days.dtype != np.int64:
        raise TypeError("from_days(inplace=True) needs an int64 array")
    np.multiply(days, 86_400_000_000_000, out=days, where=days != _NAT)  # NaT stays NaT
    return days.view("datetime64[ns]")


def merge_spells(df: pd.DataFrame, *, by: Sequence[str], start: str = "start_date",
                 end: str = "end_date") -> tuple[pd.DataFrame, int]:
    """Merge duplicate, overlapping and touching spells within groups.

    Parameters
    ----------
    df : DataFrame
        Spells with datetime ``start`` (no missing values) and ``end`` (``NaT`` = open).
    by : sequence of str
        Columns defining a group (e.g. ``["person_id", "benefit", "grade"]``); missing values
        in a key form their own group.
    start, end : str
        Names of the start and end columns.

    Returns
    -------
    merged : DataFrame
        One row per merged spell, in the input order of its earliest-starting member (whose
        other columns it keeps), with a fresh RangeIndex.
    n_merged : int
        Number of input rows folded into another row (``len(df) - len(merged)``).

    Examples
    --------
    >>> df = pd.DataFrame({"id": ["a", "a"], "start_date": pd.to_datetime(["2010-01-01", "2010-01-11"]),
    ...                    "end_date": pd.to_datetime(["2010-01-10", "2010-01-20"])})
    >>> merge_spells(df, by=["id"])[1]
    1
    """
    if df[start].isna().any():
        raise ValueError(f"merge_spells: column {start!r} has missing values")
    code = group_codes([df[c].to_numpy() for c in by]) if by else np.zeros(len(df), np.int64)
    first, new_end = merge_days(code, to_days(df[start]), to_days(df[end]))
    order = np.argsort(first, kind="stable")  # keep input order: makes merging idempotent
    first, new_end = first[order], new_end[order]
    out = df.iloc[first].reset_index(drop=True)
    out[end] = pd.Series(from_days(new_end), index=out.index)
    if isinstance(df[end].dtype, pd.DatetimeTZDtype):
        out[end] = out[end].dt.tz_localize(df[end].dt.tz)
    return out, len(df) - len(out)


def truncate_residence(code: np.ndarray, start: np.ndarray, end: np.ndarray,
                       muni: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """End each residence spell the day before the person's next move to another municipality.

    A person lives in one municipality at a time, and a move is registered as a new spell:
    an earlier spell that overlaps a later-starting spell in *another* municipality (a stale or
    missing end date) is cut back to the day before that spell starts. Spells in the same
    municipality are left for :func:`merge_days`. Spells of one person starting the same day
    in different municipalities must already be resolved (quarantined) by the caller.

    Parameters
    ----------
    code : int64 array
        Person number of each spell.
    start, end : int64 arrays
        Day numbers (NaT integer allowed in ``end``).
    muni : int64 array
        Municipality number of each spell.

    Returns
    -------
    new_end : int64 array
        End days in input order.
    truncated : bool array
        Spells that were cut back.

    Examples
    --------
    >>> e, t = truncate_residence(np.array([0, 0]), np.array([0, 10]), np.array([_NAT, _NAT]), np.array([1, 2]))
    >>> e.tolist()[0], t.tolist()
    (9, [True, False])
    """
    n = len(code)
    new_end = np.array(end, dtype=np.int64, copy=True)
    truncated = np.zeros(n, dtype=bool)
    if n < 2:
        return new_end, truncated
    order = np.lexsort((muni, start, code))
    c, s, e, m = code[order], start[order], new_end[order], muni[order]
    # a run is consecutive spells (in start order) of one person in one municipality; the first
    # spell of the next run is the next move
    run_start = np.r_[True, (c[1:] != c[:-1]) | (m[1:] != m[:-1])]
    run_first = np.flatnonzero(run_start)
    run = np.cumsum(run_start) - 1
    has_next = run + 1 < len(run_first)
    nxt = np.where(has_next, run_first[np.minimum(run + 1, len(run_first) - 1)], 0)
    cut = np.flatnonzero(has_next & (c[nxt] == c) & ((e == _NAT) | (e >= s[nxt])))
    e[cut] = s[nxt[cut]] - 1
    new_end[order] = e
    truncated[order[cut]] = True
    return new_end, truncated
