"""Model formulas (``"y ~ x1 + C(region) + log(x2)"``) turned into an outcome and covariate columns.

A second way into the estimators, next to naming columns: ``ips.cox``, ``ips.fine_gray`` and
``ips.discrete_hazard`` take ``formula="~ age + C(sex)"`` (covariates only: the outcome is
given by ``stop=``/``event=``), ``ips.did`` and ``ips.event_study`` take
``formula="y ~ x1 + x2"`` (outcome and covariates; ``unit``, ``time`` and ``treat`` stay role
arguments, because they are roles, not regressors). The formula is read by
`formulaic <https://matthewwardrop.github.io/formulaic/>`_ (the grammar pyfixest and
statsmodels users know): ``C(x)`` for a categorical, ``log(x)``, ``I(x ** 2)``, ``a:b`` and
``a * b`` for interactions.

The models have their own baseline (the Cox baseline hazard, the fixed effects), so the
intercept column is always dropped; categoricals are coded as in a model with an intercept
(first level, sorted, as the reference), which is what the column-argument way does, so a
formula and the equivalent ``covariates=`` list give identical numbers. Removing the
intercept in the formula (``0 + ...``, ``- 1``) would code the first categorical with every
level and is refused.

Missing values are never hidden: a row with a missing value in any variable the formula
uses gets missing values in every design column (formulaic alone would code a missing
category as the reference level), so the estimator's ``missing=`` rule applies to it.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"y": [1.0, 2.0, 4.0], "age": [50, 60, 70], "sex": ["f", "m", "m"]})
>>> spec = parse("y ~ age + C(sex)")
>>> spec.outcome, spec.variables
('y', ['age', 'sex', 'y'])
>>> covariate_design(d, spec).columns.tolist()
['age', 'C(sex)[T.m]']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FormulaError", "FormulaSpec", "parse", "covariate_design", "outcome_column",
           "formula_roles"]


class FormulaError(ValueError):
    """A formula that cannot be used for the model it is given to (one line)."""


@dataclass(frozen=True)
class FormulaSpec:
    """A parsed formula: the text, the outcome term (``None`` without a left-hand side), the
    right-hand side and the data columns it reads."""

    text: str
    outcome: str | None
    rhs: object
    variables: list[str]

    def columns(self, data: pd.DataFrame) -> list[str]:
        """The columns of ``data`` the formula reads; an error names the ones not there.

        formulaic reports the root of a dotted name (``ph`` for R's ``ph.ecog``), so a
        column ``ph.ecog`` named in the formula text stands for it.
        """
        found, absent = [], []
        for v in self.variables:
            if v in data.columns:
                found.append(v)
                continue
            dotted = [c for c in data.columns if isinstance(c, str)
                      and c.startswith(v + ".") and c in self.text]
            (found.extend(dotted) if dotted else absent.append(v))
        if absent:
            raise FormulaError(f"formula {self.text!r}: column(s) "
                               f"{', '.join(map(repr, absent))} not in data")
        return list(dict.fromkeys(found))


def parse(formula: str, *, outcome: bool | None = None) -> FormulaSpec:
    """Parse ``formula``; ``outcome=True`` requires one left-hand term, ``False`` forbids it.

    Examples
    --------
    >>> parse("~ x + C(g)").outcome is None
    True
    >>> parse("~ 0 + x")
    Traceback (most recent call last):
    ...
    ips_study.formula.FormulaError: formula '~ 0 + x': drop '0 +' / '- 1'; the model has its own baseline and the intercept column is dropped for you
    """
    from formulaic import Formula

    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string such as 'y ~ x1 + C(g)', got "
                           f"{type(formula).__name__}")
    try:
        f = Formula(formula)
    except Exception as err:  # formulaic raises several parser error types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FormulaError(f"formula {formula!r} cannot be parsed: {first}") from None
    lhs = getattr(f, "lhs", None)
    rhs = getattr(f, "rhs", f)
    if type(rhs).__name__ != "SimpleFormula":
        raise FormulaError(f"formula {formula!r}: one right-hand side only (no '|' parts)")
    terms = [str(t) for t in rhs]
    if "1" not in terms:
        raise FormulaError(f"formula {formula!r}: drop '0 +' / '- 1'; the model has its own "
                           "baseline and the intercept column is dropped for you")
    left = [str(t) for t in lhs] if lhs is not None else []
    if outcome is True and len(left) != 1:
        raise FormulaError(f"formula {formula!r} needs one outcome on the left, e.g. "
                           "'y ~ x1 + x2'")
    if outcome is False and left:
        raise FormulaError(f"formula {formula!r}: covariates only (e.g. '~ age + C(sex)'); "
                           "the outcome comes from the stop=/event= arguments")
    return FormulaSpec(text=formula, outcome=left[0] if left else None, rhs=rhs,
                       variables=sorted(map(str, f.required_variables)))


def _spec(formula, outcome):
    return formula if isinstance(formula, FormulaSpec) else parse(formula, outcome=outcome)


def _missing_rows(data: pd.DataFrame, spec: FormulaSpec) -> np.ndarray:
    cols = spec.columns(data)
    return data[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(data), bool)


def _used_categories(data: pd.DataFrame, columns, rows: np.ndarray) -> pd.DataFrame:
    """``data`` with each categorical column in ``columns`` reduced to the categories that
    occur in ``rows``, in their order: a declared but unused first category would otherwise
    be the reference level, so every used level got a dummy (the column arguments of the
    estimators drop unused levels in the same way, as R's ``droplevels``)."""
    new = {}
    for c in columns:
        col = data[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            keep = col[rows].cat.remove_unused_categories().cat.categories
            if len(keep) < len(col.cat.categories):
                new[c] = col.cat.set_categories(keep)
    return data.assign(**new) if new else data


def _wide_integers(data: pd.DataFrame, columns) -> pd.DataFrame:
    """``data`` with the formula's narrow integer columns as int64: panels store 0/1 outcomes
    as int8 and ``age``/``event_time`` as int16 (docs/panel.md, "Column types"), and a term
    such as ``I(event_time ** 2)`` would otherwise be computed in that type and wrap."""
    small = {c: np.int64 for c in columns if isinstance(data[c].dtype, np.dtype)
             and data[c].dtype.kind in "iu" and data[c].dtype.itemsize < 8}
    return data.astype(small) if small else data


def covariate_design(data: pd.DataFrame, formula) -> pd.DataFrame:
    """The right-hand side as float columns labelled by their terms, without the intercept.

    Rows with a missing value in a variable the formula reads are all-NaN; a transform that
    gives an infinite value (``log(0)``) is an error naming the term.

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2.0, 3.0], "g": ["b", "a", None]})
    >>> covariate_design(d, "~ log(x) + C(g)").round(3)
       log(x)  C(g)[T.b]
    0   0.000        1.0
    1   0.693        0.0
    2     NaN        NaN
    """
    from formulaic import model_matrix

    spec = _spec(formula, None)
    missing_rows = _missing_rows(data, spec)
    data = _wide_integers(_used_categories(data, spec.columns(data), ~missing_rows), spec.columns(data))
    try:
        with np.errstate(all="ignore"):   # log(0) and the like are reported below, by term
            mm = model_matrix(spec.rhs, data, na_action="ignore")
    except Exception as err:  # unknown function, bad level, ...: formulaic's message
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FormulaError(f"formula {spec.text!r} cannot be evaluated on the data: "
                           f"{first}") from None
    X = pd.DataFrame(np.asarray(mm, dtype=float), columns=[str(c) for c in mm.columns],
                     index=data.index).drop(columns="Intercept")
    # a transform undefined on complete rows (log of 0 or of a negative) is named, never
    # left to be mistaken for a missing value
    bad = ~np.isfinite(X.to_numpy()) & ~missing_rows[:, None]
    if bad.any():
        terms = [c for c, k in zip(X.columns, bad.any(axis=0)) if k]
        raise FormulaError(f"formula {spec.text!r}: term(s) {', '.join(map(repr, terms))} "
                           f"are infinite or undefined in {int(bad.any(axis=1).sum())} row(s)")
    X.loc[missing_rows] = np.nan
    return X


def outcome_column(data: pd.DataFrame, formula) -> pd.Series:
    """The left-hand side evaluated on ``data`` (a column, or a transform such as ``log(y)``)."""
    from formulaic import model_matrix

    spec = _spec(formula, True)
    missing_rows = _missing_rows(data, spec)
    if spec.outcome in data.columns:
        return data[spec.outcome]
    mm = model_matrix(f"{spec.outcome} ~ 1", _wide_integers(data, spec.columns(data)), na_action="ignore").lhs
    y = pd.Series(np.asarray(mm, float)[:, 0], index=data.index, name=spec.outcome)
    y[missing_rows] = np.nan
    return y


def formula_roles(data: pd.DataFrame, formula, *, y=None, covariates=None, outcome: bool = True,
                  missing: str | None = None):
    """Resolve ``formula=`` into ``(data, y, covariates)`` for an estimator's role arguments.

    ``data`` comes back as a copy with the design columns (and a transformed outcome) added
    under their term labels; ``covariates`` lists those labels. With ``formula=None`` the
    arguments are returned unchanged. ``outcome=False`` (survival models) forbids a left-hand
    side and returns ``y=None``.

    ``missing="error"`` (the estimator's rule): a missing value in a column the formula
    reads is an error naming that column and its count (the design columns would only
    name the derived terms, ``C(g)[T.b]``).

    Raises
    ------
    FormulaError
        ``formula`` given together with ``y=`` or ``covariates=``; with ``missing="error"``
        a missing value in a column the formula reads.

    Examples
    --------
    >>> d = pd.DataFrame({"out": [1.0, 2.0], "x": [3.0, 5.0], "g": ["a", "b"]})
    >>> d2, y, covs = formula_roles(d, "out ~ x + C(g)")
    >>> y, covs, d2["C(g)[T.b]"].tolist()
    ('out', ['x', 'C(g)[T.b]'], [0.0, 1.0])
    """
    if formula is None:
        if outcome and y is None:
            raise FormulaError("y= (the outcome column) or formula= ('y ~ x1 + x2') is required")
        return data, y, covariates
    given = [a for a, v in (("y", y), ("covariates", covariates)) if v is not None]
    if outcome is False:
        given = [a for a in given if a == "covariates"]
    if given:
        raise FormulaError(f"give formula= or {'/'.join(a + '=' for a in given)}, not both")
    if not isinstance(data, pd.DataFrame):
        raise FormulaError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    spec = parse(formula, outcome=outcome)
    if missing == "error":
        cols = spec.columns(data)
        counts = data[cols].isna().sum() if cols else pd.Series(dtype=int)
        counts = counts[counts > 0]
        if len(counts):
            what = ", ".join(f"{c!r}: {int(k)}" for c, k in counts.items())
            raise FormulaError(f"formula {spec.text!r} reads column(s) with missing values "
                               f"({what}); drop those rows or pass missing='drop'")
    X = covariate_design(data, spec)
    new = {c: X[c] for c in X.columns}
    if outcome:
        yc = outcome_column(data, spec)
        if spec.outcome not in data.columns:
            new[spec.outcome] = yc
    return data.assign(**new), spec.outcome, list(X.columns)
