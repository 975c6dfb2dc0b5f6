"""The output checker (``ips-study check-outputs``) and the one way tables are exported.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.csv").write_text("group,n\\na,30\\n")
>>> check_outputs(d).ok
True
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .identifiers import assert_no_identifiers
from .rules import (FNR_RE, MIN_COUNT, N_EQUALS_RE, DisclosureError, is_birth_name,
                    is_count_name, is_identifier_name, is_small)
from .tables import Suppressed


def export_table(
    table: pd.DataFrame | Suppressed,
    path_stem: str | Path,
    *,
    min_count: int = MIN_COUNT,
    formats: Sequence[str] = ("csv", "md"),
    float_format: str | None = None,
) -> list[Path]:
    """Write a table as CSV and/or Markdown after checking it against the convention.

    The table must already be disclosure-controlled (:func:`suppress_small` or
    :func:`protect_table`); the same checks as :func:`check_outputs` run on it before
    anything is written, so a table that breaks the rules never reaches the disk.

    Numbers are written by :func:`format_number` (or ``float_format``, e.g. ``"{:.2f}"``,
    for non-integer floats); missing values as empty cells, suppressed ones as ``:``.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in export_table(pd.DataFrame({"n": [12]}), f"{d}/t")]
    ['t.csv', 't.md']
    """
    frame = table.to_frame() if isinstance(table, Suppressed) else table.copy()
    frame = frame.reset_index(drop=frame.index.name is None and
                              isinstance(frame.index, pd.RangeIndex))
    assert_no_identifiers(frame)
    problems = _check_frame(frame, min_count, "table")
    if problems:
        raise DisclosureError("; ".join(v.detail for v in problems))
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
        else:
            raise ValueError(f"unknown table format {f!r}")
        paths.append(p)
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


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    s = str(v).strip().replace(",", "").replace("\u2009", "").replace("\xa0", "")
    s = re.sub(r"^\$?\{?|\}?\$?$", "", s)
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", s):
        return None
    return float(s)


def _check_frame(df: pd.DataFrame, min_count: int, name: str,
                 ids: frozenset[str] = frozenset()) -> list[Violation]:
    out: list[Violation] = []
    for c in df.columns:
        col = str(c)
        if is_identifier_name(col):
            out.append(Violation(name, "identifier_column", f"column {col!r}",
                                 "column name looks like a person identifier"))
        if is_birth_name(col):
            out.append(Violation(name, "birth_date_column", f"column {col!r}",
                                 "column name looks like a date of birth"))
        values = df[c].tolist()
        if is_count_name(col):
            rows = [i for i, v in enumerate(values)
                    if (x := _number(v)) is not None and is_small(x, min_count)]
            if rows:
                out.append(Violation(name, "small_count", f"column {col!r} rows {_rows(rows)}",
                                     f"count below the minimum of {min_count}"))
        hits = [i for i, v in enumerate(values)
                if isinstance(v, (str, int, np.integer)) and not isinstance(v, bool)
                and (FNR_RE.search(str(v)) or (ids and str(v).strip() in ids))]
        if hits:
            out.append(Violation(name, "identifier_value", f"column {col!r} rows {_rows(hits)}",
                                 "value looks like a person identifier"))
    return out


def _delimiter(text: str) -> str:
    """The header line's most frequent of , ; tab | (csv.Sniffer guesses letters on
    one-column files)."""
    header = text.lstrip("\ufeff").splitlines()[0] if text else ""
    return max((",", ";", "\t", "|"), key=header.count)


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r + 1) for r in rows[:5])
    return shown + (f" (+{len(rows) - 5} more)" if len(rows) > 5 else "")


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
            if is_count_name(k) and (x := _number(v)) is not None and is_small(x, min_count):
                out.append(Violation(name, "small_count", p, f"count below the minimum of {min_count}"))
            if is_count_name(k) and isinstance(v, (list, dict)):
                items = v.values() if isinstance(v, dict) else v
                small = [e for e in items if (x := _number(e)) is not None
                         and is_small(x, min_count)]
                if small:
                    out.append(Violation(name, "small_count", p,
                                         f"count below the minimum of {min_count}"))
            _walk_json(v, p, min_count, name, ids, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_json(v, f"{path}[{i}]", min_count, name, ids, out)
    elif isinstance(obj, (str, int)) and not isinstance(obj, bool):
        if FNR_RE.search(str(obj)) or (ids and str(obj) in ids):
            out.append(Violation(name, "identifier_value", path, "value looks like a person identifier"))


def check_file(path: str | Path, min_count: int = MIN_COUNT, *, ids: Iterable[str] = (),
               name: str | None = None) -> list[Violation]:
    """Check one CSV, JSON, Markdown or LaTeX output file (see :func:`check_outputs`)."""
    path = Path(path)
    name = name or path.name
    known = frozenset(str(i) for i in ids)
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Violation(name, "unreadable", "file", f"cannot be read as text ({type(exc).__name__})")]
    out: list[Violation] = []
    try:
        if suffix == ".csv":
            if text.strip():
                df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=_delimiter(text),
                                 encoding="utf-8-sig")
                out += _check_frame(df, min_count, name, known)
        elif suffix == ".json":
            _walk_json(json.loads(text), "", min_count, name, known, out)
        else:
            tables = _markdown_tables(text) if suffix == ".md" else _latex_tables(text)
            for k, t in enumerate(tables):
                for v in _check_frame(t, min_count, name, known):
                    out.append(Violation(v.file, v.kind, f"table {k + 1} {v.location}", v.detail))
            for m in N_EQUALS_RE.finditer(text):
                if is_small(float(m.group(1).replace(",", "")), min_count):
                    line = text.count("\n", 0, m.start()) + 1
                    out.append(Violation(name, "small_count", f"line {line}",
                                         f"'n = ...' below the minimum of {min_count}"))
            for m in FNR_RE.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                out.append(Violation(name, "identifier_value", f"line {line}",
                                     "11-digit number (fødselsnummer-like)"))
            for i in known:
                for m in re.finditer(r"(?<![\w])" + re.escape(i) + r"(?![\w])", text):
                    line = text.count("\n", 0, m.start()) + 1
                    out.append(Violation(name, "identifier_value", f"line {line}",
                                         "known person identifier"))
    except (ValueError, pd.errors.ParserError) as exc:
        out.append(Violation(name, "unreadable", "file", f"cannot be parsed ({type(exc).__name__})"))
    return out


#: File types the checker reads; other files (PNG, ...) are listed but not parsed.
CHECKED_SUFFIXES = (".csv", ".json", ".md", ".tex")


def check_outputs(directory: str | Path, min_count: int = MIN_COUNT, *,
                  ids: Iterable[str] = ()) -> OutputCheck:
    """Scan a folder of outputs for small counts and person identifiers.

    Every ``.csv``, ``.json``, ``.md`` and ``.tex`` file below ``directory`` is read; a
    violation is (a) a value ``0 < v < min_count`` in a count column or key (named by the
    convention of :func:`is_count_name`), or an ``n = 3`` in running text; (b) a column or
    key named like a person identifier or date of birth, an 11-digit number anywhere, or
    any of the known ``ids`` (pass the register's person ids for the strictest check).

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
