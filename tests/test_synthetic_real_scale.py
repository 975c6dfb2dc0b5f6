"""Generator option for the published design at real scale: subset geography, year shocks, one programme."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ips_study.synthetic import generate, write_synthetic
from ips_study.synthetic.engine import simulation_setup
from ips_study.synthetic.geography import GeographySpec
from ips_study.synthetic.real_scale import POPULATION_2013, published_geography, real_scale_persons

CODES = ("1804", "1505", "0501")


def test_geography_spec_keeps_only_its_municipalities_with_normalised_weights():
    geo = GeographySpec(codes=CODES, weights=(2.0, 1.0, 1.0)).table()
    assert list(geo["municipality"]) == list(CODES)
    assert geo["weight"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="9999"):
        GeographySpec(codes=("1804", "9999")).table()
    with pytest.raises(ValueError, match="Bodø"):
        GeographySpec(codes=("1505",))


def test_default_geography_is_the_embedded_one_without_shocks():
    s = simulation_setup(5, "2006-01", "2020-12")
    assert len(s.geo) == 28 and s.ctx.work_shock is None
    assert s.programme_scale(60_000) == 1.0


def test_year_shocks_come_from_their_own_stream():
    off = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES))
    on = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES, work_year_sd=0.2))
    pd.testing.assert_frame_equal(off.muni_effects, on.muni_effects)  # no other draw moves
    assert on.ctx.work_shock.shape == (3, 2020 - 2004 + 1)            # burn-in years included
    # 3 x 17 draws of N(0, 0.2): the sample SD is within 25 % of 0.2 (its SE is about 10 %)
    assert np.std(on.ctx.work_shock) == pytest.approx(0.2, rel=0.25)


def test_shocks_move_the_factual_registers_of_the_same_seed():
    a = generate(1500, seed=3, end="2014-12", geography=GeographySpec(codes=CODES))
    b = generate(1500, seed=3, end="2014-12", geography=GeographySpec(codes=CODES, work_year_sd=0.5))
    pd.testing.assert_frame_equal(a.registers["persons"], b.registers["persons"])
    assert not a.registers["employment"].equals(b.registers["employment"])
    assert set(a.registers["municipalities"]["municipality"]) == set(CODES)


def test_one_programme_over_the_whole_population():
    spec = GeographySpec(codes=CODES, programme_persons=240_000)
    s = simulation_setup(5, "2006-01", "2020-12", spec)
    # a chunk of 60,000 of 240,000 persons runs a quarter of the programme
    assert s.programme_scale(60_000) == 0.25


def test_real_scale_sizes_follow_the_cited_populations():
    from ips_study.synthetic.real_scale import AGE_18_40_2013, PERSONS_PER_RESIDENT

    spec = published_geography()
    geo = spec.table().set_index("municipality")
    # weights: SSB's residents aged 18-40 on 1.1.2013 (table 07459), Bodø 15,738 of 97,935
    assert set(AGE_18_40_2013) == set(POPULATION_2013)
    assert geo.loc["1804", "weight"] == pytest.approx(15_738 / 97_935)
    # every count by age is a plausible part of its cited total (shares 0.27-0.32)
    assert all(0.25 < AGE_18_40_2013[c] / POPULATION_2013[c][1] < 0.35 for c in POPULATION_2013)
    assert real_scale_persons() == round(97_935 / PERSONS_PER_RESIDENT, -3) == 181_000
    assert spec.programme_persons == real_scale_persons()
    assert len(spec.codes) == 11 and spec.work_year_sd > 0


def test_streaming_writes_only_the_study_municipalities(tmp_path):
    spec = GeographySpec(codes=CODES, work_year_sd=0.1, programme_persons=1200)
    out = write_synthetic(tmp_path, persons=1200, seed=4, geography=spec, stream=True, messy=False)
    munis = pd.read_parquet(out / "municipalities.parquet")
    assert sorted(munis["municipality"]) == sorted(CODES)
    res = pd.read_parquet(out / "residence.parquet")
    assert set(res["municipality"]) <= set(CODES)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["method"] == "monthly_states" and truth["geography"]["codes"] == list(CODES)


# -- published-design calibration: spill-over, municipality SDs, the streamed truth ----------
from ips_study.config import StudyConfig  # noqa: E402
from ips_study.panel import build_panel  # noqa: E402
from ips_study.synthetic import Effects  # noqa: E402
from ips_study.synthetic.direct import year_truth  # noqa: E402
from ips_study.synthetic.real_scale import (CALIBRATED_SDS, population_truth_from_panels,  # noqa: E402
                                            published_design_effects)
from ips_study.synthetic.spillover import Spillover  # noqa: E402
from ips_study.synthetic.truth import population_truth  # noqa: E402


def test_effects_dict_without_spillover_is_the_embedded_one():
    # the embedded truth.json holds exactly these keys: a spill-over field must not add one
    assert Effects().to_dict() == {"job_hazard": 0.15, "work_exit_hr": 1.0, "health_benefit_hr": 0.7}
    d = published_design_effects().to_dict()
    assert d["spillover"]["work_hr"] > 1 and published_design_effects(null=True) == Effects.null()


def test_spillover_ramps_on_the_log_hazard_scale_after_its_lag():
    s = Spillover(work_hr=4.0, ramp_months=10, lag_months=2)
    assert s.multiplier(1) == 1.0 and s.multiplier(-3) == 1.0
    assert s.multiplier(6) == pytest.approx(4.0 ** 0.5)        # 5th month of the ramp
    assert s.multiplier(11) == s.multiplier(40) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="work_hr"):
        Spillover(work_hr=0.0)


def test_municipality_sds_can_be_set_and_default_to_the_embedded_draws():
    base = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES))
    same = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES, health_level_sd=0.15))
    pd.testing.assert_frame_equal(base.muni_effects, same.muni_effects)   # 0.15 is the default
    flat = simulation_setup(5, "2006-01", "2020-12",
                            GeographySpec(codes=CODES, health_level_sd=0.0, work_level_sd=0.0, health_trend_sd=0.0))
    assert (flat.muni_effects[["health_level", "work_level", "health_trend"]] == 0).all().all()
    half = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES, health_trend_sd=0.01))
    np.testing.assert_allclose(half.muni_effects["health_trend"], base.muni_effects["health_trend"] / 2)
    spec = published_geography()
    assert spec.health_trend_sd == CALIBRATED_SDS["health_trend_sd"] and spec.truth_target == "work_assessment"


def test_shorter_window_needs_fewer_persons_for_the_same_residents():
    # birth months drawn: 1965-02..2002-12 (455) for 2006-2020, 1967-02..1998-12 (383) for 2008-2016
    ratio = real_scale_persons(start="2008-01", end="2016-12") / real_scale_persons()
    assert ratio == pytest.approx(383 / 455, abs=0.005)


@pytest.fixture(scope="module")
def spill():
    """Three municipalities, a strong spill-over: both worlds and the published design's truth."""
    codes = ("1804", "1505", "0501")
    geo = GeographySpec(codes=codes, weights=(3.0, 1.0, 1.0), programme_persons=8000,
                        truth_target="work_assessment")
    data = generate(8000, seed=3, start="2008-01", end="2016-12", geography=geo,
                    effects=Effects(spillover=Spillover(work_hr=2.0, ramp_months=12)))
    cfg = StudyConfig.load("published_design").replace(controls=codes[1:])
    return data, cfg


def test_spillover_reaches_non_participants_in_both_worlds(spill):
    data, _ = spill
    f, c = data.registers["employment"], data.counterfactual["employment"]
    participants = set(data.registers["ips_caseload"]["person_id"])
    changed = set(f["person_id"]).symmetric_difference(set(c["person_id"]))
    # the spill-over changes jobs of people who never met a job specialist ...
    assert changed - participants
    # ... and only of people who lived in Bodø (the treated office's practice)
    res = data.registers["residence"]
    bodo = set(res.loc[res["municipality"] == "1804", "person_id"])
    assert changed <= bodo


def test_panel_truth_from_full_panels_equals_population_truth(spill):
    data, cfg = spill
    pt = population_truth(data.registers, data.counterfactual, cfg)
    att, by_event = population_truth_from_panels(build_panel(data.registers, cfg, freq="year"),
                                                 build_panel(data.counterfactual, cfg, freq="year"))
    assert att == pytest.approx(pt["att_population"]["workdays"], abs=1e-9)
    assert {str(k): v for k, v in by_event.items()} == pytest.approx(pt["by_event_time_population"]["workdays"])
    assert att > 5      # a hazard ratio of 2 on leaving AAP for work is a large effect


def test_streamed_truth_is_the_published_designs(spill):
    # the streamed truth.json comes from monthly states (whole months); on this population
    # the panel truth is 14.6 workdays and the monthly-states one 15.8: within 10 %
    data, cfg = spill
    pt = population_truth(data.registers, data.counterfactual, cfg)["att_population"]["workdays"]
    yt = year_truth(data.direct)
    assert yt["target_rule"] == "work_assessment"
    assert yt["att_population"]["workdays"] == pytest.approx(pt, rel=0.10)
    # the default target group's truth (what the streamed truth.json held before) is far off
    from ips_study.synthetic.direct import direct_truth
    assert abs(direct_truth(data.direct)["att_population"]["workdays"] - pt) > 0.2 * pt


def test_streaming_writes_the_published_truth(tmp_path):
    spec = GeographySpec(codes=CODES, programme_persons=1500, truth_target="work_assessment", aap_entry_hr=1.5)
    out = write_synthetic(tmp_path, persons=1500, seed=4, geography=spec, stream=True, messy=False,
                          effects=Effects(spillover=Spillover(work_hr=2.0)))
    truth = json.loads((out / "truth.json").read_text())
    assert truth["target_rule"] == "work_assessment" and "default_target_group" in truth
    assert truth["effects"]["spillover"]["work_hr"] == 2.0
    assert truth["geography"]["truth_target"] == "work_assessment"
    assert truth["geography"]["aap_entry_hr"] == 1.5


def test_aap_entry_hazard_ratio_raises_the_share_on_the_allowance_and_nothing_else_upstream():
    def aap_months(data):
        b = data.registers["benefits"]
        b = b.loc[b["benefit"] == "work_assessment"]
        end = b["end_date"].fillna(pd.Timestamp("2014-12-31"))
        return float(((end - b["start_date"]).dt.days / 30.4).sum())

    base = generate(3000, seed=3, end="2014-12", geography=GeographySpec(codes=CODES))
    more = generate(3000, seed=3, end="2014-12", geography=GeographySpec(codes=CODES, aap_entry_hr=2.0))
    pd.testing.assert_frame_equal(base.registers["persons"], more.registers["persons"])
    # a doubled entry hazard gives about 1.6 times the months on the allowance (prevalence
    # 2.1 % -> 3.4 % at real scale); about 150 persons on it here, so the ratio's SD is ~0.1
    assert aap_months(more) > 1.3 * aap_months(base)
    assert simulation_setup(5, "2006-01", "2020-12").ctx.aap_entry_hr == 1.0   # embedded data
    with pytest.raises(ValueError, match="aap_entry_hr"):
        GeographySpec(codes=CODES, aap_entry_hr=0.0)


def test_real_scale_geography_carries_the_calibrated_aap_entry_hazard():
    from ips_study.synthetic.real_scale import AAP_ENTRY_HR

    assert published_geography().aap_entry_hr == AAP_ENTRY_HR > 1
    assert published_geography(aap_entry_hr=1.0).aap_entry_hr == 1.0
    s = simulation_setup(5, "2008-01", "2016-12", published_geography())
    assert s.ctx.aap_entry_hr == AAP_ENTRY_HR


@pytest.mark.parametrize("window", [("2006-01", "2020-12"), ("2008-01", "2016-12")])
def test_spillover_starts_in_its_lag_month_whatever_the_window(window):
    # session 8 looked for a window-dependent start (two shapes gave the same streamed truth in
    # event years 0-1 on 2006-2020, seed 20130101); the cause was chance: 10 first divergences
    # of January's target group in 2013-14, none into work (docs/synthetic_data.md). This guards
    # the start itself: with no participant effect the two worlds' monthly states first differ
    # in 2013-04 (lag 3) on either window, and a stronger spill-over raises event years 0 and 1.
    from ips_study.synthetic.engine import _rng, simulation_setup as setup_of
    from ips_study.synthetic.health import simulate_health
    from ips_study.synthetic.population import simulate_population
    from ips_study.synthetic.states import simulate_states

    geo = GeographySpec(codes=("1804", "1505"), weights=(3.0, 1.0), programme_persons=4000,
                        truth_target="work_assessment", aap_entry_hr=2.0)
    no_participants = dict(job_hazard=0.0, work_exit_hr=1.0, health_benefit_hr=1.0)
    setup = setup_of(5, *window, geo)
    cal, ctx = setup.cal, setup.ctx
    pop = simulate_population(4000, cal, ctx.weight, _rng(5, 0, 0))
    paths = simulate_states(pop, simulate_health(pop, cal, _rng(5, 0, 1)), cal, ctx,
                            Effects(**no_participants, spillover=Spillover(work_hr=6.0, lag_months=3)),
                            _rng(5, 0, 2))
    first = int(np.nonzero((paths.state != paths.state_cf).any(axis=0))[0][0])
    assert str(cal.month_start[first].astype("datetime64[M]")) == "2013-04"
    truths = [year_truth(generate(4000, seed=5, start=window[0], end=window[1], geography=geo, effects=Effects(
        **no_participants, spillover=Spillover(work_hr=hr, lag_months=3))).direct)["by_event_time_population"]["workdays"]
        for hr in (3.0, 6.0)]
    for e in ("0", "1"):
        assert 0 < truths[0][e] < truths[1][e]
