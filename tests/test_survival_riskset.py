"""Risk-set sums on the event-time grid equal brute-force sums over (start, stop] risk sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ips_study.designs.survival._riskset import EventGrid


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(1, 3))
def test_risk_and_event_sums_match_brute_force(seed, n, n_strata):
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 8, n).astype(float)
    stop = start + rng.integers(1, 8, n)
    event = rng.random(n) < 0.5
    strata = rng.integers(0, n_strata, n)
    v = rng.normal(size=(n, 2))
    # one stratum: the grid is built without a stratum array (block-wise path)
    g = EventGrid(start, stop, event, None if n_strata == 1 else strata)
    rs, es = g.risk_sum(v), g.event_sum(v)
    # built in blocks of 3 rows: the same sums to rounding
    blocked = g.risk_sums(lambda lo, hi: v[lo:hi].T, 2, chunk=3)
    np.testing.assert_allclose(blocked, rs, atol=1e-12)
    for k, (t, s) in enumerate(zip(g.time, g.grid_stratum)):
        at_risk = (start < t) & (stop >= t) & (strata == s)
        ev = event & (stop == t) & (strata == s)
        np.testing.assert_allclose(rs[k], v[at_risk].sum(0), atol=1e-12)
        np.testing.assert_allclose(es[k], v[ev].sum(0), atol=1e-12)
    # every distinct event time of each stratum is on the grid exactly once
    assert len(g.time) == len({(t, s) for t, s, e in zip(stop, strata, event) if e})
    # row_cumulative sums per-grid values over each row's at-risk block
    w = rng.normal(size=g.K)
    rc = g.row_cumulative(w)
    for i in range(n):
        mask = (start[i] < g.time) & (stop[i] >= g.time) & (g.grid_stratum == strata[i])
        assert abs(rc[i] - w[mask].sum()) < 1e-12
    # ... and for any block of rows
    lo, hi = n // 3, n // 3 + n // 2
    np.testing.assert_array_equal(g.row_cumulative(w, lo, hi), rc[lo:hi])


@pytest.mark.parametrize("entry", [True, False])
def test_grid_built_in_blocks(entry, monkeypatch):
    """Grid indices filled block by block (3 rows a block) equal the one-block grid, rows
    never at risk included; without ``start`` every row is at risk from the first event."""
    from ips_study.designs.survival import _riskset

    rng = np.random.default_rng(5)
    n = 200
    start = rng.integers(0, 30, n).astype(float)
    stop = start + rng.integers(1, 5, n)
    event = rng.random(n) < 0.1
    st_ = start if entry else None
    monkeypatch.setattr(_riskset, "CHUNK", 10**9)
    one = EventGrid(st_, stop, event)
    monkeypatch.setattr(_riskset, "CHUNK", 3)
    many = EventGrid(st_, stop, event)
    np.testing.assert_array_equal(many._ia, one._ia)
    np.testing.assert_array_equal(many._ib, one._ib)
    np.testing.assert_array_equal(many.event_grid, one.event_grid)
    at_risk = np.array([((start[i] if entry else -np.inf) < one.time)
                        & (stop[i] >= one.time) for i in range(n)]).any(axis=1)
    np.testing.assert_array_equal(many.at_risk, at_risk)
    assert not at_risk.all()        # the dummy bin is exercised
