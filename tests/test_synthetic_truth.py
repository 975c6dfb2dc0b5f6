"""The truth of the synthetic registers: exact by construction, recovered by a simple DiD."""

import json
from pathlib import Path

import numpy as np
import pytest

from ips_study.config import StudyConfig
from ips_study.synthetic import Effects, generate
from ips_study.synthetic.truth import OUTCOMES, direct_truth, panel_truth

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return generate(8000, seed=21)


def test_truth_has_every_outcome_overall_by_event_time_and_municipality(small):
    t = small.truth
    assert t["method"] == "panel"
    assert set(t["att"]) == set(OUTCOMES)
    assert all(np.isfinite(v) for v in t["att"].values())
    assert set(t["by_event_time"]["workdays"]) <= {str(k) for k in range(7)}
    assert "0" in t["by_event_time"]["workdays"]
    assert t["by_municipality"], "later adopters have their own truth"
    assert all(m["ips_start"] > "2013-01" for m in t["by_municipality"].values())
    assert t["effects"] == Effects().to_dict()
    json.dumps(t)  # serialisable, no NaN objects


def test_event_time_truth_averages_to_overall(small):
    t = small.truth
    # overall ATT is the person-period weighted mean of the event-time ATTs; recompute the
    # weights from the factual panel and check the identity exactly
    from ips_study.panel import build_panel

    fp = build_panel(small.registers, StudyConfig())
    fp = fp[(fp["treated"] == 1) & (fp["post"] == 1)]
    w = fp["event_time"].value_counts()
    et = t["by_event_time"]["employed"]
    avg = sum(w[int(k)] * v for k, v in et.items()) / w.sum()
    assert avg == pytest.approx(t["att"]["employed"], abs=1e-12)
    assert t["n_person_periods"] == len(fp)


def test_null_effect_truth_is_exactly_zero():
    d = generate(3000, seed=2, effects=Effects.null())
    t = d.truth
    assert all(v == 0.0 for v in t["att"].values())
    assert all(v == 0.0 for v in d.direct["1804"]["workdays"])


@pytest.mark.slow
def test_direct_truth_agrees_with_panel_truth_at_default_size():
    # the direct truth uses whole months and month-level target membership (the panel uses
    # person-years whose index month is in the target group); with Bodø's several hundred
    # target people the two estimands differ by a few per cent of the effect, far below 25 %
    d = generate(seed=20130101)
    p, q = d.truth["att"], direct_truth(d.direct)["att"]
    for outcome in ("workdays", "employed", "health_benefit"):
        assert q[outcome] == pytest.approx(p[outcome], rel=0.25), outcome
    assert np.sign(q["ltbd"]) == np.sign(p["ltbd"])


def test_default_effects_have_realistic_size_and_sign():
    t = json.loads((ROOT / "synthetic_data" / "truth.json").read_text())
    att = t["att"]
    assert 3.0 < att["workdays"] < 12.0          # of the order of +5 workdays per person-year
    assert -0.06 < att["ltbd"] < -0.005          # a few points less long-term dependence
    assert att["employed"] > 0 and att["health_benefit"] < 0
    assert t["n_treated_persons"] >= 300          # Bodø's target group: several hundred people


def test_panel_truth_refuses_missing_counterfactual_rows(small):
    from ips_study.registers import RegisterSet

    cf = dict(small.counterfactual.tables)
    cf["residence"] = cf["residence"].iloc[::2]   # a world where IPS changed residence
    with pytest.raises(RuntimeError, match="no counterfactual"):
        panel_truth(small.registers, RegisterSet(cf), StudyConfig())


@pytest.mark.slow
def test_simple_did_recovers_truth_on_default_data():
    """Person-level two-way fixed-effects DiD of Bodø vs never-treated controls on the
    embedded data: the truth must lie inside its 95 % placebo interval (permutation over
    control municipalities, the inference that needs no variance model with one treated
    unit), for workdays and employment. One seed is one draw, so a valid method fails this
    5 % of the time; a method that ignores the municipality-level noise (cluster-robust
    errors with one treated cluster) is too narrow, and a before/after contrast of Bodø
    alone is off by the reform shocks, which is why the data has them."""
    from ips_study.designs.did import fit_panel
    from ips_study.panel import build_panel
    from ips_study.synthetic.embedded import load_default

    rs = load_default()
    cfg = StudyConfig()
    panel = build_panel(rs, cfg)
    truth = json.loads((ROOT / "synthetic_data" / "truth.json").read_text())["att"]
    for outcome in ("workdays", "employed"):
        res = fit_panel(panel, outcome=outcome, config=cfg, inference="placebo")
        lo, hi = res.conf_int().iloc[0]
        assert lo <= truth[outcome] <= hi, (outcome, lo, hi, truth[outcome])
