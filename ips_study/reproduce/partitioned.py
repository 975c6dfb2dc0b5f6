"""The reproduce run's inputs built through person partitions (``--partitions K``).

``ips-study reproduce --partitions K`` never holds the whole delivery in memory: the
delivery is split into ``K`` person partitions in the work area
(:func:`ips_study.registers.partition.split_by_person`); each partition is validated and
turned into panel rows in turn (:func:`~ips_study.registers.partition.iter_partitions`,
:func:`ips_study.panel.write_panel`), one partition in memory at a time. What the outputs
need from the registers themselves is gathered in the same way:

* the row accounting (table 1): the partitions' reports summed
  (:func:`~ips_study.registers.partition.combine_reports`);
* the participant flow (table 2, figure 1): counts of persons, summed over partitions
  (persons are in exactly one partition);
* the programme tables (``ips_caseload``, one row per job-seeker episode, and the
  non-person tables): small, gathered whole.

The panels are put back in the order of the in-memory build (persons in the order of the
``persons`` file, then periods) by merging the partitions' files in windows of persons
(:func:`merge_by_rank`), so every output is byte-identical to the in-memory run.

What is bounded and what is not: reading, validating, building and merging are bounded by
the persons of one partition (and a window of the merge). The analysis
(:mod:`ips_study.reproduce.pieces`, :class:`~ips_study.reproduce.context.Context`) reads
the month panel only in pieces of whole persons: the survival designs get its episodes
built piece by piece, and the municipality x period means are cell sums added over pieces.
The year panels are still read whole by the designs that take a person panel (descriptives,
the person-level DiD, synthetic control and SDID, staggered adoption, power): at 1.5 million
persons they have 0.7-1.1 million rows (100-250 MB), one in memory at a time.

Example
-------
>>> from ips_study.datasets import registers_dir
>>> from ips_study.config import StudyConfig
>>> import tempfile, pathlib
>>> d = PartitionedDelivery(registers_dir(), pathlib.Path(tempfile.mkdtemp()), StudyConfig(), 2)
>>> int(d.participant_flow()["total"].iloc[0])
60000
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class PartitionedDelivery:
    """A delivery split into ``n_parts`` person partitions under ``work`` (confidential).

    The split happens on first use; each method then makes one pass over the partitions.
    """

    def __init__(self, data: Path, work: Path, config, n_parts: int, *, quarantine_dir: Path | None = None):
        if int(n_parts) < 1:
            raise ValueError(f"--partitions must be at least 1, got {n_parts}")
        self.data, self.work, self.config, self.n_parts = Path(data), Path(work), config, int(n_parts)
        self.quarantine_dir = quarantine_dir
        self._parts: list[Path] | None = None
        self._scan: dict[str, Any] | None = None
        self._order = None   # pyarrow array of the person ids in file order

    # -- the split and one pass -------------------------------------------------------------
    @property
    def parts(self) -> list[Path]:
        """The partition folders (split on first use)."""
        if self._parts is None:
            from ips_study.registers.partition import split_by_person

            self._parts = split_by_person(self.data, self.work / f"partitions-{self.n_parts}",
                                          self.n_parts, columns=self.config.columns)
        return self._parts

    @property
    def parts_split(self) -> bool:
        """Whether the delivery has been split (by this object)."""
        return self._parts is not None

    def partitions(self):
        """Validate and yield each partition's :class:`~ips_study.registers.RegisterSet`."""
        from ips_study.registers.partition import iter_partitions

        return iter_partitions(self.parts, quarantine_dir=self.quarantine_dir, columns=self.config.columns)

    def _scanned(self) -> dict[str, Any]:
        """Row accounting, participant flow and the small tables, from one pass."""
        if self._scan is None:
            from ips_study.cohort import participant_flow
            from ips_study.registers.partition import combine_reports

            reports, flow, small = [], None, {}
            for rs in self.partitions():
                reports.append(rs.report)
                f = participant_flow(rs.tables, self.config)
                flow = f if flow is None else flow.assign(**{c: flow[c] + f[c] for c in _FLOW_COUNTS})
                for name, table in rs.tables.items():
                    if name in _GATHERED:
                        small.setdefault(name, []).append(table)
                    elif "person_id" not in table.columns and name not in small:
                        # every partition holds the same copy: keep the first only
                        small[name] = [table]
            tables = {n: (parts[0] if "person_id" not in parts[0].columns
                          else self._in_person_order(pd.concat(parts, ignore_index=True)))
                      for n, parts in small.items()}
            self._scan = {"report": combine_reports(reports), "flow": flow, "tables": tables}
        return self._scan

    # -- what the outputs ask for -------------------------------------------------------------
    @property
    def registers(self):
        """A :class:`~ips_study.registers.RegisterSet` of the small tables (the programme
        tables and the tables without persons) with the combined row accounting; the large
        person tables stay in their partitions."""
        from ips_study.registers import RegisterSet

        s = self._scanned()
        return RegisterSet(dict(s["tables"]), report=s["report"], source=str(self.data),
                           meta={"partitions": self.n_parts})

    def participant_flow(self) -> pd.DataFrame:
        """:func:`ips_study.cohort.participant_flow`, summed over the partitions."""
        return self._scanned()["flow"].copy()

    def write_panel(self, path: Path, study, *, freq: str, scope: str) -> None:
        """Build the panel partition by partition and write it to ``path`` (Parquet) in the
        order of the in-memory build.

        Each partition's rows are sorted by person rank (position in the ``persons`` file)
        and written to the work area; the files are then merged in windows of persons
        (:func:`merge_by_rank`), so neither the build nor the merge holds the whole panel.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ips_study.panel import write_panel

        tmp = path.with_name(path.stem + ".parts")
        shutil.rmtree(tmp, ignore_errors=True)
        files = []
        for k, rs in enumerate(self.partitions()):
            f = tmp / f"part-{k:04d}.parquet"
            write_panel(rs, f, study, freq=freq, scope=scope)
            if not f.exists():  # a partition without panel rows writes no file
                continue
            table = pq.read_table(f)
            rank = self.person_rank(table["person_id"])
            order = np.argsort(rank, kind="stable")
            table = table.take(pa.array(order)).append_column(RANK, pa.array(rank[order]))
            # small row groups: the merge decodes one row group of each file at a time
            pq.write_table(table, f, row_group_size=MERGE_BATCH)
            files.append(f)
        if not files:
            raise ValueError(f"the {freq} panel ({scope}) has no rows in any of the {self.n_parts} partitions")
        merge_by_rank(files, path, n_ranks=len(self._person_order()))
        shutil.rmtree(tmp, ignore_errors=True)

    # -- person order -------------------------------------------------------------------------
    def _person_order(self):
        """Every person id of the ``persons`` file once, in file order (an Arrow array: a
        few bytes a person, where a pandas index of text took about 100 bytes)."""
        if self._order is None:
            import pyarrow as pa
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            from ips_study.registers.readers import LINE_COLUMN

            raw = pa.concat_tables([pq.read_table(p / "persons.parquet", columns=["person_id", LINE_COLUMN])
                                    .replace_schema_metadata(None) for p in self.parts])
            ids = pc.cast(raw["person_id"], pa.string()).combine_chunks()
            order = np.argsort(raw[LINE_COLUMN].to_numpy(), kind="stable")
            self._order = pc.unique(ids.take(pa.array(order)))  # first occurrence kept
        return self._order

    def person_ids(self):
        """Every person id of the ``persons`` file, in its order (quarantined persons
        included), one at a time."""
        order = self._person_order()
        for start in range(0, len(order), 65536):
            yield from order.slice(start, 65536).to_pylist()

    def person_rank(self, ids) -> np.ndarray:
        """Each id's position in the ``persons`` file (persons not found last, in their
        order); ``ids`` an Arrow array or a pandas Series."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(ids, pd.Series):
            ids = pa.array(ids.astype(str).to_numpy(dtype=object), type=pa.string())
        ids = pc.cast(ids, pa.string())
        order = self._person_order()
        rank = pc.fill_null(pc.index_in(ids, value_set=order), len(order))
        return rank.to_numpy(zero_copy_only=False).astype(np.int64)

    def _in_person_order(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.iloc[np.argsort(self.person_rank(table["person_id"]), kind="stable")] \
            .reset_index(drop=True)


#: column holding each row's person rank in the partition files being merged
RANK = "__person_rank"
#: rows a partition file's row groups and read batches hold during the merge (a Parquet
#: reader decodes a whole row group: with one row group a file, the merge held every file)
MERGE_BATCH = 8_192


def merge_by_rank(files: list[Path], out: Path, *, n_ranks: int, rows_per_window: int = 65_536) -> None:
    """Merge Parquet files, each sorted by the :data:`RANK` column, into one file sorted by it.

    A person's rows are in one file, so a stable sort of each window's rows puts them in the
    order of the in-memory build. Memory: one window of rows (``rows_per_window``) plus one
    row group a file (the files should have row groups of :data:`MERGE_BATCH` rows); the
    dictionary columns of the partition files are written as plain values (as the in-memory
    panel is), and the rank column is dropped.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sources = [pq.ParquetFile(f) for f in files]
    total = sum(s.metadata.num_rows for s in sources)
    schema = _plain_schema(sources[0].schema_arrow)
    n_windows = max(1, -(-total // rows_per_window))
    width = max(1, -(-(n_ranks + 1) // n_windows))   # +1: persons not found rank n_ranks
    # row groups read one at a time, by hand: a batch iterator reads ahead (it held about
    # 350 MiB over 64 files of a 1.5-million-person delivery)
    batches = [_row_groups(s, schema) for s in sources]
    held: list[pa.Table | None] = [None] * len(sources)
    done = [False] * len(sources)
    writer = pq.ParquetWriter(out, schema)
    try:
        for upper in range(width, n_ranks + 1 + width, width):
            pieces = []
            for i in range(len(sources)):
                # read until this file's buffered rows reach past the window (or it ends)
                while not done[i] and (held[i] is None or held[i].num_rows == 0
                                       or held[i][RANK][-1].as_py() < upper):
                    try:
                        b = next(batches[i])
                    except StopIteration:
                        done[i] = True
                        break
                    held[i] = b if held[i] is None else pa.concat_tables([held[i], b])
                if held[i] is None or held[i].num_rows == 0:
                    continue
                cut = int(np.searchsorted(held[i][RANK].to_numpy(), upper, side="left"))
                pieces.append(held[i].slice(0, cut))
                held[i] = held[i].slice(cut).combine_chunks() if cut < held[i].num_rows else None
            if not pieces:
                continue
            window = pa.concat_tables(pieces).combine_chunks()
            if window.num_rows == 0:
                continue
            order = pa.array(np.argsort(window[RANK].to_numpy(), kind="stable"))
            writer.write_table(pa.Table.from_arrays([window[f.name].take(order) for f in schema],
                                                    schema=schema))
            del window, pieces
    finally:
        writer.close()


def _row_groups(source, schema):
    """A Parquet file's row groups, one at a time, with the columns of ``schema`` (plain
    values: a window of dictionary columns from many files asked for 128 MiB in one take)
    and the rank column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for j in range(source.num_row_groups):
        t = source.read_row_group(j, use_threads=False)
        yield pa.table([pc.cast(t[f.name], f.type) for f in schema] + [t[RANK]],
                       names=[*schema.names, RANK])


def _plain_schema(schema):
    """``schema`` without the rank column, dictionaries as their value type, no metadata."""
    import pyarrow as pa

    fields = [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
              for f in schema if f.name != RANK]
    return pa.schema(fields)


_FLOW_COUNTS = ("treated", "controls", "total")

#: person-linked tables the outputs read whole (small: one row per programme episode)
_GATHERED = ("ips_caseload",)
