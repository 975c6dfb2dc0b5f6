"""Data preparation shared by the synthetic control and synthetic DiD designs.

Two steps: aggregate the person-period panel to a municipality x period frame
(:func:`aggregate_to_units`, a thin adapter over ``ips_study.panel.aggregate_panel``), and turn a long unit x period frame
into the outcome matrix with control units first and pre-periods first
(:func:`outcome_matrix`), the layout of Arkhangelsky et al. (2021).

Examples
--------
>>> import pandas as pd
>>> long = pd.DataFrame({"unit": list("aaabbb"), "time": [1, 2, 3] * 2,
...                      "y": [1.0, 2.0, 3.0, 3.0, 5.0, 9.0], "d": [0, 0, 0, 0, 0, 1]})
>>> m = outcome_matrix(long, unit="unit", time="time", outcome="y", treated="d")
>>> m.Y.tolist(), m.n_control, m.n_pre
([[1.0, 2.0, 3.0], [3.0, 5.0, 9.0]], 1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig
from ips_study.designs.timelabels import in_time_order
from ips_study.disclosure.drawn import mark_measures


@dataclass(frozen=True)
class OutcomeMatrix:
    """Outcomes ``Y`` (units x periods), controls first and pre-periods first."""

    Y: np.ndarray
    units: np.ndarray
    times: np.ndarray
    n_control: int
    n_pre: int

    @property
    def treated_units(self) -> np.ndarray:
        return self.units[self.n_control:]

    @property
    def control_units(self) -> np.ndarray:
        return self.units[: self.n_control]


def outcome_matrix(data: pd.DataFrame, *, unit: str, time: str, outcome: str,
                   treated: str) -> OutcomeMatrix:
    """Build the block-design outcome matrix from a long balanced unit x period frame.

    ``treated`` is a 0/1 column: 1 for a treated unit in a treated period. All treated units
    must start treatment in the same period (block design); staggered timing belongs to
    :mod:`ips_study.designs.staggered`.
    """
    wide = data.pivot_table(index=unit, columns=time, values=outcome, aggfunc="first")
    wide = in_time_order(wide, data[time], time)
    if wide.isna().any().any():
        raise ValueError("the panel must be balanced: every unit observed in every period "
                         f"({int(wide.isna().sum().sum())} unit-periods missing)")
    dmat = data.pivot_table(index=unit, columns=time, values=treated, aggfunc="max")
    dmat = dmat.reindex(index=wide.index, columns=wide.columns).fillna(0).to_numpy()
    is_treated = dmat.max(axis=1) > 0
    if not is_treated.any():
        raise ValueError(f"no treated unit-periods in column {treated!r}")
    if is_treated.all():
        raise ValueError("no control units")
    start = dmat[is_treated].argmax(axis=1)
    if np.any(start != start[0]) or np.any(dmat[is_treated][:, start[0]:] == 0):
        raise ValueError("treated units must share one adoption period and stay treated "
                         "(block design); use the staggered design otherwise")
    n_pre = int(start[0])
    if n_pre < 2:
        raise ValueError("need at least two pre-treatment periods")
    order = np.argsort(is_treated, kind="stable")
    return OutcomeMatrix(Y=wide.to_numpy(float)[order], units=wide.index.to_numpy()[order],
                         times=wide.columns.to_numpy(), n_control=int((~is_treated).sum()),
                         n_pre=n_pre)


def aggregate_to_units(panel: pd.DataFrame, outcome: str,
                       extra: Sequence[str] = ()) -> pd.DataFrame:
    """Municipality x period means of ``outcome`` from a person-period panel.

    Delegates to :func:`ips_study.panel.aggregate_panel` (each person-period row counts once,
    so the mean is weighted by the population at risk, ``n_persons``). ``extra`` names
    further outcome columns to keep (e.g. predictors for synthetic control).
    """
    from ips_study.panel import aggregate_panel

    wanted = [outcome] + [c for c in extra if c != outcome]
    for col in wanted:
        if col not in panel:
            raise KeyError(f"{col!r} is not a column of the panel")
    agg = aggregate_panel(panel)
    unknown = [c for c in wanted if c not in agg]
    if unknown:
        raise ValueError(f"{unknown} are not outcomes known to ips_study.panel")
    keep = ["municipality", "period", "period_start", "ips_start", "exposed", "n_persons"]
    return agg[keep + wanted]


def block_design_frame(panel: pd.DataFrame, outcome: str, config: StudyConfig,
                       extra: Sequence[str] = ()) -> pd.DataFrame:
    """Municipality frame with a ``treated_post`` column for the one-treated-unit designs.

    The treated unit is ``config.treated_municipality`` from the first period starting on or
    after ``config.ips_start``; donors are municipalities never exposed to IPS in the panel
    (or ``config.controls`` when a list is given). Units not observed in every period are
    dropped, since both designs need a balanced panel.
    """
    units = aggregate_to_units(panel, outcome, extra)
    treated_code = config.treated_municipality
    if treated_code not in set(units["municipality"]):
        raise ValueError(f"treated municipality {treated_code} not in the panel")
    if isinstance(config.controls, (tuple, list)):
        donors = set(config.controls)
    elif "exposed" in units:
        ever = units.groupby("municipality")["exposed"].max()
        donors = set(ever.index[ever == 0])
    else:
        donors = set(units["municipality"])
    donors.discard(treated_code)
    units = units[units["municipality"].isin(donors | {treated_code})]
    n_periods = units["period"].nunique()
    full = units.groupby("municipality")["period"].transform("nunique") == n_periods
    units = units[full].copy()
    start = (pd.to_datetime(units["period_start"]) if "period_start" in units
             else pd.to_datetime(units["period"]))
    units["treated_post"] = ((units["municipality"] == treated_code)
                             & (start >= config.ips_start)).astype(int)
    return units


def plot_unit_weights(weights: pd.Series, ax=None, *, top: int = 20, xlabel: str = "Weight",
                      title: str = ""):
    """Largest unit weights as horizontal bars (synthetic control and SDID); returns Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    w = weights.sort_values(ascending=False).head(top)[::-1]
    mark_measures(ax.barh([str(i) for i in w.index], w.to_numpy(), color="0.4"), "unit weight")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax
