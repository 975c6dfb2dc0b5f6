"""Discrete-time hazard DiD: collapsed cells equal the person-month GLM; effect recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from ips_study.config import StudyConfig
from ips_study.designs.survival.dthazard import person_months
from ips_study.designs.survival.panel_fit import fit_dthazard
from ips_study.designs.survival.tte import build_tte

from .survival_dgp import simulate_panel


@pytest.fixture(scope="module")
def pm():
    tte = build_tte(simulate_panel(400, seed=2), StudyConfig(design="closed"))
    out = person_months(tte)
    out["treated_post"] = out["treated"] * (out["calendar_month"] >= 2013 * 12)
    return out


def test_person_months_expand_episodes(pm):
    # each person contributes one row per month at risk, events only in the last month
    last = ~pm["person_id"].duplicated(keep="last")
    assert pm.loc[~last, "y"].sum() == 0
    per = pm.groupby("person_id")["k"].agg(["min", "max", "size"])
    # no gaps in the DGP, so months are contiguous
    assert (per["max"] - per["min"] + 1 == per["size"]).all()


@pytest.mark.parametrize("link", ["cloglog", "logit"])
def test_collapsed_cells_equal_person_month_glm(pm, link):
    fit = fit_dthazard(pm, link=link, covariates=("female",))
    d = pm.assign(period=pm["calendar_month"] // 12)
    lk = sm.families.links.CLogLog() if link == "cloglog" else sm.families.links.Logit()
    full = smf.glm("y ~ treated_post + C(period) + C(cluster) + C(female)", d,
                   family=sm.families.Binomial(lk)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["cluster"])[0]}, tol=1e-12)
    assert fit.params["treated_post"] == pytest.approx(full.params["treated_post"], abs=1e-7)
    assert fit.std_errors["treated_post"] == pytest.approx(full.bse["treated_post"], rel=1e-5)
    assert fit.params["female"] == pytest.approx(full.params["C(female)[T.1]"], abs=1e-7)
    assert fit.nobs == len(pm) and fit.extras["n_cells"] < len(pm) / 5


def test_cloglog_recovers_hazard_ratio():
    """DGP: monthly hazard h1 * exp(-0.5 * exposed), exposure only in 1804 from 2013 (and
    1806 from 2015). In the closed cohort treated x post equals exposure for stayers; 20 %
    move, which dilutes the contrast slightly. Tolerance: 3 model SEs (SE ~ 0.07) plus 0.1
    for the dilution by movers."""
    tte = build_tte(simulate_panel(2500, seed=8), StudyConfig(design="closed"))
    pm = person_months(tte)
    pm["treated_post"] = pm["treated"] * (pm["calendar_month"] >= 2013 * 12)
    fit = fit_dthazard(pm, covariates=(), se="model")
    est = fit.params["treated_post"]
    se = fit.std_errors["treated_post"]
    assert abs(est - (-0.5)) < 3 * se + 0.1


def test_constant_term_is_refused(pm):
    with pytest.raises(ValueError, match="does not vary"):
        fit_dthazard(pm.assign(treated_post=0))
    with pytest.raises(ValueError, match="link"):
        fit_dthazard(pm, link="probit")


def test_row_labels_do_not_matter(pm):
    """The fit is positional: a shuffled frame with a non-default index gives the same answer
    (it once aligned the duration bands by label and silently mixed rows up)."""
    ref = fit_dthazard(pm, covariates=("female",))
    shuffled = pm.sample(frac=1.0, random_state=5)        # labels now out of order
    fit = fit_dthazard(shuffled, covariates=("female",))
    assert fit.params["treated_post"] == pytest.approx(ref.params["treated_post"], abs=1e-9)
    relabelled = pm.set_axis(np.arange(len(pm))[::-1] * 3)
    fit = fit_dthazard(relabelled, covariates=("female",))
    assert fit.params["treated_post"] == pytest.approx(ref.params["treated_post"], abs=1e-9)
