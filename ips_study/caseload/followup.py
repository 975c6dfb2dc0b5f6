"""Follow-up procedures (the job-specialist continuity procedure) as checks.

The lists name job seekers by register id: confidential, for the team inside the service.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .episodes import CASELOAD_LIMIT, _date, _prepare_weeks, person_status


def absent_specialists(weeks: pd.DataFrame, date: Any, *, min_weeks: int = 2) -> pd.DataFrame:
    """Specialists absent for at least ``min_weeks`` consecutive completed weeks up to ``date``.

    A week counts as absent when the specialist filed no weekly report for it or reported
    zero hours worked. Weeks are counted back from the last week that ended by ``date``
    (weeks start on the weekday of the reports' ``week_start``; Monday in the register).
    Returns ``specialist_id`` and ``weeks_absent`` (consecutive, capped at the span of the
    reports), for the flagged specialists only.
    """
    d = _date(date)
    w = _prepare_weeks(weeks)
    w = w[w["week_start"] + pd.Timedelta(days=7) <= d + pd.Timedelta(days=1)]
    if w.empty:
        return pd.DataFrame({"specialist_id": pd.Series(dtype=str),
                             "weeks_absent": pd.Series(dtype=int)})
    # the last completed week on the reports' weekly grid, even if nobody reported it
    last_week = w["week_start"].max()
    last_week += pd.Timedelta(days=7 * (((d + pd.Timedelta(days=1)) - last_week).days // 7 - 1))
    present = w[w["hours_worked"] > 0]
    rows = []
    for spec in sorted(w["specialist_id"].unique()):
        seen = set(present.loc[present["specialist_id"] == spec, "week_start"])
        first = w.loc[w["specialist_id"] == spec, "week_start"].min()
        k, week = 0, last_week
        while week >= first and week not in seen:
            k += 1
            week -= pd.Timedelta(days=7)
        if k >= min_weeks:
            rows.append({"specialist_id": spec, "weeks_absent": k})
    return pd.DataFrame(rows, columns=["specialist_id", "weeks_absent"])


def flag_absent_specialist(caseload: pd.DataFrame, weeks: pd.DataFrame, date: Any, *,
                           min_weeks: int = 2) -> pd.DataFrame:
    """Active job seekers whose specialist has been absent ``min_weeks`` weeks or more.

    Internal (carries ``person_id``): for the team meeting, never for export.
    """
    absent = absent_specialists(weeks, date, min_weeks=min_weeks)
    people = person_status(caseload, date)
    active = people[people["status"] == "active"]
    out = active.merge(absent, left_on="current_specialist", right_on="specialist_id")
    return out[["person_id", "specialist_id", "weeks_absent"]].reset_index(drop=True)


def flag_long_without_work(caseload: pd.DataFrame, date: Any, *,
                           days: int = 180) -> pd.DataFrame:
    """Active job seekers followed ``days`` or more without any ordinary work (job start),
    for a discussion of transfer to another specialist. Internal (carries ``person_id``)."""
    d = _date(date)
    people = person_status(caseload, d)
    p = people[(people["status"] == "active") & people["first_job"].isna()].copy()
    p["days_in_service"] = (d - p["first_start"]).dt.days
    p = p[p["days_in_service"] >= days]
    p = p.rename(columns={"current_specialist": "specialist_id"})
    return p[["person_id", "specialist_id", "days_in_service"]].sort_values(
        ["specialist_id", "days_in_service"], ascending=[True, False]).reset_index(drop=True)


def flag_caseload_above_limit(caseload: pd.DataFrame, date: Any, *,
                              limit: int = CASELOAD_LIMIT) -> pd.DataFrame:
    """Specialists whose active caseload exceeds the fidelity limit (default 20)."""
    people = person_status(caseload, date)
    per = (people[people["status"] == "active"].groupby("current_specialist").size()
           .rename("active").reset_index().rename(columns={"current_specialist": "specialist_id"}))
    per["limit"] = limit
    return per[per["active"] > limit].reset_index(drop=True)


def team_list(caseload: pd.DataFrame, weeks: pd.DataFrame | None, date: Any, *,
              absent_weeks: int = 2, days_without_work: int = 180,
              limit: int = CASELOAD_LIMIT) -> pd.DataFrame:
    """Weekly list for the team meeting: every active job seeker with the follow-up flags.

    Columns: ``specialist_id``, ``person_id``, ``service``, ``days_in_service``,
    ``in_work``, ``flags`` (semicolon-separated: ``specialist absent N weeks``,
    ``N days without work``, ``caseload above limit``), sorted by specialist with flagged
    job seekers first. **Confidential**: it names job seekers by their register id and is
    for the team inside the service; :func:`quarterly_report` publishes only counts of flags.
    """
    d = _date(date)
    people = person_status(caseload, d)
    a = people[people["status"] == "active"].copy()
    a["days_in_service"] = (d - a["first_start"]).dt.days
    flags: dict[str, list[str]] = {pid: [] for pid in a["person_id"]}
    if weeks is not None:
        for r in flag_absent_specialist(caseload, weeks, d, min_weeks=absent_weeks).itertuples():
            flags[r.person_id].append(f"specialist absent {r.weeks_absent} weeks")
    for r in flag_long_without_work(caseload, d, days=days_without_work).itertuples():
        flags[r.person_id].append(f"{r.days_in_service} days without work")
    over = set(flag_caseload_above_limit(caseload, d, limit=limit)["specialist_id"])
    for r in a.itertuples():
        if r.current_specialist in over:
            flags[r.person_id].append("caseload above limit")
    a["flags"] = a["person_id"].map(lambda p: "; ".join(flags[p]))
    a = a.rename(columns={"current_specialist": "specialist_id", "current_service": "service"})
    a["flagged"] = a["flags"] != ""
    a = a.sort_values(["specialist_id", "flagged", "days_in_service"],
                      ascending=[True, False, False], kind="mergesort")
    return a[["specialist_id", "person_id", "service", "days_in_service", "in_work",
              "flags"]].reset_index(drop=True)
