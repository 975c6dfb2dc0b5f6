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
``persons`` file, then periods), so every output is byte-identical to the in-memory run.

What is bounded and what is not: reading, validating and building are bounded by the
persons of one partition. The analysis then reads each finished panel whole: the
person-level designs (descriptives, DiD and event study, survival, power) need every
person-period row at once. A month panel of the closed cohort is the largest.

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
        self._order: pd.Index | None = None

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

    def person_ids(self) -> list[str]:
        """Every person id of the ``persons`` file, in its order (quarantined persons included)."""
        self._person_rank(pd.Series([], dtype=object))
        return self._order.tolist()

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
                    if name in _GATHERED or "person_id" not in table.columns:
                        small.setdefault(name, []).append(table)
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
        order of the in-memory build."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from ips_study.panel import write_panel

        tmp = path.with_name(path.stem + ".parts")
        shutil.rmtree(tmp, ignore_errors=True)
        files = []
        for k, rs in enumerate(self.partitions()):
            f = tmp / f"part-{k:04d}.parquet"
            write_panel(rs, f, study, freq=freq, scope=scope)
            if f.exists():  # a partition without panel rows writes no file
                files.append(f)
        if not files:
            raise ValueError(f"the {freq} panel ({scope}) has no rows in any of the {self.n_parts} partitions")
        table = pa.concat_tables([pq.read_table(f) for f in files])
        rank = self._person_rank(table["person_id"].to_pandas().astype(str))
        table = table.take(pa.array(np.argsort(rank, kind="stable")))
        for i, field in enumerate(table.schema):
            # plain values, as the in-memory panel is written (its text columns are not categories)
            if pa.types.is_dictionary(field.type):
                table = table.set_column(i, field.name, pc.cast(table.column(i), field.type.value_type))
        pq.write_table(table.replace_schema_metadata(None), path)
        shutil.rmtree(tmp, ignore_errors=True)

    # -- person order -------------------------------------------------------------------------
    def _person_rank(self, ids: pd.Series) -> np.ndarray:
        """Each id's position in the ``persons`` file (persons not found last, in their order)."""
        if self._order is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            from ips_study.registers.readers import LINE_COLUMN

            raw = pa.concat_tables([pq.read_table(p / "persons.parquet", columns=["person_id", LINE_COLUMN])
                                    .replace_schema_metadata(None) for p in self.parts])
            line = raw[LINE_COLUMN].to_numpy()
            ids_in_file = raw["person_id"].to_pandas().astype(str).to_numpy()[np.argsort(line, kind="stable")]
            self._order = pd.Index(ids_in_file).drop_duplicates()
        rank = self._order.get_indexer(ids)
        return np.where(rank < 0, len(self._order), rank)

    def _in_person_order(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.iloc[np.argsort(self._person_rank(table["person_id"].astype(str)), kind="stable")] \
            .reset_index(drop=True)


_FLOW_COUNTS = ("treated", "controls", "total")

#: person-linked tables the outputs read whole (small: one row per programme episode)
_GATHERED = ("ips_caseload",)
