"""Validate a register directory with full row accounting; :func:`read_registers`.

Order of checks for each table (a row gets the reason of the *first* check it fails):

1. ``malformed_row`` (CSV line with the wrong number of fields);
2. column by column, in schema order: ``missing_value``, ``control_character`` (ids and
   text), ``unparseable_date``, ``unparseable_number``, ``unknown_code``, ``out_of_range``
   (see :mod:`.columns`);
3. ``future_date``: an event date after ``as_of`` (planned ends, announced IPS starts and
   code reforms are exempt);
4. ``end_before_start`` (spells; IPS episodes ending before referral), ``death_before_birth``,
   ``unknown_code`` for a diagnosis code that does not fit its system (ICD-10 ``F20.0``,
   ICPC-2 ``P76``);
5. exact duplicate records of non-spell tables are folded into one (``merged``); remaining
   rows sharing a unique key (``persons.person_id``, ``municipalities.municipality``,
   ``specialist_weeks`` specialist and week) conflict and are all quarantined as
   ``duplicate_key`` -- which row is right cannot be told;
6. ``unknown_person``: person-linked rows whose ``person_id`` is not among the kept persons;
   then ``before_birth`` / ``after_death`` by the row's start or date, and spells open past
   death are ended on the death date (:func:`_life_checks`);
7. residence: spells of one person starting the same day in different municipalities are
   ``overlapping_residence``; a spell overlapping a later-starting spell is ended the day
   before it (a move supersedes a stale end date; counted as the ``residence_truncated`` note);
8. spell merging (:mod:`.spells`): benefits by person, benefit and grade; residence by person
   and municipality; employment by person, employer, fte and wage. Overlapping employment
   spells with different employers (or terms) are several jobs at once and are kept.

After all tables, :func:`delivery_errors` adds the fatal conditions of the whole delivery: an
empty person table, and a table with rows none of which is kept.

``as_of`` defaults to :data:`DEFAULT_AS_OF` -- a fixed date, never the clock, so that the same
files always give the same report; pass the delivery's extraction date instead.

Example
-------
>>> import tempfile
>>> from ips_study.registers.validate import validate_directory
>>> rep = validate_directory(tempfile.mkdtemp())
>>> rep.fatal, rep.errors[0].split(":")[0]
(True, 'persons')
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..columnmap import rename_delivered
from ..workarea import default_quarantine
from .registerset import RegisterSet
from .columns import Coded, R, Parsed, parse_column
from .blocks import GroupKey, concat_parts, counts, first_appearance_index, merge_blocks, person_blocks
from .frames import assemble_frame, plain, take_rows
from .ids import KnownIds
from .readers import SUFFIXES, RawTable, find_table_files, read_file, shown_names
from .report import REASONS, SHOW_LINES, RegisterError, TableReport, ValidationReport
from .schema import TABLES, Table
from .spells import _NAT, from_days, merge_days, merge_days_blocks, truncate_residence

#: Default as-of date for the future-date check (fixed for reproducibility).
DEFAULT_AS_OF = "2026-12-31"

_PARALLEL_ROWS = 200_000
#: largest product of key sizes merged block by block (the same bound as in :func:`_group`)
_BLOCK_CODE_LIMIT = 2**40
_REASON_NAMES = np.array([""] + list(REASONS), dtype=object)
_ICD10 = r"[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?"
_ICPC2 = r"[A-Z][0-9]{2}(\.[0-9]{1,2})?"
_ORDER = ("persons", "municipalities", "municipality_changes", "residence", "benefits",
          "employment", "diagnoses", "ips_caseload", "specialist_weeks")

_README = """CONFIDENTIAL: quarantined register rows.

These files hold rows that failed validation, exactly as delivered, with their source line
(`line`: physical CSV line, header = 1; row number for Parquet/SAS/Stata) and a `reason` code.
They contain person identifiers: they must stay in the protected data area, and must never
be copied to output folders, reports, issues or version control.
"""


def validate_directory(path, *, quarantine_dir=None, as_of=None, columns=None) -> ValidationReport:
    """Validate every register table in ``path``; never raises for data problems.

    Parameters
    ----------
    path : str or Path
        Directory with one file per table (``<table>.csv|.parquet|.sas7bdat|.dta``).
    quarantine_dir : str or Path, optional
        Where quarantined rows are written (they hold person ids); default: a folder of the
        confidential work area (:func:`ips_study.workarea.default_quarantine`), never
        beside the input data.
    as_of : date-like, optional
        Dates after this are ``future_date`` (default :data:`DEFAULT_AS_OF`).
    columns : mapping, optional
        Delivered variable names per table (``StudyConfig.columns``, the study file's
        ``[columns.<table>]``), renamed to the data contract's columns before validation
        (:mod:`ips_study.columnmap`).

    Returns
    -------
    ValidationReport
        ``report.fatal`` is true if a table or column is missing or unreadable.

    Examples
    --------
    >>> rep = validate_directory("synthetic_data")  # doctest: +SKIP
    >>> print(rep.to_text())  # doctest: +SKIP
    """
    return _run(path, quarantine_dir, as_of, columns)[0]


def read_registers(path, *, quarantine_dir=None, as_of=None, columns=None) -> RegisterSet:
    """Read, validate and merge a register directory into a :class:`RegisterSet`.

    Same arguments as :func:`validate_directory`. The tables follow the conventions in the
    :class:`RegisterSet` docstring; ``.report`` holds the :class:`ValidationReport`.

    Raises
    ------
    RegisterError
        On a fatal problem (missing required table or column, unreadable file, a column
        wholly of the wrong type); the message names file, column and line, and
        ``exc.report`` holds the full report.

    Examples
    --------
    >>> rs = read_registers("synthetic_data")  # doctest: +SKIP
    >>> rs["benefits"].dtypes["start_date"]  # doctest: +SKIP
    dtype('<M8[ns]')
    """
    return _registers(*_run(path, quarantine_dir, as_of, columns), path)


def _registers(report: ValidationReport, tables, path) -> RegisterSet:
    """The register set of a validated directory; :class:`RegisterError` if fatal."""
    if report.fatal:
        errors = report.all_errors()
        more = f" (and {len(errors) - 1} more fatal problem(s); see exc.report)" if len(errors) > 1 else ""
        raise RegisterError(errors[0] + more, report=report)
    return RegisterSet(tables, report=report, source=str(path), meta={"as_of": report.as_of})


def _wrong_type(file: str, column: str, line: int, kind: str) -> str:
    return (f"{file}, column {column!r}, line {line}: no value can be read as {kind}"
            " -- the column is wholly of the wrong type")


def typed_errors(report: ValidationReport) -> list[str]:
    """Columns wholly of the wrong type, from the summed counts of a partitioned read.

    A partition's rows alone do not tell: one readable value in another partition makes the
    column's unreadable values quarantined rows rather than a fatal error, as when the
    delivery is read whole. Each such column becomes an error of its table (which then
    counts as not read); the line is the first unreadable row of the delivery.
    """
    errors = []
    for name, t in report.tables.items():
        for column, (kind, present, bad, line) in t.typed.items():
            if present and bad == present and not t.errors:
                e = _wrong_type(t.file or name, column, line, kind)
                t.errors.append(e)
                errors.append(e)
    return errors


def delivery_errors(report: ValidationReport) -> list[str]:
    """Fatal conditions of a whole delivery that no single row shows.

    * an empty person table (no data row, or every row quarantined): every person-linked row
      would be ``unknown_person`` and the study would have no population;
    * a table with rows of which none is kept: all rows failing one way (a trailing comma on
      every line, a wrong date format throughout) is a broken file, not bad rows.

    Checked on the whole delivery; a partitioned read (:mod:`.partition`) checks the summed
    counts after its last partition.
    """
    errors = []
    for name, t in report.tables.items():
        if t.errors or not t.closed:
            continue
        file = t.file or name
        if name == "persons" and t.read == 0:
            errors.append(f"{file}, line 2: the person table has no data rows (header only); every"
                          " person-linked row would be unknown_person")
        elif t.read and t.kept + t.merged == 0:
            worst = max(t.quarantined, key=t.quarantined.get)
            first = t.lines.get(worst, [])
            at = f", line {first[0]}" if first else ""
            errors.append(f"{file}{at}: none of the {t.read:,} rows can be used (quarantined: "
                          + ", ".join(f"{r} {n:,}" for r, n in t.quarantined.items())
                          + "); the file as a whole is broken")
    return errors


def _run(path, quarantine_dir, as_of, columns=None, whole: bool = True, malformed=None,
         notes=None, own=None, failed=None, missing=None) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Validate the directory ``path``.

    ``whole=False`` for a person partition (:mod:`.partition`): its delivery-level checks,
    including a column wholly of the wrong type, wait for the summed counts
    (:func:`typed_errors`, :func:`delivery_errors`). For a partition, ``malformed`` (table ->
    ``(line, text)``) adds the rows the split set aside, ``notes`` (table -> notes) the CSV
    reading notes of the delivered file, and ``own`` names the tables whose quarantined rows
    this partition writes (``None``: all; a table copied to every partition is written once).
    ``failed`` (table -> ``(file, message)``) are tables the split found fatal (a bad header,
    an unreadable file): reported as such in their place (``None``: left out unreported, as
    another partition reports it); ``missing``: the delivery's
    messages for required tables without a file (instead of this directory's).
    """
    path = Path(path)
    as_of_ts = pd.Timestamp(DEFAULT_AS_OF if as_of is None else as_of).normalize()
    qdir = Path(quarantine_dir) if quarantine_dir is not None else default_quarantine(path)
    report = ValidationReport(source=str(path), as_of=str(as_of_ts.date()), quarantine_dir=str(qdir))
    tables: dict[str, pd.DataFrame] = {}
    if not path.is_dir():
        report.errors.append(f"{path}: not a directory")
        return report, tables
    try:
        files = find_table_files(path, TABLES)
    except RegisterError as exc:
        report.errors.append(str(exc))
        return report, tables
    report.errors.extend(missing_tables(files, path) if missing is None else missing)
    as_of_day = int(np.datetime64(as_of_ts.date(), "D").astype(np.int64))
    person_ids = None
    quarantine: dict[str, pd.DataFrame] = {}
    for name in _ORDER:
        if failed and name in failed:  # as the whole read reports a table it cannot read
            if failed[name] is None:  # reported by another partition
                continue
            file, message = failed[name]
            report.tables[name] = TableReport(name, file=file, errors=[message])
            report.errors.append(message)
            continue
        if name not in files:
            continue
        tr = TableReport(name, file=files[name].name)
        report.tables[name] = tr
        try:
            raw = rename_delivered(read_file(files[name]), name, columns)
            tr.file = raw.file.name  # a partition file names the delivered file
            if malformed and name in malformed:
                raw.malformed = raw.malformed + list(malformed[name])
            if notes and name in notes:
                raw.notes = {**raw.notes, **notes[name]}
            df, q, kept_ids = _validate_table(raw, TABLES[name], tr, as_of_day, person_ids, whole)
        except RegisterError as exc:
            tr.errors.append(str(exc))
            report.errors.append(str(exc))
            continue
        tables[name] = df
        if own is None or name in own:
            quarantine[name] = q
        if name == "persons":
            person_ids = kept_ids
    _write_quarantine(qdir, quarantine)
    if whole:
        for e in delivery_errors(report):
            report.errors.append(e)
            name = next((n for n, t in report.tables.items() if e.startswith((t.file or n) + ",")), None)
            if name:
                report.tables[name].errors.append(e)
    return report, tables


def missing_tables(files: dict, path: Path) -> list[str]:
    """One error per required table without a file in ``path``."""
    return [f"{name}: required table missing (no {name}{'/'.join(SUFFIXES)} in {path})"
            for name in TABLES if TABLES[name].required and name not in files]


def _write_quarantine(qdir: Path, quarantine: dict[str, pd.DataFrame]) -> None:
    for name, q in quarantine.items():
        target = qdir / f"{name}.csv"
        if len(q):
            qdir.mkdir(parents=True, exist_ok=True)
            (qdir / "README_CONFIDENTIAL.txt").write_text(_README, encoding="utf-8")
            q.to_csv(target, index=False)
        elif target.exists():  # a stale file from an earlier run would mislead
            target.unlink()


def check_header(file_name: str, found: list[str], table: Table) -> None:
    """Raise :class:`RegisterError` for a header that cannot be read as ``table``: a name given
    twice, no column of the table at all (the header line is missing), a required column
    missing. ``found``: the header names as delivered (after the study file's renames). The
    partitioned read checks headers with this before splitting (:mod:`.partition`)."""
    known = {c.name for t in TABLES.values() for c in t.columns}
    seen: dict[str, int] = {}
    for i, c in enumerate(found, 1):
        if c.lower() in seen:
            # Arrow cannot tell two columns of one name apart ('Field exists 2 times')
            what = repr(c) if c in known or c.lower() in known else "a field"
            raise RegisterError(f"{file_name}, column {what}, line 1: the header names this column twice"
                                f" (fields {seen[c.lower()]} and {i}); rename or drop one")
        seen[c.lower()] = i
    if not set(n.lower() for n in found) & set(table.names):
        # no column of the table at all: most likely the header line is missing, and line 1
        # is a data row -- its values (person ids, dates) must not appear in the message
        raise RegisterError(f"{file_name}, line 1: no column of table {table.name!r} in the header line"
                            f" ({len(found)} field(s), none named {', '.join(table.names)});"
                            " is the header line missing?")
    lower = {c.lower() for c in found}
    for col in table.columns:
        if col.name.lower() not in lower and not col.nullable:
            raise RegisterError(f"{file_name}, column {col.name!r}, line 1: required column missing"
                                f" from the header (found: {shown_names(found, known)})")


def _match_columns(raw: RawTable, table: Table, tr: TableReport) -> pa.Table:
    data = raw.data
    found = list(data.column_names)
    check_header(raw.file.name, found, table)
    lower = {c.lower(): c for c in found}
    names = list(found)
    for col in table.columns:
        if col.name not in names and col.name.lower() in lower:
            names[names.index(lower[col.name.lower()])] = col.name
    data = data.rename_columns(names)
    for col in table.columns:
        if col.name not in data.column_names:  # only nullable ones (check_header)
            data = data.append_column(col.name, pa.nulls(data.num_rows, pa.string()))
            tr.note("nullable_column_absent")
    return data


def _workers(n: int) -> int:
    """Threads worth using for ``n`` rows (Arrow and NumPy release the GIL)."""
    return (os.cpu_count() or 1) if n >= _PARALLEL_ROWS else 1


def _first(reason: np.ndarray, code: int, mask: np.ndarray) -> None:
    """Give ``code`` to rows in ``mask`` that have no reason yet (first failing check wins)."""
    reason[mask & (reason == 0)] = code


def _validate_table(raw: RawTable, table: Table, tr: TableReport, as_of_day: int, person_ids,
                    whole: bool = True):
    for k, v in raw.notes.items():
        tr.note(k, v)
    data = _match_columns(raw, table, tr)
    n = data.num_rows
    tr.read = n + len(raw.malformed)
    end_col = table.spell[1] if table.spell else None
    reason = np.zeros(n, dtype=np.int8)
    decimal_comma = raw.delimiter in (";", "\t")

    def parse(col):
        try:
            return parse_column(data.column(col.name), col, end=col.name == end_col, decimal_comma=decimal_comma)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
            raise RegisterError(f"{raw.file.name}, column {col.name!r}, line {int(raw.line[0]) if n else 1}:"
                                f" cannot read type {data.column(col.name).type} as {col.kind} ({type(exc).__name__})")

    if n >= _PARALLEL_ROWS:  # Arrow and NumPy release the GIL: columns parse side by side
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(parse, table.columns))
    else:
        results = [parse(col) for col in table.columns]
    parsed: dict[str, Parsed] = {}
    for col, p in zip(table.columns, results):
        if col.kind != "id" and col.kind != "str" and whole and p.n_present and p.n_bad == p.n_present:
            line = int(raw.line[np.flatnonzero(p.reason)[0]]) if p.reason.any() else int(raw.line[0])
            raise RegisterError(_wrong_type(raw.file.name, col.name, line, col.kind))
        if col.kind != "id" and col.kind != "str" and not whole:
            # a partition: whether the column is wholly wrong is known from the summed counts
            line = int(raw.line[np.flatnonzero(p.reason)[0]]) if p.reason.any() else None
            tr.typed[col.name] = (col.kind, p.n_present, p.n_bad, line)
        for k, v in p.notes.items():
            tr.note(k, v)
        np.copyto(reason, p.reason, where=reason == 0)
        p.reason = None  # folded into the row reasons; free it
        parsed[col.name] = p
    for col in table.columns:
        if col.kind == "date" and not col.future_ok:
            v = parsed[col.name].values
            _first(reason, R["future_date"], (v != _NAT) & (v > as_of_day))
    _row_checks(table, parsed, reason)
    # the person check comes before duplicate folding, so a row is never both merged and
    # quarantined (a duplicated row of an unknown person is quarantined twice, not merged)
    if table.person_linked and person_ids is not None:
        ids = parsed["person_id"].values
        uniq = ids.arrow if ids.arrow is not None else pa.array(ids.uniques, pa.string())
        known = np.append(person_ids.contains(uniq), True)[ids.codes]
        _first(reason, R["unknown_person"], ~known)
        del known
        _life_checks(table, parsed, reason, person_ids, uniq, tr)
    if table.spell is None:
        merged = np.zeros(n, dtype=bool)  # folded into another row
        _duplicates(table, parsed, reason, merged, tr)
        keep, end_override = np.flatnonzero((reason == 0) & ~merged), None
    else:
        keep, end_override = _merge(table, parsed, reason, tr)  # end_override: the kept rows' ends
        merged = reason == 0  # every good row not kept was folded into a kept one
        merged[keep] = False
    tr.quarantine("malformed_row", len(raw.malformed), [ln for ln, _ in raw.malformed])
    for r, cnt in enumerate(_reason_counts(reason)):
        if r and cnt:
            tr.quarantine(REASONS_LIST[r - 1], int(cnt), raw.line[np.flatnonzero(reason == r)[:SHOW_LINES]])
    tr.close(kept=len(keep), merged=int(merged.sum()))
    kept_ids = None
    if table.name == "persons":  # the ids later tables are checked against
        ids = parsed["person_id"].values
        kept_ids = pa.array(ids.uniques, pa.string()) if ids.arrow is None else ids.arrow
        kept_ids = KnownIds(kept_ids.take(pa.array(ids.codes[keep])))
        kept_ids.birth = parsed["birth_date"].values[keep]
        kept_ids.death = parsed["death_date"].values[keep]
    q = _quarantine_frame(raw, data, reason)
    df = _typed_frame(data, table, parsed, keep, end_override)  # consumes parsed
    return df, q, kept_ids


REASONS_LIST = list(REASONS)
#: the date that places a row of a person-linked table in the person's life
_LIFE_DATE = {"diagnoses": "date", "ips_caseload": "referral_date"}


def _life_checks(table: Table, parsed, reason: np.ndarray, person_ids: KnownIds, uniq: pa.Array,
                 tr: TableReport) -> None:
    """Class rows against the person's birth and death.

    A spell (its start) or event before birth is ``before_birth``; one starting after death is
    ``after_death``. A spell that starts in life and is open or ends after death is kept and
    ended on the death date (note ``ended_at_death``): the person was on the benefit, in the
    job or in the municipality until death, and a late or missing end registration should not
    cost the spell. Works block by block, so no table-sized index arrays are built.
    """
    col = table.spell[0] if table.spell else _LIFE_DATE.get(table.name)
    if col is None or person_ids.birth is None or not len(reason):
        return
    pos_u = np.append(person_ids.index(uniq), -1)  # last slot: missing id
    birth, death = np.append(person_ids.birth, _NAT), np.append(person_ids.death, _NAT)
    codes, start = parsed["person_id"].values.codes, parsed[col].values
    end = parsed[table.spell[1]].values if table.spell else None
    n_ended = 0
    for a in range(0, len(reason), _LIFE_BLOCK):
        r = reason[a:a + _LIFE_BLOCK]
        pos = pos_u[codes[a:a + _LIFE_BLOCK]]
        b, d, s = birth[pos], death[pos], start[a:a + _LIFE_BLOCK]
        dated = (r == 0) & (s != _NAT)
        _first(r, R["before_birth"], dated & (b != _NAT) & (s < b))
        _first(r, R["after_death"], dated & (d != _NAT) & (s > d))
        if end is not None:
            e = end[a:a + _LIFE_BLOCK]
            cut = (r == 0) & (d != _NAT) & ((e == _NAT) | (e > d))
            e[cut] = d[cut]
            n_ended += int(cut.sum())
    tr.note("ended_at_death", n_ended)


_LIFE_BLOCK = 1 << 20


def _reason_counts(reason: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """Rows per reason code (``np.bincount`` of int8 would first copy the codes to int64)."""
    return counts(reason, len(REASONS) + 1, block)


def _row_checks(table: Table, parsed: dict[str, Parsed], reason: np.ndarray) -> None:
    pairs = [table.spell] if table.spell else []
    if table.name == "ips_caseload":
        pairs = [("referral_date", "end_date")]
    for s, e in pairs:
        sv, ev = parsed[s].values, parsed[e].values
        _first(reason, R["end_before_start"], (sv != _NAT) & (ev != _NAT) & (ev < sv))
    if table.name == "persons":
        b, d = parsed["birth_date"].values, parsed["death_date"].values
        _first(reason, R["death_before_birth"], (b != _NAT) & (d != _NAT) & (d < b))
    if table.name == "diagnoses":
        code = parsed["code"].values.recode([u.upper() for u in parsed["code"].values.uniques])
        parsed["code"].values = code
        system = parsed["system"].values
        u = pd.Series(code.uniques, dtype=object)
        icd = np.append(u.str.fullmatch(_ICD10).to_numpy(dtype=bool), False)[code.codes]
        icpc = np.append(u.str.fullmatch(_ICPC2).to_numpy(dtype=bool), False)[code.codes]
        sys_name = system.take(np.arange(len(reason)))
        ok = ((sys_name == "ICD10") & icd) | ((sys_name == "ICPC2") & icpc)
        _first(reason, R["unknown_code"], ~ok)


def _frame(parsed: dict[str, Parsed], names, rows: np.ndarray) -> pd.DataFrame:
    """Rows as comparable columns: text as its integer codes, dates and numbers as they are."""
    out = {}
    for c in names:
        v = parsed[c].values
        out[c] = v.codes[rows] if isinstance(v, Coded) else v[rows]
    return pd.DataFrame(out)


def _duplicates(table: Table, parsed, reason, merged, tr: TableReport) -> None:
    good = np.flatnonzero(reason == 0)
    if len(good) < 2:
        return
    if _distinct(parsed[table.columns[0].name].values, good):
        # one column (the id) never repeats, so no row repeats and no key can clash
        if not table.unique or table.columns[0].name in table.unique:
            return
    frame = _frame(parsed, [c.name for c in table.columns], good)
    dup = frame.duplicated(keep="first").to_numpy()
    merged[good[dup]] = True
    tr.note("exact_duplicates_merged", int(dup.sum()))
    if table.unique:
        rest = ~dup
        clash = np.zeros(len(good), bool)
        clash[rest] = frame.loc[rest, list(table.unique)].duplicated(keep=False).to_numpy()
        reason[good[clash]] = R["duplicate_key"]


def _distinct(v, rows: np.ndarray) -> bool:
    """Whether a text column holds a different, non-missing value in each of ``rows``."""
    if not isinstance(v, Coded) or len(v.uniques) < len(rows):
        return False
    c = v.codes[rows]
    return bool(c.min() >= 0 and np.bincount(c, minlength=len(v.uniques)).max() <= 1)


def _codes(v, rows) -> tuple[np.ndarray, int]:
    """Group numbers of one key column at ``rows`` and how many there can be."""
    if isinstance(v, Coded):
        k = len(v.uniques)
        c = v.codes[rows]
        return np.where(c < 0, k, c), k + 1
    c, u = pd.factorize(v[rows], use_na_sentinel=False)
    return c.astype(np.int64), max(len(u), 1)


def _group(parsed, names, rows) -> np.ndarray:
    code = np.zeros(len(rows), np.int64)
    workers = min(_workers(len(rows)), len(names))
    if workers > 1:  # gathers and factorizing release the GIL: key columns side by side
        with ThreadPoolExecutor(max_workers=workers) as pool:
            keys = list(pool.map(lambda name: _codes(parsed[name].values, rows), names))
    else:
        keys = [_codes(parsed[name].values, rows) for name in names]
    for c, k in keys:
        code = code * k + c
        if len(code) and code.max() > 2**40:  # stay far from int64 overflow
            code = pd.factorize(code)[0].astype(np.int64)
    return code


def _group_key(v, ok: np.ndarray) -> GroupKey:
    if isinstance(v, Coded):
        return GroupKey(codes=v.codes, n_values=len(v.uniques))
    return GroupKey(values=v, index=first_appearance_index(v, ok, workers=_workers(len(ok))))


def _merge(table: Table, parsed, reason: np.ndarray, tr: TableReport):
    s, e = table.spell
    if table.name == "residence":
        good = np.flatnonzero(reason == 0)
        start, end = parsed[s].values[good], parsed[e].values[good]
        person = _group(parsed, ["person_id"], good)
        muni = _group(parsed, ["municipality"], good)
        # same person, same start, different municipality: no way to tell where they lived
        key = pd.factorize(person * (int(start.max() - start.min()) + 1 if len(start) else 1)
                           + (start - (start.min() if len(start) else 0)))[0]
        lo = pd.Series(muni).groupby(key).transform("min").to_numpy()
        hi = pd.Series(muni).groupby(key).transform("max").to_numpy()
        clash = lo != hi
        reason[good[clash]] = R["overlapping_residence"]
        keep = ~clash
        good, start, end, person, muni = good[keep], start[keep], end[keep], person[keep], muni[keep]
        end, truncated = truncate_residence(person, start, end, muni)
        tr.note("residence_truncated", int(truncated.sum()))
        code = person * (int(muni.max()) + 1 if len(muni) else 1) + muni
        first, new_end = merge_days(code, start, end)
        order = np.lexsort((start[first], person[first]))  # residence history in time order
        first, new_end = first[order], new_end[order]
    else:
        names = ["person_id", *table.merge_keys]
        ok = reason == 0
        person = parsed["person_id"].values.codes
        keys = [_group_key(parsed[name].values, ok) for name in names]
        if np.prod([float(k.k) for k in keys]) <= _BLOCK_CODE_LIMIT:
            rows = None
            blocks = person_blocks(person, ok)
            if blocks is None:  # not sorted by person: cut the blocks from a person order
                good = np.flatnonzero(ok)
                rows = good[np.argsort(person[good], kind="stable")]
                del good
                blocks = person_blocks(person[rows], np.ones(len(rows), bool))
            parts = merge_blocks(keys, parsed[s].values, parsed[e].values, ok, blocks,
                                 workers=_workers(len(ok)), rows=rows)
            # the delivered ends are no longer needed (the merged ends replace them): free
            # their pages before the joined result takes fresh ones
            parsed[e].values = None
            return concat_parts(parts)
        # group numbers too large to combine block by block: merge the table whole
        good = np.flatnonzero(ok)
        code = _group(parsed, names, good)
        first, new_end = merge_days_blocks(code, parsed[s].values[good], parsed[e].values[good],
                                           workers=_workers(len(code)))
    return good[first], new_end


def _typed_frame(data: pa.Table, table: Table, parsed, keep: np.ndarray, end_override) -> pd.DataFrame:
    """The kept rows as a DataFrame; empties ``parsed`` as it goes, so that each column's
    parsed values are freed before the next output column is allocated."""
    def numeric(col):
        v = parsed.pop(col.name).values
        if col.kind == "date":
            # both are fresh arrays of the kept rows: convert them where they are
            days = end_override if (table.spell and col.name == table.spell[1]) else v[keep]
            return from_days(np.asarray(days, np.int64), inplace=True)
        return v[keep].astype(np.int64) if col.kind == "int" else v[keep]

    nums = [c for c in table.columns if c.kind in ("date", "int", "float")]
    pool = ThreadPoolExecutor(max_workers=1) if _workers(len(keep)) > 1 and nums else None
    # gathers of numbers release the GIL, building object columns holds it: side by side
    futures = {c.name: pool.submit(numeric, c) for c in nums} if pool else {}
    out = {}
    for col in table.columns:
        if col.kind in ("date", "int", "float"):
            out[col.name] = None if pool else numeric(col)
        else:
            out[col.name] = parsed.pop(col.name).values.take(keep)
    if pool:
        out.update({name: f.result() for name, f in futures.items()})
        pool.shutdown()
    names = set(table.names)
    for c in data.column_names:
        if c not in names:  # extra columns are kept as delivered
            out[c] = plain(data.column(c)).take(pa.array(keep, pa.int64())).to_pandas().to_numpy()
    return assemble_frame(out)


def _quarantine_frame(raw: RawTable, data: pa.Table, reason: np.ndarray) -> pd.DataFrame:
    bad = np.flatnonzero(reason)
    q = take_rows(data, bad)
    q.insert(0, "reason", _REASON_NAMES[reason[bad]])
    q.insert(0, "line", raw.line[bad])
    if raw.malformed:
        m = pd.DataFrame({"line": [ln for ln, _ in raw.malformed], "reason": "malformed_row",
                          "raw_text": [t for _, t in raw.malformed]})
        q = pd.concat([q, m], ignore_index=True).sort_values("line", kind="stable")
    return q.reset_index(drop=True)
