"""Two-group two-period ATT estimators for panel data with their influence functions.

These are the building blocks of the Callaway-Sant'Anna group-time effects in
:mod:`ips_study.designs.staggered`: for one (group, period) cell they compare the change in
the outcome of the units first treated in that group with the change of the comparison
units. Three estimators are offered, following Sant'Anna & Zhao (2020), "Doubly robust
difference-in-differences estimators", *Journal of Econometrics* 219(1):

* ``"reg"`` -- outcome regression (Heckman, Ichimura & Todd 1997);
* ``"ipw"`` -- normalised (Hajek) inverse probability weighting (Abadie 2005);
* ``"dr"``  -- the doubly robust combination (their equation 3.1, panel case).

Each returns the ATT and its influence function (one value per unit, mean zero), from
which analytic standard errors follow as ``sqrt(mean(psi**2) / n)``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> d = (rng.random(400) < 0.3).astype(float)
>>> dy = 1.0 + 2.0 * d + rng.normal(size=400)
>>> att, psi = att_2x2(dy, d, np.ones((400, 1)), np.ones(400), method="dr")
>>> bool(abs(att - 2.0) < 0.4), bool(abs(psi.mean()) < 1e-12)
(True, True)
"""

from __future__ import annotations

import numpy as np

METHODS = ("dr", "ipw", "reg")


def _logit(d: np.ndarray, x: np.ndarray, w: np.ndarray, *, max_iter: int = 50,
           tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression by Newton-Raphson (the glm fit used by R ``DRDID``).

    Returns fitted probabilities and ``(X'WX/n)^-1`` (``vcov(glm) * n`` in R).
    """
    n, k = x.shape
    beta = np.zeros(k)
    # start the intercept-only model at the weighted share, which converges in a few steps
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -35, 35)
        p = 1.0 / (1.0 + np.exp(-eta))
        wp = w * p * (1 - p)
        hess = (x * wp[:, None]).T @ x
        grad = x.T @ (w * (d - p))
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    eta = np.clip(x @ beta, -35, 35)
    p = 1.0 / (1.0 + np.exp(-eta))
    hess = (x * (w * p * (1 - p))[:, None]).T @ x
    return p, np.linalg.inv(hess / n)


def _wols(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, n: int):
    """Weighted OLS of the outcome change on covariates among comparison units.

    Returns fitted values for every unit and the asymptotic linear representation of the
    coefficients (n x k).
    """
    wc = w * (1 - d)
    xtx = (x * wc[:, None]).T @ x
    coef = np.linalg.solve(xtx, (x * wc[:, None]).T @ dy)
    fitted = x @ coef
    xpx_inv = np.linalg.inv(xtx / n)
    alr = (wc * (dy - fitted))[:, None] * x @ xpx_inv
    return fitted, alr


def propensity_score(d: np.ndarray, x: np.ndarray, w: np.ndarray):
    """Logit propensity score fit, reusable across cells with the same units and covariates.

    Returns ``(ps, hess_inv)`` as expected by :func:`att_2x2`'s ``propensity`` argument.
    """
    return _logit(d, x, w / w.mean())


def att_2x2(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, *,
            method: str = "dr", propensity=None) -> tuple[float, np.ndarray]:
    """ATT of a two-group, two-period panel comparison and its influence function.

    Parameters
    ----------
    dy : ndarray (n,)
        Outcome change between the period of interest and the base period.
    d : ndarray (n,)
        1 for units of the treated group, 0 for comparison units.
    x : ndarray (n, k)
        Covariates at the base period, including a constant column first.
    w : ndarray (n,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}
        Doubly robust, inverse probability weighting or outcome regression.
    propensity : tuple, optional
        A :func:`propensity_score` result for the same ``d``, ``x`` and ``w`` (the logit
        does not depend on the outcome, so cells sharing units and base period share it).

    Returns
    -------
    att : float
    psi : ndarray (n,)
        Influence function, so that ``sqrt(mean(psi**2) / n)`` is the standard error.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n = len(d)
    w = w / w.mean()
    if x.shape[1] == 1:
        return _att_no_covariates(dy, d, w)
    w_treat = w * d
    if method == "reg":
        fitted, alr = _wols(dy, d, x, w, n)
        eta_treat = np.mean(w_treat * dy) / np.mean(w_treat)
        eta_cont = np.mean(w_treat * fitted) / np.mean(w_treat)
        inf_treat = (w_treat * dy - w_treat * eta_treat) / np.mean(w_treat)
        m1 = np.mean(w_treat[:, None] * x, axis=0)
        inf_cont = (w_treat * fitted - w_treat * eta_cont + alr @ m1) / np.mean(w_treat)
        return float(eta_treat - eta_cont), inf_treat - inf_cont
    ps, hess_inv = propensity if propensity is not None else _logit(d, x, w)
    ps = np.minimum(ps, 1 - 1e-16)
    w_cont = w * ps * (1 - d) / (1 - ps)
    alr_ps = (w * (d - ps))[:, None] * x @ hess_inv
    if method == "ipw":
        eta_treat = np.mean(w_treat * dy) / np.mean(w_treat)
        eta_cont = np.mean(w_cont * dy) / np.mean(w_cont)
        inf_treat = (w_treat * dy - w_treat * eta_treat) / np.mean(w_treat)
        m2 = np.mean((w_cont * (dy - eta_cont))[:, None] * x, axis=0)
        inf_cont = (w_cont * dy - w_cont * eta_cont + alr_ps @ m2) / np.mean(w_cont)
        return float(eta_treat - eta_cont), inf_treat - inf_cont
    fitted, alr = _wols(dy, d, x, w, n)
    resid = dy - fitted
    eta_treat = np.mean(w_treat * resid) / np.mean(w_treat)
    eta_cont = np.mean(w_cont * resid) / np.mean(w_cont)
    m1 = np.mean(w_treat[:, None] * x, axis=0)
    inf_treat = (w_treat * resid - w_treat * eta_treat - alr @ m1) / np.mean(w_treat)
    m2 = np.mean((w_cont * (resid - eta_cont))[:, None] * x, axis=0)
    m3 = np.mean(w_cont[:, None] * x, axis=0)
    inf_cont = (w_cont * resid - w_cont * eta_cont + alr_ps @ m2 - alr @ m3) / np.mean(w_cont)
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def _att_no_covariates(dy: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Without covariates all three estimators reduce to a difference in mean changes.

    The closed form avoids a logit fit per cell; its influence function is the one the
    general formulas give with a constant-only design (the estimation-effect terms vanish).
    """
    wt, wc = w * d, w * (1 - d)
    mt, mc = np.mean(wt), np.mean(wc)
    eta_t = np.mean(wt * dy) / mt
    eta_c = np.mean(wc * dy) / mc
    psi = wt * (dy - eta_t) / mt - wc * (dy - eta_c) / mc
    return float(eta_t - eta_c), psi
