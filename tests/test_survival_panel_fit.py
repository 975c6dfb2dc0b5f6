"""The CLI entry points of the survival designs on small simulated month panels."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ips_study.config import StudyConfig
from ips_study.designs import get_design
from ips_study.designs.survival import (CoxPH, CoxResults, CumincResults, KMResults,
                                        PanelFrequencyError, build_tte)
from ips_study.results import Results

from .survival_dgp import simulate_panel

CFG = StudyConfig(design="closed")
NAMES = ["km", "cox", "cuminc", "finegray", "dthazard"]


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(900, seed=21, frailty_sd=0.2)


@pytest.mark.parametrize("name", NAMES)
def test_entry_points_return_results_in_spec_format(panel, name, tmp_path):
    res = get_design(name)(panel, outcome="ltbd_onset", config=CFG)
    assert isinstance(res, Results)
    out = json.loads(res.to_json())
    for key in ("design", "outcome", "estimate", "std_error", "conf_int", "p_value", "n_obs",
                "n_units", "inference"):
        assert key in out
    assert out["design"] == name and out["outcome"] == "ltbd_onset"
    lo, hi = out["conf_int"]
    if name in ("cox", "dthazard"):
        # default placebo inference: 7 control municipalities cannot bound a 95% interval
        assert out["inference"] == "placebo" and lo is None and hi is None
        lo, hi = res.conf_int(0.5).loc[res.main_term]
    assert lo < out["estimate"] < hi
    ax = res.plot()
    assert ax is not None and ax.get_title()
    ax.figure.savefig(tmp_path / f"{name}.png")       # the figure really renders
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    plt.close("all")
    assert "Design" in res.summary().as_text()


def test_km_and_cuminc_curves_and_tests(panel):
    km = get_design("km")(panel, config=CFG, horizon=24)
    assert isinstance(km, KMResults)
    assert set(km.curves()) == {"control", "treated"}
    assert km.main_term == "treated_minus_control_surv_24m"
    assert 0 <= km.logrank()["p_value"] <= 1
    assert list(km.risk_table().columns[:2]) == [0, 12]
    ci = get_design("cuminc")(panel, config=CFG, horizon=24)
    assert isinstance(ci, CumincResults)
    # competing risks: the cumulative incidence of onset is below 1 - KM of onset
    for g, c in ci.curves().items():
        k = km.curves()[g]
        f = np.interp(24, c["time"], c["estimate"])
        s = np.interp(24, k["time"], k["surv"])
        assert f <= 1 - s + 1e-9
    assert 0 <= ci.gray()["p_value"] <= 1


def test_cox_entry_point_equals_direct_fit(panel):
    res = get_design("cox")(panel, config=CFG, inference="model", covariates=["exposed", "treated"])
    tte = build_tte(panel, CFG)
    fit = CoxPH().fit(tte[["exposed", "treated"]].to_numpy(), tte["stop"], tte["event"] == 1,
                      start=tte["start"])
    assert res.estimate == pytest.approx(fit.params_[0], abs=1e-10)
    assert res.std_error == pytest.approx(np.sqrt(fit.cov_[0, 0]), abs=1e-10)
    assert isinstance(res, CoxResults)
    assert res.hazard_ratios().loc["exposed", "hazard_ratio"] == pytest.approx(np.exp(res.estimate))
    ax = res.plot_schoenfeld()
    assert "exposed" in ax.get_title()
    ax.figure.canvas.draw()
    plt.close("all")


def test_cox_inference_choices_and_strata(panel):
    cl = get_design("cox")(panel, config=CFG, inference="cluster")
    rb = get_design("cox")(panel, config=CFG, inference="robust")
    st = get_design("cox")(panel, config=CFG, strata="female", covariates=["exposed", "treated"])
    assert cl.estimate == pytest.approx(rb.estimate)
    assert cl.std_error != pytest.approx(rb.std_error)
    assert cl.inference == "cluster" and cl.n_units == 8
    assert any("clusters" in n for n in cl.notes)
    assert st.extras["strata"] == ["female"]
    with pytest.raises(ValueError, match="inference"):
        get_design("cox")(panel, config=CFG, inference="bootstrap")


def test_cox_recovers_dgp_hazard_ratio():
    """DGP log HR of current-municipality exposure = -0.5 (no frailty). Model SE ~ 0.09 with
    ~750 events; tolerance 3 SE."""
    res = get_design("cox")(simulate_panel(2000, seed=5), config=CFG, inference="model")
    assert abs(res.estimate - (-0.5)) < 3 * res.std_error


def test_sustained_work_outcome_and_bad_inputs(panel):
    res = get_design("cox")(panel, outcome="sustained_work", config=CFG, inference="cluster")
    assert res.outcome == "sustained_work"
    with pytest.raises(ValueError, match="survival outcome"):
        get_design("km")(panel, outcome="workdays", config=CFG)
    with pytest.raises(TypeError, match="unknown option"):
        get_design("km")(panel, config=CFG, colour="red")
    year = panel.assign(period=panel["period_start"].dt.strftime("%Y"))
    for name in NAMES:
        with pytest.raises(PanelFrequencyError):
            get_design(name)(year, config=CFG)


def test_finegray_needs_index_time_scale(panel):
    with pytest.raises(ValueError, match="index"):
        get_design("finegray")(panel, config=CFG, time_scale="calendar")
    fg = get_design("finegray")(panel, config=CFG, inference="cluster")
    assert fg.inference == "cluster" and fg.main_term == "treated"
    assert get_design("finegray")(panel, config=CFG).inference == "crr"


def test_dthazard_logit_and_exposed_term(panel):
    a = get_design("dthazard")(panel, config=CFG, link="logit")
    b = get_design("dthazard")(panel, config=CFG, term="exposed", inference="model")
    assert a.extras["link"] == "logit" and a.main_term == "treated_post"
    assert b.main_term == "exposed" and b.inference == "model"


@pytest.mark.slow
def test_synthetic_registers_null_effect_covered():
    """Default synthetic registers with no IPS effect (Effects.null()): the implied hazard
    ratio of exposure is 1, so the 95 % interval of the Cox exposure coefficient (model SE,
    persons independent) should cover 0; with a fixed seed the check is deterministic."""
    synth = pytest.importorskip("ips_study.synthetic")
    from ips_study.panel import build_panel

    cfg = StudyConfig(design="closed", freq="month")
    data = synth.generate(20_000, seed=3, effects=synth.Effects.null())
    panel = build_panel(data.registers, cfg, freq="month")
    for name in NAMES:
        assert np.isfinite(get_design(name)(panel, config=cfg).estimate)
    res = get_design("cox")(panel, config=cfg, inference="model")
    lo, hi = res.conf_int().loc["exposed"]
    assert lo < 0 < hi
