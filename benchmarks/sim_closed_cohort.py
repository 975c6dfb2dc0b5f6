"""Size of the DiD inference methods for the closed-cohort design on the register generator.

The 500-replication tables of ``sim_inference.py`` use the open-population panel. The report
also fits the DiD on the closed cohort (baseline target group followed by baseline
municipality, intention to treat), whose cohort sizes and dynamics differ, so the studentised
placebo's size model is checked there separately: null-effect draws of the generator
(``Effects.null()``, 15,000 persons, seeds ``seed + i``), closed-cohort person-year panel,
population-weighted municipality x year DiD, every method on the same fit
(:func:`ips_study.simulate.evaluate`). Results are appended per replication to a
JSON-lines file (resumable) and summarised as rejection rates with their Monte Carlo SE.

Run: ``nice -n 10 .venv/bin/python benchmarks/sim_closed_cohort.py [--reps 120] [--workers 2]``
(about 8 s of CPU per replication). The replications go through
:func:`ips_study.simulate.replicate_resumable` (Dask: a local cluster of ``--workers``
processes, serial with ``--workers 0``); replication ``i`` reads its index from its own stream
and draws the generator with seed ``seed + i``, so the draws are those of the earlier serial
runs whatever the number of workers.
"""
from __future__ import annotations

import argparse
import json
import contextlib
import warnings
from pathlib import Path

import numpy as np

METHODS = ("placebo-t", "placebo", "ferman-pinto", "conley-taber", "cluster")
OUTCOMES = ("workdays", "employed")
OUT = Path(__file__).resolve().parent / "_data" / "sim_closed_cohort"


def one(rng, seed: int, persons: int) -> dict:
    """One null replication: both outcomes, every method (generator seed ``seed + i``)."""
    warnings.simplefilter("ignore")
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.simulate import evaluate, replication_index
    from ips_study.synthetic import generate
    from ips_study.synthetic.effects import Effects

    i = replication_index(rng)
    data = generate(persons, seed=seed + i, effects=Effects.null())
    cfg = StudyConfig().replace(design="closed")
    panel = build_panel(data.registers, cfg, freq="year")
    return {"i": i, **{o: evaluate(panel, 0.0, METHODS, config=cfg, outcome=o,
                                   fit_options={"level": "municipality"}) for o in OUTCOMES}}


def summarise(rows: list[dict]) -> str:
    lines = [f"# {len(rows)} null replications, closed cohort, municipality level",
             "| outcome | method | rejection rate | MC SE | mean CI width |", "|---|---|--:|--:|--:|"]
    for o in OUTCOMES:
        err = np.array([r[o]["error"] for r in rows])
        for m in METHODS:
            rej = np.array([r[o]["methods"][m][0] for r in rows])
            width = np.nanmean([r[o]["methods"][m][2] for r in rows])
            se = np.sqrt(rej.mean() * (1 - rej.mean()) / len(rej))
            lines.append(f"| {o} | {m} | {rej.mean():.3f} | {se:.3f} | {width:.3g} |")
        lines.append(f"| {o} | (sd of the estimate) | {err.std(ddof=1):.3g} | | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=120)
    ap.add_argument("--seed", type=int, default=777000)
    ap.add_argument("--persons", type=int, default=15000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from ips_study.parallel import local_client
    from ips_study.simulate import replicate_resumable

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results_{args.seed}_{args.persons}.v2.jsonl"
    pool = local_client(args.workers) if args.workers else contextlib.nullcontext(None)
    with pool as client:
        rows = replicate_resumable(one, args.reps, seed=args.seed, args=(args.seed, args.persons),
                                   checkpoint=path, block=max(2 * args.workers, 1),
                                   client=client)
    print(summarise(rows))


if __name__ == "__main__":
    main()
