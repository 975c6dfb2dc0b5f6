"""Competing risks: Aalen–Johansen cumulative incidence, Gray's test and Fine–Gray regression.

Sustained work competes with onset of long-term benefit dependence: once a person has held
work for six months they are no longer at risk of the onset we count, so ``1 - KM`` would
overstate the onset risk. Methods:

* :func:`cumulative_incidence` — the Aalen–Johansen estimator (Aalen & Johansen 1978) of the
  cause-specific cumulative incidence ``F_k(t) = sum_{s<=t} S(s-) d_k(s) / n(s)`` with the
  variance estimator of Gray's ``cmprsk::cuminc`` (delta method with tie corrections);
  delayed-entry risk sets are allowed. Pointwise intervals on the ``log(-log)`` scale.
* :func:`gray_test` — the K-sample test of Gray (1988, *Ann. Statist.* 16:1141–1154) comparing
  cumulative incidence (subdistribution hazards) across groups, optionally stratified, with
  weight ``(1 - F(t-))^rho``; equals ``cmprsk::cuminc(...)$Tests``.
* :func:`fine_gray` — the Fine & Gray (1999, *JASA* 94:496–509) proportional subdistribution
  hazards model, fitted as a weighted Cox model (Breslow ties) on *extended data*: a person
  with a competing event stays in the risk set after their event time, in pieces cut at the
  censoring distribution's jumps, with weight ``G(t-) / G(T_i-)`` (``G`` = Kaplan–Meier of
  censoring). Coefficients equal ``cmprsk::crr``. Standard errors are the Lin–Wei sandwich
  by person (as ``coxph`` on ``survival::finegray`` data) ignores the estimation of ``G``;
  ``cov_crr_`` adds Fine & Gray's censoring-martingale term and equals ``crr``'s variance.

Examples
--------
>>> import numpy as np
>>> ci = cumulative_incidence(np.zeros(5), np.array([1., 2., 2., 3., 4.]),
...                           np.array([1, 2, 1, 0, 1]), cause=1)
>>> [round(v, 3) for v in ci["estimate"]]
[0.2, 0.4, 0.8]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._riskset import EventGrid, check_labels
from .cox import CoxPH
from .km import chi2_form


def check_status(status, cause, name: str = "status") -> np.ndarray:
    """Competing-risks status (0 = censored, else a cause code); ``cause`` must occur."""
    s = pd.Series(np.asarray(status).ravel())
    bad = int(s.isna().sum())
    if bad:
        raise ValueError(f"{name} has {bad} missing value(s)")
    s = s.to_numpy()
    causes = sorted(set(np.unique(s[s != 0]).tolist()))
    if cause not in causes:
        raise ValueError(f"cause {cause!r} does not occur in {name} (causes present: "
                         f"{causes[:10]}; 0 = censored)")
    return s


def cumulative_incidence(start, stop, status, *, cause: int = 1, level: float = 0.95) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of ``cause`` at every distinct event time.

    ``status`` is 0 (censored) or a cause code at ``stop``; ``start=None`` for
    right-censored data. Returns ``time``, ``n_risk``,
    ``n_event`` (this cause), ``n_other``, ``estimate``, ``variance``, ``std_error``,
    ``lower``, ``upper``. The variance is carried forward from the last time with an event of
    this cause, as in ``cuminc``.
    """
    status = check_status(status, cause)
    g = EventGrid(start, stop, status != 0)
    n = g.risk_sum(np.ones(g.n))
    d1 = g.event_sum((status == cause).astype(float))
    d2 = g.event_sum(((status != 0) & (status != cause)).astype(float))
    d = d1 + d2
    S = np.cumprod(1 - d / n)
    Sm = np.r_[1.0, S[:-1]]
    F = np.cumsum(Sm * d1 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(S > 0, 1 / S, 0.0)
        tie2 = np.where(d2 > 1, 1 - (d2 - 1) / (n - 1), 1.0)
        t6_2 = np.where((d2 > 0) & (S > 0), Sm**2 * tie2 * d2 / n**2, 0.0)
        tie1 = np.where(d1 > 1, 1 - (d1 - 1) / (n - 1), 1.0)
        t6_1 = np.where(d1 > 0, Sm**2 * tie1 * d1 / n**2, 0.0)
    a2, a1 = F * inv_s, 1 + inv_s * F
    v1 = np.cumsum(a2**2 * t6_2 + a1**2 * t6_1)
    v2 = np.cumsum(inv_s * a2 * t6_2 + inv_s * a1 * t6_1)
    v3 = np.cumsum(inv_s**2 * (t6_2 + t6_1))
    var = v1 + F**2 * v3 - 2 * F * v2
    # cuminc only updates the variance at times of this cause
    keep_idx = np.where(d1 > 0, np.arange(len(var)), -1)
    keep_idx = np.maximum.accumulate(keep_idx)
    var = np.where(keep_idx >= 0, var[np.maximum(keep_idx, 0)], 0.0)
    se = np.sqrt(np.maximum(var, 0))
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (F > 0) & (F < 1)
        f = np.where(ok, F, np.nan)
        k = np.exp(z * se / (f * np.log(f)))
        lower, upper = f ** (1 / k), f ** k
    return pd.DataFrame({"time": g.time, "n_risk": n, "n_event": d1, "n_other": d2,
                         "estimate": F, "variance": var, "std_error": se,
                         "lower": lower, "upper": upper})


def _gray_stratum(n, d1, d2, rho):
    """Score and variance contributions of one stratum (arrays over event times x groups)."""
    K, G = n.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n > 0, (d1 + d2) / n, 0.0)
        S = np.cumprod(1 - frac, axis=0)
        Sm = np.vstack([np.ones((1, G)), S[:-1]])
        F1 = np.cumsum(np.where(n > 0, Sm * d1 / n, 0.0), axis=0)
        F1m = np.vstack([np.zeros((1, G)), F1[:-1]])
        R = np.where(n > 0, n / Sm, 0.0)
        tr = R.sum(1)
        tq = np.where(n > 0, n * (1 - F1m) / Sm, 0.0).sum(1)
        nd1, nd2 = d1.sum(1), d2.sum(1)
        f = np.cumsum(nd1 / tr)
        fm = np.r_[0.0, f[:-1]]
        fb = (1 - fm) ** rho
        a = -fb[:, None, None] * R[:, :, None] * R[:, None, :] / tr[:, None, None]
        diag = fb[:, None] * R * (1 - R / tr[:, None])
        idx = np.arange(G)
        a[:, idx, idx] = diag
        c = np.cumsum(a * (nd1 / (tr * (1 - fm)))[:, None, None], axis=0)
        score = (fb[:, None] * np.where(n > 0, d1 - nd1[:, None] * n * (1 - F1m)
                                        / (Sm * tq[:, None]), 0.0)).sum(0)
        # variance pieces from events of the cause of interest ...
        t4 = np.where(S > 0, 1 - (1 - f[:, None]) / S, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * Sm - 1), 1.0)
        t3 = np.where((n > 0) & (nd1[:, None] > 0), t5 * Sm * nd1[:, None] / (tr[:, None] * n), 0.0)
        B = a - t4[:, None, :] * c
        V = np.einsum("tik,tjk,tk->ij", B, B, t3)
        v2 = np.einsum("tik,tk->ik", B, t4 * t3)
        v3 = (t4**2 * t3).sum(0)
        # ... and from competing events
        t4 = np.where(S > 0, (1 - f[:, None]) / S, 0.0)
        t5 = np.where(d2 > 1, 1 - (d2 - 1) / (n - 1), 1.0)
        t3 = np.where((S > 0) & (d2 > 0), t5 * Sm**2 * d2 / n**2, 0.0)
        B = -t4[:, None, :] * c
        V += np.einsum("tik,tjk,tk->ij", B, B, t3)
        v2 += np.einsum("tik,tk->ik", B, t4 * t3)
        v3 += (t4**2 * t3).sum(0)
    cT = c[-1]
    V += np.einsum("ik,jk,k->ij", cT, cT, v3) + cT @ v2.T + v2 @ cT.T
    return score[:-1], V[:-1, :-1]


def gray_test(start, stop, status, group, *, cause: int = 1, strata=None, rho: float = 0.0) -> dict:
    """Gray's K-sample test for equal cumulative incidence of ``cause`` across ``group``.

    Returns ``{"statistic", "df", "p_value", "score", "variance"}``.
    """
    status = check_status(status, cause)
    # a missing label would get code -1 and be counted in the last group
    gcodes, glabels = pd.factorize(pd.Series(check_labels(group, "group")), sort=True)
    G = len(glabels)
    if G < 2:
        raise ValueError("Gray's test needs at least two groups")
    scodes = np.zeros(len(status), int) if strata is None else \
        pd.factorize(pd.Series(check_labels(strata, "strata")))[0]
    stop = np.asarray(stop, float)
    start = np.full(len(stop), -np.inf) if start is None else np.asarray(start, float)
    s_tot = np.zeros(G - 1)
    V_tot = np.zeros((G - 1, G - 1))
    ind = np.eye(G)[gcodes]
    for s in np.unique(scodes):
        r = scodes == s
        grid = EventGrid(start[r], stop[r], status[r] != 0)
        n = grid.risk_sum(ind[r])
        d1 = grid.event_sum(ind[r] * (status[r] == cause)[:, None])
        d2 = grid.event_sum(ind[r] * ((status[r] > 0) & (status[r] != cause))[:, None])
        sc, V = _gray_stratum(n, d1, d2, rho)
        s_tot += sc
        V_tot += V
    # a group never at risk at an event time: generalised inverse, df = rank (R's cuminc
    # returns statistic -1 there; the result equals the test without that group)
    stat, df = chi2_form(s_tot, V_tot)
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
            "score": s_tot, "variance": V_tot}


def _censoring_km(time, status):
    """Kaplan–Meier of the censoring distribution: jump times and G at them."""
    g = EventGrid(None, time, status == 0)   # right-censored: at risk from the start
    n = g.risk_sum(np.ones(g.n))
    c = g.event_sum(np.ones(g.n))
    return g.time, np.cumprod(1 - c / n)


def _step(tgrid, values, t, *, left=False):
    """Right-continuous step function (value 1 before the first jump); ``left`` gives f(t-)."""
    idx = np.searchsorted(tgrid, t, side="left" if left else "right") - 1
    return np.r_[1.0, values][idx + 1]


def finegray_data(time, status, X, *, cause: int = 1) -> dict:
    """Extended (counting-process) data for Fine–Gray: rows, weights and subject index."""
    ext = _extended_rows(time, status, X, cause=cause)
    ext["event"] = ext["event"].astype(int)
    return ext


def _extended_rows(time, status, X, *, cause: int = 1, chunk: int = 4096) -> dict:
    """:func:`finegray_data` with a boolean ``event``, written into arrays of the final size.

    The competing subjects' pieces are built ``chunk`` subjects at a time, so the only
    table-sized arrays are the outputs (the pieces' indices, bounds and weights, and the
    copied covariate rows, are never all held as temporaries at once); every value is the
    same elementwise expression as for the whole table.
    """
    time = np.asarray(time, float)
    status = check_status(status, cause)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    ctime, G = _censoring_km(time, status)
    is_cause = status == cause
    tmax = time[is_cause].max()
    jumps = ctime[G < np.r_[1.0, G[:-1]]]
    jumps = jumps[jumps < tmax]
    comp = np.flatnonzero((status > 0) & ~is_cause & (time < tmax))
    lo_idx = np.searchsorted(jumps, time[comp], side="right")
    n_piece = len(jumps) - lo_idx + 1
    # piece k runs from the (k-1)th to the kth censoring jump, the last one to tmax; the
    # padded grid is never empty (no censoring before tmax: one piece per subject)
    grid = np.r_[jumps, tmax]
    size = n + int(n_piece.sum())          # an upper bound: empty pieces are left out below
    out = {"start": np.empty(size), "stop": np.empty(size), "event": np.zeros(size, bool),
           "weight": np.empty(size), "X": np.empty((size, p)), "subject": np.empty(size, np.int64)}
    # a subject's own row is at risk from before every time (right-censored data: a time
    # of 0 is allowed, and a (0, 0] interval would have been refused as empty)
    out["start"][:n] = min(float(time.min()), 0.0) - 1.0 if n else 0.0
    out["stop"][:n], out["event"][:n], out["weight"][:n] = time, is_cause, 1.0
    out["X"][:n], out["subject"][:n] = X, np.arange(n)
    at = n
    for c0 in range(0, len(comp), chunk):
        cs, lo_c, np_c = comp[c0:c0 + chunk], lo_idx[c0:c0 + chunk], n_piece[c0:c0 + chunk]
        subj = np.repeat(cs, np_c)
        pos = np.arange(len(subj)) - np.repeat(np.cumsum(np_c) - np_c, np_c)
        j = np.repeat(lo_c, np_c) + pos              # index of the piece's upper jump
        lo = np.where(pos == 0, time[subj], grid[np.maximum(j - 1, 0)])
        hi = grid[np.minimum(j, len(jumps))]
        w = _step(ctime, G, lo) / _step(ctime, G, time[subj], left=True)
        keep = hi > lo
        k = int(keep.sum())
        out["start"][at:at + k], out["stop"][at:at + k] = lo[keep], hi[keep]
        out["weight"][at:at + k], out["subject"][at:at + k] = w[keep], subj[keep]
        np.take(X, subj[keep], axis=0, out=out["X"][at:at + k])
        at += k
    return {key: v[:at] for key, v in out.items()}


def _censoring_term(fit: CoxPH, time, status, cause) -> np.ndarray:
    """Fine & Gray's (1999) ``psi_i``: the effect of estimating ``G`` on the score.

    ``psi_i = int q(u) / Y(u) dM^c_i(u)`` with ``q(u) = sum_{t_j >= u} dLambda_j G(t_j-)
    sum_{k: competing, T_k < u} r_k (x_k - xbar_j) / G(T_k-)`` — all cumulative sums here.
    """
    n = len(time)
    X, P, g = fit._centred(0, n), fit._parts, fit._grid
    r = fit._risk(0, n)
    tj = g.time[P["rep"]]                       # Breslow: one term per failure time
    dlam = P["m"] / P["den"]
    ctime, G = _censoring_km(time, status)
    Gj = _step(ctime, G, tj, left=True)
    comp = np.flatnonzero((status > 0) & (status != cause))
    order = comp[np.argsort(time[comp], kind="stable")]
    wk = r[order] / _step(ctime, G, time[order], left=True)
    cumB = np.r_[0.0, np.cumsum(wk)]
    cumA = np.vstack([np.zeros((1, X.shape[1])), np.cumsum(wk[:, None] * X[order], axis=0)])
    rc0 = np.r_[np.cumsum((dlam * Gj)[::-1])[::-1], 0.0]
    rc1 = np.vstack([np.cumsum((dlam * Gj)[::-1, None] * P["xbar"][::-1], axis=0)[::-1],
                     np.zeros((1, X.shape[1]))])
    u = np.unique(time[status == 0])
    nk = np.searchsorted(time[order], u, side="left")       # competing with T_k < u
    ij = np.searchsorted(tj, u, side="left")                 # failures with t_j >= u
    q = cumA[nk] * rc0[ij, None] - cumB[nk, None] * rc1[ij]
    ts = np.sort(time)
    Y = n - np.searchsorted(ts, u, side="left")
    c = np.bincount(np.searchsorted(u, time[status == 0]), minlength=len(u))  # censored at u
    Psi = np.cumsum(q * (c / Y**2)[:, None], axis=0)
    Psi = np.vstack([np.zeros((1, X.shape[1])), Psi])
    at = np.searchsorted(u, time, side="right")              # censoring times <= T_i
    psi = -Psi[at]
    own = status == 0
    iu = np.searchsorted(u, time[own])
    psi[own] += q[iu] / Y[iu, None]
    return psi


def _subject_scores(fit: CoxPH, subject: np.ndarray, n_subjects: int) -> np.ndarray:
    """Weighted score residuals summed by subject, ``(n_subjects, p)``.

    The residuals are built block by block (a row's residual does not depend on the block it
    is computed in) and added to their subject's sum in row order (``np.add.at`` adds its
    rows one after the other, as ``np.bincount`` does), so the sums are bit for bit those of
    ``np.bincount(subject, fit.score_residuals()[:, j] * weights)`` without the table-sized
    residual arrays.
    """
    from ._riskset import blocks

    n, p = fit._Xin.shape
    eta = np.zeros((p, n_subjects))
    Q = fit._residual_pieces()
    for lo, hi in blocks(n):
        U = fit._score_residuals(Q, lo, hi) * fit._w[lo:hi, None]
        for j in range(p):
            np.add.at(eta[j], subject[lo:hi], U[:, j])
    return np.ascontiguousarray(eta.T)   # (n, p) in C order, as np.stack(..., axis=1) gave


def fine_gray(time, status, X, *, cause: int = 1, names=None, ties: str = "breslow") -> CoxPH:
    """Fine–Gray subdistribution hazards model via weighted Cox on extended data.

    Returns the fitted :class:`~ips_study.designs.survival.cox.CoxPH` with ``cov_robust_``
    (sandwich clustered by subject, as ``coxph`` on ``survival::finegray`` data) and
    ``cov_crr_`` (the Fine & Gray 1999 variance that also accounts for estimating the
    censoring distribution, as ``cmprsk::crr``; Breslow ties only). ``n_extended_`` is the
    number of extended rows and ``subjects_`` maps each extended row to its subject.
    """
    time = np.asarray(time, float)
    status = np.asarray(status)
    ext = _extended_rows(time, status, X, cause=cause)
    fit = CoxPH(ties=ties).fit(ext["X"], ext["stop"], ext["event"], start=ext["start"],
                               weights=ext["weight"], cluster=ext["subject"], names=names)
    fit.n_extended_ = len(ext["stop"])
    fit.subjects_ = ext["subject"]
    fit.cov_crr_ = None
    if ties == "breslow":
        eta = _subject_scores(fit, ext["subject"], len(time))
        tot = eta + _censoring_term(fit, time, status, cause)
        fit.cov_crr_ = fit.cov_ @ (tot.T @ tot) @ fit.cov_
    return fit
