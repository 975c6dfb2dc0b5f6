"""The true effects of IPS in the synthetic registers (``truth.json``): one per estimand.

With an open population (each period, the people who meet the target rule then) IPS
changes who is in the target group, so "the effect" has several meanings. Every one is
computed from the factual and counterfactual registers of the same simulated people (common
random numbers), with the package's own panel code, for every outcome of data contract, section 4:

* ``att`` (:func:`panel_truth`): factual minus counterfactual outcomes of the same people
  over the post-period person-years of the treated municipality's *factual* target group
  (data contract, section 5; kept, same meaning, for compatibility). No design compares these people
  with themselves: it is not what the designs below identify.
* ``att_population`` (:func:`population_truth`): the open-population estimand
  ``E[Y(1) | target with IPS] - E[Y(0) | target without IPS]`` per post year, years weighted
  by the factual person-years: the effect on the target-group mean, composition included.
  Identified by the DiD on municipality x period means (``att_population_year_mean``, each
  year weighted equally, by synthetic control and synthetic DiD).
* ``att_cohort`` (:func:`cohort_truth`): intention-to-treat effect on the closed cohort
  (target group at ``config.baseline_date``, by baseline municipality), factual minus
  counterfactual of the same person-years. Identified by the closed-cohort DiD.
* ``hazard_ratio_ltbd_onset`` (:func:`.hazard_truth.implied_hazard_ratio`): the true log
  hazard ratio of exposure for the Cox design; ``None`` when the population is too small.
* ``staggered`` (:func:`staggered_cells`, :func:`aggregate_cells`): the open-population
  truth per adopting municipality and period from the period containing its IPS start, and
  its Callaway-Sant'Anna simple and dynamic aggregations.

Overall, by year of exposure (event time) and per later-adopting municipality (kommune).
:func:`direct_truth` gives all three straight from the simulated monthly states (month-level
membership, whole months): the cheap version for large populations and for simulations.

Example
-------
>>> OUTCOMES[:3]
('disability', 'work_assessment', 'sickness')
>>> sorted(ESTIMANDS)
['att', 'att_cohort', 'att_population', 'hazard_ratio_ltbd_onset', 'staggered']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..registers.registerset import subset_registers
# the monthly-states truth lives in .direct
from .direct import OUTCOMES, direct_truth


# -- truth from the package's panel code --------------------------------------------------
def _treated_post(registers, config, ids: set[str] | None = None) -> pd.DataFrame:
    """Target-group panel rows of ``config.treated_municipality`` from its IPS start on."""
    from ..panel import build_panel

    if ids is None:
        res = registers["residence"]
        ids = set(res.loc[res["municipality"] == config.treated_municipality, "person_id"])
    p = build_panel(subset_registers(registers, ids), config, restrict_to_target=True)
    return p[(p["treated"] == 1) & (p["post"] == 1)]


def _by_event_time(diff: pd.DataFrame, outcomes: list[str]) -> dict:
    by = diff.groupby("event_time")
    return {o: {str(int(k)): float(v) for k, v in by[o].mean().items()} for o in outcomes}


def _matched_diff(fp: pd.DataFrame, counterfactual, config) -> pd.DataFrame:
    """Factual minus counterfactual outcomes of the same person-periods (rows of ``fp``)."""
    from ..panel import build_panel

    cp = build_panel(subset_registers(counterfactual, set(fp["person_id"])), config,
                     restrict_to_target=False)
    outcomes = [o for o in OUTCOMES if o in fp.columns and o in cp.columns]
    m = fp[["person_id", "period", "event_time", *outcomes]].merge(
        cp[["person_id", "period", *outcomes]], on=["person_id", "period"], how="left",
        suffixes=("", "_cf"), validate="one_to_one")
    missing = int(m[f"{outcomes[0]}_cf"].isna().sum())
    if missing:
        raise RuntimeError(f"{missing} factual person-periods have no counterfactual row")
    diff = pd.DataFrame({o: m[o] - m[f"{o}_cf"] for o in outcomes})
    diff["event_time"] = m["event_time"].to_numpy()
    return diff


def panel_truth(factual, counterfactual, config) -> dict[str, Any]:
    """``att``: factual minus counterfactual outcomes of the factual target group's person-periods.

    Factual panel: target group (``restrict_to_target=True``), rows with ``treated == 1``
    and ``post == 1``. Counterfactual panel: the same people without target restriction.
    The two are merged on ``(person_id, period)``; IPS never changes residence or death, so
    every factual row has its counterfactual.
    """
    fp = _treated_post(factual, config)
    diff = _matched_diff(fp, counterfactual, config)
    outcomes = [o for o in OUTCOMES if o in diff.columns]
    return {
        "att": {o: float(diff[o].mean()) for o in outcomes},
        "by_event_time": _by_event_time(diff, outcomes),
        "n_person_periods": int(len(diff)),
        "n_treated_persons": int(fp["person_id"].nunique()),
    }


def population_truth(factual, counterfactual, config) -> dict[str, Any]:
    """``att_population``: target-group mean with IPS minus target-group mean without IPS.

    The open-population estimand ``E[Y(1) | target in the factual world] - E[Y(0) | target
    in the counterfactual world]`` per post period of ``config.treated_municipality``: the
    effect of IPS on the municipality's target-group mean, change of composition included
    (IPS keeps people off disability pension, so they stay in the target group). Event years
    are averaged with the factual target group's person-periods as weights, like ``att``.
    """
    fp = _treated_post(factual, config)
    cp = _treated_post(counterfactual, config)
    outcomes = [o for o in OUTCOMES if o in fp.columns]
    mf, mc = fp.groupby("event_time")[outcomes].mean(), cp.groupby("event_time")[outcomes].mean()
    gap = (mf - mc).dropna()
    w = fp["event_time"].value_counts().reindex(gap.index).to_numpy(float)
    return {
        "att_population": {o: float(gap[o].to_numpy() @ w / w.sum()) if w.sum() else 0.0 for o in outcomes},
        # synthetic control and synthetic DiD average their post-period gaps with equal weights
        "att_population_year_mean": {o: float(gap[o].mean()) if len(gap) else 0.0 for o in outcomes},
        "by_event_time_population": {o: {str(int(k)): float(v) for k, v in gap[o].items()} for o in outcomes},
        "n_person_periods_counterfactual": int(len(cp)),
    }


def cohort_truth(factual, counterfactual, config) -> dict[str, Any]:
    """``att_cohort``: intention-to-treat effect on the closed cohort of ``config.baseline_date``.

    The cohort is the target group at the baseline date (before any IPS start, so the same
    people in both worlds), assigned to its baseline municipality and followed every window
    month it is alive and resident in Norway; the truth is factual minus counterfactual of
    the same person-periods, post period of the baseline municipality.
    """
    ccfg = config.replace(design="closed")
    fp = _treated_post(factual, ccfg)
    diff = _matched_diff(fp, counterfactual, ccfg)
    outcomes = [o for o in OUTCOMES if o in diff.columns]
    if diff.empty:
        return {"att_cohort": {o: 0.0 for o in outcomes}, "by_event_time_cohort": {o: {} for o in outcomes},
                "n_cohort_person_periods": 0, "n_cohort_persons": 0}
    return {
        "att_cohort": {o: float(diff[o].mean()) for o in outcomes},
        "by_event_time_cohort": _by_event_time(diff, outcomes),
        "n_cohort_person_periods": int(len(diff)),
        "n_cohort_persons": int(fp["person_id"].nunique()),
    }


def estimand_truth(factual, counterfactual, config) -> dict[str, Any]:
    """:func:`panel_truth`, :func:`population_truth` and :func:`cohort_truth` in one dict.

    Costs three panel builds of the people ever resident in the treated municipality (a few
    seconds for Bodø in the default data): cheap enough to call once per replication of a
    simulation. :func:`direct_truth` is cheaper still.

    >>> from ips_study.config import StudyConfig; from ips_study.synthetic import generate  # doctest: +SKIP
    >>> d = generate(3000, seed=1)                                                          # doctest: +SKIP
    >>> estimand_truth(d.registers, d.counterfactual, StudyConfig())["att_population"]      # doctest: +SKIP
    """
    return {**panel_truth(factual, counterfactual, config),
            **population_truth(factual, counterfactual, config),
            **cohort_truth(factual, counterfactual, config)}


def staggered_cells(factual, counterfactual, config) -> list[dict[str, Any]]:
    """Open-population truth per adopting municipality and calendar period (staggered design).

    On the ``scope="all"`` target panels of both worlds (the panel the staggered design
    fits), one cell per municipality with an IPS start in the window and every period that
    contains IPS (from the period of its start, partial first period included: the
    group of the Callaway-Sant'Anna design). ``weight`` is the municipality's mean
    population at risk over all periods (the design's ``weight_by_population`` weight).
    """
    from ..panel import aggregate_panel, build_panel

    fp = build_panel(factual, config, scope="all")
    cp = build_panel(counterfactual, config, scope="all")
    outcomes = [o for o in OUTCOMES if o in fp.columns]
    weight = aggregate_panel(fp).groupby("municipality")["n_persons"].mean()
    cells = []
    for world, p in (("f", fp), ("c", cp)):
        freq = "Y" if len(str(p["period"].iloc[0])) == 4 else "M"
        started = p["ips_start"].dt.to_period(freq) <= p["period_start"].dt.to_period(freq)
        keep = p["ips_start"].notna() & started & (p["ips_start"] <= config.window_end)
        cells.append(p[keep].groupby(["municipality", "period"], observed=True)[outcomes].mean())
    mf, mc = cells
    n = fp.groupby(["municipality", "period"], observed=True).size()
    first = fp.groupby("municipality", observed=True)["ips_start"].first()
    gap = (mf - mc).dropna()
    out = []
    for (code, period), row in gap.iterrows():
        start = pd.Timestamp(first[code])
        out.append({"municipality": str(code), "ips_start": start.strftime("%Y-%m"), "period": str(period),
                    "n_person_periods": int(n[(code, period)]), "weight": float(weight[code]),
                    "att_population": {o: float(row[o]) for o in outcomes}})
    return out


def aggregate_cells(cells: list[dict[str, Any]], outcome: str, kind: str = "simple") -> float:
    """Aggregate :func:`staggered_cells` as Callaway-Sant'Anna do their ATT(g,t).

    ``simple``: every (municipality, period) cell weighted by the municipality's population
    weight (group size); ``dynamic``: population-weighted mean per event period (periods
    since the group's first period), then the plain mean over event periods.

    >>> cells = [{"municipality": "a", "ips_start": "2014-03", "period": "2014", "weight": 1.0,
    ...           "att_population": {"y": 1.0}},
    ...          {"municipality": "a", "ips_start": "2014-03", "period": "2015", "weight": 1.0,
    ...           "att_population": {"y": 3.0}}]
    >>> aggregate_cells(cells, "y"), aggregate_cells(cells, "y", "dynamic")
    (2.0, 2.0)
    """
    if not cells:
        return float("nan")
    att = np.array([c["att_population"][outcome] for c in cells])
    w = np.array([c["weight"] for c in cells])
    if kind == "simple":
        return float(att @ w / w.sum())
    if kind != "dynamic":
        raise ValueError("kind must be 'simple' or 'dynamic'")
    first = {}
    for c in cells:
        first[c["municipality"]] = min(first.get(c["municipality"], c["period"]), c["period"])
    e = np.array([_period_gap(first[c["municipality"]], c["period"]) for c in cells])
    return float(np.mean([att[e == k] @ w[e == k] / w[e == k].sum() for k in np.unique(e)]))


def _period_gap(a: str, b: str) -> int:
    if len(a) == 4:
        return int(b) - int(a)
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])


#: what each estimand of ``truth.json`` is and which design identifies it (docs/designs.md)
ESTIMANDS = {
    "att": ("factual minus counterfactual outcomes of the same people over the post-period "
            "person-years of the treated municipality's target group as it is with IPS (data "
            "contract, docs/data_contract.md, section 5). With an open population IPS changes "
            "who is in the target group, so no design compares these people with themselves; "
            "kept for compatibility"),
    "att_population": ("open population: target-group mean with IPS minus target-group mean "
                       "without IPS (each world's own target group), per post year, years "
                       "weighted by the factual person-years. Identified by the difference-in-"
                       "differences, synthetic control and synthetic DiD on the open-population panel"),
    "att_cohort": ("closed cohort: intention-to-treat effect on the target group at the baseline "
                   "date (2012-01), by baseline municipality, factual minus counterfactual of the "
                   "same person-years. Identified by the DiD on the closed-cohort panel"),
    "staggered": ("open-population truth per adopting municipality and calendar year from the year "
                  "IPS starts (cells), and its Callaway-Sant'Anna simple (population-weighted cells) "
                  "and dynamic aggregations, as the staggered design reports them"),
    "hazard_ratio_ltbd_onset": ("closed cohort: log hazard ratio of IPS on exposed person-time for the "
                                "onset of long-term benefit dependence, factual vs counterfactual "
                                "world of the treated municipality's cohort, stacked Cox fit "
                                "stratified by exposure (hazard_truth.implied_hazard_ratio). "
                                "Identified by the Cox design (time-varying exposure)"),
}


def _hazard_truth(data, cfg) -> dict[str, Any] | None:
    """True log hazard ratio of exposure for the Cox design (:mod:`.hazard_truth`), or None.

    None when the population is too small for the stacked Cox fit (no onset in one world).
    """
    from .hazard_truth import implied_hazard_ratio

    try:
        return implied_hazard_ratio(data, cfg).to_dict()
    except ValueError:
        return None


def compute_truth(data) -> dict[str, Any]:
    """The ``truth.json`` dict of a :class:`~ips_study.synthetic.generate.SyntheticData`."""
    from ..config import StudyConfig

    geo = data.registers["municipalities"]
    cfg = StudyConfig()
    out: dict[str, Any] = {
        "estimand": ("average effect of IPS on the treated: post-period person-years of the treated "
                     "municipality's target group (data contract, docs/data_contract.md, sections "
                     "3-5), factual minus counterfactual potential outcomes with common random "
                     "numbers"),
        "estimands": ESTIMANDS,
        "seed": data.seed,
        "n_persons": data.n_persons,
        "treated_municipality": cfg.treated_municipality,
        "ips_start": cfg.ips_start.strftime("%Y-%m"),
        "baseline_date": cfg.baseline_date.strftime("%Y-%m"),
        "freq": cfg.freq,
        "effects": data.effects.to_dict(),
        "effects_meaning": {
            "job_hazard": "extra monthly hazard of starting work while in an active IPS episode",
            "work_exit_hr": "hazard ratio of leaving work while in an active IPS episode",
            "health_benefit_hr": ("hazard ratio of entering work assessment allowance or disability "
                                  "pension while in an active IPS episode"),
        },
    }
    try:
        import ips_study.panel  # noqa: F401
        have_panel = True
    except ImportError:
        have_panel = False
    if have_panel:
        out["method"] = "panel"
        out.update(estimand_truth(data.registers, data.counterfactual, cfg))
        by_muni = {}
        for _, row in geo[geo["ips_start"].notna()].iterrows():
            code = row["municipality"]
            if code == cfg.treated_municipality or row["ips_start"] > cfg.window_end:
                continue
            mcfg = cfg.replace(treated_municipality=code, ips_start=pd.Timestamp(row["ips_start"]))
            res = panel_truth(data.registers, data.counterfactual, mcfg)
            if res["n_person_periods"] == 0:
                continue
            res.update(population_truth(data.registers, data.counterfactual, mcfg))
            res.update(cohort_truth(data.registers, data.counterfactual, mcfg))
            by_muni[code] = {"ips_start": row["ips_start"].strftime("%Y-%m"), **res}
        out["by_municipality"] = by_muni
        out["hazard_ratio_ltbd_onset"] = _hazard_truth(data, cfg)
        cells = staggered_cells(data.registers, data.counterfactual, cfg)
        outcomes = list(out["att"])
        out["staggered"] = {
            "att_simple": {o: aggregate_cells(cells, o, "simple") for o in outcomes},
            "att_dynamic": {o: aggregate_cells(cells, o, "dynamic") for o in outcomes},
            "cells": cells,
        }
    else:
        main = direct_truth(data.direct, cfg.treated_municipality)
        out["method"] = "monthly_states"
        out.update(main)
        out["by_municipality"] = {
            code: {"ips_start": geo.loc[geo["municipality"] == code, "ips_start"].iloc[0].strftime("%Y-%m"),
                   **direct_truth(data.direct, code)}
            for code in sorted(data.direct) if code != cfg.treated_municipality}
    direct = direct_truth(data.direct, cfg.treated_municipality)
    out["direct_monthly"] = direct["att"]
    out["direct_monthly_population"] = direct.get("att_population")
    out["direct_monthly_cohort"] = direct.get("att_cohort")
    return out
