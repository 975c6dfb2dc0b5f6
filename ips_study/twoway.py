"""Exact two-way (person x period) fixed-effect projections through the periods x periods system.

With person effects ``a`` and period effects ``b`` the weighted normal equations are
``n_i a_i + (N b)_i = S_i`` and ``N' a + n_t b = S_t`` (``N`` the persons x periods weight
matrix, ``n_i``/``n_t`` the weight totals, ``S_i``/``S_t`` the group sums of ``w x``).
Eliminating ``a`` leaves the periods x periods system

``C b = r``,  ``C = diag(n_t) - N' diag(1/n_i) N``,  ``r = S_t - N' (S_i / n_i)``.

With a few hundred periods ``C`` is small: it is built once (one matrix product over the
persons x periods grid, in blocks) and solved exactly, so demeaning a column takes a fixed
handful of passes over the rows instead of the dozens of sweeps alternating projections need
when persons enter and leave. ``C`` is singular (a constant moves between ``a`` and ``b``
in each connected component of the person-period graph); one period per component is fixed,
which leaves the residuals unchanged.

:class:`CellGram` reuses ``C`` for regressors that live on (group, period) cells, the
placebo treatments ``1[municipality = g] * timing[period]``: their cross-products
``D' W M D`` follow from group sums alone, without demeaning any of them.

Examples
--------
>>> import numpy as np
>>> person = np.array([0, 0, 1, 1, 1, 2, 2]); period = np.array([0, 1, 0, 1, 2, 1, 2])
>>> x = np.arange(7.0) ** 2
>>> sc = TwoWaySchur(person, period, None, 3, 3)
>>> r = sc.demean(x[:, None])[:, 0]
>>> bool(np.allclose(np.bincount(person, r), 0) and np.allclose(np.bincount(period, r), 0))
True
"""

from __future__ import annotations

import numpy as np

from ips_study.narrow import NarrowCodes, as_codes

#: the direct solve is used when the smaller fixed effect has at most this many levels
MAX_PERIODS = 2000


class TwoWaySchur:
    """Person x period projection solved exactly through the periods x periods system.

    Parameters
    ----------
    person, period : (n,) int codes 0..P-1 and 0..T-1 (``period`` the smaller effect)
    weights : (n,) or None
    n_persons, n_periods : numbers of levels
    """

    #: persons x periods entries materialised at once (float64; 8 MB, below glibc's mmap
    #: threshold, so blocks reuse heap memory instead of faulting in fresh pages)
    BLOCK = 1 << 20

    def __init__(self, person, period, weights, n_persons: int, n_periods: int,
                 off: np.ndarray | None = None) -> None:
        self.P, self.T = int(n_persons), int(n_periods)
        # codes may stay narrow (:mod:`ips_study.narrow`): the sorted path reads them in
        # blocks, and ``person``/``period`` widen them only when a caller needs all rows
        self._person = as_codes(person, self.P)
        self._period = as_codes(period, self.T)
        self.w = None if weights is None else np.asarray(weights, dtype=float)
        #: row offsets of each person's run (P + 1) when the rows are sorted by person and
        #: every person has a row, else None: person sums are then contiguous reductions
        self.starts = person_runs(self._person, self.P)
        if self.w is not None:
            self.n_i = self.person_sums(self.w)
        elif self.starts is not None:
            self.n_i = np.diff(self.starts).astype(float)
        else:
            self.n_i = np.bincount(self.person, minlength=self.P).astype(float)
        self.n_t = self._period.bincount(self.w).astype(float)
        with np.errstate(divide="ignore"):
            self.inv_n = np.where(self.n_i > 0, 1 / self.n_i, 0.0)
        # ``off`` (N' diag(1/n_i) N) may come from a larger sample by :meth:`downdate`
        self.off = self._off() if off is None else off
        self.C = np.diag(self.n_t) - self.off
        self._factor()

    @property
    def person(self) -> np.ndarray:
        """Person code of every row (intp)."""
        return self._person.full()

    @property
    def period(self) -> np.ndarray:
        """Period code of every row (intp)."""
        return self._period.full()

    def person_sums(self, x: np.ndarray) -> np.ndarray:
        """Per-person sums of the row vector ``x`` (P,): one contiguous reduction when sorted."""
        if self.starts is not None:
            return np.add.reduceat(x, self.starts[:-1]) if len(x) else np.zeros(self.P)
        return np.bincount(self.person, weights=x, minlength=self.P)

    def _blocks(self, p: np.ndarray, P: int):
        """Row ranges of person blocks of ``p`` (codes < P): (rows, first, last + 1)."""
        step = max(1, self.BLOCK // max(self.T, 1))
        if P <= step:
            yield slice(None), 0, P
            return
        if (p is self._person and self.starts is not None) or (
                isinstance(p, np.ndarray) and len(p) and bool((p[1:] >= p[:-1]).all())):
            # person-sorted: blocks are slices
            order = None
            keys = p
        else:  # one stable radix sort on the block number (a small integer)
            p = np.asarray(p)
            blk = (p // step).astype(np.uint16 if P // step < 65535 else np.intp)
            order = np.argsort(blk, kind="stable")
            keys = p[order]
        for lo in range(0, P, step):
            hi = min(P, lo + step)
            a, b = np.searchsorted(keys, [lo, hi])
            yield (slice(a, b) if order is None else order[a:b]), lo, hi

    def _off(self) -> np.ndarray:
        """``N' diag(1/n_i) N`` of all rows.

        Unweighted and sorted by person: a person seen in one unbroken run of periods
        ``s..e-1`` (entering late, leaving early) adds ``1/n_i`` to the square block
        ``[s, e) x [s, e)``; those blocks are summed exactly through a two-dimensional
        difference array (four entries per person, then prefix sums), so only the other
        persons go through the dense blocks of :meth:`_cross`.
        """
        if self.w is not None or self.starts is None:
            return self._cross(self._person, self._period, self.w, self.inv_n)
        one, s, e = self._spells()
        if not one.any():
            return self._cross(self._person, self._period, None, self.inv_n)
        T1 = self.T + 1
        corners = np.concatenate([s * T1 + s, s * T1 + e, e * T1 + s, e * T1 + e])
        c = self.inv_n[one]
        sign = np.concatenate([np.ones_like(c), -np.ones_like(c), -np.ones_like(c),
                               np.ones_like(c)])
        D = np.bincount(corners, weights=sign * np.tile(c, 4), minlength=T1 * T1)
        off = D.reshape(T1, T1).cumsum(axis=0).cumsum(axis=1)[:-1, :-1]
        # the same sums of +-1 count the covering persons exactly: cells no person covers
        # are exactly zero (the connected components are read off the zero pattern)
        cover = np.bincount(corners, weights=sign, minlength=T1 * T1)
        cover = cover.reshape(T1, T1).cumsum(axis=0).cumsum(axis=1)[:-1, :-1]
        off[cover == 0] = 0.0
        if not one.all():
            off += self._cross(self._person, self._period, None, self.inv_n, skip=one)
        return off

    def _spells(self):
        """Persons seen in one unbroken run of periods (P bools), first period, last + 1."""
        st, t = self.starts, self._period
        one = np.empty(self.P, dtype=bool)
        for lo, hi, p0, p1 in self.row_blocks():
            tb = t[lo:hi]
            steps = np.zeros(hi - lo, dtype=np.intp)  # unit steps among rows lo..lo+j
            np.cumsum(tb[1:] - tb[:-1] == 1, out=steps[1:])
            first, last = st[p0:p1] - lo, st[p0 + 1:p1 + 1] - lo - 1
            one[p0:p1] = steps[last] - steps[first] == last - first
        s = t[st[:-1]][one]
        return one, s, t[st[1:] - 1][one] + 1

    def _cross(self, person, period, w, inv_n, skip=None) -> np.ndarray:
        """``N' diag(1/n_i) N`` over the given rows, accumulated over blocks of persons
        (persons flagged in ``skip`` left out)."""
        from scipy.linalg.blas import dsyrk

        T = self.T
        off = np.zeros((T, T), order="F")
        scale = np.sqrt(inv_n)
        for rows, lo, hi in self._blocks(person, len(inv_n)):
            keep = None if skip is None else ~skip[lo:hi]
            if keep is not None and not keep.any():
                continue
            wb = None if w is None else w[rows]
            Nb = np.bincount((person[rows] - lo) * T + period[rows], weights=wb,
                             minlength=(hi - lo) * T).reshape(hi - lo, T).astype(float)
            Nb *= scale[lo:hi, None]
            if keep is not None:
                Nb = Nb[keep]
            # symmetric rank-k update on the transposed view (Fortran order, no copy): half
            # the work of a general product, and OpenBLAS keeps it on one thread, which on a
            # shared machine costs a fraction of the CPU of a threaded product
            off = dsyrk(1.0, Nb.T, beta=1.0, c=off, trans=0, overwrite_c=True)
        return np.triu(off) + np.triu(off, 1).T

    def downdate(self, removed: np.ndarray) -> np.ndarray:
        """``N' diag(1/n_i) N`` of the rows not ``removed`` (bool, n), in this period coding.

        Only the persons with a removed row change: their terms are taken out and their
        remaining rows put back, so dropping the treated municipality for the placebo fits
        costs a pass over the rows, not a new product over every person.
        """
        hit = np.zeros(self.P, dtype=bool)
        hit[self.person[removed]] = True
        rows = np.flatnonzero(hit[self.person])
        code = np.cumsum(hit) - 1  # affected persons numbered 0..A-1
        p = code[self.person[rows]]
        t = self.period[rows]
        w = None if self.w is None else self.w[rows]
        A = int(hit.sum())
        full = self._cross(p, t, w, self.inv_n[hit])
        keep = ~removed[rows]
        wk = None if w is None else w[keep]
        n_left = np.bincount(p[keep], weights=wk, minlength=A).astype(float)
        with np.errstate(divide="ignore"):
            inv_left = np.where(n_left > 0, 1 / n_left, 0.0)
        left = self._cross(p[keep], t[keep], wk, inv_left)
        return self.off - full + left

    def _factor(self) -> None:
        from scipy.linalg import cho_factor
        from scipy.sparse.csgraph import connected_components

        _, comp = connected_components(self.off > 0, directed=False)
        first = np.zeros(self.T, dtype=bool)
        first[np.unique(comp, return_index=True)[1]] = True
        self.keep = np.flatnonzero(~first & (self.n_t > 0))
        # the kept block is positive definite: Cholesky, with an LU fallback for rounding
        try:
            self._cho = cho_factor(self.C[np.ix_(self.keep, self.keep)]) if len(self.keep) \
                else None
        except np.linalg.LinAlgError:
            self._cho = False

    def solve(self, R: np.ndarray) -> np.ndarray:
        """``C^- R`` for ``R`` with periods on the first axis (one period per component 0)."""
        from scipy.linalg import cho_solve

        X = np.zeros_like(R, dtype=float)
        k = self.keep
        if len(k):
            flat = R[k].reshape(len(k), -1)
            sol = (cho_solve(self._cho, flat) if self._cho is not False
                   else np.linalg.solve(self.C[np.ix_(k, k)], flat))
            X[k] = sol.reshape((len(k),) + R.shape[1:])
        return X

    def demean(self, X: np.ndarray) -> np.ndarray:
        """Residuals of the columns of ``X`` (n x m) on both fixed effects (new array)."""
        out = np.array(X, dtype=float, order="F")
        i, t, w = self.person, self.period, self.w
        # one scratch row vector for every gather: fresh 20M-row temporaries cost more in
        # page faults (system time) than the arithmetic. ``take`` with ``out`` must not use
        # mode="raise", which buffers the whole output in a fresh array (the codes are in
        # range by construction, so "clip" never clips)
        tmp = np.empty(len(out))
        for c in range(out.shape[1]):
            col = out[:, c]
            # x minus its person means first: the periods right-hand side is then one
            # weighted period sum, ``r = S_t - N' (S_i / n_i)``
            abar = self.person_sums(col if w is None else np.multiply(col, w, out=tmp))
            abar *= self.inv_n
            col -= np.take(abar, i, out=tmp, mode="clip")
            r = np.bincount(t, weights=col if w is None else np.multiply(col, w, out=tmp),
                            minlength=self.T)
            b = self.solve(r)
            col -= np.take(b, t, out=tmp, mode="clip")
            # what is left of the person effects: the person means of x - abar - b[t]
            a = self.person_sums(col if w is None else np.multiply(col, w, out=tmp))
            a *= self.inv_n
            col -= np.take(a, i, out=tmp, mode="clip")
        return np.ascontiguousarray(out)

    def row_blocks(self, block: int = 1 << 18):
        """Row ranges ``(lo, hi, p0, p1)`` of about ``block`` rows holding whole persons
        ``p0..p1-1`` (sorted rows only, see :attr:`starts`)."""
        st = self.starts
        n = int(st[-1])
        cut = np.unique(np.r_[np.searchsorted(st, np.arange(0, n, max(block, 1))), self.P])
        return [(int(st[p0]), int(st[p1]), int(p0), int(p1)) for p0, p1 in zip(cut[:-1], cut[1:])]

    def demeaned_blocks(self, columns, block: int = 1 << 18):
        """Demeaned columns block by block, never all rows at once (sorted rows only).

        ``columns(lo, hi)`` returns the raw columns of rows ``lo:hi`` as an (m, hi - lo)
        array; it is called twice per block. Yields ``(lo, hi, Xt)`` with ``Xt`` (m, hi - lo)
        the residuals on both fixed effects, equal to :meth:`demean`'s rows ``lo:hi``.
        Every block holds whole persons, so the person sums of a block are complete; the
        periods system couples the blocks, hence two passes: the first gathers its
        right-hand side, the second the residuals. Working arrays are block-sized and
        re-used by the allocator, so no table-sized array is touched for the first time.
        """
        if self.starts is None:
            raise ValueError("demeaned_blocks needs rows sorted by person")
        spans = self.row_blocks(block)
        st, t_all, T = self.starts, self._period, self.T
        abars, r = [], None
        for lo, hi, p0, p1 in spans:
            X, w, cnt = columns(lo, hi), self._w(lo, hi), np.diff(st[p0:p1 + 1])
            m = X.shape[0]
            Xw = X if w is None else X * w
            A = np.add.reduceat(Xw, st[p0:p1] - lo, axis=1) * self.inv_n[p0:p1]
            abars.append(A)
            Xc = X - np.repeat(A, cnt, axis=1)
            if w is not None:
                Xc *= w
            t = t_all[lo:hi]
            rb = np.stack([np.bincount(t, weights=Xc[c], minlength=T) for c in range(m)])
            r = rb if r is None else r + rb
        if r is None:
            return
        b = self.solve(r.T).T  # (m, T)
        for (lo, hi, p0, p1), A in zip(spans, abars):
            X, w, cnt = columns(lo, hi), self._w(lo, hi), np.diff(st[p0:p1 + 1])
            bt = np.take(b, t_all[lo:hi], axis=1)
            # person effects: the person means of x - b[t], i.e. A minus those of b[t]
            a = np.add.reduceat(bt if w is None else bt * w, st[p0:p1] - lo, axis=1)
            a *= -self.inv_n[p0:p1]
            a += A
            Xc = np.subtract(X, bt, out=bt)
            Xc -= np.repeat(a, cnt, axis=1)
            yield lo, hi, Xc

    def _w(self, lo: int, hi: int):
        return None if self.w is None else self.w[lo:hi]


def person_runs(person, n_persons: int) -> np.ndarray | None:
    """Row offsets (P + 1) of each person's rows when ``person`` is sorted and uses every
    code ``0..P-1``; else None (O(n), no sort). ``person``: intp codes or
    :class:`~ips_study.narrow.NarrowCodes` (read as they are when they have no table)."""
    off = 0
    if isinstance(person, NarrowCodes):
        if person.table is None:
            person, off = person.raw, person.offset
        else:
            person = person.full()
    n = len(person)
    if n == 0 or n_persons == 0 or person[0] - off != 0 or person[-1] - off != n_persons - 1:
        return None
    # comparisons make 1-byte temporaries, a difference of the codes an 8-byte one
    if not (person[1:] >= person[:-1]).all():
        return None
    change = np.flatnonzero(person[1:] != person[:-1])
    # sorted from 0 to P-1 with P-1 changes: every code is used
    if len(change) != n_persons - 1:
        return None
    return np.concatenate([[0], change + 1, [n]]).astype(np.intp)


class CellGram:
    """Within cross-products of regressors that live on (group, period) cells.

    Placebo treatment columns have the form ``D_{g,c} = 1[group = g] V[period, c]``: a group
    (municipality) indicator times a timing column. With ``S_i`` the per-person sums of
    ``w D``, the two-way projection gives

    ``D_a' W P D_b = sum_i S_ia S_ib / n_i + r_a' C^- r_b``

    (module docstring), so ``D' W M D = D' W D - D' W P D`` needs group sums only. A person
    who moves between groups contributes to several groups' ``S_i`` and so to the
    cross-products between groups (kept per (person, group) pair).

    Parameters
    ----------
    schur : TwoWaySchur of the same rows
    group : (n,) int codes of the group (municipality)
    n_groups : number of groups

    Examples
    --------
    >>> import numpy as np
    >>> from ips_study.within import Demeaner
    >>> person = np.array([0, 0, 1, 1, 1, 2, 2]); period = np.array([0, 1, 0, 1, 2, 1, 2])
    >>> group = np.array([0, 0, 1, 1, 1, 1, 1]); V = np.array([[0.0], [1.0], [1.0]])
    >>> cg = CellGram(TwoWaySchur(person, period, None, 3, 3), group, 2)
    >>> D = (group == 0)[:, None] * V[period]
    >>> dm = Demeaner([person, period], fast=False)
    >>> bool(np.isclose(cg.gram(V)[0, 0, 0], (dm(D) ** 2).sum()))
    True
    """

    def __init__(self, schur: TwoWaySchur, group, n_groups: int) -> None:
        self.sc = schur
        self.group = np.asarray(group, dtype=np.intp)
        self.T, self.G, self.P = schur.T, int(n_groups), schur.P
        self.cell = self.group * self.T + schur.period
        self.N = np.bincount(self.cell, weights=schur.w, minlength=self.G * self.T
                             ).reshape(self.G, self.T).astype(float)
        self._pairs()

    def _pairs(self) -> None:
        """Code the (person, group) pairs: one per person unless persons move between groups."""
        person, P, G = self.sc.person, self.P, self.G
        owner = np.full(P, -1, dtype=np.intp)
        owner[person] = self.group
        moved = owner[person] != self.group
        self.mover_rows = np.empty(0, dtype=np.intp)
        if not moved.any():
            self.pair, self.pair_person, self.pair_group = person, np.arange(P), owner
            return
        # only the movers' rows are hashed; everyone else keeps the person code as pair code
        is_mover = np.zeros(P, dtype=bool)
        is_mover[person[moved]] = True
        rows = np.flatnonzero(is_mover[person])
        uniq, inv = np.unique(person[rows] * G + self.group[rows], return_inverse=True)
        self.pair = person.copy()
        self.pair[rows] = P + inv
        self.pair_person = np.concatenate([np.arange(P), uniq // G])
        self.pair_group = np.concatenate([np.where(is_mover, -1, owner), uniq % G])
        self.mover_rows = rows

    def pair_sums(self, V: np.ndarray) -> np.ndarray:
        """``S``: per (person, group) pair sums of ``w V[period]`` (pairs x m)."""
        w, t = self.sc.w, self.sc.period
        n_pairs = len(self.pair_person)
        return np.column_stack([
            np.bincount(self.pair, weights=V[t, c] if w is None else V[t, c] * w,
                        minlength=n_pairs) for c in range(V.shape[1])])

    def schur_rhs(self, V: np.ndarray, S: np.ndarray) -> np.ndarray:
        """``r`` of every (group, column) as a (T, G, m) array."""
        T, G, m = self.T, self.G, V.shape[1]
        sc = self.sc
        R = self.N.T[:, :, None] * V[:, None, :]
        # per-pair S / n_i, read at each row through the row's pair: a person in one group
        # adds to that group's cell in the row's period
        U = S * sc.inv_n[self.pair_person][:, None]
        stay = None
        if len(self.mover_rows):
            stay = np.ones(len(self.pair), dtype=bool)
            stay[self.mover_rows] = False
        cell = self.cell if stay is None else self.cell[stay]
        pair = self.pair if stay is None else self.pair[stay]
        w = sc.w if sc.w is None or stay is None else sc.w[stay]
        for c in range(m):
            v = U[pair, c] if w is None else U[pair, c] * w
            R[:, :, c] -= np.bincount(cell, weights=v, minlength=G * T).reshape(G, T).T
        if stay is not None:
            # a mover's row counts for every group the person was in: repeat it per pair
            rows = self.mover_rows
            mp = np.arange(self.P, len(self.pair_person))
            pp = self.pair_person[mp]
            first = np.searchsorted(pp, sc.person[rows])
            count = np.searchsorted(pp, sc.person[rows], side="right") - first
            rep = np.repeat(rows, count)
            offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
            pr = mp[np.repeat(first, count) + offset]
            c_rep = self.pair_group[pr] * T + sc.period[rep]
            for c in range(m):
                v = U[pr, c] if sc.w is None else U[pr, c] * sc.w[rep]
                R[:, :, c] -= np.bincount(c_rep, weights=v, minlength=G * T).reshape(G, T).T
        return R

    def cell_sums(self, x: np.ndarray) -> np.ndarray:
        """Weighted (group, period) sums of the columns of ``x`` as (G, T, q)."""
        x = x.reshape(len(x), -1)
        w = self.sc.w
        return np.stack([np.bincount(self.cell, weights=x[:, j] if w is None else x[:, j] * w,
                                     minlength=self.G * self.T).reshape(self.G, self.T)
                         for j in range(x.shape[1])], axis=2)

    def pieces(self, V: np.ndarray):
        """``raw`` (G, m, m) = ``D_g' W D_g``, pair sums ``S``, ``r`` (T, G, m) and ``C^- r``."""
        V = np.asarray(V, dtype=float).reshape(self.T, -1)
        raw = np.einsum("gt,tc,td->gcd", self.N, V, V)
        S = self.pair_sums(V)
        R = self.schur_rhs(V, S)
        return raw, S, R, self.sc.solve(R)

    def gram(self, V: np.ndarray) -> np.ndarray:
        """Within-group blocks ``D_g' W M D_g`` (G, m, m) of ``D_{g,c} = 1[group = g] V[:, c]``.

        With movers the blocks between groups are not zero; :meth:`pieces` gives those.
        """
        raw, S, R, X = self.pieces(V)
        m = S.shape[1]
        own = self.pair_group >= 0
        Sg = S[own] * np.sqrt(self.sc.inv_n[self.pair_person[own]])[:, None]
        pers = np.zeros((self.G, m, m))
        for c in range(m):
            for d in range(c, m):
                pers[:, c, d] = pers[:, d, c] = np.bincount(
                    self.pair_group[own], weights=Sg[:, c] * Sg[:, d], minlength=self.G)
        return raw - pers - np.einsum("tgc,tgd->gcd", R, X)
