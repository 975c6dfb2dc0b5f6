"""Work on blocks of rows (spell merging in person blocks, counts): small working arrays
instead of table-sized ones.

Merging the spells of a 20-million-row table with whole-table NumPy operations creates a few
dozen temporary arrays of 160 MB each. Fresh memory is not free: the kernel must zero every
page it hands out, and on virtual machines the host must back it too. Measured on the project
machine (docs/benchmarks.md), that cost -- system time, not computation -- was 12 of the 20 CPU
seconds of reading the benchmark delivery.

A delivery sorted by person splits into blocks of about a hundred thousand rows that hold
whole persons. Each block is merged alone (group numbers, gathers, sort, running maximum) with
working arrays of a few megabytes, which the allocator hands back and forth without going to
the kernel, and two threads take blocks side by side (NumPy releases the GIL). The result is
exactly that of one merge over the whole table: spells never cross persons, group numbers are
numbered as in :func:`ips_study.registers.validate._group`, and blocks come in person order.
A table that is not sorted by person (:func:`person_blocks` returns ``None``; a delivery with a
few rows out of place is enough) is first put in person order by a stable sort of its person
numbers, and the blocks are cut from that order.

Example
-------
>>> person = np.array([0, 0, 1, 1, 1, 2, 3, 3])
>>> person_blocks(person, np.ones(8, bool), size=3)
[(0, 5), (5, 8)]
>>> person_blocks(np.array([1, 0]), np.ones(2, bool), size=3) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .spells import merge_days

#: rows per block: working arrays of about a megabyte each
BLOCK_ROWS = 1 << 17


def person_blocks(person: np.ndarray, ok: np.ndarray, size: int | None = None) -> list[tuple[int, int]] | None:
    """Cut the table into blocks of about ``size`` rows that never split a person's rows.

    Parameters
    ----------
    person : int array
        Person number of every row of the table.
    ok : bool array
        The rows to merge (the others are ignored, wherever they are).
    size : int, optional
        Target block length (default :data:`BLOCK_ROWS`).

    Returns
    -------
    list of (start, stop) or None
        Half-open row ranges covering the table; ``None`` if the person numbers of the ``ok``
        rows are not in ascending order (then no such cut exists in general).
    """
    n = len(person)
    size = size or BLOCK_ROWS
    last = None
    for a in range(0, n, size):  # ascending order, checked a block at a time
        p = person[a:a + size][ok[a:a + size]]
        if not len(p):
            continue
        if (last is not None and p[0] < last) or (p[1:] < p[:-1]).any():
            return None
        last = p[-1]
    blocks, a = [], 0
    while a + size < n:
        cut = a + size
        mine = np.flatnonzero(ok[a:cut])
        if len(mine):  # move the cut past the rest of the last person's rows
            v = person[a + mine[-1]]
            width = 1024
            while True:
                later = np.flatnonzero(ok[cut:cut + width] & (person[cut:cut + width] > v))
                if len(later) or cut + width >= n:
                    cut += int(later[0]) if len(later) else n - cut
                    break
                width *= 4
        if cut >= n:
            break
        blocks.append((a, cut))
        a = cut
    blocks.append((a, n))
    return blocks


def counts(values: np.ndarray, k: int, size: int | None = None) -> np.ndarray:
    """How many of ``values`` equal each of ``0 .. k-1`` (negative values are not counted).

    ``numpy.bincount`` first copies its input to int64; block by block that copy stays small.
    With more possible values than rows in a block (ids), one count over all values is cheaper.
    """
    size = size or BLOCK_ROWS
    if k > size:
        return np.bincount(values[values >= 0], minlength=k)
    out = np.zeros(k, np.int64)
    for a in range(0, len(values), size):
        b = values[a:a + size]
        out += np.bincount(b[b >= 0], minlength=k)
    return out


def first_appearance_index(values: np.ndarray, ok: np.ndarray, size: int | None = None,
                           workers: int = 1) -> pd.Index:
    """Distinct ``values[ok]`` in order of first appearance (NaN included), found blockwise.

    The same order ``pandas.factorize(values[ok], use_na_sentinel=False)`` gives, without
    materialising ``values[ok]``; the blocks' distinct values are found side by side in
    ``workers`` threads and combined in block order.
    """
    size = size or BLOCK_ROWS
    starts = range(0, len(values), size)

    def distinct(a):
        return pd.unique(values[a:a + size][ok[a:a + size]])

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(distinct, starts))
    else:
        parts = [distinct(a) for a in starts]
    index = pd.Index(values[:0])
    for u in parts:
        new = u[index.get_indexer(u) < 0]
        if len(new):
            index = index.append(pd.Index(new))
    return index


class GroupKey:
    """One key column of a spell group, coded the way :func:`~.validate._group` codes it.

    ``codes`` + ``k``: text codes (``-1`` = missing, which becomes its own group ``k - 1``);
    ``values`` + ``index``: numbers numbered by first appearance among the merged rows.
    """

    def __init__(self, *, codes: np.ndarray | None = None, n_values: int = 0,
                 values: np.ndarray | None = None, index: pd.Index | None = None):
        self.codes, self.values, self.index = codes, values, index
        self.k = n_values + 1 if codes is not None else max(len(index), 1)
        if codes is None:  # numbers: binary search in the sorted distinct values (NaN sorts last)
            self._sorted = np.sort(index.to_numpy())
            self._code = index.get_indexer(self._sorted).astype(np.int64)

    def at(self, rows: np.ndarray) -> np.ndarray:
        if self.codes is not None:
            c = self.codes[rows]
            return np.where(c < 0, self.k - 1, c)
        return self._code[np.searchsorted(self._sorted, self.values[rows])]


def merge_blocks(keys: Sequence[GroupKey], start: np.ndarray, end: np.ndarray, ok: np.ndarray | None,
                 blocks: list[tuple[int, int]], workers: int = 2, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Merge the spells of the ``ok`` rows block by block (see the module docstring).

    Parameters
    ----------
    keys : sequence of GroupKey
        Group columns, person first.
    start, end : int64 arrays
        Day numbers of every row of the table (``end`` may hold the NaT integer).
    ok : bool array or None
        Rows to merge, in a table sorted by person; ``blocks`` are ranges of table rows.
    blocks : list of (start, stop)
        From :func:`person_blocks`.
    workers : int
        Threads.
    rows : int array, optional
        Instead of ``ok``: the rows to merge ordered by person (rows of one person in table
        order); ``blocks`` are then ranges of positions into ``rows``.

    Returns
    -------
    list of (first, new_end)
        Per block, as :func:`~.spells.merge_days` returns them with ``first`` as table rows;
        :func:`concat_parts` joins them (left to the caller, who may free inputs first).
    """
    def one(block):
        a, b = block
        at = rows[a:b] if rows is not None else a + np.flatnonzero(ok[a:b])
        code = np.zeros(len(at), np.int64)
        for key in keys:
            code *= key.k
            code += key.at(at)
        first, new_end = merge_days(code, start[at], end[at])
        return at[first], new_end

    if len(blocks) > 1 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(one, blocks))
    else:
        parts = [one(b) for b in blocks]
    return parts


def concat_parts(parts) -> tuple[np.ndarray, np.ndarray]:
    """Join the blocks' ``(first, new_end)`` pieces returned by :func:`merge_blocks`."""
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate([f for f, _ in parts]), np.concatenate([e for _, e in parts])
