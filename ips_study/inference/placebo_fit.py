"""Controls-only placebo refits shared by the placebo methods (one or several treated units).

The truly treated units are left out so that their effect cannot contaminate the placebo
fits; the controls-only sample is demeaned once, and each placebo only changes the
treatment columns. Used by :mod:`.randomization`, :mod:`.studentized` and
:mod:`.assignments`.

:func:`assignment_batch` gives every placebo assignment's coefficients at once, without
demeaning any placebo column: a placebo column is a unit indicator times a timing column,
so under person (or unit) and period effects its within cross-products follow exactly
from group sums and one periods x periods system (:class:`ips_study.twoway.CellGram`;
Frisch-Waugh-Lovell: ``b = (D'MD)^-1 D'My`` with ``My`` demeaned once).

Examples
--------
>>> import numpy as np
>>> _solve(np.eye(1), np.array([2.0]), np.zeros((1, 0)), np.zeros((0, 0)), np.zeros(0))
array([2.])
"""

from __future__ import annotations

import numpy as np

from ips_study.twoway import MAX_PERIODS, CellGram, TwoWaySchur
from ips_study.within import Demeaner

#: largest (units x timing columns) for which the person-term matrix is kept dense
DENSE_PIECES = 3000


def _controls_piece(fit):
    """Controls-only sample, demeaned once: rows, demeaner, y~, Z~."""
    rows = np.flatnonzero(~fit.is_treated_unit[fit.unit])
    dm = fit.demeaner.subset(rows) if fit.fe else Demeaner([])
    yt = dm(fit.y[rows])
    Zt = dm(fit.Z[rows]) if fit.Z.shape[1] else np.empty((len(rows), 0))
    return rows, dm, yt, Zt


def _solve(DtD, Dty, DtZ, ZtZ, Zty):
    """First block of the solution of the partitioned normal equations.

    NaN when the placebo regression is not identified (a small control municipality with no
    person in some event-time bin): that unit cannot serve as a placebo.
    """
    p = DtD.shape[0]
    A = np.block([[DtD, DtZ], [DtZ.T, ZtZ]])
    b = np.concatenate([Dty, Zty])
    try:
        return np.linalg.solve(A, b)[:p]
    except np.linalg.LinAlgError:
        return np.full(p, np.nan)




def assignment_batch(fit, assigns: np.ndarray, piece=None) -> np.ndarray | None:
    """Treatment coefficients (R x p) of placebo assignments (R x k control codes) at once.

    Assignment ``a`` gives control ``a[l]`` the timing of the l-th treated unit
    (``fit.timing[l]``), as :func:`ips_study.inference.assignments.assignment_estimates`;
    with one treated unit and ``assigns = controls[:, None]`` these are the placebo-in-space
    estimates of :func:`ips_study.inference.randomization.placebo_estimates`. Exact (no
    iteration beyond demeaning ``y`` and the covariates once); ``None`` when the fit is not a
    two-way (person or unit, period) design, so the caller refits one by one. A placebo
    whose treatment is absorbed by the fixed effects (or empty) gets NaN.

    ``piece``: the :func:`_controls_piece` tuple when the caller already has it.

    Examples
    --------
    >>> from ips_study.config import StudyConfig
    >>> from ips_study.designs.did import example_panel, fit_panel
    >>> from ips_study.inference.randomization import placebo_estimates
    >>> fit = fit_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig()).fit
    >>> est, controls = placebo_estimates(fit)  # balanced panel: the closed-form path
    >>> bool(np.allclose(assignment_batch(fit, controls[:, None]), est, rtol=1e-10))
    True
    """
    assigns = np.asarray(assigns, dtype=np.intp).reshape(len(assigns), -1)
    if len(fit.fe) != 2 or not np.array_equal(fit.fe[1], fit.period):
        return None
    rows, dm, yt, Zt = piece if piece is not None else _controls_piece(fit)
    R_, k = assigns.shape
    p, T, G = fit.p, len(fit.period_labels), fit.n_units
    kp = k * p
    V = np.asarray(fit.timing, dtype=float)[:k].transpose(1, 0, 2).reshape(T, kp)
    w = None if fit.weights is None else fit.weights[rows]
    # the controls-only demeaner re-codes the periods densely: timing rows follow suit
    used = np.flatnonzero(np.bincount(fit.period[rows], minlength=T) > 0)
    if len(used) > MAX_PERIODS:
        return None
    V, T = V[used], len(used)
    sc = dm.schur()
    if sc is None or dm.direct_order != (0, 1):
        sc = TwoWaySchur(dm.fe[0], dm.fe[1], w, dm.levels[0], T)
    cg = CellGram(sc, fit.unit[rows], G)
    raw, S, R, X = cg.pieces(V)
    Rf, Xf = R.reshape(T, G * kp), X.reshape(T, G * kp)
    Dty = cg.cell_sums(yt)[:, :, 0] @ V  # (G, kp)
    q = Zt.shape[1]
    DtZ = np.einsum("gtq,tc->gcq", cg.cell_sums(Zt), V) if q else np.zeros((G, kp, 0))
    ZtZ = Zt.T @ Zt if w is None else (Zt * w[:, None]).T @ Zt
    Zty = Zt.T @ yt if w is None else (Zt * w[:, None]).T @ yt
    pers = _person_term(cg, S, G, kp)
    # piece index of (assignment, l, c): unit a_l, timing column l * p + c
    idx = assigns[:, :, None] * kp + (np.arange(k) * p)[None, :, None] + np.arange(p)
    lc = (np.arange(k) * p)[:, None] + np.arange(p)
    out = np.full((R_, p), np.nan)
    for r in range(R_):
        a = assigns[r]
        DtD = sum(raw[a[l]][np.ix_(lc[l], lc[l])] for l in range(k))
        DtD = DtD - _block_sum(pers, idx[r]) - Rf[:, idx[r]].sum(axis=1).T @ \
            Xf[:, idx[r]].sum(axis=1)
        base = np.diag(sum(raw[a[l]][np.ix_(lc[l], lc[l])] for l in range(k)))
        if np.any(np.diag(DtD) <= 1e-11 * base) or np.any(base <= 0):
            continue  # absorbed by the fixed effects, or empty: not identified
        Dy = sum(Dty[a[l], lc[l]] for l in range(k))
        DZ = sum(DtZ[a[l], lc[l]] for l in range(k))
        out[r] = _solve(DtD, Dy, DZ, ZtZ, Zty)
    return out


def placebo_batch(fit, controls: np.ndarray, piece=None) -> np.ndarray | None:
    """Placebo-in-space coefficients (J x p) of one treated unit's design, all at once.

    Placebo j's treatment is ``1[unit = controls[j]] * B`` on the controls-only sample, as in
    :func:`ips_study.inference.randomization.placebo_estimates`. ``None`` (refit one by
    one) when :func:`assignment_batch` does not apply or ``B`` is not a function of the
    period on the control rows.
    """
    rows, dm, yt, Zt = piece if piece is not None else _controls_piece(fit)
    V = np.asarray(fit.timing[0], dtype=float)
    # B equal to the timing on every row (the usual case) needs no row selection
    if not all(np.array_equal(V[fit.period, c], fit.B[:, c]) for c in range(fit.p)) and \
            not np.array_equal(V[fit.period[rows]], fit.B[rows]):
        return None
    return assignment_batch(fit, np.asarray(controls)[:, None], (rows, dm, yt, Zt))


def _person_term(cg, S, G, kp):
    """``sum_i S_ia S_ib / n_i`` between pieces (unit, timing column): dense or sparse."""
    from scipy import sparse

    own = cg.pair_group >= 0
    pp, pg = cg.pair_person[own], cg.pair_group[own]
    val = S[own] * np.sqrt(cg.sc.inv_n[pp])[:, None]
    A = sparse.csr_matrix((val.reshape(-1), (np.repeat(pp, kp),
                                             (pg[:, None] * kp + np.arange(kp)).reshape(-1))),
                          shape=(cg.P, G * kp))
    M = (A.T @ A).tocsr()
    return M.toarray() if G * kp <= DENSE_PIECES else M


def _block_sum(M, idx: np.ndarray) -> np.ndarray:
    """``sum_{l,m} M[idx[l], idx[m]]`` (p x p) for idx (k, p)."""
    flat = idx.reshape(-1)
    sub = M[np.ix_(flat, flat)] if isinstance(M, np.ndarray) else M[flat][:, flat].toarray()
    k, p = idx.shape
    return sub.reshape(k, p, k, p).sum(axis=(0, 2))
