"""Person partitions: work on register deliveries larger than memory.

:func:`split_by_person` streams every person-linked table once, in record batches, and routes
each row to partition ``hash(person_id) % n`` (a fixed, platform-independent hash), writing
one Parquet file per table and partition; tables without persons (municipalities,
specialist weeks, code changes) are copied to every partition. Each partition is then an
ordinary register directory: :func:`read_registers` validates it, and since all of a person's
rows share a partition, spell merging and the unknown-person check give the same result as on
the whole delivery. :func:`iter_partitions` yields the validated partitions one at a time, so
at most one partition is in memory.

Row accounting is per partition and adds up: :func:`combine_reports` sums them (tables
without persons are counted once). Line numbers in a partition's quarantine file refer to the
partition file; the original line is kept in its ``source_line`` column.

>>> # split_by_person("registers/", "work/parts", n_parts=8)   # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import RegisterSet
from .readers import _sniff, find_table_files, read_file
from .report import RegisterError, TableReport, ValidationReport
from .schema import TABLES


def _batches(file: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of a file, streamed for Parquet and CSV (all CSV columns as text)."""
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        yield from pq.ParquetFile(file).iter_batches(batch_size=batch_rows)
    elif suffix == ".csv":
        encoding, delimiter, bom, names = _sniff(file)
        bad: list[int | None] = []

        def malformed(row) -> str:
            # a row with the wrong field count has no trustworthy person id, so it cannot be
            # routed to a partition; count it and refuse below rather than drop it unseen
            if row.text.strip(delimiter + " \r\n"):
                bad.append(row.number)
            return "skip"

        reader = pacsv.open_csv(
            file,
            read_options=pacsv.ReadOptions(encoding="utf8" if encoding == "utf8" else "cp1252",
                                           block_size=1 << 24, column_names=names, skip_rows=1,
                                           use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=malformed),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False))
        yield from reader
        if bad:
            first = next((n for n in bad if n is not None), None)
            at = f", line {first}" if first is not None else ""
            raise RegisterError(
                f"{file.name}{at}: {len(bad):,} malformed row(s) (wrong number of fields); a "
                "partitioned read cannot quarantine them, so it stops rather than lose them: read "
                "the delivery whole (they are quarantined as malformed_row) or repair the file")
    else:  # SAS / Stata: no streaming reader in the core stack; read whole
        yield from read_file(file).data.to_batches(max_chunksize=batch_rows)


def partition_of(person_id: pa.Array | np.ndarray, n_parts: int) -> np.ndarray:
    """Partition number of each person id (stable across runs and machines)."""
    ids = pd.Series(np.asarray(person_id, dtype=object)).astype(str).str.strip().to_numpy()
    return (pd.util.hash_array(ids, categorize=True) % np.uint64(n_parts)).astype(np.int64)


def split_by_person(src, dst, n_parts: int, *, batch_rows: int = 1_000_000) -> list[Path]:
    """Split a register directory into ``n_parts`` person partitions under ``dst``.

    Returns the partition directories. Raises :class:`RegisterError` if a person-linked file
    has no ``person_id`` column (the whole-delivery validator would stop there too).
    """
    src, dst = Path(src), Path(dst)
    if n_parts < 1:
        raise ValueError("n_parts must be at least 1")
    files = find_table_files(src, TABLES)
    parts = [dst / f"part-{k:04d}" for k in range(n_parts)]
    for p in parts:
        p.mkdir(parents=True, exist_ok=True)
    for name, file in files.items():
        table = TABLES[name]
        if "person_id" not in table.names:
            for p in parts:
                shutil.copy(file, p / file.name)
            continue
        writers: dict[int, pq.ParquetWriter] = {}
        line = 0
        header = 1 if file.suffix.lower() == ".csv" else 0  # CSV lines count the header
        try:
            for batch in _batches(file, batch_rows):
                cols = [c.strip() for c in batch.schema.names]
                if "person_id" not in cols:
                    raise RegisterError(f"{file.name}, column 'person_id', line 1: column is missing")
                batch = pa.RecordBatch.from_arrays(batch.columns, names=cols)
                n = batch.num_rows
                batch = batch.append_column("source_line", pa.array(np.arange(line + 1, line + n + 1) + header))
                line += n
                where = partition_of(batch.column(cols.index("person_id")).to_numpy(zero_copy_only=False),
                                     n_parts)
                for k in np.unique(where):
                    sub = pa.Table.from_batches([batch]).filter(pa.array(where == k))
                    if k not in writers:
                        writers[k] = pq.ParquetWriter(parts[k] / f"{name}.parquet", sub.schema)
                    writers[k].write_table(sub)
        finally:
            for w in writers.values():
                w.close()
        # an empty partition still gets the table (header only), so it validates as delivered
        schema = next(iter(writers.values())).schema if writers else None
        for k, p in enumerate(parts):
            if k not in writers and schema is not None:
                pq.write_table(schema.empty_table(), p / f"{name}.parquet")
    return parts


def iter_partitions(parts: list[Path], *, quarantine_dir=None, as_of=None) -> Iterator[RegisterSet]:
    """Validate and yield each partition (one in memory at a time).

    A partition may hold no person or have every row of a small table quarantined; the
    delivery-level fatal conditions (:func:`.validate.delivery_errors`) are checked on the
    summed counts after the last partition, raising :class:`RegisterError` then.
    """
    from .validate import _registers, _run, delivery_errors

    reports = []
    for k, part in enumerate(parts):
        q = None if quarantine_dir is None else Path(quarantine_dir) / part.name
        rs = _registers(*_run(part, q, as_of, whole=False), part)
        reports.append(rs.report)
        yield rs
    if reports:
        combined = combine_reports(reports)
        errors = delivery_errors(combined)
        if errors:
            combined.errors.extend(errors)
            raise RegisterError(errors[0], report=combined)


def combine_reports(reports: list[ValidationReport]) -> ValidationReport:
    """Sum per-partition row accounting (tables without persons counted once)."""
    out = ValidationReport(source=reports[0].source if reports else None,
                           as_of=reports[0].as_of if reports else None)
    for i, rep in enumerate(reports):
        out.errors.extend(rep.errors)
        for name, t in rep.tables.items():
            if "person_id" not in TABLES[name].names and i > 0:
                continue
            acc = out.tables.setdefault(name, TableReport(name, file=t.file))
            acc.read += t.read
            acc.kept += t.kept
            acc.merged += t.merged
            for r, c in t.quarantined.items():
                acc.quarantined[r] = acc.quarantined.get(r, 0) + c
            for r, c in t.notes.items():
                acc.notes[r] = acc.notes.get(r, 0) + c
            acc.errors.extend(t.errors)
    for acc in out.tables.values():
        acc.close(kept=acc.kept, merged=acc.merged)
    return out
