"""Hand validated columns to pandas without extra copies.

Two costs dominate turning a validated 20-million-row table into a DataFrame, and both are
avoidable:

* ``pandas.DataFrame(dict)`` consolidates columns of one dtype into a 2-D block, copying
  every value (and, for object columns, touching every reference count) once more.
  :func:`assemble_frame` instead gives each column its own block, as
  ``pyarrow.Table.to_pandas(split_blocks=True)`` does, so the frame shares the arrays it was
  built from. pandas consolidates later only if an operation asks for it.
* ``pyarrow.ChunkedArray.take`` concatenates all chunks first, which for dictionary columns
  (text read from Parquet, see :mod:`.readers`) means unifying every chunk's dictionary.
  :func:`take_rows` takes the few rows it needs chunk by chunk.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> df = assemble_frame({"id": np.array(["a", "b"], dtype=object), "x": np.array([1.0, 2.0])})
>>> df.dtypes.astype(str).tolist()
['object', 'float64']
>>> parts = [pa.array(["x", "y"]).dictionary_encode(), pa.array(["z"]).dictionary_encode()]
>>> t = pa.table({"c": pa.chunked_array(parts)})
>>> take_rows(t, np.array([0, 2]))["c"].tolist()
['x', 'z']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def assemble_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A DataFrame with one block per column that shares the given 1-D arrays.

    Parameters
    ----------
    columns : dict of str to ndarray
        Equal-length 1-D NumPy arrays (object, datetime64[ns], float64, int64, ...).

    Returns
    -------
    DataFrame
        Equal to ``pandas.DataFrame(columns)`` (same values, dtypes and RangeIndex), except
        that object columns stay object on pandas 3 (whose constructor infers ``str``).
    """
    arrays = [np.asarray(v) for v in columns.values()]
    n = len(arrays[0]) if arrays else 0
    if not arrays or any(a.ndim != 1 or len(a) != n for a in arrays):
        return pd.DataFrame(columns)
    try:  # pandas >= 3: the public block constructor (make_block below is deprecated there)
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:
        pass
    else:
        return create_dataframe_from_blocks(
            [(a.reshape(1, n), np.array([i])) for i, a in enumerate(arrays)],
            index=pd.RangeIndex(n), columns=pd.Index(list(columns)))
    try:  # the block API pyarrow uses for to_pandas; fall back to the public constructor
        from pandas.core.internals import BlockManager
        from pandas.core.internals.api import make_block

        blocks = [make_block(a.reshape(1, n), placement=[i], ndim=2) for i, a in enumerate(arrays)]
        mgr = BlockManager(blocks, [pd.Index(list(columns)), pd.RangeIndex(n)])
        return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
    except Exception:  # pragma: no cover - only on a pandas without this internal API
        return pd.DataFrame(columns)


def plain(col: pa.Array | pa.ChunkedArray):
    """The column with dictionary encoding undone (values as delivered)."""
    if pa.types.is_dictionary(col.type):
        return col.cast(col.type.value_type)
    return col


def take_rows(table: pa.Table, rows: np.ndarray) -> pd.DataFrame:
    """Rows ``rows`` (ascending positions) of ``table`` as a DataFrame of plain values.

    Text comes back as ``str`` (``None`` for null), never as categoricals that would carry
    every distinct value (every person id) of the whole table along.
    """
    rows = np.asarray(rows, np.int64)
    out = {}
    for name, col in zip(table.column_names, table.columns):
        bounds = np.cumsum([0] + [len(ch) for ch in col.chunks])
        which = np.searchsorted(bounds, rows, side="right") - 1
        parts = []
        for k in np.unique(which):
            local = rows[which == k] - bounds[k]
            parts.append(plain(col.chunks[k].take(pa.array(local, pa.int64()))))
        value_type = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        arr = pa.chunked_array(parts, value_type) if parts else pa.chunked_array([], value_type)
        try:
            if pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
                # str objects and None, as on pandas 2 (pandas 3 would infer its str dtype)
                out[name] = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
            else:
                out[name] = arr.to_pandas()
        except (ValueError, OverflowError, pa.ArrowException):
            # a date past year 9999 (Parquet date32 holds ±5.8 million years) has no Python or
            # pandas value: write it as Arrow prints it
            out[name] = arr.cast(pa.string()).to_pandas()
    return pd.DataFrame(out)
