"""Two-way fixed-effects least squares by within transformation, in numpy.

The workhorse behind :mod:`ips_study.designs.did` and :mod:`ips_study.designs.event`, and the
fit that the methods of :mod:`ips_study.inference` re-use (it sits below both packages, so
neither imports the other's modules to get it; ``ips_study.designs.twfe`` is the older name).
Fixed effects are removed by the within transformation (Frisch-Waugh-Lovell), so the
slope coefficients and residuals equal those of the regression with every dummy included:

* balanced panel, two fixed effects, no weights: one pass of group sums,
  ``x - mean_i(x) - mean_t(x) + mean(x)`` (row and column means of the persons x periods
  grid when rows are sorted person-major: contiguous reductions, no gathers);
* balanced panel where each person stays in one municipality (no movers) and there are no
  covariates: the demeaned treatment ``(d_i - mean(d)) (b_t - mean(b))`` is a product of a
  person and a period vector, so coefficients and clustered scores follow in closed form
  from ``Y @ (b - mean(b))`` and the period means of ``Y`` (one pass over the outcome), and
  the demeaned columns and residuals are built only if an inference method asks for them;
* two fixed effects otherwise (unbalanced, weights), when the smaller one has at most
  :data:`ips_study.twoway.MAX_PERIODS` levels: an exact solve of the periods x periods
  system left after eliminating the person effects (:class:`ips_study.twoway.TwoWaySchur`),
  a fixed handful of passes over the rows however slowly alternating projections would
  converge (persons entering and leaving); when the rows are sorted by person,
  :class:`TwfeFit` runs it block by block and takes the coefficients and cluster scores from
  block sums, so no demeaned column of all rows is built for a clustered fit;
* otherwise (more fixed effects, or ``fast=False``): the method of alternating
  projections (MAP; Guimarães & Portugal 2010, Gaure 2013), sweeping weighted group means
  until the largest change is below ``tol``.

Cluster-robust covariance (CRV1) is computed from the demeaned regressors; its
small-sample factor follows a named convention (see :func:`small_sample_factor`).

Examples
--------
>>> import numpy as np
>>> unit = np.repeat(np.arange(4), 3); time = np.tile(np.arange(3), 4)
>>> d = ((unit == 0) & (time == 2)).astype(float)
>>> y = unit + time + 2.0 * d
>>> dm = Demeaner([unit, time])
>>> beta, resid, bread = wls(dm(y), dm(d))
>>> round(float(beta[0]), 6)
2.0
"""

from __future__ import annotations

import numpy as np

from ips_study.narrow import as_codes
from ips_study.twoway import MAX_PERIODS, TwoWaySchur

SMALL_SAMPLE = ("fixest", "stata", "none")


class Demeaner:
    """Within transformation for one or more sets of fixed effects.

    Parameters
    ----------
    fe : list of int arrays
        Integer codes (0..L-1) of each fixed effect, one array per effect, all of length n.
    weights : array, optional
        Observation weights; demeaning then uses weighted group means.
    tol : float
        MAP stops when the largest absolute change of a sweep is below ``tol`` times the
        scale of the column.
    maxiter : int
        Maximum MAP sweeps (an error is raised if not converged).
    fast : bool
        Use the closed forms on balanced panels (``False`` forces alternating projections,
        for checks).
    """

    def __init__(self, fe, weights=None, *, tol: float = 1e-13, maxiter: int = 100_000,
                 fast: bool = True) -> None:
        # narrow codes (:mod:`ips_study.narrow`) stay narrow until ``fe`` is read
        self._codes = [as_codes(f) for f in fe]
        self.n = len(self._codes[0]) if self._codes else 0
        self.levels = [c.n_levels if len(c) else 0 for c in self._codes]
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self.tol = tol
        self.maxiter = maxiter
        self.fast = fast
        self.iterations = 0
        two = (fast and self.weights is None and len(self._codes) == 2
               and self.n == np.prod(self.levels))
        # rows stored as a person-major grid (sorted panel): demean by reshaping, no gathers
        self.grid = bool(two and self._is_grid())
        if self.grid:
            L0, L1 = self.levels
            self._wsum = [np.full(L0, float(L1)), np.full(L1, float(L0))]
            self.balanced = True
            return
        # otherwise an O(n) check (no sort): every (i, t) cell holds exactly one row
        self.balanced = bool(two and np.bincount(
            self.fe[0] * self.levels[1] + self.fe[1], minlength=self.n).max(initial=0) == 1)

    @property
    def fe(self) -> list[np.ndarray]:
        """The fixed effects' codes as intp arrays (widened on first use)."""
        return [c.full() for c in self._codes]

    @property
    def _wsum(self) -> list[np.ndarray]:
        """Weight totals per level of each fixed effect (built on first use: the direct
        two-way solve has its own, so an unbalanced two-way fit never needs these)."""
        if "_wsum_" not in vars(self):
            self._wsum_ = [np.bincount(f, weights=self.weights, minlength=L).astype(float)
                           for f, L in zip(self.fe, self.levels)]
        return self._wsum_

    @_wsum.setter
    def _wsum(self, value) -> None:
        self._wsum_ = value

    def _is_grid(self) -> bool:
        shape = tuple(self.levels)
        # the period check first: it fails at once on an unsorted panel
        return bool((self.fe[1].reshape(shape) == np.arange(shape[1])[None, :]).all()
                    and (self.fe[0].reshape(shape) == np.arange(shape[0])[:, None]).all())

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Demean a vector or the columns of a matrix (returns a new float64 array)."""
        x = np.asarray(x, dtype=float)
        if len(self._codes) == 2 and not self.balanced and x.size:
            X = x.reshape(len(x), -1)
            sc = self.schur()
            out = sc.demean(X) if sc is not None else self._two_way(X)
            return out.reshape(x.shape)
        if x.ndim == 1:
            return self._demean_col(x)
        out = np.empty_like(x, dtype=float)
        for j in range(x.shape[1]):
            out[:, j] = self._demean_col(x[:, j])
        return out

    def schur(self) -> TwoWaySchur | None:
        """The exact two-way solver (built once), or None when MAP is used instead.

        Its ``person`` side is the larger fixed effect; ``self.direct_order`` says which
        (``(0, 1)``: ``fe[1]`` is the period side).
        """
        if not hasattr(self, "_schur"):
            self._schur = None
            if self.fast and len(self._codes) == 2 and min(self.levels) <= MAX_PERIODS:
                big, small = (0, 1) if self.levels[0] >= self.levels[1] else (1, 0)
                self.direct_order = (big, small)
                self._schur = TwoWaySchur(self._codes[big], self._codes[small], self.weights,
                                          self.levels[big], self.levels[small])
                self.iterations = 1
        return self._schur

    def _two_way(self, X: np.ndarray) -> np.ndarray:
        """Alternating projections for two fixed effects, iterated on the effects themselves.

        Sweeping ``x -= mean_i(x); x -= mean_t(x)`` over n rows is the same block Gauss-Seidel
        iteration as ``a = (S_i - W b) / w_i; b = (S_t - W'a) / w_t`` on the effect vectors, with
        ``W`` the sparse (weighted) person-by-period incidence matrix; each sweep then costs two
        sparse products instead of passes over every row, and rows are touched once at the end.
        """
        from scipy import sparse

        i, t = self.fe
        Li, Lt = self.levels
        if not hasattr(self, "_W"):
            data = np.ones(self.n) if self.weights is None else self.weights
            self._W = sparse.csr_matrix((data, (i, t)), shape=(Li, Lt))
            self._WT = self._W.T.tocsr()
        Xw = X if self.weights is None else X * self.weights[:, None]
        Si = np.column_stack([np.bincount(i, weights=Xw[:, c], minlength=Li)
                              for c in range(X.shape[1])])
        St = np.column_stack([np.bincount(t, weights=Xw[:, c], minlength=Lt)
                              for c in range(X.shape[1])])
        wi, wt = self._wsum[0][:, None], self._wsum[1][:, None]
        scale = max(float(np.abs(X).max()), 1.0)
        b = np.zeros((Lt, X.shape[1]))
        for it in range(1, self.maxiter + 1):
            a = (Si - self._W @ b) / wi
            b_new = (St - self._WT @ a) / wt
            change = float(np.abs(b_new - b).max())
            b = b_new
            if change < self.tol * scale:
                self.iterations = max(self.iterations, it)
                break
        else:
            raise RuntimeError(f"alternating projections did not converge in {self.maxiter} sweeps")
        a = (Si - self._W @ b) / wi
        out = X - a[i]
        out -= b[t]
        return out

    def _group_mean(self, k: int, x: np.ndarray) -> np.ndarray:
        f = self.fe[k]
        xw = x if self.weights is None else x * self.weights
        return np.bincount(f, weights=xw, minlength=self.levels[k]) / self._wsum[k]

    def _demean_col(self, x: np.ndarray) -> np.ndarray:
        if not self._codes:
            return x.copy()
        if self.grid:
            g = x.reshape(self.levels)
            rows = g.mean(axis=1, keepdims=True)
            cols = g.mean(axis=0, keepdims=True)
            cols -= rows.mean()  # the grand mean (balanced: mean of the row means)
            out = g - rows
            out -= cols
            return out.reshape(-1)
        if self.balanced:
            a = self._group_mean(0, x)
            b = self._group_mean(1, x)
            out = x - a[self.fe[0]]
            out -= b[self.fe[1]]
            out += x.mean()
            return out
        out = x.copy()
        scale = max(float(np.abs(x).max()), 1.0)
        for it in range(1, self.maxiter + 1):
            change = 0.0
            for k in range(len(self.fe)):
                m = self._group_mean(k, out)
                change = max(change, float(np.abs(m).max()))
                out -= m[self.fe[k]]
            if change < self.tol * scale:
                self.iterations = max(self.iterations, it)
                return out
        raise RuntimeError(f"alternating projections did not converge in {self.maxiter} sweeps")

    def subset(self, rows: np.ndarray) -> "Demeaner":
        """A demeaner for a subset of rows (fixed-effect codes re-factorised)."""
        fe = [_dense(f[rows], L) for f, L in zip(self.fe, self.levels)]
        w = None if self.weights is None else self.weights[rows]
        sub = Demeaner(fe, w, tol=self.tol, maxiter=self.maxiter, fast=self.fast)
        sc = getattr(self, "_schur", None)
        if sc is not None and not sub.balanced:
            # the periods x periods matrix of the subset by downdating this one's
            big, small = self.direct_order
            removed = np.ones(self.n, dtype=bool)
            removed[rows] = False
            used = np.bincount(self.fe[small][rows], minlength=self.levels[small]) > 0
            if sub.levels[small] <= sub.levels[big]:
                sub.direct_order = (big, small)
                sub._schur = TwoWaySchur(sub.fe[big], sub.fe[small], w, sub.levels[big],
                                         sub.levels[small],
                                         off=sc.downdate(removed)[np.ix_(used, used)])
                sub.iterations = 1
        return sub


def _dense(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Re-number integer codes to 0..L'-1 keeping their order (O(n), no sort)."""
    used = np.bincount(codes, minlength=n_levels) > 0
    return (np.cumsum(used) - 1)[codes]


def wls(yt: np.ndarray, Xt: np.ndarray, weights=None):
    """Least squares on demeaned data.

    Returns
    -------
    beta : (k,) array
    resid : (n,) array
    bread : (k, k) array, the inverse of ``X' W X``
    """
    X = Xt.reshape(len(Xt), -1)
    Xw = X if weights is None else X * weights[:, None]
    bread = np.linalg.inv(Xw.T @ X)
    beta = bread @ (Xw.T @ yt)
    resid = X @ beta
    np.subtract(yt, resid, out=resid)  # one n-vector allocated, not two
    return beta, resid, bread


def cluster_scores(Xt: np.ndarray, resid: np.ndarray, cluster: np.ndarray, n_clusters: int,
                   weights=None) -> np.ndarray:
    """Per-cluster score sums ``sum_{r in g} w_r x_r e_r`` as a (G, k) array."""
    X = Xt.reshape(len(Xt), -1)
    we = resid if weights is None else resid * weights
    return np.column_stack([np.bincount(cluster, weights=X[:, j] * we, minlength=n_clusters)
                            for j in range(X.shape[1])])


def fixed_effect_dof(fe, cluster) -> tuple[int, int]:
    """Fixed-effect parameters counted by fixest/pyfixest's default ``k_fixef='nonnested'``.

    Returns ``(all, nonnested)``: all levels minus one per extra fixed effect, and that count
    with every fixed effect fully nested in the clusters replaced by one parameter.
    """
    if not fe:
        return 0, 0
    levels = [int(np.count_nonzero(np.bincount(f))) for f in fe]
    k_all = sum(levels) - (len(fe) - 1)
    nested = []
    for f in fe:
        # nested when each level sits in one cluster: write any row's cluster per level, then
        # check every row agrees (O(n), no sort)
        first = np.empty(int(f.max()) + 1, dtype=np.intp)
        first[f] = cluster
        nested.append(bool(np.all(first[f] == cluster)))
    k_nonnested = k_all - sum(L for L, n in zip(levels, nested) if n) + sum(nested)
    return k_all, k_nonnested


def small_sample_factor(convention: str, *, n: int, k: int, n_clusters: int,
                        k_fe_nonnested: int = 0) -> float:
    """Small-sample factor ``c`` of the CRV1 covariance ``c * bread * meat * bread``.

    ``"fixest"`` (pyfixest / R fixest defaults): ``G/(G-1) * (n-1)/(n-k-k_fe)`` with fixed
    effects nested in the clusters not counted. ``"stata"`` (Stata ``areg/xtreg, vce(cluster)``,
    R ``plm`` ``vcovHC(type="sss")``): ``G/(G-1) * (n-1)/(n-k)`` with ``k`` the slope
    coefficients only. ``"none"``: 1.
    """
    if convention not in SMALL_SAMPLE:
        raise ValueError(f"small_sample must be one of {SMALL_SAMPLE}")
    if convention == "none":
        return 1.0
    g = n_clusters / (n_clusters - 1)
    if convention == "stata":
        return g * (n - 1) / (n - k)
    return g * (n - 1) / (n - k - k_fe_nonnested)


def crv1(Xt, resid, cluster, n_clusters, bread, weights=None, factor: float = 1.0):
    """Cluster-robust (CRV1) covariance ``factor * B (sum_g s_g s_g') B``."""
    s = cluster_scores(Xt, resid, cluster, n_clusters, weights)
    return factor * bread @ (s.T @ s) @ bread


class TwfeFit:
    """Fitted pieces of a two-way fixed-effects regression that inference methods reuse.

    Treatment columns are ``D_u = 1[unit == u] * B`` for a timing matrix ``B`` (``post`` for
    DiD, event-time bins for an event study), so a placebo that moves treatment to another
    unit only swaps the unit indicator. Read-only after construction.

    On a balanced person-period panel without weights, covariates or movers the fit is in
    closed form (see :meth:`_fit_balanced`); ``yt``, ``Xt`` and ``resid`` are then built on
    first access (e.g. by the wild bootstrap), and the cluster scores come from per-person
    sums reduced to municipalities.

    Parameters
    ----------
    y : (n,) outcome; B : (n, p) timing matrix (a function of the period only);
        Z : (n, q) covariates (may be q = 0)
    unit : (n,) int codes of the municipality (also the cluster), ``unit_labels`` their names
    treated : int code of the treated unit, or a sequence of codes (several treated units;
        ``B`` then holds each treated row's own timing, and ``timing`` gives it per period)
    period : (n,) int codes of the period; post : (n,) 0/1 post indicator
    fe : list of int arrays (fixed effects to absorb)
    weights : (n,) or None
    terms, covariates : names of the columns of B and Z
    small_sample : CRV1 convention (see :func:`small_sample_factor`)
    sizes : (n,) per-row contribution to the unit size used by the size-based inference
        methods (default: the weights, or 1 per row); see :meth:`unit_sizes`
    timing : (k, T, p) timing by period of each treated unit (default: ``B`` by period, the
        same for every treated unit); placebo assignments give a control this timing
    fast : use the balanced closed forms when they apply (``False``: alternating
        projections and explicit demeaned columns throughout, for checks)
    cell_rows : (units, periods) row counts per cell when already known (the role checks
        count them), saving a pass over the rows; counted when needed otherwise
    period_post : (T,) 0/1 post indicator by period, when ``post`` is None
    """

    def __init__(self, *, y, B, Z, unit, unit_labels, treated, period, period_labels, post,
                 fe, weights=None, terms, covariates=(), small_sample="fixest",
                 sizes=None, timing=None, tol: float = 1e-13, fast: bool = True,
                 cell_rows=None, period_post=None) -> None:
        self.y = np.asarray(y, dtype=float)
        if B is None and timing is None:
            raise ValueError("TwfeFit needs B or timing")
        # B=None: every row's timing is timing[0] at its period, built only if asked for
        self._B = None if B is None else np.asarray(B, dtype=float).reshape(len(self.y), -1)
        self.Z = np.asarray(Z, dtype=float).reshape(len(self.y), -1)
        self.unit_labels = np.asarray(unit_labels)
        # codes may be narrow (:mod:`ips_study.narrow`): ``unit``, ``period`` and ``fe`` widen
        # them on first use, which a clustered fit on a sorted panel never needs
        self._unit = as_codes(unit, len(self.unit_labels))
        self.treated_units = np.atleast_1d(np.asarray(treated, dtype=np.intp))
        #: the first treated unit (the only one in a one-treated-unit design)
        self.treated = int(self.treated_units[0])
        self.period_labels = np.asarray(period_labels)
        self._period = as_codes(period, len(self.period_labels))
        # post=None: built from the (T,) ``period_post`` on first use
        self._post = None if post is None else np.asarray(post, dtype=np.int8)
        self._period_post = period_post
        self._fe = [self._unit if f is unit else self._period if f is period else as_codes(f)
                    for f in fe]
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self.terms = list(terms)
        self.covariates = list(covariates)
        self.small_sample = small_sample
        self.n_units = len(self.unit_labels)
        self.sizes = None if sizes is None else np.asarray(sizes, dtype=float)
        self.is_treated_unit = np.zeros(self.n_units, dtype=bool)
        self.is_treated_unit[self.treated_units] = True
        self.cell_rows = None if cell_rows is None else np.asarray(cell_rows)
        self.timing = (np.repeat(self.period_timing()[None], len(self.treated_units), axis=0)
                       if timing is None else np.asarray(timing, dtype=float))
        self.demeaner = Demeaner(self._fe, self.weights, tol=tol, fast=fast)
        self.closed_form = False
        self._scores = None
        self._owner = self._person_owner()
        self.streamed = False
        if not self._fit_balanced() and not self._fit_streamed():
            self._yt = self.demeaner(self.y)
            self._Xt = self.demeaner(self._regressors())
            self.beta, self._resid, self.bread = wls(self._yt, self._Xt, self.weights)
        if self.streamed:
            pass  # k_fe_nonnested set by the pass over the rows
        elif self.demeaner.grid:
            # person-major grid: nestedness is read off the reshaped clusters (no scatter
            # over all rows); a period is nested only if period 0 sits in one cluster
            c = self.unit.reshape(self.demeaner.levels)
            L = self.demeaner.levels
            nested = [self._owner is not None,
                      bool((c[:, 0] == c[0, 0]).all() and (c == c[:1, :]).all())]
            self.k_fe_nonnested = (sum(L) - 1 - sum(l for l, n in zip(L, nested) if n)
                                   + sum(nested))
        else:
            _, self.k_fe_nonnested = fixed_effect_dof(self.fe, self.unit)

    # -- balanced closed form -----------------------------------------------------------------
    def _person_owner(self):
        """Unit of each person on a balanced two-way panel if no person moves, else None."""
        dm = self.demeaner
        if not dm.balanced:
            return None
        if dm.grid:
            c = self.unit.reshape(dm.levels)
            owner = c[:, 0]
            return owner.copy() if (c == owner[:, None]).all() else None
        owner = np.empty(dm.levels[0], dtype=np.intp)
        owner[self.fe[0]] = self.unit
        return owner if np.array_equal(owner[self.fe[0]], self.unit) else None

    def _fit_balanced(self) -> bool:
        """Closed-form fit on a balanced panel without weights, covariates or movers.

        With persons nested in units and ``B`` a function of the period, the treatment is
        ``D_it = d_i b_t`` and its within transform is ``dc_i bc_t`` (``dc = d - mean(d)``,
        ``bc = b - mean_t(b)``). Because ``dc`` and ``bc`` sum to zero, the person, period and
        grand means of ``y`` drop out of every cross-product:

        * ``X~'X~ = (dc'dc) (bc'bc)`` and ``X~'y~ = dc' R`` with ``R = Y bc - 1 (ybar_t' bc)``,
          where ``Y`` is the persons x periods outcome grid and ``ybar_t`` its period means;
        * the score of person i is ``dc_i (R_i - dc_i (bc'bc) beta)`` (the sum over t of
          ``x~_it e_it``), and a cluster's score is the sum over its persons.

        So the whole fit costs one matrix product over ``Y`` and its column means. Returns
        False (nothing set) when the conditions do not hold.
        """
        dm = self.demeaner
        if (self._owner is None or self.weights is not None or len(self.fe) != 2
                or self.Z.shape[1]):
            return False
        (P, T), p = dm.levels, self.p
        person, period = self.fe
        # B given by period (B=None) needs no check that it is a function of the period
        common = self._B is None and self._fe[1].same(self._period)
        if dm.grid:
            b = np.asarray(self.timing[0], dtype=float) if common else self.B[:T]
            if not common and not (self.B.reshape(P, T, p) == b).all():
                return False
            Y = self.y.reshape(P, T)
            ybar_t = Y.mean(axis=0)
            bc = b - b.mean(axis=0)
            R = Y @ bc
        else:
            if common:
                b = np.asarray(self.timing[0], dtype=float)
            else:
                b = np.empty((T, p))
                b[period] = self.B
                if not np.array_equal(b[period], self.B):
                    return False
            ybar_t = np.bincount(period, weights=self.y, minlength=T) / P
            bc = b - b.mean(axis=0)
            R = np.column_stack([np.bincount(person, weights=self.y * bc[period, j],
                                             minlength=P) for j in range(p)])
        R -= ybar_t @ bc
        d = self.is_treated_unit[self._owner].astype(float)
        dc = d - d.mean()
        BB = bc.T @ bc
        self.bread = np.linalg.inv((dc @ dc) * BB)
        self.beta = self.bread @ (dc @ R)
        q = dc[:, None] * (R - dc[:, None] * (BB @ self.beta)[None, :])
        self._scores = np.column_stack([np.bincount(self._owner, weights=q[:, j],
                                                    minlength=self.n_units)
                                        for j in range(p)])
        self._dc, self._bc = dc, bc
        self.closed_form = True
        return True

    # -- unbalanced two-way panel sorted by person: one streamed pass -------------------------
    def _regressors(self) -> np.ndarray:
        """Raw regressors (n, k): treatment columns ``1[treated unit] * B``, then covariates."""
        D = np.where(self.is_treated_unit[self.unit][:, None], self.B, 0.0)
        return np.column_stack([D, self.Z]) if self.Z.shape[1] else D

    def _fit_streamed(self) -> bool:
        """Fit from the direct two-way solve's demeaned blocks, never all rows at once.

        Applies when the exact two-way solve is used (:meth:`Demeaner.schur`) and the rows
        are sorted by person (:attr:`ips_study.twoway.TwoWaySchur.starts`). Each block of
        whole persons gives its demeaned columns ``[X~ y~]``; they add up to ``X~'W X~``,
        ``X~'W y~`` and, per cluster g, ``Q_g = sum_{r in g} w x~_r [x~_r' y~_r]``. The
        cluster scores are then ``Q_g[:, y] - Q_g[:, X] beta``, which is
        ``sum_{r in g} w x~_r e_r`` with ``e = y~ - X~ beta``. The same pass counts the
        rows per (cluster, period) cell and checks that no person moves between clusters,
        which gives the fixed-effect count (:func:`fixed_effect_dof`) without a gather over
        all rows. ``yt``, ``Xt`` and ``resid`` are built only if an inference method asks.
        Returns False (nothing set) when the conditions do not hold.
        """
        dm = self.demeaner
        if not dm.fast or len(self._fe) != 2 or dm.balanced:
            return False
        sc = dm.schur()
        if sc is None or dm.direct_order != (0, 1) or sc.starts is None:
            return False
        k, p, G, T = self.k, self.p, self.n_units, sc.T
        Z, y, unit, w = self.Z, self.y, self._unit, self.weights
        treated, st = self.is_treated_unit, sc.starts
        # timing by period (B not built): the treatment columns of a block are gathered
        # from the small (T, p) table
        V = np.asarray(self.timing[0], dtype=float).T.copy() if self._B is None else None

        def columns(lo: int, hi: int) -> np.ndarray:
            out = np.empty((k + 1, hi - lo))
            on = treated[unit[lo:hi]]
            if V is not None:
                np.take(V, self._period[lo:hi], axis=1, out=out[:p], mode="clip")
                out[:p] *= on
            for c in range(p if V is None else 0):
                np.multiply(self.B[lo:hi, c], on, out=out[c])
            out[p:k] = Z[lo:hi].T
            out[k] = y[lo:hi]
            return out

        gram = np.zeros((k + 1, k + 1))
        Q = np.zeros((G, k, k + 1))
        known = self.cell_rows is not None and self.cell_rows.shape == (G, T)
        cells = self.cell_rows.reshape(-1) if known else np.zeros(G * T)
        mover = False
        pairs = [(j, l) for j in range(k) for l in range(j, k + 1)]
        blocks = iter(sc.row_blocks())
        for lo, hi, Xt in sc.demeaned_blocks(columns):
            _, _, p0, p1 = next(blocks)
            Xw = Xt if w is None else Xt * w[lo:hi]
            gram += Xw @ Xt.T
            cl = unit[lo:hi]
            if not known:
                cells += np.bincount(cl * T + sc._period[lo:hi], minlength=G * T)
            first = st[p0:p1] - lo
            owner = cl[first]
            stay = not (np.repeat(owner, np.diff(st[p0:p1 + 1])) != cl).any()
            mover = mover or not stay
            prod = np.stack([Xw[j] * Xt[l] for j, l in pairs])
            # persons who stay in one cluster: their sums first (a contiguous reduction),
            # then a bincount over persons instead of rows
            if stay:
                prod = np.add.reduceat(prod, first, axis=1)
            by = owner if stay else cl
            for i, (j, l) in enumerate(pairs):
                Q[:, j, l] += np.bincount(by, weights=prod[i], minlength=G)
        for j in range(k):  # the X'X part of Q is symmetric
            Q[:, j + 1:k, j] = Q[:, j, j + 1:k]
        self.bread = np.linalg.inv(gram[:k, :k])
        self.beta = self.bread @ gram[:k, k]
        self._scores = Q[:, :, k] - Q[:, :, :k] @ self.beta
        # fixest's count (fixed_effect_dof): persons are all used (sorted, dense codes)
        seen = cells.reshape(G, T) > 0
        used = seen.any(axis=0)
        levels = [sc.P, int(used.sum())]
        nested = [not mover, bool((seen.sum(axis=0)[used] == 1).all())]
        self.k_fe_nonnested = (sum(levels) - 1 - sum(L for L, n in zip(levels, nested) if n)
                               + sum(nested))
        self.streamed = True
        return True

    @property
    def yt(self) -> np.ndarray:
        """Demeaned outcome (n,)."""
        if not hasattr(self, "_yt"):
            self._yt = self.demeaner(self.y)
        return self._yt

    @property
    def Xt(self) -> np.ndarray:
        """Demeaned regressors (n, k): treatment columns then covariates."""
        if not hasattr(self, "_Xt") and not self.closed_form:
            self._Xt = self.demeaner(self._regressors())
        if not hasattr(self, "_Xt"):
            if self.demeaner.grid:
                P, T = self.demeaner.levels
                self._Xt = (self._dc[:, None, None] * self._bc[None]).reshape(P * T, self.p)
            else:
                self._Xt = self._dc[self.fe[0]][:, None] * self._bc[self.fe[1]]
        return self._Xt

    @property
    def resid(self) -> np.ndarray:
        """Residuals of the within regression (n,)."""
        if not hasattr(self, "_resid"):
            self._resid = self.yt - self.Xt @ self.beta
        return self._resid

    # -- shapes -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def unit(self) -> np.ndarray:
        """Unit (cluster) code of every row (n,), intp."""
        return self._unit.full()

    @property
    def period(self) -> np.ndarray:
        """Period code of every row (n,), intp."""
        return self._period.full()

    @property
    def fe(self) -> list[np.ndarray]:
        """Codes of the absorbed fixed effects (intp arrays)."""
        return [c.full() for c in self._fe]

    @property
    def post(self) -> np.ndarray:
        """0/1 post indicator of every row (n,)."""
        if self._post is None:
            self._post = np.asarray(self._period_post, dtype=np.int8)[self.period]
        return self._post

    @property
    def p(self) -> int:
        return self.timing.shape[2] if self._B is None else self._B.shape[1]

    @property
    def B(self) -> np.ndarray:
        """Timing of every row (n, p); built from ``timing`` on first use when not given."""
        if self._B is None:
            self._B = np.asarray(self.timing[0], dtype=float)[self.period]
        return self._B

    @property
    def k(self) -> int:
        return self.p + self.Z.shape[1]

    @property
    def names(self) -> list[str]:
        return self.terms + self.covariates

    def treatment(self, u: int) -> np.ndarray:
        """Treatment columns ``1[unit == u] * B`` for unit code ``u``."""
        return np.where((self.unit == u)[:, None], self.B, 0.0)

    def crv_factor(self, convention: str | None = None) -> float:
        return small_sample_factor(convention or self.small_sample, n=self.n, k=self.k,
                                   n_clusters=self.n_units, k_fe_nonnested=self.k_fe_nonnested)

    def cluster_scores(self) -> np.ndarray:
        """Per-cluster score sums ``sum_{r in g} w_r x~_r e_r`` (G, k), computed once."""
        if self._scores is None:
            self._scores = cluster_scores(self.Xt, self.resid, self.unit, self.n_units,
                                          self.weights)
        return self._scores

    def vcov_cluster(self, convention: str | None = None) -> np.ndarray:
        """CRV1 covariance of all coefficients, clustered by unit."""
        s = self.cluster_scores()
        return self.crv_factor(convention) * self.bread @ (s.T @ s) @ self.bread

    # -- unit-period aggregates ---------------------------------------------------------------
    def cell_means(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted unit-by-period means of ``values`` (U x T) and cell weights (U x T)."""
        U, T = self.n_units, len(self.period_labels)
        cell = self.unit * T + self.period
        w = self.weights
        wsum = np.bincount(cell, weights=w, minlength=U * T).reshape(U, T).astype(float)
        tot = np.bincount(cell, weights=values if w is None else w * values,
                          minlength=U * T).reshape(U, T)
        with np.errstate(invalid="ignore", divide="ignore"):
            return tot / wsum, wsum

    def period_post(self) -> np.ndarray:
        """0/1 post indicator per period (T,)."""
        if self._post is None:
            return np.asarray(self._period_post) > 0
        return np.bincount(self.period, weights=self.post,
                           minlength=len(self.period_labels)) > 0

    def period_timing(self) -> np.ndarray:
        """Timing matrix ``B`` per period (T x p); B depends on the period only."""
        T = len(self.period_labels)
        out = np.zeros((T, self.p))
        out[self.period] = self.B
        return out

    def unit_sizes(self) -> np.ndarray:
        """Average size (persons) per observed period, per unit.

        The size of a unit-period cell is the sum of ``sizes`` over its rows when given
        (e.g. ``n_persons`` of an aggregate panel, even in an unweighted fit), else the sum
        of the weights, else its number of rows.
        """
        U, T = self.n_units, len(self.period_labels)
        if self.sizes is not None:
            wsum = np.bincount(self.unit * T + self.period, weights=self.sizes,
                               minlength=U * T).reshape(U, T)
            obs = (wsum > 0).sum(axis=1)
            return wsum.sum(axis=1) / np.maximum(obs, 1)
        _, wsum = self.cell_means(np.zeros(self.n))
        obs = (wsum > 0).sum(axis=1)
        return wsum.sum(axis=1) / np.maximum(obs, 1)

