"""Building blocks of the synthetic generator: spells, programme schedule, effects, reforms."""

import numpy as np
import pandas as pd
import pytest

from ips_study.synthetic import Effects
from ips_study.synthetic.population import Calendar
from ips_study.synthetic.programme import (cumulative_referrals, draw_timings, referrals_this_month,
                                           specialist_weeks, stratified)
from ips_study.synthetic.spells import job_fte, runs
from ips_study.synthetic.states import _calendar_factors


def test_runs_finds_every_run_per_row():
    x = np.array([[0, 1, 1, 2, 0, 2], [3, 3, 3, 3, 3, 3], [0, 0, 0, 0, 0, 0]])
    p, ts, te, v = runs(x, null=0)
    assert p.tolist() == [0, 0, 0, 1]
    assert ts.tolist() == [1, 3, 5, 0] and te.tolist() == [2, 3, 5, 5] and v.tolist() == [1, 2, 2, 3]


def test_referral_schedule_is_exact_at_default_scale():
    total = sum(referrals_this_month(k, scale=1.0, bodo=True, weight_ratio=1.0) for k in range(21))
    assert total == 101 == cumulative_referrals(20, scale=1.0, rate=(101, 21))
    later = [referrals_this_month(k, scale=1.0, bodo=True, weight_ratio=1.0) for k in range(21, 45)]
    assert sum(later) == 84                         # 3.5 a month after the first 21 months
    big = sum(referrals_this_month(k, scale=25.0, bodo=True, weight_ratio=1.0) for k in range(21))
    assert big == 2525                              # a 1.5 million population: 25 replicas
    other = sum(referrals_this_month(k, scale=1.0, bodo=False, weight_ratio=0.5) for k in range(24))
    assert other == int(np.floor(3.5 * 0.5 * 0.6 * 24 + 1e-9))


def test_stratified_draws_have_exact_medians():
    u = stratified(np.arange(101), 0.3)
    assert abs(np.median(u) - 0.5) < 0.01 and ((0 < u) & (u < 1)).all()
    t = draw_timings(np.arange(101), np.array([0.1, 0.2, 0.3, 0.4]), job_hazard=0.15)
    assert np.median(t.meet_days) == 9 and np.median(t.contact_days) == 24
    # the job clock is exponential with the stated hazard: median log(2) / 0.15 months (+1)
    assert abs(np.median(t.job_months) - (1 + np.log(2) / 0.15)) <= 1.0
    none = draw_timings(np.arange(5), np.zeros(4), job_hazard=0.0)
    assert (none.job_months > 10**5).all()


def test_specialist_weeks_skip_holidays_and_hit_targets():
    w = specialist_weeks("2013-01-07", "2014-12-31", 4, np.random.default_rng(3))
    assert w["specialist_id"].nunique() == 4 and not w.duplicated(["specialist_id", "week_start"]).any()
    assert (w["week_start"].dt.day_of_week == 0).all()
    weeks = w["week_start"].dt.isocalendar()["week"]
    assert (weeks < 52).all() and w.groupby("specialist_id").size().max() < 2 * 52
    assert w["employer_meetings"].mean() == pytest.approx(8, abs=0.3)
    share = w["hours_in_community"].sum() / w["hours_worked"].sum()
    assert share == pytest.approx(0.66, abs=0.01)
    assert (w["hours_in_community"] <= w["hours_worked"]).all()


def test_effects_validation_and_implied_hazard_ratio():
    assert Effects(job_hazard=0.05).implied_work_entry_hr(0.05) == 2.0
    assert Effects.null().to_dict() == {"job_hazard": 0.0, "work_exit_hr": 1.0, "health_benefit_hr": 1.0}
    with pytest.raises(ValueError):
        Effects(health_benefit_hr=0)


def test_reform_factors_hit_the_right_months():
    f = _calendar_factors
    assert f(2010, 2)["aap"] < 1 < f(2010, 3)["aap"]              # AAP from March 2010
    assert f(2014, 9)["dp"] > 1 > f(2015, 3)["dp"]                # rush before the 2015 reform
    assert f(2017, 12)["aap_limit"] == 0 < f(2018, 1)["aap_limit"]  # three-year limit 2018
    assert f(2018, 1)["aap"] < f(2017, 12)["aap"]


def test_calendar_and_ips_part_time_jobs():
    cal = Calendar.from_months("2006-01", "2020-12")
    assert cal.n_months == 17 * 12 and str(cal.month_start[cal.window_start_index]) == "2006-01-01"
    u = np.arange(256)
    assert set(job_fte(u, np.zeros(256, int), ips_job=True)) <= {20.0, 30.0, 40.0, 50.0}
    regular = job_fte(u, np.zeros(256, int))
    assert (regular == 100).mean() > 0.6
    assert (job_fte(u, np.ones(256, int)) == 100).mean() < (regular == 100).mean()
    assert pd.Timestamp(str(cal.day_date(np.array([0]), np.array([15]))[0])) == pd.Timestamp("2004-01-15")
