"""Kaplan–Meier curves by group, Greenwood confidence bands, risk tables and the log-rank test.

The product-limit estimator (Kaplan & Meier 1958) with risk sets ``start < t <= stop`` so
that delayed entry (left truncation) is handled; Greenwood (1926) variance of ``log S`` and
"log-log" pointwise intervals as R's ``survfit(conf.type = "log-log")``; medians with
their interval read off the confidence curves (Brookmeyer & Crowley 1982, as R); the
log-rank test (Mantel 1966; Peto & Peto 1972) as R's ``survdiff`` with ``rho = 0``.

Examples
--------
>>> import numpy as np
>>> c = km_curve(np.zeros(4), np.array([1., 2., 2., 3.]), np.array([1, 1, 0, 1]))
>>> [round(s, 3) for s in c["surv"]]
[0.75, 0.5, 0.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ._riskset import EventGrid, check_labels


def km_curve(start, stop, event, *, level: float = 0.95, weights=None) -> pd.DataFrame:
    """One Kaplan–Meier curve at the distinct event times.

    Returns
    -------
    DataFrame
        ``time``, ``n_risk``, ``n_event``, ``surv``, ``std_err`` (SE of log S, Greenwood),
        ``lower``, ``upper`` (log-log interval at ``level``).
    """
    g = EventGrid(start, stop, event)
    w = np.ones(g.n) if weights is None else np.asarray(weights, float)
    n = g.risk_sum(w)
    d = g.event_sum(w)
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt(np.cumsum(d / (n * (n - d))))
        z = stats.norm.ppf(0.5 + level / 2)
        ok = (surv > 0) & (surv < 1)
        s = np.where(ok, surv, np.nan)
        se2 = z * std / np.log(s)
        lower = np.exp(-np.exp(np.log(-np.log(s)) - se2))
        upper = np.exp(-np.exp(np.log(-np.log(s)) + se2))
    return pd.DataFrame({"time": g.time, "n_risk": n, "n_event": d, "surv": surv,
                         "std_err": std, "lower": lower, "upper": upper})


def _first_below(time, curve, p=0.5):
    """R's quantile rule: first time the step curve is <= p (mid-point if it sits at p)."""
    curve = np.asarray(curve, float)
    below = np.flatnonzero(np.nan_to_num(curve, nan=1.0) <= p + 1e-12)
    if len(below) == 0:
        return np.nan
    i = below[0]
    if abs(curve[i] - p) < 1e-12 and i + 1 < len(time):
        return (time[i] + time[i + 1]) / 2
    return time[i]


def median_survival(curve: pd.DataFrame) -> tuple[float, float, float]:
    """Median survival time and its interval from a :func:`km_curve` table."""
    t = curve["time"].to_numpy()
    return (_first_below(t, curve["surv"]), _first_below(t, curve["lower"]),
            _first_below(t, curve["upper"]))


def at_times(curve: pd.DataFrame, times, columns=("surv", "std_err", "lower", "upper")):
    """Read step-function values of a curve at given times (1/0 before the first step)."""
    idx = np.searchsorted(curve["time"].to_numpy(), np.asarray(times, float), side="right") - 1
    out = {}
    for c in columns:
        first = {"surv": 1.0, "std_err": 0.0, "lower": 1.0, "upper": 1.0}.get(c, 0.0)
        vals = np.concatenate([[first], curve[c].to_numpy()])
        out[c] = vals[idx + 1]
    return pd.DataFrame(out, index=pd.Index(np.asarray(times), name="time"))


def risk_table(data: pd.DataFrame, times, *, group="group", start="start", stop="stop"):
    """Number at risk (``start < t <= stop``) per group at each time in ``times``."""
    rows = {}
    for name, d in data.groupby(group, sort=True, observed=True):
        s, e = d[start].to_numpy(), d[stop].to_numpy()
        rows[name] = [int(np.sum((s < t) & (e >= t))) for t in times]
    return pd.DataFrame(rows, index=pd.Index(list(times), name="time")).T


def chi2_form(score, V) -> tuple[float, int]:
    """``score' V^-1 score`` and its degrees of freedom for the K-sample tests.

    A group never at risk at an event time contributes a zero score and a zero row and
    column of ``V`` (and makes the centred ``V`` singular): the generalised inverse then gives
    the statistic without it, with the rank of ``V`` as the degrees of freedom, as R's
    ``survdiff``.

    >>> chi2_form(np.array([1.0, -1.0]), np.array([[1.0, -1.0], [-1.0, 1.0]]))
    (0.5, 1)
    """
    # rank first: rounding can leave the singular V invertible in floating point (Gray's
    # variance is then ~1e-17 from singular and solve() only warns)
    sv = np.linalg.svd(V, compute_uv=False)
    rank = int((sv > sv.max() * 1e-10).sum()) if len(sv) else 0
    if rank == len(score):
        return float(score @ linalg.solve(V, score, assume_a="sym")), rank
    return float(score @ np.linalg.pinv(V, rcond=1e-10, hermitian=True) @ score), rank


def logrank_test(start, stop, event, group, *, weights=None) -> dict:
    """K-sample log-rank test (R ``survdiff``, rho = 0) with delayed-entry risk sets.

    ``weights`` are case (frequency) weights, as in :func:`km_curve` and R's ``survfit``:
    the numbers at risk and of events are weighted sums in the observed and expected counts
    and in the hypergeometric variance, so that integer weights give ``survdiff`` on the
    rows repeated ``w`` times (R's ``survdiff`` itself takes no weights).

    Returns ``{"statistic", "df", "p_value", "observed", "expected"}``.
    """
    # a missing label would get code -1 and be counted in the last group
    codes, labels = pd.factorize(pd.Series(check_labels(group, "group")), sort=True)
    g = EventGrid(start, stop, event)
    G = len(labels)
    ind = np.eye(G)[codes]
    if weights is not None:
        ind = ind * np.asarray(weights, float)[:, None]
    n_g = g.risk_sum(ind)            # (K, G) at risk per group
    d_g = g.event_sum(ind)           # (K, G) events per group
    n = n_g.sum(1)
    d = d_g.sum(1)
    e_g = n_g * (d / n)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    # V = sum_t c_t (diag(n_g) n - n_g n_g^T)
    V = np.einsum("k,kg,kh->gh", c, n_g, -n_g) + np.diag((c * n) @ n_g)
    o, e = d_g.sum(0), e_g.sum(0)
    stat, df = chi2_form((o - e)[:-1], V[:-1, :-1]) if G > 1 else (np.nan, 0)
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
            "observed": pd.Series(o, index=labels), "expected": pd.Series(e, index=labels)}


def km_by_group(data: pd.DataFrame, *, group="group", start="start", stop="stop",
                event="event", level=0.95) -> dict[str, pd.DataFrame]:
    """Kaplan–Meier curve per group: ``{label: km_curve table}``."""
    return {name: km_curve(d[start], d[stop], d[event], level=level)
            for name, d in data.groupby(group, sort=True, observed=True)}


def plot_curves(curves: dict, ax=None, *, ylabel="Survival", cumulative=False, level=0.95):
    """Step curves with shaded pointwise bands, one per group; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for name, c in curves.items():
        t = np.r_[0.0, c["time"].to_numpy()]
        y = np.r_[0.0 if cumulative else 1.0, c["estimate" if cumulative else "surv"].to_numpy()]
        lo = np.r_[y[0], c["lower"].to_numpy()]
        hi = np.r_[y[0], c["upper"].to_numpy()]
        line, = ax.step(t, y, where="post", label=str(name))
        ax.fill_between(t, lo, hi, step="post", alpha=0.2, color=line.get_color(), lw=0)
    ax.set_xlabel("Months")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="best", fontsize=8, title=f"{level:.0%} pointwise bands")
    return ax
