"""Integer codes kept in their column's own narrow type until all rows are needed as intp.

A 20-million-row person-month panel has its period and municipality as categoricals (1- and
2-byte codes) and its person ids as sorted 4-byte integers. Widening each to the 8-byte
``intp`` that ``bincount`` and ``take`` want makes a new 160 MB array per column, and on a
virtual machine the first touch of fresh memory costs more than the arithmetic on it. A
:class:`NarrowCodes` holds the raw column and the map to dense codes; the TWFE fit reads it
block by block (:meth:`NarrowCodes.block`), and any other caller gets the intp array through
:meth:`NarrowCodes.full` (built once) or ``np.asarray``.

Examples
--------
>>> import numpy as np
>>> c = NarrowCodes(np.array([3, 3, 5], dtype=np.int8), 3, offset=3)
>>> c.block(1, 3).tolist(), np.asarray(c).dtype == np.intp, c[[0, 2]].tolist()
([0, 2], True, [0, 2])
"""

from __future__ import annotations

import numpy as np

#: rows per block when narrow codes are counted or widened
BLOCK = 1 << 18


class NarrowCodes:
    """Dense codes ``0..n_levels-1`` of a column: ``table[raw]`` or ``raw - offset``.

    Parameters
    ----------
    raw : (n,) integer array of any width (a view of the column, not copied)
    n_levels : number of codes
    table : optional (max(raw) + 1,) intp map from raw values to codes
    offset : subtracted from ``raw`` when there is no table
    """

    def __init__(self, raw: np.ndarray, n_levels: int, table: np.ndarray | None = None,
                 offset: int = 0) -> None:
        self.raw = raw
        self.n_levels = int(n_levels)
        self.table = None if table is None else np.asarray(table, dtype=np.intp)
        self.offset = int(offset)
        self._full = None
        if table is None and offset == 0 and raw.dtype == np.intp:
            # the raw column already is the codes: a read-only view, so no caller can write
            # into the column it came from
            self._full = raw.view()
            self._full.flags.writeable = False

    def __len__(self) -> int:
        return len(self.raw)

    def _map(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if self.table is not None:
            return np.take(self.table, x, out=out, mode="clip")
        return np.subtract(x, self.offset, out=out, dtype=np.intp)

    def block(self, lo: int, hi: int) -> np.ndarray:
        """intp codes of rows ``lo:hi`` (a view when already intp)."""
        if self._full is not None:
            return self._full[lo:hi]
        return self._map(self.raw[lo:hi])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice) and key.step in (None, 1):
            lo, hi, _ = key.indices(len(self))
            return self.block(lo, hi)
        if self._full is not None:
            return self._full[key]
        return self._map(self.raw[key])

    def full(self) -> np.ndarray:
        """All codes as one intp array (built on first use, block by block)."""
        if self._full is None:
            out = np.empty(len(self.raw), dtype=np.intp)
            for lo in range(0, len(self.raw), BLOCK):
                self._map(self.raw[lo:lo + BLOCK], out=out[lo:lo + BLOCK])
            self._full = out
        return self._full

    def __array__(self, dtype=None, copy=None):
        full = self.full()
        return full if dtype is None else full.astype(dtype, copy=False)

    def bincount(self, weights: np.ndarray | None = None) -> np.ndarray:
        """``np.bincount(codes, weights, minlength=n_levels)`` without widening every row."""
        if self._full is not None:
            return np.bincount(self._full, weights=weights, minlength=self.n_levels)
        out = np.zeros(self.n_levels, dtype=np.intp if weights is None else float)
        for lo in range(0, len(self.raw), BLOCK):
            w = None if weights is None else weights[lo:lo + BLOCK]
            out += np.bincount(self.block(lo, lo + BLOCK), weights=w, minlength=self.n_levels)
        return out

    def same(self, other) -> bool:
        """True when ``other`` holds the same codes by construction (same raw column and map)."""
        if other is self:
            return True
        return (isinstance(other, NarrowCodes) and other.raw is self.raw
                and other.offset == self.offset and (
                    other.table is self.table or (other.table is not None
                                                  and self.table is not None
                                                  and np.array_equal(other.table, self.table))))


def as_codes(x, n_levels: int | None = None) -> NarrowCodes:
    """``x`` as :class:`NarrowCodes` (an intp array is wrapped, not copied)."""
    if isinstance(x, NarrowCodes):
        return x
    a = np.asarray(x, dtype=np.intp)
    if n_levels is None:
        n_levels = int(a.max()) + 1 if len(a) else 0
    return NarrowCodes(a, n_levels)
