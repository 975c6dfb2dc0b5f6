"""Donor weights of the synthetic control method (Abadie, Diamond & Hainmueller 2010).

Two solvers:

* :func:`simplex_least_squares` -- ``min_w ||sqrt(v) (x1 - X0 w)||^2`` over the simplex,
  defined in :mod:`ips_study.simplex` and re-exported here;
* :func:`nested_weights` -- the original ADH nested problem: predictor importance weights
  ``V`` (diagonal, non-negative, summing to one) chosen to minimise the pre-period outcome
  mean squared prediction error of the ``W(V)`` they imply (as in the R/Stata ``Synth``).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ips_study.simplex import simplex_least_squares

__all__ = ["simplex_least_squares", "nested_weights"]


def nested_weights(X0: np.ndarray, x1: np.ndarray, Z0: np.ndarray, z1: np.ndarray, *,
                   max_iter: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """ADH nested optimisation of predictor weights ``V`` and donor weights ``W``.

    Predictors are rescaled to unit standard deviation across units first (as ``Synth``
    does), ``V`` is parametrised by a softmax and searched with Nelder-Mead from equal
    weights and from the inverse-variance start; the better optimum is kept.

    Parameters
    ----------
    X0, x1 : predictors of donors (k x J) and the treated unit (k,)
    Z0, z1 : pre-period outcomes of donors (T0 x J) and the treated unit (T0,)

    Returns
    -------
    w : ndarray (J,), v : ndarray (k,)
    """
    sd = np.std(np.column_stack([X0, x1]), axis=1, ddof=1)
    sd[sd == 0] = 1.0
    X0s, x1s = X0 / sd[:, None], x1 / sd
    k = X0.shape[0]

    def loss(theta):
        v = np.exp(theta - theta.max())
        v /= v.sum()
        w = simplex_least_squares(X0s, x1s, v)
        r = z1 - Z0 @ w
        return float(r @ r) / len(r)

    best = None
    starts = [np.zeros(k)]
    spread = np.var(X0s, axis=1) + 1e-12
    starts.append(-np.log(spread) + np.log(spread).mean())
    for theta0 in starts:
        # tolerance relative to the starting loss: V only matters through the fit it buys
        fatol = 1e-7 * max(loss(theta0), 1e-12)
        opt = minimize(loss, theta0, method="Nelder-Mead",
                       options={"maxiter": max_iter, "xatol": 1e-3, "fatol": fatol})
        if best is None or opt.fun < best.fun:
            best = opt
    v = np.exp(best.x - best.x.max())
    v /= v.sum()
    return simplex_least_squares(X0s, x1s, v), v
