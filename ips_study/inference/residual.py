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
if A is negative it is set to 0 and B refitted through the origin. By default the fit is
feasible GLS (weights ``1 / v_j^2``, iterated): ``W_j^2`` of small units is very noisy
(``var(W_j^2) = 2 v_j^2`` under normality), and plain OLS (``fgls=False``) lets it dominate
the intercept ``A`` on which a large treated unit's variance rests.

Level: the draws are the cell-level (municipality-period) contrast. On a municipality-level
(aggregate) fit that is exactly the estimator's error. On a person-level fit with person
fixed effects in an open population it is not: persons seen only before or only after the
start carry no information, so the estimator's variance is larger than the cell formula
gives (on the synthetic generator the draws are about half its standard deviation). Plain
Conley-Taber can then look right by accident (too-small draws against a treated unit larger
than most controls), and Ferman-Pinto, which extrapolates to the treated unit's size,
over-rejects. A note says so; use :mod:`.studentized` (``placebo-t``) at person level.

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
from .assignments import several_treated_inference
from .placebo_engine import draw_assignments, run_placebo
from .variance import variance_function  # noqa: F401  (also its public name here)


#: note added to Conley-Taber / Ferman-Pinto output on person-level fits
PERSON_LEVEL_NOTE = (
    "person-level fit: the draws apply the treated unit's cell weights to unit-period mean "
    "residuals, which ignores that person fixed effects discard persons not seen on both "
    "sides of the start; on the synthetic generator the draws are then about half the "
    "estimator's standard deviation and Ferman-Pinto over-rejects (docs/inference.md). "
    "Prefer 'placebo-t' or a municipality-level fit.")


def has_persons(fit) -> bool:
    """True for a person-level fit: the first fixed effect has more levels than municipalities.

    Persons may move between municipalities (open population).
    """
    return len(fit.fe) >= 2 and int(fit.fe[0].max()) + 1 > fit.n_units


def residual_draws(fit) -> tuple[np.ndarray, np.ndarray]:
    """Conley-Taber draws ``W_j`` (J x p) for the control units, and their unit codes.

    Read through the one placebo engine (:mod:`.placebo_engine`): each control in turn is an
    assignment of the single treated slot, all J of them used, and the draws come at once
    from the closed form below.
    """
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
    W = e @ ddw @ bread.T
    run = run_placebo(draw_assignments(len(controls), 1, reps=None),
                      batch=lambda units: W[units[:, 0]])
    return run.draws, controls


def conley_taber_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95,
                           reps: int | None = None, seed: int | None = None
                           ) -> InferenceOutput:
    """Conley-Taber (2011) p-values and intervals for each contrast.

    ``reps``/``seed``: placebo assignments with several treated units (:mod:`.assignments`).
    """
    if len(fit.treated_units) > 1:
        return several_treated_inference(fit, contrasts, method="conley-taber", level=level,
                                         reps=reps, seed=seed)
    W, codes = residual_draws(fit)
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    draws = W @ L.T
    estimates = pd.Series(L @ fit.beta[: fit.p], index=contrasts.index)
    se = np.sqrt(np.mean(draws ** 2, axis=0))
    tidy, ci = rank_table(estimates, draws, level, se)
    note = (f"Conley-Taber: error distribution from {len(codes)} control municipalities' "
            "residuals; assumes errors identically distributed across municipalities.")
    notes = (note, PERSON_LEVEL_NOTE) if has_persons(fit) else (note,)
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=notes, null_draws=draws,
                           extras={"n_controls": len(codes)})


def ferman_pinto_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95,
                           fgls: bool = True, reps: int | None = None,
                           seed: int | None = None) -> InferenceOutput:
    """Ferman-Pinto (2019) heteroskedasticity-corrected Conley-Taber inference.

    ``fgls`` fits the variance function by feasible GLS (default) instead of OLS
    (``fgls=False``, the plain version); see :func:`variance_function`. ``reps``/``seed``:
    placebo assignments with several treated units (:mod:`.assignments`).
    """
    if len(fit.treated_units) > 1:
        return several_treated_inference(fit, contrasts, method="ferman-pinto", level=level,
                                         reps=reps, seed=seed, fgls=fgls)
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
        A, B = variance_function(raw[:, i] ** 2, inv_m, fgls=fgls)
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
    notes = (note, PERSON_LEVEL_NOTE) if has_persons(fit) else (note,)
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=notes, null_draws=draws,
                           extras={"variance_function": fits, "n_controls": len(codes),
                                   "variance_fit": "fgls" if fgls else "ols"})
