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

Timed through ``benchmarks/_harness.py`` (invert and refit alternate, 3 runs each, wall and
CPU; the two power tables must be identical).

Run: ``.venv/bin/python benchmarks/bench_power.py [--persons N] [--reps R] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _harness import Contender, compare, max_abs_diff


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
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per approach, alternating")
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

    from ips_study import __version__

    out = {}

    def curve(mode):
        def go():
            out[mode] = power_curve(design, effects, reps=args.reps, seed=args.seed, mode=mode)
            return out[mode].table["power"].to_numpy()
        return go

    rec = compare(f"power curve, {len(effects)} effects x {args.reps} reps", "power_curve",
                  [Contender("ips_study", curve("invert"), __version__,
                             "power_curve(mode='invert'): one fit per replication"),
                   Contender("brute force", curve("refit"), __version__,
                             "power_curve(mode='refit'): effect added and refitted, 8 fits per replication")],
                  equal=max_abs_diff, tolerance=0, repeats=args.repeats,
                  notes="goal < 600 s; equal = the power at every effect size")
    inv, ref = out["invert"], out["refit"]
    rows = [("invert (1 fit/rep)", rec["contenders"][0]["wall_median"], args.reps, inv),
            ("refit (8 fits/rep)", rec["contenders"][1]["wall_median"], args.reps * len(effects), ref)]
    cmp_out = {}

    def methods():
        cmp_out["table"] = compare_methods(design, effects, reps=args.reps, seed=args.seed)
        return 0.0

    rec = compare("compare_methods, 4 methods", "power_methods",
                  [Contender("ips_study", methods, __version__, "4 methods sharing one fit per replication")],
                  equal=lambda a, b: 0.0, tolerance=0, repeats=args.repeats)
    cmp, t_cmp = cmp_out["table"], rec["contenders"][0]["wall_median"]
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
