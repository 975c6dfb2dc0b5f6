"""Donor weights of the synthetic control method (Abadie, Diamond & Hainmueller 2010).

Two solvers:

* :func:`simplex_least_squares` -- ``min_w ||sqrt(v) (x1 - X0 w)||^2`` over the simplex
  (``w >= 0``, ``sum(w) = 1``), solved exactly by SciPy's non-negative least squares on a
  system with the adding-up constraint appended as a heavily weighted row, then refined by
  an active-set polish so the constraint holds to machine precision;
* :func:`nested_weights` -- the original ADH nested problem: predictor importance weights
  ``V`` (diagonal, non-negative, summing to one) chosen to minimise the pre-period outcome
  mean squared prediction error of the ``W(V)`` they imply (as in the R/Stata ``Synth``).

Examples
--------
>>> import numpy as np
>>> X0 = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]])
>>> w = simplex_least_squares(X0, np.array([0.5, 0.5]))
>>> np.round(w, 6).tolist()
[0.5, 0.5, 0.0]
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, nnls


def simplex_least_squares(X0: np.ndarray, x1: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """Weights ``w`` on the simplex minimising ``sum_k v_k (x1_k - (X0 w)_k)^2``.

    Parameters
    ----------
    X0 : ndarray (k, J)
        Donor characteristics (rows: predictors or pre-periods; columns: donors).
    x1 : ndarray (k,)
        Treated unit characteristics.
    v : ndarray (k,), optional
        Non-negative importance weights; default equal.
    """
    k, j = X0.shape
    sv = np.ones(k) if v is None else np.sqrt(np.asarray(v, float))
    a = X0 * sv[:, None]
    b = x1 * sv
    # the adding-up constraint enters as one heavily weighted row; the polish step then
    # removes the small slack this penalty leaves
    scale = max(1.0, float(np.abs(a).max()))
    big = 1e4 * scale
    a_aug = np.vstack([a, np.full((1, j), big)])
    b_aug = np.append(b, big)
    w, _ = nnls(a_aug, b_aug, maxiter=50 * j)
    return _polish(a, b, w)


def _polish(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Solve the equality-constrained least squares on the support of ``w`` exactly."""
    support = np.flatnonzero(w > 1e-12)
    if len(support) == 0:
        return np.full(len(w), 1.0 / len(w))
    s = a[:, support]
    kkt = np.block([[s.T @ s, np.ones((len(support), 1))],
                    [np.ones((1, len(support))), np.zeros((1, 1))]])
    rhs = np.append(s.T @ b, 1.0)
    try:
        sol = np.linalg.solve(kkt, rhs)[: len(support)]
    except np.linalg.LinAlgError:
        sol = None
    out = np.zeros(len(w))
    if sol is not None and np.all(sol >= -1e-10):
        out[support] = np.clip(sol, 0, None)
    else:
        out[support] = np.clip(w[support], 0, None)
    return out / out.sum()


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
