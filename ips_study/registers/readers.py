"""Read one register file (CSV, Parquet, SAS ``.sas7bdat``, Stata ``.dta``) into Arrow.

Readers do no validation: they return every column as delivered (CSV: all strings) together
with the source line of each row, so that later checks can name the line of a bad row.
Line numbers are physical CSV lines (the header is line 1); for Parquet, SAS and Stata files
they are 1-based row numbers. CSV specifics handled here: UTF-8 with or without byte order
mark, Windows-1252 files (Norwegian Excel), semicolon- or tab-delimited files, blank lines
(skipped and counted) and lines with the wrong number of fields (returned separately, to be
quarantined as ``malformed_row``). A quoted field spanning several lines moves every later
row down the file; line numbers count physical lines all the same (:mod:`.csvtext`, shared
with the streaming reader of :mod:`.partition`).

Example
-------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "persons.csv").write_text("person_id;sex\\np1;2\\n")
>>> raw = read_file(d / "persons.csv")
>>> raw.data.column_names, raw.line.tolist(), raw.delimiter
(['person_id', 'sex'], [2], ';')
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .csvtext import NEWLINES_IN_VALUES, PhysicalLines, file_encoding, newlines_per_row, reading_notes
from .report import RegisterError

#: File suffixes recognised, in order of preference.
SUFFIXES = (".parquet", ".csv", ".sas7bdat", ".dta")


@dataclass
class RawTable:
    """A file as delivered: ``data`` (Arrow table), ``line`` (source line of each row),
    ``malformed`` ((line, text) of CSV lines with the wrong field count) and reading notes."""

    file: Path
    data: pa.Table
    line: np.ndarray
    malformed: list[tuple[int, str]] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    delimiter: str | None = None
    typed: bool = False  # True when columns carry their own types (Parquet, SAS, Stata)


def find_table_files(path: Path, tables) -> dict[str, Path]:
    """Map table name to its file in ``path``; two files for one table is fatal.

    A file belongs to a table when the part of its name before the first dot is the table
    name in any letter case (``persons.csv``, ``PERSONS.CSV``, ``Persons.parquet``, and also
    ``persons.csv.bak`` or ``persons.xlsx``): several such files leave it open which one is
    the delivery, so the error names them all rather than silently picking one.
    """
    entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    found: dict[str, Path] = {}
    for name in tables:
        hits = [p for p in entries if p.name.split(".", 1)[0].lower() == name and "." in p.name]
        if len(hits) > 1:
            raise RegisterError(f"{path}: table {name!r} is delivered in {len(hits)} files"
                                f" ({', '.join(h.name for h in hits)}); keep one file per table")
        if hits:
            found[name] = hits[0]
    return found


def read_file(file: Path) -> RawTable:
    """Read one register file; raise :class:`RegisterError` if it cannot be parsed at all."""
    file = Path(file)
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(file)
        if suffix == ".parquet":
            data = _read_parquet(file)
        elif suffix == ".dta":
            data = _from_pandas(pd.read_stata(file, convert_categoricals=False))
        elif suffix == ".sas7bdat":
            data = _from_pandas(pd.read_sas(file, format="sas7bdat", encoding="infer"))
        else:
            raise RegisterError(f"{file.name}: unsupported file type {suffix!r} (use {', '.join(SUFFIXES)})")
    except RegisterError:
        raise
    except Exception as exc:  # any reader failure means the file is unreadable: fatal
        raise RegisterError(f"{file.name}, line 1: cannot read file:"
                            f" {type(exc).__name__}: {_safe(str(exc))}") from exc
    data = data.rename_columns([clean_name(str(c)) for c in data.column_names])
    raw = RawTable(file, data, np.arange(1, data.num_rows + 1, dtype=np.int64), typed=True)
    return _partition_origin(raw) if suffix == ".parquet" else raw


#: A person partition's Parquet file (:mod:`.partition`) names the delivered file and its CSV
#: delimiter in its schema metadata and carries each row's delivered line in a column, so that
#: reports and quarantine files point into the delivery, and decimal commas stay readable.
SOURCE_KEY, DELIMITER_KEY, LINE_COLUMN = b"ips_study.source", b"ips_study.delimiter", "source_line"


def _partition_origin(raw: RawTable) -> RawTable:
    meta = pq.read_schema(raw.file).metadata or {}  # the dataset reader drops the metadata
    if SOURCE_KEY not in meta or LINE_COLUMN not in raw.data.column_names:
        return raw
    i = raw.data.column_names.index(LINE_COLUMN)
    line = raw.data.column(i).to_numpy().astype(np.int64)
    delimiter = meta[DELIMITER_KEY].decode() if DELIMITER_KEY in meta else None
    return RawTable(raw.file.with_name(meta[SOURCE_KEY].decode()), raw.data.remove_column(i), line,
                    delimiter=delimiter, typed=delimiter is None)


#: Memory pool for reading. Arrow's default (mimalloc) hands freed memory back to the kernel
#: within milliseconds, so decoding a large file row group by row group takes fresh pages from
#: the kernel again and again -- zeroed, and on a virtual machine backed by the host each time;
#: the system allocator keeps and reuses them. Reading the 20-million-row benchmark file took
#: 2.1 s with the default pool and 1.0 s with this one (docs/benchmarks.md).
READ_POOL = pa.system_memory_pool()


def _read_parquet(file: Path) -> pa.Table:
    """Text columns come back as Arrow dictionaries straight from Parquet's dictionary pages.

    Validation only ever needs the distinct values of a text column and an integer code per
    row; asking Arrow for that directly skips building (and later hashing) one string per row,
    which is most of the cost of reading a large delivery. Read through the dataset API, which
    takes a memory pool (:data:`READ_POOL`); rows come back in file order.
    """
    schema = pq.read_schema(file)
    names = [clean_name(str(n)).lower() for n in schema.names]
    if len(set(names)) < len(names):
        # a name given twice: the dataset API cannot unify such a schema ("duplicate field
        # names"); read it plainly, so that the header check names the column as for a CSV
        return pq.ParquetFile(file).read()
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=text))
    return ds.dataset(file, format=fmt).to_table(memory_pool=READ_POOL)


def clean_name(name: str) -> str:
    """A header name without surrounding spaces or quotes (`` "person_id" `` -> ``person_id``).

    A space before an opening quote makes the CSV module keep the quotes as part of the
    name; they are never part of a column name.
    """
    name = name.strip()
    while len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return name


#: What a column name may look like when it is shown in a message: letters, underscores and
#: spaces, no digits. A header line that is really a data row (header missing) then shows no
#: person id, date or number; the names of the schema are shown whatever they look like.
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z_ ]{0,39}")


def shown_names(names, known=()) -> str:
    """Header names for a message, each one that may be row content replaced by its position.

    >>> shown_names(["person_id", "0000012345", "1985-11-25"])
    "'person_id', <field 2>, <field 3>"
    """
    known = set(known)
    return ", ".join(repr(n) if n in known or _NAME_LIKE.fullmatch(n) else f"<field {i}>"
                     for i, n in enumerate(names, 1))


def _safe(msg: str) -> str:
    """First line of a reader's message, without any row content it may quote (person ids)."""
    first = msg.splitlines()[0] if msg else ""
    return re.sub(r"(got \d+)\s*:.*|(:\s*['\"]).*", r"\1", first)[:200]


def _from_pandas(df: pd.DataFrame) -> pa.Table:
    # SAS and Stata hand back object columns mixing str and NaN; Arrow makes them nullable strings
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda v: v.decode() if isinstance(v, bytes) else v)
    return pa.Table.from_pandas(df, preserve_index=False)


def _sniff(file: Path) -> tuple[str, str, bool, list[str]]:
    """Encoding, delimiter, BOM flag and header names from the first line."""
    with open(file, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        raise RegisterError(f"{file.name}, line 1: file is empty (no header line)")
    bom = head.startswith(b"\xef\xbb\xbf")
    first = head[3:] if bom else head
    first = first.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text, encoding = first.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        text, encoding = first.decode("cp1252"), "cp1252"
    counts = {d: text.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        delimiter = ","
    names = [clean_name(n) for n in next(csv.reader(io.StringIO(text), delimiter=delimiter))]
    if not any(names):
        raise RegisterError(f"{file.name}, line 1: header line is empty")
    return encoding, delimiter, bom, names


def blank_rows(table) -> np.ndarray:
    """Rows of an all-text table (or record batch) whose every field is empty or blank:
    a blank CSV line parses as such a row, and is no data row."""
    import pyarrow.compute as pc

    empty = None
    for col in table.columns:
        e = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0)
        empty = e if empty is None else pc.and_(empty, e)
    if empty is None:
        return np.zeros(table.num_rows, bool)
    return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)


def _read_csv(file: Path) -> RawTable:
    encoding, delimiter, bom, names = _sniff(file)
    encoding = file_encoding(file, encoding)
    block = 1 << 20  # Arrow's default block size

    def attempt(enc: str, threads: bool):
        bad: list[tuple[int | None, str]] = []

        def handler(row):
            bad.append((row.number, row.text))
            return "skip"

        table = pacsv.read_csv(
            file,
            read_options=pacsv.ReadOptions(encoding=enc, use_threads=threads, skip_rows=1, block_size=block,
                                           column_names=[f"c{i}" for i in range(len(names))]),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False,
                                             newlines_in_values=NEWLINES_IN_VALUES,
                                             invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(len(names))},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
            memory_pool=READ_POOL,
        )
        return table, bad

    try:
        try:
            table, bad = attempt(encoding, True)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise
            # one field longer than a block (a 10 MB value): read the file as one block
            block = int(min(max(file.stat().st_size + 1, block), 2**31 - 1))
            table, bad = attempt(encoding, True)
        if bad:  # physical line numbers are only known to the single-threaded reader
            table, bad = attempt(encoding, False)
    except pa.ArrowInvalid as exc:
        raise RegisterError(f"{file.name}, line 1: cannot parse CSV: {_safe(str(exc))}") from exc
    table = table.rename_columns(names)
    lines = PhysicalLines()
    for number, text in bad:
        lines.add_bad(number, text)
    line = lines.rows(table.num_rows, newlines_per_row(table))
    bad = lines.finish()
    # a blank line parses as a row of empty strings (or as a one-field malformed row)
    malformed = [(int(n), t) for n, t in bad if t.strip(delimiter + " \r\n")]
    n_blank = len(bad) - len(malformed)
    if table.num_columns and table.num_rows:
        blank = blank_rows(table)
        if blank.any():
            table = table.filter(pa.array(~blank))
            line = line[~blank]
            n_blank += int(blank.sum())
    notes = reading_notes(encoding=encoding, delimiter=delimiter, bom=bom, blank=n_blank,
                          header_only=table.num_rows == 0 and not malformed)
    return RawTable(file, table, line, malformed, notes, delimiter, typed=False)
