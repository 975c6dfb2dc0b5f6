"""Size and coverage of the dthazard design's inference: cluster vs placebo in space (docs/survival.md).

The discrete-time hazard DiD (design ``dthazard``, cloglog on ``treated_post``) offers
``inference="cluster"`` (CR1 by index municipality, the default), ``"model"`` and
``"placebo"`` (placebo in space over the control municipalities,
:mod:`ips_study.designs.survival.placebo`). With one treated municipality the clustered SE
rests on one treated cluster; this script measures what that does, on the synthetic
register generator at the default size (60,000 persons, closed cohort, month panel):

* ``null``: ``Effects.null()`` — factual and counterfactual registers coincide, the true
  log hazard ratio is exactly 0; rejection rate of H0: 0 at 5 % (the size) and coverage.
* ``effect``: the default effects; coverage of the 95 % intervals of the true log hazard
  ratio of ``treated_post``, the intention-to-treat version of ``truth.json``'s
  ``hazard_ratio_ltbd_onset``
  (:func:`ips_study.synthetic.hazard_truth.itt_tte` / :func:`~ips_study.synthetic.hazard_truth.fit_itt`:
  the Bodø cohort's factual vs counterfactual post-period hazard, stacked Cox fit), pooled
  over the part's seeds; rejection of H0: 0 is the power.

Each seed's data feed all three inference methods (one estimate, three intervals), plus
``placebo_identified``: the same placebo draws without the control municipalities that have
no onset before ``ips_start`` (not identified; see ``one_seed``). Monte Carlo SEs are
binomial, ``sqrt(p (1 - p) / R)``. Results: docs/survival.md.

Run: ``nice -n 10 .venv/bin/python benchmarks/sim_dthazard_placebo.py`` (default: 25 seeds
per part, about 25 minutes of CPU; ``--seeds 2`` for a quick look; ``--workers 2`` spreads
the seeds over a local Dask cluster through :func:`ips_study.parallel.replicate`, seed
``first_seed + i`` for replication ``i`` whatever the number of workers). The per-seed rows are
appended to ``--out`` (JSON lines) after each part, and can be read back with ``--report``.
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

from ips_study.config import StudyConfig
from ips_study.designs.survival import build_tte, fit_dthazard_panel
from ips_study.designs.survival.placebo import placebo_table
from ips_study.panel import build_panel
from ips_study.parallel import local_client, replicate
from ips_study.simulate import replication_index
from ips_study.synthetic import DEFAULT_N_PERSONS, Effects, generate
from ips_study.synthetic.hazard_truth import cohort_panels, fit_itt, fit_stacked, itt_tte

CFG = StudyConfig(design="closed", freq="month")
INFERENCE = ("cluster", "model", "placebo")
#: rows of the table: the three options, and the placebo restricted to identified placebos
METHODS = INFERENCE + ("placebo_identified",)
LEVEL = 0.95


def one_seed(seed: int, part: str, n: int) -> tuple[dict, pd.DataFrame | None]:
    """The dthazard fits of one seed and, for ``effect``, the seed's stacked ITT episodes."""
    effects = Effects.null() if part == "null" else Effects()
    t0 = time.process_time()
    d = generate(n, seed=seed, effects=effects)
    panel = build_panel(d.registers, CFG, freq="month")
    row: dict = {"part": part, "seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the few-clusters note is the point of this study
        for inf in INFERENCE:
            r = fit_dthazard_panel(panel, config=CFG, inference=inf)
            lo, hi = r.conf_int(LEVEL).loc[r.main_term]
            row.update({"estimate": r.estimate, f"se_{inf}": r.std_error, f"p_{inf}": r.p_value,
                        f"lo_{inf}": float(lo), f"hi_{inf}": float(hi)})
    row["n_events"] = r.extras["n_events"]
    row["n_placebos"] = r.extras["n_placebos"]
    # The library keeps a placebo municipality with onsets after ips_start but none before
    # it; its municipality effect then runs to -inf and its treated_post coefficient to about
    # +25 (monotone likelihood), which sets the rank interval's width. "placebo_identified"
    # drops those, as the cox placebo's identification rule does (each fit is separate, so
    # this equals rerunning without them).
    draws = pd.Series(r.extras["placebo_estimates"], dtype=float)
    pre = pre_period_onsets(panel)
    keep = draws[[pre.get(code, 0) > 0 for code in draws.index]]
    pt = placebo_table(row["estimate"], keep, LEVEL)
    row.update({"se_placebo_identified": pt["std_error"], "p_placebo_identified": pt["p_value"],
                "lo_placebo_identified": pt["conf_low"], "hi_placebo_identified": pt["conf_high"],
                "n_placebos_identified": pt["n_placebos"],
                "placebo_draws": {k: float(v) for k, v in draws.items()},
                "pre_onsets": {k: int(v) for k, v in pre.items()}})
    tte = None
    if part == "effect":
        tte = itt_tte(*cohort_panels(d, CFG), CFG)
        tte["person_id"] = f"{seed}:" + tte["person_id"]
        try:                       # the seed's own truth (noisy; the pooled one is the target)
            own = fit_itt(tte)
            row["truth_own"], row["truth_own_se"] = own.log_hr, own.std_error
        except ValueError:
            row["truth_own"] = row["truth_own_se"] = np.nan
    row["cpu_s"] = time.process_time() - t0
    return row, tte


def pre_period_onsets(panel: pd.DataFrame) -> pd.Series:
    """Onsets before ``ips_start`` per index municipality (the dthazard cluster)."""
    tte = build_tte(panel, CFG)
    ips = CFG.ips_start.year * 12 + CFG.ips_start.month - 1
    ev = tte[tte["event"] == 1]
    month = ev["origin_month"] + ev["stop"] - 1           # episode (start, stop]: last month
    return ev[month.to_numpy() < ips].groupby("cluster").size()


def summarise(tab: pd.DataFrame, truth: float) -> pd.DataFrame:
    """Rejection of H0: 0 and coverage of ``truth`` per inference method, with MC SEs."""
    R = len(tab)
    out = []
    for inf in METHODS:
        rej = (tab[f"p_{inf}"] <= 1 - LEVEL).to_numpy()
        cov = ((tab[f"lo_{inf}"] <= truth) & (truth <= tab[f"hi_{inf}"])).to_numpy()
        width = (tab[f"hi_{inf}"] - tab[f"lo_{inf}"]).to_numpy()
        out.append({"inference": inf, "reps": str(R),
                    "reject_5pct": rej.mean(), "mc_se_reject": np.sqrt(rej.mean() * (1 - rej.mean()) / R),
                    "coverage_95": cov.mean(), "mc_se_cover": np.sqrt(cov.mean() * (1 - cov.mean()) / R),
                    "median_width": float(np.median(width)),
                    "mean_se": tab[f"se_{inf}"].mean()})
    return pd.DataFrame(out).set_index("inference")


def report(rows: list[dict], truth: dict[str, float]) -> None:
    tab = pd.DataFrame(rows)
    for part in ("null", "effect"):
        t = tab[tab["part"] == part].drop_duplicates("seed", keep="last").set_index("seed")
        if t.empty:
            continue
        tr = truth.get(part, 0.0)
        dev = t["estimate"] - tr
        print(f"\n[{part}] {len(t)} seeds x {DEFAULT_N_PERSONS:,} persons; true log HR of treated_post "
              f"{tr:+.3f}; mean estimate - truth {dev.mean():+.3f} (MC SE "
              f"{dev.std(ddof=1) / np.sqrt(len(dev)):.3f}); SD of estimates {t['estimate'].std(ddof=1):.3f}; "
              f"placebos per seed {int(t['n_placebos'].min())}-{int(t['n_placebos'].max())} "
              f"(identified {int(t['n_placebos_identified'].min())}-{int(t['n_placebos_identified'].max())}); "
              f"onsets per seed {int(t['n_events'].median())} (median); CPU {t['cpu_s'].sum():.0f} s")
        with pd.option_context("display.width", 200, "display.precision", 3):
            print(summarise(t, tr).to_markdown(floatfmt=".3f"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["null", "effect"], choices=["null", "effect"])
    ap.add_argument("--seeds", type=int, default=25)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--persons", type=int, default=DEFAULT_N_PERSONS)
    ap.add_argument("--out", type=Path, default=Path("/tmp/sim_dthazard_placebo.jsonl"))
    ap.add_argument("--report", action="store_true", help="only summarise the rows in --out")
    ap.add_argument("--workers", type=int, default=0,
                    help="local Dask workers (0: in this process); the numbers do not change")
    a = ap.parse_args()
    truth: dict[str, float] = {"null": 0.0}
    if a.report:
        rows = [json.loads(x) for x in a.out.read_text().splitlines()]
        truth.update({r["part"]: r["truth"] for r in rows if "truth" in r})
        cached = sorted(a.out.parent.glob(f"{a.out.stem}.effect.tte*.parquet"))
        if "effect" not in truth and cached:
            truth["effect"] = pooled_truth([pd.read_parquet(f) for f in cached], "effect", a.out)
        report([r for r in rows if "seed" in r], truth)
        return
    if a.out.exists():
        a.out.unlink()
    pool = local_client(a.workers) if a.workers else contextlib.nullcontext(None)
    with pool as client:
        _run(a, truth, client)


def _seed(rng, first_seed: int, part: str, n: int) -> tuple[dict, pd.DataFrame | None]:
    """Replication ``i`` (index read from its own stream): generator seed ``first_seed + i``."""
    return one_seed(first_seed + replication_index(rng), part, n)


def _run(a, truth: dict[str, float], client) -> None:
    rows = []
    for part in a.parts:
        ttes = []
        # every seed through Dask (replicate); rows are written in seed order afterwards
        done = replicate(_seed, a.seeds, seed=a.first_seed, client=client,
                         args=(a.first_seed, part, a.persons))
        for s, (row, tte) in zip(range(a.first_seed, a.first_seed + a.seeds), done):
            rows.append(row)
            with a.out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            if tte is not None:
                ttes.append(tte)
                # kept beside the rows, so --report can pool the truth of an interrupted run
                tte.to_parquet(a.out.with_name(f"{a.out.stem}.{part}.tte{s}.parquet"))
            print(f"# {part} seed {s}: estimate {row['estimate']:+.3f}, SE cluster {row['se_cluster']:.3f}, "
                  f"placebo {row['se_placebo']:.3f}, p cluster/placebo/identified {row['p_cluster']:.3f}/"
                  f"{row['p_placebo']:.3f}/{row['p_placebo_identified']:.3f} ({row['cpu_s']:.0f} s CPU)",
                  flush=True)
        if ttes:
            truth[part] = pooled_truth(ttes, part, a.out)
    report(rows, truth)


def pooled_truth(ttes: list[pd.DataFrame], part: str, out: Path) -> float:
    """The ITT truth pooled over the seeds' stacked episodes (printed and appended to ``out``)."""
    pooled = pd.concat(ttes, ignore_index=True)
    t = fit_itt(pooled)
    # the exposure truth of truth.json's hazard_ratio_ltbd_onset (cox's estimand), for comparison
    exp = fit_stacked(pooled.assign(exposed=pooled["exposed_current"],
                                    ips_effect=pooled["exposed_current"] * pooled["world"]))
    print(f"# pooled ITT truth over {len(ttes)} seeds: log HR {t.log_hr:+.3f} (SE {t.std_error:.3f}), "
          f"HR {t.hazard_ratio:.3f}; exposure truth (cox's estimand) {exp.log_hr:+.3f} "
          f"(SE {exp.std_error:.3f})")
    with out.open("a") as f:
        f.write(json.dumps({"part": part, "truth": t.log_hr, "truth_se": t.std_error,
                            "exposure_truth": exp.log_hr, "exposure_truth_se": exp.std_error}) + "\n")
    return t.log_hr


if __name__ == "__main__":
    main()
