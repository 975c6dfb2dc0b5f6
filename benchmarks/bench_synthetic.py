"""Benchmark: synthetic registers for a full Norwegian 18-40 population.

Goal (issue 3): 1.5 million persons, 2006-2020 monthly, generated and written as Parquet in
under 10 minutes with peak memory under 12 GB on 2 cores. People are simulated in chunks of
60,000 and streamed to disk (one Parquet row group per chunk); the truth comes from the
simulated monthly potential outcomes.

There is no peer package for register simulation; the table puts the measured figures next
to the goals, and a default-size run (the embedded data) next to it for scale.

Run::

    .venv/bin/python benchmarks/bench_synthetic.py [--persons 1500000] [--repeats 3]

Each size is timed through ``benchmarks/_harness.py`` (3 runs, min and median, wall and CPU
including the worker processes).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from _harness import Contender, compare

from ips_study.synthetic import write_synthetic


def _usage() -> tuple[float, float, float]:
    """CPU seconds (this process + finished workers), own peak RSS and largest worker peak (GB)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, me.ru_maxrss / 1024**2, kids.ru_maxrss / 1024**2


def run(persons: int, out: Path) -> dict[str, float]:
    t0, (c0, _, _) = time.perf_counter(), _usage()
    write_synthetic(out, persons=persons, seed=20130101, format="parquet", progress=True)
    wall = time.perf_counter() - t0
    c1, own, worker = _usage()
    cpu = c1 - c0
    size = sum(p.stat().st_size for p in out.iterdir()) / 1024**2
    rows = 0
    import pyarrow.parquet as pq
    for p in out.glob("*.parquet"):
        rows += pq.read_metadata(p).num_rows
    # upper bound of the peak: the main process plus two workers at their largest
    peak = own + (2 * worker if persons > 240_000 else 0.0)
    return {"persons": persons, "wall_s": wall, "cpu_s": cpu, "peak_gb": peak,
            "size_mb": size, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=1_500_000)
    ap.add_argument("--small", type=int, default=60_000, help="reference run (0 to skip)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per size")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_synthetic_"))
    from ips_study import __version__

    results = []
    try:
        for persons in ([args.small] if args.small else []) + [args.persons]:
            last = {}

            def go(persons=persons):
                shutil.rmtree(tmp / "out", ignore_errors=True)
                last.update(run(persons, tmp / "out"))
                return last["rows"]

            # no peer: the same run repeated (3 times by default) for min and median
            compare(f"synthetic registers, {persons:,} persons", f"synthetic_{persons}",
                    [Contender("ips_study", go, __version__, "write_synthetic, 2 worker processes")],
                    equal=lambda a, b: 0.0, tolerance=0, repeats=args.repeats,
                    notes="goal < 600 s and < 12 GB at 1.5M persons; CPU includes the workers")
            results.append(dict(last))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nmachine: {os.cpu_count()} cores; CPU includes the two worker processes; peak memory "
          "is main process + 2 x largest worker (an upper bound)")
    print(f"{'persons':>10} {'wall (s)':>9} {'CPU (s)':>9} {'peak (GB)':>10} {'Parquet (MB)':>13} "
          f"{'rows':>12}  goal")
    for r in results:
        goal = "< 600 s, < 12 GB" if r["persons"] >= 1_500_000 else "(embedded size)"
        print(f"{r['persons']:>10,} {r['wall_s']:>9.1f} {r['cpu_s']:>9.1f} {r['peak_gb']:>10.2f} "
              f"{r['size_mb']:>13.1f} {r['rows']:>12,}  {goal}")


if __name__ == "__main__":
    main()
