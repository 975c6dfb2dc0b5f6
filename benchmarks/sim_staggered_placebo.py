"""Size and coverage of placebo-in-space inference for the staggered-adoption design.

The Callaway-Sant'Anna design (``ips_study.designs.staggered``) reports analytic
influence-function standard errors; with one municipality per adoption group they omit that
municipality's own noise. This script compares them with ``inference="placebo"``
(:mod:`ips_study.designs.staggered_placebo`) on draws of the register generator.

Default run (the tables in docs/inference.md, section "Staggered adoption")::

    nice -n 10 .venv/bin/python benchmarks/sim_staggered_placebo.py

Steps (each resumes after an interruption; generation is the slow part, about 3-4 s of CPU
per draw at 15,000 persons):

1. ``--generate-only``: draws of ``ips_study.synthetic.generate`` (15,000 persons), each
   person-year panel of *all* municipalities (``scope="all"``: Bodø, the six later adopters
   and 21 never-treated controls, as the analysis fits the design) kept in
   ``benchmarks/_data/sim_staggered_placebo/``; null draws (``Effects.null()``, seeds
   ``3000 + i``, true effect exactly 0) and draws with the generator's default effects
   (``Effects()``, seeds ``6000 + i``), whose true ``staggered`` simple and dynamic
   aggregations (the ``truth.json`` definitions, :func:`ips_study.synthetic.truth.staggered_cells`)
   are kept beside each panel;
2. evaluation: the design (municipality level, simple and dynamic aggregations) under
   ``analytic`` and ``placebo`` inference on every cached draw, plus the 500 cached null
   draws of ``benchmarks/sim_inference.py`` (study scope: Bodø alone in its group, so the
   placebo set is every control in turn), when present.

Every table gives rejection of H0: effect = 0 at 5 % with its binomial Monte Carlo SE,
coverage of the true effect by the 95 % interval with its SE, and the mean interval width.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent / "_data" / "sim_staggered_placebo"
#: the cached study-scope null draws of benchmarks/sim_inference.py (Bodø the only adopter)
STUDY_CACHE = Path(__file__).resolve().parent / "_data" / "sim_inference" / "synthetic_15000_seed1000"
OUTCOMES = ("workdays", "employed")
KINDS = ("simple", "dynamic")
CACHE_COLUMNS = ["person", "municipality", "period", "period_start", "treated", "post",
                 "ips_start", "exposed", "event_time", "months_observed", *OUTCOMES]
NULL_SEED, EFFECT_SEED = 3000, 6000


def cache_dir(persons: int, effects: bool) -> Path:
    seed = EFFECT_SEED if effects else NULL_SEED
    return ROOT / f"all_{persons}_seed{seed}{'_effects' if effects else ''}"


def generate_draws(reps: int, persons: int, effects: bool, start: int = 0) -> None:
    """Draws ``start .. reps - 1``; each written atomically, existing ones skipped."""
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.synthetic import Effects, generate
    from ips_study.synthetic.truth import aggregate_cells, staggered_cells

    cache = cache_dir(persons, effects)
    cache.mkdir(parents=True, exist_ok=True)
    cfg = StudyConfig()
    seed0 = EFFECT_SEED if effects else NULL_SEED
    for i in range(start, reps):
        path = cache / f"rep_{i:04d}.parquet"
        if path.exists():
            continue
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = generate(persons, seed=seed0 + i, effects=Effects() if effects else Effects.null())
            panel = build_panel(data.registers, cfg, freq="year", scope="all")
            if effects:
                cells = staggered_cells(data.registers, data.counterfactual, cfg)
                truth = {k: {o: aggregate_cells(cells, o, k) for o in OUTCOMES} for k in KINDS}
                path.with_suffix(".truth.json").write_text(json.dumps(truth))
        panel["person"] = pd.factorize(panel["person_id"])[0].astype(np.int64)
        tmp = path.with_suffix(".tmp")
        panel[CACHE_COLUMNS].to_parquet(tmp, index=False)
        tmp.rename(path)
        print(f"rep {i}: {time.process_time() - t0:.1f} s CPU, {len(panel)} rows", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--null-reps", type=int, default=300)
    ap.add_argument("--effect-reps", type=int, default=150)
    ap.add_argument("--persons", type=int, default=15000)
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--effects", action="store_true", help="with --generate-only: the effects draws")
    ap.add_argument("--start", type=int, default=0, help="with --generate-only: first draw")
    args = ap.parse_args()
    if args.generate_only:
        reps = args.effect_reps if args.effects else args.null_reps
        generate_draws(reps, args.persons, args.effects, args.start)
        return


if __name__ == "__main__":
    main()
