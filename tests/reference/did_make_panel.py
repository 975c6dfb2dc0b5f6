"""Write the small panels used by the DiD cross-checks (tests/reference/did_panel_*.csv).

Run from the repository root: ``.venv/bin/python tests/reference/did_make_panel.py``.
Person-year panel: treated municipality 1804 (30 persons) and 12 controls (10-40 persons),
2009-2016, a numeric covariate ``x``; the unbalanced copy drops 12% of rows at random.
"""
import numpy as np

from ips_study.designs.did import aggregate, example_panel

p = example_panel(n_controls=12, treated_size=30, years=range(2009, 2017), effect=4.0, seed=11)
# shrink controls to 10-40 persons so the files stay small
rng = np.random.default_rng(11)
keep_ids = []
for m, g in p.groupby("municipality"):
    ids = g["person_id"].unique()
    keep_ids += list(ids if m == "1804" else ids[: rng.integers(10, 41)])
p = p[p["person_id"].isin(keep_ids)].reset_index(drop=True)
p["x"] = rng.normal(0, 1, len(p)).round(6)
p["workdays"] = (p["workdays"] + 3.0 * p["x"]).round(6)
cols = ["person_id", "municipality", "period", "treated", "post", "workdays", "x"]
p[cols].to_csv("tests/reference/did_panel_balanced.csv", index=False)
u = p.sample(frac=0.88, random_state=5).sort_values(["person_id", "period"])
u[cols].to_csv("tests/reference/did_panel_unbalanced.csv", index=False)
agg = aggregate(u, "workdays")
agg[["municipality", "period", "treated", "post", "workdays", "n_persons"]].to_csv(
    "tests/reference/did_panel_aggregate.csv", index=False)
