"""Least squares over the probability simplex: the solver behind synthetic-control weights.

``min_w ||sqrt(v) (x1 - X0 w)||^2`` subject to ``w >= 0`` and ``sum(w) = 1``, solved by
SciPy's non-negative least squares on a system with the adding-up constraint appended as a
heavily weighted row, then refined by an active-set polish so the constraint holds to
machine precision.

It sits low in the package (no ``ips_study`` imports) because both the synthetic-control
design (:mod:`ips_study.designs.synth_weights`) and conformal inference
(:mod:`ips_study.inference.conformal`) use it, and ``inference`` must not import ``designs``.

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
from scipy.optimize import nnls


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
