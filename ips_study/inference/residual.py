"""Conley-Taber and Ferman-Pinto inference from control-unit residuals.

**Conley & Taber (2011)**, "Inference with 'difference in differences' with a small number
of policy changes", REStat 93(1). With one treated unit the DiD estimate converges not to
the effect but to the effect plus ``W_1 = sum_t dd_t eta_1t / sum_t dd_t^2``, a weighted
contrast of the treated unit's own errors (``dd`` = its treatment path net of its mean).
Its distribution is estimated from the control units: apply the treated unit's treatment
path to each control's unit-period mean residuals, ``W_j = sum_t dd_t eta_jt / sum_t dd_t^2``.
Assumes the errors of all units are identically distributed (in particular, homoskedastic
across municipalities) and independent across units, with many controls (J -> infinity).

**Ferman & Pinto (2019)**, "Inference in differences-in-differences with few treated groups
and heteroskedasticity", REStat 101(3). When municipality means are averages over M_j
persons, ``var(W_j)`` falls with M_j and Conley-Taber over-rejects for a small treated unit
and under-rejects for a large one. Assuming ``var(W_j | M_j) = A + B / M_j``, A and B are
estimated by regressing ``W_j^2`` on ``(1, 1/M_j)`` over the controls, and each control's
``W_j`` is rescaled to the treated unit's size: ``W_j * sqrt(v(M_1) / v(M_j))``. If the fitted
B is negative (no size-driven heteroskedasticity) it is set to 0, which gives Conley-Taber;
if A is negative it is set to 0 and B refitted through the origin.

Both report, with the finite-J rank form of the test (exact under exchangeability of the
rescaled draws): p = ``(1 + #{|W_j| >= |b|}) / (J + 1)``, interval ``b +/- h`` inverting it,
and ``std_error`` = the estimated standard deviation of ``W_1``.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel, fit_panel
>>> res = fit_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig(),
...                 inference="ferman-pinto")
>>> sorted(res.extras["variance_function"]["treated_post"])
['A', 'B']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import InferenceOutput, rank_table


def residual_draws(fit) -> tuple[np.ndarray, np.ndarray]:
    """Conley-Taber draws ``W_j`` (J x p) for the control units, and their unit codes."""
    eta, wsum = fit.cell_means(fit.resid)
    T1 = wsum[fit.treated]
    seen = T1 > 0
    B = fit.period_timing()[seen]
    n1 = T1[seen]
    dd = B - (n1 @ B) / n1.sum()
    ddw = dd * n1[:, None]
    bread = np.linalg.pinv(dd.T @ ddw)
    controls = np.flatnonzero(np.arange(fit.n_units) != fit.treated)
    e = np.nan_to_num(eta[controls][:, seen])
    return e @ ddw @ bread.T, controls


def conley_taber_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95
                           ) -> InferenceOutput:
    """Conley-Taber (2011) p-values and intervals for each contrast."""
    W, codes = residual_draws(fit)
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    draws = W @ L.T
    estimates = pd.Series(L @ fit.beta[: fit.p], index=contrasts.index)
    se = np.sqrt(np.mean(draws ** 2, axis=0))
    tidy, ci = rank_table(estimates, draws, level, se)
    note = (f"Conley-Taber: error distribution from {len(codes)} control municipalities' "
            "residuals; assumes errors identically distributed across municipalities.")
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=(note,), null_draws=draws,
                           extras={"n_controls": len(codes)})


def variance_function(w2: np.ndarray, inv_m: np.ndarray) -> tuple[float, float]:
    """Fit ``E[W^2 | M] = A + B / M`` by least squares with A, B >= 0 (see module doc)."""
    X = np.column_stack([np.ones_like(inv_m), inv_m])
    A, B = np.linalg.lstsq(X, w2, rcond=None)[0]
    if B < 0:
        return float(np.mean(w2)), 0.0
    if A < 0:
        return 0.0, float(inv_m @ w2 / (inv_m @ inv_m))
    return float(A), float(B)


def ferman_pinto_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95
                           ) -> InferenceOutput:
    """Ferman-Pinto (2019) heteroskedasticity-corrected Conley-Taber inference."""
    W, codes = residual_draws(fit)
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    raw = W @ L.T
    sizes = fit.unit_sizes()
    inv_m = 1.0 / sizes[codes]
    inv_m1 = 1.0 / sizes[fit.treated]
    draws = np.empty_like(raw)
    se = np.empty(raw.shape[1])
    fits = {}
    for i in range(raw.shape[1]):
        A, B = variance_function(raw[:, i] ** 2, inv_m)
        v_j = A + B * inv_m
        v_1 = A + B * inv_m1
        draws[:, i] = raw[:, i] * np.sqrt(v_1 / v_j)
        se[i] = np.sqrt(v_1)
        fits[str(contrasts.index[i])] = {"A": A, "B": B}
    estimates = pd.Series(L @ fit.beta[: fit.p], index=contrasts.index)
    tidy, ci = rank_table(estimates, draws, level, se)
    note = (f"Ferman-Pinto: Conley-Taber draws from {len(codes)} controls rescaled to the "
            f"treated municipality's size ({sizes[fit.treated]:.0f} per period) with "
            "var(W|M) = A + B/M.")
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=(note,), null_draws=draws,
                           extras={"variance_function": fits, "n_controls": len(codes)})
