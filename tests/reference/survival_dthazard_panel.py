"""Reference numbers of the register-panel discrete-time hazard design (fit_dthazard_panel).

Session 5 made ``fit_dthazard_panel`` a thin adapter over ``ips.discrete_hazard`` (municipality
passed as ``fe=``, period and duration as role columns). These numbers were written by the
OLD code path (commit 999695b, its own GLM design with the cluster as the fixed-effect
group), so that tests/test_survival_dthazard_adapter.py can check that the adapter gives the
same estimates, standard errors, p-values, intervals and placebo draws (to 1e-10).

Run from the repository root (writes tests/reference/survival_dthazard_panel.csv):
    PYTHONPATH=$PWD python tests/reference/survival_dthazard_panel.py
"""

import pandas as pd

from ips_study.config import StudyConfig
from ips_study.designs.survival import fit_dthazard_panel
from tests.survival_dgp import simulate_panel

#: (case, options); "staggered_*" use a panel where a third of the persons enter a year
#: late, so that calendar time and duration differ and the duration bands enter the model
CASES = {
    "cloglog_placebo": {},
    "cloglog_cluster": {"inference": "cluster"},
    "cloglog_model": {"inference": "model"},
    "logit_cluster": {"inference": "cluster", "link": "logit"},
    "exposed_cluster_month": {"term": "exposed", "period": "month"},
    "calendar_cluster": {"inference": "cluster", "time_scale": "calendar"},
    "no_covariates_model": {"inference": "model", "covariates": ()},
    "staggered_cluster": {"inference": "cluster"},
    "staggered_model_logit": {"inference": "model", "link": "logit"},
}


def staggered(panel: pd.DataFrame) -> pd.DataFrame:
    """A third of the persons (by id) enter in 2013 instead of 2012."""
    late = panel["person_id"].str[1:].astype(int) % 3 == 0
    return panel[~(late & (panel["period_start"] < "2013-01-01"))].reset_index(drop=True)


def main(path="tests/reference/survival_dthazard_panel.csv"):
    panel = simulate_panel(900, seed=21, frailty_sd=0.2)
    cfg = StudyConfig(design="closed")
    rows = []
    for case, opts in CASES.items():
        r = fit_dthazard_panel(staggered(panel) if case.startswith("staggered") else panel,
                               config=cfg, **opts)
        t = r.tidy()
        for term, row in t.iterrows():
            rows.append({"case": case, "term": term, **{k: row[k] for k in (
                "estimate", "std_error", "p_value", "conf_low", "conf_high")}})
        for code, b in r.extras.get("placebo_estimates", {}).items():
            rows.append({"case": case, "term": f"placebo[{code}]", "estimate": b})
        rows.append({"case": case, "term": "n_obs", "estimate": r.nobs})
        rows.append({"case": case, "term": "n_cells", "estimate": r.extras["n_cells"]})
        rows.append({"case": case, "term": "n_clusters", "estimate": r.extras["n_clusters"]})
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
