"""The true hazard ratio of IPS (ips_study.synthetic.hazard_truth) and its recovery by the Cox design."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.survival import fit_cox_panel
from ips_study.panel import build_panel
from ips_study.synthetic import Effects, generate
from ips_study.synthetic import states as synth_states
from ips_study.synthetic.hazard_truth import (HazardTruth, cohort_panels, everyone_referred,
                                              fit_stacked, implied_hazard_ratio, iter_worlds,
                                              participant_hazard_ratio, participant_months,
                                              stacked_tte)

from .survival_dgp import simulate_panel

CFG = StudyConfig(design="closed", freq="month")


# -- the stacked fit on the tiny DGP (two worlds = same seed, different effect) ---------------
def test_identical_worlds_give_exactly_zero():
    # swapping the world labels maps the stacked data onto itself, so the unique maximum of
    # the partial likelihood has the effect term at 0 (up to rounding)
    p = simulate_panel(800, beta=-0.5, seed=4)
    t = fit_stacked(stacked_tte(p, p, CFG))
    assert abs(t.log_hr) < 1e-9
    assert t.n_events["factual"] == t.n_events["counterfactual"] > 0


def test_stacked_fit_recovers_the_dgp_log_hazard_ratio():
    # simulate_panel draws the same random numbers whatever beta is, so beta=-0.5 and
    # beta=0 with one seed are factual and counterfactual worlds on common random numbers
    f = simulate_panel(3000, beta=-0.5, seed=8)
    c = simulate_panel(3000, beta=0.0, seed=8)
    t = fit_stacked(stacked_tte(f, c, CFG))
    # the person-clustered SE is the truth's own noise; 3 SE keeps a false failure < 0.3 %
    assert abs(t.log_hr + 0.5) < 3 * t.std_error
    assert 0 < t.std_error < 0.2
    assert t.n_events["factual"] < t.n_events["counterfactual"]
    assert 0 < t.exposed_share < 1
    lo, hi = t.conf_int()
    assert lo < t.log_hr < hi and t.hazard_ratio == pytest.approx(np.exp(t.log_hr))
    json.dumps(t.to_dict())


def test_stacked_episodes_mark_the_effect_only_in_the_factual_world():
    f = simulate_panel(200, seed=2)
    tte = stacked_tte(f, f, CFG)
    assert set(tte["world"]) == {0, 1}
    assert (tte["ips_effect"] == tte["exposed"] * tte["world"]).all()
    # the exposure status is the study's in both worlds
    a, b = tte[tte["world"] == 1], tte[tte["world"] == 0]
    assert a["exposed"].sum() == b["exposed"].sum() > 0


# -- participant months ---------------------------------------------------------------------
def _person_panel(states: list[str], pid="a", first="2013-01") -> pd.DataFrame:
    months = pd.period_range(first, periods=len(states), freq="M")
    flags = {"work_assessment": "A", "disability": "D", "sickness": "S"}
    return pd.DataFrame({"person_id": pid, "period_start": months.to_timestamp(),
                         **{k: [float(s == v) for s in states] for k, v in flags.items()}})


def test_participant_months_window_and_risk_rules():
    # first meeting in 2013-02 (month 1), episode ends in 2013-08 (month 7): active transition
    # months are 2013-03 .. 2013-07 (k = 1 .. 5)
    states = ["O", "O", "O", "A", "O", "O", "A", "A", "O"]
    panel = _person_panel(states)
    cl = pd.DataFrame({"person_id": ["a"], "start_date": [pd.Timestamp("2013-02-10")],
                       "end_date": [pd.Timestamp("2013-08-20")]})
    m = participant_months(panel, cl)
    # 2013-03 at risk (no event), 2013-04 entry (event), 2013-05 not at risk (previous AAP),
    # 2013-06 at risk, 2013-07 entry; 2013-08 is the end month, not active
    assert m["stop"].tolist() == [1, 2, 4, 5]
    assert m["event"].tolist() == [0, 1, 0, 1]
    assert (m["stop"] - m["start"] == 1).all()


def test_participant_months_skip_long_sickness_and_gaps_and_open_episodes():
    states = ["S"] * 13 + ["A", "O", "O"]
    panel = _person_panel(states, first="2012-01")
    cl = pd.DataFrame({"person_id": ["a"], "start_date": [pd.Timestamp("2012-01-05")],
                       "end_date": [pd.NaT]})
    m = participant_months(panel, cl)
    # the AAP entry after 13 sickness months follows the generator's override, not IPS
    assert 13 not in m["stop"].tolist()
    assert m["stop"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    gap = panel.drop(index=[5])
    assert 6 not in participant_months(gap, cl)["stop"].tolist()   # no previous month


def test_everyone_referred_swaps_and_restores_the_referral_count():
    original = synth_states.referrals_this_month
    with everyone_referred():
        assert synth_states.referrals_this_month(0, scale=1.0, bodo=True, weight_ratio=1.0) > 10**6
        assert synth_states.referrals_this_month(0, scale=1.0, bodo=False, weight_ratio=1.0) == \
            original(0, scale=1.0, bodo=False, weight_ratio=1.0)
    assert synth_states.referrals_this_month is original
    with pytest.raises(RuntimeError), everyone_referred():
        raise RuntimeError
    assert synth_states.referrals_this_month is original


# -- the generator: default effects ---------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return generate(20_000, seed=1)


def test_truth_and_study_estimate_on_generated_registers(small):
    truth = implied_hazard_ratio(small)
    assert isinstance(truth, HazardTruth) and np.isfinite(truth.log_hr) and truth.std_error > 0
    assert truth.n_events["factual"] > 0 and truth.n_events["counterfactual"] > 0
    panel = build_panel(small.registers, CFG, freq="month")
    est = fit_cox_panel(panel, config=CFG, inference="model")
    # the estimate's model SE and the truth's own SE are independent pieces of noise (the
    # truth compares the cohort with itself); 3 combined SEs: false failure < 0.3 %
    se = np.hypot(est.std_error, truth.std_error)
    assert abs(est.estimate - truth.log_hr) < 3 * se
    part = participant_hazard_ratio(small)
    assert np.isfinite(part.log_hr) and part.n_persons > 0
    assert part.notes and "job clock" in part.notes[0]
    json.dumps(part.to_dict())


def test_too_small_population_is_a_clear_error():
    with pytest.raises(ValueError, match="simulate more people"):
        implied_hazard_ratio(generate(1500, seed=3))


# -- slow: exactness, no-dilution check and several seeds -----------------------------------
@pytest.mark.slow
def test_null_effect_truths_are_exactly_zero():
    data = generate(30_000, seed=2, effects=Effects.null())
    assert abs(implied_hazard_ratio(data).log_hr) < 1e-9
    assert abs(participant_hazard_ratio(data).log_hr) < 1e-9


@pytest.mark.slow
def test_participant_hazard_ratio_recovers_health_benefit_hr_without_dilution():
    """Everyone eligible in Bodø referred, no job clock: the hazard ratio of entering work
    assessment allowance / disability pension in active IPS months is the generator's 0.7.
    Tolerance 3 person-clustered SEs (false failure < 0.3 %); selection among the at-risk
    in the two worlds moves the marginal ratio by far less than the SE (about 0.1)."""
    with everyone_referred():
        t = participant_hazard_ratio(iter_worlds(60_000, seed=5, effects=Effects(job_hazard=0.0)))
    assert t.n_events["counterfactual"] >= 20
    assert abs(t.log_hr - np.log(0.7)) < 3 * t.std_error
    assert t.log_hr < 0 and t.std_error < 0.15


@pytest.mark.slow
def test_study_cox_covers_the_pooled_truth_over_seeds():
    """Three seeds: each seed's study estimate (Bodø vs controls, time-varying exposure,
    model SE) against the truth pooled over the three seeds. The model SE ignores
    municipality-level noise (docs/survival.md measures how much); the pooled truth's SE
    is added, and 3 combined SEs bound a false failure at < 1 % for three seeds."""
    ttes, est = [], []
    for s in (11, 12, 13):
        d = generate(30_000, seed=s)
        tte = stacked_tte(*cohort_panels(d, CFG), CFG)
        tte["person_id"] = f"{s}:" + tte["person_id"]
        ttes.append(tte)
        r = fit_cox_panel(build_panel(d.registers, CFG, freq="month"), config=CFG, inference="model")
        est.append((r.estimate, r.std_error))
    truth = fit_stacked(pd.concat(ttes, ignore_index=True))
    assert truth.n_persons == sum(t["person_id"].nunique() for t in ttes)
    for b, se in est:
        assert abs(b - truth.log_hr) < 3 * np.hypot(se, truth.std_error)
