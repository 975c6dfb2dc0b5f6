"""The true effect of IPS in the synthetic registers (``truth.json``).

Estimand (SPEC section 5): the average effect on the treated over the post-period
person-years of the treated municipality's target group, for every SPEC section 4 outcome,
overall and by year of exposure (event time), and for each later-adopting municipality on
its own post period (staggered adoption).

:func:`compute_truth` runs the package's own panel code on the factual registers (target
group, treated municipality, post period) and on the counterfactual registers of the same
people without the target restriction, merges on (person, period) and averages the
differences; common random numbers make this the exact effect for the simulated people.
:func:`direct_truth` is a fast approximation straight from the simulated monthly states
(month-level target membership, whole-month outcomes) used for populations too large to
hold in memory and as a cross-check.

Example
-------
>>> OUTCOMES[:3]
('disability', 'work_assessment', 'sickness')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .population import Calendar, Population
from .spells import is_ips_job, job_fte
from .states import AAP, DP, QUAL, SA, SICK, UNEMP

OUTCOMES = ("disability", "work_assessment", "sickness", "unemployment", "social_assistance",
            "qualification", "health_benefit", "any_benefit", "employed", "workdays",
            "benefit_months", "ltbd")
#: the default study window ends in 2019 (SPEC section 3)
WINDOW_END_YEAR = 2019
_STATE_OUTCOME = {"disability": (DP,), "work_assessment": (AAP,), "sickness": (SICK,),
                  "unemployment": (UNEMP,), "social_assistance": (SA,), "qualification": (QUAL,),
                  "health_benefit": (DP, AAP, SICK),
                  "any_benefit": (DP, AAP, SICK, UNEMP, SA, QUAL)}


# -- direct truth from the monthly states ------------------------------------------------
def _cell_outcomes(state, job, shared_u, mh_class, weekdays, pi, ti, ips_job_t=None) -> dict[str, np.ndarray]:
    st = state[pi, ti]
    out = {name: np.isin(st, codes).astype(np.float64) for name, codes in _STATE_OUTCOME.items()}
    jb = job[pi, ti].astype(np.int64)
    out["employed"] = (jb > 0).astype(np.float64)
    fte = job_fte(shared_u[pi, np.maximum(jb - 1, 0)], mh_class[pi], is_ips_job(pi, jb - 1, ips_job_t))
    # whole-month approximation of FTE-weighted weekdays, summed to a person-year
    out["workdays"] = np.where(jb > 0, fte / 100.0, 0.0) * weekdays[ti] * 12.0
    return out


def direct_truth_parts(pop: Population, health, paths, cal: Calendar, ctx, geo: pd.DataFrame) -> dict:
    """Sums of factual minus counterfactual outcomes over target person-months of one chunk."""
    n, T = paths.state.shape
    nxt = (cal.month_start.astype("datetime64[M]") + 1).astype("datetime64[D]")
    weekdays = np.busday_count(cal.month_start, nxt).astype(np.float64)
    ips_t = np.append(ctx.ips_start_t, 10**9)  # index -1 (absent) never has IPS
    t_idx = np.arange(T)
    # recorded contacts only (the registers start at the window start)
    contact = health.mh_contact.copy()
    contact[:, :cal.window_start_index] = False
    last = np.maximum.accumulate(np.where(contact, t_idx[None, :], -10**6), axis=1)
    age = (cal.month_number[None, :] - pop.birth_month[:, None]) // 12
    target = ((t_idx[None, :] - last < 24) & (age >= 18) & (age <= 40) & (paths.state != DP)
              & (t_idx[None, :] >= ips_t[pop.residence]) & (cal.year[None, :] <= WINDOW_END_YEAR))
    pi, ti = np.nonzero(target)
    f = _cell_outcomes(paths.state, paths.job, paths.shared_u, pop.mh_class, weekdays, pi, ti,
                       paths.programme.ips_job_t)
    c = _cell_outcomes(paths.state_cf, paths.job_cf, paths.shared_u, pop.mh_class, weekdays, pi, ti)
    if T % 12 == 0 and cal.month_number[0] % 12 == 0:
        rows, inv = np.unique(pi, return_inverse=True)
        yi = ti // 12
        for world, out in ((paths.state, f), (paths.state_cf, c)):
            hb = np.isin(world[rows], (DP, AAP, SICK)).reshape(len(rows), T // 12, 12).sum(2)
            months = hb[inv, yi].astype(np.float64)
            out["benefit_months"] = months
            out["ltbd"] = (months >= 6).astype(np.float64)
    muni = pop.residence[pi, ti]
    years = cal.year
    parts: dict[str, Any] = {}
    for m in np.unique(muni):
        sel = muni == m
        event = years[ti[sel]] - years[ctx.ips_start_t[m]]
        rec = {"months": np.bincount(event, minlength=20).astype(np.float64)}
        for name in f:
            rec[name] = np.bincount(event, weights=f[name][sel] - c[name][sel], minlength=20)
        parts[geo["municipality"].iloc[m]] = rec
    return parts


def merge_direct(parts: list[dict]) -> dict:
    """Add up :func:`direct_truth_parts` of several chunks."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for p in parts:
        for code, rec in p.items():
            acc = out.setdefault(code, {k: np.zeros_like(v) for k, v in rec.items()})
            for k, v in rec.items():
                acc[k] = acc[k] + v
    return out


def direct_truth(direct: dict, code: str = "1804") -> dict[str, Any]:
    """Average effect per target person-year from merged direct parts (month-level approximation)."""
    rec = direct[code]
    months = rec["months"]
    att = {o: float(rec[o].sum() / months.sum()) for o in OUTCOMES if o in rec}
    by_et = {o: {str(e): float(rec[o][e] / months[e]) for e in np.nonzero(months)[0]}
             for o in OUTCOMES if o in rec}
    return {"att": att, "by_event_time": by_et, "person_years": float(months.sum() / 12.0)}


# -- truth from the package's panel code --------------------------------------------------
def _subset(registers, ids: set[str]):
    from ..registers import RegisterSet
    tables = {}
    for name, df in registers.tables.items():
        tables[name] = df[df["person_id"].isin(ids)] if "person_id" in df.columns else df
    return RegisterSet(tables, source=registers.source, meta=registers.meta)


def panel_truth(factual, counterfactual, config) -> dict[str, Any]:
    """ATT of ``config.treated_municipality`` from factual and counterfactual registers via panels.

    Factual panel: target group (``restrict_to_target=True``), rows with ``treated == 1``
    and ``post == 1``. Counterfactual panel: the same people without target restriction.
    The two are merged on ``(person_id, period)``; IPS never changes residence or death, so
    every factual row has its counterfactual.
    """
    from ..panel import build_panel

    ever = factual["residence"].loc[factual["residence"]["municipality"] == config.treated_municipality,
                                    "person_id"]
    fp = build_panel(_subset(factual, set(ever)), config, restrict_to_target=True)
    fp = fp[(fp["treated"] == 1) & (fp["post"] == 1)]
    ids = set(fp["person_id"])
    cp = build_panel(_subset(counterfactual, ids), config, restrict_to_target=False)
    outcomes = [o for o in OUTCOMES if o in fp.columns and o in cp.columns]
    m = fp[["person_id", "period", "event_time", *outcomes]].merge(
        cp[["person_id", "period", *outcomes]], on=["person_id", "period"], how="left",
        suffixes=("", "_cf"), validate="one_to_one")
    missing = int(m[f"{outcomes[0]}_cf"].isna().sum())
    if missing:
        raise RuntimeError(f"{missing} factual person-periods have no counterfactual row")
    diff = pd.DataFrame({o: m[o] - m[f"{o}_cf"] for o in outcomes})
    diff["event_time"] = m["event_time"].to_numpy()
    by = diff.groupby("event_time")
    return {
        "att": {o: float(diff[o].mean()) for o in outcomes},
        "by_event_time": {o: {str(int(k)): float(v) for k, v in by[o].mean().items()} for o in outcomes},
        "n_person_periods": int(len(diff)),
        "n_treated_persons": int(len(ids)),
    }


def compute_truth(data) -> dict[str, Any]:
    """The ``truth.json`` dict of a :class:`~ips_study.synthetic.generate.SyntheticData`."""
    from ..config import StudyConfig

    geo = data.registers["municipalities"]
    cfg = StudyConfig()
    out: dict[str, Any] = {
        "estimand": ("average effect of IPS on the treated: post-period person-years of the treated "
                     "municipality's target group (SPEC sections 3-5), factual minus counterfactual "
                     "potential outcomes with common random numbers"),
        "seed": data.seed,
        "n_persons": data.n_persons,
        "treated_municipality": cfg.treated_municipality,
        "ips_start": cfg.ips_start.strftime("%Y-%m"),
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
        main = panel_truth(data.registers, data.counterfactual, cfg)
        out["method"] = "panel"
        out.update(main)
        by_muni = {}
        for _, row in geo[geo["ips_start"].notna()].iterrows():
            code = row["municipality"]
            if code == cfg.treated_municipality or row["ips_start"] > cfg.window_end:
                continue
            mcfg = cfg.replace(treated_municipality=code, ips_start=pd.Timestamp(row["ips_start"]))
            res = panel_truth(data.registers, data.counterfactual, mcfg)
            if res["n_person_periods"] == 0:
                continue
            by_muni[code] = {"ips_start": row["ips_start"].strftime("%Y-%m"), **res}
        out["by_municipality"] = by_muni
    else:
        main = direct_truth(data.direct, cfg.treated_municipality)
        out["method"] = "monthly_states"
        out.update(main)
        out["by_municipality"] = {
            code: {"ips_start": geo.loc[geo["municipality"] == code, "ips_start"].iloc[0].strftime("%Y-%m"),
                   **direct_truth(data.direct, code)}
            for code in sorted(data.direct) if code != cfg.treated_municipality}
    out["direct_monthly"] = direct_truth(data.direct, cfg.treated_municipality)["att"]
    return out
