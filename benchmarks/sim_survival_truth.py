"""Does the study's Cox model recover the true hazard ratio of IPS? (numbers in docs/survival.md)

Three parts, each printing a small table:

1. ``participant``: the generator-to-model chain without dilution. Every eligible Bodø
   resident is referred (:func:`~ips_study.synthetic.hazard_truth.everyone_referred`), the
   job specialist's job clock is off (``job_hazard=0``), and the hazard ratio of entering
   work assessment allowance / disability pension in active IPS months (factual vs
   counterfactual world) is compared with ``health_benefit_hr`` = 0.7.
2. ``default``: the truth of the study's Cox estimand (:func:`implied_hazard_ratio`) for the
   default seed, pooled over ``--truth-persons`` simulated people (chunk 0 is the default
   60,000-person data), next to the study's Cox estimate on the default data.
3. ``coverage``: ``--seeds`` seeds of the default size; per seed the study's Cox estimate
   (Bodø vs controls, time-varying exposure) with model, person-robust and
   municipality-cluster SEs and the placebo-in-space interval (the design's
   ``inference="placebo"``: each control municipality in turn as the treated one), and the
   truth pooled over all seeds; coverage of the 95 % intervals.

Run: ``nice -n 10 .venv/bin/python benchmarks/sim_survival_truth.py`` (one process; on the
loaded shared machine about 10 + 11 + 12 minutes for the three parts, the last now shorter
since the placebo interval comes from the ``cox`` design's own option instead of a loop of
full refits — same half-widths, to 1e-12, on seeds 1-3; the second block of seeds in
docs/survival.md is ``--parts coverage --first-seed 11``; ``--parts coverage --seeds 3`` for
a quick look).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig
from ips_study.designs.survival import fit_cox_panel
from ips_study.panel import build_panel
from ips_study.synthetic import DEFAULT_N_PERSONS, DEFAULT_SEED, Effects, generate
from ips_study.synthetic.hazard_truth import (cohort_panels, everyone_referred, fit_stacked,
                                              iter_worlds, participant_hazard_ratio, stacked_tte)

CFG = StudyConfig(design="closed", freq="month")
INFERENCE = ("model", "robust", "cluster")


def study_estimates(registers, placebo: bool = False) -> dict[str, float]:
    """The study's Cox estimate with each SE; with ``placebo``, the placebo-in-space interval.

    The placebo half-width is the ``cox`` design's own option (``inference="placebo"``,
    :mod:`ips_study.designs.survival.placebo`): each control municipality in turn plays Bodø
    (IPS from 2013-01) in the controls-only cohort, and ``estimate +/- h`` inverts the rank
    test of the identified placebo coefficients.
    """
    panel = build_panel(registers, CFG, freq="month")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the few-clusters note is the point of this study
        for inf in INFERENCE + (("placebo",) if placebo else ()):
            r = fit_cox_panel(panel, config=CFG, inference=inf)
            out["estimate"] = r.estimate
            if inf == "placebo":
                out["placebo_h"] = r.extras["placebo_half_width"]
                out["n_placebo"] = r.extras["n_placebos"]
            else:
                out[f"se_{inf}"] = r.std_error
    out["n_events"] = r.extras["n_events"]
    return out


def part_participant(n: int, seed: int) -> None:
    t0 = time.time()
    with everyone_referred():
        t = participant_hazard_ratio(iter_worlds(n, seed=seed, effects=Effects(job_hazard=0.0)))
    lo, hi = t.conf_int()
    print(f"\n[participant] {n:,} persons, seed {seed}, everyone eligible referred, job_hazard=0 "
          f"({time.time() - t0:.0f} s)")
    print(f"participants {t.n_persons:,}, at-risk months {t.n_rows:,}, entries factual/counterfactual "
          f"{t.n_events['factual']}/{t.n_events['counterfactual']}")
    print(f"hazard ratio {t.hazard_ratio:.3f} (95% CI {np.exp(lo):.3f}-{np.exp(hi):.3f}); "
          f"generator health_benefit_hr 0.7, log {np.log(0.7):.3f} vs {t.log_hr:.3f} (SE {t.std_error:.3f})")


def part_default(n: int) -> None:
    t0 = time.time()
    ttes = []
    for i, w in enumerate(iter_worlds(n, seed=DEFAULT_SEED)):
        ttes.append(stacked_tte(*cohort_panels(w, CFG), CFG).assign(
            person_id=lambda d, i=i: f"{i}:" + d["person_id"]))
        if i == 0:
            est = study_estimates(w.registers, placebo=True)
            first = fit_stacked(ttes[0])
    truth = fit_stacked(pd.concat(ttes, ignore_index=True))
    print(f"\n[default] seed {DEFAULT_SEED}: truth pooled over {n:,} persons ({time.time() - t0:.0f} s)")
    print(f"truth log HR {truth.log_hr:.3f} (SE {truth.std_error:.3f}), HR {truth.hazard_ratio:.3f}; "
          f"cohort persons {truth.n_persons:,}, onsets factual/counterfactual "
          f"{truth.n_events['factual']}/{truth.n_events['counterfactual']}, exposed share of "
          f"factual time {truth.exposed_share:.2f}")
    print(f"truth on the default {DEFAULT_N_PERSONS:,} persons alone: {first.log_hr:.3f} (SE {first.std_error:.3f})")
    print(f"study Cox on the default data: {est['estimate']:.3f}, SE model {est['se_model']:.3f}, "
          f"robust {est['se_robust']:.3f}, cluster {est['se_cluster']:.3f} "
          f"({est['n_events']} onsets)")
    for inf in INFERENCE:
        z = (est["estimate"] - truth.log_hr) / est[f"se_{inf}"]
        print(f"  {inf:7s}: (estimate - truth) / SE = {z:+.2f}, covered: {abs(z) < 1.96}")
    h = est["placebo_h"]
    print(f"  placebo: interval {est['estimate'] - h:.3f} to {est['estimate'] + h:.3f} "
          f"({est['n_placebo']} placebo municipalities), covered: {abs(est['estimate'] - truth.log_hr) <= h}")


def part_coverage(seeds: list[int], n: int) -> None:
    t0 = time.time()
    rows, ttes = [], []
    for s in seeds:
        d = generate(n, seed=s)
        tte = stacked_tte(*cohort_panels(d, CFG), CFG)
        tte["person_id"] = f"{s}:" + tte["person_id"]
        ttes.append(tte)
        try:
            own = fit_stacked(tte)
            own = (own.log_hr, own.std_error)
        except ValueError:      # too few onsets in one world's exposed time of this seed alone
            own = (np.nan, np.nan)
        rows.append({"seed": s, **study_estimates(d.registers, placebo=True), "truth_own": own[0],
                     "truth_own_se": own[1]})
        del d
    truth = fit_stacked(pd.concat(ttes, ignore_index=True))
    tab = pd.DataFrame(rows).set_index("seed")
    print(f"\n[coverage] {len(seeds)} seeds x {n:,} persons ({time.time() - t0:.0f} s); truth pooled "
          f"over seeds: log HR {truth.log_hr:.3f} (SE {truth.std_error:.3f}), HR {truth.hazard_ratio:.3f}")
    for inf in INFERENCE:
        tab[f"cover_{inf}"] = (tab["estimate"] - truth.log_hr).abs() < 1.96 * tab[f"se_{inf}"]
    tab["cover_placebo"] = (tab["estimate"] - truth.log_hr).abs() <= tab["placebo_h"]
    cols = ["estimate", "se_model", "se_robust", "se_cluster", "placebo_h", "n_placebo", "truth_own",
            "truth_own_se", "n_events"] + [c for c in tab.columns if c.startswith("cover_")]
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        print(tab[cols])
    dev = tab["estimate"] - truth.log_hr
    print(f"mean estimate {tab['estimate'].mean():.3f}, mean - truth {dev.mean():+.3f} "
          f"(MC SE {dev.std(ddof=1) / np.sqrt(len(dev)):.3f}); SD of estimates {tab['estimate'].std(ddof=1):.3f} "
          f"vs mean SE model {tab['se_model'].mean():.3f}, robust {tab['se_robust'].mean():.3f}, "
          f"cluster {tab['se_cluster'].mean():.3f}")
    print("coverage of the 95% interval: " + ", ".join(
        f"{inf} {tab[f'cover_{inf}'].mean():.2f}" for inf in (*INFERENCE, "placebo")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["participant", "default", "coverage"])
    ap.add_argument("--participant-persons", type=int, default=360_000)
    ap.add_argument("--truth-persons", type=int, default=600_000)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--persons", type=int, default=DEFAULT_N_PERSONS)
    a = ap.parse_args()
    if "participant" in a.parts:
        part_participant(a.participant_persons, seed=1)
    if "default" in a.parts:
        part_default(a.truth_persons)
    if "coverage" in a.parts:
        part_coverage(list(range(a.first_seed, a.first_seed + a.seeds)), a.persons)


if __name__ == "__main__":
    main()
