"""Benchmark: Cox with one time-varying exposure, ips_study vs lifelines.CoxTimeVaryingFitter.

600,000 persons followed monthly for up to 144 months (about 2 million episodes in
counting-process form: a person's follow-up is split when their municipality starts IPS,
when they move and at four further age-band / calendar splits), Efron ties (monthly times, heavy ties),
60 municipalities as clusters. Both fitters run in the same process on the same data; the
table reports wall time, the largest coefficient difference and our cluster-robust SE
(lifelines has no clustered SEs for time-varying data).

Timed through ``benchmarks/_harness.py``: 3 alternating runs each, wall and user/system CPU,
coefficients and model SEs equal to 1e-8. ``--scaling`` measures ips_study's CPU per episode
from 0.5M to 4M episodes (the linearity goal of issue 22).

Run: ``.venv/bin/python benchmarks/bench_survival.py [--persons N] [--scaling]``
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd
from _harness import RESULTS, Contender, compare, max_abs_diff, timed

COLS = ["exposed", "female"]


def make_episodes(n: int, seed: int = 20130101) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = 144
    n_mun = 60
    ips_start = np.where(rng.random(n_mun) < 0.3, rng.integers(24, 120, n_mun), 10**6)
    mun0 = rng.integers(0, n_mun, n)
    mun1 = rng.integers(0, n_mun, n)
    move = np.where(rng.random(n) < 0.5, rng.integers(1, months, n), 10**6)
    cuts = rng.integers(1, months, (n, 4))              # e.g. age-band / calendar boundaries
    end = rng.integers(12, months + 1, n)
    female = rng.integers(0, 2, n).astype(float)
    # breakpoints per person: move, cut, IPS start of the municipality lived in
    s0 = ips_start[mun0]
    s1 = ips_start[mun1]
    bps = np.column_stack([move, cuts, np.where(s0 < move, s0, 10**6), np.where(s1 > move, s1, 10**6)])
    bps = np.sort(np.where(bps < end[:, None], bps, 10**6), axis=1)
    starts = np.concatenate([np.zeros((n, 1), int), bps], 1)
    stops = np.concatenate([bps, end[:, None]], 1)
    starts = np.where(starts >= 10**6, -1, starts)
    stops = np.minimum(stops, end[:, None])
    valid = (starts >= 0) & (stops > starts)
    pid, j = np.nonzero(valid)
    start, stop = starts[pid, j], stops[pid, j]
    mun = np.where(start >= move[pid], mun1[pid], mun0[pid])
    exposed = (start >= ips_start[mun]).astype(float)
    # monthly hazard with log HR -0.4 for exposure, 0.2 for female
    h = 0.002 * np.exp(-0.4 * exposed + 0.2 * female[pid])
    length = stop - start
    t_ev = rng.geometric(1 - np.exp(-h))               # months until event within episode
    ev = t_ev <= length
    df = pd.DataFrame({"id": pid, "start": start.astype(float), "stop": stop.astype(float),
                       "exposed": exposed, "female": female[pid], "mun": mun0[pid],
                       "ev": ev})
    df.loc[ev, "stop"] = df.loc[ev, "start"] + t_ev[ev]
    # a person's follow-up ends at the first event
    df["first_ev"] = df["id"].map(df[df.ev].groupby("id")["stop"].min())
    df = df[~(df["start"] >= df["first_ev"])].copy()
    df["event"] = (df["ev"] & (df["stop"] == df["first_ev"])).astype(int)
    return df.drop(columns=["ev", "first_ev"]).reset_index(drop=True)


def scaling(sizes, repeats: int) -> dict:
    """CPU per episode of fit + cluster SEs at several sizes (ips_study alone), sizes alternating."""
    from ips_study.designs.survival.cox import CoxPH

    data = {p: make_episodes(p) for p in sizes}
    runs = {p: [] for p in sizes}
    load_before = os.getloadavg()
    for _ in range(repeats):
        for p in sizes:
            d = data[p]
            X, stop, event, start = (d[COLS].to_numpy(), d["stop"].to_numpy(),
                                     d["event"].to_numpy(), d["start"].to_numpy())
            _, u = timed(lambda: CoxPH(ties="efron").fit(X, stop, event, start=start)
                         .robust_cov(d["mun"].to_numpy()))
            runs[p].append({**u, "load": os.getloadavg()[0]})
            print(f"  {len(d):>10,} episodes  wall {u['wall']:6.2f} s  user {u['user']:6.2f}  "
                  f"sys {u['sys']:5.2f}  CPU/episode {(u['user'] + u['sys']) / len(d) * 1e6:.3f} µs"
                  f"  load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for p in sizes:
        n = len(data[p])
        cpu = sorted(r["user"] + r["sys"] for r in runs[p])
        sys_ = sorted(r["sys"] for r in runs[p])
        rows.append({"persons": p, "episodes": n, "runs": runs[p],
                     "cpu_per_episode_us_min": cpu[0] / n * 1e6,
                     "cpu_per_episode_us_median": cpu[len(cpu) // 2] / n * 1e6,
                     "sys_s_median": sys_[len(sys_) // 2]})
    med = [r["cpu_per_episode_us_median"] for r in rows]
    rec = {"goal": "Cox: CPU per episode constant within 15 %", "sizes": rows,
           "spread": max(med) / min(med) - 1, "load_before": load_before,
           "load_after": os.getloadavg(),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "bench_survival.py --scaling"}
    print(f"\nCPU per episode (median) {', '.join(f'{m:.3f}' for m in med)} µs: spread "
          f"{rec['spread']:.1%} (goal <= 15 %)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cox_scaling.json").write_text(json.dumps(rec, indent=1) + "\n")
    return rec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=600_000, help="600,000 persons = 2M episodes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-lifelines", action="store_true")
    ap.add_argument("--scaling", action="store_true",
                    help="CPU per episode from 0.5M to 4M episodes (ips_study alone)")
    args = ap.parse_args()
    if args.scaling:
        scaling([150_000, 300_000, 600_000, 1_200_000], args.repeats)
        return
    t0 = time.perf_counter()
    d = make_episodes(args.persons)
    print(f"data: {args.persons:,} persons, {len(d):,} episodes, {int(d.event.sum()):,} events "
          f"({time.perf_counter() - t0:.1f} s to simulate)")

    from ips_study import __version__
    from ips_study.designs.survival.cox import CoxPH

    X, stop, event, start = (d[COLS].to_numpy(), d["stop"].to_numpy(), d["event"].to_numpy(),
                             d["start"].to_numpy())
    mun = d["mun"].to_numpy()
    fits = {}

    def ours():
        fit = CoxPH(ties="efron").fit(X, stop, event, start=start, names=COLS)
        fits["robust"] = fit.robust_cov(mun)
        fits["ours"] = fit
        return np.r_[fit.params_, np.sqrt(np.diag(fit.cov_))]

    contenders = [Contender("ips_study", ours, __version__,
                            "CoxPH(ties='efron'), fit + Lin-Wei cluster SEs (60 clusters)")]
    if not args.skip_lifelines:
        import lifelines
        from lifelines import CoxTimeVaryingFitter

        frame = d[["id", "start", "stop", "event"] + COLS]

        def peer():
            ctv = CoxTimeVaryingFitter().fit(frame, id_col="id", event_col="event",
                                             start_col="start", stop_col="stop")
            fits["lifelines"] = ctv
            return np.r_[ctv.params_[COLS].to_numpy(), ctv.standard_errors_[COLS].to_numpy()]

        contenders.append(Contender("lifelines", peer, lifelines.__version__,
                                    "CoxTimeVaryingFitter() defaults (Efron), fit only"))
    rec = compare(f"Cox TV, {len(d) / 1e6:.1f}M episodes", "cox_tv", contenders,
                  equal=max_abs_diff, tolerance=1e-8, repeats=args.repeats, target=20,
                  notes=f"{args.persons:,} persons, {len(d):,} episodes, {int(d.event.sum()):,} "
                        "events; same process, same arrays; answer = coefficients and model SEs")
    fit = fits["ours"]
    print(f"\nb = {fit.params_.round(6)}, SE = {np.sqrt(np.diag(fit.cov_)).round(5)}, "
          f"cluster SE = {np.sqrt(np.diag(fits['robust'])).round(5)}; equal: {rec['equal']}")


if __name__ == "__main__":
    main()
