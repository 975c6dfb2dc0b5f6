"""Tables 10 and 12: the Cox design's inference side by side and its row against the hazard truth."""

from types import SimpleNamespace

import numpy as np
import pytest

from ips_study.reproduce.outputs import SURV, _truth_rows, make_survival_table
from ips_study.config import StudyConfig
from ips_study.designs import get_design
from tests.survival_dgp import simulate_panel

CFG = StudyConfig(design="closed")


def test_truth_rows_compare_cox_with_the_hazard_truth():
    from ips_study.reproduce.outputs import MAIN_OUTCOMES

    vals = {o: 1.0 for o in MAIN_OUTCOMES}
    truth = {"att_population": vals, "att_population_year_mean": vals, "att_cohort": vals,
             "staggered": {"att_simple": vals, "att_dynamic": vals}}
    assert not [r for r in _truth_rows(truth) if r[1] == "cox"]       # old truth.json: no row
    truth["hazard_ratio_ltbd_onset"] = {"log_hr": -0.34, "std_error": 0.05}
    cox = [r for r in _truth_rows(truth) if r[1] == "cox"]
    assert cox == [("ltbd_onset", "cox", dict(SURV), "hazard_ratio_ltbd_onset", -0.34)]


def test_survival_table_shows_cox_under_four_inferences():
    panel = simulate_panel(800, seed=3)
    fits = {}

    def fit(design, outcome, inference=None, **kw):
        assert kw == SURV
        return fits.setdefault((design, inference), get_design(design)(panel, outcome=outcome, config=CFG,
                                                                       inference=inference))

    table = make_survival_table(SimpleNamespace(fit=fit))
    cox = table[(table["design"] == "cox") & (table["term"] == "exposed")].set_index("inference")
    assert list(cox.index) == ["model", "robust", "cluster", "placebo"]
    assert cox["estimate"].nunique() == 1
    r = fits[("cox", None)]
    t = r.tidy().loc["exposed"]
    for name, col in (("model", "model_std_error"), ("robust", "robust_std_error"),
                      ("cluster", "cluster_std_error")):
        assert cox.loc[name, "std_error"] == pytest.approx(t[col])
        assert cox.loc[name, "conf_high"] - cox.loc[name, "conf_low"] == pytest.approx(2 * 1.959964 * t[col])
    assert cox.loc["placebo", "p_value"] == pytest.approx(r.p_value)
    assert np.isinf(cox.loc["placebo", "conf_high"])       # 7 placebos cannot bound a 95% interval
    # the other Cox terms once, with the person-robust SE the placebo fit gives them
    rest = table[(table["design"] == "cox") & (table["term"] != "exposed")].set_index("term")
    assert (rest["inference"] == "robust").all()
    assert rest.loc["female", "std_error"] == pytest.approx(r.tidy().loc["female", "robust_std_error"])
    assert {"finegray", "dthazard"} <= set(table["design"])
    # dthazard: treated_post under its default placebo and under model inference; the rest clustered
    dt = table[(table["design"] == "dthazard") & (table["term"] == "treated_post")].set_index("inference")
    assert list(dt.index) == ["placebo", "model"] and dt["estimate"].nunique() == 1
    assert dt.loc["placebo", "p_value"] == pytest.approx(fits[("dthazard", None)].p_value)
    assert dt.loc["model", "std_error"] == pytest.approx(fits[("dthazard", "model")].std_error)
    other = table[(table["design"] == "dthazard") & (table["term"] != "treated_post")]
    assert len(other) and (other["inference"] == "cluster").all()
