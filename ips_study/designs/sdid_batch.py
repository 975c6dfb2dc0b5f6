"""Synthetic DiD weights for many problems of one shape at once (placebo replications).

The placebo variance of :mod:`ips_study.designs.sdid` re-estimates the weights for a few
hundred permutations of the control units. Frank-Wolfe needs thousands of cheap iterations
per problem, so a Python loop per problem is dominated by interpreter overhead; here every
iteration advances all problems of the batch together with array operations, and each
problem stops by the same rule as the single-problem solver (it is frozen once its
objective decreases by less than ``min_decrease^2``).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> Ys = rng.normal(size=(4, 10, 8)).cumsum(axis=2)
>>> est, omega, lam = solve_weights_batch(Ys, 9, 6)
>>> est.shape, np.allclose(omega.sum(axis=1), 1), np.allclose(lam.sum(axis=1), 1)
((4,), True, True)
"""

from __future__ import annotations

import numpy as np


def _fw_batch(y: np.ndarray, zeta: np.ndarray, *, intercept: bool, start: np.ndarray | None,
              min_decrease: np.ndarray, max_iter: int) -> np.ndarray:
    """Batched version of ``sdid._simplex_weights``; ``y`` is (B, n, k + 1)."""
    nb, n_rows, k1 = y.shape
    k = k1 - 1
    x = np.full((nb, k), 1.0 / k) if start is None else start.astype(float).copy()
    if intercept:
        y = y - y.mean(axis=1, keepdims=True)
    a, b = y[:, :, :k], y[:, :, k]
    gram = np.einsum("bnk,bnj->bkj", a, a)
    ab = np.einsum("bnk,bn->bk", a, b)
    bb = np.einsum("bn,bn->b", b, b)
    diag = np.diagonal(gram, axis1=1, axis2=2).copy()
    eta = n_rows * zeta ** 2
    gx = np.einsum("bkj,bj->bk", gram, x)
    prev = np.full(nb, np.inf)
    active = np.ones(nb, bool)
    for it in range(max_iter):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        r = np.arange(len(idx))
        xa, gxa = x[idx], gx[idx]
        half_grad = gxa - ab[idx] + eta[idx, None] * xa
        i = half_grad.argmin(axis=1)
        dxdx = (xa * xa).sum(axis=1) - 2.0 * xa[r, i] + 1.0
        slope = half_grad[r, i] - (half_grad * xa).sum(axis=1)
        derr2 = diag[idx, i] - 2.0 * gxa[r, i] + (xa * gxa).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.clip(-slope / (derr2 + eta[idx] * dxdx), 0.0, 1.0)
        step = np.where(dxdx > 0, step, 0.0)
        xa = xa * (1.0 - step)[:, None]
        xa[r, i] += step
        gxa = (1.0 - step)[:, None] * gxa + step[:, None] * gram[idx, :, i]
        x[idx], gx[idx] = xa, gxa
        val = (zeta[idx] ** 2 * (xa * xa).sum(axis=1)
               + ((xa * gxa).sum(axis=1) - 2.0 * (xa * ab[idx]).sum(axis=1) + bb[idx]) / n_rows)
        if it >= 1:
            active[idx[prev[idx] - val <= min_decrease[idx] ** 2]] = False
        prev[idx] = val
    return x


def _sparsify(v: np.ndarray) -> np.ndarray:
    v = np.where(v <= v.max(axis=1, keepdims=True) / 4, 0.0, v)
    return v / v.sum(axis=1, keepdims=True)


def _fit(y, zeta, intercept, min_dec, max_iter, start):
    w = _fw_batch(y, zeta, intercept=intercept, start=start, min_decrease=min_dec,
                  max_iter=min(100, max_iter))
    return _fw_batch(y, zeta, intercept=intercept, start=_sparsify(w), min_decrease=min_dec,
                     max_iter=max_iter)


def solve_weights_batch(Ys: np.ndarray, n0: int, t0: int, *, method: str = "sdid",
                        max_iter: int = 10_000, start_omega: np.ndarray | None = None,
                        start_lambda: np.ndarray | None = None):
    """``sdid.solve_weights`` for a stack ``Ys`` (B, N, T) of problems of one shape.

    Returns arrays ``estimate`` (B,), ``omega`` (B, n0) and ``lambda`` (B, t0).
    """
    nb, n, t = Ys.shape
    n1, t1 = n - n0, t - t0
    if method == "did":
        omega, lam = np.full((nb, n0), 1.0 / n0), np.full((nb, t0), 1.0 / t0)
    else:
        sigma = np.std(np.diff(Ys[:, :n0, :t0], axis=2).reshape(nb, -1), axis=1, ddof=1)
        min_dec = 1e-5 * sigma
        top = np.concatenate([Ys[:, :n0, :t0], Ys[:, :n0, t0:].mean(axis=2, keepdims=True)], axis=2)
        bottom = np.concatenate([Ys[:, n0:, :t0].mean(axis=1),
                                 Ys[:, n0:, t0:].mean(axis=(1, 2))[:, None]], axis=1)
        yc = np.concatenate([top, bottom[:, None, :]], axis=1)
        if method == "sdid":
            lam = _fit(yc[:, :n0, :], 1e-6 * sigma, True, min_dec, max_iter, start_lambda)
            zeta_omega, intercept = (n1 * t1) ** 0.25 * sigma, True
        else:
            lam, zeta_omega, intercept = np.zeros((nb, t0)), 1e-6 * sigma, False
        omega = _fit(np.transpose(yc[:, :, :t0], (0, 2, 1)), zeta_omega, intercept, min_dec,
                     max_iter, start_omega)
    left = np.concatenate([-omega, np.full((nb, n1), 1.0 / n1)], axis=1)
    right = np.concatenate([-lam, np.full((nb, t1), 1.0 / t1)], axis=1)
    est = np.einsum("bn,bnt,bt->b", left, Ys, right)
    return est, omega, lam
