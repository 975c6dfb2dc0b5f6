"""Person partitions: work on register deliveries larger than memory.

:func:`split_by_person` streams every person-linked table once, in small blocks, and routes
each row to partition ``hash(person_id) % n`` (a fixed, platform-independent hash), writing
one Parquet file per table and partition; tables without persons (municipalities,
specialist weeks, code changes) are copied to every partition. Each partition is then an
ordinary register directory: :func:`read_registers` validates it, and since all of a person's
rows share a partition, spell merging and the unknown-person check give the same result as on
the whole delivery. :func:`iter_partitions` yields the validated partitions one at a time, so
at most one partition is in memory.

Memory is bounded by the partition, not by the delivery: the split holds one block of the
file being read (:data:`BLOCK_BYTES` of CSV, :data:`BATCH_ROWS` rows of Parquet) and at most
:data:`BUFFER_BYTES` of rows waiting to be written to the partition files, whatever the size
of the delivery (``docs/benchmarks.md``, "Memory: panel build by partitions").

A partitioned read gives the report a whole read gives (``tests/test_partition_corpus.py``
runs the bad-input corpus both ways):

* the split first checks what the whole read checks before any row: two files for a table,
  required tables, and every header (:func:`.validate.check_header`); a table it finds fatal
  (or cannot read part way) is left out and reported by :func:`iter_partitions` with the rest,
  so a fatal delivery gives the whole read's report: every fatal problem, in its order, and
  the row accounting of the tables that could be read;
* quarantined rows are written as the whole read writes them, one file per table in line
  order (:func:`merge_quarantine` merges the partitions' files at the end);
* CSV lines with the wrong number of fields have no trustworthy person id, so they cannot be
  routed to a partition; the split keeps them aside (``malformed/<table>.parquet``, in the
  work area) and :func:`iter_partitions` quarantines them as ``malformed_row`` with the first
  partition, so that ``kept + merged + quarantined == read`` holds for the delivery;
* the reading notes of a CSV file (byte order mark, delimiter, Windows-1252, blank lines,
  header only) are noted once, with the first partition; the encoding is decided on the whole
  file and line numbers count physical lines past quoted line breaks, by the rules the whole
  read uses (:mod:`.csvtext`);
* a column wholly of the wrong type is fatal only if it is so in the whole delivery
  (:func:`.validate.typed_errors`, on the summed counts).

Row accounting is per partition and adds up: :func:`combine_reports` sums them (tables
without persons are counted once, as are notes about a file). Line numbers in reports and
quarantine files are those of the delivered file (each partition file carries them in a
``source_line`` column).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "persons.csv").write_text("person_id,birth_date,sex\\n1,1990-01-01,F\\n2,1991-02-02,M\\n")
>>> for name, table in TABLES.items():  # the other required tables, header only
...     if table.required and name != "persons":
...         _ = (d / f"{name}.csv").write_text(",".join(table.names) + "\\n")
>>> [p.name for p in split_by_person(d, d / "parts", 2)]
['part-0000', 'part-0001']
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..columnmap import rename_table
from . import RegisterSet
from .csvtext import NEWLINES_IN_VALUES, PhysicalLines, file_encoding, newlines_per_row, reading_notes
from .readers import (DELIMITER_KEY, LINE_COLUMN, SOURCE_KEY, _safe, _sniff, blank_rows, clean_name,
                      find_table_files, read_file)
from .report import REASONS, SHOW_LINES, RegisterError, TableReport, ValidationReport
from .schema import TABLES
from .quarantine import STAGE as _STAGE, merge_quarantine
from .validate import _ORDER, check_header, missing_tables

#: CSV bytes parsed at a time (about 100,000 register rows). A row longer than this (one
#: 10 MB field) is read by retrying with a block four times larger, as often as needed.
BLOCK_BYTES = 1 << 22
#: Parquet rows read at a time.
BATCH_ROWS = 1 << 17
#: Rows routed to partitions are held until this many bytes wait, then written out (one
#: row group per partition); the bound does not grow with the delivery or the partitions.
BUFFER_BYTES = 1 << 26


class _CsvBlocks:
    """Record batches of a CSV file (all columns as text), block by block, with line numbers.

    Rows with the wrong field count end in ``malformed`` as ``(line, text)`` once the file
    has been read; blank lines are counted in ``blank``; :attr:`notes` are the file's reading
    notes. A row (or the header) longer than the block (Arrow: "straddling object") makes the
    reader start again with a larger block, skipping the rows already given out; memory stays
    one block plus the longest row.
    """

    def __init__(self, file: Path, block: int = 0):
        self.file = file
        encoding, self.delimiter, self.bom, self.names = _sniff(file)
        self.encoding = file_encoding(file, encoding)
        self.block = block or BLOCK_BYTES
        self.malformed: list[tuple[int, str]] = []
        self.blank = 0
        self.rows = 0  # data rows given out
        self._lines = PhysicalLines()

    @property
    def notes(self) -> dict[str, int]:
        return reading_notes(encoding=self.encoding, delimiter=self.delimiter, bom=self.bom, blank=self.blank,
                             header_only=self.rows == 0 and not self.malformed)

    def _open(self):
        def handler(row) -> str:
            if row.number is not None:
                self._lines.add_bad(row.number, row.text)
            return "skip"

        return pacsv.open_csv(
            self.file,
            read_options=pacsv.ReadOptions(encoding=self.encoding, block_size=self.block, column_names=self.names,
                                           skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter, ignore_empty_lines=False,
                                             newlines_in_values=NEWLINES_IN_VALUES,
                                             invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in self.names},
                                                 strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))

    def __iter__(self) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        given = 0  # data rows already yielded (skipped after a restart)
        while True:
            seen = 0
            try:
                for batch in self._open():
                    n = batch.num_rows
                    if seen + n <= given:
                        seen += n
                        continue
                    batch = batch.slice(given - seen) if given > seen else batch
                    seen = given = given + batch.num_rows
                    lines = self._lines.rows(batch.num_rows, newlines_per_row(batch))
                    yield self._without_blank(batch, lines)
                break
            except pa.ArrowInvalid as exc:
                # a row, or the header line, longer than the block: a larger block
                if ("straddl" in str(exc) or "larger than block size" in str(exc)) and self.block < 2**31 - 1:
                    self.block = min(self.block * 4, 2**31 - 1)
                else:  # worded as the whole read words it
                    raise RegisterError(f"{self.file.name}, line 1: cannot parse CSV: {_safe(str(exc))}") from exc
        for line, text in self._lines.finish():
            # a blank line parses as a row of empty strings, or as a one-field invalid row
            if text.strip(self.delimiter + " \r\n"):
                self.malformed.append((line, text))
            else:
                self.blank += 1

    def _without_blank(self, batch: pa.RecordBatch, lines: np.ndarray):
        """A blank line parses as a row of empty strings: not a data row (as the whole read)."""
        blank = blank_rows(batch)
        if blank.any():
            self.blank += int(blank.sum())
            batch, lines = batch.filter(pa.array(~blank)), lines[~blank]
        self.rows += batch.num_rows
        return batch, lines


def _batches(file: Path) -> tuple[Iterator[tuple[pa.RecordBatch, np.ndarray]], object]:
    """Batches of a file with the source line of each row, and the CSV reader (or None)."""
    suffix = file.suffix.lower()
    if suffix == ".csv":
        blocks = _CsvBlocks(file)
        return iter(blocks), blocks

    def rows():
        at = 1
        if suffix == ".parquet":
            source = pq.ParquetFile(file).iter_batches(batch_size=BATCH_ROWS)
        else:  # SAS / Stata: no streaming reader in the core stack; read whole
            source = read_file(file).data.to_batches(max_chunksize=BATCH_ROWS)
        try:
            for batch in source:
                yield batch, np.arange(at, at + batch.num_rows, dtype=np.int64)
                at += batch.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:  # a corrupt page: fatal, as read whole
            if isinstance(exc, RegisterError):
                raise
            raise RegisterError(f"{file.name}, line 1: cannot read file:"
                                f" {type(exc).__name__}: {_safe(str(exc))}") from exc
    return rows(), None


def _header(file: Path, name: str, columns) -> list[str]:
    """The header names of a delivered file, cleaned and renamed as the whole read does."""
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            names = _sniff(file)[3]
        elif suffix == ".parquet":
            names = [clean_name(str(c)) for c in pq.read_schema(file).names]
        else:
            names = read_file(file).data.column_names
    except RegisterError:
        raise
    except Exception as exc:  # an unreadable file: fatal, as in the whole read
        raise RegisterError(f"{file.name}, line 1: cannot read file: {type(exc).__name__}: {_safe(str(exc))}") from exc
    empty = pa.Table.from_arrays([pa.array([], pa.string())] * len(names), names=names)
    return rename_table(empty, name, columns).column_names


def partition_of(person_id: pa.Array | np.ndarray, n_parts: int) -> np.ndarray:
    """Partition number of each person id (stable across runs and machines)."""
    ids = pd.Series(np.asarray(person_id, dtype=object)).astype(str).str.strip().to_numpy()
    return (pd.util.hash_array(ids, categorize=True) % np.uint64(n_parts)).astype(np.int64)


def _partition_of_arrow(ids: pa.Array, n_parts: int) -> np.ndarray:
    """:func:`partition_of` hashing each distinct id of a block once (Arrow dictionary)."""
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        return partition_of(ids.to_numpy(zero_copy_only=False), n_parts)
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(ids))
    of_value = partition_of(enc.dictionary.to_numpy(zero_copy_only=False), n_parts)
    idx = pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)
    out = of_value[idx] if len(of_value) else np.zeros(len(ids), np.int64)
    if enc.null_count:  # a missing id: hashed like the text "None", as partition_of does
        out[pc.is_null(enc.indices).to_numpy(zero_copy_only=False)] = partition_of(np.array([None]), n_parts)[0]
    return out


class _Router:
    """Rows of one table routed to their partition files, written in buffered row groups."""

    def __init__(self, name: str, parts: list[Path], metadata: dict[bytes, bytes]):
        self.name, self.parts, self.metadata = name, parts, metadata
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.held: dict[int, list[pa.RecordBatch]] = {}
        self.held_bytes = 0
        self.schema: pa.Schema | None = None

    def add(self, batch: pa.RecordBatch, where: np.ndarray) -> None:
        if self.schema is None:
            self.schema = batch.schema.with_metadata(self.metadata)
        order = np.argsort(where, kind="stable")
        keys, starts = np.unique(where[order], return_index=True)
        grouped = batch.take(pa.array(order))
        for k, lo, hi in zip(keys, starts, np.r_[starts[1:], len(order)]):
            self.held.setdefault(int(k), []).append(grouped.slice(lo, hi - lo))
        self.held_bytes += grouped.nbytes
        if self.held_bytes >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        for k, batches in self.held.items():
            if k not in self.writers:
                self.writers[k] = pq.ParquetWriter(self.parts[k] / f"{self.name}.parquet", self.schema)
            self.writers[k].write_table(pa.Table.from_batches(batches, schema=self.schema))
        self.held, self.held_bytes = {}, 0

    def close(self, ok: bool) -> None:
        try:
            if ok:
                self.flush()
        finally:
            for w in self.writers.values():
                w.close()
        # an empty partition still gets the table (header only), so it validates as delivered
        if ok and self.schema is not None:
            for k, p in enumerate(self.parts):
                if k not in self.writers:
                    pq.write_table(self.schema.empty_table(), p / f"{self.name}.parquet")


def _named(batch: pa.RecordBatch, name: str, file: Path, columns) -> pa.RecordBatch:
    """The batch with clean header names, the study file's renames and ``person_id`` found."""
    batch = rename_table(batch.rename_columns([clean_name(str(c)) for c in batch.schema.names]),
                         name, columns)
    lower = [c.lower() for c in batch.schema.names]
    if "person_id" not in lower:
        raise RegisterError(f"{file.name}, column 'person_id', line 1: column is missing")
    if "person_id" not in batch.schema.names:
        names = list(batch.schema.names)
        names[lower.index("person_id")] = "person_id"
        batch = batch.rename_columns(names)
    return batch


def split_by_person(src, dst, n_parts: int, *, columns=None) -> list[Path]:
    """Split a register directory into ``n_parts`` person partitions under ``dst``.

    Parameters
    ----------
    src, dst : str or Path
        The delivery, and a folder of the confidential work area for the partitions.
    n_parts : int
        Number of partitions; memory grows with the persons of one partition.
    columns : dict, optional
        The study file's ``[columns.<table>]`` renames (:mod:`ips_study.columnmap`), applied
        to person-linked tables here (tables without persons are renamed when validated).

    Returns the partition directories. A fatal problem the whole read reports before or
    while reading a table (two files for a table, a required table missing, a bad header, an
    unreadable file) does not stop the split: it is recorded, the table is left out of the
    partitions, and :func:`iter_partitions` reports every such problem, in the whole read's
    words and order, after validating the rest (the same report as the whole read).
    """
    src, dst = Path(src), Path(dst)
    if n_parts < 1:
        raise ValueError("n_parts must be at least 1")
    parts = [dst / f"part-{k:04d}" for k in range(n_parts)]
    for p in parts:
        p.mkdir(parents=True, exist_ok=True)
    try:
        files = find_table_files(src, TABLES)
    except RegisterError as exc:  # two files for one table: the whole read stops there too
        (parts[0] / _READING).write_text(json.dumps({"source": str(src), "stop": [str(exc)]}), encoding="utf-8")
        return parts
    # what the whole read checks before any row, so that these fatal errors read the same
    missing = missing_tables(files, src)
    failed: dict[str, tuple[str, str]] = {}
    for name in _ORDER:
        if name in files:
            try:
                check_header(files[name].name, _header(files[name], name, columns), TABLES[name])
            except RegisterError as exc:
                failed[name] = (files[name].name, str(exc))
    aside = dst / "malformed"
    shutil.rmtree(aside, ignore_errors=True)  # rows set aside by an earlier split
    notes: dict[str, dict[str, int]] = {}
    for name, file in files.items():
        for p in parts:  # a table of an earlier split of another delivery
            for old in (p / f"{name}.parquet", p / file.name):
                old.unlink(missing_ok=True)
        if name in failed:
            continue
        if "person_id" not in TABLES[name].names:
            for p in parts:
                shutil.copy(file, p / file.name)
            continue
        try:
            batches, csv = _batches(file)
        except RegisterError as exc:
            failed[name] = (file.name, str(exc))
            continue
        meta = {SOURCE_KEY: file.name.encode()}
        if csv is not None:
            meta[DELIMITER_KEY] = csv.delimiter.encode()
        router = _Router(name, parts, meta)
        ok = False
        try:
            for batch, lines in batches:
                batch = _named(batch, name, file, columns)
                batch = batch.append_column(LINE_COLUMN, pa.array(lines))
                router.add(batch, _partition_of_arrow(batch.column("person_id"), n_parts))
            ok = True
        except RegisterError as exc:  # unreadable part way: the table is fatal, as read whole
            failed[name] = (file.name, str(exc))
        finally:
            router.close(ok)
        if not ok:
            for p in parts:
                (p / f"{name}.parquet").unlink(missing_ok=True)
            continue
        if router.schema is None:  # no data row: header-only tables keep their header
            names = csv.names if csv is not None else pq.read_schema(file).names if file.suffix.lower() == ".parquet" else None
            if names is not None:
                empty = _named(pa.RecordBatch.from_pylist([], schema=pa.schema([(c, pa.string()) for c in names])),
                               name, file, columns).append_column(LINE_COLUMN, pa.array([], pa.int64()))
                for p in parts:
                    pq.write_table(pa.Table.from_batches([empty]).replace_schema_metadata(meta),
                                   p / f"{name}.parquet")
        if csv is not None and csv.notes:
            notes[name] = csv.notes
        if csv is not None and csv.malformed:
            aside.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"line": [ln for ln, _ in csv.malformed],
                                     "raw_text": [t for _, t in csv.malformed]}), aside / f"{name}.parquet")
    (parts[0] / _READING).write_text(json.dumps({"source": str(src), "notes": notes, "missing": missing,
                                                 "failed": failed}), encoding="utf-8")
    return parts


#: what the split learnt about the delivered files (source folder, CSV reading notes), in the
#: first partition (a hidden file: not a table)
_READING = ".reading.json"


def _reading(parts: list[Path]) -> dict:
    f = Path(parts[0]) / _READING if parts else None
    return json.loads(f.read_text(encoding="utf-8")) if f is not None and f.is_file() else {}


def set_aside(parts: list[Path]) -> dict[str, list[tuple[int, str]]]:
    """Malformed CSV rows the split could not route, per table, as ``(line, text)``."""
    aside = Path(parts[0]).parent / "malformed" if parts else None
    if aside is None or not aside.is_dir():
        return {}
    out = {}
    for f in sorted(aside.glob("*.parquet")):
        t = pq.read_table(f)
        out[f.stem] = list(zip(t["line"].to_pylist(), t["raw_text"].to_pylist()))
    return out


def iter_partitions(parts: list[Path], *, quarantine_dir=None, as_of=None, columns=None) -> Iterator[RegisterSet]:
    """Validate and yield each partition (one in memory at a time).

    A partition may hold no person or have every row of a small table quarantined; the
    delivery-level fatal conditions (:func:`.validate.delivery_errors`) are checked on the
    summed counts after the last partition, raising :class:`RegisterError` then. Malformed
    CSV rows set aside by the split are quarantined (``malformed_row``) with the first
    partition. ``columns``: the study file's renames, for the tables copied whole.

    A delivery the split already found fatal (:func:`split_by_person`) yields nothing: every
    partition is validated for the row accounting, and the :class:`RegisterError` carries the
    report the whole read gives (every fatal problem, in its order). Quarantined rows are
    written as the whole read writes them: one file per table, rows in line order
    (:func:`merge_quarantine`).
    """
    from .validate import DEFAULT_AS_OF, _registers, delivery_errors, typed_errors

    reading = _reading(parts)
    source = reading.get("source")
    if quarantine_dir is not None:
        qdir = Path(quarantine_dir)
    else:
        from ..workarea import default_quarantine

        qdir = default_quarantine(Path(source) if source else Path(parts[0]))
    if reading.get("stop"):  # the tables could not even be told apart (two files for one)
        as_of_ts = pd.Timestamp(DEFAULT_AS_OF if as_of is None else as_of).normalize()
        report = ValidationReport(source=source, as_of=str(as_of_ts.date()), quarantine_dir=str(qdir))
        report.errors.extend(reading["stop"])
        _registers(report, {}, Path(parts[0]))  # raises, worded as the whole read
    failed = {t: tuple(v) for t, v in reading.get("failed", {}).items()}
    fatal = bool(failed or reading.get("missing"))
    reports = []
    finished = False
    try:
        for report, rs in _validated(parts, reading, qdir, as_of, columns, failed):
            reports.append(report)
            if not fatal and not report.fatal:
                yield rs
            fatal = fatal or report.fatal
        finished = True
    finally:
        if not finished:  # the consumer stopped early (or a partition failed): see _stopped
            _stopped(qdir, parts[:len(reports)], reports)
    if not reports:
        return
    combined = combine_reports(reports)
    # a column wholly of the wrong type is fatal for its table, known only from the sums:
    # the table then reads as the whole read leaves it (rows read, nothing kept), and when
    # it is the person table the others are validated again without it (no unknown_person
    # check, as in the whole read)
    typed = typed_errors(combined)
    if typed:
        lost = {n: (t.file or n, t.errors[0]) for n, t in combined.tables.items()
                if any(e in typed for e in t.errors)}
        if "persons" in lost and "persons" not in failed:
            again = combine_reports([r for r, _ in _validated(parts, reading, qdir, as_of, columns,
                                                               {**failed, "persons": lost["persons"]})])
            for n, t in combined.tables.items():
                if n in lost:
                    again.tables[n] = t
            combined = again
        for n in lost:
            t = combined.tables[n]
            t.kept = t.merged = 0
            t.quarantined, t.lines, t.closed = {}, {}, False
    delivery = delivery_errors(combined)
    for e in delivery:  # named in its table too, as the whole read does
        name = next((n for n, t in combined.tables.items() if e.startswith((t.file or n) + ",")), None)
        if name:
            combined.tables[name].errors.append(e)
    combined.errors = _ordered_errors(combined, reading.get("missing", []), delivery)
    # the whole read writes no quarantine file for a table it could not read
    merge_quarantine(qdir, parts, skip={n for n, t in combined.tables.items()
                                        if any(e not in delivery for e in t.errors)})
    combined.quarantine_dir = str(qdir)
    if combined.errors:
        _registers(combined, {}, Path(parts[0]))  # raises with the combined report


def _stopped(qdir: Path, done: list[Path], reports: list[ValidationReport]) -> None:
    """The quarantine of a read stopped before its last partition (a consumer that breaks out
    of :func:`iter_partitions`, closes it, or drops it; or an error part way).

    The partitions validated so far are merged into the quarantine folder as a full read
    merges them (one file per table, rows in line order: the full read's files restricted
    to the rows of these partitions, byte for byte), and the staging folder is removed, so
    that no per-partition files with person ids are left behind and no file of an earlier
    run stands beside them as if it were this delivery's. A partition whose validation was
    interrupted is left out (its staged files are incomplete)."""
    skip = {n for r in reports for n, t in r.tables.items() if t.errors}
    merge_quarantine(qdir, done, skip=skip)


def _validated(parts, reading, qdir: Path, as_of, columns, failed) -> Iterator[tuple[ValidationReport, RegisterSet | None]]:
    """Each partition validated: its report, and its register set (``None`` if fatal)."""
    from .validate import _registers, _run

    copied = {t: m for t, m in (columns or {}).items() if "person_id" not in TABLES[t].names}
    malformed = set_aside(parts)
    linked = {t for t in TABLES if "person_id" in TABLES[t].names}
    stage = qdir / _STAGE
    shutil.rmtree(stage, ignore_errors=True)
    for k, part in enumerate(parts):
        first = k == 0  # the delivery-wide rows, notes and fatal problems go with the first partition
        report, tables = _run(part, stage / part.name, as_of, copied, whole=False,
                              malformed=malformed if first else None,
                              notes=reading.get("notes") if first else None, own=None if first else linked,
                              failed=failed if first else {t: None for t in failed},
                              missing=reading.get("missing", []) if first else [])
        report.source = reading.get("source", report.source)
        report.quarantine_dir = str(qdir)
        if report.fatal:
            yield report, None
            continue
        rs = _registers(report, tables, part)
        yield rs.report, rs


def _ordered_errors(report: ValidationReport, missing: list[str], delivery: list[str]) -> list[str]:
    """The fatal messages in the whole read's order: required tables missing, then each
    table's problem in reading order, then the delivery's conditions."""
    table_errors = [e for name in _ORDER if name in report.tables
                    for e in report.tables[name].errors if e not in delivery]
    return list(dict.fromkeys([*missing, *table_errors, *delivery]))


#: notes about a file rather than its rows: each partition of the file notes them alike
FILE_NOTES = frozenset({"utf8_bom", "semicolon_delimited", "encoding_cp1252", "header_only",
                        "nullable_column_absent"})


def combine_reports(reports: list[ValidationReport]) -> ValidationReport:
    """Sum per-partition row accounting (tables without persons counted once).

    Notes about a file (:data:`FILE_NOTES`) count once; the example lines of a reason are the
    first of the delivery (each partition's are its first, in file order).
    """
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
                acc.lines[r] = sorted(acc.lines.get(r, []) + list(t.lines.get(r, ())))[:SHOW_LINES]
            for r, c in t.notes.items():
                acc.notes[r] = max(acc.notes.get(r, 0), c) if r in FILE_NOTES else acc.notes.get(r, 0) + c
            for col, (kind, present, bad, line) in t.typed.items():
                _, p0, b0, l0 = acc.typed.get(col, (kind, 0, 0, None))
                lines = [x for x in (l0, line) if x is not None]
                acc.typed[col] = (kind, p0 + present, b0 + bad, min(lines) if lines else None)
            acc.errors.extend(t.errors)
    for acc in out.tables.values():
        # reasons in the order the whole read counts them (the order of REASONS)
        acc.quarantined = {r: acc.quarantined[r] for r in REASONS if r in acc.quarantined}
        if not acc.errors:  # a table that could not be read stays open, as in the whole read
            acc.close(kept=acc.kept, merged=acc.merged)
    return out
