"""The validation report: what happened to every input row of every register table.

Each input row ends in exactly one of three states: *kept* (possibly repaired, e.g. a
municipality code whose leading zero was lost), *merged* (folded into another row: a duplicate,
overlapping or touching spell, or an exact duplicate record) or *quarantined* with one reason
code from :data:`REASONS`. ``kept + merged + quarantined == read`` is checked for every table
when its accounting is closed (:meth:`TableReport.close`), and a violation raises
``AssertionError`` even under ``python -O``.

The report never contains person identifiers: only counts, reason codes, file names, column
names and line numbers.

Example
-------
>>> t = TableReport("persons", file="persons.csv", read=3)
>>> t.quarantine("death_before_birth", 1)
>>> t.close(kept=2, merged=0)
>>> rep = ValidationReport({"persons": t})
>>> rep.fatal, int(rep.to_frame().loc["persons", "quarantined"])
(False, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: The fixed vocabulary of quarantine reason codes. The first twelve are in the order checks are
#: applied; the last three were added later (at the end, so that the stored codes keep their
#: numbers): ``control_character`` is a column check, ``before_birth`` and ``after_death`` follow
#: ``unknown_person``.
REASONS: dict[str, str] = {
    "malformed_row": "CSV line with the wrong number of fields",
    "missing_value": "empty value in a column that must not be empty",
    "unparseable_date": "date that is neither ISO YYYY-MM-DD nor FD-Trygd YYYYMM",
    "unparseable_number": "number column holding text (or a fraction in an integer column)",
    "unknown_code": "code outside the allowed values (benefit, sex, municipality, diagnosis ...)",
    "out_of_range": "number or date outside its plausible range (fte 0-100, monthly wage up to 2 million NOK,"
                    " year 1880-2100 ...; bounds and their sources in the schema)",
    "future_date": "event date after the as-of date of the delivery",
    "end_before_start": "spell whose end date is before its start date",
    "death_before_birth": "person whose death date is before the birth date",
    "duplicate_key": "conflicting rows for one key (e.g. two different rows for one person_id)",
    "unknown_person": "row for a person_id not among the kept persons",
    "overlapping_residence": "residence spells of one person starting the same day in different municipalities",
    "control_character": "text holding a line break or another control character (a quoted field spanning lines)",
    "before_birth": "spell or event starting before the person's birth date",
    "after_death": "spell or event starting after the person's death date",
}

#: Notes: repairs and reading facts counted in the report (rows stay kept).
NOTES: dict[str, str] = {
    "municipality_zero_padded": "3-digit municipality code given its lost leading zero (301 -> 0301)",
    "sex_code_recoded": "SSB sex code recoded (2 -> F, 1 -> M)",
    "code_alias": "code written in an accepted variant, recoded to the canonical code",
    "residence_truncated": "residence spell ended the day before a later move to another municipality",
    "blank_lines_skipped": "blank CSV lines skipped (not data rows)",
    "encoding_cp1252": "file not UTF-8: decoded as Windows-1252 (Norwegian Excel)",
    "utf8_bom": "UTF-8 byte order mark removed",
    "semicolon_delimited": "semicolon-delimited CSV with decimal commas (Norwegian Excel)",
    "decimal_comma": "numbers written with a decimal comma",
    "yyyymm_dates": "FD-Trygd YYYYMM dates read as first (start) or last (end) day of month",
    "header_only": "file has a header but no data rows",
    "ended_at_death": "spell open or ending after the person's death: ended on the death date",
    "nullable_column_absent": "optional (nullable) column not delivered: filled with empty values",
    "exact_duplicates_merged": "rows identical in every schema column folded into one (counted as merged)",
}


#: How many example line numbers per reason the report shows.
SHOW_LINES = 5


class RegisterError(ValueError):
    """A fatal problem in the register input: missing table or column, unreadable file,
    or a column that is wholly of the wrong type. The message names file, column and line."""

    def __init__(self, message: str, *, report: ValidationReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class TableReport:
    """Row accounting for one table (see module docstring)."""

    table: str
    file: str | None = None
    read: int = 0
    kept: int = 0
    merged: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    closed: bool = False
    #: source lines of the first few quarantined rows per reason (line numbers only, no ids)
    lines: dict[str, list[int]] = field(default_factory=dict)
    #: a person partition's typed columns: (kind, values present, values unreadable, first
    #: unreadable line) per column, summed over partitions (:func:`.validate.typed_errors`)
    typed: dict[str, tuple] = field(default_factory=dict)

    def quarantine(self, reason: str, n: int, lines=()) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason code {reason!r}")
        if n:
            self.quarantined[reason] = self.quarantined.get(reason, 0) + int(n)
            have = self.lines.setdefault(reason, [])
            have.extend(int(x) for x in list(lines)[: max(0, SHOW_LINES - len(have))])

    def note(self, name: str, n: int = 1) -> None:
        if name not in NOTES:
            raise ValueError(f"unknown note {name!r}")
        if n:
            self.notes[name] = self.notes.get(name, 0) + int(n)

    @property
    def n_quarantined(self) -> int:
        return sum(self.quarantined.values())

    def close(self, *, kept: int, merged: int) -> None:
        """Record the final counts and check ``kept + merged + quarantined == read``."""
        self.kept, self.merged = int(kept), int(merged)
        if self.kept + self.merged + self.n_quarantined != self.read:
            raise AssertionError(
                f"row accounting broken for {self.table}: kept {self.kept} + merged {self.merged}"
                f" + quarantined {self.n_quarantined} != read {self.read}")
        self.closed = True


def _lines(lines: list[int], n: int) -> str:
    if not lines:
        return ""
    more = ", ..." if n > len(lines) else ""
    return f" (line{'s' if n > 1 else ''} {', '.join(map(str, lines))}{more})"


@dataclass
class ValidationReport:
    """Row accounting of a whole register directory.

    Attributes
    ----------
    tables : dict of str to TableReport
        One entry per table that was found (and per required table that was not).
    errors : list of str
        Every fatal problem (file, column and line named), directory-level and per table;
        :attr:`fatal` is true if any. A table's own problems are also in its ``errors``.
    as_of : str
        The as-of date used for the future-date check (ISO).
    """

    tables: dict[str, TableReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    source: str | None = None
    as_of: str | None = None
    quarantine_dir: str | None = None

    @property
    def fatal(self) -> bool:
        return bool(self.errors)

    def all_errors(self) -> list[str]:
        """Every fatal message (directory-level and per table); the same as :attr:`errors`."""
        return list(self.errors)

    def to_frame(self) -> pd.DataFrame:
        """One row per table: file, read, kept, merged, quarantined, then one column per
        reason code that occurs (counts)."""
        reasons = [r for r in REASONS if any(r in t.quarantined for t in self.tables.values())]
        rows = []
        for name, t in self.tables.items():
            row: dict[str, Any] = {"table": name, "file": t.file, "read": t.read, "kept": t.kept,
                                   "merged": t.merged, "quarantined": t.n_quarantined,
                                   "status": "fatal" if t.errors else ("ok" if t.closed else "not read")}
            row.update({r: t.quarantined.get(r, 0) for r in reasons})
            rows.append(row)
        cols = ["table", "file", "read", "kept", "merged", "quarantined", "status", *reasons]
        return pd.DataFrame(rows, columns=cols).set_index("table")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``json.dumps(report.to_dict())``)."""
        return {
            "source": self.source,
            "as_of": self.as_of,
            "quarantine_dir": self.quarantine_dir,
            "fatal": self.fatal,
            "errors": self.all_errors(),
            "tables": {
                name: {"file": t.file, "read": t.read, "kept": t.kept, "merged": t.merged,
                       "quarantined": t.n_quarantined, "reasons": dict(t.quarantined),
                       "notes": dict(t.notes), "errors": list(t.errors),
                       "example_lines": {r: list(v) for r, v in t.lines.items()},
                       "identity_holds": t.closed and t.kept + t.merged + t.n_quarantined == t.read}
                for name, t in self.tables.items()
            },
        }

    def to_text(self) -> str:
        """Human-readable report: a table of counts, reasons and notes, then fatal errors."""
        lines = [f"Register validation: {self.source or ''}".rstrip(),
                 f"as-of date for future-date checks: {self.as_of}"]
        header = f"{'table':<22}{'read':>11}{'kept':>11}{'merged':>11}{'quarantined':>13}  status"
        lines += ["", header, "-" * len(header)]
        for name, t in self.tables.items():
            status = "FATAL" if t.errors else ("ok" if t.closed else "not read")
            lines.append(f"{name:<22}{t.read:>11,}{t.kept:>11,}{t.merged:>11,}{t.n_quarantined:>13,}  {status}")
        lines.append("")
        lines.append("identity kept + merged + quarantined = read holds for every table read"
                     if all(t.closed for t in self.tables.values() if not t.errors)
                     else "identity checked only for tables read without fatal errors")
        for name, t in self.tables.items():
            if t.quarantined:
                lines.append(f"quarantined in {name}: " + ", ".join(
                    f"{r} {n:,}" + _lines(t.lines.get(r, []), n)
                    for r, n in sorted(t.quarantined.items(), key=lambda kv: list(REASONS).index(kv[0]))))
            if t.notes:
                lines.append(f"notes for {name}: " + ", ".join(f"{k} {n:,}" for k, n in t.notes.items()))
        if any(t.quarantined for t in self.tables.values()) and self.quarantine_dir:
            lines.append(f"quarantined rows (confidential, with line numbers) in {self.quarantine_dir}")
        errors = self.all_errors()
        if errors:
            lines += ["", "FATAL:"] + [f"  {e}" for e in errors]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()
