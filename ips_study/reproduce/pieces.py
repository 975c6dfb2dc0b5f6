"""A finished panel read in pieces of whole persons: cell sums and survival episodes.

``ips-study reproduce --partitions K`` writes each panel to the work area in the order of the
in-memory build (persons in the order of the ``persons`` file, each person's rows together).
What the analysis needs from the largest panels does not need every row at once:

* **cell sums** (:func:`panel_cells`): per municipality and period, the rows, and per
  outcome the sum and the number of non-missing values, plus the cell's constant columns.
  Sums and counts add over pieces; the means are divided once at the end
  (:func:`cells_to_aggregate`, the format of :func:`ips_study.panel.aggregate_panel`). The
  sums are added piece by piece, so a mean can differ from the whole-panel mean in its last
  bits (pandas adds a whole cell with compensated summation); the tests bound it at 1e-12.
* **survival episodes** (:class:`PanelEpisodes`): the survival designs turn the person-month
  panel into episodes ``(start, stop]`` person by person
  (:func:`ips_study.designs.survival.tte.build_tte`); built piece by piece and put in the
  whole build's order they are the same frame, about a fiftieth of the month panel's rows.

Every piece is read with only the columns it needs (Parquet column projection).

Example
-------
>>> import pandas as pd, tempfile, pathlib
>>> from ips_study.designs.register_panel import example_panel
>>> p = example_panel(n_controls=3, treated_size=5, seed=1).assign(post=0, exposed=0,
...     ips_start=pd.NaT, event_time=0)
>>> f = pathlib.Path(tempfile.mkdtemp()) / "panel.parquet"
>>> p.to_parquet(f, row_group_size=100)
>>> agg = cells_to_aggregate(panel_cells(f, rows=250))
>>> int(agg["n_persons"].sum()) == len(p)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from ips_study.panel import CELL_CONSTANTS, CELL_KEYS

#: cell keys and the columns constant within a cell, as :func:`ips_study.panel.aggregate_panel`
KEYS, FIRST = CELL_KEYS, CELL_CONSTANTS
#: identifiers read as text, as :func:`ips_study.panel.read_panel` does
_TEXT = ("person_id", "municipality", "period", "sex", "current_municipality")


def iter_person_pieces(path: str | Path, columns: Sequence[str] | None = None, *,
                       rows: int = 262_144) -> Iterator[pd.DataFrame]:
    """Yield a panel file in pieces of about ``rows`` rows, never splitting a person.

    The file must hold each person's rows together (every panel the package writes does).
    ``columns``: the columns to read (``person_id`` is always read).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    if columns is not None:
        columns = list(dict.fromkeys(["person_id", *columns]))
        missing = [c for c in columns if c not in source.schema_arrow.names]
        if missing:
            raise ValueError(f"panel {Path(path).name} lacks column(s) {', '.join(missing)}")
    carry = None
    for batch in _batches(source, columns, rows):
        table = pa.Table.from_batches([batch])
        if carry is not None:
            table = pa.concat_tables([carry, table])
        ids = table["person_id"].to_numpy(zero_copy_only=False)
        # the last person may go on in the next batch: hold their rows back
        cut = len(ids) - int(np.argmax(ids[::-1] != ids[-1])) if (ids != ids[-1]).any() else 0
        if cut == 0:
            carry = table
            continue
        yield _to_frame(table.slice(0, cut))
        carry = table.slice(cut)
    if carry is not None and carry.num_rows:
        yield _to_frame(carry)


def _batches(source, columns, rows: int):
    """Record batches of at most ``rows`` rows, one row group decoded at a time (a batch
    iterator reads ahead several row groups)."""
    for j in range(source.num_row_groups):
        yield from source.read_row_group(j, columns=columns, use_threads=False).to_batches(max_chunksize=rows)


def _to_frame(table) -> pd.DataFrame:
    df = table.replace_schema_metadata(None).to_pandas()
    for c in _TEXT:
        if c in df and not pd.api.types.is_object_dtype(df[c]):
            df[c] = df[c].astype(str)
    return df


# -- cell sums ------------------------------------------------------------------------------
def cell_sums(piece: pd.DataFrame, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per municipality x period: ``n_rows``, ``<outcome>__sum``, ``<outcome>__n`` and the
    first non-missing value of each :data:`FIRST` column."""
    from ips_study.panel import OUTCOMES

    outcomes = [c for c in (OUTCOMES if outcomes is None else outcomes) if c in piece]
    g = piece.groupby(KEYS, sort=True, observed=True)
    parts = {"n_rows": g.size()}
    for c in outcomes:
        parts[f"{c}__sum"] = g[c].sum()
        parts[f"{c}__n"] = g[c].count()
    out = pd.DataFrame(parts)
    first = [c for c in FIRST if c in piece]
    return g[first].first().join(out) if first else out


def add_cells(a: pd.DataFrame | None, b: pd.DataFrame) -> pd.DataFrame:
    """Cell sums of two pieces together: sums and counts added, first values kept."""
    if a is None:
        return b
    idx = a.index.union(b.index)
    a, b = a.reindex(idx), b.reindex(idx)
    out = pd.DataFrame(index=idx)
    for c in a.columns:
        if c == "n_rows" or c.endswith(("__sum", "__n")):
            out[c] = a[c].fillna(0).to_numpy() + b[c].fillna(0).to_numpy()
        else:   # a cell constant: the first piece that has it
            out[c] = a[c].where(a[c].notna(), b[c])
    return out


def panel_cells(path: str | Path, *, rows: int = 262_144) -> pd.DataFrame:
    """:func:`cell_sums` of a whole panel file, added piece by piece."""
    from ips_study.panel import OUTCOMES

    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    columns = [c for c in KEYS + FIRST + list(OUTCOMES) if c in names]
    cells = None
    for piece in iter_person_pieces(path, columns, rows=rows):
        cells = add_cells(cells, cell_sums(piece))
    if cells is None:
        raise ValueError(f"panel {Path(path).name} has no rows")
    return cells


def cells_to_aggregate(cells: pd.DataFrame, dtypes: dict | None = None) -> pd.DataFrame:
    """The :func:`ips_study.panel.aggregate_panel` frame from cell sums: each outcome's sum
    divided once by its count, ``n_persons`` the rows of the cell."""
    from ips_study.panel import OUTCOMES

    cells = cells.sort_index()
    out = cells[[c for c in FIRST if c in cells]].copy()
    for c in FIRST:
        if c in out and dtypes and c in dtypes:
            out[c] = out[c].astype(dtypes[c])
        elif c in ("treated", "post", "exposed") and c in out:
            out[c] = out[c].astype(np.int8)
        elif c == "event_time" and c in out:
            out[c] = out[c].astype(np.int64)
    out["n_persons"] = cells["n_rows"].astype(np.int64)
    for c in OUTCOMES:
        if f"{c}__sum" in cells:
            n = cells[f"{c}__n"].to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                out[c] = np.where(n > 0, cells[f"{c}__sum"].to_numpy() / n, np.nan)
    out = out.reset_index()
    return out[KEYS + [c for c in out.columns if c not in KEYS]]


# -- survival episodes ------------------------------------------------------------------------
class PanelEpisodes:
    """A person-month panel file standing in for the panel in the survival designs.

    The survival entry points (``fit_cox_panel`` and the others) ask a panel object with an
    ``episodes`` method for its episodes instead of building them from the whole panel; this
    one builds them piece by piece (:func:`iter_person_pieces`, only the columns
    :func:`~ips_study.designs.survival.tte.build_tte` reads) and returns them in the order the
    whole build gives (by person id, each person's episodes in time order).

    ``build_tte`` learns each municipality's IPS start from the index municipalities in the
    frame it is given; a piece is therefore grown until it has, as index municipality,
    every municipality with an IPS start in the whole panel, so that a person who moves to a
    municipality nobody in the piece started in is exposed as in the whole build.
    """

    def __init__(self, path: str | Path, *, rows: int = 262_144):
        self.path, self.rows = Path(path), rows
        self._built: dict[str, pd.DataFrame] = {}   # episodes by settings (small)

    def __len__(self) -> int:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).metadata.num_rows

    def _columns(self) -> list[str]:
        import pyarrow.parquet as pq

        from ips_study.designs.survival.tte import REQUIRED

        names = pq.ParquetFile(self.path).schema_arrow.names
        return list(REQUIRED) + [c for c in ("current_municipality", "ips_start") if c in names]

    def _started(self, frame: pd.DataFrame, config) -> set:
        """Index municipalities with an IPS start among the rows ``build_tte`` keeps."""
        if "ips_start" not in frame:
            return set()
        if config.design == "closed":
            frame = frame[pd.to_datetime(frame["period_start"]) >= config.baseline_date]
        return set(frame.loc[frame["ips_start"].notna(), "municipality"].unique())

    def episodes(self, config, **options) -> pd.DataFrame:
        """:func:`~ips_study.designs.survival.tte.build_tte` of the whole panel, built by pieces
        (once per settings; a copy each time)."""
        import json

        key = json.dumps([config.to_dict(), sorted(options.items())], sort_keys=True, default=repr)
        if key not in self._built:
            self._built[key] = self._build(config, options)
        return self._built[key].copy()

    def _build(self, config, options: dict) -> pd.DataFrame:
        from ips_study.designs.survival.tte import build_tte

        columns = self._columns()
        started: set = set()
        for piece in iter_person_pieces(self.path, ["municipality", "period_start", "ips_start"]
                                        if "ips_start" in columns else ["municipality"], rows=self.rows):
            started |= self._started(piece, config)
        parts, held = [], []
        for piece in iter_person_pieces(self.path, columns, rows=self.rows):
            held.append(piece)
            frame = held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)
            if not started <= self._started(frame, config):
                continue          # grow the piece (see the class docstring)
            held = []
            parts.append(_episodes_or_none(build_tte, frame, config, options))
        if held:
            frame = pd.concat(held, ignore_index=True)
            parts.append(_episodes_or_none(build_tte, frame, config, options))
        parts = [p for p in parts if p is not None]
        if not parts:  # as the whole build: nobody to follow
            return build_tte(pd.concat(held, ignore_index=True) if held else _empty(columns), config, **options)
        tte = pd.concat(parts, ignore_index=True)
        # the whole build sorts rows by person id (stably); each person is in one piece
        return tte.sort_values("person_id", kind="stable").reset_index(drop=True)


def _episodes_or_none(build_tte, frame, config, options):
    try:
        return build_tte(frame, config, **options)
    except ValueError as e:
        # a piece with no person-month to follow (the whole panel may still have some)
        if "no person-months to follow" in str(e):
            return None
        raise


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
