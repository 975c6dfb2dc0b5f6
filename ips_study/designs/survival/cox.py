"""Cox proportional hazards with counting-process data, strata, ties and clustered SEs.

The partial likelihood (Cox 1972) is maximised by Newton–Raphson on data in
counting-process form ``(start, stop]`` (Andersen & Gill 1982), which covers delayed entry
(left truncation) and time-varying covariates such as IPS exposure that switches on when a
person's municipality starts IPS or when they move into an IPS municipality. Ties are
handled by Efron's (1977) or Breslow's (1974) approximation; case weights follow R's
``survival::coxph`` (Efron terms use the mean weight of the tied events). The robust
variance is the Lin & Wei (1989) sandwich built from score residuals summed within
clusters (e.g. municipalities), as ``coxph(..., cluster=)`` does, without small-sample
correction.

All risk-set sums are cumulative sums over the event-time grid (see
:mod:`ips_study.designs.survival._riskset`): the cost per iteration is a few ``bincount``
passes over the rows, with no Python loop over events or rows.

Proportional-hazards diagnostics follow Grambsch & Therneau (1994) as in R's
``survival::cox.zph`` (version 3): a score test for adding ``x * g(t)`` terms with
``g(t) = 1 - KM(t-)`` (``transform="km"``, the default) or ``g(t) = t``
(``transform="identity"``), and scaled Schoenfeld residuals ``d * I^{-1} r + beta``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=(300, 1))
>>> t = rng.exponential(np.exp(-0.5 * x[:, 0]))
>>> fit = CoxPH().fit(x, t, np.ones(300))
>>> bool(abs(fit.params_[0] - 0.5) < 0.2)
True
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import linalg, stats

from . import _riskset
from ._riskset import EventGrid, check_labels, event_indicator

TIES = ("efron", "breslow")
#: largest change of a linear predictor per covariate SD in one Newton step
MAX_STEP = 5.0
#: |coefficient| x SD beyond which a converged fit is a monotone likelihood (exp(30) ~ 1e13)
MAX_EFFECT = 30.0


class ConvergenceError(RuntimeError):
    """Newton–Raphson did not converge (e.g. monotone likelihood / separation)."""


class IdentificationWarning(UserWarning):
    """Covariates that the risk sets do not tell apart (``terms`` names them)."""


#: reciprocal condition number of the correlation-scaled information below which covariates
#: count as collinear within the risk sets (exact aliasing gives ~1e-16; an identified but
#: strongly correlated pair, r = 0.999999, about 5e-7)
RCOND_ALIASED = 1e-12


def aliased_in_risk_sets(I: np.ndarray, names) -> list:
    """Covariates not separately identified: those loading on the null space of the
    information matrix ``I`` scaled to unit diagonal (empty when ``I`` is well conditioned).

    The information is the weighted covariance of the covariates within the risk sets at
    the event times, so two covariates that differ only on rows never at risk at an event
    time pass the design check but make it singular, whatever the coefficients."""
    d = np.sqrt(np.abs(np.diag(I)))
    if not len(d) or not (d > 0).all() or not np.isfinite(I).all():
        return [names[j] for j in np.flatnonzero(~(d > 0))]
    vals, vecs = np.linalg.eigh(I / np.outer(d, d))
    small = vals < RCOND_ALIASED * max(vals[-1], 0)
    if not small.any():
        return []
    load = np.abs(vecs[:, small]).max(axis=1)
    return [names[j] for j in np.flatnonzero(load > 1e-3)]


def _newton_step(I: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``I^-1 U`` by a symmetric solve; a singular or ill-conditioned ``I`` (scipy would warn
    ``LinAlgWarning`` and return a step dominated by rounding) takes the minimum-norm
    least-squares step instead. Well-conditioned systems take the same solve as before."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", linalg.LinAlgWarning)
        try:
            return linalg.solve(I, U, assume_a="sym")
        except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            pass
    return linalg.lstsq(I, U)[0]


class MonotoneLikelihoodError(ConvergenceError, ValueError):
    """The partial likelihood keeps rising as some coefficients go to +-infinity.

    ``terms`` names the diverging covariates (e.g. a group with no events). Also a
    ``ValueError``: the data do not identify those coefficients.
    """

    def __init__(self, message: str, terms=()):
        super().__init__(message)
        self.terms = list(terms)


def check_design(X: np.ndarray, names) -> None:
    """Refuse missing, constant or collinear covariates, naming the columns.

    Counts and ranges are taken block by block (no table-sized temporaries).
    """
    n, p = X.shape
    nan = np.zeros(p, dtype=np.int64)
    lo_, hi_ = np.full(p, np.inf), np.full(p, -np.inf)
    for lo, hi in _riskset.blocks(n):
        Xb = X[lo:hi]
        nan += np.isnan(Xb).sum(axis=0)
        np.minimum(lo_, Xb.min(axis=0), out=lo_)
        np.maximum(hi_, Xb.max(axis=0), out=hi_)
    if nan.any():
        bad = ", ".join(f"{names[j]!r} ({nan[j]})" for j in np.flatnonzero(nan))
        raise ValueError(f"covariate(s) with missing values: {bad}")
    const = [names[j] for j in range(p) if hi_[j] == lo_[j]] if n else []
    if const:
        raise ValueError(f"covariate(s) constant, not identified in a Cox model (no "
                         f"intercept): {', '.join(map(repr, const))}")
    aliased = aliased_columns(X)
    if aliased:
        raise ValueError("covariate(s) collinear with the ones before them: "
                         f"{', '.join(repr(names[j]) for j in aliased)}")


#: up to this many columns the collinearity check works on the centred cross-products,
#: summed block by block without BLAS; wider designs (dummy-coded cells) use a QR of the table
GRAM_COLUMNS = 8


def aliased_columns(X: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Indices of columns that are linear combinations of the earlier ones (and a constant).

    Pivot-free: columns are taken left to right as R's ``coxph`` does, so the later of two
    collinear columns is the one reported (R gives it an NA coefficient). Column ``j`` is
    aliased when ``1 - R^2`` of its regression on the kept earlier columns (all centred)
    is below ``tol``.

    For a few columns that share of unexplained variance comes from the centred
    cross-product matrix, summed over row blocks (nothing table-sized, no BLAS threads);
    a decision within a factor 1000 of ``tol`` either way, where the cross-products may have
    lost the digits it needs, is taken by the QR of the centred, scaled table instead.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    if p > GRAM_COLUMNS or n == 0:
        return _aliased_qr(X, tol)
    mean = np.zeros(p)
    for lo, hi in _riskset.blocks(n):
        mean += X[lo:hi].sum(axis=0)
    mean /= n
    G = np.zeros((p, p))
    for lo, hi in _riskset.blocks(n):
        Zb = X[lo:hi] - mean
        G += np.einsum("ij,ik->jk", Zb, Zb)
    scale = np.sqrt(np.diag(G))
    C = G / np.outer(*(2 * [np.where(scale > 0, scale, 1.0)]))
    kept, out = [], []
    for j in range(p):
        if scale[j] == 0:
            out.append(j)
            continue
        if kept:
            c = C[kept, j]
            resid = C[j, j] - c @ linalg.solve(C[np.ix_(kept, kept)], c, assume_a="pos")
            if tol / 1e3 <= resid <= tol * 1e3 or not np.isfinite(resid):
                return _aliased_qr(X, tol)
            if resid < tol:
                out.append(j)
                continue
        kept.append(j)
    return out


def _aliased_qr(X: np.ndarray, tol: float) -> list[int]:
    """:func:`aliased_columns` by a QR of the centred, scaled table (any width)."""
    Z = X - X.mean(axis=0)
    scale = np.sqrt((Z**2).sum(axis=0))
    Z = Z / np.where(scale > 0, scale, 1.0)
    kept, out = [], []
    for j in range(Z.shape[1]):
        if scale[j] == 0:
            out.append(j)
            continue
        if kept:
            Q, _ = np.linalg.qr(Z[:, kept])
            resid = Z[:, j] - Q @ (Q.T @ Z[:, j])
            if np.sqrt(resid @ resid) < np.sqrt(tol):
                out.append(j)
                continue
        kept.append(j)
    return out


def _linear_predictor(X: np.ndarray, center: np.ndarray, beta: np.ndarray,
                      out: np.ndarray) -> np.ndarray:
    """``(X - center) @ beta`` into ``out``, column by column over blocks of rows.

    Not BLAS: for a handful of columns its threads cost a fixed ~5 ms of CPU per call
    (spin-waiting), a third of the whole Newton step at 0.5M rows, and the blocks keep the
    centred rows and the per-column temporaries in cache (no centred copy of the table).
    """
    n, p = X.shape
    if p == 0:
        out.fill(0.0)
        return out
    for lo, hi in _riskset.blocks(n):
        o, Xc = out[lo:hi], X[lo:hi] - center
        np.multiply(Xc[:, 0], beta[0], out=o)
        for j in range(1, p):
            o += Xc[:, j] * beta[j]
    return out


def _column_moments(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and SD of each column, summed over row blocks (two passes, no BLAS)."""
    n, p = X.shape
    sw, sx, sxx = 0.0, np.zeros(p), np.zeros(p)
    for lo, hi in _riskset.blocks(n):
        wb = w[lo:hi, None]
        sw += wb.sum()
        sx += (X[lo:hi] * wb).sum(axis=0)
    center = sx / sw
    for lo, hi in _riskset.blocks(n):
        Zb = X[lo:hi] - center
        Zb *= Zb
        Zb *= w[lo:hi, None]
        sxx += Zb.sum(axis=0)
    return center, np.sqrt(sxx / sw)


class CoxPH:
    """Cox model fitter (settings here, data in :meth:`fit`, fitted attributes end in ``_``).

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Approximation for tied event times.
    tol : float
        Convergence tolerance on the relative change of the log partial likelihood.
    max_iter : int
        Maximum Newton–Raphson iterations.
    """

    def __init__(self, ties: str = "efron", tol: float = 1e-12, max_iter: int = 50):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
        self.ties = ties
        self.tol = tol
        self.max_iter = max_iter

    # -- the likelihood on the event grid ----------------------------------------------------
    def _moments(self, eta, X, w, shift):
        """Rows of ``w r``, ``w r x_a`` and ``w r x_a x_b`` (a <= b) for one block -> (m, rows).

        ``r = exp(eta - shift)``; built in one block-sized array, so nothing table-sized is
        allocated per Newton step.
        """
        p = X.shape[1]
        iu = self._pairs
        out = np.empty((1 + p + len(iu[0]), len(eta)))
        np.subtract(eta, shift, out=out[0])
        np.exp(out[0], out=out[0])
        if w is not None:
            out[0] *= w
        np.multiply(out[0], X.T, out=out[1:1 + p])
        for k, (a, b) in enumerate(zip(*iu)):
            np.multiply(out[1 + a], X[:, b], out=out[1 + p + k])
        return out

    def _terms(self, beta):
        """Log-likelihood, score, information and per-grid pieces at ``beta``."""
        g, X, w, c = self._grid, self._Xin, self._w, self._center
        p = X.shape[1]
        eta = _linear_predictor(X, c, beta, self._eta)  # one buffer for every step
        shift = eta.max() if len(eta) else 0.0
        wb = None if self._unit_w else w
        n_mom = 1 + p + len(self._pairs[0])
        S = g.risk_sums(lambda lo, hi: self._moments(
            eta[lo:hi], X[lo:hi] - c, None if wb is None else wb[lo:hi], shift), n_mom)
        ev, Xev = g.event_rows, self._Xev
        Dm = self._moments(eta[ev], Xev, None if wb is None else wb[ev], shift)
        D = np.stack([np.bincount(g.event_grid, Dm[j], minlength=g.K) for j in range(n_mom)],
                     1)
        S0, S1, D0, D1 = S[:, 0], S[:, 1:1 + p], D[:, 0], D[:, 1:1 + p]
        S2 = np.empty((g.K, p, p))
        D2 = np.empty((g.K, p, p))
        for k, (a, b) in enumerate(zip(*self._pairs)):
            S2[:, a, b] = S2[:, b, a] = S[:, 1 + p + k]
            D2[:, a, b] = D2[:, b, a] = D[:, 1 + p + k]
        d = g.n_events
        wd = g.event_sum(w)
        if self.ties == "efron":
            rep = np.repeat(np.arange(g.K), d)
            k = np.arange(len(rep)) - np.repeat(np.cumsum(d) - d, d)
            frac = k / d[rep]
            m = (wd / np.maximum(d, 1))[rep]
        else:
            rep = np.flatnonzero(d > 0)
            frac = np.zeros(len(rep))
            m = wd[rep]
        den = S0[rep] - frac * D0[rep]
        xbar = (S1[rep] - frac[:, None] * D1[rep]) / den[:, None]
        loglik = float(np.sum(w[ev] * eta[ev]) - np.sum(m * (np.log(den) + shift)))
        score = (w[ev, None] * Xev).sum(axis=0) - (m[:, None] * xbar).sum(axis=0)
        # per-expansion information, kept per grid point for the PH test
        Ve = m[:, None, None] * ((S2[rep] - frac[:, None, None] * D2[rep]) / den[:, None, None]
                                 - xbar[:, :, None] * xbar[:, None, :])
        info = Ve.sum(axis=0)
        parts = dict(shift=shift, rep=rep, frac=frac, m=m, den=den, xbar=xbar, Ve=Ve)
        return loglik, score, info, parts

    def _newton(self, beta, ll, U, I, parts):
        """Newton–Raphson with step-halving; stops at the maximum or names what diverges.

        The log partial likelihood is concave, so a Newton step that lowers it overshot:
        halve it until the likelihood does not fall; a step is also capped so that no linear
        predictor moves by more than ``MAX_STEP`` per covariate SD. Converged when the gain
        in log-likelihood is negligible and the last step is tiny. A monotone likelihood has
        no maximum: the gain shrinks to nothing while some coefficients keep growing by a
        steady step (R's ``coxph`` warns "Loglik converged before variable ..."), or the
        fit stops at a coefficient beyond ``MAX_EFFECT`` per SD; those are named.
        """
        history, flagged = [], []
        it = 0
        for it in range(1, self.max_iter + 1):
            step = _newton_step(I, U)
            # trust region: no step moves a linear predictor by more than MAX_STEP per SD
            # of its covariate. A finite MLE is still reached (in more steps if far away);
            # on a monotone likelihood the information vanishes and a raw Newton step can
            # jump to 1e15 with a flat likelihood, where no divergence can be seen
            reach = np.max(np.abs(step) * self._sd, initial=0)
            if reach > MAX_STEP:
                step = step * (MAX_STEP / reach)
            new = beta + step
            ll_new, U_new, I_new, parts_new = self._terms(new)
            halvings = 0
            while not (np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll)) and halvings < 40:
                step = step / 2
                new = beta + step
                ll_new, U_new, I_new, parts_new = self._terms(new)
                halvings += 1
            if not np.isfinite(ll_new):
                break
            history.append(step)
            gain = ll_new - ll
            beta, ll, U, I, parts = new, ll_new, U_new, I_new, parts_new
            if abs(gain) <= self.tol * max(1.0, abs(ll)):
                if np.max(np.abs(step), initial=0) < 1e-8 * max(1.0, np.abs(beta).max(initial=0)):
                    flagged = list(np.flatnonzero(np.abs(beta) * self._sd > MAX_EFFECT))
                    if flagged:      # "converged" only because the likelihood is flat there
                        break
                    return beta, ll, U, I, parts, it
                if self._diverging(history, beta):
                    break          # the likelihood is flat but the coefficients still run
        terms = flagged or (self._diverging(history, beta) if history else [])
        if terms:
            names = ", ".join(repr(self.names_[j]) for j in terms)
            raise MonotoneLikelihoodError(
                f"monotone likelihood: the coefficient(s) of {names} diverge (at iteration "
                f"{it}: {', '.join(f'{beta[j]:.3g}' for j in terms)}); the likelihood has no "
                "finite maximum, e.g. a group with no events or only events; drop or merge it",
                [self.names_[j] for j in terms])
        raise ConvergenceError(f"Cox model did not converge in {self.max_iter} iterations")

    @staticmethod
    def _diverging(history, beta) -> list:
        """Coefficients that kept moving the same way by a steady step over the last steps."""
        if len(history) < 4:
            return []
        H = np.array(history[-3:])
        same_sign = np.all(np.sign(H) == np.sign(H[-1]), axis=0)
        steady = np.abs(H[-1]) > 0.5 * np.abs(H).max(axis=0)
        big = np.abs(H[-1]) > 0.05
        return [j for j in np.flatnonzero(same_sign & steady & big)]

    def fit(self, X, stop, event, *, start=None, strata=None, weights=None, cluster=None,
            names=None, init=None, _grid=None) -> "CoxPH":
        """Fit the model.

        Parameters
        ----------
        X : array_like (n, p)
            Covariates per row (episode).
        stop, event : array_like (n,)
            End of each interval and the event indicator at ``stop``.
        start : array_like (n,), optional
            Start of each interval (entry / left-truncation time); 0 if omitted.
        strata : array_like (n,), optional
            Stratum labels; each stratum has its own baseline hazard.
        weights : array_like (n,), optional
            Case weights (e.g. Fine–Gray censoring weights).
        cluster : array_like (n,), optional
            Cluster labels for the Lin–Wei robust variance (``cov_robust_``).
        names : list of str, optional
            Covariate names.
        init : array_like (p,), optional
            Starting values (default zeros).
        _grid : EventGrid, optional
            The risk-set grid of an earlier fit on the same ``start``, ``stop``, ``event``
            and ``strata`` (only covariates changed), reused to skip the sort (placebo refits).

        Returns
        -------
        CoxPH
            ``self`` with ``params_``, ``cov_`` (model-based), ``cov_robust_`` (when
            ``cluster`` given), ``loglik_``, ``loglik0_``, ``information_``, ``n_iter_``,
            ``aliased_`` (covariates the risk sets cannot tell apart, warned about).
        """
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        n, p = X.shape
        stop = np.asarray(stop, dtype=float)
        start = None if start is None else np.asarray(start, dtype=float)
        event = event_indicator(event)
        if weights is None:       # unit weights: a read-only view, no table of ones
            w = np.broadcast_to(1.0, (n,))
        else:
            w = np.asarray(weights, dtype=float)
            if _riskset.count_rows(lambda v: ~(v >= 0), w):
                raise ValueError("weights must be non-negative and not missing")
        if strata is not None:
            strata = pd.factorize(pd.Series(check_labels(strata, "strata")), sort=True)[0]
        if cluster is not None:
            cluster = check_labels(cluster, "cluster")
        self.names_ = list(names) if names is not None else [f"x{j}" for j in range(p)]
        grid = EventGrid(start, stop, event, strata) if _grid is None else _grid
        check_design(X, self.names_)
        if not event.any():
            raise ValueError("no events: a Cox model needs at least one event")
        # centring changes nothing in the model but keeps exp() and sums well scaled; the
        # rows are centred block by block when used (a centred copy of the table would be a
        # table-sized allocation per fit: fresh pages, whose cost grows faster than the rows)
        self._Xin = X
        self._center, self._sd = _column_moments(X, w) if n else (np.zeros(p), np.ones(p))
        self._Xev = X[grid.event_rows] - self._center
        self._w = w
        self._unit_w = weights is None
        self._pairs = np.triu_indices(p)
        self._eta = np.empty(n)
        self._grid = grid
        self._start, self._stop, self._event = start, stop, event
        beta = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()
        ll, U, I, parts = self._terms(beta)
        self.loglik0_ = ll if init is None else self._terms(np.zeros(p))[0]
        # one warning naming covariates the risk sets cannot tell apart (the design check
        # above sees only the whole table); the information's null space does not depend
        # on the coefficients, so the start, before any weight gets extreme, is the place
        self.aliased_ = aliased_in_risk_sets(I, self.names_)
        if self.aliased_:
            warnings.warn(
                f"covariates {', '.join(map(repr, self.aliased_))} are collinear within the "
                "risk sets at the event times: not separately identified (coefficients are "
                "the minimum-norm solution, standard errors not meaningful); drop or merge "
                "one", IdentificationWarning,
                stacklevel=2)
        beta, ll, U, I, parts, it = self._newton(beta, ll, U, I, parts)
        self.n_iter_ = it
        self.params_ = beta
        self.loglik_ = ll
        self.score_ = U
        self.information_ = I
        self.cov_ = linalg.pinv(I) if np.linalg.cond(I) > 1e14 else linalg.inv(I)
        self._parts = parts
        self.n_obs_ = n
        self.n_events_ = int(event.sum())
        self.cov_robust_ = None
        if cluster is not None:
            self.cov_robust_ = self.robust_cov(cluster)
        return self

    # -- residuals and robust variance -------------------------------------------------------
    def _centred(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Centred covariates of rows ``lo:hi`` (the scale every fitted quantity is on)."""
        return self._Xin[lo:hi] - self._center

    def _risk(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """``exp(x'beta)`` of rows ``lo:hi`` at the fit, on the scale of the grid sums."""
        X = self._Xin[lo:hi]
        eta = _linear_predictor(X, self._center, self.params_, np.empty(len(X)))
        return np.exp(eta - self._parts["shift"], out=eta)

    def score_residuals(self) -> np.ndarray:
        """Per-row score residuals (n, p) at the fitted coefficients (unweighted)."""
        return self._score_residuals(self._residual_pieces(), 0, self._Xin.shape[0])

    def _residual_pieces(self) -> dict:
        """Per-grid sums the score residuals of any block of rows are built from."""
        g, P = self._grid, self._parts
        rep, frac, h = P["rep"], P["frac"], P["m"] / P["den"]
        xbar = P["xbar"]
        K, p = g.K, self._Xin.shape[1]

        def per_grid(vals):
            if vals.ndim == 1:
                return np.bincount(rep, vals, minlength=K)
            return np.stack([np.bincount(rep, vals[:, j], minlength=K) for j in range(p)], 1)

        return dict(H=per_grid(h), HX=per_grid(h[:, None] * xbar), A=per_grid(frac * h),
                    AX=per_grid((frac * h)[:, None] * xbar),
                    XB=per_grid(xbar) / np.maximum(np.bincount(rep, minlength=K), 1)[:, None])

    def _score_residuals(self, Q: dict, lo: int, hi: int) -> np.ndarray:
        """Score residuals of rows ``lo:hi`` from :meth:`_residual_pieces`."""
        g, X, r = self._grid, self._centred(lo, hi), self._risk(lo, hi)
        dH = g.row_cumulative(Q["H"], lo, hi)
        dHX = g.row_cumulative(Q["HX"], lo, hi)
        resid = -r[:, None] * (X * dH[:, None] - dHX)
        # event rows of the block (event_rows is sorted)
        e0, e1 = np.searchsorted(g.event_rows, [lo, hi])
        ev, jg = g.event_rows[e0:e1] - lo, g.event_grid[e0:e1]
        # an event row is in its own risk set with Efron weight (1 - k/d): add that back
        resid[ev] += (X[ev] - Q["XB"][jg]) + r[ev, None] * (X[ev] * Q["A"][jg][:, None]
                                                           - Q["AX"][jg])
        return resid

    def robust_cov(self, cluster, chunk: int | None = None) -> np.ndarray:
        """Lin–Wei sandwich ``I^-1 B I^-1`` with score residuals summed by ``cluster``.

        Residuals are built and summed block by block (``chunk`` rows), never for the
        whole table at once.
        """
        labels = check_labels(cluster, "cluster")
        # clusters are coded block by block against their distinct labels (the order of the
        # clusters does not change G'G), so no table-sized array of codes is built
        index = pd.Index(pd.unique(labels))
        n, p = self._Xin.shape
        n_cl = len(index)
        G = np.zeros((n_cl, p))
        Q = self._residual_pieces()
        for lo, hi in _riskset.blocks(n, chunk):
            codes = index.get_indexer(labels[lo:hi])
            U = self._score_residuals(Q, lo, hi) * self._w[lo:hi, None]
            for j in range(p):
                G[:, j] += np.bincount(codes, U[:, j], minlength=n_cl)
        bread = self.cov_
        return bread @ (G.T @ G) @ bread

    def schoenfeld(self) -> np.ndarray:
        """Schoenfeld residuals (one row per event, in row order of the event rows)."""
        g, P = self._grid, self._parts
        K, p = g.K, self._Xin.shape[1]
        XB = np.stack([np.bincount(P["rep"], P["xbar"][:, j], minlength=K) for j in range(p)],
                      1) / np.maximum(np.bincount(P["rep"], minlength=K), 1)[:, None]
        return self._Xev - XB[g.event_grid]

    # -- proportional-hazards test -----------------------------------------------------------
    def zph(self, transform: str = "km") -> "ZPH":
        """Grambsch–Therneau test and scaled Schoenfeld residuals, as R ``cox.zph``.

        ``transform="km"`` uses ``g(t) = 1 - KM(t-)`` from the pooled, unstratified
        Kaplan–Meier curve of the fitted data (with delayed entry); ``"identity"`` uses
        ``g(t) = t``.
        """
        g, P = self._grid, self._parts
        times = self._stop
        if transform == "identity":
            tt = times.copy()
        elif transform == "km":
            from .km import km_curve

            curve = km_curve(self._start, self._stop, self._event)
            idx = np.searchsorted(curve["time"], times, side="left")  # times strictly before
            surv_before = np.concatenate([[1.0], curve["surv"]])[idx]
            tt = 1.0 - surv_before
        else:
            raise ValueError("transform must be 'km' or 'identity'")
        ev = g.event_rows
        gtime = tt - tt[ev].mean()
        p = self._Xin.shape[1]
        # g is constant within tied event times, so the grid value is any event's value
        g_grid = np.zeros(g.K)
        g_grid[g.event_grid] = gtime[ev]
        Vj = np.zeros((g.K, p, p))
        np.add.at(Vj, P["rep"], P["Ve"])
        I11 = Vj.sum(0)
        I12 = (g_grid[:, None, None] * Vj).sum(0)
        I22 = (g_grid[:, None, None] ** 2 * Vj).sum(0)
        imat = np.block([[I11, I12], [I12, I22]])
        sch = self.schoenfeld()
        u2 = (self._w[ev, None] * gtime[ev, None] * sch).sum(0)
        rows = []
        for j in range(p):
            kk = list(range(p)) + [p + j]
            u = np.r_[np.zeros(p), u2[j]]
            chi = float(u @ linalg.solve(imat[np.ix_(kk, kk)], u))
            rows.append((self.names_[j], chi, 1, stats.chi2.sf(chi, 1)))
        u = np.r_[np.zeros(p), u2]
        chi = float(u @ linalg.solve(imat, u))
        rows.append(("GLOBAL", chi, p, stats.chi2.sf(chi, p)))
        import pandas as pd

        table = pd.DataFrame(rows, columns=["term", "chisq", "df", "p"]).set_index("term")
        order = np.argsort(times[ev], kind="stable")
        scaled = sch @ linalg.inv(I11 / len(ev)) + self.params_
        return ZPH(table=table, time=times[ev][order], x=tt[ev][order],
                   scaled=scaled[order], names=list(self.names_), transform=transform,
                   coef=self.params_)


class ZPH:
    """Result of :meth:`CoxPH.zph`: test table and scaled Schoenfeld residuals."""

    def __init__(self, *, table, time, x, scaled, names, transform, coef):
        self.table = table
        self.coef = np.asarray(coef)
        self.time = time
        self.x = x
        self.scaled = scaled
        self.names = names
        self.transform = transform

    def plot(self, term=None, ax=None, frac: float = 0.3):
        """Scaled Schoenfeld residuals against ``g(t)`` with a lowess smooth; returns Axes.

        A flat smooth around the coefficient supports proportional hazards.
        """
        import matplotlib.pyplot as plt
        from statsmodels.nonparametric.smoothers_lowess import lowess

        j = 0 if term is None else self.names.index(term)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        y = self.scaled[:, j]
        ax.scatter(self.x, y, s=6, color="0.6", label="scaled Schoenfeld residual")
        sm = lowess(y, self.x, frac=frac, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color="black", label="lowess")
        ax.axhline(float(self.coef[j]), color="0.3", ls=":", lw=0.8, label="Cox coefficient")
        ax.set_xlabel("1 - KM(t-)" if self.transform == "km" else "time")
        ax.set_ylabel(f"beta(t) for {self.names[j]}")
        p = self.table.loc[self.names[j], "p"]
        ax.set_title(f"Schoenfeld test: {self.names[j]} (p = {p:.3g})")
        ax.legend(loc="best", fontsize=8)
        return ax
