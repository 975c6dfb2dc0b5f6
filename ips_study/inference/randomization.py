"""Placebo-in-space randomization inference (Abadie, Diamond & Hainmueller 2010).

Treatment is re-assigned, in turn, to each of the J control municipalities and the DiD is
re-estimated on the controls alone (the truly treated municipality is left out so that its
effect cannot contaminate the placebo fits). The p-value of the treated estimate is its rank
among the J + 1 estimates, ``(1 + #{|b_j| >= |b|}) / (J + 1)``; the interval inverts that test
under a constant additive effect. ``std_error`` is reported as the root mean square of the
placebo estimates (their spread around the null of zero).

The RMSPE-ratio variant (Abadie et al. 2010) ranks instead the ratio of post- to
pre-period root mean squared "prediction error" of each unit's outcome gap against the
other controls, which down-weights units whose pre-period fit is already poor.

Assumption: under the null, the treated municipality's estimate is exchangeable with the
placebo estimates, i.e. its error is drawn from the same distribution. That fails when the
treated unit is much larger or smaller than typical controls (its estimate is less or more
noisy); see :mod:`.residual` for the Ferman-Pinto correction. With J + 1 units the smallest
attainable p-value is 1/(J + 1), so J >= 19 is needed for a 5% test.

Reuse: the controls-only panel is demeaned once; for each placebo only the treatment
columns change. On a balanced, unweighted two-way panel the placebo estimate needs only sums
over the placebo unit's own rows (the demeaned treatment's cross-products follow from group
sums), so all J placebos together cost one pass over the data.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel, fit_panel
>>> res = fit_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig())
>>> pl = res.with_inference("placebo")
>>> pl.extras["n_placebos"], 0 < pl.extras["rmspe_p_value"] <= 1
(20, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import InferenceOutput
from .assignments import several_treated, several_treated_inference
from .placebo_engine import draw_assignments, rank_summary, run_placebo
from .placebo_fit import _controls_piece, _solve, placebo_batch


def _nested_owner(person: np.ndarray, unit: np.ndarray, n_persons: int):
    """Unit of each person if every person stays in one unit (no movers), else None."""
    owner = np.empty(n_persons, dtype=np.intp)
    owner[person] = unit
    return owner if np.array_equal(owner[person], unit) else None


def _by_unit(keys, values, n):
    return np.bincount(keys, weights=values, minlength=n)


def _fast_cross_products(dm, unit, U, B, yt, Zt):
    """D~'D~, D'y~ and D'Z~ for every placebo unit at once (balanced, no weights, no movers).

    With ``D_j = 1[unit = j] B``: ``D~'D~ = D'D - D'P_i D - D'P_t D + (1'D)(1'D)'/n``; each term is
    a sum over unit j's rows, so all units come from a few passes of group sums.
    """
    n_i, n_t = dm.levels
    person, period = dm.fe
    owner = _nested_owner(person, unit, n_i)
    if owner is None:
        return None
    p, q = B.shape[1], Zt.shape[1]
    S = np.column_stack([np.bincount(person, weights=B[:, c], minlength=n_i) for c in range(p)])
    cell = unit * n_t + period
    C = np.stack([np.bincount(cell, weights=B[:, c], minlength=U * n_t).reshape(U, n_t)
                  for c in range(p)], axis=2)
    DtD = np.empty((U, p, p))
    for c in range(p):
        for d in range(c, p):
            v = (_by_unit(unit, B[:, c] * B[:, d], U)
                 - _by_unit(owner, S[:, c] * S[:, d], U) / n_t
                 - np.einsum("jt,jt->j", C[:, :, c], C[:, :, d]) / n_i)
            DtD[:, c, d] = DtD[:, d, c] = v
    tot = C.sum(axis=1)
    DtD += np.einsum("jc,jd->jcd", tot, tot) / (n_i * n_t)
    Dty = np.column_stack([_by_unit(unit, B[:, c] * yt, U) for c in range(p)])
    DtZ = np.empty((U, p, q))
    for c in range(p):
        for e in range(q):
            DtZ[:, c, e] = _by_unit(unit, B[:, c] * Zt[:, e], U)
    return DtD, Dty, DtZ


def placebo_estimates(fit) -> tuple[np.ndarray, np.ndarray]:
    """Placebo treatment coefficients (J x p) and the control unit codes (J,)."""
    rows, dm, yt, Zt = _controls_piece(fit)
    unit = fit.unit[rows]
    B = fit.B[rows]
    w = None if fit.weights is None else fit.weights[rows]
    controls = np.flatnonzero(np.bincount(unit, minlength=fit.n_units) > 0)
    ZtZ = Zt.T @ Zt if w is None else (Zt * w[:, None]).T @ Zt
    Zty = Zt.T @ yt if w is None else (Zt * w[:, None]).T @ yt
    out = np.empty((len(controls), fit.p))
    fast = _fast_cross_products(dm, unit, fit.n_units, B, yt, Zt) if dm.balanced else None
    if fast is not None:
        DtD, Dty, DtZ = fast
        for j, u in enumerate(controls):
            out[j] = _solve(DtD[u], Dty[u], DtZ[u], ZtZ, Zty)
        return out, controls
    batch = placebo_batch(fit, controls, (rows, dm, yt, Zt))
    if batch is not None:
        return batch, controls
    for j, u in enumerate(controls):
        D = (unit == u)[:, None] * B
        Dt = dm(D)
        Dw = Dt if w is None else Dt * w[:, None]
        out[j] = _solve(Dw.T @ Dt, Dw.T @ yt, Dw.T @ Zt, ZtZ, Zty)
    return out, controls


def rmspe_ratios(fit) -> pd.Series:
    """Post/pre RMSPE ratio of every unit's outcome gap (treated and controls).

    The gap of unit u in period t is its (weighted) mean outcome, net of covariates, minus the
    mean of the control units other than u, centred on its pre-period mean (the DiD unit
    effect). RMSPE is the root mean square of the gap over pre or post periods.
    """
    gamma = fit.beta[fit.p:]
    ynet = fit.y - (fit.Z @ gamma if len(gamma) else 0.0)
    mean, wsum = fit.cell_means(ynet)
    post = fit.period_post()
    is_control = np.arange(fit.n_units) != fit.treated
    num = np.nansum(np.where(is_control[:, None], mean * wsum, 0.0), axis=0)
    den = np.sum(np.where(is_control[:, None], wsum, 0.0), axis=0)
    ratios = np.empty(fit.n_units)
    for u in range(fit.n_units):
        if is_control[u]:
            others = (num - np.nan_to_num(mean[u] * wsum[u])) / (den - wsum[u])
        else:
            others = num / den
        gap = mean[u] - others
        gap = gap - np.nanmean(gap[~post])
        pre = np.sqrt(np.nanmean(gap[~post] ** 2))
        postr = np.sqrt(np.nanmean(gap[post] ** 2))
        ratios[u] = postr / pre if pre > 0 else np.inf
    return pd.Series(ratios, index=fit.unit_labels, name="rmspe_ratio")


def placebo_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95,
                      rmspe: bool = True, reps: int | None = None,
                      seed: int | None = None) -> InferenceOutput:
    """Placebo-in-space p-values and intervals; adds the RMSPE-ratio p-value in extras.

    Parameters
    ----------
    fit : TwfeFit
    contrasts : DataFrame (terms x treatment columns)
    rmspe : also compute the RMSPE-ratio p-value (``extras["rmspe_p_value"]``; one
        treated unit only)
    reps, seed : placebo assignments drawn when there are several treated units
        (:mod:`.assignments`); unused with one treated unit (every control is used)
    """
    if several_treated(fit):
        return several_treated_inference(fit, contrasts, method="placebo", level=level,
                                         reps=reps, seed=seed)
    # every control in turn; the draws of all of them come at once from the closed form
    est_all, codes = placebo_estimates(fit)
    run = run_placebo(draw_assignments(len(codes), 1, reps=None),
                      batch=lambda units: est_all[units[:, 0]])
    identified = run.identified()
    dropped = int((~identified).sum())
    codes = codes[identified]
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    draws = run.draws[identified] @ L.T
    estimates = pd.Series(L @ fit.beta[: fit.p], index=contrasts.index)
    tidy, ci = rank_summary(estimates, draws, level)
    J = len(codes)
    extras = {"placebo_estimates": dict(zip(fit.unit_labels[codes].tolist(),
                                            draws[:, 0].tolist())),
              "n_placebos": J}
    notes = [f"Placebo-in-space over {J} control municipalities; p = rank/(J+1); "
             "interval inverts the rank test; std_error = RMS of placebo estimates."]
    if dropped:
        notes.append(f"{dropped} control municipalities left out as placebos: their placebo "
                     "regression is not identified (empty event-time cells)")
        extras["n_placebos_not_identified"] = dropped
    if J + 1 < 1 / (1 - level):
        notes.append(f"with {J} controls the {level:.0%} interval is unbounded")
    if rmspe:
        ratios = rmspe_ratios(fit)
        t = ratios.iloc[fit.treated]
        extras["rmspe_ratio"] = float(t)
        extras["rmspe_p_value"] = float(np.mean(ratios.to_numpy() >= t * (1 - 1e-12)))
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=tuple(notes), extras=extras,
                           null_draws=draws)
