"""TWFE DiD on a 20-million-row person-month panel: ips_study vs pyfixest, side by side.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_did.py [--rows 20000000]``.

Both fit ``y ~ treated_post | person + month`` with CRV1 errors clustered by municipality
(pyfixest's default small-sample convention, ips_study ``small_sample="fixest"``) on the same
DataFrame, in separate worker processes so that peak memory can be measured for each alone
(peak RSS above the RSS after building the data, via /proc/self/clear_refs). pyfixest is timed
warm: its JIT compilation is triggered first on a small panel. Variants: balanced (every
person all 120 months) and unbalanced (about 1/6 of person-months missing at random). For
ips_study the placebo-in-space inference over all control municipalities is timed too, on
the fitted object (it reuses the demeaned pieces), and the table names the path ips_study
took (``closed form`` on the sorted balanced panel without movers, ``MAP`` otherwise). The
script checks that estimates and standard errors agree to 1e-8 (relative) and prints a
table with wall-clock and CPU seconds (CPU summed over threads: on a shared machine it is
the steadier measure).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd

MONTHS = 120
N_MUNI = 300


def make_panel(rows: int, balanced: bool, seed: int = 1) -> pd.DataFrame:
    """Person-month panel with 300 municipalities of unequal size; municipality 1804 treated."""
    rng = np.random.default_rng(seed)
    keep_share = 1.0 if balanced else 5 / 6
    persons = int(round(rows / MONTHS / keep_share))
    sizes = rng.lognormal(0, 1, N_MUNI)
    muni_of_person = rng.choice(N_MUNI, size=persons, p=sizes / sizes.sum()).astype(np.int16)
    muni_of_person[:600] = 0  # the treated municipality (code 1804) has at least 600 persons
    pid = np.repeat(np.arange(persons, dtype=np.int32), MONTHS)
    month = np.tile(np.arange(MONTHS, dtype=np.int16), persons)
    if not balanced:
        keep = rng.random(len(pid)) < keep_share
        pid, month = pid[keep], month[keep]
    muni = muni_of_person[pid]
    codes = np.array([f"{1804 + k:04d}" for k in range(N_MUNI)])
    labels = pd.period_range("2008-01", periods=MONTHS, freq="M").astype(str)
    post = (month >= 60).astype(np.int8)
    treated = (muni == 0).astype(np.int8)
    alpha = rng.normal(0, 1, persons)
    shock = rng.normal(0, 0.05, (N_MUNI, MONTHS))
    y = (alpha[pid] + 0.01 * month + shock[muni, month] + 0.03 * treated * post
         + rng.normal(0, 1, len(pid)))
    return pd.DataFrame({
        "person_id": pid,
        "municipality": pd.Categorical.from_codes(muni, categories=codes),
        "period": pd.Categorical.from_codes(month, categories=labels),
        "post": post,
        "treated_post": (treated * post).astype(float),
        "y": y,
    })


def _status(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024 / 1024  # GiB
    return float("nan")


def worker(tool: str, rows: int, balanced: bool) -> dict:
    df = make_panel(rows, balanced)
    out: dict = {"tool": tool, "rows": len(df), "balanced": balanced}
    if tool == "pyfixest":
        import pyfixest as pf

        small = make_panel(200_000, balanced, seed=2)
        pf.feols("y ~ treated_post | person_id + period", data=small,
                 vcov={"CRV1": "municipality"})  # JIT warm-up
    else:
        import warnings

        from ips_study.config import StudyConfig
        from ips_study.designs.did import fit_panel

        warnings.simplefilter("ignore", UserWarning)
        cfg = StudyConfig(freq="month")
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak-RSS counter
    t0, c0 = time.perf_counter(), time.process_time()
    if tool == "pyfixest":
        m = pf.feols("y ~ treated_post | person_id + period", data=df,
                     vcov={"CRV1": "municipality"})
        est, se = float(m.coef()["treated_post"]), float(m.se()["treated_post"])
    else:
        res = fit_panel(df, outcome="y", config=cfg, inference="cluster")
        est, se = res.estimate, res.std_error
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = time.process_time() - c0  # all threads; less sensitive to load
    out["peak_gib"] = _status("VmHWM") - base
    out["estimate"], out["std_error"] = est, se
    if tool == "ips_study":
        out["map_sweeps"] = res.fit.demeaner.iterations
        dm = res.fit.demeaner
        out["path"] = ("closed form" if res.fit.closed_form else
                       "grid means" if dm.grid else "group means" if dm.balanced else "MAP")
        if balanced:
            t0, c0 = time.perf_counter(), time.process_time()
            pl = res.with_inference("placebo")
            out["placebo_seconds"] = time.perf_counter() - t0
            out["placebo_cpu_seconds"] = time.process_time() - c0
            out["n_placebos"] = pl.extras["n_placebos"]
            out["placebo_p"] = pl.p_value
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--worker", choices=["ips_study", "pyfixest"])
    ap.add_argument("--unbalanced", action="store_true")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, not args.unbalanced)))
        return
    results = []
    for unbalanced in (False, True):
        pair = {}
        for tool in ("ips_study", "pyfixest"):
            cmd = [sys.executable, __file__, "--worker", tool, "--rows", str(args.rows)]
            cmd += ["--unbalanced"] if unbalanced else []
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                          text=True).stdout.strip().splitlines()[-1])
            pair[tool] = r
        a, b = pair["ips_study"], pair["pyfixest"]
        results.append({
            "panel": "unbalanced" if unbalanced else "balanced",
            "rows": a["rows"], "ips_study_path": a["path"],
            "ips_study_s": a["seconds"], "pyfixest_s": b["seconds"],
            "speedup": b["seconds"] / a["seconds"],
            "ips_study_cpu_s": a["cpu_seconds"], "pyfixest_cpu_s": b["cpu_seconds"],
            "ips_study_peak_GiB": a["peak_gib"], "pyfixest_peak_GiB": b["peak_gib"],
            "rel_diff_estimate": abs(a["estimate"] - b["estimate"]) / abs(b["estimate"]),
            "rel_diff_se": abs(a["std_error"] - b["std_error"]) / b["std_error"],
            "placebo_s": a.get("placebo_seconds", float("nan")),
            "placebo_cpu_s": a.get("placebo_cpu_seconds", float("nan")),
            "n_placebos": a.get("n_placebos", 0),
        })
        print(json.dumps(pair), file=sys.stderr)
    table = pd.DataFrame(results)
    print(table.to_markdown(index=False, floatfmt=".3g"))
    ok = (table["rel_diff_estimate"] < 1e-8) & (table["rel_diff_se"] < 1e-8)
    print("estimates and SEs agree to 1e-8:", bool(ok.all()))


if __name__ == "__main__":
    main()
