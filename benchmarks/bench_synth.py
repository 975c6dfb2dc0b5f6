"""Benchmark: synthetic control with full placebo set, and staggered DR ATT(g,t) vs csdid.

1. Synthetic control (outcomes-only weights) plus placebo-in-space for every donor on
   350 municipalities x 144 months (goal: under 30 s).
2. Callaway-Sant'Anna ATT(g,t), doubly robust with one covariate, on 1,000,000 person-years
   (200,000 persons x 5 years), ips_study vs the PyPI package ``csdid`` in the same run, same
   numbers (goal: at least 2x faster). csdid runs in its own virtual environment
   (``python3.11 -m venv /work/peers/csdid && /work/peers/csdid/bin/pip install csdid
   "pandas<3" pyarrow``), in a child process that loads the data before timing itself.

Both timed through ``benchmarks/_harness.py`` (3 alternating runs, wall and CPU, answers equal).

Run: .venv/bin/python benchmarks/bench_synth.py [--persons N] [--csdid-python PATH]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from _harness import Contender, SelfTimed, compare, max_abs_diff, self_time


def sc_panel(n_units=350, n_periods=144, seed=1):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(3, n_periods)).cumsum(axis=1)
    load = rng.uniform(0.5, 1.5, size=(n_units, 3))
    y = 50 + load @ f + rng.normal(0, 1, (n_units, n_periods))
    y[0, 96:] += 3.0
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    return pd.DataFrame({"unit": unit, "time": t, "y": y.ravel(),
                         "d": ((unit == 0) & (t >= 96)).astype(int)})


def cs_panel(n_persons=200_000, seed=2):
    rng = np.random.default_rng(seed)
    years = np.arange(2013, 2018)
    g = rng.choice([0, 2015, 2016, 2017], n_persons, p=[0.4, 0.2, 0.2, 0.2])
    x = rng.normal(size=n_persons)
    pid = np.repeat(np.arange(n_persons), len(years))
    yr = np.tile(years, n_persons)
    gg, xx = np.repeat(g, len(years)), np.repeat(x, len(years))
    treated = (gg > 0) & (yr >= gg)
    y = 0.5 * xx + 0.1 * (yr - 2013) * (1 + 0.3 * xx) + 1.0 * treated + rng.normal(size=len(pid))
    return pd.DataFrame({"id": pid, "year": yr, "g": gg, "x": xx, "y": y})


def csdid_child(path: str) -> None:
    """In the csdid virtual environment: load the panel (untimed), time ATTgt, print JSON."""
    with contextlib.redirect_stdout(io.StringIO()):
        from csdid.att_gt import ATTgt
    panel = pd.read_parquet(path)

    def fit():
        with contextlib.redirect_stdout(io.StringIO()):
            peer = ATTgt(yname="y", gname="g", idname="id", tname="year", xformla="y~x",
                         data=panel).fit(est_method="dr", bstrap=False)
        return [np.asarray(peer.results["att"], float).tolist(),
                np.asarray(peer.results["se"], float).tolist()]

    print(json.dumps(self_time(fit)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--csdid-python", default="/work/peers/csdid/bin/python",
                    help="python of a virtual environment with csdid (pip install csdid)")
    ap.add_argument("--csdid-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.csdid_child:
        csdid_child(args.csdid_child)
        return
    from ips_study import __version__
    from ips_study.designs.staggered import att_gt
    from ips_study.designs.synth import synth

    df = sc_panel()
    res = {}

    def sc():
        res["sc"] = synth(df, unit="unit", time="time", outcome="y", treated="d")
        return res["sc"].estimate

    compare("SC + 349 placebos, 350 x 144", "synth_placebos",
            [Contender("ips_study", sc, __version__, "synth(), outcomes-only weights")],
            equal=lambda a, b: 0.0, tolerance=0, repeats=args.repeats,
            notes="no peer package; goal < 30 s")
    print(f"estimate {res['sc'].estimate:.3f} (true 3), rank {res['sc'].extras['rmspe_rank']}")

    panel = cs_panel(args.persons)

    def ours():
        t = att_gt(panel, outcome="y", unit="id", time="year", group="g", covariates=["x"],
                   method="dr").tidy()
        return [t["estimate"].to_numpy(), t["std_error"].to_numpy()]

    contenders = [Contender("ips_study", ours, __version__, "att_gt(method='dr'), analytic SEs")]
    if Path(args.csdid_python).exists():
        import tempfile

        tmp = Path(tempfile.mkdtemp()) / "cs_panel.parquet"
        panel.to_parquet(tmp)
        cmd = [args.csdid_python, __file__, "--csdid-child", str(tmp)]
        version = subprocess.run([args.csdid_python, "-c", "import importlib.metadata as m; "
                                  "print(m.version('csdid'), m.version('drdid'))"],
                                 capture_output=True, text=True, check=True).stdout.split()

        def peer():
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True,
                                            check=True).stdout.splitlines()[-1])
            return SelfTimed(out["answer"], out["usage"])

        contenders.append(Contender("csdid", peer, f"{version[0]} (drdid {version[1]})",
                                    "ATTgt(xformla='y~x').fit(est_method='dr', bstrap=False); "
                                    "own venv, data loaded before the clock"))
    else:
        print(f"no csdid at {args.csdid_python}: ips_study alone (pip install csdid in a venv)")
    compare(f"DR ATT(g,t), {len(panel) / 1e6:g}M person-years", "staggered_csdid", contenders,
            equal=lambda a, b: max(max_abs_diff(a[0], b[0]), max_abs_diff(a[1], b[1])),
            tolerance=1e-10, repeats=args.repeats, target=2,
            notes=f"{args.persons:,} persons x 5 years, 12 ATT(g,t) cells; answer = ATT and SE")


if __name__ == "__main__":
    main()
