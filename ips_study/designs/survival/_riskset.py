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


class EventGrid:
    """Distinct event times per stratum and each row's block of at-risk grid points.

    Parameters
    ----------
    start, stop : ndarray
        Interval ``(start, stop]`` of each row; ``start < stop``.
    event : ndarray
        1 where the row ends in the event of interest (at ``stop``), else 0.
    strata : ndarray of int, optional
        Stratum code per row (0..S-1); risk sets never cross strata.
    """

    def __init__(self, start, stop, event, strata=None):
        start = np.asarray(start, dtype=float)
        stop = np.asarray(stop, dtype=float)
        event = np.asarray(event).astype(bool)
        if np.any(stop <= start):
            raise ValueError("every interval needs start < stop")
        n = len(stop)
        strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, np.int64)
        self.n = n
        self.event = event
        self.strata = strata
        times, grid_stratum = [], []
        a = np.empty(n, dtype=np.int64)
        b = np.empty(n, dtype=np.int64)
        offset = 0
        # one pass per stratum (a handful), never per event time
        for s in np.unique(strata):
            rows = np.flatnonzero(strata == s)
            t = np.unique(stop[rows][event[rows]])
            a[rows] = offset + np.searchsorted(t, start[rows], side="right")
            b[rows] = offset + np.searchsorted(t, stop[rows], side="right") - 1
            times.append(t)
            grid_stratum.append(np.full(len(t), s))
            offset += len(t)
        self.time = np.concatenate(times) if times else np.empty(0)
        self.grid_stratum = np.concatenate(grid_stratum) if grid_stratum else np.empty(0, int)
        self.K = offset
        self.a, self.b = a, b
        self.at_risk = a <= b
        # grid index of each event row (its own stop time)
        self.event_rows = np.flatnonzero(event)
        self.event_grid = b[self.event_rows]
        self.n_events = np.bincount(self.event_grid, minlength=self.K)

    def risk_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (n,) or (n, m) over the risk set at every grid time -> (K,) / (K, m)."""
        v = np.asarray(values, dtype=float)
        one = v.ndim == 1
        v2 = v[:, None] if one else v
        ok = self.at_risk
        a, b1 = self.a[ok], self.b[ok] + 1
        out = np.empty((self.K, v2.shape[1]))
        for j in range(v2.shape[1]):
            col = v2[ok, j]
            diff = (np.bincount(a, col, minlength=self.K + 1)
                    - np.bincount(b1, col, minlength=self.K + 1))
            out[:, j] = np.cumsum(diff)[: self.K]
        return out[:, 0] if one else out

    def event_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` over the event rows at every grid time -> (K,) / (K, m)."""
        v = np.asarray(values, dtype=float)[self.event_rows]
        if v.ndim == 1:
            return np.bincount(self.event_grid, v, minlength=self.K)
        return np.stack([np.bincount(self.event_grid, v[:, j], minlength=self.K)
                         for j in range(v.shape[1])], axis=1)

    def row_cumulative(self, per_grid: np.ndarray) -> np.ndarray:
        """For every row, the sum of ``per_grid`` (K,) or (K, m) over its at-risk block."""
        g = np.asarray(per_grid, dtype=float)
        c = np.cumsum(g, axis=0)
        c = np.concatenate([np.zeros((1,) + g.shape[1:]), c], axis=0)
        out = c[self.b + 1] - c[self.a]
        out[~self.at_risk] = 0.0
        return out
