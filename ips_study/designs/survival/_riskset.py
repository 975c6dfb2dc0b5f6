"""Risk-set bookkeeping shared by the Cox, Kaplan–Meier and competing-risks estimators.

Every estimator here needs sums over risk sets ``{i : start_i < t <= stop_i}`` at the
distinct event times ``t`` of a stratum. Instead of looping over event times, each row is
mapped once to the contiguous block ``[a_i, b_i]`` of event-time grid points at which it is
at risk; a sum over every risk set is then one ``bincount`` at ``a_i`` minus one at
``b_i + 1`` followed by a cumulative sum over the grid. Left truncation (delayed entry) and
time-varying covariates in counting-process form ``(start, stop]`` cost nothing extra.

>>> import numpy as np
>>> g = EventGrid(np.array([0., 0., 1.]), np.array([2., 3., 3.]), np.array([1, 0, 1]))
>>> g.time.tolist(), g.risk_sum(np.ones(3)).tolist()
([2.0, 3.0], [3.0, 2.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: rows per block in the risk-set sums: the block's temporaries stay in cache and are reused
#: from the heap; table-sized temporaries would each take fresh pages from the kernel, whose
#: page-fault cost grows the CPU per row with the table (see docs/benchmarks.md, Survival)
CHUNK = 1 << 13


def event_indicator(event, *, name: str = "event", event_value=None) -> np.ndarray:
    """Boolean event indicator from boolean or 0/1 values, or from ``event == event_value``.

    Any other coding is refused: R-style status (1 = censored, 2 = event) cast to boolean
    would make every row an event. Name the event value instead, as ``Surv(time, status ==
    2)`` does in R.

    >>> event_indicator([0, 1, 1]).tolist()
    [False, True, True]
    >>> event_indicator([1, 2, 2], event_value=2).tolist()
    [False, True, True]
    """
    e = pd.Series(np.asarray(event).ravel())
    n_missing = int(e.isna().sum())
    if n_missing:
        raise ValueError(f"{name} has {n_missing} missing value(s)")
    if event_value is not None:
        if not (e == event_value).any():
            raise ValueError(f"{name} never equals event_value={event_value!r}: no events")
        return (e == event_value).to_numpy()
    if e.dtype == bool:
        return e.to_numpy()
    values = set(pd.unique(e).tolist())
    if values <= {0, 1}:
        return (e == 1).to_numpy()
    shown = sorted(values, key=str)[:6]
    raise ValueError(
        f"{name} must be boolean or 0/1, found values {shown}; name the value that means an "
        f"event, e.g. event_value={shown[-1]!r} (as R's Surv(time, status == {shown[-1]!r}))")


def blocks(n: int, chunk: int | None = None):
    """``(lo, hi)`` bounds of consecutive row blocks of ``chunk`` rows (default :data:`CHUNK`)."""
    chunk = chunk or CHUNK
    return ((lo, min(lo + chunk, n)) for lo in range(0, n, chunk))


def count_rows(pred, *arrays) -> int:
    """Number of rows where ``pred(*blocks)`` holds, counted block by block (no table-sized
    boolean temporary)."""
    n = len(arrays[0])
    return sum(int(np.count_nonzero(pred(*(a[lo:hi] for a in arrays)))) for lo, hi in blocks(n))


def check_times(values, name: str) -> np.ndarray:
    """Float array of times; an error naming ``name`` and the count if any is missing."""
    v = np.asarray(values, dtype=float).ravel()
    bad = count_rows(np.isnan, v)
    if bad:
        raise ValueError(f"{name} has {bad} missing value(s)")
    return v


def check_labels(values, name: str) -> np.ndarray:
    """Group/strata/cluster labels; an error naming ``name`` and the count if any is missing."""
    v = np.asarray(values).ravel()
    bad = count_rows(pd.isna, v)
    if bad:
        raise ValueError(f"{name} has {bad} missing label(s); drop or label those rows")
    return v


class EventGrid:
    """Distinct event times per stratum and each row's block of at-risk grid points.

    Parameters
    ----------
    start, stop : ndarray
        Interval ``(start, stop]`` of each row; ``start < stop``. ``start=None`` means
        right-censored data: every row is at risk from the beginning of time.
    event : ndarray
        1 where the row ends in the event of interest (at ``stop``), else 0.
    strata : ndarray of int, optional
        Stratum code per row (0..S-1); risk sets never cross strata.
    """

    def __init__(self, start, stop, event, strata=None):
        stop = check_times(stop, "stop")
        n = len(stop)
        if start is not None:
            start = check_times(start, "start")
            if len(start) == n:
                bad = count_rows(np.less_equal, stop, start)
                if bad:
                    raise ValueError(f"every interval needs start < stop ({bad} row(s) with "
                                     "stop <= start)")
        event = np.asarray(event)
        if event.dtype != bool:
            event = event_indicator(event)
        if len(event) != n or (start is not None and len(start) != n):
            raise ValueError(f"start, stop and event differ in length "
                             f"({n if start is None else len(start)}, {n}, {len(event)})")
        self.n = n
        self.event = event
        self.strata = strata = None if strata is None else np.asarray(strata, np.int64)
        times, grid_stratum = [], []
        # grid indices as int32 (a grid never has 2^31 points): half the bytes of intp, and
        # filled block by block, so no table-sized temporary of searchsorted's int64 output
        a = np.empty(n, dtype=np.int32)
        b = np.empty(n, dtype=np.int32)
        offset = 0
        # one pass per stratum (a handful), never per event time; without strata no row
        # selection, copy or sort of stratum codes at all
        groups = [(0, None)] if strata is None else [
            (s, np.flatnonzero(strata == s)) for s in np.unique(strata)]
        for s, rows in groups:
            t = np.unique(stop[event] if rows is None else stop[rows][event[rows]])
            if rows is None:
                for lo, hi in blocks(n):
                    if start is None:      # right-censored: at risk from the first grid point
                        a[lo:hi] = offset
                    else:
                        np.add(np.searchsorted(t, start[lo:hi], side="right"), offset,
                               out=a[lo:hi], casting="unsafe")
                    np.add(np.searchsorted(t, stop[lo:hi], side="right"), offset - 1,
                           out=b[lo:hi], casting="unsafe")
            else:
                a[rows] = offset if start is None else \
                    offset + np.searchsorted(t, start[rows], side="right")
                b[rows] = offset + np.searchsorted(t, stop[rows], side="right") - 1
            times.append(t)
            grid_stratum.append(np.full(len(t), s))
            offset += len(t)
        self.time = np.concatenate(times) if times else np.empty(0)
        self.grid_stratum = np.concatenate(grid_stratum) if grid_stratum else np.empty(0, int)
        self.K = offset
        # rows whose interval holds no event time (a > b) go to a dummy bin past the grid,
        # in place and block by block, so the sums need no mask (and no table-sized copy)
        for lo, hi in blocks(n):
            out = a[lo:hi] > b[lo:hi]
            if out.any():
                a[lo:hi][out] = offset + 1
                b[lo:hi][out] = offset + 1
        self._ia, self._ib = a, b
        # grid index of each event row (its own stop time; an event row is always at risk)
        self.event_rows = np.flatnonzero(event)
        self.event_grid = b[self.event_rows].astype(np.intp)
        self.n_events = np.bincount(self.event_grid, minlength=self.K)

    @property
    def at_risk(self) -> np.ndarray:
        """Whether each row is at risk at some grid time (its interval holds an event time)."""
        return self._ia <= self.K

    def risk_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (n,) or (n, m) over the risk set at every grid time -> (K,) / (K, m)."""
        v = np.asarray(values, dtype=float)
        one = v.ndim == 1
        v2 = v[:, None] if one else v
        out = self.risk_sums(lambda lo, hi: v2[lo:hi].T, v2.shape[1])
        return out[:, 0] if one else out

    def risk_sums(self, columns, m: int, chunk: int | None = None) -> np.ndarray:
        """Risk-set sums of ``m`` columns built block by block -> (K, m).

        ``columns(lo, hi)`` returns the values of rows ``lo:hi`` as an (m, hi - lo) array;
        it is called once per block of ``chunk`` rows, so no table-sized temporary exists.
        """
        K = self.K
        chunk = chunk or CHUNK
        at_b = np.zeros((m, K + 2))
        at_a = np.zeros((m, K + 2))
        for lo in range(0, self.n, chunk):
            hi = min(lo + chunk, self.n)
            v = columns(lo, hi)
            # one cast of the block's indices for every column (bincount casts int32 to intp)
            ib, ia = self._ib[lo:hi].astype(np.intp), self._ia[lo:hi].astype(np.intp)
            for j in range(m):
                at_b[j] += np.bincount(ib, v[j], minlength=K + 2)
                at_a[j] += np.bincount(ia, v[j], minlength=K + 2)
        # sum over rows with b >= k minus rows with a > k, both as sums from the END of
        # the grid: late risk sets are small (the rows with a large exp(x'beta) have
        # failed early), and a forward cumulative sum would compute them as a difference
        # of huge early totals (catastrophic cancellation when x'beta spans ~40 or more)
        from_b = np.cumsum(at_b[:, K - 1::-1], axis=1)[:, ::-1] if K else at_b[:, :0]
        from_a = np.cumsum(at_a[:, K:0:-1], axis=1)[:, ::-1] if K else at_a[:, :0]
        return (from_b - from_a).T

    def event_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` over the event rows at every grid time -> (K,) / (K, m)."""
        v = np.asarray(values, dtype=float)[self.event_rows]
        if v.ndim == 1:
            return np.bincount(self.event_grid, v, minlength=self.K)
        return np.stack([np.bincount(self.event_grid, v[:, j], minlength=self.K)
                         for j in range(v.shape[1])], axis=1)

    def row_cumulative(self, per_grid: np.ndarray, lo: int = 0, hi: int | None = None):
        """For rows ``lo:hi`` (default all), the sum of ``per_grid`` (K,) or (K, m) over
        each row's at-risk block."""
        g = np.asarray(per_grid, dtype=float)
        c = np.cumsum(g, axis=0)
        # two zero rows: one before the grid, one for the dummy bin of rows never at risk
        z = np.zeros((1,) + g.shape[1:])
        c = np.concatenate([z, c, z, z], axis=0)
        ib, ia = self._ib[lo:hi], self._ia[lo:hi]
        return c[ib + 1] - c[ia]
