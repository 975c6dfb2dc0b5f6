"""Target group and participant flow."""

import pandas as pd

from ips_study.cohort import mental_health_mask, participant_flow
from ips_study.config import StudyConfig

from .panel_reference import random_registers
from .test_panel import one_person


def test_mental_health_codes():
    dx = pd.DataFrame({"system": ["ICD10", "ICD10", "ICPC2", "ICPC2", "ICD10"],
                       "code": ["F20.0", "f32", "P76", "F20", "Z73"]})
    assert mental_health_mask(dx).tolist() == [True, True, True, False, False]


def test_flow_is_a_funnel_that_matches_the_panel():
    t = random_registers(5, n_persons=60)
    cfg = StudyConfig(baseline_date=pd.Timestamp("2012-01-01"))
    flow = participant_flow(t, cfg)
    assert flow["total"].is_monotonic_decreasing
    assert flow["total"].iloc[0] == 60
    assert (flow["treated"] + flow["controls"] <= flow["total"]).iloc[2:].all()
    from ips_study.panel import build_panel
    m = build_panel(t, cfg, freq="month")
    in_target = m.loc[m["period"] == "2012-01"]
    assert flow["total"].iloc[-1] == len(in_target)
    assert flow["treated"].iloc[-1] == int((in_target["municipality"] == "1804").sum())


def test_flow_single_person_steps():
    flow = participant_flow(one_person(benefits=[("disability_pension", "2011-01-01", None)]), StudyConfig())
    assert flow["total"].tolist() == [1, 1, 1, 1, 1, 0]
    rule = StudyConfig(target_rule="work_assessment")
    flow = participant_flow(one_person(benefits=[("work_assessment", "2011-06-01", None)]), rule)
    assert flow["step"].iloc[-1] == "receiving work assessment allowance" and flow["total"].iloc[-1] == 1
