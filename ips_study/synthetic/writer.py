"""Write synthetic register tables to disk, byte-for-byte reproducibly.

Parquet files are written with pinned options (zstd level 9, dictionary encoding, no
statistics timestamps, no pandas index) and dates as ``date32``; the only metadata is the
schema, so the same tables give the same bytes. CSV files use ISO dates and empty fields for
missing values. Large populations are streamed: each chunk becomes one Parquet row group
(or an appended CSV block), so memory stays bounded by one chunk.

Example
-------
>>> import tempfile, pandas as pd
>>> d = tempfile.mkdtemp()
>>> p = write_tables({"municipalities": pd.DataFrame({"municipality": ["1804"]})}, d,
...                  spec=MessSpec.none())
>>> sorted(x.name for x in p.iterdir())
['municipalities.parquet']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .effects import Effects
from .geography import GeographySpec
from .messiness import MessSpec, messy_tables

FORMATS = ("parquet", "csv")
_PARQUET_OPTIONS = dict(compression="zstd", compression_level=9, use_dictionary=True,
                        write_statistics=False, data_page_version="1.0", version="2.6")
_MESS_STREAM = 10**6 + 2


def _arrow(df: pd.DataFrame) -> pa.Table:
    cols = {}
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_datetime64_any_dtype(s):
            cols[name] = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32(),
                                  mask=s.isna().to_numpy())
        elif s.dtype == object:
            cols[name] = pa.array(s, type=pa.string(), from_pandas=True)
        else:
            # from_pandas: NaN is a missing value (empty in CSV, null in Parquet)
            cols[name] = pa.array(s.to_numpy(), from_pandas=True)
    return pa.table(cols)


class TableSink:
    """Append chunks of one table to a Parquet or CSV file."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt, self._writer = path, fmt, None

    def write(self, df: pd.DataFrame) -> None:
        tab = _arrow(df)
        if self.fmt == "parquet":
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, tab.schema, **_PARQUET_OPTIONS)
            self._writer.write_table(tab.cast(self._writer.schema))
        else:
            first = self._writer is None
            with open(self.path, "wb" if first else "ab") as fh:
                pacsv.write_csv(tab, fh, pacsv.WriteOptions(include_header=first))
            self._writer = True

    def close(self) -> None:
        if self.fmt == "parquet" and self._writer is not None:
            self._writer.close()


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path, *, format: str = "parquet",
                 spec: MessSpec = MessSpec(), seed: int = 0, sinks: dict[str, TableSink] | None = None,
                 chunk: int = 0) -> Path:
    """Write clean typed tables (with messiness ``spec``) as ``<table>.<format>`` into ``out_dir``."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_MESS_STREAM, chunk)))
    if "persons" in tables and "benefits" in tables:
        tables = messy_tables(tables, spec, rng)
    own = sinks is None
    sinks = {} if sinks is None else sinks
    for name in sorted(tables):
        if name not in sinks:
            sinks[name] = TableSink(out / f"{name}.{format}", format)
        sinks[name].write(tables[name])
    if own:
        for s in sinks.values():
            s.close()
    return out


def write_truth(truth: dict[str, Any], out_dir: Path) -> Path:
    path = Path(out_dir) / "truth.json"
    path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def stream_synthetic(out_dir: str | Path, *, n_persons: int, seed: int, format: str = "parquet",
                     effects: Effects | None = None, messy: bool | MessSpec = True,
                     progress: bool = True, workers: int | None = None,
                     geography: GeographySpec | None = None) -> Path:
    """Generate ``n_persons`` in chunks and stream every table to disk; truth from monthly states.

    ``geography`` picks the municipalities and their sizes (``GeographySpec``; default: all 28).
    """
    from .engine import _static_tables, iter_chunks, simulation_setup
    from .direct import direct_truth, merge_direct

    import os

    spec = MessSpec() if messy is True else (MessSpec.none() if messy is False else messy)
    effects = Effects() if effects is None else effects
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sinks: dict[str, TableSink] = {}
    parts = []
    for c, ch in enumerate(iter_chunks(n_persons, seed=seed, effects=effects, progress=progress,
                                                counterfactual=False, workers=workers,
                                                geography=geography)):
        write_tables(ch.factual, out, format=format, spec=spec, seed=seed, sinks=sinks, chunk=c)
        parts.append(ch.direct)
        del ch
    setup = simulation_setup(seed, "2006-01", "2020-12", geography)
    write_tables(_static_tables(setup, seed, n_persons), out, format=format, spec=spec, seed=seed,
                 sinks=sinks)
    for s in sinks.values():
        s.close()
    direct = merge_direct(parts)
    truth: dict[str, Any] = {"seed": seed, "n_persons": n_persons, "effects": effects.to_dict(),
                             "treated_municipality": "1804", "ips_start": "2013-01",
                             "method": "monthly_states"}
    by_code = direct_truth
    if geography is not None and geography.truth_target == "work_assessment":
        from .direct import year_truth
        # the published design's target group first; the default group's truth beside it
        truth.update(year_truth(direct, "1804"))
        truth["default_target_group"] = direct_truth(direct, "1804")
        by_code = year_truth
    else:
        truth.update(direct_truth(direct, "1804"))
    if geography is not None and geography.codes is not None:
        truth["geography"] = {"codes": list(geography.codes), "work_year_sd": geography.work_year_sd,
                              "programme_persons": geography.programme_persons,
                              **{k: getattr(geography, k) for k in ("health_level_sd", "work_level_sd",
                                                                     "health_trend_sd", "truth_target",
                                                                     "aap_entry_hr")}}
    truth["by_municipality"] = {code: by_code(direct, code) for code in sorted(direct) if code != "1804"}
    write_truth(truth, out)
    return out
