"""Restricted wild cluster bootstrap (WCR) for one contrast at a time.

The null hypothesis ``a'beta = theta0`` is imposed when forming the residuals (the
"restricted" bootstrap of Cameron, Gelbach & Miller 2008 and MacKinnon & Webb 2017), the
residuals of each municipality are multiplied by one draw ``v_g`` of Rademacher (+/-1) or
Webb's six-point weights (+/-sqrt(1/2), +/-1, +/-sqrt(3/2)), and the CRV1 t statistic is
recomputed. Fixed effects are partialled out first and the bootstrap runs on the demeaned
data, as in ``boottest`` / ``fwildclusterboot``. All draws are computed from per-cluster
sums (Roodman et al. 2019), so the cost does not grow with the number of rows.

Assumptions: many clusters, or at least several treated ones. With a single treated
municipality the bootstrap distribution of the t statistic is driven by the sign of one
cluster's weight and the WCR test under-rejects severely and its intervals are often
unbounded (MacKinnon & Webb 2017, 2018); it is offered so that this can be seen.

The interval inverts the test: all ``theta0`` with p-value above ``1 - level``, found by
bisection; an unbounded side is reported as infinite.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel, fit_panel
>>> res = fit_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig())
>>> wb = res.with_inference("wild", weights="webb", reps=999, seed=1)
>>> wb.extras["bootstrap_weights"], wb.conf_int().shape
('webb', (1, 2))
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from ips_study.designs.twfe import cluster_scores

from . import DEFAULT_SEED, InferenceOutput, contrast_matrix

WEIGHTS = ("rademacher", "webb")


def draw_weights(kind: str, n_clusters: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap weights (G x reps)."""
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, reps))
    if kind == "webb":
        pts = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0,
                        math.sqrt(1.5)])
        return rng.choice(pts, size=(n_clusters, reps))
    raise ValueError(f"weights must be one of {WEIGHTS}")


class _WildContrast:
    """Precomputed cluster sums for the WCR test of one contrast ``a``."""

    def __init__(self, X, y, cluster, G, bread, a, factor):
        self.G, self.factor = G, factor
        self.c = bread @ a
        Zb = null_space(a[None, :])
        XZ = X @ Zb
        ginv = np.linalg.pinv(XZ.T @ XZ) if XZ.shape[1] else None

        def resid_on_XZ(v):
            if XZ.shape[1] == 0:
                return v.copy()
            return v - XZ @ (ginv @ (XZ.T @ v))

        u0 = resid_on_XZ(y)
        u1 = resid_on_XZ(X @ a / (a @ a))
        self.S0 = cluster_scores(X, u0, cluster, G)
        self.S1 = cluster_scores(X, u1, cluster, G)
        k = X.shape[1]
        # R_g = c' H_g bread with H_g = X_g'X_g, built column pair by column pair
        H = np.empty((G, k, k))
        for i in range(k):
            for j in range(i, k):
                H[:, i, j] = H[:, j, i] = np.bincount(cluster, weights=X[:, i] * X[:, j],
                                                      minlength=G)
        self.R = np.einsum("i,gij,jk->gk", self.c, H, bread)

    def t_stats(self, theta0: float, V: np.ndarray) -> np.ndarray:
        S = self.S0 - theta0 * self.S1
        sc = S @ self.c
        num = sc @ V
        score = sc[:, None] * V - self.R @ (S.T @ V)
        den = np.sqrt(self.factor * np.einsum("gb,gb->b", score, score))
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / den


def _p_value(wc: _WildContrast, theta0, est, se, V) -> float:
    t = (est - theta0) / se
    tb = wc.t_stats(theta0, V)
    return float(np.mean(np.abs(tb) >= abs(t) * (1 - 1e-12)))


def _bound(wc, est, se, V, alpha, side) -> float:
    """Outer end of the interval on one side, by expansion then bisection."""
    inner, step = 0.0, 1.0
    while step <= 1024:
        if _p_value(wc, est + side * step * se, est, se, V) <= alpha:
            break
        inner, step = step, step * 2
    else:
        return side * math.inf
    lo, hi = inner, step
    for _ in range(40):
        mid = (lo + hi) / 2
        if _p_value(wc, est + side * mid * se, est, se, V) <= alpha:
            hi = mid
        else:
            lo = mid
    return est + side * hi * se


def wild_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95,
                   weights: str = "webb", reps: int = 9999, seed: int | None = None,
                   small_sample: str | None = None, interval: bool = True) -> InferenceOutput:
    """WCR p-values and test-inversion intervals for each contrast.

    Parameters
    ----------
    weights : ``"webb"`` (default; better with few clusters) or ``"rademacher"``
    reps : bootstrap replications
    seed : seed of the weight draws (default :data:`ips_study.inference.DEFAULT_SEED`) (the same draws are used for every contrast and
        every ``theta0`` of the inversion)
    interval : compute test-inversion intervals (set False to get p-values only)
    """
    L = contrast_matrix(fit, contrasts)
    sw = None if fit.weights is None else np.sqrt(fit.weights)
    X = fit.Xt if sw is None else fit.Xt * sw[:, None]
    y = fit.yt if sw is None else fit.yt * sw
    G = fit.n_units
    factor = fit.crv_factor(small_sample)
    V = fit.vcov_cluster(small_sample)
    seed = DEFAULT_SEED if seed is None else seed
    rng = np.random.default_rng(seed)
    Vw = draw_weights(weights, G, reps, rng)
    alpha = 1 - level
    rows = []
    cache = {}
    for name, a in zip(contrasts.index, L):
        est = float(a @ fit.beta)
        se = float(np.sqrt(a @ V @ a))
        wc = _WildContrast(X, y, fit.unit, G, fit.bread, a, factor)
        cache[name] = (wc, est, se)
        p = _p_value(wc, 0.0, est, se, Vw)
        lo = _bound(wc, est, se, Vw, alpha, -1) if interval else math.nan
        hi = _bound(wc, est, se, Vw, alpha, +1) if interval else math.nan
        rows.append((est, se, est / se, p, lo, hi))
    tidy = pd.DataFrame(rows, index=contrasts.index,
                        columns=["estimate", "std_error", "statistic", "p_value",
                                 "conf_low", "conf_high"])

    def ci(lv: float) -> pd.DataFrame:
        out = {}
        for name, (wc, est, se) in cache.items():
            out[name] = (_bound(wc, est, se, Vw, 1 - lv, -1), _bound(wc, est, se, Vw, 1 - lv, 1))
        return pd.DataFrame.from_dict(out, orient="index", columns=["lower", "upper"])

    note = (f"Restricted wild cluster bootstrap (WCR), {weights} weights, {reps} draws, "
            f"{G} clusters; p-value symmetric in |t|; interval by test inversion.")
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=(note,),
                           extras={"bootstrap_weights": weights, "reps": reps, "seed": seed})
