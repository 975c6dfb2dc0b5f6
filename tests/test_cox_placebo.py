"""Placebo-in-space inference of the Cox design (ips_study.designs.survival.placebo)."""

import json
import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.survival import fit_cox_panel
from ips_study.designs.survival.placebo import split_at
from ips_study.inference import rank_half_width
from tests.survival_dgp import simulate_panel

CFG = StudyConfig(design="closed")


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(1500, seed=11)


@pytest.fixture(scope="module")
def placebo(panel):
    return fit_cox_panel(panel, config=CFG, inference="placebo")


def test_placebo_equals_hand_loop_of_refits(panel, placebo):
    """Each placebo estimate = the study's Cox fit on the controls-only cohort with that
    control municipality as the treated one (exposure from the same ips_start)."""
    ctrl = panel[panel["municipality"] != CFG.treated_municipality]
    hand = {}
    for code in sorted(ctrl["municipality"].unique()):
        r = fit_cox_panel(ctrl, config=CFG.replace(treated_municipality=code), inference="model")
        hand[code] = r.estimate
    got = placebo.extras["placebo_estimates"]
    assert sorted(got) == sorted(hand)
    for code, b in hand.items():
        assert got[code] == pytest.approx(b, abs=1e-7)


def test_placebo_p_value_and_interval_formula(placebo):
    b = placebo.estimate
    null = np.array(list(placebo.extras["placebo_estimates"].values()))
    J = len(null)
    assert placebo.extras["n_placebos"] == J == 7
    assert placebo.p_value == pytest.approx((1 + np.sum(np.abs(null) >= abs(b))) / (J + 1))
    assert placebo.std_error == pytest.approx(np.sqrt(np.mean(null ** 2)))
    # 7 placebos: the 95% interval is unbounded, the 50% one is b +/- the 4th largest |null|
    lo, hi = placebo.conf_int().loc["exposed"]
    assert np.isinf(lo) and np.isinf(hi)
    lo, hi = placebo.conf_int(0.5).loc["exposed"]
    h = np.sort(np.abs(null))[::-1][3]
    assert (lo, hi) == pytest.approx((b - h, b + h))
    assert h == pytest.approx(rank_half_width(null, 0.5))
    # the other terms keep the person-robust sandwich
    t = placebo.tidy()
    assert t.loc["female", "std_error"] == pytest.approx(t.loc["female", "robust_std_error"])
    assert any("unbounded" in n for n in placebo.notes)


def test_placebo_is_default_and_cluster_warns(panel, placebo):
    assert placebo.inference == "placebo"
    cl = fit_cox_panel(panel, config=CFG, inference="cluster")
    assert cl.estimate == pytest.approx(placebo.estimate)
    assert cl.std_error == pytest.approx(placebo.tidy().loc["exposed", "cluster_std_error"])
    assert any("treated" in n and "placebo" in n for n in cl.notes)
    assert json.loads(placebo.to_json())["inference"] == "placebo"


def test_split_at_keeps_event_on_later_piece():
    tte = pd.DataFrame({"person_id": ["a", "b"], "start": [0, 0], "stop": [10, 3],
                        "event": np.array([1, 0], dtype=np.int8), "origin_month": [100, 100]})
    out = split_at(tte, 104)
    assert out[["person_id", "start", "stop", "event"]].values.tolist() == [
        ["a", 0, 4, 0], ["a", 4, 10, 1], ["b", 0, 3, 0]]


def test_cli_estimate_cox_placebo(tmp_path, panel, placebo, capsys):
    from ips_study.cli import main

    path = tmp_path / "panel.parquet"
    panel.to_parquet(path)
    study = tmp_path / "study.toml"
    study.write_text('design = "closed"\n')
    out = tmp_path / "cox.json"
    assert main(["estimate", str(path), "--design", "cox", "--outcome", "ltbd_onset",
                 "--inference", "placebo", "--study", str(study), "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["inference"] == "placebo" and d["design"] == "cox"
    assert d["estimate"] == pytest.approx(placebo.estimate)
    assert d["p_value"] == pytest.approx(placebo.p_value)
    assert str(panel["person_id"].iloc[0]) not in capsys.readouterr().out


def test_dthazard_placebo_equals_hand_loop(panel):
    from ips_study.designs.survival import fit_dthazard_panel

    res = fit_dthazard_panel(panel, config=CFG, inference="placebo")
    ctrl = panel[panel["municipality"] != CFG.treated_municipality]
    hand = {code: fit_dthazard_panel(ctrl, config=CFG.replace(treated_municipality=code),
                                     inference="model").estimate
            for code in sorted(ctrl["municipality"].unique())}
    got = res.extras["placebo_estimates"]
    assert sorted(got) == sorted(hand)
    for code, b in hand.items():
        assert got[code] == pytest.approx(b, abs=1e-6)
    null = np.array(list(got.values()))
    assert res.p_value == pytest.approx((1 + np.sum(np.abs(null) >= abs(res.estimate))) / (len(null) + 1))
    assert res.inference == "placebo"
    assert fit_dthazard_panel(panel, config=CFG).inference == "placebo"
    assert fit_dthazard_panel(panel, config=CFG, term="treated").inference == "cluster"


def test_dthazard_placebo_leaves_out_controls_without_events_before_the_start(panel):
    """A control municipality whose onsets all fall after the placebo start has a coefficient
    that runs off towards infinity; like the Cox placebo, dthazard leaves it out."""
    from ips_study.designs.survival import panel_fit as pf

    config, tte, notes = pf._prepare(panel, CFG, {})
    pm = pf.person_months(tte, cause=pf._cause(None))
    ips = config.ips_start.year * 12 + config.ips_start.month - 1
    pm["treated_post"] = (pm["treated"].to_numpy() * (pm["calendar_month"].to_numpy() >= ips)).astype(int)
    fit = pf.fit_dthazard(pm, term="treated_post", link="cloglog", period="year", covariates=())
    tidy = fit.tidy()[["estimate", "std_error"]]
    ctrl_codes = sorted(set(pm["cluster"]) - {config.treated_municipality})
    victim = ctrl_codes[0]
    pre = (pm["cluster"] == victim) & (pm["calendar_month"] < ips)
    assert pm.loc[pre, "y"].sum() > 0 and pm.loc[(pm["cluster"] == victim) & ~pre, "y"].sum() > 0
    args = dict(term="treated_post", link="cloglog", period="year", covariates=())
    _, _, before = pf._dthazard_placebo(pm, tidy, config, ips, notes=[], **args)
    assert victim in before["placebo_estimates"]
    gone = pm.assign(y=np.where(pre, 0, pm["y"]))  # no onset before the start in this municipality
    _, _, after = pf._dthazard_placebo(gone, tidy, config, ips, notes=[], **args)
    assert victim not in after["placebo_estimates"]
    assert after["placebo_not_identified"] == before["placebo_not_identified"] + 1
