"""Sensitivity of an event study to violations of parallel trends (Rambachan & Roth 2023).

The event-study coefficients are ``beta = delta + (0, tau_post)``: ``delta`` is the difference
in trends the design did not remove (zero under parallel trends) and ``tau_post`` the effects.
The target is ``theta = l' tau_post``. Instead of assuming ``delta_post = 0``, ``delta`` is
only restricted to a set ``Delta``; the robust confidence set covers ``theta`` with probability
at least ``1 - alpha`` for every ``delta`` in ``Delta`` (uniformly, asymptotically). Two sets:

* **relative magnitudes** ``Delta^RM(Mbar)``: no consecutive post-period change of ``delta``
  exceeds ``Mbar`` times the largest consecutive pre-period change (``Mbar = 1``: the
  violation after treatment is no worse than the worst one before). The set is a union of
  polyhedra (one per pre-period change and sign); the confidence set is the union of the
  conditional-least-favourable hybrid tests (Andrews, Roth & Pakes 2023) over them, inverted
  on a grid of ``theta`` -- the default of the R package ``HonestDiD`` ("C-LF").
* **smoothness** ``Delta^SD(M)``: the slope of ``delta`` changes by at most ``M`` between
  consecutive periods (``M = 0``: the pre-trend continues linearly). The confidence set is
  the optimal fixed-length confidence interval (FLCI; Armstrong & Kolesar 2018), an affine
  estimator ``l' beta_post - w' beta_pre`` plus/minus the folded-normal critical value of its
  worst-case bias over ``Delta^SD(M)`` -- ``HonestDiD``'s default for this set.

The breakdown value is the smallest ``Mbar`` (or ``M``) at which the robust set contains the
null (by default zero): the conclusion "the effect is not zero" survives every violation
smaller than that.

Inputs are plain arrays, so any event study works: ``betahat`` holds the pre-period
coefficients (earliest first) then the post-period ones, the reference period excluded;
``sigma`` is their covariance from whatever inference method the study used.
:func:`from_event_study` reads both from an :class:`~ips_study.designs.event.EventStudyResults`.

The implementation is written from the papers (not from ``HonestDiD``'s code); the tests
reproduce the R package's documented example (``tests/reference/honestdid_ehec.R``).

Examples
--------
>>> import numpy as np
>>> b = np.array([0.01, -0.01, 0.0, 0.5, 0.6])          # 3 pre, 2 post coefficients
>>> S = np.diag([0.01, 0.01, 0.01, 0.01, 0.01])
>>> res = honest_did(b, S, num_pre=3, restriction="RM", m=[0, 1])
>>> bool(res.table["lb"].iloc[0] > 0)
True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import ndtr

RESTRICTIONS = ("RM", "SD")
#: vertex enumeration of the dual LP is exact and fast; above this many candidate bases it
#: would take too long, and the caller is asked for fewer post periods
MAX_BASES = 300_000


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------

def _check(betahat, sigma, num_pre, num_post, l_vec):
    b = np.asarray(betahat, float).ravel()
    S = np.asarray(sigma, float)
    if num_pre < 1:
        raise ValueError("num_pre must be at least 1 (the restrictions use the pre-periods)")
    if num_post is None:
        num_post = len(b) - num_pre
    if num_post < 1 or num_pre + num_post != len(b):
        raise ValueError(f"betahat has {len(b)} entries but num_pre + num_post = "
                         f"{num_pre} + {num_post}")
    if S.shape != (len(b), len(b)):
        raise ValueError(f"sigma must be {len(b)} x {len(b)}, got {S.shape}")
    if not np.all(np.isfinite(b)) or not np.all(np.isfinite(S)):
        raise ValueError("betahat and sigma must be finite")
    if np.max(np.abs(S - S.T)) > 1e-8 * max(1.0, np.abs(S).max()):
        raise ValueError("sigma must be symmetric")
    l = np.zeros(num_post) if l_vec is None else np.asarray(l_vec, float).ravel()
    if l_vec is None:
        l[0] = 1.0
    if len(l) != num_post:
        raise ValueError(f"l_vec must have num_post = {num_post} entries, got {len(l)}")
    if not np.any(l != 0):
        raise ValueError("l_vec must not be all zero")
    return b, S, int(num_pre), int(num_post), l


def original_ci(betahat, sigma, num_pre: int, num_post: int | None = None, *,
                l_vec=None, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval for ``l' tau_post`` under exact parallel trends."""
    b, S, npre, npost, l = _check(betahat, sigma, num_pre, num_post, l_vec)
    est = float(l @ b[npre:])
    se = math.sqrt(float(l @ S[npre:, npre:] @ l))
    z = stats.norm.ppf(1 - alpha / 2)
    return est - z * se, est + z * se


# --------------------------------------------------------------------------------------------
# smoothness: optimal fixed-length confidence interval
# --------------------------------------------------------------------------------------------

def _folded_normal_cv(t: float, alpha: float) -> float:
    """``c`` with ``P(|N(t, 1)| <= c) = 1 - alpha``."""
    t = abs(float(t))
    f = lambda c: ndtr(c - t) - ndtr(-c - t) - (1 - alpha)
    return optimize.brentq(f, t, t + 10.0, xtol=1e-13)


def _sd_bias_matrix(npre: int, npost: int) -> np.ndarray:
    """``delta = K u`` when ``delta_{-1} = delta_0 = 0`` and ``u`` are the second differences.

    Rows: ``delta_{-npre} .. delta_{-1}, delta_1 .. delta_npost``; columns: second differences
    at ``t = -npre+1 .. npost-1``. Fixing ``delta_{-1}`` is harmless for estimators that
    annihilate linear trends (the only ones with finite worst-case bias).
    """
    times = list(range(-npre, 0)) + list(range(1, npost + 1))
    centres = list(range(-npre + 1, npost))
    K = np.zeros((len(times), len(centres)))
    for j, c in enumerate(centres):
        # delta with a single unit second difference at c and delta_{-1} = delta_0 = 0
        d = {}
        for t in times:
            if c >= 0:
                d[t] = max(t - c, 0) if t > 0 else 0.0
            else:
                d[t] = max(c - t, 0) if t < -1 else 0.0
        K[:, j] = [d[t] for t in times]
    return K


def _flci(b, S, npre, npost, l, M, alpha):
    times_pre = np.arange(-npre, 0, dtype=float)
    times_post = np.arange(1, npost + 1, dtype=float)
    K = _sd_bias_matrix(npre, npost)
    Kpre, Kpost = K[:npre], K[npre:]
    target_slope = float(l @ times_post)

    # w on the affine set {w : w . times_pre = l . times_post} (linear trends cancel):
    # w = w0 + N z with N a basis of the orthogonal complement of times_pre
    w0 = times_pre * target_slope / float(times_pre @ times_pre)
    N = np.linalg.svd(times_pre[None, :])[2][1:].T if npre > 1 else np.zeros((1, 0))

    def parts(z):
        w = w0 + N @ z
        v = np.concatenate([-w, l])
        sd = math.sqrt(max(float(v @ S @ v), 1e-300))
        bias = M * float(np.abs(Kpost.T @ l - Kpre.T @ w).sum())
        return w, v, sd, bias

    z = np.zeros(N.shape[1])
    if N.shape[1]:
        # minimum-variance w (the optimum when M = 0): a least-squares problem in z
        Sp = S[:npre, :npre]
        try:
            z = np.linalg.solve(N.T @ Sp @ N, N.T @ (S[:npre, npre:] @ l - Sp @ w0))
        except np.linalg.LinAlgError:
            z = np.zeros(N.shape[1])
    if N.shape[1] and M > 0:
        z = _flci_search(z, parts, alpha, Kpre, Kpost, l, w0, N, M)
    w, v, sd, bias = parts(z)
    hl = sd * _folded_normal_cv(bias / sd, alpha)
    centre = float(v @ b)
    return centre - hl, centre + hl


def _flci_search(z0, parts, alpha, Kpre, Kpost, l, w0, N, M):
    """Minimise the FLCI half-length over ``z`` (``w = w0 + N z``).

    The half-length ``sd * cv(bias / sd)`` is convex in ``w`` (the perspective of the convex
    folded-normal quantile, increasing in both convex arguments), so a local optimum is
    global. The L1 bias is made smooth with slacks ``t >= |c(w)|`` and the problem solved by
    SLSQP in units of the starting SE; a Nelder-Mead polish on the exact objective guards
    against an early stop.
    """
    sd0 = parts(z0)[2]
    k, r = len(z0), Kpre.shape[1]

    def cvec(z):
        return Kpost.T @ l - Kpre.T @ (w0 + N @ z)

    def obj(x):
        z, t = x[:k], x[k:]
        sd = parts(z)[2]
        return sd / sd0 * _folded_normal_cv(t.sum() * M / sd, alpha)

    def exact(z):
        _, _, sd, bias = parts(z)
        return sd / sd0 * _folded_normal_cv(bias / sd, alpha)

    cons = [{"type": "ineq", "fun": lambda x: x[k:] - cvec(x[:k])},
            {"type": "ineq", "fun": lambda x: x[k:] + cvec(x[:k])}]
    x0 = np.concatenate([z0, np.abs(cvec(z0))])
    opt = optimize.minimize(obj, x0, method="SLSQP", constraints=cons,
                            options={"ftol": 1e-12, "maxiter": 500})
    best_z, best = z0, exact(z0)
    if np.all(np.isfinite(opt.x)) and exact(opt.x[:k]) < best:
        best_z, best = opt.x[:k], exact(opt.x[:k])
    for _ in range(5):
        nm = optimize.minimize(exact, best_z, method="Nelder-Mead",
                               options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 2000 * k})
        if nm.fun < best - 1e-12:
            best_z, best = nm.x, nm.fun
        else:
            break
    return best_z


# --------------------------------------------------------------------------------------------
# relative magnitudes: conditional-least-favourable hybrid test (Andrews, Roth & Pakes)
# --------------------------------------------------------------------------------------------

def _rm_rows(npre: int, npost: int, Mbar: float, s: int, sign: float) -> np.ndarray:
    """Moment rows ``A delta <= 0`` for post-period changes bounded by ``Mbar`` x change ``s``.

    ``delta`` is ordered pre (earliest first) then post, without the reference ``delta_0``;
    change ``k`` (k = 0 .. npre+npost-1) is ``delta_{k+1} - delta_k`` on the full time line
    that includes ``delta_0 = 0``. ``s`` indexes the pre-period change (0 .. npre-1).
    """
    n = npre + npost

    def change(k):
        full = np.zeros(n + 1)
        full[k], full[k + 1] = -1.0, 1.0
        return np.delete(full, npre)  # drop the reference period

    ref = sign * change(s)
    rows = []
    for k in range(npre, n):
        rows.append(change(k) - Mbar * ref)
        rows.append(-change(k) - Mbar * ref)
    return np.array(rows)


def _gamma_matrix(l: np.ndarray) -> np.ndarray:
    """Invertible matrix whose first row is ``l'`` (completed by unit rows)."""
    T = len(l)
    rows = [l]
    for i in range(T):
        cand = np.vstack(rows + [np.eye(T)[i]])
        if np.linalg.matrix_rank(cand) == len(rows) + 1:
            rows.append(np.eye(T)[i])
        if len(rows) == T:
            break
    return np.vstack(rows)


def _dual_vertices(W: np.ndarray) -> np.ndarray:
    """Vertices of ``{gamma >= 0 : W' gamma = e_1}`` by enumerating bases (rows x k)."""
    m, k = W.shape
    e1 = np.zeros(k)
    e1[0] = 1.0
    if math.comb(m, k) > MAX_BASES:
        raise ValueError(f"num_post = {k}: too many post periods for the exact "
                         f"relative-magnitudes test ({math.comb(m, k)} candidate bases; at "
                         f"most 10 post periods); bin or drop later post periods")
    out = []
    combos = itertools.combinations(range(m), k)
    scale = max(1.0, float(np.abs(W).max())) ** k
    while True:  # solve the bases in batches (no Python loop per basis)
        batch = np.array(list(itertools.islice(combos, 20_000)), dtype=np.intp)
        if batch.size == 0:
            break
        WB = W[batch]                                   # (n, k, k)
        ok = np.abs(np.linalg.det(WB)) > 1e-12 * scale
        if not ok.any():
            continue
        rhs = np.broadcast_to(e1, (int(ok.sum()), k))[..., None]
        g = np.linalg.solve(np.transpose(WB[ok], (0, 2, 1)), rhs)[..., 0]
        feasible = np.all(g >= -1e-10, axis=1)
        for rows, gam in zip(batch[ok][feasible], g[feasible]):
            full = np.zeros(m)
            full[rows] = np.clip(gam, 0, None)
            out.append(full)
    if not out:
        return np.zeros((0, m))
    return np.unique(np.round(np.array(out), 12), axis=0)


@dataclass
class _RMPiece:
    """One polyhedron of ``Delta^RM``: moments ``y(theta) = a - c theta``, nuisance ``X``."""
    a: np.ndarray
    c: np.ndarray
    SY: np.ndarray
    V: np.ndarray          # dual vertices (n_vertices x rows)
    lf_cv: float = field(default=np.inf)


def _rm_piece(b, S, npre, npost, l, Mbar, s, sign, kappa, draws):
    A = _rm_rows(npre, npost, Mbar, s, sign)
    AGi = A[:, npre:] @ np.linalg.inv(_gamma_matrix(l))
    SY = A @ S @ A.T
    sd = np.sqrt(np.clip(np.diag(SY), 0, None))
    if np.any(sd <= 0):
        raise ValueError("a moment of the relative-magnitudes test has zero variance; "
                         "check sigma")
    V = _dual_vertices(np.column_stack([sd, AGi[:, 1:]]))
    piece = _RMPiece(a=A @ b, c=AGi[:, 0], SY=SY, V=V)
    if len(V):
        # least-favourable critical value: the 1 - kappa quantile of the statistic at the
        # least favourable mean (zero), max over dual vertices of gamma' xi
        # draws of N(0, sigma) shared by all pieces, mapped to the moments: N(0, A sigma A')
        # (draws are stored transposed, n x sims: numpy's product is several times faster
        # with the long axis last)
        VA = V @ A                                    # (vertices, n)
        block = max(1, 2_000_000 // max(1, len(V)))   # bound the memory of VA @ draws
        eta = np.concatenate([(VA @ draws[:, i:i + block]).max(axis=0)
                              for i in range(0, draws.shape[1], block)])
        piece.lf_cv = float(np.quantile(eta, 1 - kappa))
    return piece


def _rm_accept(piece: _RMPiece, thetas: np.ndarray, alpha: float, kappa: float) -> np.ndarray:
    """Accept (True) / reject the hypotheses ``theta`` for one polyhedron."""
    if len(piece.V) == 0:  # dual infeasible: the statistic is -inf, never reject
        return np.ones(len(thetas), bool)
    Y = piece.a[None, :] - thetas[:, None] * piece.c[None, :]
    vals = Y @ piece.V.T                                   # (grid, vertices)
    j = vals.argmax(axis=1)
    eta = vals[np.arange(len(thetas)), j]
    accept = eta <= piece.lf_cv                            # first stage of the hybrid
    G = piece.V[j]                                         # selected vertex per theta
    SG = G @ piece.SY                                      # (grid, rows)
    var = np.einsum("ij,ij->i", SG, G)
    sig = np.sqrt(np.clip(var, 0, None))
    tiny = sig <= 1e-12 * max(1.0, float(np.abs(piece.SY).max()))
    # the conditioning event: gamma stays optimal along y = s + bvec * c with s orthogonal to
    # gamma; each other vertex bounds c from one side
    with np.errstate(divide="ignore", invalid="ignore"):
        bvec = SG / np.where(tiny, 1.0, var)[:, None]
        svec = Y - bvec * eta[:, None]
        gs = svec @ piece.V.T                               # (grid, vertices)
        gb = bvec @ piece.V.T - 1.0
        bound = -gs / gb
    up = np.where(gb > 1e-10, bound, np.inf).min(axis=1)
    lo = np.where(gb < -1e-10, bound, -np.inf).max(axis=1)
    up = np.minimum(up, piece.lf_cv)
    size = (alpha - kappa) / (1 - kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        zl, zu, z = lo / sig, up / sig, eta / sig
        # p-value of the truncated normal, computed on the side with more precision
        num = np.where(z > 0, ndtr(-z) - ndtr(-zu), ndtr(zu) - ndtr(z))
        den = np.where(z > 0, ndtr(-zl) - ndtr(-zu), ndtr(zu) - ndtr(zl))
        p = np.where(den > 0, num / den, 0.0)
    cond_accept = np.where(tiny, eta <= 0, p >= size)
    return accept & cond_accept


def _rm_acceptor(b, S, npre, npost, l, Mbar, alpha, seed, sims):
    """``theta -> accepted?`` for ``Delta^RM(Mbar)``: the union over its polyhedra."""
    kappa = alpha / 10
    # N(0, sigma) draws through a symmetric square root (sigma may be singular)
    evals, evecs = np.linalg.eigh(S)
    root = evecs * np.sqrt(np.clip(evals, 0, None))
    draws = root @ np.random.default_rng(seed).standard_normal((len(S), sims))
    pieces = [_rm_piece(b, S, npre, npost, l, Mbar, s, sign, kappa, draws)
              for s in range(npre) for sign in (1.0, -1.0)]

    def accept(th):
        th = np.atleast_1d(np.asarray(th, float))
        out = np.zeros(len(th), bool)
        for p in pieces:
            out |= _rm_accept(p, th, alpha, kappa)
        return out

    return accept


def _rm_ci(b, S, npre, npost, l, Mbar, alpha, grid, refine, seed, sims):
    accept = _rm_acceptor(b, S, npre, npost, l, Mbar, alpha, seed, sims)
    acc = accept(grid)
    if not acc.any():
        return np.nan, np.nan, False
    i0, i1 = np.flatnonzero(acc)[[0, -1]]
    open_end = bool(acc[0] or acc[-1])
    lb, ub = grid[i0], grid[i1]
    if refine:
        ok = lambda th: bool(accept(th)[0])
        tol = 1e-10 * max(1.0, float(np.abs(grid).max()))
        if i0 > 0:
            lb = bisect_boundary(ok, grid[i0 - 1], grid[i0], tol)
        if i1 < len(grid) - 1:
            ub = bisect_boundary(ok, grid[i1 + 1], grid[i1], tol)
    return float(lb), float(ub), open_end


def bisect_boundary(accept, rejected: float, accepted: float, tol: float,
                    max_iter: int = 100) -> float:
    """Accepted end of the bracket ``[rejected, accepted]`` after bisection to ``tol``.

    ``accept(x) -> bool``; the boundary between rejected and accepted values lies in the
    bracket (either order). Shared by the test inversions of this module and
    :mod:`ips_study.inference.conformal`.
    """
    for _ in range(max_iter):
        if abs(accepted - rejected) <= tol:
            break
        mid = 0.5 * (rejected + accepted)
        if accept(mid):
            accepted = mid
        else:
            rejected = mid
    return accepted


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

@dataclass
class HonestResults:
    """Robust confidence sets over a grid of ``M`` (``table``) and the original CI.

    Attributes
    ----------
    table : DataFrame with ``m``, ``lb``, ``ub``, ``method``, ``restriction``.
    original : ``(lb, ub)`` under exact parallel trends.
    """
    table: pd.DataFrame
    original: tuple[float, float]
    restriction: str
    estimate: float
    alpha: float
    _ci_at: object = field(repr=False, default=None)
    _accepts: object = field(repr=False, default=None)

    def tidy(self) -> pd.DataFrame:
        """The sensitivity table with the original interval as the first row (``m`` NaN)."""
        first = pd.DataFrame([{"m": np.nan, "lb": self.original[0], "ub": self.original[1],
                               "method": "original", "restriction": "none"}])
        return pd.concat([first, self.table], ignore_index=True)

    def breakdown(self, null: float = 0.0, *, tol: float = 1e-3, m_max: float | None = None
                  ) -> float:
        """Smallest ``M`` (or ``Mbar``) at which ``null`` is no longer rejected.

        For ``RM`` this is the test at ``null`` itself (the reported set is the hull of the
        accepted grid points, the same unless the accepted set has holes); for ``SD`` the
        FLCI contains ``null``.

        0.0 if the original interval already contains ``null``; ``inf`` if no ``M`` up to
        ``m_max`` does (default: 1000 x the largest grid value, or 1000 for ``Mbar``).
        Found by bisection (the sets grow with ``M``) to ``tol`` times the bracket.
        """
        contains = lambda m: self._accepts(m, null)
        if self.original[0] <= null <= self.original[1] or contains(0.0):
            return 0.0
        hi = max(float(self.table["m"].max()), 1e-12 if self.restriction == "SD" else 0.25)
        top = m_max if m_max is not None else (1000.0 * hi)
        while not contains(hi):
            hi *= 2
            if hi > top:
                return math.inf
        return bisect_boundary(contains, 0.0, hi, tol * hi)

    def plot(self, ax=None):
        """Sensitivity plot: the original interval, then the robust interval per ``M``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table
        ms = t["m"].to_numpy(float)
        step = np.min(np.diff(ms)) if len(ms) > 1 else 1.0
        x0 = ms.min() - step
        ax.errorbar([x0], [np.mean(self.original)], yerr=[[np.mean(self.original) -
                    self.original[0]], [self.original[1] - np.mean(self.original)]],
                    fmt="none", color="0.5", capsize=3, label="original")
        mid = (t["lb"] + t["ub"]) / 2
        ax.errorbar(ms, mid, yerr=[mid - t["lb"], t["ub"] - mid], fmt="none", color="black",
                    capsize=3, label=f"robust ({t['method'].iloc[0]})")
        ax.axhline(0.0, color="0.7", lw=0.8, ls="--")
        ax.set_xlabel("Mbar (relative magnitudes)" if self.restriction == "RM"
                      else "M (smoothness)")
        ax.set_ylabel(f"{100 * (1 - self.alpha):.0f}% confidence set")
        ax.legend(frameon=False)
        return ax


def honest_did(betahat, sigma=None, num_pre: int | None = None,
               num_post: int | None = None, *,
               restriction: str = "RM", m: Sequence[float] | None = None, l_vec=None,
               alpha: float = 0.05, grid: Sequence[float] | None = None,
               grid_points: int = 1000, refine: bool = True, seed: int = 0,
               lf_sims: int = 20_000) -> HonestResults:
    """Robust confidence sets for ``l' tau_post`` over a grid of ``M`` (Rambachan & Roth).

    Parameters
    ----------
    betahat : array (num_pre + num_post,), or an event-study result
        Event-study coefficients, pre-periods (earliest first) then post-periods, without
        the reference period. An :class:`~ips_study.designs.event.EventStudyResults` (what
        ``ips.event_study`` returns) is read by :func:`from_event_study`: then ``sigma`` is
        an optional covariance (its ``vcov=``) and ``num_pre``/``num_post`` come from the
        event times.
    sigma : array (n, n)
        Their covariance (any inference method's).
    num_pre, num_post : int
        Number of pre- and post-period coefficients (``num_post`` defaults to the rest).
    restriction : ``"RM"`` (relative magnitudes, ``m`` = Mbar) or ``"SD"`` (smoothness,
        ``m`` = M in the outcome's units per period squared).
    m : grid of Mbar / M values. Default ``0, 0.5, 1, 1.5, 2`` for RM; for SD ten values
        from 0 to the SE of the last pre-period coefficient.
    l_vec : weights of the post periods in the target (default: the first post period;
        ``np.full(T, 1/T)`` for the average effect).
    alpha : 1 - confidence level.
    grid : theta values at which the RM test is inverted. Default ``grid_points`` values
        over the estimate +/- (20 SE + the widest identified-set shift), widened if the set
        reaches an end. (``HonestDiD`` uses +/- 20 SE around zero.)
    refine : locate the RM endpoints between grid points by bisection (``False``: report
        the outermost accepted grid points, as ``HonestDiD`` does).
    seed, lf_sims : seed and number of normal draws for the least-favourable critical value
        of the RM hybrid test (HonestDiD draws 1000, which moves an endpoint by up to a
        grid step from seed to seed).

    Returns
    -------
    HonestResults
    """
    opts = dict(restriction=restriction, m=m, l_vec=l_vec, alpha=alpha, grid=grid,
                grid_points=grid_points, refine=refine, seed=seed, lf_sims=lf_sims)
    if hasattr(betahat, "event_time") and callable(betahat.event_time):
        if num_pre is not None or num_post is not None:
            raise ValueError("honest_did on an event-study result: num_pre/num_post come "
                             "from its event times; do not pass them")
        return from_event_study(betahat, vcov=sigma, **opts)
    if sigma is None or num_pre is None:
        raise ValueError("honest_did needs sigma= and num_pre= with an array of coefficients "
                         "(or pass an event-study result)")
    b, S, npre, npost, l = _check(betahat, sigma, num_pre, num_post, l_vec)
    restriction = str(restriction).upper()
    if restriction not in RESTRICTIONS:
        raise ValueError(f"restriction must be one of {RESTRICTIONS}, got {restriction!r}")
    if m is None:
        m = ([0.0, 0.5, 1.0, 1.5, 2.0] if restriction == "RM"
             else list(np.linspace(0, math.sqrt(S[npre - 1, npre - 1]), 10)))
    ms = np.asarray(m, float)
    if np.any(ms < 0) or not np.all(np.isfinite(ms)):
        raise ValueError("m must be finite and non-negative")
    est = float(l @ b[npre:])
    sd_theta = math.sqrt(float(l @ S[npre:, npre:] @ l))

    def ci_at(mv: float) -> tuple[float, float]:
        if restriction == "SD":
            return _flci(b, S, npre, npost, l, float(mv), alpha)
        if grid is not None:
            return _rm_ci(b, S, npre, npost, l, float(mv), alpha, np.asarray(grid, float),
                          refine, seed, lf_sims)[:2]
        pre_full = np.append(b[:npre], 0.0)
        max_change = np.abs(np.diff(pre_full)).max() + 3 * math.sqrt(np.diag(S)[:npre].max())
        half = 20 * sd_theta + mv * max_change * float(np.abs(l) @ np.arange(1, npost + 1))
        for _ in range(6):
            g = np.linspace(est - half, est + half, grid_points)
            lo, hi, open_end = _rm_ci(b, S, npre, npost, l, float(mv), alpha, g, refine,
                                      seed, lf_sims)
            if not open_end:
                return lo, hi
            half *= 4
        return lo, hi

    def accepts(mv: float, theta: float) -> bool:
        if restriction == "SD":
            lo, hi = _flci(b, S, npre, npost, l, float(mv), alpha)
            return lo <= theta <= hi
        return bool(_rm_acceptor(b, S, npre, npost, l, float(mv), alpha, seed,
                                 lf_sims)(theta)[0])

    rows = []
    for mv in ms:
        lo, hi = ci_at(mv)
        rows.append({"m": float(mv), "lb": lo, "ub": hi,
                     "method": "C-LF" if restriction == "RM" else "FLCI",
                     "restriction": restriction})
    return HonestResults(table=pd.DataFrame(rows), original=original_ci(
        b, S, npre, npost, l_vec=l, alpha=alpha), restriction=restriction, estimate=est,
        alpha=alpha, _ci_at=ci_at, _accepts=accepts)


def from_event_study(results, *, vcov=None, **kwargs) -> HonestResults:
    """:func:`honest_did` on an event study's coefficients.

    ``results`` is an :class:`~ips_study.designs.event.EventStudyResults` (or anything with
    ``event_time()`` -> columns ``event_time``, ``estimate``); the reference period
    (``extras["ref"]``, default -1) is dropped. Coefficients before the reference are the
    pre-periods and all later ones post-periods, as in ``HonestDiD`` (with ``ref = -2`` for
    anticipation, event time -1 counts as post).

    The covariance is ``vcov`` if given (array in event-time order, or a DataFrame labelled
    ``event_<k>``), else the results' ``cov`` restricted to the terms ``event_<k>``. The
    default ``placebo-t`` carries one (the correlation of its rescaled placebo draws with the
    studentised standard errors on the diagonal). Plain placebo, Conley-Taber, Ferman-Pinto
    and the wild bootstrap have none (``has_cov`` is False): use ``placebo-t`` or ``cluster``,
    or pass ``vcov=`` (for example the covariance of placebo estimates).

    Examples
    --------
    >>> import warnings, ips_study as ips
    >>> from ips_study.designs.register_panel import example_panel
    >>> p = example_panel(seed=2)
    >>> p["ips"] = ((p["municipality"] == "1804") & (p["period"] >= "2013")).astype(int)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     es = ips.event_study(p, y="workdays", unit="person_id", time="period",
    ...                          treat="ips", cluster="municipality", inference="cluster",
    ...                          bins=(-4, 4))
    >>> res = from_event_study(es, restriction="SD", m=[0, 1])
    >>> list(res.table["m"])
    [0.0, 1.0]
    """
    et = results.event_time()
    if et is None or "event_time" not in et:
        raise ValueError("results has no event_time() table; fit an event study")
    extras = getattr(results, "extras", None)
    ref = extras.get("ref", -1) if isinstance(extras, dict) else -1
    et = et[et["event_time"] != ref].sort_values("event_time")
    k = et["event_time"].to_numpy()
    beta = et["estimate"].to_numpy(float)
    terms = [f"event_{int(x)}" for x in k]
    cov = vcov
    if cov is None:
        if getattr(results, "has_cov", True) is False or getattr(results, "cov", None) is None:
            method = getattr(results, "inference", "this inference method")
            raise ValueError(f"results carry no covariance ({method!r} has none); refit with "
                             f"with_inference('cluster') or pass vcov=")
        cov = results.cov
    if isinstance(cov, pd.DataFrame):
        missing = [t for t in terms if t not in cov.index or t not in cov.columns]
        if missing:
            raise ValueError(f"vcov/cov lacks the terms {missing}")
        cov = cov.loc[terms, terms]
    cov = np.asarray(cov, float)
    if cov.shape != (len(beta), len(beta)):
        raise ValueError(f"vcov must be {len(beta)} x {len(beta)} (terms {terms})")
    if not np.all(np.isfinite(cov)):
        raise ValueError("the covariance of the event-study terms has missing values; the "
                         "inference method supplies none: pass vcov=")
    num_pre = int(np.sum(k < ref))
    return honest_did(beta, cov, num_pre, len(beta) - num_pre, **kwargs)
