"""Programme metrics at a reference date and by quarter, and the report's Table 3.

Definitions: see the package docstring (:mod:`ips_study.caseload`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .episodes import (_BY, _DATES, REPORT_TABLE_3, _date, _prepare_caseload, _prepare_weeks,
                       _quarter, person_status)


def _specialist_service(caseload: pd.DataFrame) -> dict[str, str]:
    ep = _prepare_caseload(caseload)
    counts = ep.groupby(["specialist_id", "service"]).size().reset_index(name="k")
    counts = counts.sort_values(["specialist_id", "k", "service"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("specialist_id")[["specialist_id", "service"]].values)


def _row(metric: str, statistic: str, value: float, n: float, unit: str) -> dict[str, Any]:
    return {"metric": metric, "statistic": statistic, "value": float(value), "n": int(n),
            "unit": unit}


def _group_metrics(people: pd.DataFrame, stock: pd.Series, intake: pd.Series,
                   weeks: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    offered = people[intake]
    active = people[stock & (people["status"] == "active")]
    in_work = int(active["in_work"].sum())
    out.append(_row("ever_offered", "count", len(offered), len(offered), "persons"))
    out.append(_row("active", "count", len(active), len(active), "persons"))
    out.append(_row("in_work", "count", in_work, len(active), "persons"))
    out.append(_row("share_in_work", "share", in_work / len(active) if len(active) else np.nan,
                    len(active), "persons"))
    s = offered[offered["first_start"].notna() & offered["first_contact"].notna()]
    days = (s["first_contact"] - s["first_start"]).dt.days.astype(float)
    out.append(_row("days_to_job_search", "median", days.median(), len(days), "persons"))
    out.append(_row("days_to_job_search", "mean", days.mean(), len(days), "persons"))
    s = offered[offered["first_start"].notna()]
    days = (s["first_start"] - s["first_referral"]).dt.days.astype(float)
    out.append(_row("days_to_first_meeting", "median", days.median(), len(days), "persons"))
    out.append(_row("days_to_first_meeting", "mean", days.mean(), len(days), "persons"))
    em = weeks["employer_meetings"]
    out.append(_row("employer_meetings", "mean", em.mean(), len(weeks), "specialist-weeks"))
    out.append(_row("employer_meetings", "median", em.median(), len(weeks), "specialist-weeks"))
    worked = weeks["hours_worked"].sum()
    out.append(_row("community_share", "ratio",
                    weeks["hours_in_community"].sum() / worked if worked > 0 else np.nan,
                    len(weeks), "specialist-weeks"))
    per = active.groupby("current_specialist").size()
    out.append(_row("caseload_per_specialist", "mean", per.mean() if len(per) else np.nan,
                    len(active), "persons"))
    out.append(_row("caseload_per_specialist", "max", per.max() if len(per) else np.nan,
                    len(active), "persons"))
    return out


def caseload_metrics(
    caseload: pd.DataFrame,
    weeks: pd.DataFrame | None = None,
    date: Any = "2014-09-30",
    *,
    by: str | Sequence[str] = "overall",
    employment: pd.DataFrame | None = None,
    window_days: int = 91,
) -> pd.DataFrame:
    """Programme metrics at a reference date (definitions in the module docstring).

    Parameters
    ----------
    caseload, weeks : DataFrame
        The typed ``ips_caseload`` and ``specialist_weeks`` tables (``weeks`` optional:
        without it the weekly metrics are NaN).
    date : date-like
        Reference date ``D``.
    by : str or list of str
        ``"overall"``, ``"service"`` and/or ``"specialist"``.
    employment : DataFrame, optional
        Employment register: "in work" from spells covering ``D`` instead of job start dates.
    window_days : int
        Length of the window ``(D - window_days, D]`` for the weekly metrics.

    Returns
    -------
    DataFrame
        Long table: ``group_by``, ``group``, ``metric``, ``statistic``, ``value``, ``n``
        (persons or specialist-weeks behind the value) and ``unit``.

    Examples
    --------
    >>> cl = pd.DataFrame({"person_id": ["a"], "specialist_id": ["s1"], "service": ["x"],
    ...     "referral_date": ["2014-01-01"], "start_date": ["2014-01-10"],
    ...     "first_employer_contact_date": ["2014-02-09"], "job_start_date": [None],
    ...     "end_date": [None], "end_reason": [None]})
    >>> m = caseload_metrics(cl, date="2014-09-30").set_index(["metric", "statistic"])
    >>> m.loc[("days_to_job_search", "median"), "value"], m.loc[("active", "count"), "n"]
    (np.float64(30.0), np.int64(1))
    """
    d = _date(date)
    groupings = [by] if isinstance(by, str) else list(by)
    bad = [g for g in groupings if g not in _BY]
    if bad:
        raise ValueError(f"by must be among {_BY}, got {bad}")
    people = person_status(caseload, d, employment)
    w = _prepare_weeks(weeks)
    w = w[(w["week_start"] > d - pd.Timedelta(days=window_days)) & (w["week_start"] <= d)]
    everyone = pd.Series(True, index=people.index)
    frames = []
    for g in groupings:
        if g == "overall":
            parts = [("all", everyone, everyone, w)]
        elif g == "service":
            main = _specialist_service(caseload)
            services = sorted(set(people["intake_service"]) | set(people["current_service"].dropna()))
            parts = [(s, people["current_service"] == s, people["intake_service"] == s,
                      w[w["specialist_id"].map(main) == s]) for s in services]
        else:
            specs = sorted(set(people["intake_specialist"])
                           | set(people["current_specialist"].dropna()) | set(w["specialist_id"]))
            parts = [(s, people["current_specialist"] == s, people["intake_specialist"] == s,
                      w[w["specialist_id"] == s]) for s in specs]
        for name, stock, intake, weeks_part in parts:
            rows = _group_metrics(people, stock, intake, weeks_part)
            frames.append(pd.DataFrame(rows).assign(group_by=g, group=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["group_by", "group", "metric", "statistic", "value", "n", "unit"]]


def metrics_by_quarter(
    caseload: pd.DataFrame,
    weeks: pd.DataFrame | None = None,
    start: Any = None,
    end: Any = None,
    *,
    by: str | Sequence[str] = "overall",
    employment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`caseload_metrics` at the end of every quarter from ``start`` to ``end``.

    Defaults: from the quarter of the first referral to the quarter of the last recorded
    date. Adds a ``quarter`` column (``"2014Q3"``) in front.
    """
    ep = _prepare_caseload(caseload)
    first = _quarter(start) if start is not None else ep["referral_date"].min().to_period("Q")
    if end is not None:
        last = _quarter(end)
    else:
        last = pd.concat([ep[c] for c in _DATES]).max().to_period("Q")
    frames = []
    for q in pd.period_range(first, last, freq="Q"):
        m = caseload_metrics(caseload, weeks, q.end_time.normalize(), by=by,
                             employment=employment)
        frames.append(m.assign(quarter=str(q)))
    out = pd.concat(frames, ignore_index=True)
    return out[["quarter"] + [c for c in out.columns if c != "quarter"]]


_TABLE_3_ROWS = (
    ("ever_offered", "count", "Job seekers ever offered IPS", 1.0, "persons"),
    ("active", "count", "Active caseload (job seekers in the service)", 1.0, "persons"),
    ("share_in_work", "share", "Share of the active caseload in ordinary work (%)", 100.0, "%"),
    ("days_to_job_search", "median", "Days in the service before active job search starts (median)", 1.0, "days"),
    ("days_to_first_meeting", "median", "Days from referral to first meeting with the job specialist (median)", 1.0, "days"),
    ("employer_meetings", "mean", "Employer meetings per job specialist per week (mean)", 1.0, "meetings"),
    ("community_share", "ratio", "Share of weekly working time spent in the community (%)", 100.0, "%"),
)


def table_3(caseload: pd.DataFrame, weeks: pd.DataFrame | None = None,
            date: Any = "2014-09-30") -> pd.DataFrame:
    """Reproduce the "Kom i jobb" report's Table 3 (programme figures, September 2014).

    Returns one row per report line: ``metric`` (the report's wording), ``value`` (rounded
    as the report prints it), ``report_figure`` (data contract, section 6), ``exact`` (unrounded),
    ``n`` (persons or specialist-weeks behind it) and ``unit``.

    >>> cl = pd.DataFrame({"person_id": ["a"], "specialist_id": ["s1"], "service": ["x"],
    ...     "referral_date": ["2014-01-01"], "start_date": ["2014-01-10"],
    ...     "first_employer_contact_date": [None], "job_start_date": [None],
    ...     "end_date": [None], "end_reason": [None]})
    >>> [int(v) for v in table_3(cl).loc[0, ["value", "report_figure"]]]
    [1, 101]
    """
    m = caseload_metrics(caseload, weeks, date).set_index(["metric", "statistic"])
    rows = []
    for key, stat, label, scale, unit in _TABLE_3_ROWS:
        exact = float(m.loc[(key, stat), "value"]) * scale
        rows.append({"metric": label,
                     "value": int(np.floor(exact + 0.5)) if np.isfinite(exact) else None,
                     "report_figure": REPORT_TABLE_3[key], "exact": exact,
                     "n": int(m.loc[(key, stat), "n"]), "unit": unit})
    out = pd.DataFrame(rows)
    out["value"] = out["value"].astype("Int64")
    return out
