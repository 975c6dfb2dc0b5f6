"""Columns of a user's DataFrame checked and turned into the arrays the survival estimators take.

Every public fitter in :mod:`.fitters` goes through here, so that the same rules hold for all
of them: a column that does not exist, a missing value, an event indicator in an unknown
coding or an unknown cause is an error that names the column (and the count of rows), never
a silent wrong answer; with ``missing="drop"`` incomplete rows are dropped and counted in a
note. Messages never quote a row's contents.

>>> import pandas as pd
>>> d = pd.DataFrame({"t": [1.0, 2.0, None], "e": [1, 0, 1]})
>>> rows, notes = complete_rows(d, {"stop": ["t"], "event": ["e"]}, missing="drop")
>>> len(rows), notes
(2, ['1 row(s) dropped for missing values (t: 1).'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cox import aliased_columns

MISSING = ("raise", "drop")


def as_list(value) -> list[str]:
    """``None`` -> ``[]``, a column name -> ``[name]``, a sequence -> list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def complete_rows(data: pd.DataFrame, roles: dict[str, list[str]], *, missing: str = "raise"):
    """The rows of ``data`` with every column in ``roles`` present and non-missing.

    Parameters
    ----------
    data : DataFrame
    roles : dict
        Argument name -> column names it uses (for the messages).
    missing : {"raise", "drop"}
        ``"raise"``: a missing value is an error naming the column and the count;
        ``"drop"``: such rows are dropped and counted in the returned notes.

    Returns
    -------
    (DataFrame, list of str)
        The rows kept (index reset) and the notes.
    """
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {MISSING}, got {missing!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for arg, cols in roles.items():
        absent = [c for c in cols if c not in data.columns]
        if absent:
            raise KeyError(f"{arg}: column(s) {', '.join(map(repr, absent))} not in data")
    used = list(dict.fromkeys(c for cols in roles.values() for c in cols))
    na = data[used].isna()
    counts = na.sum()
    counts = counts[counts > 0]
    notes: list[str] = []
    if len(counts):
        what = ", ".join(f"{c}: {int(k)}" for c, k in counts.items())
        if missing == "raise":
            raise ValueError(f"missing values in column(s) ({what}); clean them or pass "
                             "missing='drop' to drop those rows")
        bad = na.any(axis=1).to_numpy()
        notes.append(f"{int(bad.sum())} row(s) dropped for missing values ({what}).")
        data = data.loc[~bad]
    if len(data) == 0:
        raise ValueError("no rows left to fit")
    return data.reset_index(drop=True), notes


def numeric_column(data: pd.DataFrame, column: str, arg: str) -> np.ndarray:
    """A time or weight column as floats, refusing what is not a number by its dtype.

    Durations (``timedelta64``) are taken in days. Dates are refused: a model needs time
    since an origin (entry, index date), and dates read as numbers would be nanoseconds
    since 1970 with every row at risk from then. Text is refused rather than parsed, so a
    message never has to quote a row's value.

    >>> numeric_column(pd.DataFrame({"d": pd.to_timedelta([1.5, 3], unit="D")}), "d", "stop")
    array([1.5, 3. ])
    """
    col = data[column]
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        return (col / pd.Timedelta(days=1)).to_numpy(float)
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        raise ValueError(f"{arg}={column!r} holds dates: pass the time since an origin, e.g. "
                         f"(data[{column!r}] - data[<entry date>]).dt.days")
    if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
        raise ValueError(f"{arg}={column!r} must be numeric, got dtype {col.dtype}")
    v = col.to_numpy(float)
    if np.isinf(v).any():      # R's coxph refuses them too ("NA/NaN/Inf in foreign call")
        raise ValueError(f"{arg}={column!r} has {int(np.isinf(v).sum())} infinite value(s)")
    return v


def check_finite(X: pd.DataFrame, arg: str) -> None:
    """Refuse infinite covariate values by column (the solvers would stop with "array must
    not contain infs or NaNs", naming nothing)."""
    bad = ~np.isfinite(X.to_numpy(float))
    if bad.any():
        cols = [c for c, k in zip(X.columns, bad.any(axis=0)) if k]
        raise ValueError(f"{arg}: {', '.join(map(repr, cols))} has {int(bad.sum())} infinite "
                         "value(s)")


def labels(data: pd.DataFrame, columns: list[str]):
    """One label per row from one or more columns (``None`` when no column is given)."""
    if not columns:
        return None
    if len(columns) == 1:
        return data[columns[0]].to_numpy()
    joined = data[columns].astype(str).agg("|".join, axis=1)
    if joined.nunique() != len(data[columns].drop_duplicates()):
        # ("a|b", "c") and ("a", "b|c") would become one group, stratum or cluster
        raise ValueError(f"columns {', '.join(map(repr, columns))}: their values joined with "
                         "'|' make one label of different combinations; remove '|' from them")
    return joined.to_numpy()


def competing_status(data: pd.DataFrame, event: str, cause, censored=0) -> np.ndarray:
    """Recode a competing-risks status column to 0 = censored, 1 = ``cause``, 2 = other causes.

    The column may hold numbers or text; ``censored`` is the value meaning "no event".

    >>> competing_status(pd.DataFrame({"s": ["cens", "death", "relapse"]}), "s", "death",
    ...                  censored="cens").tolist()
    [0, 1, 2]
    """
    s = data[event]
    values = pd.unique(s).tolist()
    causes = sorted((v for v in values if v != censored), key=str)
    if censored not in set(values) and any(isinstance(v, str) for v in values) \
            and not isinstance(censored, str):
        # text codes with the numeric default censored=0: every censored row would become a
        # competing event
        raise ValueError(f"column {event!r} holds text codes and none equals censored="
                         f"{censored!r}: name the code of a censored row, e.g. "
                         f"censored={causes[0]!r} (codes present: {causes[:10]})")
    if cause not in set(values) or cause == censored:
        raise ValueError(f"cause {cause!r} does not occur in column {event!r} (causes present: "
                         f"{causes[:10]}, censored = {censored!r})")
    return np.where(s == censored, 0, np.where(s == cause, 1, 2)).astype(np.int64)


def is_numeric(col: pd.Series) -> bool:
    """Numeric and boolean columns enter a model as numbers; anything else as dummies."""
    return pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col)


def levels(col: pd.Series) -> list:
    """Levels of a text/categorical column: the categories' order, else sorted as text.

    Only the levels that occur in the rows fitted: a category no row has (declared but
    unused, or emptied by ``missing="drop"``) would be an all-zero column, and as the first
    category it would make the reference a level without rows (R's ``droplevels``).
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.remove_unused_categories().cat.categories)
    return sorted(pd.unique(col), key=str)


def design_order(data: pd.DataFrame, covariates):
    """Names of the design columns of ``covariates`` in order, identified or not."""
    for c in covariates:
        if is_numeric(data[c]):
            yield c
        else:
            yield from (f"{c}[{lev}]" for lev in levels(data[c])[1:])


def design(data: pd.DataFrame, covariates: list[str]):
    """Covariate matrix: numeric columns as they are, text/categorical as treatment dummies.

    Dummies are named ``name[level]`` with the first level (sorted) as the reference, as
    R's default contrasts. Columns that are constant or a linear combination of earlier ones
    are not identified: they are taken out of the fit and reported (R gives them an ``NA``
    coefficient).

    Returns
    -------
    (DataFrame, list of str)
        The identified columns, and the names of the ones taken out.

    Examples
    --------
    >>> d = pd.DataFrame({"age": [50., 60., 70., 55.], "sex": ["f", "m", "m", "f"],
    ...                   "age2": [100., 120., 140., 110.]})
    >>> X, dropped = design(d, ["age", "sex", "age2"])
    >>> X.columns.tolist(), dropped
    (['age', 'sex[m]'], ['age2'])
    """
    parts = []
    for c in covariates:
        col = data[c]
        if is_numeric(col):
            parts.append(col.astype(float).rename(c))
        else:
            for lev in levels(col)[1:]:
                parts.append((col == lev).astype(float).rename(f"{c}[{lev}]"))
    if not parts:
        return pd.DataFrame(index=data.index), []
    X = pd.concat(parts, axis=1)
    check_finite(X, "covariates")
    out = aliased_columns(X.to_numpy(float))
    dropped = [X.columns[j] for j in out]
    return X.drop(columns=dropped), dropped
