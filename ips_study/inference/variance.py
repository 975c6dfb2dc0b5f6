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

import numpy as np


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
