"""``ips.honest_did`` on an event study of foreign data, checked by hand (outside tester).

R's HonestDiD is not in Debian, so the checks are computations a reader can redo on paper
(Rambachan & Roth 2023, sections 2-4): the panel has Norwegian names, string units and
quarter labels ("Q1-2019", counted in quarters), and the event study's coefficients and
covariance are read from its public ``event_time()`` and ``cov``.

* Smoothness, ``M = 0``: Delta^SD(0) is the linear trends through the reference period, so
  the FLCI is the minimum-variance linear estimator ``l'b_post - w'b_pre`` among those that
  remove every linear trend (``w . t_pre = l . t_post``), plus/minus 1.96 of its SE: a
  Lagrange solution in closed form.
* Smoothness, one pre-period, ``M > 0``: the only trend-removing weight is ``w = -1``, its
  worst-case bias over Delta^SD(M) is ``M``, and the interval is ``b_1 + b_-1 +/- sd c``,
  ``c`` the folded-normal quantile (scipy ``foldnorm``) at ``M / sd``.
* Relative magnitudes with a vanishing covariance: the confidence set shrinks to the
  identified set ``b_1 +/- Mbar * (largest pre-period change, including the step into the
  reference period)`` for the first post period.

``honest_did`` also takes the event-study result itself ("(bug)": an array was required,
the result gave a numpy error).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ips_study as ips
from ips_study.inference.honest import from_event_study


def _quarters_panel(seed=4):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(14):
        fe = rng.normal()
        for j in range(9):
            d = int(k < 4 and j >= 5)
            rows.append({"kommune": f"Kommune Ø{k:02d}", "kvartal": f"Q{j % 4 + 1}-{2018 + j // 4}",
                         "tiltak": d, "sysselsatt_andel": fe + 0.1 * j + 0.02 * (k < 4) * j
                         + 0.8 * d + rng.normal(0, .3)})
    return pd.DataFrame(rows).sample(frac=1, random_state=2)    # rows in no order


@pytest.fixture(scope="module")
def es():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # four treated clusters
        return ips.event_study(_quarters_panel(), y="sysselsatt_andel", unit="kommune",
                               time="kvartal", treat="tiltak", inference="cluster")


def _beta_sigma(es):
    """Pre (earliest first) then post coefficients and their covariance, read by hand."""
    et = es.event_time().set_index("event_time").sort_index()
    assert list(et.index) == [-5, -4, -3, -2, -1, 0, 1, 2, 3]   # quarters counted as periods
    et = et.drop(index=-1)                                   # the reference period
    terms = [f"event_{k}" for k in et.index]
    return et["estimate"].to_numpy(), es.cov.loc[terms, terms].to_numpy(), 4


def test_smoothness_m0_is_the_min_variance_trend_free_estimator(es):
    b, S, npre = _beta_sigma(es)
    npost = len(b) - npre
    t_pre = np.arange(-npre, 0, dtype=float)                # HonestDiD's relabelled periods
    t_post = np.arange(1, npost + 1, dtype=float)
    for l in (np.eye(npost)[0], np.full(npost, 1 / npost)):
        Spp, Spq = S[:npre, :npre], S[:npre, npre:]
        # min over w of Var(l'b_post - w'b_pre) s.t. w . t_pre = l . t_post (Lagrange)
        Si = np.linalg.inv(Spp)
        lam = (l @ t_post - t_pre @ Si @ Spq @ l) / (t_pre @ Si @ t_pre)
        w = Si @ (Spq @ l + lam * t_pre)
        v = np.r_[-w, l]
        centre, sd = v @ b, np.sqrt(v @ S @ v)
        z = stats.norm.ppf(0.975)
        got = ips.honest_did(es, restriction="SD", m=[0.0], l_vec=l).table.iloc[0]
        assert got["lb"] == pytest.approx(centre - z * sd, abs=1e-8)
        assert got["ub"] == pytest.approx(centre + z * sd, abs=1e-8)


@pytest.mark.parametrize("M", [0.0, 0.05, 0.3, 2.0])
def test_smoothness_one_pre_period_is_folded_normal_around_b1_plus_bm1(es, M):
    b, S, npre = _beta_sigma(es)
    keep = [npre - 1, npre]                                  # event -2 and event 0 only
    b1, S1 = b[keep], S[np.ix_(keep, keep)]
    sd = np.sqrt(np.ones(2) @ S1 @ np.ones(2))
    c = stats.foldnorm.ppf(0.95, M / sd)
    res = ips.honest_did(b1, S1, num_pre=1, restriction="SD", m=[M]).table.iloc[0]
    assert res["lb"] == pytest.approx(b1.sum() - sd * c, abs=1e-7)
    assert res["ub"] == pytest.approx(b1.sum() + sd * c, abs=1e-7)


@pytest.mark.parametrize("mbar", [0.5, 1.0, 2.0])
def test_relative_magnitudes_shrink_to_the_identified_set(es, mbar):
    b, S, npre = _beta_sigma(es)
    tiny = S * 1e-12                                         # SEs of about 1e-7
    largest_pre_change = np.abs(np.diff(np.r_[b[:npre], 0.0])).max()
    lo, hi = b[npre] - mbar * largest_pre_change, b[npre] + mbar * largest_pre_change
    res = ips.honest_did(b, tiny, num_pre=npre, restriction="RM", m=[mbar]).table.iloc[0]
    assert res["lb"] == pytest.approx(lo, abs=1e-4)
    assert res["ub"] == pytest.approx(hi, abs=1e-4)


def test_honest_did_takes_the_event_study_result(es):
    """(bug) ``ips.honest_did(es, ...)`` raised a numpy error: only arrays were read."""
    b, S, npre = _beta_sigma(es)
    a = ips.honest_did(es, restriction="RM", m=[0.0, 1.0], seed=3)
    h = ips.honest_did(b, S, num_pre=npre, restriction="RM", m=[0.0, 1.0], seed=3)
    f = from_event_study(es, restriction="RM", m=[0.0, 1.0], seed=3)
    pd.testing.assert_frame_equal(a.table, h.table)
    pd.testing.assert_frame_equal(a.table, f.table)
    with pytest.raises(ValueError, match="num_pre"):
        ips.honest_did(b, S)
