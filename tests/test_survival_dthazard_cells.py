"""The discrete-time hazard GLM fitted from cells of person-months (``dthazard.month_cells``,
built episode chunk by episode chunk) equals the GLM on the person-month rows, exactly: the
same estimates, clustered and model-based SEs, counts and placebo draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.survival import panel_fit
from ips_study.designs.survival.dthazard import month_cells, person_months
from ips_study.designs.survival.panel_fit import fit_dthazard, fit_dthazard_panel
from ips_study.designs.survival.tte import build_tte

from .survival_dgp import simulate_panel

IPS = 2013 * 12


@pytest.fixture(scope="module")
def tte():
    return build_tte(simulate_panel(500, seed=4), StudyConfig(design="closed"))


def _with_term(frame):
    return frame.assign(treated_post=(frame["treated"] * (frame["calendar_month"] >= IPS)).astype(int))


def test_cells_count_every_person_month(tte):
    pm = person_months(tte)
    cells = month_cells(tte, covariates=("age_band", "female"), chunk=37)
    assert int(cells["n"].sum()) == len(pm) and int(cells["y"].sum()) == int(pm["y"].sum())
    keys = ["treated", "calendar_month", "duration", "cluster", "age_band", "female"]
    direct = pm.groupby(keys, observed=True)["y"].agg(y="sum", n="size").reset_index()
    pd.testing.assert_frame_equal(cells.astype({"age_band": str}), direct.astype({"age_band": str}),
                                  check_dtype=False)


@pytest.mark.parametrize("link", ["cloglog", "logit"])
@pytest.mark.parametrize("se", ["cluster", "model"])
@pytest.mark.parametrize("chunk", [7, 100_000])
def test_cell_fit_equals_person_month_fit(tte, link, se, chunk):
    covs = ("age_band", "female")
    rows = fit_dthazard(_with_term(person_months(tte)), link=link, covariates=covs, se=se)
    cells = fit_dthazard(_with_term(month_cells(tte, covariates=covs, chunk=chunk)), link=link,
                         covariates=covs, se=se, trials="n")
    pd.testing.assert_frame_equal(cells.tidy(), rows.tidy(), check_exact=True)
    assert (cells.nobs, cells.n_events, cells.extras["n_cells"]) == \
        (rows.nobs, rows.n_events, rows.extras["n_cells"])


def test_staggered_entry_keeps_duration_bands(tte):
    """Entries at several dates (half the persons entered two months earlier), so duration
    bands enter the GLM beside the period effects."""
    early = pd.factorize(tte["person_id"])[0] % 2 == 0
    tte = tte.assign(entry=tte["entry"] - 2 * early)
    pm = person_months(tte)
    assert (pm["calendar_month"] - pm["duration"]).nunique() > 1
    rows = fit_dthazard(_with_term(pm), covariates=("female",))
    cells = fit_dthazard(_with_term(month_cells(tte, covariates=("female",), chunk=41)),
                         covariates=("female",), trials="n")
    pd.testing.assert_frame_equal(cells.tidy(), rows.tidy(), check_exact=True)


@pytest.mark.parametrize("inference", ["placebo", "cluster"])
def test_panel_fit_with_cells_equals_person_month_rows(monkeypatch, inference):
    """The register design (placebo refits included) through cells and through rows."""
    panel = simulate_panel(500, seed=4)
    cfg = StudyConfig(design="closed")
    via_cells = fit_dthazard_panel(panel, config=cfg, inference=inference)
    monkeypatch.setattr(panel_fit, "_months",
                        lambda tte, cause, term, covariates: (person_months(tte, cause=cause), None))
    via_rows = fit_dthazard_panel(panel, config=cfg, inference=inference)
    pd.testing.assert_frame_equal(via_cells.tidy(), via_rows.tidy(), check_exact=True)
    assert via_cells.nobs == via_rows.nobs
    assert via_cells.extras == via_rows.extras


def test_event_counts_outside_trials_are_refused(tte):
    cells = _with_term(month_cells(tte, covariates=("female",)))
    cells.loc[cells.index[0], "y"] = cells.loc[cells.index[0], "n"] + 1
    with pytest.raises(ValueError, match="between 0 and"):
        fit_dthazard(cells, covariates=("female",), trials="n")


def test_missing_covariate_falls_back_to_rows(tte):
    bad = tte.astype({"age_band": object})
    bad.loc[bad.index[0], "age_band"] = np.nan
    assert panel_fit._months(bad, 1, "treated_post", ("age_band",))[1] is None
    assert panel_fit._months(tte, 1, "treated_post", ("age_band",))[1] == "n"
    assert panel_fit._months(tte, 1, "exposed", ("age_band",))[1] is None
