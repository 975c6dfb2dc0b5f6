"""fit_dthazard_panel is a thin adapter over ips.discrete_hazard (municipality as fe= and
cluster) and gives the numbers of the old code path, stored by
tests/reference/survival_dthazard_panel.py before the change (to 1e-10).

Two labels changed with the adapter: text covariates are ``name[level]`` dummies as in every
public fitter (``age_band_25-29`` -> ``age_band[25-29]``), the 0/1 ``female`` stays a number
(``female_1`` -> ``female``: the same column), and the duration-band dummies are baseline
terms like the period and municipality effects, so they are no longer listed (the
remaining rows, equal to the old ones, show that the model is the same).
"""

import re

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.config import StudyConfig
from ips_study.designs.survival import fit_dthazard_panel
from ips_study.designs.survival import panel_fit as pf
from tests.reference.survival_dthazard_panel import CASES, staggered
from tests.survival_dgp import simulate_panel

REF = pd.read_csv("tests/reference/survival_dthazard_panel.csv")
CFG = StudyConfig(design="closed")
STATS = ["estimate", "std_error", "p_value", "conf_low", "conf_high"]


def _new_name(old: str) -> str:
    if old == "female_1":
        return "female"
    return re.sub(r"^age_band_(.*)$", r"age_band[\1]", old)


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(900, seed=21, frailty_sd=0.2)


@pytest.mark.parametrize("case", list(CASES))
def test_adapter_equals_old_path(panel, case):
    p = staggered(panel) if case.startswith("staggered") else panel
    r = fit_dthazard_panel(p, config=CFG, **CASES[case])
    ref = REF[REF["case"] == case].set_index("term")
    terms = [t for t in ref.index if not t.startswith(("placebo[", "n_", "dur_"))]
    got = r.tidy().loc[[_new_name(t) for t in terms], STATS]
    np.testing.assert_allclose(got.to_numpy(float), ref.loc[terms, STATS].to_numpy(float),
                               rtol=1e-10, atol=1e-12)
    assert list(r.tidy().index) == [_new_name(t) for t in terms]
    assert r.nobs == ref.at["n_obs", "estimate"]
    assert r.extras["n_cells"] == ref.at["n_cells", "estimate"]
    assert r.extras["n_clusters"] == ref.at["n_clusters", "estimate"]
    placebo = ref[ref.index.str.startswith("placebo[")]["estimate"]
    got_pl = pd.Series(r.extras.get("placebo_estimates", {}), dtype=float)
    assert sorted(got_pl.index) == sorted(k[8:-1] for k in placebo.index)
    for k, b in placebo.items():
        assert got_pl[k[8:-1]] == pytest.approx(b, rel=1e-10, abs=1e-12)
    if case.startswith("staggered"):       # the duration bands are in the model
        assert ref.index.str.startswith("dur_").any()


def test_adapter_is_discrete_hazard_with_fe(panel):
    """The adapter's fit is ips.discrete_hazard on the person-months, cluster as fe=."""
    config, tte, _ = pf._prepare(staggered(panel), CFG, {})
    pm = pf.person_months(tte, cause=pf._cause(None))
    ips_m = config.ips_start.year * 12 + config.ips_start.month - 1
    pm["treated_post"] = pm["treated"] * (pm["calendar_month"] >= ips_m)
    pm["year"] = pm["calendar_month"] // 12
    direct = ips.discrete_hazard(pm, event="y", duration="duration", time="year",
                                 treat="treated_post", cluster="cluster", fe="cluster",
                                 covariates=["age_band", "female"],
                                 duration_breaks=(0, 6, 12, 24, 36, 60))
    adapter = pf.fit_dthazard(pm)
    np.testing.assert_allclose(adapter.params, direct.params, rtol=1e-10)
    np.testing.assert_allclose(adapter.std_errors, direct.std_errors, rtol=1e-10)
    assert adapter.params.index.tolist() == direct.params.index.tolist()
