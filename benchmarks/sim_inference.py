"""Size and coverage of every DiD inference method with one treated municipality (issue 5.4).

Default run (the table in docs/inference.md)::

    nice -n 10 .venv/bin/python benchmarks/sim_inference.py

runs 500 replications of :func:`ips_study.simulate.municipality_dgp` (Bodø 600
persons, 25 controls of 50-2000 persons, AR(1) municipality-year shocks, true effect 0;
``--effect`` adds a true effect) and prints a markdown table.

The register generator (``ips_study.synthetic``) is run in two steps, because generating
registers is the slow part (about 6 s per replication at 15,000 persons):

1. ``--synthetic N --generate-only [--persons 15000] [--effects]``: N draws of the generator
   (seed ``--seed + i`` for replication i, null effects unless ``--effects``), each person-year
   panel kept in ``--cache`` (one Parquet file per replication, written atomically, so an
   interrupted run resumes; with ``--effects`` the true effect of each draw, ``att_population``
   of :func:`ips_study.synthetic.truth.direct_truth`, is kept beside it);
2. ``--synthetic N [--level person|municipality]``: every inference method on the cached
   draws; each replication's result is appended to a JSON-lines checkpoint in the cache, so
   this step also resumes.

Population: 15,000 persons instead of the default 60,000 (municipality sizes scale with the
population and Bodø keeps its share, about 80 target persons per year instead of 320), so
that 500 replications fit in about an hour on the shared machine.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ips_study.parallel import local_client, replicate
from ips_study.simulate import (evaluate, replicate_resumable, replication_index, simulate,
                                summarise)

#: columns kept in a cached replication (person ids replaced by integer codes)
CACHE_COLUMNS = ["person", "municipality", "period", "period_start", "treated", "post",
                 "ips_start", "exposed", "event_time", "months_observed", "workdays",
                 "employed", "health_benefit", "any_benefit"]
#: methods on the generator: the studentised placebo both ways at person level (the
#: within-unit variance needs persons)
SYNTHETIC_METHODS = {
    "person": ("cluster", "wild", "placebo", "rmspe", "placebo-t[size]", "placebo-t[within]",
               "conley-taber", "ferman-pinto"),
    "municipality": ("cluster", "wild", "placebo", "rmspe", "placebo-t", "conley-taber",
                     "ferman-pinto"),
}


def cache_dir(root: Path, persons: int, seed: int, effects: bool) -> Path:
    return root / f"synthetic_{persons}_seed{seed}{'_effects' if effects else ''}"


def cache_synthetic(reps: int, seed: int, persons: int, cache: Path, effects: bool = False,
                    start: int = 0, client=None) -> None:
    """Generate draws ``start .. reps - 1`` of the register generator, keep each panel.

    Draws already in the cache are skipped, so a second process started at a later
    ``start`` fills the cache from the other end without touching the first one's draws.
    """
    cache.mkdir(parents=True, exist_ok=True)
    replicate(_generate_one, reps, seed=seed, client=client,
              args=(seed, persons, cache, effects, start))


def _generate_one(rng, seed: int, persons: int, cache: Path, effects: bool,
                  start: int) -> int | None:
    """Draw ``i`` (its index read from its stream) with generator seed ``seed + i``."""
    import warnings

    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.synthetic import generate
    from ips_study.synthetic.effects import Effects

    i = replication_index(rng)
    if i < start:
        return None
    path = cache / f"rep_{i:04d}.parquet"
    if path.exists():
        return None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = generate(persons, seed=seed + i, effects=Effects() if effects else Effects.null())
        t1 = time.perf_counter()
        panel = build_panel(data.registers, StudyConfig(), freq="year")
    if effects:
        from ips_study.synthetic.truth import direct_truth

        truth = direct_truth(data.direct, "1804")
        keep = {k: truth[k] for k in ("att", "att_population") if k in truth}
        (cache / f"rep_{i:04d}.truth.json").write_text(json.dumps(keep))
    panel["person"] = pd.factorize(panel["person_id"])[0].astype(np.int64)
    tmp = path.with_suffix(".tmp")
    panel[CACHE_COLUMNS].to_parquet(tmp, index=False)
    tmp.rename(path)
    print(f"rep {i}: generate {t1 - t0:.1f} s, panel {time.perf_counter() - t1:.1f} s, "
          f"{len(panel)} rows", flush=True)
    return i


def load_draw(path: Path, outcome: str = "workdays", truth_key: str = "att_population"):
    """A cached replication: the person-year panel and its true effect (0 without a truth file)."""
    panel = pd.read_parquet(path)
    panel["person_id"] = panel["person"].astype(str)
    tf = path.with_suffix(".truth.json")
    truth = json.loads(tf.read_text())[truth_key][outcome] if tf.exists() else 0.0
    if outcome != "workdays":
        panel["workdays"] = panel[outcome]
    return panel, float(truth)


#: constant effects (workdays) at which power is read off the null replications
POWER_SHIFTS = (10.0, 20.0)


def shifted_power(records: list[dict], method: str, delta: float) -> float:
    """Rejection rate if a constant effect ``delta`` were added to the treated post period.

    Every interval here is ``b +/- h`` with ``h`` unchanged by such a shift (placebo and
    residual draws, variances and cluster SEs do not move: the shift goes into the
    coefficient), so H0: effect = 0 is rejected iff ``|b + delta| > h``; ``b`` and ``2h``
    are in the null records. Wild-bootstrap intervals come from test inversion and are
    only approximately symmetric; the RMSPE ratio has no interval (NaN).
    """
    rows = [(r["error"], r["methods"][method][2]) for r in records]
    err, width = np.array(rows, dtype=float).T
    if not np.isfinite(width).any():
        return float("nan")
    return float(np.mean(np.abs(err + delta) > width / 2))


def run_synthetic(reps: int, cache: Path, level: str, wild_reps: int = 999,
                  outcome: str = "workdays", client=None) -> pd.DataFrame:
    """Every method on the first ``reps`` cached draws (in file order).

    Replication ``i`` evaluates the ``i``-th cached file, through
    :func:`ips_study.simulate.replicate_resumable` (on ``client`` if given); each block's
    results are appended to ``results_<level>_<outcome>.v2.jsonl`` in the cache, so the step
    resumes and can run while draws are still being generated.
    """
    files = sorted(cache.glob("rep_*.parquet"))[:reps]
    if len(files) < reps:
        print(f"# only {len(files)} cached replications in {cache}")
    methods = SYNTHETIC_METHODS[level]
    ckpt = cache / f"results_{level}_{outcome}.v2.jsonl"
    t0 = time.perf_counter()
    records = replicate_resumable(
        _evaluate_file, len(files), seed=0, client=client, checkpoint=ckpt, block=20,
        args=([str(f) for f in files], methods, level, wild_reps, outcome),
        is_done=lambda r: all(m in r["methods"] for m in methods))
    table = summarise(records, methods)
    for delta in POWER_SHIFTS:
        table[f"power_{delta:g}"] = [shifted_power(records, m, delta) for m in methods]
    print(f"# synthetic generator ({cache.name}), {len(files)} replications, {level}-level "
          f"DiD of {outcome}, {time.perf_counter() - t0:.0f} s")
    print(table.to_markdown(index=False, floatfmt=".3f"))
    return table


def _evaluate_file(rng, files: list[str], methods, level: str, wild_reps: int,
                   outcome: str) -> dict:
    """Every method on cached draw ``i`` (the replication's index, read from its stream)."""
    path = Path(files[replication_index(rng)])
    panel, truth = load_draw(path, outcome)
    return {"file": path.stem, **evaluate(panel, truth, methods, fit_options={"level": level},
                                          wild_options={"reps": wild_reps})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20130101)
    ap.add_argument("--effect", type=float, default=0.0)
    ap.add_argument("--controls", type=int, default=25)
    ap.add_argument("--wild-reps", type=int, default=999)
    ap.add_argument("--checkpoint", type=Path, default=None,
                    help="JSON-lines checkpoint for the municipality DGP run")
    ap.add_argument("--synthetic", type=int, default=0,
                    help="replications on the synthetic register generator")
    ap.add_argument("--persons", type=int, default=15_000)
    ap.add_argument("--effects", action="store_true", help="generator with its default effects")
    ap.add_argument("--level", choices=["person", "municipality"], default="person")
    ap.add_argument("--cache", type=Path, default=Path("benchmarks/_data/sim_inference"))
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--start", type=int, default=0,
                    help="first replication to generate (a second process can fill from here)")
    ap.add_argument("--workers", type=int, default=0,
                    help="local Dask workers (0: in this process); the numbers do not change")
    args = ap.parse_args()
    pool = local_client(args.workers) if args.workers else contextlib.nullcontext(None)
    with pool as client:
        run(args, client)


def run(args, client) -> None:
    if args.synthetic:
        cache = cache_dir(args.cache, args.persons, args.seed, args.effects)
        if args.generate_only:
            cache_synthetic(args.synthetic, args.seed, args.persons, cache, args.effects,
                            args.start, client=client)
        else:
            run_synthetic(args.synthetic, cache, args.level, args.wild_reps, client=client)
        return
    t0 = time.perf_counter()
    table = simulate(reps=args.reps, seed=args.seed, progress=False, client=client,
                     wild_options={"reps": args.wild_reps}, checkpoint=args.checkpoint,
                     dgp_options={"effect": args.effect, "n_controls": args.controls})
    secs = time.perf_counter() - t0
    print(f"# municipality DGP, {args.reps} replications, {args.controls} controls, "
          f"effect {args.effect}, seed {args.seed}, {secs:.0f} s")
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
