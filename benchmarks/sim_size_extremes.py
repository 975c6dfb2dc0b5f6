"""Size of the default inference for treated units at the edges of the controls' sizes (issue 19).

Runs :func:`ips_study.simulate.size_replication` (the DGP :func:`ips_study.simulate.size_dgp`,
not the register generator) through :func:`ips_study.parallel.replicate`, one seed stream per
replication, serially or on a local Dask cluster (``--workers 2``)::

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/sim_size_extremes.py --workers 2
    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/sim_size_extremes.py --several --reps 500
    PYTHONPATH=. nohup .venv/bin/python benchmarks/sim_size_extremes.py --several --workers 1 \
        --methods placebo-t "placebo-t[reference=rank]" ferman-pinto \
        --checkpoint out/sim_several --out out/sim_several.json &

One treated unit among 25 controls (log-uniform 200-20,000 persons), 12 years, treatment from
year 6, population weights; municipality-year shocks AR(1) rho = 0.4 with t(5) innovations or
i.i.d. normal, plus sampling noise of variance 900 / M. Treated unit of 200, 2,000 or 20,000
persons. Each cell: ``--reps`` replications under the null; coverage of a true effect and
power against an effect of twice the cell's SD of the estimate follow from the same draws
(see :func:`run_cell`). ``--several``: three
treated units of 200, 2,000 and 20,000 persons adopting together (year 6) or staggered
(years 5, 6 and 8). The markdown tables (rates with their binomial Monte Carlo SE, CPU
seconds per replication) go to stdout and, with ``--out``, to a JSON file.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ips_study.parallel import local_client
from ips_study.simulate import replicate_resumable, size_replication, summarise

#: the default (t reference), its rank form before issue 19, and the other size-aware method
METHODS = ("placebo-t", "placebo-t[reference=rank]", "ferman-pinto")
SIZES = {"small (200)": (200,), "mid (2,000)": (2000,), "large (20,000)": (20000,)}
SEVERAL = {"3 treated, same year": dict(treated_sizes=(200, 2000, 20000), starts=(5,)),
           "3 treated, staggered": dict(treated_sizes=(200, 2000, 20000), starts=(4, 5, 7))}
SHOCKS = ("ar1-t5", "iid-normal")


def run_cell(name: str, options: dict, reps: int, seed: int, methods, client,
             checkpoint=None) -> list[dict]:
    """Size, coverage and power of each method in one cell, from ``reps`` null replications.

    Every interval here is ``b +/- h`` with ``h`` computed from the controls alone (placebo
    estimates, their variance fit), so adding a constant effect ``delta`` to the treated unit
    moves ``b`` by ``delta`` and leaves ``h`` unchanged: the interval covers the true effect
    exactly when it covers 0 on the null draw (coverage = 1 - size, replication by
    replication), and H0: 0 is rejected iff ``|b - 0 + delta| > h``, read off the null records
    (``power`` at ``delta`` = twice the cell's SD of the estimate, about the issue's 2 SD).
    ``checkpoint``: a JSON-lines file; finished blocks of 50 replications are appended and
    read back on a rerun (the records do not depend on the blocks, see
    :func:`ips_study.simulate.replicate_resumable`), so the wall time of a resumed cell
    covers only what was left.
    """
    w0 = time.perf_counter()
    null = replicate_resumable(size_replication, reps, seed=seed, client=client,
                               kwargs=dict(methods=methods, **options), checkpoint=checkpoint,
                               block=50, is_done=lambda r: all(m in r["methods"]
                                                               for m in methods))
    wall = time.perf_counter() - w0
    tab = summarise(null, methods)
    err = np.array([r["error"] for r in null])
    sd = float(err.std(ddof=1))
    delta = 2 * sd
    rows = []
    for _, a in tab.iterrows():
        half = np.array([r["methods"][a["method"]][2] for r in null]) / 2
        power = float(np.mean(np.abs(err + delta) > half))
        rows.append({"cell": name, "shocks": options["shocks"], "method": a["method"],
                     "reps": reps, "size": a["rejection_rate"], "size_se": a["rejection_se"],
                     "coverage": a["coverage"], "coverage_se": a["coverage_se"],
                     "power": power, "power_se": float(np.sqrt(power * (1 - power) / reps)),
                     "effect": delta, "sd_estimate": sd,
                     "median_width": float(np.median(2 * half)),
                     "wall_s_per_rep": wall / reps,
                     "cpu_s_per_rep": float(np.mean([r["cpu_s"] for r in null]))})
    return rows


def table(rows: list[dict]) -> str:
    df = pd.DataFrame(rows)
    pct = lambda v, s: f"{100 * v:.1f} ({100 * s:.1f})"  # noqa: E731
    df["size %"] = [pct(v, s) for v, s in zip(df["size"], df["size_se"])]
    df["coverage %"] = [pct(v, s) for v, s in zip(df["coverage"], df["coverage_se"])]
    df["power %"] = [pct(v, s) for v, s in zip(df["power"], df["power_se"])]
    keep = ["cell", "shocks", "method", "reps", "size %", "coverage %", "power %", "effect",
            "median_width", "cpu_s_per_rep", "wall_s_per_rep"]
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keep) + " |", "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df[keep].itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--workers", type=int, default=0, help="local Dask workers (0: serial)")
    ap.add_argument("--several", action="store_true", help="three treated units")
    ap.add_argument("--methods", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--checkpoint", default=None,
                    help="folder for one JSON-lines checkpoint per cell (resumes a stopped run)")
    a = ap.parse_args()
    cells = SEVERAL if a.several else {k: {"treated_sizes": v} for k, v in SIZES.items()}
    methods = tuple(a.methods or (("placebo-t",) if a.several else METHODS))
    rows = []
    start = time.perf_counter()

    def go(client):
        for c, (name, opts) in enumerate(cells.items()):
            for s, shocks in enumerate(SHOCKS):
                seed = a.seed + 100 * c + 10 * s
                ck = None
                if a.checkpoint:
                    Path(a.checkpoint).mkdir(parents=True, exist_ok=True)
                    ck = Path(a.checkpoint) / f"cell{c}_{shocks}_seed{seed}.jsonl"
                rows.extend(run_cell(name, {**opts, "shocks": shocks}, a.reps, seed, methods,
                                     client, ck))
                print(f"{name} {shocks}: {time.perf_counter() - start:.0f} s", flush=True)

    if a.workers:
        with local_client(a.workers) as client:
            go(client)
    else:
        go(None)
    print(table(rows))
    print(f"total wall {time.perf_counter() - start:.0f} s")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
