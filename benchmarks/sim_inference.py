"""Size and coverage of every DiD inference method with one treated municipality (issue 5.4).

Run: ``nice -n 10 .venv/bin/python benchmarks/sim_inference.py [--reps 500] [--seed S]``.
Default DGP: :func:`ips_study.inference.simulate.municipality_dgp` (Bodø 600 persons,
25 controls of 50-2000 persons, AR(1) municipality-year shocks, true effect 0), 500
replications. ``--effect`` adds a true effect (coverage is then of that effect).
``--synthetic N`` adds a run on the project's synthetic register generator (N replications,
seeds 1..N), true effect from ``truth.json``; slow, so off by default.
Prints a markdown table for docs/inference.md.
"""
from __future__ import annotations

import argparse
import time

from ips_study.inference.simulate import simulate


def synthetic_dgp(rng, outcome: str = "workdays"):
    """One null-effect draw of the project's register generator, as a person-year panel."""
    import warnings

    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.synthetic import generate
    from ips_study.synthetic.effects import Effects

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = generate(seed=int(rng.integers(1, 2**31)), effects=Effects.null())
        panel = build_panel(data.registers, StudyConfig(), freq="year")
    return panel.rename(columns={outcome: "workdays"}) if outcome != "workdays" else panel, 0.0


def run_synthetic(reps: int, seed: int) -> None:
    """Person-level DiD on ``reps`` null draws of the generator (wild bootstrap left out)."""
    t0 = time.perf_counter()
    table = simulate(synthetic_dgp, reps=reps, seed=seed, fit_options={"level": "person"},
                     methods=("cluster", "placebo", "rmspe", "conley-taber", "ferman-pinto"))
    print(f"# synthetic generator, {reps} replications, null effect, seed {seed}, "
          f"{time.perf_counter() - t0:.0f} s")
    print(table.to_markdown(index=False, floatfmt=".3f"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20130101)
    ap.add_argument("--effect", type=float, default=0.0)
    ap.add_argument("--controls", type=int, default=25)
    ap.add_argument("--synthetic", type=int, default=0,
                    help="replications on the synthetic register generator (null effects)")
    args = ap.parse_args()
    if args.synthetic:
        run_synthetic(args.synthetic, args.seed)
        return
    t0 = time.perf_counter()
    table = simulate(reps=args.reps, seed=args.seed, progress=False,
                     dgp_options={"effect": args.effect, "n_controls": args.controls})
    secs = time.perf_counter() - t0
    print(f"# {args.reps} replications, {args.controls} controls, effect {args.effect}, "
          f"seed {args.seed}, {secs:.0f} s")
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
