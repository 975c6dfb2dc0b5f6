"""Placebo assignments for designs with several treated units.

With one treated unit the rank-based methods give each control unit the treated unit's
treatment path in turn (J placebos). With k treated units the randomisation distribution is
over *assignments*: sets of k control units, the l-th of which receives the l-th treated
unit's timing (Fisher randomisation inference as in Abadie, Diamond & Hainmueller 2010 and
MacKinnon & Webb 2020, "Randomization inference for difference-in-differences with few
treated clusters", J. Econometrics 218(2)). When every treated unit has the same timing the
order within a set does not matter and the sets are combinations, otherwise permutations.
All of them are used when there are at most ``reps``; otherwise ``reps`` are drawn at
random with the seed of the call (default :data:`DEFAULT_SEED`, the study configuration's).

* ``placebo``: each assignment's coefficients on the controls-only sample;
* ``conley-taber``: each assignment's residual contrast ``W_r`` (Conley & Taber 2011,
  section 3, several treated groups): the treated units' errors replaced by the assigned
  controls' unit-period mean residuals, weighted as in the treated estimator;
* ``placebo-t``: as above, rescaled by a size variance model fitted on the draws (Ferman &
  Pinto 2019, section 4) in the estimator's own weights: ``v_r = A Σ k² + B Σ k²/M`` over
  the cell loadings ``k`` of the assigned units (:func:`assignment_loadings`; with
  population weights and one timing ``Σ w_l²`` and ``Σ w_l²/M_l = 1/Σ M_l``, ``w_l`` a
  unit's share of the set's persons). The treated set's ``v_1`` comes from the same fit at
  its own covariates. Before session 6 the covariate was ``mean_l(1 / M_{c_l})`` (equal
  weights) and the p-value a rank;
* ``ferman-pinto``: the Conley-Taber draws rescaled by ``v_r = A + B mean_l(1 / M_{c_l})``
  (equal weights, the model before session 6, kept: with the loadings model it over-rejected,
  see :func:`_ferman_pinto`).

``placebo``, ``conley-taber`` and ``ferman-pinto``: p-value ``(1 + #{|b_r| >= |b|}) / (R + 1)``,
the interval inverts it. ``placebo-t`` (default ``reference="t"``): ``b / sqrt(v_1)`` against
t(d), ``d`` the Satterthwaite degrees of freedom of ``v_1``; the assignments share control
units, so their draws are correlated and ``d`` is computed from their fitted covariance
(:func:`.variance.dependent_df`): about the number of controls' worth of information, not
the number of assignments. Treating the R draws as independent gives d in the hundreds and
over-rejects (8-11 % at 5 % in ``benchmarks/sim_size_extremes.py --several``, as does the
rank of the rescaled draws, ``reference="rank"``); docs/inference.md has the simulation.
Event studies get the covariance ``diag(se) R diag(se)``, ``R`` the correlation of the
rescaled draws, as with one treated unit, so :func:`.honest.from_event_study` runs on the
default.

Examples
--------
>>> import numpy as np
>>> from itertools import combinations
>>> len(list(combinations(range(5), 2)))
10
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import InferenceOutput
from .placebo_engine import DEFAULT_REPS, rank_summary, run_placebo
from .placebo_engine import draw_assignments as _engine_draw
from .placebo_fit import _controls_piece, _solve, assignment_batch
from .variance import (dependent_df, draws_covariance, fit_variance_model, prediction_weights,
                       t_table, variance_function)


def several_treated(fit) -> bool:
    """True when the fit has more than one treated unit."""
    return len(fit.treated_units) > 1


def draw_assignments(fit, *, reps: int | None = None, seed: int | None = None
                     ) -> tuple[np.ndarray, bool]:
    """Placebo assignments (R x k control codes) and whether they are all of them.

    Drawn by :func:`.placebo_engine.draw_assignments`: slot l is the l-th treated unit's
    timing, so the slots are interchangeable (combinations) only when all timings are equal.
    """
    controls, a = _assignments(fit, reps, seed)
    return controls[a.units], a.enumerated


def _assignments(fit, reps, seed):
    controls = np.flatnonzero(~fit.is_treated_unit)
    k = len(fit.treated_units)
    same = bool(np.all(fit.timing == fit.timing[:1]))
    return controls, _engine_draw(len(controls), k if same else np.arange(k),
                                  reps=DEFAULT_REPS if reps is None else int(reps), seed=seed,
                                  sampler="choice")


def _placebo_treatment(fit, rows: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    unit, period = fit.unit[rows], fit.period[rows]
    D = np.zeros((len(rows), fit.p))
    for l, c in enumerate(assignment):
        m = unit == c
        D[m] = fit.timing[l][period[m]]
    return D


def assignment_estimates(fit, assigns: np.ndarray) -> np.ndarray:
    """Treatment coefficients (R x p) of each placebo assignment, controls-only refits.

    All assignments at once through :func:`.placebo_fit.assignment_batch` where it applies
    (exact, equal to the refits to 1e-10); otherwise one refit per assignment.
    """
    piece = _controls_piece(fit)        # the controls-only demeaning, built once for both paths
    batch = assignment_batch(fit, assigns, piece)
    if batch is not None:
        return batch
    rows, dm, yt, Zt = piece
    w = None if fit.weights is None else fit.weights[rows]
    ZtZ = Zt.T @ Zt if w is None else (Zt * w[:, None]).T @ Zt
    Zty = Zt.T @ yt if w is None else (Zt * w[:, None]).T @ yt
    out = np.empty((len(assigns), fit.p))
    for r, a in enumerate(assigns):
        Dt = dm(_placebo_treatment(fit, rows, a))
        Dw = Dt if w is None else Dt * w[:, None]
        out[r] = _solve(Dw.T @ Dt, Dw.T @ yt, Dw.T @ Zt, ZtZ, Zty)
    return out


def residual_assignment_draws(fit, assigns: np.ndarray) -> np.ndarray:
    """Conley-Taber draws (R x p): treated errors replaced by the assigned controls' residuals."""
    eta, wsum = fit.cell_means(fit.resid)
    e = np.nan_to_num(eta)
    G = np.zeros((fit.p, fit.p))
    M = []
    for l, u in enumerate(fit.treated_units):
        n_l = wsum[u]
        b = fit.timing[l]
        dd = b - (n_l @ b) / n_l.sum()
        ddw = dd * n_l[:, None]
        G += dd.T @ ddw
        M.append(ddw)
    W = sum(e[assigns[:, l]] @ M[l] for l in range(len(M)))
    return W @ np.linalg.pinv(G).T


def assignment_loadings(fit, assigns: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Loadings (R x k x T x m) of each assigned unit's unit-period cells on the contrasts.

    The estimate of assignment ``a`` (control ``a[l]`` given the l-th treated unit's timing
    ``V_l``, T x p) is, with the unit effects partialled out and the period effects left to
    the other units, ``b = G^{-1} sum_l dd_l' N_l e_l``: ``e_l`` the unit's cell means,
    ``N_l`` its cell weights, ``dd_l`` the timing net of its weighted mean over the unit's
    periods and ``G = sum_l dd_l' N_l dd_l``. The loading of slot l's cells on contrast
    ``L_i`` is ``N_l dd_l G^{-1} L_i'``: with population weights and a common timing it is
    ``w_l dd / |dd|^2``, ``w_l`` the unit's share of the treated population, so the
    estimate's variance is ``A Σ w_l² + B Σ w_l²/M_l`` (up to ``|dd|^2``). The period
    effects' share of the error (the other units) is left out: it is alike for the treated
    set and every placebo set.

    Each assigned control is weighted by its own cells, as in its controls-only refit;
    ``assigns = fit.treated_units[None]`` gives the treated estimate's own loadings.
    """
    _, wsum = fit.cell_means(np.zeros(len(fit.y)))
    assigns = np.asarray(assigns, dtype=np.intp).reshape(len(assigns), -1)
    R, k = assigns.shape
    G, parts = 0.0, []
    for l in range(k):
        n = wsum[assigns[:, l]]                               # R x T; an unseen cell: 0
        V = np.asarray(fit.timing[l], dtype=float)            # T x p
        tot = n.sum(axis=1)
        mean = (n @ V) / np.where(tot > 0, tot, 1.0)[:, None]
        dd = V[None] - mean[:, None, :]
        G = G + np.einsum("rtp,rt,rtq->rpq", dd, n, dd)
        parts.append(dd * n[:, :, None])
    Gi = np.linalg.pinv(G)
    return np.stack([np.einsum("rtp,rqp,mq->rtm", d, Gi, L) for d in parts], axis=1)


def size_covariates(fit, assigns: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``(Σ k², Σ k²/M)`` (R x m x 2) of loadings ``K`` (:func:`assignment_loadings`).

    Under the size model a unit-period cell's error has variance ``A + B/M`` (M the unit's
    persons per period), independent across units and, as an approximation, periods; the
    draw's variance is then ``A Σ k² + B Σ k²/M``: the two covariates of
    :func:`.variance.fit_variance_model`. For one treated unit (or equal weights and a common
    timing) ``Σ k²`` is the same for every draw and the model is ``A + B/M`` (or
    ``A + B mean(1/M)``) up to a constant.
    """
    inv = 1.0 / fit.unit_sizes()
    sq = (K ** 2).sum(axis=2)                                  # R x k x m
    return np.stack([sq.sum(axis=1), np.einsum("rlm,rl->rm", sq, inv[assigns])], axis=2)


def _covariance_factor(fit, assigns, K_i, coef):
    """Sparse factor F (R x unit-period cells) with ``F F'`` the draws' fitted covariance."""
    from scipy import sparse

    inv = 1.0 / fit.unit_sizes()
    R, k, T = K_i.shape
    sd = np.sqrt(np.maximum(coef[0] + coef[1] * inv, 0.0))
    vals = (K_i * sd[assigns][:, :, None]).ravel()
    cols = (assigns[:, :, None] * T + np.arange(T)).ravel()
    return sparse.csr_matrix((vals, (np.repeat(np.arange(R), k * T), cols)),
                             shape=(R, fit.n_units * T))


def _studentise(fit, b, assigns, L, *, fgls: bool):
    """placebo-t: rescaled draws, treated SEs, Satterthwaite df and parameters per contrast."""
    treated = fit.treated_units[None]
    K = assignment_loadings(fit, assigns, L)
    K1 = assignment_loadings(fit, treated, L)
    X, X1 = size_covariates(fit, assigns, K), size_covariates(fit, treated, K1)[0]
    m = b.shape[1]
    draws, se, df, params = np.empty_like(b), np.empty(m), np.empty(m), []
    for i in range(m):
        c = fit_variance_model(b[:, i] ** 2, X[:, i], fgls=fgls)
        v, v1 = X[:, i] @ c, float(X1[i] @ c)
        draws[:, i] = b[:, i] * np.sqrt(v1 / v)
        se[i] = math.sqrt(v1)
        h = prediction_weights(X[:, i], c, X1[i], fgls=fgls)
        df[i] = dependent_df(v1, h, _covariance_factor(fit, assigns, K[..., i], c))
        params.append({"A": float(c[0]), "B": float(c[1]), "df": float(df[i])})
    return draws, se, df, params


def _size_covariate(fit, assigns: np.ndarray) -> tuple[np.ndarray, float]:
    """Ferman-Pinto's equal-weight covariate ``mean_l(1/M)`` of the assigned and the treated."""
    inv = 1.0 / fit.unit_sizes()
    return inv[assigns].mean(axis=1), float(inv[fit.treated_units].mean())


def _ferman_pinto(b, assigns, fit, contrasts, fgls):
    # Not the loadings model of placebo-t: with it the residual draws rejected 13-17 % of
    # true nulls in sim_size_extremes --several (docs/inference.md), against 1-4 % with this
    # one. The draws apply the treated units' weights to the controls' full-fit residuals,
    # which the period effects shrink (most for large controls) and which miss the controls'
    # share of the treated estimate's error; mean(1/M), dominated by the smallest treated
    # unit, over-states the treated variance enough to cover that.
    x, x1 = _size_covariate(fit, assigns)
    draws, se, params = np.empty_like(b), np.empty(b.shape[1]), {}
    for i in range(b.shape[1]):
        A, B = variance_function(b[:, i] ** 2, x, fgls=fgls)
        v, v1 = A + B * x, A + B * x1
        draws[:, i] = b[:, i] * np.sqrt(v1 / v)
        se[i] = math.sqrt(v1)
        params[str(contrasts.index[i])] = {"A": A, "B": B}
    return draws, se, params


def several_treated_inference(fit, contrasts: pd.DataFrame, *, method: str, level: float,
                              reps: int | None = None, seed: int | None = None,
                              fgls: bool = True, reference: str = "t") -> InferenceOutput:
    """Inference over placebo assignments (see the module docstring).

    ``reference`` (``placebo-t`` only): ``"t"`` compares ``b / se`` with t(d), ``d`` the
    Satterthwaite degrees of freedom of the fitted variance; ``"rank"`` ranks ``b`` among
    the rescaled draws. ``ferman-pinto`` always ranks (as with one treated unit).
    """
    controls, a = _assignments(fit, reps, seed)
    residual = method in ("conley-taber", "ferman-pinto")
    batch = residual_assignment_draws if residual else assignment_estimates
    run = run_placebo(a, batch=lambda units: batch(fit, controls[units]))
    exact = a.enumerated
    ok = run.identified()
    raw, assigns = run.draws[ok], controls[a.units][ok]
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    b = raw @ L.T
    estimates = pd.Series(L @ fit.beta[: fit.p], index=contrasts.index)
    extras = {"n_placebos": len(b), "n_treated": len(fit.treated_units),
              "assignments": "all" if exact else "random",
              "seed": a.seed}
    vcov = None
    if method == "placebo-t":
        draws, se, df, params = _studentise(fit, b, assigns, L, fgls=fgls)
        extras["variance_function"] = dict(zip(map(str, contrasts.index), params))
        extras["reference"] = reference
        what = ("rescaled by var = A Σk² + B Σk²/M over the estimator's cell loadings k "
                "(Ferman & Pinto 2019 in the estimator's weights)")
        vcov = draws_covariance(draws, se)
    elif method == "ferman-pinto":
        draws, se, extras["variance_function"] = _ferman_pinto(b, assigns, fit, contrasts, fgls)
        what = "rescaled by var = A + B mean(1/M) (Ferman & Pinto 2019)"
    else:
        draws, se, what = b, np.sqrt(np.mean(b ** 2, axis=0)), "unscaled"
    if method == "placebo-t" and reference == "t":
        tidy, ci = t_table(estimates, se, df, level)
        how = ("t reference with the Satterthwaite degrees of freedom of the fitted variance, "
               f"correlated draws allowed for ({', '.join(f'{d:.1f}' for d in df)})")
    else:
        tidy, ci = rank_summary(estimates, draws, level, std_error=se)
        how = "p = rank/(R+1)"
    source = "residuals" if residual else "controls-only refits"
    many = "all" if exact else f"{len(b)} random (seed {extras['seed']})"
    note = (f"{method} with {len(fit.treated_units)} treated units: {many} placebo assignments "
            f"of {len(fit.treated_units)} controls ({source}), {what}; {how}.")
    notes = [note]
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} placebo assignments left out (not identified)")
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=tuple(notes), extras=extras,
                           null_draws=draws, vcov=vcov)
