"""Membership of person ids in the persons table, without hashing when the ids allow it.

Every person-linked table is checked against the kept persons (``unknown_person``). Hashing
two million distinct ids costs about a second per table; person ids in a register delivery
are pseudonymous numbers of one fixed width, and the persons file is sorted by them. Then
the ids are a sorted array of fixed-width byte strings -- a zero-copy view of Arrow's data
buffer -- and membership is a binary search (``numpy.searchsorted``), about ten times
cheaper. Ids of mixed widths, with nulls, or unsorted take Arrow's hash lookup
(``pyarrow.compute.is_in``); both give the same answer.

Example
-------
>>> import pyarrow as pa
>>> known = KnownIds(pa.array(["p01", "p02", "p07"]))
>>> known.contains(pa.array(["p07", "p03"])).tolist(), known.method
([True, False], 'binary search')
>>> KnownIds(pa.array(["p2", "p10"])).contains(pa.array(["p10", "x"])).tolist()
[True, False]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def fixed_width(arr: pa.Array) -> np.ndarray | None:
    """The strings of ``arr`` as a NumPy ``S<width>`` view if all have one byte width.

    ``None`` when ``arr`` has nulls, is empty, or its values differ in byte length.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not len(arr) or arr.null_count or not pa.types.is_string(arr.type):
        return None
    offsets = np.frombuffer(arr.buffers()[1], np.int32, count=len(arr) + 1, offset=4 * arr.offset)
    width = int(offsets[1] - offsets[0])
    if width == 0 or not (np.diff(offsets) == width).all():
        return None
    return np.frombuffer(arr.buffers()[2], dtype=f"S{width}", count=len(arr), offset=int(offsets[0]))


class KnownIds:
    """The kept person ids, for :meth:`contains` lookups.

    Parameters
    ----------
    ids : pyarrow.Array of string
        Distinct person ids.
    """

    def __init__(self, ids: pa.Array):
        self.arrow = ids.cast(pa.string())
        self._sorted = fixed_width(self.arrow)
        if self._sorted is not None and len(self._sorted) > 1 and not (self._sorted[1:] > self._sorted[:-1]).all():
            self._sorted = None
        #: how :meth:`contains` decides for ids of the persons' width
        self.method = "binary search" if self._sorted is not None else "hash"

    #: birth and death day numbers of each id, in the order of ``ids`` (set by the loader)
    birth: np.ndarray | None = None
    death: np.ndarray | None = None

    def index(self, values: pa.Array) -> np.ndarray:
        """Position of each of ``values`` among the known ids (``-1``: unknown).

        >>> KnownIds(pa.array(["p01", "p02"])).index(pa.array(["p02", "p09"])).tolist()
        [1, -1]
        """
        values = values.cast(pa.string())
        if not len(values):
            return np.zeros(0, np.int64)
        if self._sorted is not None:
            query = fixed_width(values)
            if query is not None:
                if query.dtype != self._sorted.dtype:
                    return np.full(len(query), -1, np.int64)
                pos = np.minimum(np.searchsorted(self._sorted, query), len(self._sorted) - 1)
                return np.where(self._sorted[pos] == query, pos, -1).astype(np.int64)
        found = pc.index_in(values, value_set=self.arrow)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def contains(self, values: pa.Array) -> np.ndarray:
        """Boolean array: which of ``values`` (Arrow strings) are known ids."""
        return self.index(values) >= 0
