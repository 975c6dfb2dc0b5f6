"""Role columns of a long panel, checked once and reduced to codes (DiD family).

Every difference-in-differences design takes the same roles: ``y`` (numeric outcome),
``unit`` and ``time`` (any dtype: str, int, datetime), ``treat`` (an absorbing 0/1
treatment column) and optionally ``cluster`` (the level treatment is assigned at and
inference permutes: e.g. unit = person, cluster = municipality), ``weights``, ``size``
(persons behind each row) and ``covariates``. :func:`panel_roles` validates them and
returns a :class:`RolePanel`; every misuse is a :class:`DesignError` with a one-line
message naming the argument and column (never a data value).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"y": [1., 2, 3, 4], "u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2],
...                    "d": [0, 1, 0, 0]})
>>> rp = panel_roles(df, y="y", unit="u", time="t", treat="d")
>>> rp.cluster_labels[rp.treated].tolist(), rp.adoption.tolist()
(['a'], [1])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import DesignError, MissingColumnError  # noqa: F401 (raised by every design)
from ips_study.narrow import NarrowCodes

from .timelabels import codes, period_codes

MISSING = ("error", "drop")


@dataclass(frozen=True)
class RolePanel:
    """A validated long panel: rows kept, role arrays and codes.

    ``unit``/``time``/``cluster`` are dense integer codes (intp) with sorted ``*_labels``;
    ``treated`` holds the cluster codes of the treated units (the assignment level: the
    unit itself when no cluster is given) and ``adoption`` the time code each adopts. The
    codes are kept narrow (``*_codes``, :class:`~ips_study.narrow.NarrowCodes`) and widened
    to intp arrays only when ``unit``/``time``/``cluster`` are read.
    """

    df: pd.DataFrame
    y: np.ndarray
    unit_codes: NarrowCodes
    unit_labels: np.ndarray
    time_codes: NarrowCodes
    time_labels: np.ndarray
    cluster_codes: NarrowCodes
    cluster_labels: np.ndarray
    treat: np.ndarray
    treated: np.ndarray
    adoption: np.ndarray
    weights: np.ndarray | None
    sizes: np.ndarray | None
    Z: np.ndarray
    covariate_names: tuple[str, ...]
    roles: dict[str, Any]
    notes: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    #: rows per (cluster, time) cell (clusters x periods), counted once by the checks
    cell_rows: np.ndarray | None = None

    @property
    def unit(self) -> np.ndarray:
        return self.unit_codes.full()

    @property
    def time(self) -> np.ndarray:
        return self.time_codes.full()

    @property
    def cluster(self) -> np.ndarray:
        return self.cluster_codes.full()

    @property
    def n_treated(self) -> int:
        return len(self.treated)


def covariate_frame(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric covariates as floats, others as dummies (first level dropped)."""
    parts = []
    for c in covariates:
        if c not in df:
            raise MissingColumnError(f"covariates: column {c!r} is not in the data")
        col = df[c]
        if pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(c))
        else:
            if isinstance(col.dtype, pd.CategoricalDtype):
                # a declared but unused first category would be dropped as the reference
                # and leave a dummy for every used level (R's droplevels)
                col = col.cat.remove_unused_categories()
            parts.append(pd.get_dummies(col, prefix=c, drop_first=True, dtype=float))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def _columns_hint(data: pd.DataFrame) -> str:
    names = [str(c) for c in data.columns]
    return ", ".join(names[:15]) + (f", ... ({len(names)} in all)" if len(names) > 15 else "")


def check_columns(data, roles: dict[str, Any]) -> None:
    """Each named role column exists (``roles``: argument -> column name or list)."""
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for arg, name in roles.items():
        for c in ([] if name is None else [name] if isinstance(name, str) else list(name)):
            if c not in data.columns:
                raise MissingColumnError(f"{arg}={c!r}: no such column in data "
                                  f"(columns: {_columns_hint(data)})")


def drop_missing(data: pd.DataFrame, columns: dict[str, str], missing: str,
                 can_drop: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Refuse (``missing="error"``) or drop rows with NaN in a role column, with a note.

    ``can_drop=False``: the calling design has no ``missing=`` option (it needs every unit
    in every period), so the message does not suggest one."""
    if missing not in MISSING:
        raise DesignError(f"missing must be one of {MISSING}, got {missing!r}")
    bad = np.zeros(len(data), dtype=bool)
    notes = []
    for arg, c in columns.items():
        na = data[c].isna().to_numpy()
        if na.any():
            if missing == "error":
                hint = ("drop those rows or pass missing='drop'" if can_drop else
                        "this design needs a complete balanced panel: fill them, or drop the "
                        "units that have them")
                raise DesignError(f"{arg}={c!r} has {int(na.sum())} missing value(s); {hint}")
            bad |= na
    if bad.any():
        cols = ", ".join(repr(c) for c in columns.values())
        notes.append(f"dropped {int(bad.sum())} row(s) with missing values in {cols}")
        data = data.loc[~bad]
    return data, notes


def panel_roles(data: pd.DataFrame, *, y: str, unit: str, time: str, treat: str,
                cluster: str | None = None, weights: str | None = None,
                size: str | None = None, covariates: Sequence[str] | None = None,
                missing: str = "error", require_pre: bool = True,
                require_controls: bool = True, can_drop: bool = True) -> RolePanel:
    """Validate the role columns and reduce the panel to codes (see the module docstring).

    Raises
    ------
    DesignError
        missing column, non-numeric outcome, NaN in a role column (unless
        ``missing="drop"``), treatment not 0/1, treatment varying within a cluster-period,
        treatment switching off, a unit treated from its first period, no treated or no
        control unit, negative weights. ``can_drop=False``: the caller has no ``missing=``
        option, so a missing value's message does not offer one. ``require_pre=False`` accepts units treated from
        their first period and ``require_controls=False`` a panel where every unit is
        eventually treated (timing-only comparisons, e.g. the Goodman-Bacon decomposition).
    """
    covariates = list(covariates or [])
    for arg, v in (("weights", weights), ("size", size), ("cluster", cluster)):
        if v is not None and not isinstance(v, str):
            raise DesignError(f"{arg} must be a column name (str) or None, got "
                              f"{type(v).__name__}")
    roles = {"y": y, "unit": unit, "time": time, "treat": treat, "cluster": cluster,
             "weights": weights, "size": size}
    check_columns(data, {**roles, "covariates": covariates})
    # a boolean outcome (employed: True/False) is a 0/1 outcome; numpy, nullable and pyarrow
    # booleans and every integer width are read once as float64 below
    if not (pd.api.types.is_numeric_dtype(data[y]) or pd.api.types.is_bool_dtype(data[y])):
        raise DesignError(f"y={y!r} is not numeric or boolean (dtype {data[y].dtype}); "
                          "convert it first")
    for arg in ("weights", "size"):
        c = roles[arg]
        if c is not None and not pd.api.types.is_numeric_dtype(data[c]):
            raise DesignError(f"{arg}={c!r} is not numeric (dtype {data[c].dtype})")
    named = {a: c for a, c in roles.items() if c is not None}
    named.update({f"covariates[{i}]": c for i, c in enumerate(covariates)})
    df, notes = drop_missing(data, named, missing, can_drop)
    if not len(df):
        raise DesignError("no rows left in data")
    if not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0
            and df.index.step == 1):
        df = df.reset_index(drop=True)  # (a deep copy of the frame: only when needed)
    d = _treatment(df[treat], treat)
    # persons (cluster given) keep their order of appearance: a person-major sorted panel then
    # stays a grid for the closed-form fit; units that are also clusters get sorted labels
    u_code, u_labels = codes(df[unit], sort=cluster is None, narrow=True)
    t_code, t_labels, _ = period_codes(df[time], time, narrow=True)  # in time order
    if cluster is None:
        c_code, c_labels = u_code, u_labels
    else:
        c_code, c_labels = codes(df[cluster], sort=True, narrow=True)
    treated, adoption, cell_rows = _adoption(d, c_code, len(c_labels), t_code, len(t_labels), treat,
                                  cluster or unit, time, require_pre, require_controls)
    w = None if weights is None else df[weights].to_numpy(float)
    if w is not None and (w < 0).any():
        raise DesignError(f"weights={weights!r} has negative values")
    yv = df[y].to_numpy(float, na_value=np.nan)
    sizes = None if size is None else df[size].to_numpy(float)
    if sizes is not None and (sizes < 0).any():
        raise DesignError(f"size={size!r} has {int((sizes < 0).sum())} negative value(s)")
    Z = covariate_frame(df, covariates)
    # an infinite value fits to NaN (y) or stops deep in a solver without a name
    for arg, c, v in (("y", y, yv), ("weights", weights, w), ("size", size, sizes),
                      *((f"covariates[{covariates.index(c)}]", c, Z[c].to_numpy(float))
                        for c in Z.columns if c in covariates)):
        if v is not None and not np.isfinite(v).all():
            raise DesignError(f"{arg}={c!r} has {int((~np.isfinite(v)).sum())} infinite "
                              "value(s)")
    return RolePanel(df=df, y=yv, unit_codes=u_code,
                     unit_labels=np.asarray(u_labels), time_codes=t_code,
                     time_labels=np.asarray(t_labels), cluster_codes=c_code,
                     cluster_labels=np.asarray(c_labels), treat=d, treated=treated,
                     adoption=adoption, weights=w,
                     sizes=sizes,
                     Z=Z.to_numpy(float), covariate_names=tuple(Z.columns),
                     roles={**roles, "covariates": covariates}, notes=tuple(notes),
                     cell_rows=cell_rows)


#: inference methods that need no never-treated unit (the others move the treatment onto
#: never-treated units: placebo, placebo-t, Conley-Taber, Ferman-Pinto)
NO_CONTROLS_INFERENCE = ("cluster", "wild")


def all_eventually_treated(rp: RolePanel) -> bool:
    """Every unit (cluster) is treated by the end of the panel: no never-treated control."""
    return rp.n_treated == len(rp.cluster_labels)


def timing_only_notes(rp: RolePanel, design: str) -> list[str]:
    """Check a panel whose units are all eventually treated for ``design`` ("did") and
    return its note: identified from the adoption timing alone (the not-yet-treated are the
    controls), which needs at least two adoption periods."""
    level = rp.roles["cluster"] or rp.roles["unit"]
    if len(np.unique(rp.adoption)) < 2:
        raise DesignError(
            f"{design}: every {level!r} unit is treated, all from the same period: the "
            "treatment is collinear with the time effects and nothing identifies the effect "
            "(add never-treated units)")
    return [f"every {level!r} unit is eventually treated: the effect is identified from the "
            "adoption timing alone (not-yet-treated units are the controls). Two-way fixed "
            "effects then also compare later with earlier adopters, which is biased when "
            "effects change over time (ips.bacon shows the weights); ips.att_gt(..., "
            "control_group='not_yet_treated') avoids those comparisons"]


def check_timing_only_inference(design: str, inference: str, level: str) -> None:
    """Refuse an inference method that needs never-treated units, naming the valid ones."""
    if inference not in NO_CONTROLS_INFERENCE:
        raise DesignError(
            f"{design}: inference={inference!r} moves the treatment onto never-treated units, "
            f"and every {level!r} unit is eventually treated: pass inference='cluster' or "
            "'wild' (valid with many clusters), add never-treated units, or use "
            "ips.att_gt(..., control_group='not_yet_treated')")


def require_balanced(rp: RolePanel, design: str) -> None:
    """Refuse gaps: every unit observed exactly once in every period."""
    n_u, n_t = len(rp.unit_labels), len(rp.time_labels)
    count = np.bincount(rp.unit * n_t + rp.time, minlength=n_u * n_t).reshape(n_u, n_t)
    if (count > 1).any():
        raise DesignError(f"{design} needs one row per unit and period: "
                          f"{int((count > 1).sum())} {rp.roles['unit']!r} x "
                          f"{rp.roles['time']!r} cells have several")
    gaps = (count == 0).any(axis=1)
    if gaps.any():
        raise DesignError(f"{design} needs a balanced panel: {int(gaps.sum())} "
                          f"{rp.roles['unit']!r} unit(s) miss periods of time="
                          f"{rp.roles['time']!r}")


def resolve_aliases(design: str, y, treat, outcome=None, treated=None) -> tuple[str, str]:
    """``y``/``treat`` role names, accepting the older ``outcome=``/``treated=`` spellings."""
    for new, old, name in ((y, outcome, "y"), (treat, treated, "treat")):
        if new is not None and old is not None and new != old:
            raise DesignError(f"{design}: give {name}= only (got {name}={new!r} and the "
                              f"older spelling {old!r})")
    y, treat = y if y is not None else outcome, treat if treat is not None else treated
    if y is None or treat is None:
        missing = "y" if y is None else "treat"
        raise DesignError(f"{design}: {missing}= (the {'outcome' if missing == 'y' else 'treatment'}"
                          " column) is required")
    return y, treat


def _treatment(col: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype):
        # numpy, nullable and pyarrow booleans (no missing values are left here)
        return col.to_numpy(dtype=bool).astype(np.int8)
    v = col.to_numpy()
    if not pd.api.types.is_numeric_dtype(col) or not (
            v.min(initial=0) >= 0 and v.max(initial=0) <= 1  # integers: two reductions
            if pd.api.types.is_integer_dtype(col) else np.isin(v, (0, 1)).all()):
        raise DesignError(f"treat={name!r} must be a 0/1 (or boolean) column, got dtype "
                          f"{col.dtype} (recode it, e.g. data[{name!r}].eq(<treated value>))")
    return v.astype(np.int8)


def cell_sums(cl: np.ndarray, t: np.ndarray, n_t: int, n_cells: int, weights=None,
              where: np.ndarray | None = None) -> np.ndarray:
    """Sums of ``weights`` (default: row counts) per cell ``cl * n_t + t`` over the rows
    where ``where`` is true (default: all), block by block: the cell number of every row is
    never held at once (a table-sized array of 8-byte integers)."""
    out = np.zeros(n_cells)
    step = 1 << 18
    for lo in range(0, len(cl), step):
        hi = lo + step
        cell = cl[lo:hi] * n_t
        cell += t[lo:hi]
        w = None if weights is None else weights[lo:hi]
        if where is not None:
            keep = where[lo:hi]
            cell, w = cell[keep], None if w is None else w[keep]
        out += np.bincount(cell, weights=w, minlength=n_cells)
    return out


def _adoption(d, cl, n_cl, t, n_t, treat, level, time, require_pre=True,
              require_controls=True):
    """Treated cluster codes, their adoption time codes and the rows per (cluster, time)
    cell (n_cl x n_t); checks absorbing treatment."""
    # d is 0/1: a cell's max is "any 1", its min "all 1" (counts instead of ufunc.at)
    count = cell_sums(cl, t, n_t, n_cl * n_t)
    ones = cell_sums(cl, t, n_t, n_cl * n_t, where=d.view(bool))
    seen = count > 0
    hi = (ones > 0).astype(np.int8)
    if ((ones > 0) & (ones < count)).any():
        raise DesignError(f"treat={treat!r} varies within a {level!r} x {time!r} cell: "
                          f"treatment is assigned to whole {level!r} units per period")
    grid = np.where(seen, hi, -1).reshape(n_cl, n_t)
    # absorbing: once a unit is treated it stays treated in every later observed period
    on = np.maximum.accumulate(np.where(grid < 0, 0, grid), axis=1)
    switched = ((grid == 0) & (on == 1)).any(axis=1)
    if switched.any():
        raise DesignError(f"treat={treat!r} switches off in {int(switched.sum())} {level!r} "
                          "unit(s): it must be absorbing (0 before adoption, 1 from then on)")
    treated = np.flatnonzero((grid == 1).any(axis=1))
    if not len(treated):
        raise DesignError(f"treat={treat!r} is never 1: no treated unit")
    if len(treated) == n_cl and require_controls:
        raise DesignError(f"treat={treat!r}: every {level!r} unit is eventually treated, none is "
                          "a never-treated control; use ips.att_gt(..., control_group="
                          "'not_yet_treated') (not-yet-treated units as controls) or add "
                          "never-treated units")
    adoption = np.argmax(grid[treated] == 1, axis=1)
    first = np.argmax(grid[treated] >= 0, axis=1)
    always = adoption == first
    if always.any() and require_pre:
        raise DesignError(f"treat={treat!r} is 1 from the first observed period in "
                          f"{int(always.sum())} {level!r} unit(s): no pre-period to compare "
                          "(drop them or start the panel earlier)")
    return treated, adoption, count.reshape(n_cl, n_t)
