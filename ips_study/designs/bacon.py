"""Goodman-Bacon decomposition of the two-way fixed effects DiD estimate.

With staggered adoption, the TWFE coefficient on a treatment dummy is a weighted average of
every two-group, two-period DiD comparison in the data (Goodman-Bacon 2021, "Difference-in-
differences with variation in treatment timing", *Journal of Econometrics* 225(2), Theorem 1):

* treated vs never treated;
* earlier vs later treated (the later group, not yet treated, as control);
* later vs earlier treated (the *already treated* group as control -- the "forbidden"
  comparison that biases TWFE when effects change over time).

Weights grow with group sizes and with the variance of treatment in each comparison and sum
to one. This module computes each comparison and its weight, and checks that the weighted
sum reproduces the TWFE coefficient (balanced panel, no covariates).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"u": [1]*4 + [2]*4 + [3]*4, "t": [1, 2, 3, 4]*3,
...                    "y": [0, 0, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0.],
...                    "d": [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0]})
>>> res = bacon(df, y="y", unit="u", time="t", treat="d")
>>> float(round(res.components["weight"].sum(), 10))
1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ips_study.results import Results

from .roles import panel_roles, require_balanced
from .timelabels import in_time_order


class BaconResults(Results):
    """TWFE estimate with its 2x2 components (:attr:`components`) and a weight plot."""

    def __init__(self, tidy, *, components: pd.DataFrame, **kwargs):
        super().__init__(tidy, **kwargs)
        self._components = components

    @property
    def components(self) -> pd.DataFrame:
        """One row per 2x2 comparison: ``type``, ``treated``, ``control``, ``estimate``, ``weight``."""
        return self._components.copy()

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted-average estimate per comparison type."""
        c = self._components
        g = c.assign(wx=c["weight"] * c["estimate"]).groupby("type")[["weight", "wx"]].sum()
        return pd.DataFrame({"weight": g["weight"], "estimate": g["wx"] / g["weight"]})

    def plot(self, ax=None, **kwargs):
        """2x2 estimates against their weights, by comparison type; returns Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        markers = {"treated vs never": "o", "earlier vs later": "^", "later vs earlier": "x"}
        for kind, sub in self._components.groupby("type"):
            ax.scatter(sub["weight"], sub["estimate"], marker=markers.get(kind, "o"),
                       label=kind, color="black" if kind != "later vs earlier" else "tab:red",
                       **kwargs)
        ax.axhline(self.estimate, color="0.4", ls="--", lw=0.8, label="TWFE")
        ax.set_xlabel("Weight")
        ax.set_ylabel("2x2 DiD estimate")
        ax.legend(fontsize="small")
        ax.set_title(f"Goodman-Bacon decomposition: {self.outcome}")
        return ax


def _twfe(y: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """TWFE coefficient on a balanced units x periods panel and its unit-clustered SE."""
    def demean(a):
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()
    dt, yt = demean(d), demean(y)
    sdd = float((dt * dt).sum())
    beta = float((dt * yt).sum() / sdd)
    score = (dt * (yt - beta * dt)).sum(axis=1)
    g = y.shape[0]
    return beta, float(np.sqrt(g / (g - 1) * (score ** 2).sum()) / sdd)


def _did(y, treat_rows, ctrl_rows, pre, post) -> float:
    yt, yc = y[treat_rows], y[ctrl_rows]
    return float((yt[:, post].mean() - yt[:, pre].mean()) - (yc[:, post].mean() - yc[:, pre].mean()))


def bacon(data: pd.DataFrame, *, y: str, unit: str, time: str, treat: str) -> BaconResults:
    """Goodman-Bacon decomposition with the role arguments of :func:`ips_study.did`.

    ``treat`` is an absorbing 0/1 column; units treated from the first period and panels
    without never-treated units are allowed (their comparisons are timing-only). The panel
    must be balanced. Same results as :func:`bacon_decomposition`.
    """
    rp = panel_roles(data, y=y, unit=unit, time=time, treat=treat, require_pre=False,
                     require_controls=False, can_drop=False)
    require_balanced(rp, "bacon")
    return bacon_decomposition(rp.df, unit=unit, time=time, outcome=y, treated=treat)


def bacon_decomposition(data: pd.DataFrame, *, unit: str, time: str, outcome: str,
                        treated: str) -> BaconResults:
    """Decompose the TWFE DiD estimate into 2x2 comparisons (Goodman-Bacon 2021).

    Parameters
    ----------
    data : DataFrame
        Balanced long panel, one row per unit and period.
    unit, time, outcome : str
    treated : str
        0/1 absorbing treatment indicator (once 1, stays 1).

    Returns
    -------
    BaconResults
        ``estimate`` is the TWFE coefficient (unit-clustered SE); :attr:`components` holds
        the 2x2 estimates and weights, which reproduce it.
    """
    y = in_time_order(data.pivot(index=unit, columns=time, values=outcome), data[time], time)
    d = data.pivot(index=unit, columns=time, values=treated).reindex_like(y)
    if y.isna().any().any() or d.isna().any().any():
        raise ValueError("the decomposition needs a balanced panel")
    times = y.columns.to_numpy()
    y, d = y.to_numpy(float), d.to_numpy(float)
    if np.any(np.diff(d, axis=1) < 0):
        raise ValueError("treatment must be absorbing (no switching off)")
    n, nt = y.shape
    first = np.where(d.any(axis=1), d.argmax(axis=1), nt)   # nt = never treated
    beta, se = _twfe(y, d)
    timings = np.unique(first)
    share = {k: np.mean(first == k) for k in timings}
    dbar = {k: (nt - k) / nt for k in timings}
    periods = np.arange(nt)
    rows = []
    for a_i, k in enumerate(timings):
        for l in timings[a_i + 1:]:
            nk, nl = share[k], share[l]
            nkl = nk / (nk + nl)
            rk, rl = first == k, first == l
            if l == nt:     # k vs never treated
                if 0 < k:
                    s = (nk + nl) ** 2 * nkl * (1 - nkl) * dbar[k] * (1 - dbar[k])
                    est = _did(y, rk, rl, periods < k, periods >= k)
                    rows.append(("treated vs never", k, l, est, s))
                continue
            if k > 0:       # earlier k treated, later l as not-yet-treated control
                win = periods < l
                s = (((nk + nl) * (1 - dbar[l])) ** 2 * nkl * (1 - nkl)
                     * (dbar[k] - dbar[l]) / (1 - dbar[l]) * (1 - dbar[k]) / (1 - dbar[l]))
                est = _did(y, rk, rl, win & (periods < k), win & (periods >= k))
                rows.append(("earlier vs later", k, l, est, s))
            win = periods >= k  # later l treated, already-treated k as control
            s = (((nk + nl) * dbar[k]) ** 2 * nkl * (1 - nkl)
                 * (dbar[l] / dbar[k]) * (dbar[k] - dbar[l]) / dbar[k])
            est = _did(y, rl, rk, win & (periods < l), win & (periods >= l))
            rows.append(("later vs earlier", l, k, est, s))
    comp = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    comp["weight"] = comp["weight"] / comp["weight"].sum()
    label = lambda k: "never" if k == nt else times[k]   # noqa: E731
    comp["treated"] = [label(k) for k in comp["treated"]]
    comp["control"] = [label(k) for k in comp["control"]]
    tidy = pd.DataFrame({"estimate": [beta], "std_error": [se]}, index=["twfe"])
    by_type = comp.assign(wx=comp["weight"] * comp["estimate"]).groupby("type")[["weight", "wx"]].sum()
    return BaconResults(
        tidy, components=comp, design="bacon", outcome=outcome, inference="cluster (unit)",
        n_obs=n * nt, n_units=n,
        extras={"weight_by_type": by_type["weight"].to_dict(),
                "decomposition_sum": float((comp["weight"] * comp["estimate"]).sum())},
        notes=("TWFE coefficient decomposed into 2x2 DiD comparisons (Goodman-Bacon 2021); "
               "'later vs earlier' rows use already-treated units as controls.",))
