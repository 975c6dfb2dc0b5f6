"""Shared, lazily computed inputs of the analysis: registers, panels, fitted designs.

An output asks the context for what it needs (``ctx.panel("year")``, ``ctx.fit("did",
"workdays")``); each piece is computed once per run, and panels are also cached on disk in the
confidential work area, keyed by the run key and verified by hash when loaded.

With ``partitions`` (``ips-study reproduce --partitions K``) the registers are never read
whole: panels, the row accounting, the participant flow and the programme tables are built
one person partition at a time (:mod:`ips_study.reproduce.partitioned`), with outputs
byte-identical to the in-memory run; the month panel is read only in pieces of whole
persons (:mod:`ips_study.reproduce.pieces`: survival episodes, cell sums), and one whole
year panel is in memory at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ips_study import progress


#: designs fitted on survival episodes (built from a person-month panel)
EPISODE_DESIGNS = ("km", "cox", "cuminc", "finegray", "dthazard")
#: designs each fit of which one output uses (table 10): with ``partitions`` not kept after
#: it (a Fine–Gray fit holds its extended rows, about 2.5 million at a million persons)
USED_ONCE = ("finegray", "dthazard")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Context:
    data: Path
    out: Path
    work: Path
    config: Any
    key: str
    quiet: bool = False
    lang: str = "en"
    #: Dask worker processes for the simulation outputs (1: in this process); the numbers do
    #: not depend on it (:mod:`ips_study.parallel`)
    workers: int = 1
    #: person partitions the registers are read and the panels built in (None: in memory)
    partitions: int | None = None
    _memo: dict[str, Any] = field(default_factory=dict)
    _resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def client(self):
        """A local Dask cluster's client, started on first use (None with one worker)."""
        if self.workers <= 1:
            return None
        if "client" not in self._memo:
            from ips_study.parallel import local_client

            self._memo["client"] = self._resources.enter_context(local_client(self.workers))
        return self._memo["client"]

    def close(self) -> None:
        """Stop what the run started (the Dask cluster)."""
        self._resources.close()

    def memo(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]

    # -- inputs ---------------------------------------------------------------------------
    @property
    def delivery(self):
        """The partitioned delivery (with ``partitions``), split on first use."""
        from .partitioned import PartitionedDelivery

        return self.memo("delivery", lambda: PartitionedDelivery(
            self.data, self.work, self.config, self.partitions, quarantine_dir=self.work / "quarantine"))

    @property
    def registers(self):
        """The validated registers; with ``partitions`` only the small tables (programme
        tables, tables without persons) and the row accounting of the whole delivery."""
        from ips_study.registers import read_registers

        if self.partitions:
            return self.memo("registers", lambda: self.delivery.registers)
        return self.memo("registers", lambda: read_registers(
            self.data, quarantine_dir=self.work / "quarantine", columns=self.config.columns))

    @property
    def truth(self) -> dict | None:
        p = self.data / "truth.json"
        return json.loads(p.read_text()) if p.exists() else None

    @property
    def is_synthetic(self) -> bool:
        return self.truth is not None

    def has_table(self, name: str) -> bool:
        return name in self.registers

    def loaded_person_ids(self):
        """The delivery's person ids if this run has read them (for the output check by value;
        a run whose outputs were all up to date reads nothing and returns none); with
        ``partitions`` an iterator, not a list of every id."""
        if "registers" in self._memo and not self.partitions:
            return self._memo["registers"]["persons"]["person_id"].tolist()
        if "delivery" in self._memo and self._memo["delivery"].parts_split:
            return self._memo["delivery"].person_ids()
        return []

    def participant_flow(self) -> pd.DataFrame:
        """:func:`ips_study.cohort.participant_flow` at the baseline date (exact counts)."""
        from ips_study.cohort import participant_flow

        if self.partitions:
            return self.memo("flow", self.delivery.participant_flow)
        return self.memo("flow", lambda: participant_flow(self.registers.tables, self.config))

    # -- panels ---------------------------------------------------------------------------
    def study(self, population: str | None = None):
        """The study configuration, optionally with another population design."""
        return self.config if population in (None, self.config.design) else self.config.replace(design=population)

    def panel(self, freq: str = "year", scope: str = "study", population: str | None = None) -> pd.DataFrame:
        population = population or self.config.design
        name = f"panel-{freq}-{scope}-{population}"
        if self.partitions and name not in self._memo:
            self._drop_whole_panels()   # one whole panel in memory at a time
        return self.memo(name, lambda: self._cached_panel(freq, scope, population))

    def _drop_whole_panels(self) -> None:
        """Forget the whole panels read so far (``partitions``: before reading another panel,
        whole or in pieces)."""
        for old in [k for k in self._memo if k.startswith("panel-")]:
            del self._memo[old]

    def _panel_path(self, freq: str, scope: str, population: str) -> Path:
        return self.work / f"panel_{freq}_{scope}_{population}_{self.key[:16]}.parquet"

    @staticmethod
    def _verified(path: Path) -> bool:
        digest = path.with_suffix(".sha256")
        return path.exists() and digest.exists() and digest.read_text().strip() == _sha(path)

    def panel_file(self, freq: str = "year", scope: str = "study", population: str | None = None) -> Path:
        """The panel's file in the work area, built partition by partition unless a verified
        copy is there (``partitions`` only: the in-memory run writes it in :meth:`panel`)."""
        population = population or self.config.design
        path = self._panel_path(freq, scope, population)
        if not self._verified(path):  # missing or corrupted: rebuild
            tmp = path.with_suffix(".tmp")
            self.delivery.write_panel(tmp, self.study(population), freq=freq, scope=scope)
            os.replace(tmp, path)
            path.with_suffix(".sha256").write_text(_sha(path) + "\n")
        return path

    def _cached_panel(self, freq: str, scope: str, population: str) -> pd.DataFrame:
        from ips_study.panel import build_panel, read_panel

        if self.partitions:  # partition by partition, in the in-memory build's order
            return read_panel(self.panel_file(freq, scope, population))
        path = self._panel_path(freq, scope, population)
        if self._verified(path):
            return read_panel(path)
        panel = build_panel(self.registers, self.study(population), freq=freq, scope=scope,
                            progress=progress.enabled())
        tmp = path.with_suffix(".tmp")
        panel.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        path.with_suffix(".sha256").write_text(_sha(path) + "\n")
        return panel

    def aggregate(self, freq: str = "year", scope: str = "study") -> pd.DataFrame:
        """Municipality x period means (:func:`ips_study.panel.aggregate_panel`); with
        ``partitions`` added up from the panel file piece by piece
        (:func:`ips_study.reproduce.pieces.panel_cells`)."""
        from ips_study.panel import aggregate_panel

        if self.partitions:
            from .pieces import cells_to_aggregate, panel_cells

            if f"agg-{freq}-{scope}" not in self._memo:
                self._drop_whole_panels()
            return self.memo(f"agg-{freq}-{scope}", lambda: cells_to_aggregate(
                panel_cells(self.panel_file(freq, scope))))
        return self.memo(f"agg-{freq}-{scope}", lambda: aggregate_panel(self.panel(freq, scope)))

    def _design_input(self, design: str, freq: str, scope: str, population: str | None):
        """What a design is fitted on: the panel; with ``partitions`` the survival designs get
        the month panel's file, whose episodes they build piece by piece
        (:class:`ips_study.reproduce.pieces.PanelEpisodes`), never the whole month panel."""
        if self.partitions and design in EPISODE_DESIGNS:
            from .pieces import PanelEpisodes

            population = population or self.config.design
            self._drop_whole_panels()
            return self.memo(f"episodes-{freq}-{scope}-{population}",
                             lambda: PanelEpisodes(self.panel_file(freq, scope, population)))
        return self.panel(freq, scope, population)

    # -- fitted designs -------------------------------------------------------------------
    def fit(self, design: str, outcome: str, *, freq: str = "year", scope: str = "study",
            population: str | None = None, inference: str | None = None, **options) -> Any:
        from ips_study.designs import get_design

        name = json.dumps([design, outcome, freq, scope, population, inference, options],
                          sort_keys=True, default=str)

        def make():
            return get_design(design)(
                self._design_input(design, freq, scope, population), outcome=outcome, config=self.study(population),
                inference=inference, **options)

        if self.partitions and (options.get("level") == "person" or design in USED_ONCE):
            # table 5's person-level sensitivity fits are used once each and keep their
            # person-year role frame (about 150 MB at 1.5 million persons): not kept; nor
            # the survival fits only table 10 uses (USED_ONCE)
            return make()
        return self.memo(name, make)
