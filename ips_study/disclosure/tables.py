"""Suppression of tables: primary, secondary (with totals), rounding, and the LP audit.

>>> import pandas as pd
>>> suppress_small(pd.DataFrame({"metric": ["a"], "value": [0.5], "n": [3]})).to_frame()["value"].tolist()
[':']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .roles import ATTR
from .rules import MIN_COUNT, SUPPRESSED, is_count_name


@dataclass(frozen=True)
class Suppressed:
    """A table after disclosure control: values (NaN where suppressed) and the mask.

    ``mask`` is True for suppressed cells; ``primary`` marks the cells suppressed for their
    own small count (the rest of ``mask`` is secondary or rate suppression). ``roles``
    declares what columns are (:mod:`.roles`); :meth:`to_frame` passes it on to
    :func:`~ips_study.disclosure.export_table`, which writes it beside the table.
    """

    frame: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    roles: dict = field(default_factory=dict)

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
        if self.roles:
            out.attrs[ATTR] = dict(self.roles)
        return out


def dominated_cells(data: pd.DataFrame, by: str | Sequence[str], value: str, *,
                    p: float = 25.0) -> pd.Series:
    """Cells of a magnitude (a sum or mean of an unbounded amount: wages, incomes) that fail
    the p% rule, from the microdata; to be run where the microdata are, before export.

    A cell is sensitive when the second-largest contributor, subtracting its own value from
    the total, learns the largest to within ``p`` percent: ``T - x1 - x2 < p/100 * x1``
    (absolute values; ESSnet *Handbook on Statistical Disclosure Control*, ch. 4; ``p = 25``
    pairs with a (2, 80) dominance rule). Bounded quantities such as workdays need no such
    rule: :func:`suppress_shares` with ``bounds`` implies it (``docs/disclosure.md``, "Means").

    Returns a boolean Series indexed by the cells (``by``): ``True`` for a cell to suppress
    (mask its mean or total, then protect the table as for any suppressed cell).

    >>> d = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6,
    ...                   "wage": [900_000, 30_000, 31_000, 29_000, 30_000, 32_000] + [30_000] * 6})
    >>> dominated_cells(d, "g", "wage").tolist()
    [True, False]
    """
    if not 0 < p:
        raise ValueError("dominated_cells: p must be a positive percentage")

    def sensitive(x: pd.Series) -> bool:
        v = np.sort(np.abs(pd.to_numeric(x, errors="coerce").dropna().to_numpy(dtype=float)))[::-1]
        if len(v) == 0 or v[0] == 0:
            return False
        x2 = v[1] if len(v) > 1 else 0.0
        return bool(v.sum() - v[0] - x2 < p / 100 * v[0])

    return data.groupby(by, sort=True)[value].agg(sensitive).astype(bool)


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


def suppress_shares(
    df: pd.DataFrame,
    *,
    min_count: int = MIN_COUNT,
    shares: Sequence[str] | None = None,
    denominators: dict[str, str] | None = None,
    bounds: dict[str, float] | None = None,
) -> Suppressed:
    """Suppress shares and means of 0/1 outcomes whose numerator is a small count, and
    means of bounded quantities that amount to too few persons at the bound.

    A share ``p`` over ``n`` persons (or person-years) publishes ``p * n`` persons with the
    attribute, and ``(1 - p) * n`` without it. Either below ``min_count`` (and above zero)
    discloses a small group as surely as a count cell would: 0.0122 of 152 person-years is
    about 2 person-years. Such cells are suppressed; counts are left as they are (run
    :func:`suppress_small` for them).

    Parameters
    ----------
    df : DataFrame
        Wide table: count columns (:func:`is_count_name`) and share/mean columns.
    min_count : int
        Smallest publishable numerator.
    shares : list of str, optional
        Share columns; default every numeric non-count column whose values all lie in
        ``[0, 1]`` (a mean of a 0/1 outcome is such a share).
    denominators : dict, optional
        ``{share_column: count_column}``; default the largest count in the row (the finest
        unit the share is taken over, e.g. person-years rather than persons).
    bounds : dict, optional
        ``{mean_column: max}``: means of a quantity no unit can exceed ``max`` (workdays: the
        weekdays of a year). The mean ``m`` is treated as the share ``m / max``: suppressed
        when ``m * n / max`` or ``(max - m) * n / max`` is above zero and below
        ``min_count``, and declared as a bounded mean for ``check-outputs``. This rule implies
        the (n, k) dominance and p% rules (``docs/disclosure.md``, "Means").

    Examples
    --------
    >>> t = pd.DataFrame({"n_person_years": [152, 400], "disability": [0.0122, 0.2]})
    >>> suppress_shares(t).to_frame()["disability"].tolist()
    [':', 0.2]
    >>> w = pd.DataFrame({"n_person_years": [4000, 6], "workdays": [131.0, 250.0]})
    >>> suppress_shares(w, bounds={"workdays": 262}).to_frame()["workdays"].tolist()
    [131, ':']
    """
    frame = df.copy()
    counts = [c for c in frame.columns if is_count_name(c) and pd.api.types.is_numeric_dtype(frame[c])]
    if shares is None:
        shares = [c for c in frame.columns if c not in counts and pd.api.types.is_numeric_dtype(frame[c])
                  and pd.api.types.infer_dtype(frame[c], skipna=True) != "boolean"
                  and frame[c].dropna().between(0, 1).all() and frame[c].notna().any()]
    denominators = denominators or {}
    bounds = {c: float(b) for c, b in (bounds or {}).items()}
    missing = [c for c in bounds if c not in frame.columns]
    if missing:
        raise ValueError(f"suppress_shares: bounded mean column(s) {missing} not in the table")
    shares = [c for c in shares if c not in bounds] + list(bounds)
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    if counts:
        largest = frame[counts].astype(float).max(axis=1)
    for c in shares:
        if c in denominators:
            n = pd.to_numeric(frame[denominators[c]], errors="coerce").astype(float)
        elif counts:
            n = largest
        else:
            continue
        p = pd.to_numeric(frame[c], errors="coerce").astype(float) / bounds.get(c, 1.0)
        yes, no = p * n, (1 - p) * n
        small = ((yes > 0) & (yes < min_count)) | ((no > 0) & (no < min_count))
        mask[c] = small.fillna(False).to_numpy()
    # the declaration check-outputs reads (roles.py): the same shares over the same counts
    roles = {str(c): {"role": "count"} for c in counts}
    roles.update({str(c): {"role": "share", "of": [str(denominators[c])] if c in denominators
                           else [str(k) for k in counts]} for c in shares
                  if c in denominators or counts})
    for c in bounds:  # a bounded mean: the same rule, declared with its bound
        if str(c) in roles:
            roles[str(c)] = {"role": "mean", "of": roles[str(c)]["of"], "max": bounds[c]}
    return Suppressed(frame.mask(mask), mask, mask.copy(), roles)


def protect_sums(table: Suppressed, sums: dict[str, Sequence[str]]) -> Suppressed:
    """Secondary suppression across columns that add up: ``{total: [part, ...]}``, row by row.

    A row with exactly one hidden cell among a total and its parts gives that cell away
    (total minus the published parts). Such a row gets a second hidden cell: the total if it
    is published, else the smallest published part. Rows of a funnel are not additive, so
    rows are protected one by one; this is :func:`protect_array` for one row equation.

    >>> t = suppress_small(pd.DataFrame({"n_treated": [3, 40], "n_controls": [30, 60], "n_total": [33, 100]}))
    >>> protect_sums(t, {"n_total": ["n_treated", "n_controls"]}).to_frame()["n_total"].tolist()
    [':', 100]
    """
    mask = table.mask.copy()
    for total, parts in sums.items():
        cols = [*parts, total]
        for i in range(len(mask)):
            hidden = mask.loc[mask.index[i], cols]
            if hidden.sum() != 1:
                continue
            if not hidden[total]:
                mask.loc[mask.index[i], total] = True
            else:
                vals = table.frame.loc[table.frame.index[i], list(parts)].astype(float)
                mask.loc[mask.index[i], vals.idxmin()] = True
    return Suppressed(table.frame.mask(mask), mask, table.primary)


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
