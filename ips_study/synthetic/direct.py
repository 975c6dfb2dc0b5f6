"""The direct truth of the synthetic registers, from the simulated monthly states.

Factual minus counterfactual outcomes per month, summed by municipality and event time while
the people are simulated (:func:`direct_truth_parts`, one chunk at a time), merged across
chunks (:func:`merge_direct`) and turned into the estimands (:func:`direct_truth`). This is the
cheap truth for large populations and simulations; :mod:`ips_study.synthetic.truth` computes
the same estimands with the package's own panel code. It is its own module so that the
simulation engine can call it without importing the panel-based truth.
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
#: the default study window ends in 2019 (data contract, section 3)
WINDOW_END_YEAR = 2019
#: month number (year * 12 + month - 1) of the closed cohort's baseline, 2012-01 (StudyConfig)
BASELINE_MONTH = 2012 * 12
_STATE_OUTCOME = {"disability": (DP,), "work_assessment": (AAP,), "sickness": (SICK,),
                  "unemployment": (UNEMP,), "social_assistance": (SA,), "qualification": (QUAL,),
                  "health_benefit": (DP, AAP, SICK),
                  "any_benefit": (DP, AAP, SICK, UNEMP, SA, QUAL)}


# -- direct truth from the monthly states ------------------------------------------------
def _cell_outcomes(state, job, shared_u, mh_class, weekdays, pi, ti, ips_job_t=None,
                   hb_year=None) -> dict[str, np.ndarray]:
    st = state[pi, ti]
    out = {name: np.isin(st, codes).astype(np.float64) for name, codes in _STATE_OUTCOME.items()}
    jb = job[pi, ti].astype(np.int64)
    out["employed"] = (jb > 0).astype(np.float64)
    fte = job_fte(shared_u[pi, np.maximum(jb - 1, 0)], mh_class[pi], is_ips_job(pi, jb - 1, ips_job_t))
    # whole-month approximation of FTE-weighted weekdays, summed to a person-year
    out["workdays"] = np.where(jb > 0, fte / 100.0, 0.0) * weekdays[ti] * 12.0
    if hb_year is not None:
        months = hb_year[pi, ti // 12].astype(np.float64)
        out["benefit_months"] = months
        out["ltbd"] = (months >= 6).astype(np.float64)
    return out


def _event_sums(prefix: str, values: dict[str, np.ndarray], event: np.ndarray) -> dict[str, np.ndarray]:
    rec = {f"{prefix}months": np.bincount(event, minlength=20).astype(np.float64)}
    for name, v in values.items():
        rec[f"{prefix}{name}"] = np.bincount(event, weights=v, minlength=20)
    return rec


def direct_truth_parts(pop: Population, health, paths, cal: Calendar, ctx, geo: pd.DataFrame) -> dict:
    """Sums over the target person-months of one chunk, per municipality and year of exposure.

    Three sets of sums per municipality (arrays indexed by event year):

    * ``months``, ``<outcome>``: factual target-group months and the sum of factual minus
      counterfactual outcomes over them (``att``);
    * ``pf_months``, ``pf_<outcome>`` / ``pc_months``, ``pc_<outcome>``: months and outcome
      sums of the target group as it is in the factual / the counterfactual world
      (``att_population``);
    * ``co_months``, ``co_<outcome>``: months of the closed cohort (target group in the
      baseline month, by baseline municipality, followed while resident) and the sum of
      factual minus counterfactual outcomes over them (``att_cohort``).
    """
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
    in_window = cal.year[None, :] <= WINDOW_END_YEAR
    eligible = (t_idx[None, :] - last < 24) & (age >= 18) & (age <= 40)
    post = (t_idx[None, :] >= ips_t[pop.residence]) & in_window
    hb = {}
    if T % 12 == 0 and cal.month_number[0] % 12 == 0:
        for key, world in (("f", paths.state), ("c", paths.state_cf)):
            hb[key] = np.isin(world, (DP, AAP, SICK)).reshape(n, T // 12, 12).sum(2)
    fargs = (paths.state, paths.job, paths.shared_u, pop.mh_class, weekdays)
    cargs = (paths.state_cf, paths.job_cf, paths.shared_u, pop.mh_class, weekdays)

    def outcomes(world, pi, ti):
        if world == "f":
            return _cell_outcomes(*fargs, pi, ti, paths.programme.ips_job_t, hb.get("f"))
        return _cell_outcomes(*cargs, pi, ti, None, hb.get("c"))

    def by_muni(muni, ti, prefix, values, parts):
        for m in np.unique(muni):
            sel = muni == m
            event = cal.year[ti[sel]] - cal.year[ctx.ips_start_t[m]]
            rec = parts.setdefault(geo["municipality"].iloc[m], {})
            rec.update(_event_sums(prefix, {k: v[sel] for k, v in values.items()}, event))

    parts: dict[str, Any] = {}
    # factual target group: factual minus counterfactual of the same people
    pi, ti = np.nonzero(eligible & post & (paths.state != DP))
    f, c = outcomes("f", pi, ti), outcomes("c", pi, ti)
    by_muni(pop.residence[pi, ti], ti, "", {k: f[k] - c[k] for k in f}, parts)
    by_muni(pop.residence[pi, ti], ti, "pf_", f, parts)
    # counterfactual target group (open population): its own outcomes
    qi, qt = np.nonzero(eligible & post & (paths.state_cf != DP))
    by_muni(pop.residence[qi, qt], qt, "pc_", outcomes("c", qi, qt), parts)
    # closed cohort: target at baseline (before any IPS start, same in both worlds), intention to treat
    b = int(np.searchsorted(cal.month_number, BASELINE_MONTH))
    if 0 <= b < T and cal.month_number[b] == BASELINE_MONTH:
        base = pop.residence[:, b]
        member = eligible[:, b] & (paths.state[:, b] != DP) & (base >= 0)
        cohort = (member[:, None] & (pop.residence >= 0) & in_window
                  & (t_idx[None, :] >= ips_t[base][:, None]))
        ki, kt = np.nonzero(cohort)
        f, c = outcomes("f", ki, kt), outcomes("c", ki, kt)
        by_muni(base[ki], kt, "co_", {k: f[k] - c[k] for k in f}, parts)
    zeros = np.zeros(20)
    for rec in parts.values():   # every municipality carries every key (merge adds arrays)
        for prefix in ("", "pf_", "pc_", "co_"):
            rec.setdefault(f"{prefix}months", zeros.copy())
            for o in (OUTCOMES if hb else OUTCOMES[:-2]):
                rec.setdefault(f"{prefix}{o}", zeros.copy())
    return parts


def merge_direct(parts: list[dict]) -> dict:
    """Add up :func:`direct_truth_parts` of several chunks."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for p in parts:
        for code, rec in p.items():
            acc = out.setdefault(code, {})
            for k, v in rec.items():
                acc[k] = acc[k] + v if k in acc else v.copy()
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def direct_truth(direct: dict, code: str = "1804") -> dict[str, Any]:
    """All three estimands per target person-year from merged direct parts (month level).

    Cheap (a few array sums): the function to call per replication of a simulation. It uses
    whole months and month-level target membership, so it approximates the panel truth of
    :func:`compute_truth` (person-years by index month): on the default data to within 0.7
    workdays and 1.3 percentage points (5-20 % of the larger effects, more of small ones).

    Returns ``att``, ``att_population``, ``att_cohort`` (dicts by outcome), the same
    ``by_event_time*`` (dicts by outcome of dicts by event year), ``person_years`` (factual
    target group) and ``cohort_person_years``.

    >>> from ips_study.synthetic import generate   # doctest: +SKIP
    >>> direct_truth(generate(3000, seed=1).direct)["att_population"]["workdays"]  # doctest: +SKIP
    """
    rec = direct[code]
    outs = [o for o in OUTCOMES if o in rec]
    months, pf, pc, co = rec["months"], rec.get("pf_months"), rec.get("pc_months"), rec.get("co_months")
    att = {o: float(rec[o].sum() / months.sum()) if months.sum() > 0 else 0.0 for o in outs}
    by_et = {o: {str(e): float(rec[o][e] / months[e]) for e in np.nonzero(months)[0]} for o in outs}
    out: dict[str, Any] = {"att": att, "by_event_time": by_et, "person_years": float(months.sum() / 12.0)}
    if pf is not None:
        both = np.nonzero((pf > 0) & (pc > 0))[0]
        gap = {o: _ratio(rec[f"pf_{o}"], pf) - _ratio(rec[f"pc_{o}"], pc) for o in outs}
        # event years weighted by the factual target group's months, like att
        out["att_population"] = {o: float(gap[o][both] @ pf[both] / pf[both].sum()) if len(both) else 0.0
                                 for o in outs}
        out["by_event_time_population"] = {o: {str(e): float(gap[o][e]) for e in both} for o in outs}
    if co is not None and co.sum() > 0:
        out["att_cohort"] = {o: float(rec[f"co_{o}"].sum() / co.sum()) for o in outs}
        out["by_event_time_cohort"] = {o: {str(e): float(rec[f"co_{o}"][e] / co[e]) for e in np.nonzero(co)[0]}
                                       for o in outs}
        out["cohort_person_years"] = float(co.sum() / 12.0)
    return out


# -- the published design's truth: work assessment allowance on the index month, year panel --
def year_truth_parts(pop: Population, paths, cal: Calendar, ctx, geo: pd.DataFrame, *,
                     age_min: int = 18, age_max: int = 40) -> dict:
    """Open-population sums of the published design's target group, per municipality and year.

    The published design (``studies/published_design.toml``) is a year panel whose target
    group is "receiving work assessment allowance in the index month" (the first month of the
    year the person is resident in Norway) and whose outcome is workdays summed over the
    year's observed months. A person-year is in the target group when the monthly state is
    work assessment allowance in the index month or the month before (a spell ending in the
    index month covers its first days). Per world (``yf_``: factual target group and outcomes, ``yc_``:
    counterfactual) and municipality (of the index month): the number of target person-years
    (``<prefix>years``) and their summed ``workdays``, by event year. Monthly states stand in
    for the spells (whole months), as in :func:`direct_truth_parts`.

    Needs a calendar of whole years (January to December); returns ``{}`` otherwise.
    """
    n, T = paths.state.shape
    if T % 12 or cal.month_number[0] % 12:
        return {}
    ny = T // 12
    w0 = cal.window_start_index // 12       # first window year (the burn-in is whole years)
    nxt = (cal.month_start.astype("datetime64[M]") + 1).astype("datetime64[D]")
    weekdays = np.busday_count(cal.month_start, nxt).astype(np.float64)
    present = (pop.residence >= 0).reshape(n, ny, 12)
    has = present.any(axis=2)
    first = present.argmax(axis=2)                      # index month within the year
    pi, yi = np.nonzero(has[:, w0:])
    yi = yi + w0
    mi = yi * 12 + first[pi, yi]
    age = (cal.month_number[mi] - pop.birth_month[pi]) // 12
    muni = pop.residence[pi, mi]
    year0 = int(cal.year[0])
    ips_year = np.array([int(cal.year[min(t, T - 1)]) if t < 10**8 else 10**6 for t in ctx.ips_start_t])
    post = (year0 + yi) >= ips_year[muni]
    band = (age >= age_min) & (age <= age_max) & post & (year0 + yi <= WINDOW_END_YEAR)
    parts: dict[str, Any] = {}
    for prefix, state, job, ips_job_t in (("yf_", paths.state, paths.job, paths.programme.ips_job_t),
                                          ("yc_", paths.state_cf, paths.job_cf, None)):
        # on AAP on any day of the index month: the state that month, or the month before for
        # a spell that ends on this month's change day
        sel = band & ((state[pi, mi] == AAP) | (state[pi, np.maximum(mi - 1, 0)] == AAP) & (mi > 0))
        p, y, m = pi[sel], yi[sel], muni[sel]
        months = (y[:, None] * 12 + np.arange(12)[None, :])
        jb = job[p[:, None], months].astype(np.int64)
        fte = job_fte(paths.shared_u[p[:, None], np.maximum(jb - 1, 0)], pop.mh_class[p][:, None],
                      is_ips_job(np.broadcast_to(p[:, None], jb.shape), jb - 1, ips_job_t))
        wd = (np.where(jb > 0, fte / 100.0, 0.0) * weekdays[months] * present[p, y]).sum(axis=1)
        for code_idx in np.unique(m):
            s = m == code_idx
            event = (year0 + y[s]) - ips_year[code_idx]
            rec = parts.setdefault(geo["municipality"].iloc[code_idx], {})
            rec[f"{prefix}years"] = np.bincount(event, minlength=20).astype(np.float64)
            rec[f"{prefix}workdays"] = np.bincount(event, weights=wd[s], minlength=20)
    zeros = np.zeros(20)
    for rec in parts.values():
        for k in ("yf_years", "yf_workdays", "yc_years", "yc_workdays"):
            rec.setdefault(k, zeros.copy())
    return parts


def year_truth(direct: dict, code: str = "1804") -> dict[str, Any]:
    """The published design's open-population truth of workdays from :func:`year_truth_parts`.

    ``att_population`` (event years weighted by the factual target group's person-years,
    like :func:`ips_study.synthetic.truth.population_truth`), ``by_event_time_population``
    and the factual target person-years. Only ``workdays``: the published design's outcome.
    """
    rec = direct.get(code, {})
    pf, pc = rec.get("yf_years"), rec.get("yc_years")
    if pf is None:
        raise ValueError(f"year_truth: no published-design sums for municipality {code} "
                         "(GeographySpec(truth_target='work_assessment') computes them)")
    both = np.nonzero((pf > 0) & (pc > 0))[0]
    gap = _ratio(rec["yf_workdays"], pf) - _ratio(rec["yc_workdays"], pc)
    att = float(gap[both] @ pf[both] / pf[both].sum()) if len(both) else 0.0
    return {"target_rule": "work_assessment", "freq": "year",
            "att_population": {"workdays": att},
            "by_event_time_population": {"workdays": {str(e): float(gap[e]) for e in both}},
            "person_years": float(pf.sum())}
