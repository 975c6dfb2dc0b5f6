"""Public helpers behind the hazard truths (renamed from private names) and the dthazard ITT truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.survival.panel_fit import design_matrix, drop_eventless_levels
from ips_study.designs.survival.tte import run_lengths
from ips_study.registers import RegisterSet
from ips_study.synthetic.generate import BODO, SimulationSetup, simulation_setup
from ips_study.synthetic.hazard_truth import fit_itt, fit_stacked, itt_tte, stacked_tte
from ips_study.synthetic.truth import subset_registers

from .survival_dgp import simulate_panel

CFG = StudyConfig(design="closed", freq="month")


def _runs_by_loop(flag, breaks):
    out, cur = [], 0
    for f, b in zip(flag, breaks):
        cur = (1 if f else 0) if b else (cur + 1 if f else 0)
        out.append(cur)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_run_lengths_equal_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    flag = rng.random(400) < 0.7
    breaks = rng.random(400) < 0.05
    breaks[0] = True
    assert run_lengths(flag, breaks).tolist() == _runs_by_loop(flag, breaks)


def test_run_lengths_restart_at_a_break_inside_a_run():
    flag = np.ones(5, dtype=bool)
    assert run_lengths(flag, np.array([True, False, True, False, False])).tolist() == [1, 2, 1, 2, 3]


def test_design_matrix_dummies_and_constant_columns():
    d = pd.DataFrame({"exposed": [0, 1, 1, 0], "treated": [1, 1, 1, 1],
                      "age_band": ["35+", "18-24", "25-29", "18-24"]})
    X = design_matrix(d, ["exposed", "treated", "age_band"])
    # treated is constant (not identified) and the first sorted level is the reference
    assert X.columns.tolist() == ["exposed", "age_band[25-29]", "age_band[35+]"]
    assert X["age_band[35+]"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert (X.dtypes == float).all() and X.index.equals(d.index)


def test_drop_eventless_levels_drops_no_event_and_all_event_levels_only():
    X = pd.DataFrame({"exposed": [1.0, 1.0, 0.0, 0.0], "a[x]": [0.0, 0.0, 1.0, 1.0],
                      "b[y]": [1.0, 1.0, 0.0, 1.0], "c[z]": [1.0, 0.0, 1.0, 0.0]})
    event = np.array([True, True, False, False])
    kept, dropped = drop_eventless_levels(X, event)
    # a[x]: no events; b[y]: in every event; c[z]: one of two events; exposed is numeric
    assert dropped == ["a[x]", "b[y]"]
    assert kept.columns.tolist() == ["exposed", "c[z]"]


def test_subset_registers_keeps_people_and_whole_tables():
    rs = RegisterSet({"persons": pd.DataFrame({"person_id": ["a", "b", "c"], "sex": ["F", "M", "F"]}),
                      "municipalities": pd.DataFrame({"municipality": ["1804", "1805"]})},
                     source="demo", meta={"seed": 3})
    sub = subset_registers(rs, {"a", "c"})
    assert sub.tables["persons"]["person_id"].tolist() == ["a", "c"]
    assert sub.tables["municipalities"].equals(rs.tables["municipalities"])
    assert sub.source == "demo" and sub.meta == {"seed": 3}


def test_simulation_setup_is_shared_per_seed_and_window():
    s = simulation_setup(11, "2006-01", "2020-12")
    assert isinstance(s, SimulationSetup)
    assert simulation_setup(11, "2006-01", "2020-12") is s          # cached
    other = simulation_setup(12, "2006-01", "2020-12")
    # the geography is fixed, the municipality effects are drawn from the seed
    assert other.geo.equals(s.geo) and not other.muni_effects.equals(s.muni_effects)
    assert s.geo["municipality"].iloc[s.ctx.bodo_index] == BODO
    assert str(s.cal.month_start[s.cal.window_start_index])[:7] == "2006-01"


# -- the intention-to-treat truth of dthazard's treated_post ----------------------------------
def test_itt_episodes_split_at_ips_start_and_mark_post_in_the_factual_world():
    p = simulate_panel(300, seed=2)
    tte = itt_tte(p, p, CFG)
    ips = CFG.ips_start.year * 12 + CFG.ips_start.month - 1
    cal0 = tte["origin_month"] + tte["start"]
    cal1 = tte["origin_month"] + tte["stop"]
    assert not ((cal0 < ips) & (cal1 > ips)).any()                   # nothing straddles the start
    assert (tte["exposed"] == (cal0 >= ips)).all()
    assert (tte["ips_effect"] == tte["exposed"] * tte["world"]).all()
    # splitting keeps person-time and events of each world, and the study's exposure
    plain = stacked_tte(p, p, CFG)
    for w in (0, 1):
        a, b = tte[tte["world"] == w], plain[plain["world"] == w]
        assert (a["stop"] - a["start"]).sum() == (b["stop"] - b["start"]).sum()
        assert a["event"].value_counts().to_dict() == b["event"].value_counts().to_dict()
        assert ((a["stop"] - a["start"]) * a["exposed_current"]).sum() == \
            ((b["stop"] - b["start"]) * b["exposed"]).sum()


def test_itt_truth_is_exactly_zero_on_identical_worlds():
    p = simulate_panel(800, beta=-0.5, seed=4)
    t = fit_itt(itt_tte(p, p, CFG))
    assert abs(t.log_hr) < 1e-9
    assert "intention to treat" in t.estimand


def test_itt_truth_of_the_treated_cohort_is_near_the_exposure_effect():
    # common random numbers: beta=-0.5 and beta=0 with one seed are the two worlds. In the
    # treated cohort (as cohort_panels selects it) only the 20 % who move can be unexposed
    # after the start, so the ITT log HR is the exposure effect slightly diluted towards 0.
    # Bounds: 3 person-clustered SEs (about 0.045 each here; false failure < 0.3 % per bound)
    f = simulate_panel(3000, beta=-0.5, seed=8)
    c = simulate_panel(3000, beta=0.0, seed=8)
    f, c = f[f["treated"] == 1], c[c["treated"] == 1]
    itt = fit_itt(itt_tte(f, c, CFG))
    exp = fit_stacked(stacked_tte(f, c, CFG))
    assert itt.log_hr + 3 * itt.std_error < 0
    assert abs(itt.log_hr + 0.5) < 3 * itt.std_error
    assert abs(itt.log_hr - exp.log_hr) < 3 * max(itt.std_error, exp.std_error)
    assert itt.n_events == exp.n_events                    # same events, other contrast
