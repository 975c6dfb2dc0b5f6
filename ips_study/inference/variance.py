"""The size variance function of the Ferman-Pinto and studentised placebo methods.

``E[W^2 | M] = A + B / M``: the variance of a unit's placebo estimate or residual draw falls
with its size M (persons per period) towards a common part A. Kept in its own module because
the one- and several-treated-unit methods (:mod:`.residual`, :mod:`.studentized`,
:mod:`.assignments`) all fit it.

Examples
--------
>>> import numpy as np
>>> m = np.array([10., 20, 40, 80, 160])
>>> A, B = variance_function(2.0 + 30.0 / m, 1 / m)
>>> round(A, 6), round(B, 6)
(2.0, 30.0)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats


def variance_function(w2: np.ndarray, inv_m: np.ndarray, *, fgls: bool = False,
                      iterations: int = 5) -> tuple[float, float]:
    """Fit ``E[W^2 | M] = A + B / M`` by least squares with A, B >= 0 (see module doc).

    ``fgls=True`` reweights by ``1 / v_j^2`` (iterated a few times from the OLS fit): under
    normal errors ``var(W_j^2) = 2 v_j^2``, so plain OLS lets the very noisy squares of the
    smallest units dominate the intercept A, which is what the variance of a large treated
    unit rests on. The weighted fit is the efficient one (feasible GLS).
    """
    X = np.column_stack([np.ones_like(inv_m), inv_m])

    def fit(wt):
        A, B = np.linalg.lstsq(X * np.sqrt(wt)[:, None], w2 * np.sqrt(wt), rcond=None)[0]
        if B < 0:
            return float(np.average(w2, weights=wt)), 0.0
        if A < 0:
            return 0.0, float((wt * inv_m) @ w2 / ((wt * inv_m) @ inv_m))
        return float(A), float(B)

    A, B = fit(np.ones_like(w2))
    for _ in range(iterations if fgls else 0):
        v = A + B * inv_m
        if not np.all(v > 0):
            break
        A, B = fit(1.0 / v ** 2)
    return A, B


def variance_prediction(w2: np.ndarray, x: np.ndarray, at, *, fgls: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Variance ``A + B x`` predicted at ``at`` and its Satterthwaite degrees of freedom.

    ``A, B`` are fitted by :func:`variance_function` on the squared draws ``w2`` with
    covariate ``x`` (``1/M`` for the size model). Under normal draws ``var(w2_j) = 2 v_j^2``,
    so the (feasible) GLS covariance of ``(A, B)`` is ``(X' diag(1 / (2 v^2)) X)^{-1}`` and the
    predicted variance ``v0`` at ``x0`` has variance ``s0^2 = x0' Cov x0``. Treating ``v0`` as
    ``v * chi2_d / d`` gives ``d = 2 v0^2 / s0^2`` (Satterthwaite 1946): ``b / sqrt(v0)`` is
    then about ``t(d)``. ``d`` is large where the controls pin the variance down (sizes in
    the middle of their range) and small where it is an extrapolation (a treated unit
    smaller or larger than most controls), which is where a normal or rank reference
    over-rejects. When a bound binds (``A = 0`` or ``B = 0``) the one-parameter fit's
    covariance is used. With one parameter and all weights equal, ``d`` is the number of draws.

    Returns
    -------
    v0, d : arrays shaped like ``at``

    Examples
    --------
    >>> x = np.array([0.1, 0.2, 0.3, 0.4])
    >>> v0, d = variance_prediction(np.full(4, 2.0), x, [0.25])
    >>> float(v0[0]), float(d[0])
    (2.0, 4.0)
    """
    w2, x = np.asarray(w2, dtype=float), np.asarray(x, dtype=float)
    at = np.atleast_1d(np.asarray(at, dtype=float))
    A, B = variance_function(w2, x, fgls=fgls)
    v = A + B * x
    v0 = A + B * at
    cols = [c for c, free in ((np.ones_like(x), B == 0 or A > 0), (x, B > 0)) if free]
    keep = [free for free in (B == 0 or A > 0, B > 0)]
    X = np.column_stack(cols)
    Z = np.column_stack([c for c, k in zip((np.ones_like(at), at), keep) if k])
    if not np.all(v > 0):
        return v0, np.full(at.shape, np.nan)
    info = X.T @ (X / (2.0 * v[:, None] ** 2))
    cov = np.linalg.pinv(info)
    s2 = np.einsum("ij,jk,ik->i", Z, cov, Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(s2 > 0, 2.0 * v0 ** 2 / s2, np.inf)
    return v0, d


# -- several treated units: a variance model in the estimator's weights, dependent draws ---------
def fit_variance_model(w2: np.ndarray, X: np.ndarray, *, fgls: bool = True,
                       iterations: int = 5) -> np.ndarray:
    """Fit ``E[w2] = X @ c`` with ``c >= 0`` (two columns, no intercept).

    The several-treated-unit form of :func:`variance_function`: column 0 carries the common
    part ``A`` and column 1 the sampling part ``B`` (``Σ k²`` and ``Σ k²/M`` of the
    estimator's cell loadings ``k``, :func:`ips_study.inference.assignments.size_covariates`).
    When a coefficient comes out negative it is set to 0 and the other refitted alone;
    ``fgls`` reweights by ``1 / v^2`` as in :func:`variance_function`.

    Examples
    --------
    >>> X = np.array([[1.0, 0.1], [1.0, 0.2], [0.5, 0.4], [0.5, 0.1]])
    >>> fit_variance_model(X @ np.array([2.0, 3.0]), X).round(6).tolist()
    [2.0, 3.0]
    """
    w2, X = np.asarray(w2, dtype=float), np.asarray(X, dtype=float)

    def fit(wt):
        s = np.sqrt(wt)
        c = np.linalg.lstsq(X * s[:, None], w2 * s, rcond=None)[0]
        for j in (1, 0):
            if c[j] < 0:
                x = X[:, 1 - j]
                out = np.zeros(2)
                out[1 - j] = max((wt * x) @ w2 / ((wt * x) @ x), 0.0)
                return out
        return c

    c = fit(np.ones_like(w2))
    for _ in range(iterations if fgls else 0):
        v = X @ c
        if not np.all(v > 0):
            break
        c = fit(1.0 / v ** 2)
    return c


def prediction_weights(X: np.ndarray, c: np.ndarray, z: np.ndarray, *, fgls: bool = True
                       ) -> np.ndarray:
    """Weights ``h`` of the two-parameter fit at ``z``: ``z @ c = h @ w2`` when no bound binds.

    The fitted variance at ``z`` is linear in the squared draws: ``h = Ω X (X' Ω X)^{-1} z``,
    ``Ω = diag(1 / v^2)`` the FGLS weights at the fit (their noise ignored, as in
    :func:`variance_prediction`) or the identity (``fgls=False``). Both columns are kept when
    a bound binds (``c_j = 0``): the bound is an estimate at the edge, not knowledge, and
    with several treated units dropping the common part's column gave a treated set of
    large total size a near-zero variance with many degrees of freedom (p-values of 1e-4
    under the null in ``sim_size_extremes --several``); with the column kept, ``d`` is small
    there and the interval wide.
    """
    v = X @ c
    if not np.any(v > 0):
        return np.zeros(len(X))
    om = 1.0 / np.where(v > 0, v, np.inf) ** 2 if fgls else np.ones(len(X))
    return (X * om[:, None]) @ np.linalg.pinv(X.T @ (X * om[:, None])) @ np.asarray(z)


def dependent_df(v0: float, h: np.ndarray, F, *, block: int = 512) -> float:
    """Satterthwaite degrees of freedom of ``v0 = h @ w2`` when the draws are correlated.

    Placebo assignments share control units, so their draws are not independent: with
    ``Cov(b_r, b_s) = C_rs`` and normal draws ``Cov(b_r^2, b_s^2) = 2 C_rs^2``, so
    ``var(v0) = 2 h' (C∘C) h`` and ``d = 2 v0^2 / var(v0) = v0^2 / h' (C∘C) h``. ``F``
    (draws x cells, dense or scipy sparse) is a factor of the draws' covariance,
    ``C = F F'`` (a draw's loading on each unit-period cell times the cell's fitted SD).
    With independent draws (``C`` diagonal, ``C_rr = v_r``) this is the
    ``d = 2 v0^2 / s0^2`` of :func:`variance_prediction`. ``C`` is formed in row blocks.

    Examples
    --------
    >>> # four independent draws of variance 2, the variance their mean: d = 4
    >>> F = np.sqrt(2.0) * np.eye(4)
    >>> round(dependent_df(2.0, np.full(4, 0.25), F), 10)
    4.0
    >>> # the same draw four times: one draw's worth of information, d = 1
    >>> round(dependent_df(2.0, np.full(4, 0.25), np.sqrt(2.0) * np.ones((4, 1))), 10)
    1.0
    """
    h = np.asarray(h, dtype=float)
    Ft = F.T
    q = 0.0
    for lo in range(0, len(h), block):
        C = F[lo:lo + block] @ Ft
        C = C.toarray() if hasattr(C, "toarray") else np.asarray(C)
        q += float(h[lo:lo + block] @ (C ** 2) @ h)
    return float(v0 ** 2 / q) if q > 0 else np.inf


# -- reporting shared by the studentised methods (one or several treated units) ------------------
def t_table(estimates: pd.Series, se: np.ndarray, df: np.ndarray, level: float
            ) -> tuple[pd.DataFrame, Callable[[float], pd.DataFrame]]:
    """Tidy table and interval function of ``estimate / se`` against ``t(df)``, per term."""
    est = estimates.to_numpy(dtype=float)

    def ci(lv: float) -> pd.DataFrame:
        h = stats.t.isf((1 - lv) / 2, df) * se
        return pd.DataFrame({"lower": est - h, "upper": est + h}, index=estimates.index)

    c = ci(level)
    stat = est / se
    tidy = pd.DataFrame({"estimate": est, "std_error": se, "statistic": stat,
                         "p_value": 2 * stats.t.sf(np.abs(stat), df),
                         "conf_low": c["lower"].to_numpy(), "conf_high": c["upper"].to_numpy()},
                        index=estimates.index)
    return tidy, ci


def draws_covariance(draws: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Covariance of the contrasts: the placebo draws' correlation scaled to ``se``.

    The rescaled placebo draws (J x m, each column on the treated unit's scale) are draws of
    the estimates' error under the null, so their uncentred second moments estimate the
    covariance; the diagonal is replaced by the studentised variances ``se^2`` so that the
    covariance and the reported standard errors agree. This is what lets the sensitivity
    analysis (:func:`ips_study.inference.honest.from_event_study`) run on ``placebo-t``.
    """
    S = draws.T @ draws / max(len(draws), 1)
    d = np.sqrt(np.diag(S))
    with np.errstate(divide="ignore", invalid="ignore"):
        R = S / np.outer(d, d)
    R[~np.isfinite(R)] = 0.0
    np.fill_diagonal(R, 1.0)
    return R * np.outer(se, se)
