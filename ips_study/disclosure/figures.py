"""Figures from protected aggregates: drop, coarsen or truncate what rests on too few.

>>> import pandas as pd
>>> mask_small(pd.DataFrame({"y": [1.0], "n": [2]}), ["y"])["y"].isna().tolist()
[True]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .drawn import FORMATS, savefig
from .rules import MIN_COUNT


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



def coarsen_survival(curve: pd.DataFrame, *, time_col: str = "time", value_col: str = "survival",
                     events_col: str = "events", at_risk_col: str = "at_risk",
                     min_count: int = MIN_COUNT) -> pd.DataFrame:
    """A survival (or cumulative incidence) step curve whose every step rests on enough events.

    A step of a Kaplan-Meier curve shows how many events happened at that time; a step of
    one or two events in a small risk set can single out persons. The curve is first
    truncated where the risk set falls below ``min_count`` (:func:`truncate_survival`);
    then consecutive event times are merged until each merged step holds at least
    ``min_count`` events, and the curve is reported only at the end of each merged step
    (its value there is exact; the path in between is not shown). Leading rows without
    events (the start of the curve) are kept; events left over at the end that do not reach
    ``min_count`` are dropped, so the curve ends at the last full step.

    Returns the columns ``time_col``, ``value_col``, ``events_col`` (events in the merged
    step) and ``at_risk_col`` (risk set at the step's first event time).

    >>> c = pd.DataFrame({"time": [0, 1, 2, 3, 4, 5], "survival": [1, .98, .95, .9, .85, .84],
    ...                   "events": [0, 2, 3, 5, 4, 1], "at_risk": [100, 100, 98, 95, 90, 86]})
    >>> coarsen_survival(c)[["time", "events", "at_risk"]].values.tolist()
    [[0.0, 0.0, 100.0], [2.0, 5.0, 100.0], [3.0, 5.0, 95.0], [5.0, 5.0, 90.0]]
    """
    c = truncate_survival(curve, at_risk_col, min_count).reset_index(drop=True)
    rows: list[dict[str, float]] = []
    events = pd.to_numeric(c[events_col], errors="coerce").fillna(0).to_numpy(dtype=float)
    k = 0
    while k < len(c) and events[k] == 0:
        rows.append({time_col: c.at[k, time_col], value_col: c.at[k, value_col],
                     events_col: 0.0, at_risk_col: c.at[k, at_risk_col]})
        k += 1
    acc, first = 0.0, None
    for i in range(k, len(c)):
        if events[i] > 0 and first is None:
            first = i
        acc += events[i]
        if acc >= min_count:
            rows.append({time_col: c.at[i, time_col], value_col: c.at[i, value_col],
                         events_col: acc, at_risk_col: c.at[first, at_risk_col]})
            acc, first = 0.0, None
    out = pd.DataFrame(rows, columns=[time_col, value_col, events_col, at_risk_col])
    return out.astype(float)


def save_figure(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG or PDF (by the suffix of ``path``) with fixed metadata
    (byte-identical reruns) and the record of what it draws (:mod:`.drawn`).

    Other formats are refused (``ValueError``): they cannot carry the record, so
    ``check-outputs`` could not check them.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"save_figure: {path.name}: a figure is saved as .png or .pdf (which "
                         "carry the record of what it draws, checked by check-outputs)")
    path.parent.mkdir(parents=True, exist_ok=True)
    savefig(fig, path, fmt, dpi=dpi)
    return path

