"""Benchmark: Cox with one time-varying exposure, ips_study vs lifelines.CoxTimeVaryingFitter.

500,000 persons followed monthly for up to 144 months (about 2 million episodes in
counting-process form: a person's follow-up is split when their municipality starts IPS,
when they move and at four further age-band / calendar splits), Efron ties (monthly times, heavy ties),
60 municipalities as clusters. Both fitters run in the same process on the same data; the
table reports wall time, the largest coefficient difference and our cluster-robust SE
(lifelines has no clustered SEs for time-varying data).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_survival.py [--persons N]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=500_000)
    ap.add_argument("--skip-lifelines", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    d = make_episodes(args.persons)
    print(f"data: {args.persons:,} persons, {len(d):,} episodes, {int(d.event.sum()):,} events "
          f"({time.perf_counter() - t0:.1f} s to simulate)")
    cols = ["exposed", "female"]

    from ips_study.designs.survival.cox import CoxPH

    t = time.perf_counter()
    fit = CoxPH(ties="efron").fit(d[cols].to_numpy(), d["stop"].to_numpy(), d["event"].to_numpy(),
                                  start=d["start"].to_numpy(), names=cols)
    t_fit = time.perf_counter() - t
    robust = fit.robust_cov(d["mun"].to_numpy())
    t_ours = time.perf_counter() - t
    rows = [("ips_study CoxPH (fit only)", t_fit, fit.params_, np.sqrt(np.diag(fit.cov_)), None),
            ("ips_study CoxPH + cluster SEs", t_ours, fit.params_, np.sqrt(np.diag(fit.cov_)),
             np.sqrt(np.diag(robust)))]
    if not args.skip_lifelines:
        from lifelines import CoxTimeVaryingFitter

        t = time.perf_counter()
        ctv = CoxTimeVaryingFitter().fit(d[["id", "start", "stop", "event"] + cols], id_col="id",
                                         event_col="event", start_col="start", stop_col="stop")
        t_ll = time.perf_counter() - t
        rows.append(("lifelines CoxTimeVaryingFitter", t_ll, ctv.params_[cols].to_numpy(),
                     ctv.standard_errors_[cols].to_numpy(), None))
    print(f"\n{'fitter':<32}{'seconds':>9}{'b_exposed':>12}{'b_female':>11}{'SE_exp':>9}"
          f"{'cluster SE_exp':>16}")
    for name, sec, b, se, rse in rows:
        rs = f"{rse[0]:.5f}" if rse is not None else "n/a"
        print(f"{name:<32}{sec:>9.2f}{b[0]:>12.6f}{b[1]:>11.6f}{se[0]:>9.5f}{rs:>16}")
    if not args.skip_lifelines:
        diff = np.max(np.abs(rows[0][2] - rows[-1][2]))
        print(f"\nmax |coef difference| vs lifelines: {diff:.2e}; "
              f"speed-up (fit + cluster SEs vs lifelines fit): {t_ll / t_ours:.1f}x")


if __name__ == "__main__":
    main()
