"""Synthetic control (Abadie, Diamond & Hainmueller 2010, *JASA* 105(490)).

The treated municipality's outcome path is compared with a *synthetic control*
(*syntetisk kontroll*): a weighted average of donor municipalities, weights non-negative and
summing to one, chosen so that the synthetic unit matches the treated one before IPS.

Two ways to choose the weights (:mod:`ips_study.designs.synth_weights`):

* **outcomes only** (default; the variant used by Arkhangelsky et al. 2021, Table 1, and
  by Abadie 2021 as a simpler alternative): match every pre-period outcome with equal
  importance, ``V = I``;
* **with predictors** (``predictors=[...]`` and/or ``outcome_lags=[...]``): the original
  nested optimisation, predictor importance ``V`` chosen to minimise the pre-period outcome
  MSPE.

Inference with one treated unit is by placebo-in-space (ADH 2010, section 2.4): every donor
in turn is treated as if it had adopted IPS, with the remaining donors as its pool. The
treated unit's ratio of post- to pre-period root mean squared prediction error is ranked
among all ``J + 1`` ratios; ``p = rank / (J + 1)``. The reported standard error is the root
mean square of the donors' placebo effects (the analogue of Arkhangelsky et al.'s placebo
variance); the p-value is the rank one. Leave-one-out refits drop each donor with positive
weight in turn (Abadie, Diamond & Hainmueller 2015).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(3)
>>> f = rng.normal(size=12).cumsum()
>>> rows = [(u, t, (1 + 0.2 * u) * f[t] + rng.normal(0, 0.05)
...          + (1.0 if u == 0 and t >= 9 else 0.0), int(u == 0 and t >= 9))
...         for u in range(10) for t in range(12)]
>>> df = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
>>> res = synth(df, unit="unit", time="time", y="y", treat="d")
>>> bool(abs(res.estimate - 1.0) < 0.5)
True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.config import StudyConfig
from ips_study.designs.synth_data import (OutcomeMatrix, block_design_frame, outcome_matrix,
                                          plot_unit_weights)
from ips_study.designs.synth_weights import nested_weights, simplex_least_squares
from ips_study.disclosure.drawn import mark_measures
from ips_study.inference import check_method
from ips_study.inference.placebo_engine import draw_assignments, run_placebo
from ips_study.results import Results, refitter

from .roles import DesignError, panel_roles, require_balanced, resolve_aliases


def _fit_one(Y: np.ndarray, treated: int, donors: np.ndarray, t0: int,
             P: np.ndarray | None) -> np.ndarray:
    """Donor weights for unit ``treated`` from ``donors`` (indices into rows of Y)."""
    Z0, z1 = Y[donors, :t0].T, Y[treated, :t0]
    if P is None:
        return simplex_least_squares(Z0, z1)
    return nested_weights(P[:, donors], P[:, treated], Z0, z1)[0]


def _rmspe(gap: np.ndarray, t0: int) -> tuple[float, float]:
    return float(np.sqrt(np.mean(gap[:t0] ** 2))), float(np.sqrt(np.mean(gap[t0:] ** 2)))


class SynthResults(Results):
    """Synthetic control results: weights, gaps, placebo and leave-one-out material.

    Accessors return labelled pandas objects; every plot takes ``ax=None`` and returns Axes.
    """

    def __init__(self, tidy, *, matrix: OutcomeMatrix, weights, gaps, placebos, loo,
                 placebo_gaps, balance=None, **kw):
        super().__init__(tidy, **kw)
        self._m, self._w = matrix, weights
        self._gaps, self._placebos, self._loo = gaps, placebos, loo
        self._placebo_gaps = dict(placebo_gaps)
        self._balance = balance

    @property
    def weights(self) -> pd.Series:
        """Donor weights (index: donor unit)."""
        return pd.Series(self._w, index=self._m.control_units, name="weight")

    @property
    def gaps(self) -> pd.Series:
        """Treated minus synthetic outcome by period."""
        return pd.Series(self._gaps, index=self._m.times, name="gap")

    @property
    def placebos(self) -> pd.DataFrame:
        """One row per unit (treated first): pre/post RMSPE, their ratio and mean post gap."""
        return self._placebos.copy()

    @property
    def predictor_balance(self) -> pd.DataFrame | None:
        """Predictor means: treated, synthetic, donor average and importance ``v`` (ADH
        2010, table 1); ``None`` for the outcomes-only variant."""
        return None if self._balance is None else self._balance.copy()

    @property
    def leave_one_out(self) -> pd.DataFrame:
        """Estimate with each positive-weight donor left out (index: dropped donor)."""
        return self._loo.copy()

    def _x(self):
        return np.arange(len(self._m.times))

    def _ticks(self, ax):
        x = self._x()
        ticks = x[:: max(1, len(x) // 8)]
        ax.set_xticks(ticks, [str(self._m.times[i]) for i in ticks])
        ax.axvline(self._m.n_pre - 0.5, color="0.5", lw=0.8, ls="--")

    def plot(self, ax=None, **kwargs):
        """Treated and synthetic outcome paths."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        m = self._m
        treated = m.Y[m.n_control]
        ax.plot(self._x(), treated, color="black", label="treated", **kwargs)
        ax.plot(self._x(), treated - self._gaps, color="0.5", ls="--", label="synthetic control")
        self._ticks(ax)
        ax.legend(fontsize="small")
        ax.set_title(f"Synthetic control: {self.outcome}")
        return ax

    def plot_gaps(self, ax=None):
        """Gap (treated minus synthetic) by period."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self._x(), self._gaps, color="black")
        ax.axhline(0, color="0.5", lw=0.8)
        self._ticks(ax)
        ax.set_ylabel("Gap")
        ax.set_title(f"Gap: {self.outcome}")
        return ax

    def plot_placebos(self, ax=None, max_pre_rmspe_ratio: float | None = 5.0):
        """Placebo gaps (grey) behind the treated gap (black); poorly fitted placebos
        (pre-RMSPE above ``max_pre_rmspe_ratio`` times the treated one) are left out, as in
        ADH (2010), figure 5-7."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        pre_tr = self._placebos["pre_rmspe"].iloc[0]
        for unit, gap in self._placebo_gaps.items():
            pre = self._placebos.loc[unit, "pre_rmspe"]
            if max_pre_rmspe_ratio is None or pre <= max_pre_rmspe_ratio * pre_tr:
                ax.plot(self._x(), gap, color="0.8", lw=0.7)
        ax.plot(self._x(), self._gaps, color="black", lw=1.5, label="treated")
        ax.axhline(0, color="0.5", lw=0.8)
        self._ticks(ax)
        ax.legend(fontsize="small")
        ax.set_title("Placebo-in-space gaps")
        return ax

    def plot_weights(self, ax=None, top: int = 20):
        """Largest donor weights as horizontal bars."""
        return plot_unit_weights(self.weights, ax, top=top, xlabel="Donor weight",
                                 title="Synthetic control weights")

    def plot_leave_one_out(self, ax=None):
        """Estimate with each positive-weight donor dropped, against the full estimate."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        loo = self._loo
        mark_measures(ax.barh([str(i) for i in loo.index], loo["estimate"].to_numpy(), color="0.6"), "estimate")
        ax.axvline(self.estimate, color="black", label="all donors")
        ax.set_xlabel("Estimate without donor")
        ax.legend(fontsize="small")
        ax.set_title("Leave-one-out donors")
        return ax


def synth(data: pd.DataFrame, *, y: str | None = None, unit: str, time: str,
          treat: str | None = None, predictors: Sequence[str] = (), outcome_lags: Sequence = (),
          predictor_periods: Sequence | None = None,
          placebo: bool = True, leave_one_out: bool = True, level: float = 0.95,
          outcome: str | None = None, treated: str | None = None,
          inference: str | None = None) -> SynthResults:
    """Synthetic control on a long balanced unit x period frame with one treated unit.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period.
    y, unit, time : str
        Outcome, unit and period columns (roles as :func:`ips_study.did`).
    treat : str
        Absorbing 0/1 column: 1 for the treated unit in post-treatment periods.
    outcome, treated : str, optional
        Older spellings of ``y`` and ``treat``.
    predictors : sequence of str
        Covariate columns, averaged over the pre-period (ignoring missing values). Given
        this or ``outcome_lags``, weights come from the nested ``V`` optimisation.
    predictor_periods : sequence, optional
        Pre-period time values over which ``predictors`` are averaged (default: all
        pre-periods; missing values are skipped, so a predictor observed only in part of the
        window is averaged over that part).
    outcome_lags : sequence
        Pre-period time values whose outcome enters as a predictor (e.g. 1975, 1980, 1988).
    placebo : bool
        Run placebo-in-space for every donor (needed for the p-value and standard error).
    leave_one_out : bool
        Refit without each positive-weight donor.
    inference : {"placebo", "none"}, optional
        Instead of ``placebo``: the method name of the inference table
        (:func:`ips_study.inference.methods_for`); ``"none"`` skips the placebos.

    Returns
    -------
    SynthResults
        ``estimate`` = mean post-period gap; ``p_value`` = RMSPE-ratio rank / (J + 1).
    """
    outcome, treated = resolve_aliases("synth", y, treat, outcome, treated)
    if inference is not None:
        placebo = check_method("synth", inference) != "none"
    rp = panel_roles(data, y=outcome, unit=unit, time=time, treat=treated, can_drop=False)
    require_balanced(rp, "synth")
    m = outcome_matrix(data, unit=unit, time=time, outcome=outcome, treated=treated)
    if m.Y.shape[0] - m.n_control != 1:
        raise ValueError("synthetic control needs exactly one treated unit; "
                         "use the sdid design for several")
    Y, t0, j = m.Y, m.n_pre, m.n_control
    P = _predictor_matrix(data, m, unit, time, predictors, outcome_lags, predictor_periods)
    tr = j
    balance = None
    if P is None:
        w = _fit_one(Y, tr, np.arange(j), t0, P)
    else:
        w, v = nested_weights(P[:, :j], P[:, tr], Y[:j, :t0].T, Y[tr, :t0])
        names = list(predictors) + [f"{outcome} ({lag})" for lag in outcome_lags]
        balance = pd.DataFrame({"treated": P[:, tr], "synthetic": P[:, :j] @ w,
                                "donor_mean": P[:, :j].mean(axis=1), "v": v}, index=names)
    gap = Y[tr] - w @ Y[:j]
    est = float(gap[t0:].mean())
    pre, post = _rmspe(gap, t0)
    rows = [(m.units[tr], pre, post, est)]
    placebo_gaps = {}
    if placebo and j:
        def donor_as_treated(slot: np.ndarray) -> np.ndarray:
            # the real treated unit is left out; the other donors are the pool
            donors = np.delete(np.arange(j), slot[0])
            g = Y[slot[0]] - _fit_one(Y, slot[0], donors, t0, P) @ Y[donors]
            return np.concatenate([_rmspe(g, t0), [g[t0:].mean()], g])

        # every donor in turn (one treated unit: all assignments), the shared engine
        run = run_placebo(draw_assignments(j, 1, reps=None), estimate=donor_as_treated)
        for i, row in enumerate(run.draws):
            placebo_gaps[m.units[i]] = row[3:]
            rows.append((m.units[i], row[0], row[1], float(row[2])))
    tab = pd.DataFrame(rows, columns=["unit", "pre_rmspe", "post_rmspe", "effect"]).set_index("unit")
    with np.errstate(divide="ignore", invalid="ignore"):
        tab["ratio"] = tab["post_rmspe"] / tab["pre_rmspe"]
    tab["rank"] = tab["ratio"].rank(ascending=False, method="min").astype(int)
    if placebo and j > 0:
        p = float(tab["rank"].iloc[0]) / len(tab)
        se = float(np.sqrt(np.mean(tab["effect"].iloc[1:] ** 2)))
    else:
        p, se = np.nan, np.nan
    loo_rows = []
    if leave_one_out:
        for i in np.flatnonzero(w > 1e-6):
            donors = np.delete(np.arange(j), i)
            wi = _fit_one(Y, tr, donors, t0, P)
            loo_rows.append((m.units[i], float((Y[tr, t0:] - wi @ Y[donors, t0:]).mean())))
    loo = pd.DataFrame(loo_rows, columns=["dropped", "estimate"]).set_index("dropped")
    tidy = pd.DataFrame({"estimate": [est], "std_error": [se], "p_value": [p]},
                        index=["treated_post"])
    # gap per period, with the root mean square of the placebo gaps in that period as SE
    se_t = (np.sqrt(np.mean(np.vstack(list(placebo_gaps.values())) ** 2, axis=0))
            if placebo_gaps else np.full(len(gap), np.nan))
    crit = stats.norm.ppf(0.5 + level / 2)
    event = pd.DataFrame({"event_time": np.arange(len(gap)) - t0, "estimate": gap,
                          "std_error": se_t, "conf_low": gap - crit * se_t,
                          "conf_high": gap + crit * se_t})
    return SynthResults(
        tidy, matrix=m, weights=w, gaps=gap, placebos=tab, loo=loo, placebo_gaps=placebo_gaps,
        balance=balance,
        design="synth", outcome=outcome, inference="placebo-in-space" if placebo else "none",
        n_obs=Y.size, n_units=Y.shape[0], level=level, event_time=event,
        extras={"weights": dict(zip(map(str, m.control_units), w)),
                "pre_rmspe": pre, "post_rmspe": post,
                "rmspe_rank": int(tab["rank"].iloc[0]) if placebo else None,
                "n_placebos": j if placebo else 0,
                "variant": "nested V over predictors" if P is not None else "outcomes only"},
        notes=("Estimate = mean post-period gap. p-value = rank of the post/pre RMSPE ratio "
               "among the treated unit and all placebos, divided by J+1; standard error = "
               "root mean square of placebo effects (interval is estimate +/- z*SE).",),
        refit=refitter(synth, data, y=outcome, unit=unit, time=time, treat=treated,
                       predictors=predictors, outcome_lags=outcome_lags,
                       predictor_periods=predictor_periods, leave_one_out=leave_one_out))


def _predictor_matrix(data, m: OutcomeMatrix, unit, time, predictors, outcome_lags,
                      predictor_periods):
    """Predictors (k x units, rows ordered like ``m.units``) or None for outcomes only."""
    if not predictors and not outcome_lags:
        return None
    pre_times = m.times[: m.n_pre]
    window = pre_times if predictor_periods is None else list(predictor_periods)
    if not set(window) <= set(pre_times):
        raise ValueError("predictor_periods must be pre-treatment periods")
    pre = data[data[time].isin(window)]
    blocks = []
    for c in predictors:
        if c not in data.columns:
            raise DesignError(f"predictors: column {c!r} is not in the data")
        col = data[c]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            raise DesignError(f"predictors: {c!r} must be numeric, got dtype {col.dtype}")
        if np.isinf(col.to_numpy(float, na_value=np.nan)).any():
            raise DesignError(f"predictors: {c!r} has infinite values")
    if predictors:
        means = pre.groupby(unit)[list(predictors)].mean().reindex(m.units)
        if means.isna().any().any():
            raise ValueError("a predictor has no pre-period value for some unit")
        blocks.append(means.to_numpy(float).T)
    for lag in outcome_lags:
        if lag not in set(pre_times):
            raise ValueError(f"outcome lag {lag!r} is not a pre-period")
        blocks.append(m.Y[:, list(m.times).index(lag)][None, :])
    return np.vstack(blocks)


def fit_panel(panel: pd.DataFrame, *, outcome: str, config: StudyConfig,
              inference: str | None = None, **options) -> SynthResults:
    """Synthetic control of the treated municipality against never-exposed municipalities.

    The person-period panel is aggregated to municipality x period means
    (:func:`ips_study.designs.synth_data.block_design_frame`). ``inference`` may be
    ``None``/``"placebo"`` (placebo-in-space) or ``"none"``; ``options`` go to :func:`synth`
    (``predictors`` may name other outcome columns, e.g. ``["employed", "disability"]``,
    whose municipality means then enter the nested ``V`` optimisation).

    Examples
    --------
    >>> res = fit_panel(panel, outcome="workdays", config=StudyConfig())   # doctest: +SKIP
    """
    inference = check_method("synth", inference)
    frame = block_design_frame(panel, outcome, config, extra=options.get("predictors", ()))
    return synth(frame, unit="municipality", time="period", y=outcome,
                 treat="treated_post", placebo=inference != "none", **options)
