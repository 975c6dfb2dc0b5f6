"""Results objects of the public survival fitters (:mod:`.fitters`).

:class:`SurvivalRegressionResults` (Cox, Fine–Gray, discrete-time hazard) is a
:class:`~ips_study.results.Results`: coefficients on the log-hazard scale in ``params``,
``std_errors``, ``conf_int()``, ``pvalues``, plus ``hazard_ratios``, the covariance ``cov``, the
SE type, ``nobs`` and ``n_events``. :class:`CurveResults` (Kaplan–Meier, cumulative incidence)
holds one step curve per group and the test across groups, and plots them with an optional
number-at-risk table under the axis, through disclosure control.

>>> import pandas as pd
>>> tidy = pd.DataFrame({"estimate": [0.5], "std_error": [0.1]}, index=["age"])
>>> r = SurvivalRegressionResults(tidy, cov=[[0.01]], se_type="model", n_events=30,
...                               design="cox", outcome="status", n_obs=100, n_units=100)
>>> round(float(r.hazard_ratios["age"]), 4)
1.6487
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...results import Results, Summary
from .km import at_times as _curve_at


class SurvivalRegressionResults(Results):
    """Coefficients of a hazard model (log hazard ratios) with their covariance.

    Parameters
    ----------
    tidy : DataFrame
        ``estimate`` and ``std_error`` per term (NaN for terms not identified).
    cov : array_like
        Covariance of the identified terms' estimates (rows/columns in tidy order, terms
        with a NaN estimate skipped).
    se_type : str
        How ``cov`` was computed (``"model"``, ``"robust"``, ``"cluster"``, ``"crr"``).
    n_events : int
        Events of interest behind the fit.
    fit : object, optional
        The underlying fitter (:class:`~.cox.CoxPH` for Cox and Fine–Gray).
    **kw
        Passed to :class:`~ips_study.results.Results`.
    """

    def __init__(self, tidy: pd.DataFrame, *, cov, se_type: str, n_events: int, fit=None,
                 **kw):
        kw.setdefault("inference", se_type)
        # the base class holds the labelled covariance (``cov``, ``has_cov``); terms that are
        # not identified get NaN rows and columns
        ok = tidy.index[tidy["estimate"].notna()]
        full = pd.DataFrame(np.nan, index=tidy.index, columns=tidy.index)
        full.loc[ok, ok] = np.asarray(cov, dtype=float)
        super().__init__(tidy, cov=full, **kw)
        self.se_type = se_type
        self._n_events = int(n_events)
        self._fit = fit

    @property
    def n_events(self) -> int:
        """Events of interest used in the fit."""
        return self._n_events

    @property
    def hazard_ratios(self) -> pd.Series:
        """``exp(params)``: hazard ratios (subdistribution HR for Fine–Gray; odds ratios for a
        logit discrete-time hazard)."""
        return np.exp(self.params).rename("hazard_ratio")

    def summary(self):
        """Coefficient, hazard ratio, SE, interval (both scales), z, p and the SE type."""
        t = self._tidy
        table = pd.DataFrame({
            "coef": t["estimate"], "exp(coef)": np.exp(t["estimate"]), "se(coef)": t["std_error"],
            "z": t["statistic"], "p": t["p_value"],
            f"lower {self.level:.0%}": t["conf_low"], f"upper {self.level:.0%}": t["conf_high"],
            f"exp lower {self.level:.0%}": np.exp(t["conf_low"]),
            f"exp upper {self.level:.0%}": np.exp(t["conf_high"])})
        header = pd.DataFrame({"value": {
            "Model": self.design, "Event": self.outcome, "SE type": self.se_type,
            "Observations": f"{self.n_obs:,}", "Events": f"{self.n_events:,}",
            **{k: v for k, v in self._extras.get("header", {}).items()}}})
        return Summary(f"{self.design}: {self.outcome}", header, table, self.notes)

    def plot(self, ax=None, **kwargs):
        """Forest plot of hazard ratios with intervals on a log axis; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(self._tidy)))
        t = self._tidy.dropna(subset=["estimate"])
        y = np.arange(len(t))[::-1]
        hr, lo, hi = np.exp(t["estimate"]), np.exp(t["conf_low"]), np.exp(t["conf_high"])
        ax.errorbar(hr, y, xerr=[hr - lo, hi - hr], fmt="o", color="black", capsize=2, **kwargs)
        ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y, t.index)
        ax.set_xlabel(f"hazard ratio ({self.level:.0%} CI, {self.se_type} SE)")
        ax.set_title(f"{self.design}: {self.outcome}")
        return ax

    def zph(self, transform: str = "km"):
        """Proportional-hazards test (R ``cox.zph``); Cox fits only."""
        if self.design != "cox":
            raise ValueError("the proportional-hazards test is available for cox fits only")
        return self._fit.zph(transform)


class CurveResults:
    """Step curves per group (Kaplan–Meier survival or cumulative incidence) and their test.

    Attributes
    ----------
    curves : dict
        ``{group: DataFrame}`` with ``time``, ``n_risk``, ``n_event``, the estimate column
        (``surv`` or ``estimate``), ``std_err``/``std_error``, ``lower``, ``upper``.
    test : dict or None
        Log-rank (Kaplan–Meier) or Gray's test (cumulative incidence) across groups.
    """

    def __init__(self, curves: dict, *, kind: str, test, nobs: int, n_events: int, starts,
                 stops, groups, event_name: str, level: float, notes=()):
        self._curves = curves
        self.kind = kind                      # "km" or "cuminc"
        self.test = test
        self._nobs, self._n_events = int(nobs), int(n_events)
        self._starts, self._stops, self._groups = starts, stops, groups
        self.outcome = event_name
        self.level = level
        self.notes = tuple(notes)

    @property
    def nobs(self) -> int:
        return self._nobs

    @property
    def n_events(self) -> int:
        return self._n_events

    @property
    def curves(self) -> dict:
        return {k: v.copy() for k, v in self._curves.items()}

    @property
    def _value(self) -> str:
        return "surv" if self.kind == "km" else "estimate"

    def tidy(self) -> pd.DataFrame:
        """All curves in one long table with a ``group`` column."""
        return pd.concat([c.assign(group=g) for g, c in self._curves.items()], ignore_index=True)

    def at_times(self, times) -> pd.DataFrame:
        """Estimate and interval of every group at ``times`` (long table: group, time)."""
        cols = (self._value, "lower", "upper")
        out = []
        for g, c in self._curves.items():
            start = 0.0 if self.kind == "cuminc" else 1.0
            # cumulative incidence starts at 0; at_times fills 1 before the first step
            v = _curve_at(c.rename(columns={self._value: "surv"}), times,
                          columns=("surv", "lower", "upper")).rename(columns={"surv": self._value})
            if self.kind == "cuminc":
                before = np.asarray(times, float) < (c["time"].iloc[0] if len(c) else np.inf)
                v.loc[before, list(cols)] = start
            out.append(v.reset_index().assign(group=g))
        return pd.concat(out, ignore_index=True)[["group", "time", *cols]]

    def medians(self) -> pd.DataFrame:
        """Median survival and its interval per group (Kaplan–Meier only)."""
        from .km import median_survival

        if self.kind != "km":
            raise ValueError("medians are defined for Kaplan–Meier curves")
        return pd.DataFrame({g: dict(zip(["median", "lower", "upper"], median_survival(c)))
                             for g, c in self._curves.items()}).T

    def summary(self) -> Summary:
        """Per group: persons (rows), events, and median (KM) or final estimate (cuminc)."""
        rows = {}
        for g, c in self._curves.items():
            r = {"n": int(np.sum(self._groups == g)), "events": float(c["n_event"].sum())}
            if self.kind == "km":
                from .km import median_survival

                r.update(zip(["median", "lower", "upper"], median_survival(c)))
            else:
                last = c.iloc[-1] if len(c) else None
                r.update({"time": last["time"] if last is not None else np.nan,
                          "estimate": last["estimate"] if last is not None else 0.0})
            rows[g] = r
        header = {"Estimator": "Kaplan–Meier" if self.kind == "km" else "Aalen–Johansen",
                  "Event": self.outcome, "Observations": f"{self.nobs:,}",
                  "Events": f"{self.n_events:,}"}
        if self.test is not None:
            name = "Log-rank" if self.kind == "km" else "Gray"
            header[f"{name} test"] = (f"chi2 = {self.test['statistic']:.4g}, df = "
                                      f"{self.test['df']}, p = {self.test['p_value']:.4g}")
        return Summary(f"{header['Estimator']}: {self.outcome}",
                       pd.DataFrame({"value": header}), pd.DataFrame.from_dict(rows, "index"),
                       self.notes)

    def __repr__(self) -> str:
        return f"<CurveResults {self.kind} {self.outcome}: {len(self._curves)} group(s)>"

    def plot(self, ax=None, *, at_risk: bool = False, times=None, min_count: int | None = None):
        """Step curves with pointwise bands; returns the Axes.

        Parameters
        ----------
        at_risk : bool
            Draw the number at risk per group at ``times`` under the axis.
        times : sequence of float, optional
            Times of the risk table (default: 6 evenly spaced ticks).
        min_count : int, optional
            Disclosure control (default :data:`ips_study.disclosure.MIN_COUNT`): each curve
            ends where fewer than ``min_count`` are at risk, and risk-table counts below it
            are shown as ``<min_count``.
        """
        import matplotlib.pyplot as plt

        from ... import disclosure

        min_count = disclosure.MIN_COUNT if min_count is None else int(min_count)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4 + (0.3 * len(self._curves) if at_risk else 0)))
        first = 1.0 if self.kind == "km" else 0.0
        for g, c in self._curves.items():
            c = disclosure.truncate_survival(c, at_risk_col="n_risk", min_count=min_count)
            t = np.r_[0.0, c["time"].to_numpy()]
            y = np.r_[first, c[self._value].to_numpy()]
            lo = np.r_[first, c["lower"].to_numpy()]
            hi = np.r_[first, c["upper"].to_numpy()]
            line, = ax.step(t, y, where="post", label=str(g))
            ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color(), lw=0)
        ax.set_xlabel("time")
        ax.set_ylabel("survival" if self.kind == "km" else f"cumulative incidence of {self.outcome}")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        if len(self._curves) > 1 or self.test is not None:
            ax.legend(loc="best", fontsize=8)
        if at_risk:
            self._risk_table(ax, times, min_count)
        return ax

    def _risk_table(self, ax, times, min_count):
        if times is None:
            times = np.linspace(0, float(np.nanmax(self._stops)), 6)
        times = np.asarray(times, float)
        ax.set_xticks(times)
        for i, g in enumerate(self._curves):
            sel = self._groups == g
            s, e = self._starts[sel], self._stops[sel]
            n = [int(np.sum((s < t) & (e >= t))) for t in times]
            text = [str(k) if (k == 0 or k >= min_count) else f"<{min_count}" for k in n]
            y = -0.22 - 0.07 * i
            ax.text(-0.02, y, str(g), transform=ax.transAxes, ha="right", va="center", fontsize=8)
            for t, s_ in zip(times, text):
                ax.text(t, y, s_, transform=ax.get_xaxis_transform(), ha="center", va="center",
                        fontsize=8)
        ax.text(-0.02, -0.15, "at risk", transform=ax.transAxes, ha="right", fontsize=8,
                style="italic")
        ax.figure.subplots_adjust(bottom=0.2 + 0.07 * len(self._curves))
