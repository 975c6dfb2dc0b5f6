"""Power at real scale: minimum detectable effect against controls and follow-up (issue 23, item 4).

The planning question of the published design: could a difference-in-differences of Bodø
against its controls detect +5.6 workdays per person-year, and how does that change with the
number of control municipalities and the years of follow-up? Answered for two designs:

* ``published``: ``studies/published_design.toml`` (young adults on work assessment allowance,
  ten controls, 2008-2016, four years of exposure);
* ``main``: the package's default study (``StudyConfig()``: mental-health target group, open
  population, never-treated controls, 2008-2019, seven years of exposure).

One real-scale population is generated (:func:`ips_study.synthetic.real_scale.published_geography`,
the calibrated municipality draws and the published-design effects, window 2008-2019), each
design's year panel is built and its variance components are calibrated on its controls
(:func:`ips_study.power.calibrate`: person sampling noise, municipality-year shock, AR(1)
persistence; the treated municipality gives only its size). :func:`ips_study.power.power_by`
then simulates municipality-year panels and reports the MDE at 80 % power (5 % two-sided) for
the package's default inference (``placebo-t``) and for the conventional cluster-robust interval
(``cluster``, CRV1 with G-1 df: what a published conventional interval is; with one treated
cluster it over-rejects, so its "MDE" is optimistic). Beyond the calibrated controls,
``power_by`` adds controls with sizes resampled from them.

    python benchmarks/power_real_scale.py [--reps 200] [--seed 20130101]

Writes ``benchmarks/results/power_real_scale.json`` and ``.md`` and the figure
``docs/img/power_real_scale.png`` (docs/simulations.md, "Power at real scale").
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
START, END = "2008-01", "2019-12"
CONTROLS = (5, 10, 15, 20, 30, 40)
FOLLOW_UP = (1, 2, 3, 4, 5, 7)
METHODS = ("placebo-t", "cluster")
PUBLISHED_EFFECT = 5.6


def designs(seed: int, persons: int | None = None):
    """Generate one real-scale population; return ``{name: (config, VarianceComponents)}``.

    ``persons``: a smaller population for a smoke test (default: real scale).
    """
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.power import calibrate
    from ips_study.synthetic import generate
    from ips_study.synthetic.real_scale import (published_design_effects, published_geography,
                                                real_scale_persons)

    n = real_scale_persons(start=START, end=END) if persons is None else int(persons)
    data = generate(n, seed=seed, effects=published_design_effects(), start=START, end=END,
                    geography=published_geography(persons=n), direct=False)
    out = {}
    for name, cfg in (("published", StudyConfig.load("published_design")),
                      ("main", StudyConfig().replace(seed=seed))):
        panel = build_panel(data.registers, cfg, freq="year")
        out[name] = (cfg, calibrate(panel, outcome="workdays", config=cfg, seed=seed))
    return n, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20130101)
    ap.add_argument("--persons", type=int, default=None, help="smaller population (smoke test only)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "power_real_scale"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "img" / "power_real_scale.png"))
    ap.add_argument("--replot", default=None, help="redraw the figure and table from a results .json and exit")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if a.replot:
        rows = json.loads(Path(a.replot).read_text())["rows"]
        table = pd.DataFrame(rows).fillna({"mde": math.inf})
        figure(table, Path(a.figure))
        print(markdown(table))
        return 0
    from ips_study.power import PowerDesign, power_by

    t0, c0 = time.perf_counter(), time.process_time()
    n, found = designs(a.seed, a.persons)
    t_gen = time.perf_counter() - t0
    rows, components = [], {}
    for name, (cfg, vc) in found.items():
        components[name] = vc.to_dict()
        pre = cfg.ips_start.year - cfg.window_start.year
        post = cfg.window_end.year - cfg.ips_start.year + 1
        for method in METHODS:
            d = PowerDesign(vc, inference=method, pre_years=pre, post_years=post,
                            start_year=cfg.window_start.year)
            for parameter, values in (("n_controls", CONTROLS), ("post_years", FOLLOW_UP)):
                t = power_by(d, parameter, list(values), effect=PUBLISHED_EFFECT, reps=a.reps, seed=a.seed)
                for r in t.to_dict("records"):
                    rows.append({"design": name, "method": method, "parameter": parameter,
                                 "value": int(r[parameter]), "power_at_effect": r["power"],
                                 "power_se": r["power_se"], "size": r["size"], "mde": r["mde"],
                                 "own_controls": len(vc.controls), "own_post_years": post})
                print(name, method, parameter, t.round(2).to_dict("records"), flush=True)
    table = pd.DataFrame(rows)
    record = {"persons": n, "seed": a.seed, "reps": a.reps, "window": [START, END],
              "effect": PUBLISHED_EFFECT, "components": components,
              "seconds_generate_and_calibrate": round(t_gen, 1),
              "seconds_wall": round(time.perf_counter() - t0, 1),
              "seconds_cpu": round(time.process_time() - c0, 1),
              "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "rows": table.replace([np.inf], None).to_dict("records")}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float) + "\n")
    out.with_suffix(".md").write_text(markdown(table) + "\n")
    figure(table, Path(a.figure))
    print(markdown(table))
    return 0


def markdown(table: pd.DataFrame) -> str:
    """MDE (80 % power) and power at +5.6 per design, method and parameter value."""
    lines = ["| design | method | varied | value | MDE (80 %) | power at 5.6 | size |", "|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        mde = "not reached" if not math.isfinite(r.mde) else f"{r.mde:.1f}"
        lines.append(f"| {r.design} | {r.method} | {r.parameter} | {r.value} | {mde} | "
                     f"{r.power_at_effect:.2f} | {r.size:.3f} |")
    return "\n".join(lines)


def figure(table: pd.DataFrame, path: Path) -> None:
    """Two panels: MDE against controls and against years of follow-up, the published 5.6 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    styles = {("published", "placebo-t"): ("C0", "-"), ("published", "cluster"): ("C0", "--"),
              ("main", "placebo-t"): ("C1", "-"), ("main", "cluster"): ("C1", "--")}
    for ax, parameter in zip(axes, ("n_controls", "post_years")):
        for (design, method), g in table[table["parameter"] == parameter].groupby(["design", "method"]):
            c, ls = styles[(design, method)]
            y = g["mde"].replace(np.inf, np.nan)
            ax.plot(g["value"], y, marker="o", color=c, ls=ls, label=f"{design} design, {method}")
        ax.axhline(PUBLISHED_EFFECT, color="0.4", ls=":", lw=1)
        ax.text(ax.get_xlim()[0], PUBLISHED_EFFECT, " published +5.6", va="bottom", fontsize=8, color="0.3")
        ax.set_xlabel({"n_controls": "number of control municipalities",
                       "post_years": "years of follow-up after IPS start"}[parameter])
    axes[0].set_ylabel("minimum detectable effect, workdays\nper person-year (80 % power, 5 %)")
    axes[0].legend(fontsize=7)
    fig.suptitle("Power at real scale (synthetic registers, published-design calibration; "
                 "dashed: cluster-robust, which over-rejects)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
