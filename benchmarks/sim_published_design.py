"""The published design on synthetic registers at real scale, over many generator seeds.

Each replication draws a generator seed and simulates Bodø and its ten controls at real scale
(:func:`ips_study.synthetic.real_scale.published_geography`, the 2008-2016 window plus two
burn-in years: about 153,000 persons, in memory) with the published-design effects
(:func:`~ips_study.synthetic.real_scale.published_design_effects`: the participant effects
plus the office-practice spill-over). One seed gives two draws:

* ``effect``: the factual registers, truth = ``att_population`` of the design (work assessment
  target group, factual vs counterfactual world, ips_study.synthetic.truth.population_truth);
* ``null``: the *counterfactual* registers, a draw of the same population with no IPS anywhere
  (common random numbers), so its truth is exactly zero. Using it halves the cost of the
  size study; the two draws of one seed share the municipality draws, so the effect and the
  null table are each over independent seeds but correlated with each other.

On each it builds the year panel of ``studies/published_design.toml`` and fits the
municipality-level DiD of workdays under the default inference (placebo-t), the cluster-robust
(CRV1 by municipality, t with G-1 df) and the wild-cluster-bootstrap intervals, and the
published-method variant (``person-cluster``: the same estimate from person rows with SEs
clustered on persons, :func:`ips_study.published.conventional_fit`). ``--models`` adds other
models fitted on the same registers (:data:`MODELS`: person fixed effects, the closed cohort).

Replications go through :func:`ips_study.parallel.replicate` in batches of ``--batch`` seeds
(batch ``b`` uses ``SeedSequence(seed + b)``), each batch appended to ``--out`` (JSON lines) as
soon as it is done, so an interrupted run keeps what it finished and a rerun with the same
arguments continues.

    python benchmarks/sim_published_design.py --seeds 100 --out benchmarks/results/published_design_calibrated.jsonl
    python benchmarks/sim_published_design.py --summary benchmarks/results/published_design_calibrated.jsonl
    python benchmarks/sim_published_design.py --calibration benchmarks/results/published_design_calibrated.jsonl

Calibration runs set the municipality draws: ``--sd`` (year shocks), ``--level-sd``,
``--work-level-sd``, ``--trend-sd`` (see docs/synthetic_data.md, "Real scale").
``benchmarks/results/published_design.jsonl`` holds the 42 draws of the previous generator
settings (no spill-over, 2006-2020 window, separate null seeds); they are not comparable.

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
START, END = "2008-01", "2016-12"
SD_KEYS = ("work_year_sd", "health_level_sd", "work_level_sd", "health_trend_sd", "aap_entry_hr")
#: rows written before a setting existed had its neutral value
OLD_DEFAULTS = {"aap_entry_hr": 1.0, "model": "open-municipality"}


#: the models a draw can fit: (population design, level). ``open-municipality`` is the
#: package's published-design default (municipality-year means, municipality and year effects);
#: ``*-person`` fit person and year fixed effects on the person-year panel, clustered and
#: permuted by municipality; ``closed`` is the cohort on work assessment allowance at the
#: study's ``baseline_date`` followed every year it is resident (docs/simulations.md)
MODELS = {"open-municipality": ("open", "municipality"), "open-person": ("open", "person"),
          "closed-person": ("closed", "person"), "closed-municipality": ("closed", "municipality")}
DEFAULT_MODEL = "open-municipality"


def _fit(panel, cfg, level: str = "municipality") -> dict:
    """Estimate and the three intervals of the DiD of workdays at ``level``."""
    import warnings

    from ips_study.designs import get_design

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = get_design("did")(panel, outcome="workdays", config=cfg, level=level)
        out = {"estimate": float(base.estimate), "bodo_person_years": int((panel["treated"] == 1).sum()),
               "person_years": int(len(panel))}
        for m in METHODS:
            r = base if base.inference == m else base.with_inference(m)
            lo, hi = r.conf_int().loc[r.main_term]
            out[m] = {"conf_low": float(lo), "conf_high": float(hi), "p_value": float(r.p_value),
                      "std_error": float(r.std_error)}
        if level == "municipality":
            # the published-method variant: the same estimate from person rows, SEs by person
            from ips_study.published import conventional_fit

            r = conventional_fit(panel, cfg)
            out["person-cluster"] = {k: r[k] for k in ("conf_low", "conf_high", "p_value", "std_error", "estimate")}
    return out


def draw(rng: np.random.Generator, *, work_year_sd: float | None = None, health_level_sd: float | None = None,
         work_level_sd: float | None = None, health_trend_sd: float | None = None,
         aap_entry_hr: float | None = None, persons: int | None = None, models: tuple[str, ...] = (DEFAULT_MODEL,)) -> dict:
    """One generator seed: the effect draw (factual) and the null draw (counterfactual).

    ``effect``/``null`` hold the first of ``models``; the others go under ``models`` (name ->
    ``{"effect": ..., "null": ...}``), fitted on the same registers.
    """
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.synthetic import generate
    from ips_study.synthetic.real_scale import (population_truth_from_panels, published_design_effects,
                                                published_geography, real_scale_persons)

    cfg = StudyConfig.load("published_design")
    seed = int(rng.integers(1, 2**31 - 1))
    n = real_scale_persons(start=START, end=END) if persons is None else int(persons)
    geo = published_geography(work_year_sd, persons=n, health_level_sd=health_level_sd,
                              work_level_sd=work_level_sd, health_trend_sd=health_trend_sd,
                              aap_entry_hr=aap_entry_hr)
    t0, c0 = time.perf_counter(), time.process_time()
    data = generate(n, seed=seed, effects=published_design_effects(), start=START, end=END, geography=geo,
                    direct=False)
    t_gen = time.perf_counter() - t0
    effects = published_design_effects()
    out = {"seed": seed, "persons": n, "spillover_work_hr": effects.spillover.work_hr,
           **{k: getattr(geo, k) for k in SD_KEYS}, "model": models[0]}
    panels: dict[str, tuple] = {}
    fits = {}
    for name in models:
        design, level = MODELS[name]
        if design not in panels:
            c = cfg if design == cfg.design else cfg.replace(design=design)
            pf = build_panel(data.registers, c, freq="year")
            pc = build_panel(data.counterfactual, c, freq="year")
            panels[design] = (c, pf, pc, population_truth_from_panels(pf, pc))
        c, pf, pc, (truth, by_event) = panels[design]
        fits[name] = {"effect": {"truth": truth, "truth_year3": by_event.get(3, float("nan")), **_fit(pf, c, level)},
                      "null": {"truth": 0.0, **_fit(pc, c, level)}}
    out.update(fits.pop(models[0]))
    if fits:
        out["models"] = fits
    out["seconds_generate"] = round(t_gen, 1)
    out["seconds_wall"] = round(time.perf_counter() - t0, 1)
    out["seconds_cpu"] = round(time.process_time() - c0, 1)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def _long(rows: list[dict]) -> pd.DataFrame:
    """One row per (seed, model, world) with the world's fields at top level.

    Rows written before models were named are ``open-municipality`` draws.
    """
    recs = []
    for r in rows:
        fits = {r.get("model", DEFAULT_MODEL): r, **r.get("models", {})}
        for model, fit in fits.items():
            for world in ("effect", "null"):
                recs.append({**{k: r.get(k, OLD_DEFAULTS.get(k)) for k in ("seed", "spillover_work_hr", *SD_KEYS)},
                         "model": model,
                             "null": world == "null", **fit[world]})
    return pd.DataFrame(recs)


def calibration(rows: list[dict]) -> pd.DataFrame:
    """Per setting of the municipality draws: the spread of estimate - truth and the width it implies.

    ``implied_width`` = 3.92 x RMS(estimate - truth) over the effect and the null draws: the
    width of a 95 % interval that has the estimator's actual spread over draws (the
    calibration target: the published 5.7 days +-30 %, i.e. 4.0-7.4). Beside it the median
    widths of the municipality-clustered, the person-clustered (published-method) and the
    placebo-t intervals.
    """
    out = []
    df = _long(rows)
    for key, g in df.groupby(["model", *SD_KEYS], dropna=False):
        err = g["estimate"] - g["truth"]
        rms = float(np.sqrt((err ** 2).mean()))
        k = len(g)
        seeds = g["seed"].nunique()
        out.append({**dict(zip(["model", *SD_KEYS], key)), "draws": k, "seeds": seeds, "rms_error": rms,
                    "implied_width": 3.92 * rms,
                    # delta method: SE of the RMS ~ RMS / sqrt(2m) for m independent normal errors;
                    # the effect and null draws of one seed share most of their error, so m is
                    # the number of seeds, not of draws
                    "implied_width_mc_se": 3.92 * rms / np.sqrt(2 * seeds),
                    **{f"median_{m}_width": (g[m].map(lambda d: d["conf_high"] - d["conf_low"]).median()
                                             if m in g and g[m].notna().all() else np.nan)
                       for m in ("cluster", "person-cluster", "placebo-t")},
                    "mean_truth_effect": g.loc[~g["null"], "truth"].mean(),
                    "mean_truth_year3": g.loc[~g["null"], "truth_year3"].mean(),
                    "bodo_person_years": g["bodo_person_years"].median()})
    return pd.DataFrame(out)


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean estimate vs truth, coverage and rejection (5 %) per method, with Monte Carlo errors."""
    out = []
    df = _long(rows)
    # the counterfactual registers do not depend on the effects (common random numbers), so
    # the null draws of every spill-over setting are draws of the same null world: pooled
    df.loc[df["null"], "spillover_work_hr"] = np.nan
    for (model, ysd, aap, null, hr), g in df.groupby(["model", "work_year_sd", "aap_entry_hr", "null",
                                                      "spillover_work_hr"], dropna=False):
        err = g["estimate"] - g["truth"]
        for m in [*METHODS, *(["person-cluster"] if "person-cluster" in g and g["person-cluster"].notna().all() else [])]:
            lo = g[m].map(lambda d: d["conf_low"])
            hi = g[m].map(lambda d: d["conf_high"])
            p = g[m].map(lambda d: d["p_value"])
            cover = ((lo <= g["truth"]) & (g["truth"] <= hi)).mean()
            width = (hi - lo).replace([np.inf, -np.inf], np.nan)
            k = len(g)
            out.append({"model": model, "work_year_sd": ysd, "aap_entry_hr": aap, "null": null, "spillover_work_hr": "any" if null else hr, "seeds": k, "method": m,
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
    ap.add_argument("--level-sd", type=float, default=None, help="health_level_sd (default: calibrated)")
    ap.add_argument("--work-level-sd", type=float, default=None, help="work_level_sd (default: calibrated)")
    ap.add_argument("--trend-sd", type=float, default=None, help="health_trend_sd (default: calibrated)")
    ap.add_argument("--aap-hr", type=float, default=None, help="aap_entry_hr (default: calibrated)")
    ap.add_argument("--persons", type=int, default=None)
    ap.add_argument("--models", default=DEFAULT_MODEL,
                    help=f"comma-separated models fitted on each draw, the first stored as effect/null ({', '.join(MODELS)})")
    ap.add_argument("--workers", type=int, default=1, help="local Dask workers (ips_study.parallel)")
    ap.add_argument("--out", default="benchmarks/results/published_design_calibrated.jsonl")
    ap.add_argument("--summary", default=None, help="print the summary of a results file and exit")
    ap.add_argument("--calibration", default=None, help="print the calibration table of a results file and exit")
    a = ap.parse_args(argv)
    if a.summary or a.calibration:
        path = Path(a.summary or a.calibration)
        rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        print(markdown((summary if a.summary else calibration)(rows)))
        return 0
    from ips_study.parallel import local_client, replicate
    from ips_study.synthetic.real_scale import published_geography

    geo = published_geography(a.sd, health_level_sd=a.level_sd, work_level_sd=a.work_level_sd,
                              health_trend_sd=a.trend_sd, aap_entry_hr=a.aap_hr)
    models = tuple(a.models.split(","))
    unknown = set(models) - set(MODELS)
    if unknown:
        ap.error(f"--models: unknown {', '.join(sorted(unknown))} (known: {', '.join(MODELS)})")
    setting = {**{k: getattr(geo, k) for k in SD_KEYS}, "model": models[0]}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    if out.exists():
        done = sum(1 for x in out.read_text().splitlines()
                   if x.strip() and all(json.loads(x).get(k, OLD_DEFAULTS.get(k)) == v for k, v in setting.items()))
    kw = dict(work_year_sd=a.sd, health_level_sd=a.level_sd, work_level_sd=a.work_level_sd,
              health_trend_sd=a.trend_sd, aap_entry_hr=a.aap_hr, persons=a.persons, models=models)
    client = local_client(a.workers) if a.workers > 1 else None
    try:
        c = client.__enter__() if client is not None else None
        b = done // a.batch
        while b * a.batch < a.seeds:
            rows = replicate(draw, a.batch, seed=a.seed + b, kwargs=kw, client=c)
            with open(out, "a") as fh:
                for r in rows:
                    fh.write(json.dumps(r) + "\n")
            print(f"batch {b}: effect {[round(r['effect']['estimate'], 2) for r in rows]} truth "
                  f"{[round(r['effect']['truth'], 2) for r in rows]} null {[round(r['null']['estimate'], 2) for r in rows]}"
                  f" wall {[r['seconds_wall'] for r in rows]} cpu {[r['seconds_cpu'] for r in rows]}", flush=True)
            b += 1
    finally:
        if client is not None:
            client.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
