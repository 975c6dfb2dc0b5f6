"""Size and coverage of placebo-in-space inference for the staggered-adoption design.

The Callaway-Sant'Anna design (``ips_study.designs.staggered``) reports analytic
influence-function standard errors; with one municipality per adoption group they omit that
municipality's own noise. This script compares them with ``inference="placebo"``
(:mod:`ips_study.designs.staggered_placebo`) on draws of the register generator.

Default run (the tables in docs/inference.md, section "Staggered adoption")::

    nice -n 10 .venv/bin/python benchmarks/sim_staggered_placebo.py

The default invocation generates whatever draws are missing from the cache, then
evaluates; both steps resume after an interruption (generation is the slow part, 2.5-3.2 s
of CPU per draw at 15,000 persons; evaluation results are checkpointed per draw):

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
import contextlib
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


def generate_draws(reps: int, persons: int, effects: bool, start: int = 0,
                   client=None) -> None:
    """Draws ``start .. reps - 1``; each written atomically, existing ones skipped.

    Through :func:`ips_study.parallel.replicate` (on ``client`` if given): draw ``i`` reads its
    index from its own stream and uses generator seed ``3000 + i`` (null) or ``6000 + i``.
    """
    from ips_study.parallel import replicate

    cache = cache_dir(persons, effects)
    cache.mkdir(parents=True, exist_ok=True)
    seed0 = EFFECT_SEED if effects else NULL_SEED
    replicate(_generate_one, reps, seed=seed0, client=client,
              args=(persons, effects, start, cache, seed0))


def _generate_one(rng, persons: int, effects: bool, start: int, cache: Path,
                  seed0: int) -> None:
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.simulate import replication_index
    from ips_study.synthetic import Effects, generate
    from ips_study.synthetic.truth import aggregate_cells, staggered_cells

    i = replication_index(rng)
    path = cache / f"rep_{i:04d}.parquet"
    if i < start or path.exists():
        return
    cfg = StudyConfig()
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


def evaluate_draw(panel: pd.DataFrame, outcome: str, kind: str, truth: float) -> dict:
    """The design under analytic and placebo inference on one draw (one placebo fit).

    The placebo result keeps the analytic standard errors (``extras``), so one call gives
    both; the analytic interval is ``estimate +/- 1.96 SE`` as the design reports it.
    """
    from ips_study.config import StudyConfig
    from ips_study.designs.staggered import fit_panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the one-unit-group warning of the analytic SE
        res = fit_panel(panel, outcome=outcome, config=StudyConfig(), aggregation=kind,
                        inference="placebo")
    est = res.estimate
    se = res.extras["analytic_std_error"]["ATT"]
    lo, hi = res.conf_int().loc["ATT"]
    return {"estimate": est, "truth": truth, "n_placebos": res.extras["n_placebos"],
            "analytic": [est - 1.96 * se, est + 1.96 * se, 2 * stats_sf(abs(est) / se)],
            "placebo": [lo, hi, res.p_value], "placebo_se": res.std_error, "analytic_se": se}


def stats_sf(z: float) -> float:
    from scipy import stats

    return float(stats.norm.sf(z))


def _evaluate_file(rng, files: list[str], outcomes, kinds, truth_file: bool) -> dict:
    """Every (outcome, aggregation) on cached draw ``i`` (the replication's index)."""
    from ips_study.simulate import replication_index

    f = Path(files[replication_index(rng)])
    panel = pd.read_parquet(f)
    tf = f.with_suffix(".truth.json")
    truth = json.loads(tf.read_text()) if truth_file and tf.exists() else None
    rows = [{"file": f.name, "outcome": o, "kind": k,
             **evaluate_draw(panel, o, k, truth[k][o] if truth else 0.0)}
            for o in outcomes for k in kinds]
    return {"file": f.name, "rows": rows}


def run(cache: Path, reps: int, outcomes=OUTCOMES, kinds=KINDS, truth_file: bool = True,
        fresh: bool = False, client=None) -> list[dict]:
    """Evaluate the first ``reps`` cached draws; checkpointed per block of draws in
    ``results_staggered_placebo.v2.jsonl`` (``fresh``: start a new checkpoint). Draw ``i`` is
    replication ``i`` of :func:`ips_study.simulate.replicate_resumable` (on ``client``)."""
    from ips_study.simulate import replicate_resumable

    files = sorted(cache.glob("rep_*.parquet"))[:reps]
    if len(files) < reps:
        print(f"# only {len(files)} cached draws in {cache.name}")
    ckpt = cache / "results_staggered_placebo.v2.jsonl"
    if fresh:
        ckpt.unlink(missing_ok=True)
    want = {(o, k) for o in outcomes for k in kinds}
    recs = replicate_resumable(
        _evaluate_file, len(files), seed=NULL_SEED, client=client, checkpoint=ckpt, block=20,
        args=([str(f) for f in files], tuple(outcomes), tuple(kinds), truth_file),
        is_done=lambda r: want <= {(x["outcome"], x["kind"]) for x in r["rows"]})
    return [x for r in recs for x in r["rows"] if (x["outcome"], x["kind"]) in want]


def summarise(records: list[dict]) -> pd.DataFrame:
    """Rejection of H0: 0 at 5 %, coverage of the truth, width; binomial MC SEs."""
    rows = []
    df = pd.DataFrame(records)
    for (o, k), sub in df.groupby(["outcome", "kind"], sort=False):
        n = len(sub)
        err = sub["estimate"] - sub["truth"]
        for m in ("analytic", "placebo"):
            ci = np.array(sub[m].tolist(), dtype=float)
            rej = np.mean(ci[:, 2] <= 0.05)
            cov = np.mean((ci[:, 0] <= sub["truth"]) & (sub["truth"] <= ci[:, 1]))
            rows.append({"outcome": o, "aggregation": k, "inference": m, "reps": n,
                         "rejection_rate": rej, "rejection_se": np.sqrt(rej * (1 - rej) / n),
                         "coverage": cov, "coverage_se": np.sqrt(cov * (1 - cov) / n),
                         "mean_ci_width": float(np.mean(ci[:, 1] - ci[:, 0])),
                         "mean_se": float(sub[f"{m}_se"].mean()), "sd_error": float(err.std())})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--null-reps", type=int, default=200)
    ap.add_argument("--effect-reps", type=int, default=150)
    ap.add_argument("--study-reps", type=int, default=500,
                    help="cached study-scope null draws of sim_inference.py to evaluate (0: none)")
    ap.add_argument("--persons", type=int, default=15000)
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--fresh", action="store_true",
                    help="re-evaluate every draw instead of reading the evaluation checkpoints")
    ap.add_argument("--effects", action="store_true", help="with --generate-only: the effects draws")
    ap.add_argument("--start", type=int, default=0, help="with --generate-only: first draw")
    ap.add_argument("--workers", type=int, default=0,
                    help="local Dask workers (0: in this process); the numbers do not change")
    args = ap.parse_args()
    from ips_study.parallel import local_client

    pool = local_client(args.workers) if args.workers else contextlib.nullcontext(None)
    with pool as client:
        _main(args, client)


def _main(args, client) -> None:
    if args.generate_only:
        reps = args.effect_reps if args.effects else args.null_reps
        generate_draws(reps, args.persons, args.effects, args.start, client=client)
        return
    # draws missing from the cache (a fresh clone) are generated first: about 16 min of CPU
    generate_draws(args.null_reps, args.persons, False, client=client)
    generate_draws(args.effect_reps, args.persons, True, client=client)
    t0 = time.process_time()
    pd.set_option("display.width", 200)
    fmt = dict(index=False, floatfmt=".3f")
    if args.null_reps:
        print(f"## Null draws, all municipalities (7 adopters, one per group), {args.persons} persons\n")
        print(summarise(run(cache_dir(args.persons, False), args.null_reps, fresh=args.fresh, client=client)).to_markdown(**fmt))
    if args.effect_reps:
        print("\n## Draws with the generator's effects, coverage of truth.json 'staggered'\n")
        print(summarise(run(cache_dir(args.persons, True), args.effect_reps, fresh=args.fresh, client=client)).to_markdown(**fmt))
    if args.study_reps and not STUDY_CACHE.exists():
        print(f"\n# {STUDY_CACHE} missing: run benchmarks/sim_inference.py --synthetic 500 "
              "--generate-only for the study-scope table")
    if STUDY_CACHE.exists() and args.study_reps:
        print("\n## Null draws, study scope (Bodø the only adopter: every control in turn)\n")
        print(summarise(run(STUDY_CACHE, args.study_reps, outcomes=("workdays",),
                            truth_file=False, fresh=args.fresh, client=client)).to_markdown(**fmt))
    print(f"\n# evaluation CPU {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
