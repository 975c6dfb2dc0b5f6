"""Statistical disclosure control (statistisk avsløringskontroll) for every exported output.

Register microdata may leave the secure server only as aggregates that do not reveal
anything about an individual. This module holds the rules the whole project exports
through (the naming convention is described in ``docs/disclosure.md``):

* **Count columns are recognised by name** (:func:`is_count_name`): ``n``, ``n_*``,
  ``*_n``, ``count``, ``*_count``, ``persons``, ``*_persons``, ``cases``, ... A count
  column holds numbers of *persons* behind the row. Every rate or mean in an exported
  table names its denominator in such a column (``share_in_work`` next to ``n_active``,
  or a long table's ``value`` next to ``n``).
* **Primary suppression**: a count cell with ``0 < value < min_count`` is suppressed, and so
  is every rate/mean whose denominator is below ``min_count`` (:func:`suppress_small`).
* **Secondary suppression** for tables published with totals (:func:`protect_table`): a
  suppressed cell must not be recoverable as total minus the other cells, so every row and
  column equation with exactly one suppressed cell gets a second one (the next-smallest
  cell), iterated to a fixed point (Cox 1980, "Suppression methodology and statistical
  disclosure control", JASA 75:377-385). :func:`audit_suppression` bounds every suppressed
  cell by linear programming to confirm it cannot be pinned down exactly.
* Optional rounding of counts to a base (:func:`round_counts`).
* Figures: :func:`mask_small` drops points resting on fewer than ``min_count`` persons,
  :func:`coarsen_bins` merges neighbouring bins until each has enough, and
  :func:`truncate_survival` ends a survival curve where its risk set falls below the minimum.
* Regression outputs: :func:`check_results` refuses a :class:`~ips_study.results.Results`
  whose ``n_obs``, ``n_units`` or ``n_min`` is below the minimum.
* Identifiers never leave the process: :func:`redact` and :class:`RedactingFilter` scrub
  person ids from text and logs; :func:`export_table` refuses identifier columns and small
  counts before it writes; :func:`check_outputs` scans a folder of finished outputs.

Suppressed cells are written as :data:`SUPPRESSED` (``":"``, Statistics Norway's symbol for
"not published for confidentiality reasons").

Example
-------
>>> import pandas as pd
>>> t = protect_table(pd.DataFrame({"work": [3, 20], "no work": [12, 30]},
...                                index=["psychosis team", "municipal"]), min_count=5)
>>> t.to_frame().loc["psychosis team"].tolist()
[':', ':', 15]
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

#: Marker written in place of a suppressed cell (SSB symbol ":").
SUPPRESSED = ":"

#: Default minimum number of persons behind any published number.
MIN_COUNT = 5

_COUNT_RE = re.compile(
    r"^(n|count|counts|persons|people|cases|freq|frequency|"
    r"n_.+|.+_n|count_.+|.+_count|.+_counts|persons_.+|.+_persons|.+_cases|number_of_.+|num_.+)$"
)
_ID_RE = re.compile(
    r"^(person_?id|pid|personid|person|fnr|f_?nr|fodselsnr|fodselsnummer|fødselsnummer|"
    r"fodselsnr|lopenr|lopenummer|løpenummer|ssn|personnummer|pnr|.+_person_id)$"
)
_BIRTH_RE = re.compile(r"(birth|fodsel|fødsel|fodt|født|^dob$|^dob_|_dob$)")
# 11 digits (fødselsnummer, or "ddmmyy nnnnn"): not inside hashes, words or decimal numbers
_FNR_RE = re.compile(r"(?<!\w)(?<!\d[.,])\d{6}[ -]?\d{5}(?!\w)(?![.,]\d)")
_N_EQUALS_RE = re.compile(r"\b[nN]\s*=\s*(\d[\d,]*)\b")


class DisclosureError(RuntimeError):
    """An output would disclose small counts or identifiers and is refused."""


def _canon(name: Any) -> str:
    s = str(name).strip().lower()
    s = re.sub(r"[\s\-\.]+", "_", s)
    return s.strip("_")


def is_count_name(name: Any) -> bool:
    """Whether a column (or JSON key) name marks a count of persons under the convention.

    >>> [is_count_name(c) for c in ("n", "n_active", "ever_offered_n", "share", "persons")]
    [True, True, True, False, True]
    """
    return bool(_COUNT_RE.match(_canon(name)))


def is_identifier_name(name: Any) -> bool:
    """Whether a name looks like a person identifier (person_id, fnr, fødselsnummer, ...)."""
    return bool(_ID_RE.match(_canon(name)))


def is_birth_name(name: Any) -> bool:
    """Whether a name looks like a date of birth (birth_date, fodselsdato, dob, ...)."""
    return bool(_BIRTH_RE.search(_canon(name)))


def _small(v: float, min_count: int) -> bool:
    return bool(np.isfinite(v) and 0 < v < min_count)


# -- tables ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suppressed:
    """A table after disclosure control: values (NaN where suppressed) and the mask.

    ``mask`` is True for suppressed cells; ``primary`` marks the cells suppressed for their
    own small count (the rest of ``mask`` is secondary or rate suppression).
    """

    frame: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame

    @property
    def n_suppressed(self) -> int:
        return int(self.mask.to_numpy().sum())

    def to_frame(self, marker: str = SUPPRESSED) -> pd.DataFrame:
        """The publishable table, suppressed cells replaced by ``marker``."""
        out = self.frame.astype(object).copy()
        out[self.mask.to_numpy()] = marker
        # whole numbers print as integers, which keeps CSV and Markdown free of "58.0"
        for c in out.columns:
            out[c] = pd.Series([int(v) if isinstance(v, (float, np.floating)) and np.isfinite(v)
                                and float(v).is_integer() and abs(v) < 1e15 else v
                                for v in out[c]], index=out.index, dtype=object)
        return out


def round_counts(values: pd.DataFrame | pd.Series, base: int = 5) -> pd.DataFrame | pd.Series:
    """Round counts to the nearest multiple of ``base`` (halves away from zero).

    >>> round_counts(pd.Series([1, 2, 3, 7, 12.5]), base=5).tolist()
    [0.0, 0.0, 5.0, 5.0, 15.0]
    """
    if base < 1:
        raise ValueError("rounding base must be a positive integer")
    x = values.astype(float)
    return np.sign(x) * np.floor(np.abs(x) / base + 0.5) * base


def suppress_small(
    df: pd.DataFrame,
    *,
    min_count: int = MIN_COUNT,
    counts: Sequence[str] | None = None,
    rates: dict[str, str] | None = None,
    round_base: int | None = None,
) -> Suppressed:
    """Primary suppression of a flat table (one statistic per cell, denominators alongside).

    Parameters
    ----------
    df : DataFrame
        Table to publish.
    min_count : int
        Smallest publishable count.
    counts : list of str, optional
        Count columns; default: every numeric column whose name :func:`is_count_name`.
    rates : dict, optional
        ``{value_column: denominator_count_column}``: the value is suppressed where the
        denominator is below ``min_count`` (or itself suppressed). In a long table with one
        ``n`` column, pass ``{"value": "n"}`` (the default when both columns exist).
    round_base : int, optional
        Round the published count cells to this base after suppression.

    Examples
    --------
    >>> t = pd.DataFrame({"metric": ["a", "b"], "value": [0.5, 0.7], "n": [4, 40]})
    >>> suppress_small(t).to_frame()["value"].tolist()
    [':', 0.7]
    """
    frame = df.copy()
    if counts is None:
        counts = [c for c in frame.columns
                  if is_count_name(c) and pd.api.types.is_numeric_dtype(frame[c])]
    if rates is None:
        rates = {"value": "n"} if {"value", "n"} <= set(frame.columns) else {}
    for col, den in rates.items():
        if col not in frame or den not in frame:
            raise KeyError(f"rate column {col!r} or its denominator {den!r} is not in the table")
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for c in counts:
        v = pd.to_numeric(frame[c], errors="coerce").astype(float)
        mask[c] = (v > 0) & (v < min_count)
    primary = mask.copy()
    for col, den in rates.items():
        d = pd.to_numeric(frame[den], errors="coerce").astype(float)
        mask[col] = mask[col] | (d < min_count) | mask[den]
    if round_base:
        for c in counts:
            frame[c] = round_counts(frame[c].astype(float), round_base)
    frame = frame.mask(mask)
    return Suppressed(frame, mask, primary)


def _equations(shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Additivity equations of a table with a total row and column as cell-index lists.

    Each row i: cells (i, 0..C-2) sum to (i, C-1); each column j likewise down the rows.
    """
    r, c = shape
    eqs = [[(i, j) for j in range(c)] for i in range(r)]
    eqs += [[(i, j) for i in range(r)] for j in range(c)]
    return eqs


def protect_table(
    counts: pd.DataFrame,
    *,
    min_count: int = MIN_COUNT,
    totals: bool = True,
    total_label: str = "Total",
    suppress_zeros: bool = False,
    round_base: int | None = None,
    force: np.ndarray | pd.DataFrame | None = None,
    avoid: np.ndarray | pd.DataFrame | None = None,
) -> Suppressed:
    """Primary and secondary suppression of a frequency table published with totals.

    Parameters
    ----------
    counts : DataFrame
        Interior cells (rows x columns) of non-negative counts, without totals.
    min_count : int
        Cells with ``0 < count < min_count`` are suppressed (primary).
    totals : bool
        Add a total column and a total row (they are published, so they constrain).
    suppress_zeros : bool
        Also treat zero cells as sensitive (a zero can disclose that *nobody* in a group has
        an attribute; off by default as in most trusted research environments).
    round_base : int, optional
        Round published cells to this base after suppression.
    force : array of bool, optional
        Cells (of the table *with* totals) that must be hidden anyway, e.g. because another
        published table hides them; secondary suppression then protects them too.
    avoid : array of bool, optional
        Cells to take as complementary suppressions only when nothing else is left (for
        example headline figures also published elsewhere).

    Returns
    -------
    Suppressed
        With totals added; ``mask`` covers primary and secondary suppressions.

    Notes
    -----
    Secondary suppression: while some row or column equation (cells + its total) has
    exactly one suppressed cell, suppress the smallest positive unsuppressed interior cell
    of that equation (the total only when no interior cell is left). This is the classic
    hypercube-free heuristic; :func:`audit_suppression` checks the result by linear
    programming.

    Examples
    --------
    >>> t = protect_table(pd.DataFrame({"a": [2, 10], "b": [8, 9]}), min_count=5)
    >>> int(t.mask.to_numpy().sum())
    4
    """
    x = counts.astype(float)
    if (x < 0).to_numpy().any():
        raise ValueError("counts must be non-negative")
    if totals:
        x = x.copy()
        x[total_label] = x.sum(axis=1)
        x.loc[total_label] = x.sum(axis=0)
    v = x.to_numpy()
    sens = (v > 0) & (v < min_count)
    if suppress_zeros:
        sens |= v == 0
    mask = protect_array(v, min_count=min_count, totals=totals, suppress_zeros=suppress_zeros,
                         force=force, avoid=avoid)
    frame = x.copy()
    if round_base:
        frame = round_counts(frame, round_base)
    m = pd.DataFrame(mask, index=x.index, columns=x.columns)
    p = pd.DataFrame(sens, index=x.index, columns=x.columns)
    return Suppressed(frame.mask(m), m, p)


def protect_array(values: np.ndarray, *, min_count: int = MIN_COUNT, totals: bool = True,
                  suppress_zeros: bool = False, force: np.ndarray | None = None,
                  avoid: np.ndarray | None = None) -> np.ndarray:
    """The suppression mask of :func:`protect_table` for a numpy table that already
    includes its total row and column (last row and column); fast path for many tables.

    >>> protect_array(np.array([[2., 8., 10.], [10., 9., 19.], [12., 17., 29.]])).sum()
    np.int64(4)
    """
    v = np.asarray(values, dtype=float)
    mask = (v > 0) & (v < min_count)
    if suppress_zeros:
        mask |= v == 0
    if force is not None:
        forced = np.asarray(force, dtype=bool)
        if forced.shape != mask.shape:
            raise ValueError(f"force mask has shape {forced.shape}, table {mask.shape}")
        mask |= forced
    if not totals:
        return mask
    r, c = v.shape
    interior = np.zeros_like(mask)
    interior[: r - 1, : c - 1] = True
    spare = np.zeros_like(mask) if avoid is None else np.asarray(avoid, dtype=bool)
    if spare.shape != mask.shape:
        raise ValueError(f"avoid mask has shape {spare.shape}, table {mask.shape}")
    lines = [(i, slice(None)) for i in range(r)] + [(slice(None), j) for j in range(c)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hid = mask[line]
            if hid.sum() != 1:
                continue
            vals, inner, late = v[line], interior[line], spare[line]
            # prefer interior cells, then small positive ones, then zeros, totals last;
            # cells to avoid only when nothing else is left
            order = np.lexsort((np.arange(len(vals)), vals, vals == 0, ~inner, late))
            cand = [k for k in order if not hid[k]]
            if cand:
                idx = np.arange(v.shape[1]) if isinstance(line[0], int) else np.arange(v.shape[0])
                k = idx[cand[0]]
                mask[(line[0], k) if isinstance(line[0], int) else (k, line[1])] = True
                changed = True
    return mask


def audit_suppression(table: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """Feasible range of every suppressed cell given the published cells and totals.

    ``table`` holds the true values *including* the total row and column (last row and
    column), ``mask`` the suppressed cells. An intruder knows every published cell, that
    rows and columns add up to their totals, and that counts are non-negative; the bounds
    are found by linear programming (``scipy.optimize.linprog``). A suppressed cell with
    ``lower == upper`` is disclosed; ``upper`` is infinite when nothing published bounds it.

    Returns a DataFrame with ``row``, ``column``, ``value``, ``lower``, ``upper``.

    >>> t = protect_table(pd.DataFrame({"a": [2, 10], "b": [8, 9]}), min_count=5)
    >>> full = pd.DataFrame({"a": [2, 10, 12], "b": [8, 9, 17], "Total": [10, 19, 29]},
    ...                     index=[0, 1, "Total"])
    >>> audit_suppression(full, t.mask)[["lower", "upper"]].iloc[0].tolist()
    [0.0, 10.0]
    """
    from scipy.optimize import linprog

    v = table.to_numpy(dtype=float)
    m = mask.to_numpy(dtype=bool)
    cells = list(zip(*np.nonzero(m)))
    if not cells:
        return pd.DataFrame(columns=["row", "column", "value", "lower", "upper"])
    pos = {cell: k for k, cell in enumerate(cells)}
    a_eq, b_eq = [], []
    for eq in _equations(v.shape):
        # interior cells minus the total cell equals zero
        row = np.zeros(len(cells))
        rhs = 0.0
        for k, cell in enumerate(eq):
            sign = -1.0 if k == len(eq) - 1 else 1.0
            if cell in pos:
                row[pos[cell]] += sign
            else:
                rhs -= sign * v[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = []
    for cell, k in pos.items():
        obj = np.zeros(len(cells))
        obj[k] = 1.0
        lo = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        out.append({"row": table.index[cell[0]], "column": table.columns[cell[1]],
                    "value": v[cell], "lower": lo.fun if lo.success else np.nan,
                    # unbounded: nothing published ties the cell down (status 3)
                    "upper": -hi.fun if hi.success else (np.inf if hi.status == 3 else np.nan)})
    return pd.DataFrame(out)


# -- figures --------------------------------------------------------------------------------
def mask_small(df: pd.DataFrame, value_cols: Sequence[str], n_col: str = "n",
               min_count: int = MIN_COUNT) -> pd.DataFrame:
    """Blank (NaN) plotted values that rest on fewer than ``min_count`` persons.

    >>> mask_small(pd.DataFrame({"y": [1.0, 2.0], "n": [3, 9]}), ["y"])["y"].tolist()
    [nan, 2.0]
    """
    out = df.copy()
    small = pd.to_numeric(out[n_col], errors="coerce").fillna(0) < min_count
    out.loc[small, list(value_cols)] = np.nan
    return out


def coarsen_bins(df: pd.DataFrame, n_col: str, value_cols: Sequence[str] = (),
                 min_count: int = MIN_COUNT, label_col: str | None = None) -> pd.DataFrame:
    """Merge neighbouring rows (ordered bins) until each merged bin has ``n >= min_count``.

    Values are combined as ``n``-weighted means, ``n`` is summed, and ``label_col`` (if
    given) becomes ``"first-last"``. A short remainder at the end is merged into the
    previous bin; if the whole table has fewer than ``min_count`` persons, nothing is left.

    >>> d = pd.DataFrame({"age": ["18", "19", "20", "21"], "n": [2, 4, 6, 1], "y": [1., 0., 1., 1.]})
    >>> coarsen_bins(d, "n", ["y"], 5, "age")[["age", "n"]].values.tolist()
    [['18-19', 6], ['20-21', 7]]
    """
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0.0
    n = pd.to_numeric(df[n_col], errors="coerce").fillna(0).to_numpy()
    for i in range(len(df)):
        current.append(i)
        total += n[i]
        if total >= min_count:
            groups.append(current)
            current, total = [], 0.0
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            return df.iloc[0:0].copy()
    rows = []
    for g in groups:
        part = df.iloc[g]
        w = n[g]
        row = {n_col: int(w.sum()) if float(w.sum()).is_integer() else w.sum()}
        for c in value_cols:
            y = part[c].to_numpy(dtype=float)
            ok = np.isfinite(y)
            row[c] = float(np.average(y[ok], weights=w[ok])) if w[ok].sum() > 0 else np.nan
        if label_col is not None:
            first, last = part[label_col].iloc[0], part[label_col].iloc[-1]
            row[label_col] = str(first) if len(g) == 1 else f"{first}-{last}"
        rows.append(row)
    cols = ([label_col] if label_col else []) + [n_col] + list(value_cols)
    return pd.DataFrame(rows)[cols]


def truncate_survival(curve: pd.DataFrame, at_risk_col: str = "at_risk",
                      min_count: int = MIN_COUNT) -> pd.DataFrame:
    """End a survival/cumulative-incidence curve where the risk set falls below the minimum.

    Rows are kept up to (not including) the first time at which ``at_risk_col`` is below
    ``min_count``; later rows are dropped even if the risk set grows again (it cannot in a
    single curve, but merged curves can).

    >>> c = pd.DataFrame({"t": [0, 1, 2, 3], "at_risk": [20, 9, 4, 2], "s": [1, .9, .8, .5]})
    >>> truncate_survival(c)["t"].tolist()
    [0, 1]
    """
    r = pd.to_numeric(curve[at_risk_col], errors="coerce").fillna(0).to_numpy()
    below = np.nonzero(r < min_count)[0]
    stop = below[0] if len(below) else len(curve)
    return curve.iloc[:stop].copy()


# -- regression results ---------------------------------------------------------------------
def check_results(results: Any, min_count: int = MIN_COUNT) -> Any:
    """Refuse a regression result that rests on fewer than ``min_count`` persons or units.

    Checks ``n_obs``, ``n_units`` and ``n_min`` (when set) of a
    :class:`~ips_study.results.Results`, and an ``n`` column of its coefficient table if the
    design supplies one. Returns ``results`` unchanged when it passes.

    >>> from ips_study.results import Results
    >>> r = Results(pd.DataFrame({"estimate": [1.0], "std_error": [0.5]}, index=["att"]),
    ...             design="did", outcome="workdays", inference="cluster", n_obs=400, n_units=3)
    >>> check_results(r)
    Traceback (most recent call last):
    ...
    ips_study.disclosure.DisclosureError: did/workdays refused by disclosure control: n_units = 3 is below the minimum of 5
    """
    problems = []
    for attr in ("n_obs", "n_units", "n_min"):
        val = getattr(results, attr, None)
        if val is not None and val < min_count:
            problems.append(f"{attr} = {val} is below the minimum of {min_count}")
    tidy = results.tidy() if hasattr(results, "tidy") else None
    if tidy is not None and "n" in tidy:
        low = tidy.index[pd.to_numeric(tidy["n"], errors="coerce").fillna(0) < min_count]
        if len(low):
            problems.append(f"terms {', '.join(map(str, low))} rest on fewer than {min_count}")
    if problems:
        name = f"{getattr(results, 'design', '?')}/{getattr(results, 'outcome', '?')}"
        raise DisclosureError(f"{name} refused by disclosure control: " + "; ".join(problems))
    return results


# -- identifiers ----------------------------------------------------------------------------
def redact(text: str, ids: Iterable[str] = ()) -> str:
    """Replace person identifiers in ``text`` by ``[id]``: 11-digit numbers and known ids.

    >>> redact("row of 01019012345 and P0042 failed", ids=["P0042"])
    'row of [id] and [id] failed'
    """
    out = _FNR_RE.sub("[id]", str(text))
    known = sorted({str(i) for i in ids if str(i)}, key=len, reverse=True)
    if known:
        pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, known)) + r")(?![\w])")
        out = pattern.sub("[id]", out)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts person identifiers from every record it passes.

    >>> log = logging.getLogger("ips_study.example")
    >>> log.addFilter(RedactingFilter(ids=["P0042"]))
    """

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__()
        self.ids = tuple(str(i) for i in ids)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.ids)
        record.args = ()
        return True


def install_redaction(ids: Iterable[str] = (), logger: logging.Logger | str | None = None
                      ) -> RedactingFilter:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root).

    A filter on a *logger* does not see records propagated from child loggers; a filter on
    the *handlers* sees everything they write, so this is the one call a script makes
    after configuring logging. Returns the filter (remove it with ``handler.removeFilter``).

    >>> import io
    >>> stream = io.StringIO()
    >>> log = logging.getLogger("ips_study.doc_example")
    >>> log.addHandler(logging.StreamHandler(stream))
    >>> _ = install_redaction(["P0042"], log)
    >>> log.warning("dropped row of %s", "P0042")
    >>> stream.getvalue().strip()
    'dropped row of [id]'
    """
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    filt = RedactingFilter(ids)
    for handler in target.handlers:
        handler.addFilter(filt)
    return filt


def assert_no_identifiers(df: pd.DataFrame, ids: Iterable[str] = ()) -> None:
    """Raise :class:`DisclosureError` if a table carries identifier or birth-date columns,
    11-digit numbers, or any of the known ``ids`` (the message never repeats the value)."""
    problems = [f"column {c!r} looks like a person identifier" for c in df.columns
                if is_identifier_name(c)]
    problems += [f"column {c!r} looks like a date of birth" for c in df.columns
                 if is_birth_name(c)]
    known = {str(i) for i in ids}
    for c in df.columns:
        s = df[c].astype(str)
        if s.str.contains(_FNR_RE).any():
            problems.append(f"column {c!r} holds 11-digit numbers (fødselsnummer-like)")
        if known and s.isin(known).any():
            problems.append(f"column {c!r} holds person identifiers")
    if problems:
        raise DisclosureError("; ".join(problems))


def export_table(
    table: pd.DataFrame | Suppressed,
    path_stem: str | Path,
    *,
    min_count: int = MIN_COUNT,
    formats: Sequence[str] = ("csv", "md"),
    float_format: str = "{:.3g}",
) -> list[Path]:
    """Write a table as CSV and/or Markdown after checking it against the convention.

    The table must already be disclosure-controlled (:func:`suppress_small` or
    :func:`protect_table`); the same checks as :func:`check_outputs` run on it before
    anything is written, so a table that breaks the rules never reaches the disk.

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
    fmt = frame.map(lambda v: float_format.format(v)
                    if isinstance(v, (float, np.floating)) and np.isfinite(v)
                    and not float(v).is_integer() else ("" if _isnan(v) else v))
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


def _isnan(v: Any) -> bool:
    return isinstance(v, (float, np.floating)) and np.isnan(v)


def _to_markdown(df: pd.DataFrame) -> str:
    """Pipe table without the optional ``tabulate`` dependency."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in row) + " |")
    return "\n".join(lines)


def save_figure(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG with fixed metadata (byte-identical reruns)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    return path


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
                    if (x := _number(v)) is not None and _small(x, min_count)]
            if rows:
                out.append(Violation(name, "small_count", f"column {col!r} rows {_rows(rows)}",
                                     f"count below the minimum of {min_count}"))
        hits = [i for i, v in enumerate(values)
                if isinstance(v, (str, int, np.integer)) and not isinstance(v, bool)
                and (_FNR_RE.search(str(v)) or (ids and str(v).strip() in ids))]
        if hits:
            out.append(Violation(name, "identifier_value", f"column {col!r} rows {_rows(hits)}",
                                 "value looks like a person identifier"))
    return out


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
            if is_count_name(k) and (x := _number(v)) is not None and _small(x, min_count):
                out.append(Violation(name, "small_count", p, f"count below the minimum of {min_count}"))
            if is_count_name(k) and isinstance(v, (list, dict)):
                items = v.values() if isinstance(v, dict) else v
                small = [e for e in items if (x := _number(e)) is not None
                         and _small(x, min_count)]
                if small:
                    out.append(Violation(name, "small_count", p,
                                         f"count below the minimum of {min_count}"))
            _walk_json(v, p, min_count, name, ids, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_json(v, f"{path}[{i}]", min_count, name, ids, out)
    elif isinstance(obj, (str, int)) and not isinstance(obj, bool):
        if _FNR_RE.search(str(obj)) or (ids and str(obj) in ids):
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
                df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
                out += _check_frame(df, min_count, name, known)
        elif suffix == ".json":
            _walk_json(json.loads(text), "", min_count, name, known, out)
        else:
            tables = _markdown_tables(text) if suffix == ".md" else _latex_tables(text)
            for k, t in enumerate(tables):
                for v in _check_frame(t, min_count, name, known):
                    out.append(Violation(v.file, v.kind, f"table {k + 1} {v.location}", v.detail))
            for m in _N_EQUALS_RE.finditer(text):
                if _small(float(m.group(1).replace(",", "")), min_count):
                    line = text.count("\n", 0, m.start()) + 1
                    out.append(Violation(name, "small_count", f"line {line}",
                                         f"'n = ...' below the minimum of {min_count}"))
            for m in _FNR_RE.finditer(text):
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
