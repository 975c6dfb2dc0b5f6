"""The estimands of truth.json: att, att_population, att_cohort and the staggered cells."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.panel import build_panel
from ips_study.synthetic import Effects, generate
from ips_study.synthetic.truth import (aggregate_cells, cohort_truth, direct_truth, population_truth,
                                       staggered_cells)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    # large effects so that the three estimands differ clearly at a small size
    return generate(8000, seed=21, effects=Effects(job_hazard=0.5, work_exit_hr=0.5, health_benefit_hr=0.3))


def test_population_truth_is_the_gap_of_target_group_means(data):
    # recomputed on the whole population (not the subset of Bodø's residents the module uses)
    cfg = StudyConfig()
    t = population_truth(data.registers, data.counterfactual, cfg)
    f = build_panel(data.registers, cfg)
    c = build_panel(data.counterfactual, cfg)
    f, c = (p[(p["treated"] == 1) & (p["post"] == 1)] for p in (f, c))
    gap = f.groupby("event_time")["workdays"].mean() - c.groupby("event_time")["workdays"].mean()
    for e, v in gap.items():
        assert t["by_event_time_population"]["workdays"][str(e)] == pytest.approx(v, abs=1e-9)
    w = f["event_time"].value_counts().reindex(gap.index)
    assert t["att_population"]["workdays"] == pytest.approx((gap * w).sum() / w.sum(), abs=1e-9)
    assert t["att_population_year_mean"]["workdays"] == pytest.approx(gap.mean(), abs=1e-9)
    assert t["n_person_periods_counterfactual"] == len(c)


def test_cohort_truth_follows_the_same_people_in_both_worlds(data):
    cfg = StudyConfig().replace(design="closed")
    t = cohort_truth(data.registers, data.counterfactual, StudyConfig())
    f = build_panel(data.registers, cfg)
    c = build_panel(data.counterfactual, cfg)
    # the cohort is fixed before IPS starts: same persons and rows in both worlds
    assert f[["person_id", "period"]].equals(c[["person_id", "period"]])
    sel = (f["treated"] == 1) & (f["post"] == 1)
    diff = f.loc[sel, "employed"].to_numpy() - c.loc[sel, "employed"].to_numpy()
    assert t["att_cohort"]["employed"] == pytest.approx(diff.mean(), abs=1e-12)
    assert t["n_cohort_person_periods"] == int(sel.sum())


def test_cohort_effect_is_diluted(data):
    t = data.truth
    # the cohort (everyone in the target group in 2012-01) is diluted: most never meet IPS
    assert 0 < t["att_cohort"]["employed"] < t["att"]["employed"]
    json.dumps(t)


def test_direct_truth_has_every_estimand_and_is_zero_without_effect():
    d = generate(3000, seed=2, effects=Effects.null())
    q = direct_truth(d.direct)
    for key in ("att", "att_population", "att_cohort"):
        assert set(q[key]) >= {"workdays", "employed", "ltbd"}
        assert all(v == 0.0 for v in q[key].values()), key
    assert q["cohort_person_years"] > 0


def test_direct_truth_approximates_the_panel_estimands(data):
    q, t = direct_truth(data.direct), data.truth
    # whole months and month-level membership against person-years by index month: the
    # approximation is within a third of the effect for the large effects used here
    for key in ("att", "att_population"):
        assert q[key]["employed"] == pytest.approx(t[key]["employed"], rel=1 / 3), key
    assert np.sign(q["att_cohort"]["employed"]) == np.sign(t["att_cohort"]["employed"])


def test_staggered_cells_start_in_the_period_of_the_ips_start(data):
    cells = staggered_cells(data.registers, data.counterfactual, StudyConfig())
    first = pd.DataFrame(cells).groupby("municipality").agg(start=("ips_start", "first"), period=("period", "min"))
    # Tromsø starts 2014-09: its first cell is 2014 (partial year), not 2015
    assert (first["period"] == first["start"].str[:4]).all()
    assert "1903" in first.index          # Harstad starts 2019-02, inside the window
    t = data.truth["staggered"]
    assert t["att_simple"]["workdays"] == pytest.approx(aggregate_cells(cells, "workdays"), abs=1e-12)


def test_aggregate_cells_weights_like_callaway_santanna():
    cells = [
        {"municipality": "a", "period": "2014", "weight": 1.0, "att_population": {"y": 1.0}},
        {"municipality": "a", "period": "2015", "weight": 1.0, "att_population": {"y": 2.0}},
        {"municipality": "b", "period": "2015", "weight": 3.0, "att_population": {"y": 5.0}},
    ]
    # simple: every post cell weighted by its group's size
    assert aggregate_cells(cells, "y") == pytest.approx((1 + 2 + 15) / 5)
    # dynamic: e=0 mixes a's 2014 and b's 2015 by size, e=1 is a's 2015; then the plain mean
    assert aggregate_cells(cells, "y", "dynamic") == pytest.approx(((1 + 15) / 4 + 2) / 2)
    with pytest.raises(ValueError):
        aggregate_cells(cells, "y", "calendar")


def test_staggered_design_groups_by_the_period_containing_the_start():
    from ips_study.designs.staggered import staggered_frame

    rows = []
    for code, start in (("0001", "2014-09-01"), ("0002", None), ("0003", "2016-01-01"), ("0004", None)):
        for year in range(2010, 2019):
            ps = pd.Timestamp(f"{year}-01-01")
            ips = pd.Timestamp(start) if start else pd.NaT
            rows.append({"person_id": f"{code}{year}", "municipality": code, "period": str(year),
                         "period_start": ps, "ips_start": ips, "treated": int(code == "0001"),
                         "post": int(year >= 2013), "event_time": year - 2013,
                         "exposed": int(start is not None and ips <= ps), "workdays": 1.0})
    frame = staggered_frame(pd.DataFrame(rows), "workdays", StudyConfig())
    group = frame.groupby("municipality")["group"].first()
    # 2014-09 belongs to 2014 (not 2015, when it is first exposed at the period start)
    assert group.to_dict() == {"0001": 2014, "0002": 0, "0003": 2016, "0004": 0}


def test_embedded_truth_carries_every_estimand():
    t = json.loads((ROOT / "synthetic_data" / "truth.json").read_text())
    for key in ("att", "att_population", "att_population_year_mean", "att_cohort"):
        assert set(t[key]) == set(t["att"]), key
    assert set(t["estimands"]) >= {"att", "att_population", "att_cohort", "staggered"}
    assert t["staggered"]["cells"] and set(t["staggered"]) >= {"att_simple", "att_dynamic"}
    assert all("att_population" in m and "att_cohort" in m for m in t["by_municipality"].values())
    # composition (default data, several hundred people in Bodø's target group): the factual
    # target group is off disability pension at its index months, but some of its members
    # would be on it without IPS, so att is clearly negative; the two target groups' means
    # (both without pensioners at their index months) differ much less
    assert t["att"]["disability"] < -0.01
    assert abs(t["att_population"]["disability"]) < abs(t["att"]["disability"]) / 2
