"""What each column of a published table is, and the rule for the shares and means in it.

A share ``p`` over ``n`` persons publishes its numerator ``p * n`` (and the complement
``(1 - p) * n``) as surely as a count cell would: 0.0122 of 152 person-years is about 2
person-years. :func:`~ips_study.disclosure.suppress_shares` suppresses such cells when a
table is made; this module lets the stand-alone checker (``check-outputs``) see them too.

**Declared roles.** Tables the package writes (:func:`~ips_study.disclosure.export_table`)
carry a sidecar ``<stem>.roles`` (JSON) declaring the role of each column whose role is not
plain from its name:

* ``count``: numbers of persons (or person-years); checked as counts whatever the name;
* ``share``: a share of persons (or a mean of a 0/1 outcome) in ``[0, 1]``, over the
  denominator column(s) ``of`` (several: the largest in the row, the finest unit);
  ``percent`` is the same in ``[0, 100]``;
* ``mean``: a mean of another quantity over ``of``; with ``max``, the largest value one
  person (one unit of ``of``) can have, the quantity is bounded (workdays: at most the
  weekdays of a year) and the mean is checked as a share of that bound (below);
* ``other``: anything else (an estimate, a weight): never read as a share.

The sidecar names the CSV's columns; the Markdown and LaTeX files of the same stem have
the same columns in the same order under human headers and are matched by position. A
sidecar that fits none of them is reported (``roles_mismatch``).

**Undeclared columns** (foreign tables, or columns a sidecar does not name) are judged by
their role, not their English name: a column whose shown values are all numbers in
``[0, 1]``, at least one strictly inside, next to a count column (by role,
:func:`~ips_study.disclosure.rules.is_count_role`) is a share over the largest count of its
row, unless its name marks another statistic (``p_value``, ``estimate``, ``weight``,
``std_error`` ...); a column named ``pct``/``percent``/``%`` with values in ``[0, 100]`` is a
percentage. Taking the largest count keeps false findings rare; a share over a smaller
count needs a declaration to be checked exactly.

**The rule** (violations, never quoting a value):

* ``small_numerator``: ``0 < p*n < min_count - 0.5`` or ``0 < (1-p)*n < min_count - 0.5``
  (the numerator, rounded to whole persons, is below the minimum; the half allows for the
  share's own rounding); a mean ``m`` of a quantity bounded by ``max`` is the share ``p =
  m / max``: its total ``m*n`` must amount to at least ``min_count`` persons at the bound,
  and so must the shortfall ``(max - m)*n``. That bound is what makes the (n, k) dominance
  and p% rules hold whatever the microdata (``docs/disclosure.md``, "Means");
* ``small_denominator``: a share or mean published over a denominator below ``min_count``
  or suppressed.

>>> import pandas as pd
>>> t = pd.DataFrame({"n_person_years": [152, 400], "disability": [0.0122, 0.2]})
>>> [(k, loc) for k, loc, _ in share_findings(t, 5)]
[('small_numerator', "column 'disability' rows 1")]
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .rules import (SUPPRESSED, UNIT_NAMES, canon, is_count_name, is_count_role, is_identifier_name,
                    parse_number, rows_text)

#: The roles a column may be declared with.
ROLES = ("count", "share", "percent", "mean", "label", "other")

#: The sidecar's suffix: ``table_4.roles`` declares ``table_4.csv``, ``.md`` and ``.tex``.
SUFFIX = ".roles"

#: The attribute of a DataFrame (``df.attrs``) a producer puts its declaration in.
ATTR = "ips_study_roles"

#: Words that mark a column in [0, 1] as a statistic other than a share of persons.
NOT_SHARE_WORDS = frozenset({
    "p", "pvalue", "pval", "p_value", "se", "sd", "std", "stderr", "error", "estimate", "est",
    "coef", "coefficient", "beta", "conf", "ci", "low", "high", "lower", "upper", "lo", "hi",
    "weight", "weights", "vekt", "r2", "rsquared", "corr", "correlation", "rho", "hr", "ratio",
    "or", "rr", "t", "z", "stat", "statistic", "power", "size", "alpha", "level", "quantile",
    "bias", "truth", "elasticity", "rmspe", "score", "index", "fidelity", "probability", "prob",
})
#: Words (or a ``%``) that mark a column as a percentage.
PERCENT_WORDS = frozenset({"pct", "percent", "percentage", "prosent"})
#: Names of a long table's value column.
LONG_VALUES = ("value", "estimate", "verdi")
#: Units of a long table's value that make it a share, or a percentage.
SHARE_UNITS = frozenset({"share", "proportion", "prop", "andel", "fraction", "mean_0_1"})
PERCENT_UNITS = frozenset({"%", "percent", "pct", "prosent", "percentage"})


def declare(frame: pd.DataFrame, roles: Mapping[str, Any]) -> pd.DataFrame:
    """Attach a declaration of column roles to ``frame`` (kept in ``frame.attrs``), which
    :func:`~ips_study.disclosure.export_table` writes as the sidecar.

    ``roles`` maps a column to a role (``"count"``, ``"other"``, ...) or to
    ``(role, of)`` with the denominator column(s) of a share, percent or mean, or to
    ``("mean", of, max)`` for a mean of a quantity no unit can exceed ``max``.

    >>> import pandas as pd
    >>> t = declare(pd.DataFrame({"n": [40], "mean_age": [31.5]}), {"mean_age": ("mean", "n")})
    >>> t.attrs[ATTR]["mean_age"]
    {'role': 'mean', 'of': ['n']}
    >>> declare(t, {"mean_age": ("mean", "n", 67)}).attrs[ATTR]["mean_age"]
    {'role': 'mean', 'of': ['n'], 'max': 67.0}
    """
    merged = dict(frame.attrs.get(ATTR, {}))
    merged.update(normalise(roles, frame.columns))
    frame.attrs[ATTR] = merged
    return frame


def normalise(roles: Mapping[str, Any], columns: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """``{column: {"role": ..., "of": [...]}}`` from the short forms of :func:`declare`;
    ``ValueError`` names a role or column that is not there."""
    cols = {str(c) for c in columns}
    out: dict[str, dict[str, Any]] = {}
    for col, spec in roles.items():
        bound = None
        if isinstance(spec, str):
            role, of = spec, None
        elif isinstance(spec, Mapping):
            role, of, bound = spec.get("role"), spec.get("of"), spec.get("max")
        else:
            role, of, *rest = spec
            bound = rest[0] if rest else None
        if role not in ROLES:
            raise ValueError(f"column {col!r}: role must be one of {', '.join(ROLES)}, not {role!r}")
        entry: dict[str, Any] = {"role": role}
        if role in ("share", "percent", "mean"):
            dens = [of] if isinstance(of, str) else list(of or [])
            if not dens:
                raise ValueError(f"column {col!r}: a {role} needs its denominator column(s) (of=...)")
            missing = [d for d in dens if str(d) not in cols]
            if missing:
                raise ValueError(f"column {col!r}: denominator column(s) {missing} not in the table")
            entry["of"] = [str(d) for d in dens]
        if bound is not None:
            if role != "mean" or not _positive(bound):
                raise ValueError(f"column {col!r}: only a mean takes a bound (max), a positive number")
            entry["max"] = float(bound)
        if str(col) not in cols:
            raise ValueError(f"column {col!r} has a declared role but is not in the table")
        out[str(col)] = entry
    return out


def _positive(x: Any) -> bool:
    try:
        return 0 < float(x) < float("inf")
    except (TypeError, ValueError):
        return False


def sidecar(path: str | Path) -> Path:
    """The declaration file of a table file (``t.csv`` -> ``t.roles``)."""
    return Path(path).with_suffix(SUFFIX)


def write_sidecar(path_stem: str | Path, frame: pd.DataFrame,
                  roles: Mapping[str, dict[str, Any]]) -> Path:
    """Write the declaration of ``frame``'s columns (every column, in order; those without a
    declaration as ``null``: judged by the checker's rule for undeclared columns)."""
    cols = [json.dumps({"name": str(c), **(roles.get(str(c)) or {"role": None})}, ensure_ascii=False)
            for c in frame.columns]
    p = sidecar(path_stem)
    # one column a line: readable, and a diff shows which declaration changed
    p.write_text('{"ips_study_roles": 1, "columns": [\n ' + ",\n ".join(cols) + "\n]}\n",
                 encoding="utf-8")
    return p


def read_sidecar(path: str | Path) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The declared columns of the table file ``path`` (``None`` without a sidecar), and a
    reason when the sidecar exists but cannot be used."""
    p = sidecar(path)
    if not p.is_file():
        return None, None
    try:
        body = json.loads(p.read_text(encoding="utf-8"))
        cols = body["columns"]
        if not isinstance(cols, list) or not all(isinstance(c, dict) and "name" in c for c in cols):
            raise ValueError
        for c in cols:
            if c.get("role") is not None and c["role"] not in ROLES:
                raise ValueError
        return cols, None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None, f"its declaration {p.name} cannot be read"


def check_sidecar(text: str) -> list[tuple[str, str, str]]:
    """Findings on a sidecar's own text (it leaves the server too): it must be a declaration,
    holding column names and roles only."""
    try:
        body = json.loads(text)
        cols = body["columns"]
        extra = set(body) - {"ips_study_roles", "columns"}
        bad = extra or any(set(c) - {"name", "role", "of", "max"} for c in cols)
    except (ValueError, KeyError, TypeError, AttributeError):
        bad = True
    if bad:
        return [("unreadable", "file", "not a declaration of column roles (only names, roles, "
                 "denominators and bounds may stand in it)")]
    return []


def match(declared: list[dict[str, Any]] | None, columns: Sequence[Any]) -> tuple[dict[str, dict], bool]:
    """The declaration as ``{column of this file: entry}`` (with ``of`` translated to this
    file's column names), matched by name, else by position; and whether it fitted."""
    if not declared:
        return {}, True
    names = [str(c["name"]) for c in declared]
    cols = [str(c) for c in columns]
    if names == cols:
        to_file = {n: n for n in names}
    elif len(names) == len(cols):  # the Markdown/LaTeX rendering under human headers
        to_file = dict(zip(names, cols))
    else:
        return {}, False
    out = {}
    for entry, col in zip(declared, cols):
        if entry.get("role") is None:
            continue
        e = {"role": entry["role"]}
        if "of" in entry:
            of = entry["of"] if isinstance(entry["of"], list) else [entry["of"]]
            if any(str(d) not in to_file for d in of):
                return {}, False
            e["of"] = [to_file[str(d)] for d in of]
        if entry.get("role") == "mean" and _positive(entry.get("max")):
            e["max"] = float(entry["max"])
        out[col] = e
    return out, True


def _words(name: Any) -> set[str]:
    return set(canon(name).split("_"))


def _shown(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if str(v).strip() not in ("", SUPPRESSED, "nan", "None")]


#: Words that name a share (used where values alone are too little evidence: one row).
SHARE_WORDS = frozenset({"share", "andel", "proportion", "prop", "fraction"})


def _guess(df: pd.DataFrame, declared: dict[str, dict], names_only: bool = False) -> dict[str, dict]:
    """Roles of the columns a declaration does not name, by their role (see the module).
    ``names_only``: a single row (a JSON object), whose values say too little: only columns
    named as shares or percentages are guessed."""
    counts = [str(c) for c in df.columns if str(c) not in declared
              and (is_count_name(c) or is_count_role(c)) and not is_identifier_name(c)
              and _shown(df[c].tolist())
              and all(parse_number(v) is not None for v in _shown(df[c].tolist()))]
    counts += [c for c, e in declared.items() if e["role"] == "count"]
    if not counts:
        return {}
    out: dict[str, dict] = {}
    unit = next((str(c) for c in df.columns if canon(c) in UNIT_NAMES), None)
    for c in df.columns:
        c = str(c)
        if c in declared or c in counts or c == unit or (unit is not None and canon(c) in LONG_VALUES):
            continue  # a long table's value: its unit says what it is (long_share_findings)
        shown = _shown(df[c].tolist())
        nums = [parse_number(v) for v in shown]
        if not shown or any(x is None for x in nums):
            continue
        words = _words(c)
        per = _per(c)
        if per:  # a rate per 1,000 (or 100,000) persons: a share times that
            if all(0 <= x <= per for x in nums):
                out[c] = {"role": "share", "of": counts, "per": per}
        elif "%" in c or words & PERCENT_WORDS:
            if all(0 <= x <= 100 for x in nums):
                out[c] = {"role": "percent", "of": counts}
        elif not words & NOT_SHARE_WORDS and all(0 <= x <= 1 for x in nums) \
                and any(0 < x < 1 for x in nums) and (not names_only or words & SHARE_WORDS):
            out[c] = {"role": "share", "of": counts}
    return out


#: Rates per so many persons (``per_1000``, ``promille``, ``per 100 000``).
_PER_RE = re.compile(r"(?:per|pr)[\s_]*(1[\s_,.]?0{2,3}(?:[\s_,.]?0{3})*)(?![\d])")


def _per(name: Any) -> float:
    """The base of a rate column (``deaths_per_1000`` -> 1000; ``promille`` -> 1000), or 0."""
    s = str(name).lower()
    if "promille" in s or "permille" in s or "‰" in s:
        return 1000.0
    m = _PER_RE.search(s)
    return float(re.sub(r"\D", "", m.group(1))) if m else 0.0


def _own_numerator(frame: pd.DataFrame, counts: Sequence[str], i: int, n: float, share: float) -> bool:
    """Whether the row's count is the share's numerator rather than its denominator: ``n /
    share`` is (within the share's rounding) a count of another row, as in a flow table
    (``ended_other, 6, 0.14`` where 6 / 0.14 = 43 persons ended)."""
    if share <= 0:
        return False
    implied = n / share
    for c in counts:
        col = frame.columns.get_loc(c) if c in frame else None
        if col is None:
            continue
        for k in range(len(frame)):
            other = parse_number(frame.iat[k, col]) if k != i else None
            if other is not None and other > n and abs(implied - other) <= 0.5 + 0.005 * other:
                return True
    return False


def share_findings(df: pd.DataFrame, min_count: int,
                   declared: dict[str, dict] | None = None,
                   names_only: bool = False) -> list[tuple[str, str, str]]:
    """``(kind, location, detail)`` for every share or mean column of ``df`` whose numerator
    or denominator is below ``min_count`` (see the module docstring); ``declared`` as from
    :func:`match`; ``names_only`` as for :func:`_guess`."""
    declared = declared or {}
    roles = {**_guess(df, declared, names_only), **declared}
    frame = df.copy()
    frame.columns = [str(c) for c in df.columns]
    out = []
    for c, e in roles.items():
        if e["role"] not in ("share", "percent", "mean") or c not in frame:
            continue
        how = "declared" if c in declared else "by its values"
        small_num, small_den = [], []
        for i in range(len(frame)):
            p = parse_number(frame[c].iloc[i])
            if p is None:
                continue  # suppressed, empty or text
            dens = [frame[d].iloc[i] for d in e["of"] if d in frame]
            nums = [parse_number(v) for v in dens]
            shown = [x for x in nums if x is not None]
            if not shown:
                if any(str(v).strip() == SUPPRESSED for v in dens):
                    small_den.append(i)  # the mean rests on a hidden count
                continue
            n = max(shown)
            if 0 < n < min_count:
                small_den.append(i)
                continue
            if e["role"] == "mean" and "max" not in e:
                continue  # an unbounded amount: its denominator only (docs/disclosure.md)
            share = p / 100 if e["role"] == "percent" else p / e["max"] if e["role"] == "mean" \
                else p / e.get("per", 1.0)
            if not 0 <= share <= 1:
                continue
            if c not in declared and _own_numerator(frame, e["of"], i, n, share):
                continue
            yes, no = share * n, (1 - share) * n
            if 0 < yes < min_count - 0.5 or 0 < no < min_count - 0.5:
                small_num.append(i)
        den = "/".join(repr(d) for d in e["of"])
        if small_num:
            what = (f"mean ({how}) over its bound {e['max']:g} times its denominator {den}, or the "
                    "shortfall," if e["role"] == "mean" else
                    f"{e['role']} ({how}) times its denominator {den}, or the rest,")
            out.append(("small_numerator", f"column {c!r} rows {rows_text(small_num)}",
                        f"{what} is fewer than {min_count} persons"))
        if small_den:
            out.append(("small_denominator", f"column {c!r} rows {rows_text(small_den)}",
                        f"{e['role']} ({how}) over a denominator {den} below {min_count} or suppressed"))
    return out


def long_share_findings(df: pd.DataFrame, min_count: int) -> list[tuple[str, str, str]]:
    """A long table (``metric, value, n, unit``) whose unit says the value is a share or a
    percentage: the same rule over the row's largest count."""
    unit = next((c for c in df.columns if canon(c) in UNIT_NAMES), None)
    value = next((c for c in df.columns if canon(c) in LONG_VALUES and c != unit), None)
    counts = [c for c in df.columns if c not in (unit, value) and (is_count_name(c) or is_count_role(c))]
    if unit is None or value is None or not counts:
        return []
    rows = []
    for i in range(len(df)):
        u = canon(df[unit].iloc[i])
        if u not in SHARE_UNITS and str(df[unit].iloc[i]).strip() not in PERCENT_UNITS and u not in PERCENT_UNITS:
            continue
        sub = pd.DataFrame({"v": [df[value].iloc[i]], **{str(c): [df[c].iloc[i]] for c in counts}})
        role = "share" if u in SHARE_UNITS else "percent"
        if share_findings(sub, min_count, {"v": {"role": role, "of": [str(c) for c in counts]}}):
            rows.append(i)
    if not rows:
        return []
    return [("small_numerator", f"column {str(value)!r} rows {rows_text(rows)}",
             f"share (unit column {str(unit)!r}) times the row's count, or the rest, is fewer "
             f"than {min_count} persons")]
