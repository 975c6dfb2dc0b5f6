"""Benchmark: power curve, 8 effect sizes x 200 replications, default region (issue 11).

Goal: under 10 minutes on 2 cores. The population is generated once (embedded data in
``synthetic_data/`` if present, else :func:`ips_study.synthetic.generate`), its person-year
panel is built once and calibrated once (:func:`ips_study.power.calibrate`); replications
simulate municipality-year aggregates and fit the DiD with placebo inference.

Side by side in the same run:

* ``invert`` - one fit per replication, every effect size from the shifted interval
  (the package's method);
* ``refit`` - brute force: the same noise with each effect added and the DiD refitted
  (8 fits per replication), the obvious way without reuse;
* ``compare_methods`` - 4 inference methods sharing one fit per replication.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_power.py [--persons N] [--reps R]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np


def load_panel(persons: int, seed: int):
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel

    data_dir = Path(__file__).resolve().parents[1] / "synthetic_data"
    if any(data_dir.glob("persons.*")):
        from ips_study.registers import read_registers

        regs, source = read_registers(data_dir), f"embedded data ({data_dir.name}/)"
    else:
        from ips_study.synthetic import Effects, generate

        regs = generate(persons, seed=seed, effects=Effects.null()).registers
        source = f"generate({persons:,}, seed={seed}, effects=Effects.null())"
    return build_panel(regs, StudyConfig(), freq="year"), source


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=60_000)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20130101)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    from ips_study.power import PowerDesign, calibrate, compare_methods, power_curve

    t0 = time.perf_counter()
    panel, source = load_panel(args.persons, args.seed)
    t_panel = time.perf_counter() - t0
    t0 = time.perf_counter()
    vc = calibrate(panel, outcome="workdays")
    t_cal = time.perf_counter() - t0
    design = PowerDesign(vc, inference="placebo")
    effects = np.linspace(0, 70, 8)

    rows = []
    t0 = time.perf_counter()
    inv = power_curve(design, effects, reps=args.reps, seed=args.seed)
    rows.append(("invert (1 fit/rep)", time.perf_counter() - t0, args.reps, inv))
    t0 = time.perf_counter()
    ref = power_curve(design, effects, reps=args.reps, seed=args.seed, mode="refit")
    rows.append(("refit (8 fits/rep)", time.perf_counter() - t0, args.reps * len(effects), ref))
    t0 = time.perf_counter()
    cmp = compare_methods(design, effects, reps=args.reps, seed=args.seed)
    t_cmp = time.perf_counter() - t0

    print(f"population: {source}; panel {len(panel):,} person-years, built in {t_panel:.1f} s")
    print(f"calibration ({t_cal:.2f} s): sigma {vc.sigma:.1f}, tau {vc.tau:.2f}, rho {vc.rho:.2f}, "
          f"{len(vc.controls)} controls, Bodø {vc.sizes.iloc[0]:.0f} persons/year")
    print(f"\npower curve, {len(effects)} effects x {args.reps} replications, placebo inference")
    print(f"{'approach':<22}{'seconds':>9}{'fits':>7}{'MDE80':>8}  power by effect")
    for name, sec, fits, res in rows:
        pw = " ".join(f"{p:.2f}" for p in res.table["power"])
        print(f"{name:<22}{sec:>9.1f}{fits:>7}{res.mde():>8.1f}  {pw}")
    same = np.array_equal(inv.table["power"].to_numpy(), ref.table["power"].to_numpy())
    print(f"invert and refit power identical: {same}")
    print(f"\ncompare_methods (4 methods, one fit per replication): {t_cmp:.1f} s")
    print(cmp.groupby("method", sort=False)[["size", "mde"]].first().round(3).to_string())


if __name__ == "__main__":
    main()
