"""The IPS programme: referrals, episodes, the quality register and specialist reports.

From its ``ips_start`` each IPS municipality refers eligible residents (aged 18-40, a
recorded mental-health contact in the previous 24 months, not working and not on
disability pension) to the job specialists (jobbspesialister) at a fixed monthly rate.
Episode timings (days from referral to first meeting, days to first employer contact, the
job specialist's job-finding clock, planned episode length) are drawn by stratified
sampling along a golden-ratio sequence, so that the programme metrics of a few hundred
episodes land on their targets without the noise of independent draws. The targets are
the "Kom i jobb" report figures for Bodø at 2014-09-30 (data contract, section 6).

Only Bodø's programme ("Kom i jobb") delivers a quality register (``ips_caseload``) and
weekly activity reports (``specialist_weeks``); other municipalities' participants are in
the registers only through their outcomes.

Example
-------
>>> cumulative_referrals(20, scale=1.0, rate=(101, 21))
101
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

GOLDEN = 0.6180339887498949

#: referrals per month in Bodø at the default size: 101 in the 21 months to 2014-09,
#: fewer afterwards once the initial backlog is served
BODO_RATE_EARLY = (101, 21)
BODO_RATE_LATE = (7, 2)
#: other IPS municipalities refer this many per month per unit of population weight
#: relative to Bodø (they implement less intensively)
OTHER_INTENSITY = 0.6
#: episode timing distributions (medians in days / months) and their log-scale spreads
MEET_DAYS_MEDIAN, MEET_SIGMA = 9.0, 0.6
CONTACT_DAYS_MEDIAN, CONTACT_SIGMA = 24.0, 0.55
DURATION_MONTHS_MEDIAN, DURATION_SIGMA = 12.2, 0.6
SERVICES = ("psychosis_team", "municipal_mental_health", "nav")
SERVICE_P = (0.3, 0.5, 0.2)
N_SPECIALISTS = 4
MEETINGS_PER_WEEK = 8.0
COMMUNITY_SHARE = 0.66


def cumulative_referrals(k: int, *, scale: float, rate: tuple[int, int]) -> int:
    """Referrals in the first ``k + 1`` programme months, in exact integer arithmetic.

    >>> [cumulative_referrals(k, scale=1.0, rate=(101, 21)) for k in range(3)]
    [4, 9, 14]
    """
    num, den = rate
    return int(np.floor(round(num * scale * 1e6) * (k + 1) / (den * 1e6) + 1e-9))


def referrals_this_month(k: int, *, scale: float, bodo: bool, weight_ratio: float) -> int:
    """New referrals in programme month ``k`` (0 = the municipality's start month)."""
    if bodo:
        early_months = BODO_RATE_EARLY[1]
        if k < early_months:
            prev = cumulative_referrals(k - 1, scale=scale, rate=BODO_RATE_EARLY) if k else 0
            return cumulative_referrals(k, scale=scale, rate=BODO_RATE_EARLY) - prev
        j = k - early_months
        prev = cumulative_referrals(j - 1, scale=scale, rate=BODO_RATE_LATE) if j else 0
        return cumulative_referrals(j, scale=scale, rate=BODO_RATE_LATE) - prev
    s = scale * weight_ratio * OTHER_INTENSITY
    prev = cumulative_referrals(k - 1, scale=s, rate=BODO_RATE_LATE) if k else 0
    return cumulative_referrals(k, scale=s, rate=BODO_RATE_LATE) - prev


def stratified(index: np.ndarray, offset: float) -> np.ndarray:
    """Golden-ratio low-discrepancy points in (0, 1) for the ``index``-th draws."""
    return np.clip((offset + (np.asarray(index) + 1) * GOLDEN) % 1.0, 1e-6, 1 - 1e-6)


@dataclass(frozen=True)
class EpisodeTimings:
    """Timings of new episodes: days to meeting / employer contact, months to the job clock and end."""

    meet_days: np.ndarray
    contact_days: np.ndarray
    job_months: np.ndarray
    duration_months: np.ndarray


def draw_timings(index: np.ndarray, offsets: np.ndarray, job_hazard: float) -> EpisodeTimings:
    """Episode timings for the ``index``-th referrals of a municipality.

    ``offsets`` holds four per-municipality offsets of the stratified sequences, one per
    timing, so that the timings are not correlated with each other.
    """
    q = [stratified(index * (j + 2), offsets[j]) for j in range(4)]
    meet = np.round(MEET_DAYS_MEDIAN * np.exp(MEET_SIGMA * special.ndtri(q[0]))).astype(np.int64)
    contact = np.round(CONTACT_DAYS_MEDIAN * np.exp(CONTACT_SIGMA * special.ndtri(q[1]))).astype(np.int64)
    if job_hazard > 0:
        job = 1 + np.floor(-np.log1p(-q[2]) / job_hazard).astype(np.int64)
    else:
        job = np.full(len(q[2]), 10**6, dtype=np.int64)
    dur = np.maximum(2, np.round(DURATION_MONTHS_MEDIAN * np.exp(
        DURATION_SIGMA * special.ndtri(q[3])))).astype(np.int64)
    return EpisodeTimings(np.maximum(meet, 0), np.maximum(contact, 1), job, dur)


def specialist_weeks(first_week: str, last_day: str, n_specialists: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Weekly activity reports of ``n_specialists`` job specialists.

    No report is filed in holiday weeks (three summer weeks and Christmas). Employer
    meetings and the community share are drawn by stratified sampling around 8 meetings
    per week and 66 % of hours out in the community (report Table 3).

    >>> df = specialist_weeks("2013-01-07", "2013-03-31", 2, np.random.default_rng(0))
    >>> sorted(df.columns)[:2]
    ['employer_meetings', 'hours_in_community']
    """
    weeks = pd.date_range(first_week, last_day, freq="W-MON")
    rows = []
    offsets = rng.random(3)
    for s in range(n_specialists):
        sid = f"JS{s + 1:02d}"
        summer_start = 27 + rng.integers(0, 3, len(weeks))
        iso = weeks.isocalendar()
        week_no = iso["week"].to_numpy()
        holiday = ((week_no >= summer_start) & (week_no < summer_start + 3)) | (week_no >= 52)
        w = weeks[~holiday]
        idx = np.arange(len(w)) * n_specialists + s
        meetings = stats.poisson.ppf(stratified(idx, offsets[0]), MEETINGS_PER_WEEK).astype(np.int64)
        hours = np.where(stratified(idx * 3, offsets[1]) < 0.1, 30.0, 37.5)
        a = 40.0
        share = stats.beta.ppf(stratified(idx * 5, offsets[2]), a * COMMUNITY_SHARE, a * (1 - COMMUNITY_SHARE))
        rows.append(pd.DataFrame({
            "specialist_id": sid, "week_start": w.values.astype("datetime64[ns]"),
            "employer_meetings": meetings, "hours_worked": hours,
            "hours_in_community": np.round(hours * share, 1)}))
    out = pd.concat(rows, ignore_index=True).sort_values(["week_start", "specialist_id"], kind="stable")
    return out.reset_index(drop=True)
