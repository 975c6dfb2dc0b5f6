"""Tests of ips_study.economics: hand-computed cases, effect inputs, Monte Carlo, CEAC, tornado."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ips_study.economics import (EconomicInputs, EconomicResults, annual_programme_cost, compute,
                                 effect_value, evaluate, tornado_table)
from ips_study.results import Results

def one_participant(**kw):
    """One participant, one year, no discounting, round prices: every number by hand."""
    base = dict(specialists_fte=0.1, specialist_salary=100_000.0, supervision_fte=0.0,
                supervisor_salary=0.0, employer_cost_rate=0.0, overhead_rate=0.0,
                participants_per_year=1.0, target_population=1.0, programme_years=1,
                horizon_years=1, decay=0.0, discount_rate=0.0,
                benefit_rates={"work_assessment": 10_000.0, "social_assistance": 5_000.0},
                production_value_per_workday=1_000.0, tax_rate=0.3,
                workdays_per_work_year=200.0, marginal_cost_public_funds=0.0)
    base.update(kw)
    return EconomicInputs(**base)


def fixed_ranges(inputs):
    return inputs.replace(ranges={k: (getattr(inputs, k),) * 2 for k in inputs.ranges})


def test_one_participant_no_discounting_by_hand():
    inp = one_participant()
    eff = {"work_assessment": -2.0, "social_assistance": -1.0, "workdays": 10.0}
    out = compute(inp, eff, per="participant")
    # cost 0.1 FTE x 100,000; benefits 2 x 10,000 + 1 x 5,000; production 10 x 1,000; tax 30 %
    assert out["pv_programme_cost"] == pytest.approx(10_000)
    assert out["pv_benefits_avoided"] == pytest.approx(25_000)
    assert out["pv_production"] == pytest.approx(10_000)
    assert out["pv_tax"] == pytest.approx(3_000)
    assert out["npv_public_participant"] == pytest.approx(25_000 + 3_000 - 10_000)
    assert out["npv_society_participant"] == pytest.approx(0.0)   # transfers cancel
    assert out["work_years"] == pytest.approx(10 / 200)
    assert out["cost_per_work_year"] == pytest.approx(10_000 / 0.05)
    assert out["roi_public"] == pytest.approx(18_000 / 10_000)


def test_marginal_cost_of_public_funds_applies_to_net_budget():
    inp = one_participant(marginal_cost_public_funds=0.2)
    out = compute(inp, {"work_assessment": -2.0, "workdays": 10.0}, per="participant")
    public = 20_000 + 3_000 - 10_000
    assert out["npv_society_participant"] == pytest.approx(10_000 - 10_000 + 0.2 * public)


def test_discounting_decay_and_programme_years_by_hand():
    # programme 2 years, horizon 4, effect decays 50 %/year after the programme, r = 10 %
    inp = one_participant(programme_years=2, horizon_years=4, decay=0.5, discount_rate=0.1,
                          participants_per_year=2.0, target_population=10.0)
    out = compute(inp, {"work_assessment": -1.0}, per="population")
    d = [1, 1 / 1.1, 0.5 / 1.1 ** 2, 0.25 / 1.1 ** 3]
    assert out["pv_benefits_avoided"] == pytest.approx(10 * 10_000 * sum(d))
    assert out["pv_programme_cost"] == pytest.approx(10_000 * (1 + 1 / 1.1))
    n_participants = 2 * 2
    assert out["npv_public_participant"] == pytest.approx(out["npv_public_municipality"] / n_participants)
    part = compute(inp, {"work_assessment": -1.0}, per="participant")
    assert part["pv_benefits_avoided"] == pytest.approx(2 * 10_000 * sum(d))


def test_programme_cost_components():
    inp = EconomicInputs(specialists_fte=4, specialist_salary=500_000, supervision_fte=0.5,
                         supervisor_salary=600_000, employer_cost_rate=0.2, overhead_rate=0.1)
    assert annual_programme_cost(inp) == pytest.approx((2_000_000 + 300_000) * 1.2 * 1.1)


def test_inputs_validation_and_from_dict():
    with pytest.raises(ValueError, match="horizon"):
        EconomicInputs(horizon_years=16)
    with pytest.raises(ValueError, match="unknown key"):
        EconomicInputs.from_dict({"discount": 0.04})
    with pytest.raises(ValueError, match="outside"):
        EconomicInputs(ranges={"tax_rate": (0.5, 0.6)})
    inp = EconomicInputs.from_dict({"discount_rate": 0.03, "benefit_rates": {"sickness": 20000},
                                    "ranges": {"tax_rate": [0.3, 0.5]}})
    assert inp.benefit_rates["sickness"] == 20000.0
    assert inp.benefit_rates["disability"] == EconomicInputs().benefit_rates["disability"]
    assert inp.ranges["tax_rate"] == (0.3, 0.5)
    assert inp.ranges["discount_rate"] == pytest.approx((0.01, 0.05))   # follows the value


def test_from_toml(tmp_path):
    p = tmp_path / "study.toml"
    p.write_text('treated_municipality = "1804"\n[economics]\nspecialists_fte = 3.5\n'
                 'horizon_years = 15\n[economics.benefit_rates]\nwork_assessment = 18000\n')
    inp = EconomicInputs.from_toml(p)
    assert (inp.specialists_fte, inp.horizon_years, inp.benefit_rates["work_assessment"]) == (3.5, 15, 18000)


def test_price_year_conversion():
    inp = EconomicInputs().at_price_year(2020, {2016: 100.0, 2020: 110.0})
    base = EconomicInputs()
    assert inp.price_year == 2020
    assert inp.specialist_salary == pytest.approx(1.1 * base.specialist_salary)
    assert inp.benefit_rates["sickness"] == pytest.approx(1.1 * base.benefit_rates["sickness"])
    assert annual_programme_cost(inp) == pytest.approx(1.1 * annual_programme_cost(base))


def test_effect_value_from_results_uses_method_interval_and_month_scale():
    tidy = pd.DataFrame({"estimate": [-0.05], "std_error": [0.01], "conf_low": [-0.09],
                         "conf_high": [-0.01]}, index=["treated_post"])
    res = Results(tidy, design="did", outcome="work_assessment", inference="placebo",
                  n_obs=10, n_units=5)
    est, se = effect_value(res, "work_assessment")
    z = stats.norm.ppf(0.975)
    # the placebo interval (half-width 0.04) rules, not the reported SE; shares x 12 = months
    assert est == pytest.approx(-0.6)
    assert se == pytest.approx(12 * 0.04 / z)
    assert effect_value(3.0, "workdays") == (3.0, 0.0)
    assert effect_value((3.0, 1.0), "workdays") == (3.0, 1.0)
    inf = Results(tidy.assign(conf_low=-np.inf), design="did", outcome="workdays",
                  inference="placebo", n_obs=10, n_units=5)
    with pytest.raises(ValueError, match="unbounded"):
        effect_value(inf, "workdays")


def test_effects_overlap_and_unknown_names_rejected():
    with pytest.raises(ValueError, match="overlaps"):
        evaluate({"benefit_months": -1.0, "disability": -0.1}, draws=10)
    with pytest.raises(KeyError, match="unknown effect"):
        evaluate({"wages": 1.0}, draws=10)


def test_no_uncertainty_gives_degenerate_interval():
    inp = fixed_ranges(one_participant())
    res = evaluate({"workdays": 10.0, "work_assessment": -2.0}, inp, per="participant", draws=50)
    lo, hi = res.conf_int().loc["npv_public_participant"]
    # benefits 20,000 + tax 3,000 - cost 10,000
    assert lo == pytest.approx(13_000) and hi == pytest.approx(13_000)
    assert isinstance(res, EconomicResults) and res.estimate == pytest.approx(0.0)


def test_monte_carlo_linear_case_matches_normal_theory():
    # only the effect is uncertain: the public NPV is linear in it, so its MC distribution
    # is normal with SD = (rate + production x tax) x se
    inp = fixed_ranges(one_participant())
    res = evaluate({"workdays": (10.0, 4.0)}, inp, per="participant", draws=40_000, seed=3)
    sd = 1_000 * 0.3 * 4.0
    row = res.tidy().loc["npv_public_participant"]
    # MC SD has relative SE 1/sqrt(2n) = 0.35 %; mean SE sd/sqrt(n) = 0.5 % of sd: 4 SE slack
    assert row["std_error"] == pytest.approx(sd, rel=0.015)
    assert res.draws["npv_public_participant"].mean() == pytest.approx(3_000 - 10_000, abs=0.02 * sd)
    lo, hi = res.conf_int(0.9).loc["npv_public_participant"]
    assert lo == pytest.approx(-7_000 - 1.645 * sd, abs=0.05 * sd)


def test_monte_carlo_interval_stable_across_seeds():
    inp = EconomicInputs()
    eff = {"workdays": (5.6, 1.45), "work_assessment": (-0.3, 0.15)}
    n = 20_000
    a = evaluate(eff, inp, draws=n, seed=1)
    b = evaluate(eff, inp, draws=n, seed=2)
    sd = a.tidy().loc["npv_society_participant", "std_error"]
    # SE of a 2.5 % quantile ~ sqrt(p(1-p)/n) / density; with a normal density at the
    # quantile, phi(1.96)/sd, that is 0.027 sd for n = 20,000; the difference of two seeds has
    # SE 0.038 sd, and we allow 4 of those (0.15 sd)
    q_se = math.sqrt(0.025 * 0.975 / n) * sd / stats.norm.pdf(1.96)
    tol = 4 * math.sqrt(2) * q_se
    for lv in (0.9, 0.95):
        ca = a.conf_int(lv).loc["npv_society_participant"]
        cb = b.conf_int(lv).loc["npv_society_participant"]
        assert abs(ca["lower"] - cb["lower"]) < tol
        assert abs(ca["upper"] - cb["upper"]) < tol
    assert a.estimate == b.estimate          # the point value does not depend on the seed


def test_ceac_properties():
    # workdays 5.6 SD from zero: no draw has fewer work years, so the CEAC cannot fall
    res = evaluate({"workdays": (5.6, 1.0), "work_assessment": (-0.3, 0.15)}, draws=5_000, seed=4)
    assert (res.draws["work_years"] > 0).all()
    c = res.ceac(np.linspace(0, 5e6, 21))
    assert np.all(np.diff(c["probability"]) >= 0)
    d = res.draws
    assert c["probability"].iloc[0] == pytest.approx(np.mean(d["npv_public_municipality"] > 0))
    assert c["probability"].iloc[-1] > 0.99


def test_tornado_table_matches_one_way_computation():
    inp = EconomicInputs()
    eff = {"workdays": (5.6, 1.45)}
    t = tornado_table(inp, eff)
    row = t.set_index("parameter").loc["overhead_rate"]
    lo, hi = inp.ranges["overhead_rate"]
    assert row["metric_low"] == pytest.approx(
        float(compute(inp, {"workdays": 5.6}, overhead_rate=lo)["npv_society_participant"]))
    assert row["metric_high"] < row["metric_low"]          # more overhead, lower NPV
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    eff_row = t.set_index("parameter").loc["effect: workdays"]
    assert eff_row["low"] == pytest.approx(5.6 - 1.96 * 1.45, abs=1e-3)


def test_plots_return_axes_and_json_roundtrip():
    import json

    import matplotlib.pyplot as plt

    res = evaluate({"workdays": (5.6, 1.45)}, draws=2_000, seed=5)
    for ax in (res.plot(), res.plot_ceac(), res.plot_tornado()):
        assert isinstance(ax, plt.Axes)
    plt.close("all")
    d = json.loads(res.to_json())
    assert d["design"] == "economics" and d["inference"] == "monte-carlo"
    assert d["estimate"] == pytest.approx(res.estimate)
    assert "economics" in res.summary().as_text()
