"""Which estimand does each design recover? Designs against the candidate truths, over seeds.

Run: ``nice -n 10 .venv/bin/python benchmarks/sim_estimands.py [--seeds 6] [--effects large|default]
[--no-municipality-effects] [--out results.csv]``.

Each replication draws the default-sized synthetic registers (60,000 persons) with one seed,
computes the candidate truths of :mod:`ips_study.synthetic.truth` (``att``, ``att_population``,
``att_cohort``, the staggered cells) and fits the designs the analysis reports: municipality-
level TWFE DiD on the open population and on the closed cohort, person-level DiD, synthetic
control, synthetic DiD and Callaway-Sant'Anna (simple aggregation; with the group as the first
period *exposed at its start* and as the first period *containing* the IPS start). It prints,
per design and outcome, the mean estimate minus each truth with its Monte Carlo standard error
(sd / sqrt(seeds)) and how often the design's interval covers each truth.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

OUTCOMES = ["workdays", "employed", "health_benefit", "disability", "ltbd"]
LARGE = dict(job_hazard=0.5, work_exit_hr=0.5, health_benefit_hr=0.3)


def _zero_municipality_effects() -> None:
    """Switch the municipality level/trend draws off (for the bias check only)."""
    import importlib

    g = importlib.import_module("ips_study.synthetic.generate")   # the package exports a function of that name
    orig = g.draw_municipality_effects
    g.draw_municipality_effects = lambda rng, n, **kw: orig(rng, n, sd_level=0.0, sd_work=0.0, sd_trend=0.0)
    g.simulation_setup.cache_clear()


def _ci(r):
    lo, hi = r.conf_int().loc[r.main_term]
    return r.estimate, float(lo), float(hi)


def one(seed: int, effects) -> list[dict]:
    from ips_study.config import StudyConfig
    from ips_study.designs import get_design
    from ips_study.panel import build_panel
    from ips_study.synthetic import generate
    from ips_study.synthetic.truth import aggregate_cells, estimand_truth, staggered_cells

    cfg = StudyConfig()
    data = generate(seed=seed, effects=effects)
    tr = estimand_truth(data.registers, data.counterfactual, cfg)
    cells = staggered_cells(data.registers, data.counterfactual, cfg)
    open_p = build_panel(data.registers, cfg)
    closed_p = build_panel(data.registers, cfg.replace(design="closed"))
    all_p = build_panel(data.registers, cfg, scope="all")
    # the alternative staggered grouping: exposed from the period that contains the IPS start
    all_alt = all_p.copy()
    all_alt["exposed"] = (all_alt["ips_start"].notna()
                          & (all_alt["ips_start"].dt.year <= all_alt["period_start"].dt.year)).astype("int8")
    ccfg = cfg.replace(design="closed")
    rows = []
    for o in OUTCOMES:
        truths = {"att": tr["att"][o], "att_population": tr["att_population"][o],
                  "att_cohort": tr["att_cohort"][o],
                  "att_population_equal_years": float(np.mean(list(tr["by_event_time_population"][o].values()))),
                  "staggered_simple": aggregate_cells(cells, o, "simple")}
        fits = {
            "did_open_muni": get_design("did")(open_p, outcome=o, config=cfg, level="municipality"),
            "did_open_person": get_design("did")(open_p, outcome=o, config=cfg, level="person"),
            "did_closed_muni": get_design("did")(closed_p, outcome=o, config=ccfg, level="municipality"),
            "synth": get_design("synth")(open_p, outcome=o, config=cfg),
            "sdid": get_design("sdid")(open_p, outcome=o, config=cfg),
            "staggered_exposed_at_start": get_design("staggered")(all_p, outcome=o, config=cfg),
            "staggered_start_period": get_design("staggered")(all_alt, outcome=o, config=cfg),
        }
        for name, r in fits.items():
            est, lo, hi = _ci(r)
            rows.append({"seed": seed, "outcome": o, "design": name, "estimate": est, "lo": lo, "hi": hi,
                         **{f"truth_{k}": v for k, v in truths.items()}})
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    truths = [c for c in df.columns if c.startswith("truth_")]
    out = []
    for (o, d), g in df.groupby(["outcome", "design"], sort=False):
        rec = {"outcome": o, "design": d, "mean_est": g["estimate"].mean()}
        for t in truths:
            e = g["estimate"] - g[t]
            rec[f"bias_{t[6:]}"] = e.mean()
            rec[f"mcse_{t[6:]}"] = e.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan
            rec[f"cover_{t[6:]}"] = ((g["lo"] <= g[t]) & (g[t] <= g["hi"])).mean()
        out.append(rec)
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--effects", choices=["large", "default"], default="large")
    ap.add_argument("--no-municipality-effects", action="store_true")
    ap.add_argument("--out", default=None, help="CSV of every replication")
    args = ap.parse_args()
    from ips_study.synthetic import Effects

    if args.no_municipality_effects:
        _zero_municipality_effects()
    effects = Effects(**LARGE) if args.effects == "large" else Effects()
    rows = []
    t0 = time.perf_counter()
    for s in range(args.first_seed, args.first_seed + args.seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows += one(s, effects)
        print(f"seed {s} done, {time.perf_counter() - t0:.0f} s", flush=True)
        if args.out:
            pd.DataFrame(rows).to_csv(args.out, index=False)
    df = pd.DataFrame(rows)
    print(f"# {args.seeds} seeds, effects {args.effects}, municipality effects "
          f"{'off' if args.no_municipality_effects else 'on'}")
    print(summarise(df).to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
