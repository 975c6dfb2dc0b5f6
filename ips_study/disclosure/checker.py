"""The output checker (``ips-study check-outputs``) and the one way tables are exported.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.csv").write_text("group,n\\na,30\\n")
>>> check_outputs(d).ok
True
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import drawn, roles as _roles
from .identifiers import assert_no_identifiers
from .rules import (COUNT_UNITS, FNR11_RE, FNR_RE, MIN_COUNT, N_EQUALS_RE, SUPPRESSED, UNIT_NAMES,
                    DisclosureError, canon, count_scale, is_birth_name, is_count_name, is_count_role,
                    is_identifier_name, is_small, parse_number, rows_text)
from .tables import Suppressed


def export_table(
    table: pd.DataFrame | Suppressed,
    path_stem: str | Path,
    *,
    min_count: int = MIN_COUNT,
    formats: Sequence[str] = ("csv", "md"),
    float_format: str | None = None,
    name: str | None = None,
    roles: dict | None = None,
) -> list[Path]:
    """Write a table as CSV and/or Markdown after checking it against the convention.

    The table must already be disclosure-controlled (:func:`suppress_small` or
    :func:`protect_table`); the same checks as :func:`check_outputs` run on it before
    anything is written, so a table that breaks the rules never reaches the disk.

    Numbers are written by :func:`format_number` (or ``float_format``, e.g. ``"{:.2f}"``,
    for non-integer floats); missing values as empty cells, suppressed ones as ``:``.
    ``formats``: ``csv``, ``md``, ``tex`` and ``json`` (a list of records).

    A refused table raises :class:`DisclosureError` with one line naming the output
    (``name``, default the file stem) and each offending cell (column and rows), never a value.

    ``roles`` (or ``table.attrs["ips_study_roles"]``, set by :func:`suppress_shares` and
    :func:`~ips_study.disclosure.roles.declare`) declares what columns are: ``{"disability":
    ("share", "n_person_years"), "estimate": "other"}``. The declaration is checked here and
    written beside the table as ``<stem>.roles`` so that ``check-outputs`` applies the same
    rule for shares and means (:mod:`~ips_study.disclosure.roles`).

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in export_table(pd.DataFrame({"n": [12]}), f"{d}/t")]
    ['t.csv', 't.md']
    """
    frame = table.to_frame() if isinstance(table, Suppressed) else table.copy()
    frame = frame.reset_index(drop=frame.index.name is None and
                              isinstance(frame.index, pd.RangeIndex))
    name = name or Path(path_stem).name
    declared = {**(frame.attrs.get(_roles.ATTR) or {}), **(roles or {})}
    try:
        declared = _roles.normalise(declared, frame.columns)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    try:
        assert_no_identifiers(frame)
    except DisclosureError as exc:
        raise DisclosureError(f"{name}: refused by disclosure control: {exc}") from None
    problems = _check_frame(frame, min_count, "table", roles=declared)
    if problems:
        raise DisclosureError(f"{name}: refused by disclosure control: "
                              + "; ".join(f"{v.location}: {v.detail}" for v in problems))
    fmt = frame.map(lambda v: format_number(v, float_format))
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in formats:
        p = stem.with_suffix(f".{f}")
        if f == "csv":
            fmt.to_csv(p, index=False, lineterminator="\n")
        elif f == "md":
            p.write_text(_to_markdown(fmt) + "\n", encoding="utf-8")
        elif f == "tex":
            p.write_text(fmt.to_latex(index=False), encoding="utf-8")
        elif f == "json":
            p.write_text(_to_json(frame, fmt) + "\n", encoding="utf-8")
        else:
            raise ValueError(f"unknown table format {f!r}")
        paths.append(p)
    if declared:
        paths.append(_roles.write_sidecar(stem, frame, declared))
    return paths


def format_number(v: Any, float_format: str | None = None) -> Any:
    """How a cell is printed: whole numbers as integers, three significant digits below
    100, no decimals from 100 on (never scientific notation for large amounts), empty for
    missing. Non-numbers are returned unchanged.

    >>> [format_number(v) for v in (58.0, 0.53448, 24.5, 1234.56, -28_812_345.2, float("nan"))]
    ['58', '0.534', '24.5', '1235', '-28812345', '']
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if not isinstance(v, (float, np.floating)):
        return v
    x = float(v)
    if np.isnan(x):
        return ""
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if float_format is not None:
        return float_format.format(x)
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _to_json(frame: pd.DataFrame, fmt: pd.DataFrame) -> str:
    """The table as a JSON list of records: numbers as the CSV prints them (as JSON numbers),
    suppressed cells as ``":"``, missing ones as ``null``; check-outputs reads it back as a
    table (with the same ``.roles`` declaration)."""
    def cell(v: Any, f: Any) -> Any:
        if isinstance(f, str) and f == "":
            return None
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
                and isinstance(f, str) and f not in ("inf", "-inf"):
            x = float(f)
            return int(x) if x.is_integer() and "." not in f else x
        return f.item() if isinstance(f, np.generic) else f

    records = [{str(c): cell(v, f) for c, v, f in zip(frame.columns, vals, fvals)}
               for vals, fvals in zip(frame.itertuples(index=False), fmt.itertuples(index=False))]
    return json.dumps(records, indent=1, ensure_ascii=False)


def _to_markdown(df: pd.DataFrame) -> str:
    """Pipe table without the optional ``tabulate`` dependency."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in row) + " |")
    return "\n".join(lines)


# -- the output checker ---------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """One breach found by :func:`check_outputs` (never quotes an identifier's value)."""

    file: str
    kind: str  # small_count | identifier_column | birth_date_column | identifier_value | unreadable
    location: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind} at {self.location}: {self.detail}"


@dataclass
class OutputCheck:
    """Result of scanning an output folder: ``violations``, ``files``, ``ok``, ``to_text()``."""

    directory: str
    min_count: int
    files: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_text(self) -> str:
        head = (f"check-outputs {self.directory}: {len(self.files)} file(s) scanned, "
                f"minimum count {self.min_count}, {len(self.violations)} violation(s)")
        return "\n".join([head] + [f"  {v}" for v in self.violations])

    def __str__(self) -> str:
        return self.to_text()


def _check_frame(df: pd.DataFrame, min_count: int, name: str,
                 ids: frozenset[str] = frozenset(), roles: dict | None = None,
                 walked: bool = False, names_only: bool = False) -> list[Violation]:
    """Every rule on one table; ``roles`` the declared column roles matched to ``df``
    (:func:`.roles.match`). ``walked``: a table found in a JSON file, whose keys and values
    :func:`_walk_json` has already checked one by one (names, ids, counts by name or role);
    the rules that need the whole table (declared counts, totals, long tables, shares and
    means) run here; ``names_only``: a one-row table (a JSON object), whose undeclared shares
    are recognised by name only (:func:`.roles.share_findings`)."""
    out: list[Violation] = []
    roles = roles or {}
    for c in df.columns:
        col = str(c)
        if walked:
            if roles.get(col, {}).get("role") == "count" and not (is_count_name(col) or is_count_role(col)):
                rows = [i for i, v in enumerate(df[c].tolist())
                        if _small_count(v, count_scale(col), min_count)]
                if rows:
                    out.append(Violation(name, "small_count", f"column {col!r} rows {rows_text(rows)}",
                                         f"count below the minimum of {min_count}"))
            continue
        if is_identifier_name(col):
            out.append(Violation(name, "identifier_column", f"column {col!r}",
                                 "column name looks like a person identifier"))
        if is_birth_name(col):
            out.append(Violation(name, "birth_date_column", f"column {col!r}",
                                 "column name looks like a date of birth"))
        values = df[c].tolist()
        strict = is_count_name(col) or roles.get(col, {}).get("role") == "count"
        if strict or (is_count_role(col) and col not in roles):
            # a column counting by its role (antall, deaths, events, total ...) holds whole
            # numbers; a fraction there is some other statistic
            # a count printed in thousands (persons_1000: 0.003) is 3 persons; 2.5 is 2,500
            scale = count_scale(col)
            rows = [i for i, v in enumerate(values)
                    if _small_count(v, scale, min_count, whole=not (strict or scale > 1))]
            if rows:
                out.append(Violation(name, "small_count", f"column {col!r} rows {rows_text(rows)}",
                                     f"count below the minimum of {min_count}"))
        # a column of amounts (a standard error of 1,234,567,890 NOK) may hold ten digits;
        # there only the 11-digit fødselsnummer form counts
        id_re = FNR11_RE if _amounts(values) else FNR_RE
        hits = [i for i, v in enumerate(values)
                if isinstance(v, (str, int, np.integer)) and not isinstance(v, bool)
                and (id_re.search(str(v)) or (ids and _known_in(str(v), ids)))]
        if hits:
            out.append(Violation(name, "identifier_value", f"column {col!r} rows {rows_text(hits)}",
                                 "value looks like a person identifier"))
    out += _long_counts(df, min_count, name)
    out += _totals(df, min_count, name)
    # shares and means: numerator (share x denominator) and denominator (roles.py)
    findings = _roles.share_findings(df, min_count, roles, names_only) + _roles.long_share_findings(df, min_count)
    out += [Violation(name, kind, loc, detail) for kind, loc, detail in findings]
    return out


def _small_count(v: Any, scale: float, min_count: int, *, whole: bool = False) -> bool:
    """Whether a printed cell is a count of persons above zero and below the minimum: its
    number times ``scale`` (:func:`.rules.count_scale`). ``whole``: only a whole number
    counts (a column counting by its role, unscaled, may hold other statistics too)."""
    x = parse_number(v)
    return x is not None and is_small(x * scale, min_count) and (not whole or x == int(x))


def _amounts(values: list) -> bool:
    """Whether a column holds measured amounts: numbers of different widths, signs or with
    decimals, not ids of one fixed width."""
    shown = [str(v).strip() for v in values if str(v).strip() not in ("", SUPPRESSED)]
    if not shown or any(parse_number(v) is None for v in shown):
        return False
    return any(not re.fullmatch(r"\d{10}", v) for v in shown)


_VALUE_NAMES = ("value", "estimate", "verdi", "count", "n")


def _long_counts(df: pd.DataFrame, min_count: int, name: str) -> list[Violation]:
    """A long table (``metric, unit, value``) whose unit says the value counts persons."""
    unit = next((c for c in df.columns if canon(c) in UNIT_NAMES), None)
    value = next((c for c in df.columns if canon(c) in _VALUE_NAMES and c != unit), None)
    if unit is None or value is None:
        return []
    rows = [i for i, (u, v) in enumerate(zip(df[unit].tolist(), df[value].tolist()))
            if _count_unit(u) and _small_count(v, count_scale(u), min_count)]
    if not rows:
        return []
    return [Violation(name, "small_count", f"column {str(value)!r} rows {rows_text(rows)}",
                      f"count (unit column {str(unit)!r}) below the minimum of {min_count}")]


def _count_unit(unit: Any) -> bool:
    """Whether a long table's unit counts persons: a count unit (``persons``), or one with
    a stated scale (``1000 persons``, ``personer (tusen)``)."""
    u = canon(unit)
    words = set(re.findall(r"[a-zæøå]+", u.replace("_", " ")))
    # "per 1000 persons" is a rate, not a count in thousands
    return u in COUNT_UNITS or (count_scale(unit) > 1 and bool(words & COUNT_UNITS)
                                and not words & {"per", "pr", "rate", "rater"})


def _total_column(df: pd.DataFrame, name: str) -> list[Violation]:
    """A total column (``n_total``) beside its parts: a row with one suppressed cell among
    them gives it away. Only when the published rows add up (within rounding to base 5)."""
    counts = [c for c in df.columns if is_count_name(c) or is_count_role(c)]
    totals = [c for c in counts if set(canon(c).split("_")) & _TOTAL_LABELS]
    if len(totals) != 1 or len(counts) < 3:
        return []
    total, parts = totals[0], [c for c in counts if c != totals[0]]
    rows = []
    for i in range(len(df)):
        cells = [df[c].iloc[i] for c in [*parts, total]]
        hidden = [str(v).strip() == SUPPRESSED for v in cells]
        nums = [parse_number(v) for v in cells]
        if not any(hidden):
            if any(x is None for x in nums) or abs(sum(nums[:-1]) - nums[-1]) > 2.5 * len(parts):
                return []  # not a sum: nothing to recover
        elif sum(hidden) == 1 and all(x is not None for x, h in zip(nums, hidden) if not h):
            rows.append(i)
    if not rows:
        return []
    return [Violation(name, "recoverable_cell", f"column {str(total)!r} rows {rows_text(rows)}",
                      "one suppressed cell next to its total and the other parts")]


_TOTAL_LABELS = frozenset({"total", "totalt", "sum", "all", "alle", "i_alt", "overall"})


def _totals(df: pd.DataFrame, min_count: int, name: str) -> list[Violation]:
    """Totals that give away what the other cells hide.

    In each count column of a table with a total row: one suppressed cell next to a published
    total is recovered as total minus the rest; and a total that exceeds its published
    subtotals by ``0 < d < min_count`` discloses a small unpublished remainder.
    """
    out = _total_column(df, name)
    # text columns: object on pandas 2, the str dtype on pandas 3
    labels = [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype)]
    total_rows = [i for i in range(len(df)) if any(canon(df[c].iloc[i]) in _TOTAL_LABELS for c in labels)]
    if len(total_rows) != 1 or len(df) < 3:
        return out
    t = total_rows[0]
    for c in df.columns:
        if not (is_count_name(c) or is_count_role(c)):
            continue
        cells = [v for i, v in enumerate(df[c].tolist()) if i != t]
        total = parse_number(df[c].iloc[t])
        if total is None:
            continue
        hidden = [str(v).strip() == SUPPRESSED for v in cells]
        nums = [parse_number(v) for v in cells]
        if sum(hidden) == 1 and all(x is not None for x, h in zip(nums, hidden) if not h):
            out.append(Violation(name, "recoverable_cell", f"column {str(c)!r}",
                                 "the one suppressed cell equals the total minus the published cells"))
        elif not any(hidden) and all(x is not None for x in nums):
            rest = total - sum(nums)
            if is_small(rest * count_scale(c), min_count):
                out.append(Violation(name, "small_count", f"column {str(c)!r} total",
                                     f"total minus its subtotals is below the minimum of {min_count}"))
    return out


def _delimiter(text: str) -> str:
    """The header line's most frequent of , ; tab | (csv.Sniffer guesses letters on
    one-column files)."""
    header = text.lstrip("\ufeff").splitlines()[0] if text else ""
    return max((",", ";", "\t", "|"), key=header.count)


def _markdown_tables(text: str) -> list[pd.DataFrame]:
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            block.append(line.strip())
            continue
        if len(block) >= 2 and re.fullmatch(r"\|?[\s:\-|]+\|?", block[1]):
            cells = [[c.strip() for c in row.strip("|").split("|")] for row in block]
            width = len(cells[0])
            body = [r + [""] * (width - len(r)) for r in cells[2:]]
            tables.append(pd.DataFrame([r[:width] for r in body], columns=cells[0]))
        block = []
    return tables


def _latex_tables(text: str) -> list[pd.DataFrame]:
    tables = []
    for m in re.finditer(r"\\begin\{(tabular\*?|longtable|tabularx)\}(.*?)\\end\{\1\}", text, re.S):
        body = re.sub(r"^\s*(\[[^]]*\])?\s*(\{[^}]*\})?(\{(?:[^{}]|\{[^}]*\})*\})", "",
                      m.group(2))  # [pos]{width}{column spec}
        body = re.sub(r"\\(toprule|midrule|bottomrule|hline|cline\{[^}]*\}|endhead|endfirsthead)",
                      "", body)
        body = re.sub(r"\\([_%&$#])", r"\1", body.replace("\\&", "\x00"))
        rows = [r.strip() for r in body.split("\\\\")]
        rows = [r for r in rows if r and "&" in r]
        if not rows:
            continue
        cells = [[re.sub(r"\\[a-zA-Z]+(\{[^}]*\})*\{([^}]*)\}", r"\2", c).replace("\x00", "&").strip()
                  for c in r.split("&")] for r in rows]
        width = len(cells[0])
        body_rows = [(r + [""] * width)[:width] for r in cells[1:]]
        tables.append(pd.DataFrame(body_rows, columns=cells[0]))
    return tables


def _walk_json(obj: Any, path: str, min_count: int, name: str, ids: frozenset[str],
               out: list[Violation]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{path}.{k}" if path else str(k)
            if is_identifier_name(k):
                out.append(Violation(name, "identifier_column", p, "key looks like a person identifier"))
            if is_birth_name(k):
                out.append(Violation(name, "birth_date_column", p, "key looks like a date of birth"))
            strict = is_count_name(k)
            scale = count_scale(k)
            if (strict or is_count_role(k)) \
                    and _small_count(v, scale, min_count, whole=not (strict or scale > 1)):
                out.append(Violation(name, "small_count", p, f"count below the minimum of {min_count}"))
            if is_count_name(k) and isinstance(v, (list, dict)):
                items = v.values() if isinstance(v, dict) else v
                small = [e for e in items if _small_count(e, count_scale(k), min_count)]
                if small:
                    out.append(Violation(name, "small_count", p,
                                         f"count below the minimum of {min_count}"))
            _walk_json(v, p, min_count, name, ids, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_json(v, f"{path}[{i}]", min_count, name, ids, out)
    elif isinstance(obj, (str, int)) and not isinstance(obj, bool):
        # a JSON number of ten digits is an amount; as text it may be a løpenummer
        id_re = FNR_RE if isinstance(obj, str) else FNR11_RE
        if id_re.search(str(obj)) or (ids and _known_in(str(obj), ids)):
            out.append(Violation(name, "identifier_value", path, "value looks like a person identifier"))


_SCALARS = (str, int, float, bool, type(None))


def _json_cell(v: Any) -> str:
    """A JSON value as a CSV reader would see it (the checker's tables are text)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return json.dumps(v)


def _json_tables(obj: Any, path: str = "", record: bool = False) -> list[tuple[str, pd.DataFrame, bool]]:
    """The tables inside a JSON document, with their path: a list of records (objects; the
    keys with scalar values are the columns), ``{"columns": [...], "data": [[...]]}``
    (pandas ``orient="split"``), an object of equally long lists of scalars (``orient="list"``),
    and an object of scalars holding a count and something else (one row; ``record``: an
    object that is already a row of a list of records). Each with whether it is such a
    one-row object (its shares are then recognised by name only)."""
    out: list[tuple[str, pd.DataFrame, bool]] = []
    if isinstance(obj, list):
        records = bool(obj) and all(isinstance(e, dict) for e in obj)
        if records:
            cols = list(dict.fromkeys(k for e in obj for k, v in e.items() if isinstance(v, _SCALARS)))
            if cols:
                out.append((path, pd.DataFrame([[_json_cell(e.get(c)) for c in cols] for e in obj],
                                               columns=[str(c) for c in cols], dtype=str), False))
        for i, v in enumerate(obj):
            out += _json_tables(v, f"{path}[{i}]", record=records)
    elif isinstance(obj, dict):
        cols, data = obj.get("columns"), obj.get("data")
        if isinstance(cols, list) and isinstance(data, list) and data \
                and all(isinstance(r, list) and len(r) == len(cols) for r in data):
            out.append((path, pd.DataFrame([[_json_cell(v) for v in r] for r in data],
                                           columns=[str(c) for c in cols], dtype=str), False))
        lists = {k: v for k, v in obj.items() if isinstance(v, list) and v
                 and all(isinstance(e, _SCALARS) for e in v)}
        if len(lists) >= 2 and len({len(v) for v in lists.values()}) == 1 and "data" not in lists:
            out.append((path, pd.DataFrame({str(k): [_json_cell(e) for e in v] for k, v in lists.items()},
                                           dtype=str), False))
        flat = {k: v for k, v in obj.items() if isinstance(v, _SCALARS)}
        if not record and len(flat) >= 2 and any(is_count_name(k) or is_count_role(k) for k in flat):
            out.append((path, pd.DataFrame([[_json_cell(v) for v in flat.values()]],
                                           columns=[str(k) for k in flat], dtype=str), True))
        for k, v in obj.items():
            if isinstance(v, (list, dict)):
                out += _json_tables(v, f"{path}.{k}" if path else str(k))
    return out


def _check_json(doc: Any, name: str, min_count: int, known: frozenset[str],
                declared: list[dict] | None) -> list[Violation]:
    """A JSON output: every key and value (:func:`_walk_json`), then every table in it
    (:func:`_json_tables`) under the rules for whole tables, shares and means included. A
    ``.roles`` declaration applies to the tables whose columns it names exactly."""
    out: list[Violation] = []
    _walk_json(doc, "", min_count, name, known, out)
    fitted_any = False
    for where, df, one_row in _json_tables(doc):
        fitted: dict = {}
        if declared and [str(c["name"]) for c in declared] == list(df.columns):
            fitted, _ = _roles.match(declared, list(df.columns))
            fitted_any = True
        for v in _check_frame(df, min_count, name, known, roles=fitted, walked=True, names_only=one_row):
            out.append(Violation(v.file, v.kind, f"{where or '(top)'} {v.location}", v.detail))
    if declared and not fitted_any:
        out.append(Violation(name, "roles_mismatch", "file", "its declaration of column roles fits "
                             "no table in it (judged as undeclared)"))
    return out


def _html_tables(text: str) -> list[pd.DataFrame]:
    """Tables of an HTML file (``<tr>`` rows of ``<th>``/``<td>`` cells), standard library only."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.row, self.cell = [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr" and self.tables:
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append("".join(self.cell).strip())
                self.cell = None
            elif tag == "tr" and self.row is not None and self.tables:
                self.tables[-1].append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(text)
    out = []
    for rows in parser.tables:
        if len(rows) >= 2:
            width = len(rows[0])
            out.append(pd.DataFrame([(r + [""] * width)[:width] for r in rows[1:]], columns=rows[0]))
    return out


def _check_figure(path: Path, name: str, min_count: int, known: frozenset[str]) -> list[Violation]:
    """A PNG or PDF figure: the numbers and texts it drew (its record, :mod:`.drawn`) and its
    other metadata."""
    out: list[Violation] = []
    kind = path.suffix.lower().lstrip(".").upper()
    try:
        record, meta = drawn.read_record(path)
    except (OSError, ValueError, UnicodeDecodeError, zlib.error) as exc:
        return [Violation(name, "unreadable", "file", f"{kind} metadata cannot be read ({type(exc).__name__})")]
    if record is None:
        out.append(Violation(name, "unverified_figure", "file", "no record of what the figure draws "
                             "(not saved by ips_study): its content cannot be checked; check it by eye"))
    else:
        try:
            rec = json.loads(record)
        except ValueError:
            rec = None
        if not isinstance(rec, dict):
            out.append(Violation(name, "unreadable", "file", "the figure's record cannot be parsed"))
        else:
            for u in rec.get("unverified", []):
                where = u.get("where", "?") if isinstance(u, dict) else "?"
                out.append(Violation(name, "unverified_figure", f"drawn {where}",
                                     "an artist whose numbers cannot be read back (declare it "
                                     "with mark_measures if it shows no persons); check it by eye"))
            for k, c in enumerate(rec.get("counts", []), 1):
                v = parse_number(c.get("value")) if isinstance(c, dict) else None
                if v is not None and is_small(v, min_count):
                    out.append(Violation(name, "small_count", f"drawn count {k} ({c.get('where', '?')})",
                                         f"a count below the minimum of {min_count} is drawn"))
            found: list[Violation] = []
            _scan_text("\n".join(str(t) for t in rec.get("texts", [])), name, min_count, known, found)
            out += [Violation(v.file, v.kind, f"drawn text {v.location}", v.detail) for v in found]
    found = []
    _scan_text("\n".join(f"{k}: {t}" for k, t in meta), name, min_count, known, found)
    return out + [Violation(v.file, v.kind, f"metadata {v.location}", v.detail) for v in found]


def _check_image(path: Path, name: str, min_count: int, known: frozenset[str]) -> list[Violation]:
    """A figure in a format that cannot carry the record (the package writes none)."""
    out = [Violation(name, "unverified_figure", "file",
                     f"{path.suffix.lower()} figures carry no record of what they draw (ips_study "
                     "writes PNG and PDF): its content cannot be checked; check it by eye")]
    if path.suffix.lower() == ".svg":  # text: the labels it holds as text can still be read
        try:
            text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return out
        _scan_text(text, name, min_count, known, out)
    return out


def _scan_text(text: str, name: str, min_count: int, known: frozenset[str], out: list[Violation]) -> None:
    """Running text: ``n = 3``, ``deaths: 3``, id-like numbers and known ids, by line."""
    def line(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    for m in N_EQUALS_RE.finditer(text):
        if is_small(float(m.group(1).replace(",", "")), min_count):
            out.append(Violation(name, "small_count", f"line {line(m.start())}",
                                 f"'n = ...' below the minimum of {min_count}"))
    for m in _LABELLED_COUNT_RE.finditer(text):
        x = parse_number(m.group(2))
        if m.group(1).lower() != "n" and is_count_role(m.group(1)) and x is not None and x == int(x) and is_small(x, min_count):
            out.append(Violation(name, "small_count", f"line {line(m.start())}",
                                 f"'{m.group(1)}: ...' below the minimum of {min_count}"))
    for m in FNR_RE.finditer(text):
        out.append(Violation(name, "identifier_value", f"line {line(m.start())}",
                             "10- or 11-digit number (person identifier-like)"))
    for pos in _known_at(text, known):
        out.append(Violation(name, "identifier_value", f"line {line(pos)}", "known person identifier"))


_WORD_RE = re.compile(r"\w+")


def _known_at(text: str, known: frozenset[str]) -> list[int]:
    """Where a known id stands in ``text`` as a whole word (not inside a longer one)."""
    if not known:
        return []
    # ids of word characters (almost all) by token, so that a register's worth of ids costs
    # one pass over the text; the others by pattern
    hits = [m.start() for m in _WORD_RE.finditer(text) if m.group(0) in known]
    for i in _unusual_ids(known):
        hits += [m.start() for m in re.finditer(r"(?<![\w])" + re.escape(i) + r"(?![\w])", text)]
    return sorted(hits)


def _known_in(cell: str, known: frozenset[str]) -> bool:
    """Whether a cell is, or holds, a known id."""
    return cell.strip() in known or bool(_known_at(cell, known))


@functools.lru_cache(maxsize=4)
def _unusual_ids(known: frozenset[str]) -> tuple[str, ...]:
    """The known ids that are not a single word (matched by pattern rather than by token)."""
    return tuple(sorted(i for i in known if not _WORD_RE.fullmatch(i)))


#: ``deaths: 3``, ``antall = 4``, ``events 2`` in running text (a count word, then a number)
_LABELLED_COUNT_RE = re.compile(r"(?<![\w])([A-Za-zæøåÆØÅ_]+)\s*[:=]\s*(\d+(?:,\d{1,2})?)(?![\d.])")


def check_file(path: str | Path, min_count: int = MIN_COUNT, *, ids: Iterable[str] = (),
               name: str | None = None) -> list[Violation]:
    """Check one output file of a type in :data:`CHECKED_SUFFIXES` (see :func:`check_outputs`)."""
    path = Path(path)
    name = name or path.name
    known = frozenset(str(i) for i in ids if str(i).strip())  # an empty id would match anywhere
    suffix = path.suffix.lower()
    if suffix in drawn.FIGURE_SUFFIXES:
        return _check_figure(path, name, min_count, known)
    if suffix in IMAGE_SUFFIXES:
        return _check_image(path, name, min_count, known)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Violation(name, "unreadable", "file", f"cannot be read as text ({type(exc).__name__})")]
    out: list[Violation] = []
    declared, why = _roles.read_sidecar(path) if suffix != _roles.SUFFIX else (None, None)
    if why:
        out.append(Violation(name, "roles_mismatch", "file", why))

    def frame_check(df: pd.DataFrame) -> list[Violation]:
        fitted, ok = _roles.match(declared, list(df.columns))
        found = [] if ok else [Violation(name, "roles_mismatch", "file", "its declaration of column "
                                         "roles does not fit its columns (judged as undeclared)")]
        return found + _check_frame(df, min_count, name, known, roles=fitted)

    try:
        if suffix == _roles.SUFFIX:  # a declaration: names and roles only, no ids
            out += [Violation(name, k, loc, d) for k, loc, d in _roles.check_sidecar(text)]
            _scan_text(text, name, min_count, known, out)
        elif suffix in (".csv", ".tsv"):
            if text.strip():
                df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=_delimiter(text),
                                 encoding="utf-8-sig")
                out += frame_check(df)
        elif suffix == ".json":
            out += _check_json(json.loads(text), name, min_count, known, declared)
        else:
            if suffix in (".html", ".htm"):
                tables = _html_tables(text)
                text = re.sub(r"<[^>]+>", " ", text)
            elif suffix == ".tex":
                tables = _latex_tables(text)
            else:  # .md, .txt: pipe tables if any, and the running text
                tables = _markdown_tables(text)
            for k, t in enumerate(tables):
                for v in frame_check(t):
                    out.append(Violation(v.file, v.kind, f"table {k + 1} {v.location}", v.detail))
            if not tables:
                _scan_text(text, name, min_count, known, out)
            else:  # cells were checked as tables; the text around them still may hold ids
                _scan_text(_without_tables(text), name, min_count, known, out)
    except (ValueError, pd.errors.ParserError) as exc:
        out.append(Violation(name, "unreadable", "file", f"cannot be parsed ({type(exc).__name__})"))
    return out


def _without_tables(text: str) -> str:
    """The text with pipe-table lines and LaTeX tabulars blanked (kept as empty lines)."""
    text = re.sub(r"\\begin\{(tabular\*?|longtable|tabularx)\}.*?\\end\{\1\}",
                  lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return "\n".join("" if ln.strip().startswith("|") else ln for ln in text.split("\n"))


def searchable_ids(ids: Iterable[Any]) -> tuple[str, ...]:
    """The person ids worth looking for in outputs by value (``check_outputs(ids=...)``).

    Ids of digits only are left out: a table may hold the same number for another reason (a
    count of 17, an amount of 123456), and the 10- and 11-digit ones (løpenummer,
    fødselsnummer) are found by pattern anyway. So are ids shorter than 4 characters, which
    are ordinary words or labels (``a``, ``p1``).

    >>> searchable_ids(["0000012345", "P0042", "17", "p1", "P0042"])
    ('P0042',)
    """
    return tuple(sorted({s for s in (str(i).strip() for i in ids)
                         if len(s) >= 4 and not s.isdigit()}))


#: Figure formats that cannot carry the record of what they draw: always ``unverified_figure``.
IMAGE_SUFFIXES = (".svg", ".svgz", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp",
                  ".eps", ".ps")

#: File types the checker reads: every text format the project writes, the records of PNG and
#: PDF figures, and other image files (flagged: their content cannot be checked). Other files
#: are skipped.
CHECKED_SUFFIXES = (".csv", ".tsv", ".json", ".md", ".tex", ".txt", ".html", ".htm",
                    _roles.SUFFIX, *drawn.FIGURE_SUFFIXES, *IMAGE_SUFFIXES)


def check_outputs(directory: str | Path, min_count: int = MIN_COUNT, *,
                  ids: Iterable[str] = ()) -> OutputCheck:
    """Scan a folder of outputs for small counts and person identifiers.

    Every file of a type in :data:`CHECKED_SUFFIXES` below ``directory`` is read (CSV, TSV,
    JSON, Markdown, LaTeX, text, HTML, and the text chunks of PNG files); a violation is
    (a) a value ``0 < v < min_count`` in a count column or key (by name,
    :func:`is_count_name`, or by role, :func:`is_count_role`: ``antall``, ``total``,
    ``events``, ``deaths`` ...; decimal commas read as such), in the ``value`` of a long
    table whose ``unit`` is a count, an ``n = 3`` or ``deaths: 3`` in running text, or a
    total minus its published subtotals; (b) ``recoverable_cell``: a single suppressed cell
    next to a published total; (c) a column or key named like a person identifier or date of
    birth, a 10- or 11-digit number anywhere, or any of the known ``ids`` (pass the
    register's person ids for the strictest check).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("group,n\\na,3\\nb,40\\n")
    >>> res = check_outputs(d)
    >>> res.ok, res.violations[0].kind
    (False, 'small_count')
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"output folder not found: {root}")
    known = tuple(str(i) for i in ids)
    result = OutputCheck(str(root), min_count)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in CHECKED_SUFFIXES:
            continue
        rel = str(path.relative_to(root))
        result.files.append(rel)
        result.violations += check_file(path, min_count, ids=known, name=rel)
    return result
