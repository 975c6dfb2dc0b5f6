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
