"""The published design on synthetic registers at real scale, over many generator seeds.

Each replication draws a generator seed, simulates Bodø and its ten controls at real scale
(:func:`ips_study.synthetic.real_scale.published_geography`, about 184,000 persons, in
memory so that the counterfactual world gives the true effect of *this* design), builds the
year panel of ``studies/published_design.toml`` and fits the municipality-level DiD of workdays
under the package's default inference (placebo-t) and the cluster-robust and wild-bootstrap
intervals. The truth is ``att_population`` of the same design (work assessment target group,
factual vs counterfactual world, ips_study.synthetic.truth.population_truth).

Replications go through :func:`ips_study.parallel.replicate` in batches of ``--batch`` seeds
(batch ``b`` uses ``SeedSequence(seed + b)``), each batch appended to ``--out`` (JSON lines) as
soon as it is done, so an interrupted run keeps what it finished and a rerun continues.

    python benchmarks/sim_published_design.py --seeds 100 --out benchmarks/results/published_design.jsonl
    python benchmarks/sim_published_design.py --seeds 100 --null --out ...   # zero effect: size
    python benchmarks/sim_published_design.py --summary benchmarks/results/published_design.jsonl
    python benchmarks/sim_published_design.py --calibration benchmarks/results/published_design_calibration.jsonl

The calibration runs were ``--seeds 2 --batch 1 --seed 7 --sd X`` for X in 0, 0.05, 0.1, 0.2
(the same two generator seeds for every X).

Results and the calibration: docs/synthetic_data.md ("Real scale"), docs/simulations.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = ("placebo-t", "cluster", "wild")


def draw(rng: np.random.Generator, *, work_year_sd: float | None = None, null: bool = False,
         persons: int | None = None, job_hazard: float | None = None) -> dict:
    """One generator seed: estimate, intervals and truth of the published design."""
    import warnings

    from ips_study.config import StudyConfig
    from ips_study.designs import get_design
    from ips_study.panel import build_panel
    from ips_study.synthetic import Effects, generate
    from ips_study.synthetic.real_scale import published_geography, real_scale_persons
    from ips_study.synthetic.truth import population_truth

    cfg = StudyConfig.load("published_design")
    seed = int(rng.integers(1, 2**31 - 1))
    n = real_scale_persons() if persons is None else int(persons)
    effects = Effects.null() if null else (Effects() if job_hazard is None else Effects(job_hazard=job_hazard))
    t0, c0 = time.perf_counter(), time.process_time()
    data = generate(n, seed=seed, effects=effects, end="2016-12",
                    geography=published_geography(work_year_sd, persons=n))
    t_gen = time.perf_counter() - t0
    truth = 0.0 if null else float(population_truth(data.registers, data.counterfactual, cfg)
                                   ["att_population"]["workdays"])
    panel = build_panel(data.registers, cfg, freq="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = get_design("did")(panel, outcome="workdays", config=cfg, level="municipality")
        out = {"seed": seed, "persons": n, "work_year_sd": work_year_sd, "null": null, "truth": truth,
               "estimate": float(base.estimate),
               "bodo_person_years": int((panel["treated"] == 1).sum()),
               "person_years": int(len(panel))}
        for m in METHODS:
            r = base if base.inference == m else base.with_inference(m)
            lo, hi = r.conf_int().loc[r.main_term]
            out[m] = {"conf_low": float(lo), "conf_high": float(hi), "p_value": float(r.p_value),
                      "std_error": float(r.std_error)}
    out["seconds_generate"] = round(t_gen, 1)
    out["seconds_wall"] = round(time.perf_counter() - t0, 1)
    out["seconds_cpu"] = round(time.process_time() - c0, 1)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def calibration(rows: list[dict]) -> pd.DataFrame:
    """Per shock SD: the spread of estimate - truth and the interval width it implies.

    ``implied_width`` = 3.92 x RMS(estimate - truth): the width of a 95 % interval that has
    the estimator's actual spread over draws (the calibration target: 5.7 days +-30 %).
    """
    out = []
    df = pd.DataFrame(rows)
    for sd, g in df.groupby("work_year_sd"):
        err = g["estimate"] - g["truth"]
        rms = float(np.sqrt((err ** 2).mean()))
        out.append({"work_year_sd": sd, "seeds": len(g), "rms_error": rms, "implied_width": 3.92 * rms,
                    "median_cluster_width": (g["cluster"].map(lambda d: d["conf_high"] - d["conf_low"])).median(),
                    "median_placebo_t_se": g["placebo-t"].map(lambda d: d["std_error"]).median(),
                    "mean_truth": g["truth"].mean(), "bodo_person_years": g["bodo_person_years"].median()})
    return pd.DataFrame(out)


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean estimate vs truth, coverage and rejection (5 %) per method, with Monte Carlo errors."""
    out = []
    df = pd.DataFrame(rows)
    for (sd, null), g in df.groupby(["work_year_sd", "null"], dropna=False):
        err = g["estimate"] - g["truth"]
        for m in METHODS:
            lo = g[m].map(lambda d: d["conf_low"])
            hi = g[m].map(lambda d: d["conf_high"])
            p = g[m].map(lambda d: d["p_value"])
            cover = ((lo <= g["truth"]) & (g["truth"] <= hi)).mean()
            width = (hi - lo).replace([np.inf, -np.inf], np.nan)
            k = len(g)
            out.append({"work_year_sd": sd, "null": null, "seeds": k, "method": m,
                        "mean_truth": g["truth"].mean(), "mean_estimate": g["estimate"].mean(),
                        "bias": err.mean(), "bias_mc_se": err.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan,
                        "sd_error": err.std(ddof=1) if k > 1 else np.nan,
                        "coverage": cover, "coverage_mc_se": np.sqrt(cover * (1 - cover) / k),
                        "reject_5pct": (p < 0.05).mean(),
                        # with ten controls placebo p-values are multiples of 1/11: 5 % is out of reach
                        "reject_10pct": (p < 0.10).mean(),
                        "median_width": width.median(), "finite_width_share": width.notna().mean()})
    return pd.DataFrame(out)


def markdown(df: pd.DataFrame) -> str:
    """A plain Markdown table (two decimals) without the optional tabulate dependency."""
    def cell(v):
        return f"{v:.2f}" if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20130101)
    ap.add_argument("--sd", type=float, default=None, help="work_year_sd (default: the calibrated value)")
    ap.add_argument("--null", action="store_true", help="zero effect (size / rejection rate)")
    ap.add_argument("--persons", type=int, default=None)
    ap.add_argument("--workers", type=int, default=1, help="local Dask workers (ips_study.parallel)")
    ap.add_argument("--out", default="benchmarks/results/published_design.jsonl")
    ap.add_argument("--summary", default=None, help="print the summary of a results file and exit")
    ap.add_argument("--calibration", default=None, help="print the calibration table of a results file and exit")
    a = ap.parse_args(argv)
    if a.summary or a.calibration:
        path = Path(a.summary or a.calibration)
        rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        print(markdown((summary if a.summary else calibration)(rows)))
        return 0
    from ips_study.parallel import local_client, replicate

    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    if out.exists():
        done = sum(1 for x in out.read_text().splitlines()
                   if x.strip() and json.loads(x)["null"] == a.null and json.loads(x)["work_year_sd"] == a.sd)
    kw = dict(work_year_sd=a.sd, null=a.null, persons=a.persons)
    client = local_client(a.workers) if a.workers > 1 else None
    try:
        c = client.__enter__() if client is not None else None
        b = done // a.batch
        while b * a.batch < a.seeds:
            rows = replicate(draw, a.batch, seed=a.seed + b + (10**6 if a.null else 0), kwargs=kw, client=c)
            with open(out, "a") as fh:
                for r in rows:
                    fh.write(json.dumps(r) + "\n")
            print(f"batch {b}: {[round(r['estimate'], 2) for r in rows]} truth "
                  f"{[round(r['truth'], 2) for r in rows]} wall {[r['seconds_wall'] for r in rows]}", flush=True)
            b += 1
    finally:
        if client is not None:
            client.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
