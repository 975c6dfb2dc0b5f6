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
* ``placebo-t`` and ``ferman-pinto``: as above, rescaled by a size variance model
  ``v_r = A + B * mean_l(1 / M_{c_l})`` fitted on the draws (Ferman & Pinto 2019, section
  4, with equal weights across the treated units; for k = 1 this is the one-unit model).

The p-value is ``(1 + #{|b_r| >= |b|}) / (R + 1)`` and the interval inverts it.

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
from .variance import variance_function


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


def _size_covariate(fit, assigns: np.ndarray) -> tuple[np.ndarray, float]:
    inv = 1.0 / fit.unit_sizes()
    return inv[assigns].mean(axis=1), float(inv[fit.treated_units].mean())


def several_treated_inference(fit, contrasts: pd.DataFrame, *, method: str, level: float,
                              reps: int | None = None, seed: int | None = None,
                              fgls: bool = True) -> InferenceOutput:
    """Rank-based inference over placebo assignments (see the module docstring)."""
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
    if method in ("placebo-t", "ferman-pinto"):
        x, x1 = _size_covariate(fit, assigns)
        draws, se, params = np.empty_like(b), np.empty(b.shape[1]), {}
        for i in range(b.shape[1]):
            A, B = variance_function(b[:, i] ** 2, x, fgls=fgls)
            v, v1 = A + B * x, A + B * x1
            draws[:, i] = b[:, i] * np.sqrt(v1 / v)
            se[i] = math.sqrt(v1)
            params[str(contrasts.index[i])] = {"A": A, "B": B}
        extras["variance_function"] = params
        what = "rescaled by var = A + B mean(1/M) (Ferman & Pinto 2019)"
    else:
        draws, se, what = b, np.sqrt(np.mean(b ** 2, axis=0)), "unscaled"
    tidy, ci = rank_summary(estimates, draws, level, std_error=se)
    source = "residuals" if residual else "controls-only refits"
    how = "all" if exact else f"{len(b)} random (seed {extras['seed']})"
    note = (f"{method} with {len(fit.treated_units)} treated units: {how} placebo assignments "
            f"of {len(fit.treated_units)} controls ({source}), {what}; p = rank/(R+1).")
    notes = [note]
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} placebo assignments left out (not identified)")
    return InferenceOutput(tidy=tidy, conf_int_fn=ci, notes=tuple(notes), extras=extras,
                           null_draws=draws)
