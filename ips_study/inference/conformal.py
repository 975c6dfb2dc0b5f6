"""Conformal inference for one treated unit (Chernozhukov, Wüthrich & Zhu 2021, *JASA*).

One unit is treated from period ``T0 + 1`` to ``T = T0 + T1``; ``J`` control units are never
treated. To test ``H0: theta_t = theta0_t`` for every post period, the treated unit's
post-period outcomes are adjusted to what they would be without treatment under the null,
``y_t - theta0_t``; the counterfactual model is fitted on **all** ``T`` periods of the
adjusted data (the null imposed), and the residuals ``u_t`` are permuted over time. With the
statistic ``S(u) = (T1^(-1/2) sum_{t > T0} |u_t|^q)^(1/q)`` the p-value is the share of
permutations ``pi`` with ``S(u_pi) >= S(u)``:

* ``"mb"`` moving-block permutations, the ``T`` cyclic shifts of time (valid under weak
  serial dependence; the smallest p-value is ``1/T``);
* ``"iid"`` uniformly random permutations (exact when the residuals are exchangeable), the
  identity plus ``n_perm`` draws.

The test is exact in finite samples when the data are exchangeable over time and the
estimator treats periods symmetrically (both models below do), and asymptotically valid
under stationarity and weak dependence when the counterfactual model is consistent.

Counterfactual models (``method``):

* ``"did"``: two-way fixed effects (unit + time) fitted on the controls and the treated
  unit's adjusted outcome: ``u_t`` is the treated unit's two-way residual;
* ``"sc"``: synthetic control, simplex weights (non-negative, summing to one, no intercept)
  minimising the squared gap over all ``T`` periods
  (:func:`ips_study.simplex.simplex_least_squares`).

Confidence sets come from test inversion: ``{theta : p(theta) > alpha}``, for a constant
effect (all post periods) or pointwise (period ``t`` alone, with the pre-periods: the
paper's ``T1 = 1`` construction).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> Y = rng.normal(size=(11, 40))              # 10 controls, then the treated unit
>>> Y[10, 35:] += 5.0
>>> res = conformal_test(Y, treated=10, first_post=35, method="did")
>>> res.p_value <= 0.05
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ips_study.simplex import simplex_least_squares
from ips_study.inference.honest import bisect_boundary
from ips_study.timelabels import in_time_order

METHODS = ("did", "sc")
PERMUTATIONS = ("mb", "iid")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Panel:
    y1: np.ndarray          # (T,) treated unit
    Y0: np.ndarray          # (T, J) controls
    t0: int
    periods: list
    controls: list
    treated: Any


def _from_long(data: pd.DataFrame, y: str, unit: str, time: str, treat: str) -> _Panel:
    for role, col in (("y", y), ("unit", unit), ("time", time), ("treat", treat)):
        if col not in data.columns:
            raise ValueError(f"{role}={col!r}: no such column in data")
        n_na = int(data[col].isna().sum())
        if n_na:
            raise ValueError(f"column {col!r} ({role}) has {n_na} missing values")
    if not (pd.api.types.is_numeric_dtype(data[y]) or pd.api.types.is_bool_dtype(data[y])):
        raise ValueError(f"outcome column {y!r} is not numeric or boolean")
    d = data[treat]
    if not set(pd.unique(d)) <= {0, 1, True, False}:
        raise ValueError(f"treat column {treat!r} must be 0/1")
    treated_units = pd.unique(data.loc[d.astype(bool), unit])
    if len(treated_units) != 1:
        raise ValueError(f"conformal inference needs exactly one treated unit; column "
                         f"{treat!r} marks {len(treated_units)}")
    if data.duplicated([unit, time]).any():
        raise ValueError(f"columns {unit!r}, {time!r}: more than one row per unit and period")
    # the pre/post split and the moving blocks follow the columns: put them in time order the
    # way every design reads periods ("Q1-2020" after "Q4-2019", dates, Periods, ordered
    # categoricals); text in no known format is refused by name
    yf = data[[unit, time]].assign(_y=data[y].to_numpy(float))   # bool/int8/Float64: float64
    wide = in_time_order(yf.pivot(index=unit, columns=time, values="_y"), data[time], time)
    if wide.isna().any().any():
        raise ValueError(f"panel is unbalanced: {int(wide.isna().sum().sum())} unit-period "
                         f"cells of {y!r} are missing (conformal inference needs every unit "
                         f"in every period)")
    dw = data.pivot(index=unit, columns=time, values=treat).reindex_like(wide).astype(int)
    tu = treated_units[0]
    path = dw.loc[tu].to_numpy()
    first = int(np.argmax(path))
    if not np.all(path[first:] == 1) or first == 0:
        raise ValueError(f"treat column {treat!r}: the treated unit must be untreated first "
                         f"and then treated in every later period")
    return _from_wide(wide, tu, wide.columns[first])


def _from_wide(Y, treated, first_post) -> _Panel:
    if isinstance(Y, pd.DataFrame):
        if treated not in Y.index:
            raise ValueError("treated: not a row label of the outcome matrix")
        if first_post not in Y.columns:
            raise ValueError("first_post: not a column label of the outcome matrix")
        periods = list(Y.columns)
        t0 = periods.index(first_post)
        y1 = Y.loc[treated].to_numpy(float)
        ctrl = Y.drop(index=treated)
        controls = list(ctrl.index)
        Y0 = ctrl.to_numpy(float).T
    else:
        M = np.asarray(Y, float)
        if M.ndim != 2:
            raise ValueError("Y must be a units x periods matrix")
        t0, periods = int(first_post), list(range(M.shape[1]))
        y1 = M[int(treated)]
        Y0 = np.delete(M, int(treated), axis=0).T
        controls = [i for i in range(M.shape[0]) if i != int(treated)]
    if not np.all(np.isfinite(y1)) or not np.all(np.isfinite(Y0)):
        raise ValueError("the outcome matrix has missing or infinite values")
    if Y0.shape[1] < 1:
        raise ValueError("at least one control unit is needed")
    if not 1 <= t0 < len(y1):
        raise ValueError("first_post must leave at least one pre- and one post-period")
    return _Panel(y1=y1, Y0=Y0, t0=t0, periods=periods, controls=controls, treated=treated)


def _panel(data, y, unit, time, treat, treated, first_post) -> _Panel:
    roles = (y, unit, time, treat)
    if any(r is not None for r in roles):
        if not all(r is not None for r in roles) or not isinstance(data, pd.DataFrame):
            raise ValueError("a long DataFrame needs all of y=, unit=, time=, treat=")
        return _from_long(data, y, unit, time, treat)
    if treated is None or first_post is None:
        raise ValueError("a wide outcome matrix (units x periods) needs treated= and "
                         "first_post=")
    return _from_wide(data, treated, first_post)


# --------------------------------------------------------------------------------------------
# residuals under the null, and the permutation p-value
# --------------------------------------------------------------------------------------------

def _residuals(y1: np.ndarray, Y0: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Treated-unit residuals of the counterfactual model fitted on all periods."""
    J = Y0.shape[1]
    if method == "did":
        # two-way residual of the treated row in the balanced (J+1) x T panel; the time
        # effects include the treated unit's own (adjusted) outcome, hence J / (J + 1)
        g = y1 - Y0.mean(axis=1)
        return J / (J + 1) * (g - g.mean()), np.full(J, 1.0 / J)
    w = simplex_least_squares(Y0, y1)
    return y1 - Y0 @ w, w


def _statistic(u_post: np.ndarray, q: float) -> np.ndarray:
    """``S`` along the last axis: ``(T1^(-1/2) sum |u|^q)^(1/q)``; ``q = inf``: max |u|."""
    a = np.abs(u_post)
    if math.isinf(q):
        return a.max(axis=-1)
    return (a ** q).sum(axis=-1) ** (1.0 / q) / math.sqrt(a.shape[-1])


def _p_value(u: np.ndarray, t1: int, permutation: str, q: float, n_perm: int,
             rng: np.random.Generator | None) -> tuple[float, float, int]:
    T = len(u)
    s0 = float(_statistic(u[T - t1:], q))
    tol = 1e-12 * max(1.0, abs(s0))  # ties with the observed value count as >=
    if permutation == "mb" or t1 == 1:
        # cyclic shifts; with one post period every permutation is one of them in effect,
        # so the iid p-value is exact too
        idx = (np.arange(T - t1, T)[None, :] + np.arange(T)[:, None]) % T
        s = _statistic(u[idx], q)
        return float(np.mean(s >= s0 - tol)), s0, T
    if rng is None:
        raise ValueError("iid permutations need a random generator")
    idx = np.argsort(rng.random((n_perm, T)), axis=1)[:, T - t1:]
    s = _statistic(u[idx], q)
    return float((1 + np.sum(s >= s0 - tol)) / (n_perm + 1)), s0, n_perm + 1


def _check_options(method, permutation, q, n_perm):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if permutation not in PERMUTATIONS:
        raise ValueError(f"permutation must be one of {PERMUTATIONS}, got {permutation!r}")
    if not (q >= 1):
        raise ValueError("q must be >= 1 (or inf)")
    if int(n_perm) < 1:
        raise ValueError("n_perm must be positive")


def _null_path(theta0, t1: int) -> np.ndarray:
    th = np.broadcast_to(np.asarray(theta0, float), (t1,)) if np.ndim(theta0) == 0 else \
        np.asarray(theta0, float).ravel()
    if len(th) != t1:
        raise ValueError(f"theta0 must be a scalar or have one value per post period ({t1})")
    return np.array(th, float)


@dataclass
class ConformalTest:
    """Result of :func:`conformal_test`.

    Attributes
    ----------
    p_value : share of permutations whose statistic is at least the observed one.
    statistic : observed ``S(u)``.
    n_permutations : ``T`` for moving blocks, ``n_perm + 1`` for iid.
    residuals : Series of the treated unit's residuals under the null, by period.
    weights : Series of control weights of the counterfactual (``1/J`` each for DiD).
    """
    p_value: float
    statistic: float
    n_permutations: int
    residuals: pd.Series
    weights: pd.Series
    method: str
    permutation: str
    theta0: np.ndarray


def conformal_test(data, *, y: str | None = None, unit: str | None = None,
                   time: str | None = None, treat: str | None = None, treated=None,
                   first_post=None, theta0: float | Sequence[float] = 0.0,
                   method: str = "sc", permutation: str = "mb", q: float = 1.0,
                   n_perm: int = 5000, seed: int = 0) -> ConformalTest:
    """Conformal p-value of ``H0: theta_t = theta0_t`` for all post periods.

    Parameters
    ----------
    data : long DataFrame (with ``y``, ``unit``, ``time``, ``treat`` column roles; one unit
        treated from some period on) or a wide units x periods matrix (DataFrame or array,
        with ``treated`` = the treated row label/index and ``first_post`` = the first
        treated column label/index).
    theta0 : hypothesised effect, a scalar (constant) or one value per post period.
    method : ``"sc"`` (synthetic control) or ``"did"``.
    permutation : ``"mb"`` (moving block) or ``"iid"``.
    q : exponent of the statistic (1: the paper's default; ``np.inf``: the largest residual).
    n_perm, seed : random permutations for ``"iid"``.
    """
    _check_options(method, permutation, q, n_perm)
    p = _panel(data, y, unit, time, treat, treated, first_post)
    t1 = len(p.y1) - p.t0
    th = _null_path(theta0, t1)
    adj = p.y1.copy()
    adj[p.t0:] -= th
    u, w = _residuals(adj, p.Y0, method)
    rng = np.random.default_rng(seed)
    pv, s0, n = _p_value(u, t1, permutation, q, n_perm, rng)
    return ConformalTest(p_value=pv, statistic=s0, n_permutations=n,
                         residuals=pd.Series(u, index=p.periods, name="residual"),
                         weights=pd.Series(w, index=p.controls, name="weight"),
                         method=method, permutation=permutation, theta0=th)


# --------------------------------------------------------------------------------------------
# confidence sets by test inversion
# --------------------------------------------------------------------------------------------

def _invert(pfun, centre: float, scale: float, alpha: float, grid, grid_points: int):
    """Hull of ``{theta : p(theta) > alpha}``, endpoints refined by bisection."""
    scale = scale if scale > 0 else 1.0
    half = 8.0 * scale
    acc = None
    for _ in range(8):
        g = (np.asarray(grid, float) if grid is not None
             else np.linspace(centre - half, centre + half, grid_points))
        pv = np.array([pfun(t) for t in g])
        acc = pv > alpha
        if grid is not None:
            break
        if not acc.any():
            half *= 0.25  # perhaps a set narrower than the grid step: look closer
        elif acc[0] or acc[-1]:
            half *= 4     # the set reaches an end of the grid: widen
        else:
            break
    if not acc.any():
        return np.nan, np.nan, g, pv   # every value tested is rejected
    i0, i1 = np.flatnonzero(acc)[[0, -1]]
    lo, hi = g[i0], g[i1]
    if grid is None and acc[0]:
        lo = -np.inf      # still accepted at the widest grid tried: unbounded
    if grid is None and acc[-1]:
        hi = np.inf
    accept = lambda t: pfun(t) > alpha
    if i0 > 0:
        lo = bisect_boundary(accept, g[i0 - 1], g[i0], 1e-8 * scale)
    if i1 < len(g) - 1:
        hi = bisect_boundary(accept, g[i1 + 1], g[i1], 1e-8 * scale)
    return float(lo), float(hi), g, pv


def conformal_interval(data, *, y: str | None = None, unit: str | None = None,
                       time: str | None = None, treat: str | None = None, treated=None,
                       first_post=None, kind: str = "constant", alpha: float = 0.1,
                       method: str = "sc", permutation: str = "mb", q: float = 1.0,
                       n_perm: int = 1000, seed: int = 0, grid: Sequence[float] | None = None,
                       grid_points: int = 101) -> pd.DataFrame:
    """Confidence set for the effect by inverting :func:`conformal_test`.

    The parameters not listed below are those of :func:`conformal_test`. The same
    permutations (seed) are used at every theta.

    Parameters
    ----------
    kind : ``"constant"`` (one effect for every post period; one row ``period="all"``) or
        ``"pointwise"`` (one row per post period, each from the pre-periods plus that period).
    alpha : 1 - confidence level (the paper reports 90 % intervals).
    grid : theta values to test; default ``grid_points`` values around the pre-period-fit
        estimate, widened until the accepted set is inside, endpoints refined by bisection.

    Returns
    -------
    DataFrame with ``period``, ``estimate`` (the gap of the model fitted on the pre-periods),
    ``lower``, ``upper``: the hull of the accepted values; NaN when every value tested is
    rejected (the set can be empty: a constant effect may be rejected outright), -inf/inf
    when values 8^4 times the data's scale away are still accepted.
    """
    _check_options(method, permutation, q, n_perm)
    if kind not in ("constant", "pointwise"):
        raise ValueError(f"kind must be 'constant' or 'pointwise', got {kind!r}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    p = _panel(data, y, unit, time, treat, treated, first_post)
    T, t0 = len(p.y1), p.t0
    # point estimate and scale from the model fitted on the pre-periods only
    u_pre, w = _residuals(p.y1[:t0], p.Y0[:t0], method)
    if method == "did":
        level = (p.y1[:t0] - p.Y0[:t0].mean(axis=1)).mean()
        gap = p.y1[t0:] - p.Y0[t0:].mean(axis=1) - level
    else:
        gap = p.y1[t0:] - p.Y0[t0:] @ w
    scale = float(np.std(u_pre)) + float(np.std(gap)) if t0 > 1 else float(np.std(gap))
    scale = scale if scale > 0 else float(np.abs(p.y1).mean() or 1.0)

    def pfun_for(cols: np.ndarray):
        y1, Y0 = p.y1[cols], p.Y0[cols]
        t1 = len(cols) - t0

        def pfun(theta):
            adj = y1.copy()
            adj[t0:] -= theta
            u, _ = _residuals(adj, Y0, method)
            # the same permutations at every theta, so p(theta) is a fixed function
            return _p_value(u, t1, permutation, q, n_perm, np.random.default_rng(seed))[0]
        return pfun

    rows = []
    if kind == "constant":
        cols = np.arange(T)
        lo, hi, _, _ = _invert(pfun_for(cols), float(gap.mean()), scale, alpha, grid,
                               grid_points)
        rows.append({"period": "all", "estimate": float(gap.mean()), "lower": lo, "upper": hi})
    else:
        for k in range(T - t0):
            cols = np.r_[np.arange(t0), t0 + k]
            lo, hi, _, _ = _invert(pfun_for(cols), float(gap[k]), scale, alpha, grid,
                                   grid_points)
            rows.append({"period": p.periods[t0 + k], "estimate": float(gap[k]),
                         "lower": lo, "upper": hi})
    return pd.DataFrame(rows)
