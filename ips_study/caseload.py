"""Programme metrics from the IPS quality register (kvalitetsregister for jobbspesialistene).

The "Kom i jobb" report's Table 3 and the method supervisor's weekly and quarterly figures
come from two programme tables (SPEC section 2): ``ips_caseload`` (one row per job-seeker
*episode* with a job specialist, jobbspesialist) and ``specialist_weeks`` (one weekly
activity report per specialist). This module computes them at any reference date ``D``.

Definitions (shared with the synthetic generator, which calibrates to them)
---------------------------------------------------------------------------
Everything is computed from what was known at ``D``: dates after ``D`` count as not yet
happened.

``ever_offered``
    Distinct persons with ``referral_date <= D`` (job seekers ever offered IPS).
``active``
    Persons with an episode with ``start_date <= D`` and (``end_date`` empty or ``> D``).
``in_work`` / ``share_in_work``
    Active persons with ``job_start_date <= D`` (in any of their episodes), and that count
    divided by ``active`` (share of the active caseload in ordinary paid work). With the
    ``employment`` register given, "in work" instead means an employment spell that counts
    as work (``fte > 0`` and ``monthly_wage > 0``) covers ``D``.
``days_to_job_search``
    ``first_employer_contact_date - start_date`` in days (time in the service before active
    job search starts), over persons with ``start_date <= D`` and a contact date ``<= D``;
    the person's earliest start and earliest contact are used. Median and mean.
``days_to_first_meeting``
    ``start_date - referral_date`` in days for the person's first meeting with a job
    specialist (the episode with the earliest start), over persons with ``start_date <= D``.
    Median and mean.
``employer_meetings``
    Mean (and median) of ``employer_meetings`` over specialist-weeks with ``week_start`` in
    ``(D - 91 days, D]`` (the quarter before ``D``).
``community_share``
    ``sum(hours_in_community) / sum(hours_worked)`` over the same specialist-weeks.
``caseload_per_specialist``
    Active persons per specialist holding at least one active case at ``D`` (mean and
    maximum; the IPS fidelity scale allows at most 20).

Several episodes of one person (transfers between specialists)
---------------------------------------------------------------
All metrics count **persons**, never episodes. A transfer to another specialist is a new
episode of the same person; the episode that ends with a transfer reason (see
:func:`classify_end_reason`) does not end the person's time in the service, and a person
whose new episode has been opened but not yet started is still active. Stock measures
(active, in work, caseload) are attributed to the specialist and service of the person's
*current* episode (the active episode with the latest start); intake measures (ever
offered, days to first meeting, days to job search) to the specialist and service of the
*first* episode. A person re-referred after ending is still one person ever offered.
Specialist-week measures by service use each specialist's main service (the service of
most of their episodes).

Example
-------
>>> import pandas as pd
>>> cl = pd.DataFrame({"person_id": ["a", "b"], "specialist_id": ["s1", "s1"],
...     "service": ["psychosis", "municipal"], "referral_date": ["2014-01-01", "2014-02-01"],
...     "start_date": ["2014-01-11", "2014-02-05"], "first_employer_contact_date": [None, None],
...     "job_start_date": ["2014-05-01", None], "end_date": [None, None], "end_reason": [None, None]})
>>> m = caseload_metrics(cl, date="2014-09-30")
>>> m.set_index(["metric", "statistic"]).loc[("share_in_work", "share"), "value"]
np.float64(0.5)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import disclosure

#: Report "Kom i jobb" (September 2014), Table 3, at the reference date 2014-09-30.
REPORT_TABLE_3 = {
    "ever_offered": 101, "active": 58, "share_in_work": 53, "days_to_job_search": 24,
    "days_to_first_meeting": 9, "employer_meetings": 8, "community_share": 66,
}

#: IPS fidelity scale item 1: at most 20 job seekers per specialist.
CASELOAD_LIMIT = 20

#: Canonical end reasons, in the order of the predecessor project's figures.
END_REASONS = ("ordinary_work", "education", "no_active_solution", "other")

_CASELOAD_COLUMNS = ("person_id", "specialist_id", "service", "referral_date", "start_date",
                     "first_employer_contact_date", "job_start_date", "end_date", "end_reason")
_DATES = ("referral_date", "start_date", "first_employer_contact_date", "job_start_date",
          "end_date")
_BY = ("overall", "service", "specialist")


def classify_end_reason(reason: Any) -> str:
    """Map a free-text end reason to ``ordinary_work``, ``education``, ``no_active_solution``,
    ``transfer`` or ``other`` (English and Norwegian wording).

    >>> [classify_end_reason(r) for r in ("ordinary work", "utdanning", "transfer", None)]
    ['ordinary_work', 'education', 'transfer', 'other']
    """
    if reason is None or (isinstance(reason, float) and np.isnan(reason)):
        return "other"
    s = str(reason).strip().lower().replace("-", "_").replace(" ", "_")
    if "transfer" in s or "overf" in s or "bytte" in s:
        return "transfer"
    if "no_active" in s or "ingen" in s or s in ("none", "no_solution", "inactive", "passive"):
        return "no_active_solution"
    if "educ" in s or "utdann" in s or "school" in s or "study" in s or "skole" in s:
        return "education"
    if "work" in s or "job" in s or "arbeid" in s or "employ" in s:
        return "ordinary_work"
    return "other"


def _date(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _prepare_caseload(caseload: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _CASELOAD_COLUMNS if c not in caseload.columns]
    if missing:
        raise KeyError(f"ips_caseload lacks column(s): {', '.join(missing)}")
    ep = caseload.loc[:, list(_CASELOAD_COLUMNS)].copy()
    for c in _DATES:
        ep[c] = pd.to_datetime(ep[c])
    for c in ("person_id", "specialist_id", "service"):
        ep[c] = ep[c].astype(str)
    return ep


def _prepare_weeks(weeks: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["specialist_id", "week_start", "employer_meetings", "hours_worked",
            "hours_in_community"]
    if weeks is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype(
            {"specialist_id": str, "week_start": "datetime64[ns]"})
    missing = [c for c in cols if c not in weeks.columns]
    if missing:
        raise KeyError(f"specialist_weeks lacks column(s): {', '.join(missing)}")
    w = weeks.loc[:, cols].copy()
    w["specialist_id"] = w["specialist_id"].astype(str)
    w["week_start"] = pd.to_datetime(w["week_start"])
    for c in cols[2:]:
        w[c] = w[c].astype(float)
    return w


def person_status(caseload: pd.DataFrame, date: Any = "2014-09-30",
                  employment: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per person referred by ``date``: status and the dates the metrics use.

    Columns: ``person_id``, ``status`` (``waiting``/``active``/``ended``), ``in_work``,
    ``referral_date``, ``first_start``, ``first_referral`` (referral of the episode with the
    first start), ``first_contact``, ``first_job``, ``intake_specialist``,
    ``intake_service``, ``current_specialist``, ``current_service`` (empty unless active),
    ``current_start``, ``end_class`` (class of the last end reason, ended persons only).
    Internal: it carries person ids and must not be exported.
    """
    d = _date(date)
    ep = _prepare_caseload(caseload)
    ep = ep[ep["referral_date"] <= d].copy()
    for c in _DATES[1:]:
        ep.loc[ep[c] > d, c] = pd.NaT
    ep["end_class"] = [classify_end_reason(r) if pd.notna(e) else None
                       for r, e in zip(ep["end_reason"], ep["end_date"])]
    ep["state"] = np.where(ep["end_date"].notna(), "ended",
                           np.where(ep["start_date"].notna(), "active", "waiting"))
    ep = ep.sort_values(["person_id", "referral_date", "start_date"], na_position="last",
                        kind="mergesort")
    rows = []
    for pid, g in ep.groupby("person_id", sort=True):
        started = g[g["start_date"].notna()]
        first = started.loc[started["start_date"].idxmin()] if len(started) else g.iloc[0]
        active = g[g["state"] == "active"]
        waiting = g[g["state"] == "waiting"]
        ended = g[g["state"] == "ended"]
        transferred = (ended["end_class"] == "transfer").any()
        if len(active):
            status, cur = "active", active.loc[active["start_date"].idxmax()]
        elif len(waiting) and transferred and len(started):
            # between specialists: the new episode is open, the person never left the service
            status, cur = "active", waiting.iloc[-1]
        elif len(waiting):
            status, cur = "waiting", None
        else:
            status, cur = "ended", None
        last_end = ended.loc[ended["end_date"].idxmax()] if len(ended) else None
        rows.append({
            "person_id": pid, "status": status,
            "referral_date": g["referral_date"].min(),
            "first_start": started["start_date"].min() if len(started) else pd.NaT,
            "first_referral": first["referral_date"] if len(started) else pd.NaT,
            "first_contact": g["first_employer_contact_date"].min(),
            "first_job": g["job_start_date"].min(),
            "intake_specialist": first["specialist_id"], "intake_service": first["service"],
            "current_specialist": cur["specialist_id"] if cur is not None else None,
            "current_service": cur["service"] if cur is not None else None,
            "current_start": started["start_date"].max() if cur is not None else pd.NaT,
            "end_class": last_end["end_class"] if status == "ended" else None,
        })
    cols = ["person_id", "status", "referral_date", "first_start", "first_referral",
            "first_contact", "first_job", "intake_specialist", "intake_service",
            "current_specialist", "current_service", "current_start", "end_class"]
    people = pd.DataFrame(rows, columns=cols)
    if employment is None:
        people["in_work"] = (people["status"] == "active") & people["first_job"].notna()
    else:
        e = employment
        works = ((e["fte"].astype(float) > 0) & (e["monthly_wage"].astype(float) > 0)
                 & (pd.to_datetime(e["start_date"]) <= d)
                 & (pd.to_datetime(e["end_date"]).isna() | (pd.to_datetime(e["end_date"]) >= d)))
        working = set(e.loc[works, "person_id"].astype(str))
        people["in_work"] = (people["status"] == "active") & people["person_id"].isin(working)
    return people


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


def _quarter(q: Any) -> pd.Period:
    if isinstance(q, pd.Period):
        return q.asfreq("Q")
    s = str(q).strip().upper().replace("-", "").replace(" ", "")
    try:
        return pd.Period(s, freq="Q")
    except ValueError:
        raise ValueError(f"cannot read {q!r} as a quarter (use e.g. '2014Q3')") from None


def quarter_end(q: Any) -> pd.Timestamp:
    """Last day of a quarter given as ``"2014Q3"`` or a Period.

    >>> str(quarter_end("2014Q3").date())
    '2014-09-30'
    """
    return _quarter(q).end_time.normalize()


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
    as the report prints it), ``report_figure`` (SPEC section 6), ``exact`` (unrounded),
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


# -- outcome flow ---------------------------------------------------------------------------
def outcome_flow(caseload: pd.DataFrame, date: Any = "2014-09-30") -> pd.DataFrame:
    """Flow of job seekers at ``date`` like the predecessor project's (Jobbhuset) figures.

    Rows (``status``): ``attached`` (ever referred), ``waiting`` (referred, first meeting
    not yet held), ``currently_attached`` (active), ``ended``, and ``ended_<reason>`` for
    each of :data:`END_REASONS` (the last episode's reason; transfers do not end a person's
    time in the service). Columns ``n`` and ``share`` (of ``attached``; for the reasons,
    of ``ended``).

    >>> cl = pd.DataFrame({"person_id": ["a", "b"], "specialist_id": ["s", "s"],
    ...     "service": ["x", "x"], "referral_date": ["2014-01-01"] * 2,
    ...     "start_date": ["2014-01-05"] * 2, "first_employer_contact_date": [None] * 2,
    ...     "job_start_date": [None] * 2, "end_date": ["2014-03-01", None],
    ...     "end_reason": ["ordinary work", None]})
    >>> outcome_flow(cl).set_index("status")["n"].to_dict()["ended_ordinary_work"]
    1
    """
    people = person_status(caseload, date)
    n_all = len(people)
    counts = people["status"].value_counts()
    ended = people[people["status"] == "ended"]
    reasons = ended["end_class"].replace({"transfer": "other"}).value_counts()
    rows = [("attached", n_all, n_all), ("waiting", counts.get("waiting", 0), n_all),
            ("currently_attached", counts.get("active", 0), n_all),
            ("ended", len(ended), n_all)]
    rows += [(f"ended_{r}", int(reasons.get(r, 0)), len(ended)) for r in END_REASONS]
    out = pd.DataFrame(rows, columns=["status", "n", "of"])
    out["n"] = out["n"].astype(int)
    out["share"] = np.where(out["of"] > 0, out["n"] / out["of"].where(out["of"] > 0, 1), np.nan)
    return out.drop(columns="of")


def protect_flow(flow: pd.DataFrame, min_count: int = disclosure.MIN_COUNT) -> disclosure.Suppressed:
    """Disclosure control for :func:`outcome_flow`: the four end reasons add up to
    ``ended`` and waiting + current + ended add up to ``attached``, so both sums get
    secondary suppression; shares follow their counts."""
    f = flow.set_index("status")
    parts = [("attached", ["waiting", "currently_attached", "ended"]),
             ("ended", [f"ended_{r}" for r in END_REASONS])]
    hidden = pd.Series(False, index=f.index)
    for total, cells in parts:
        t = disclosure.protect_table(f.loc[cells, ["n"]].T, min_count=min_count)
        hidden[cells] |= t.mask.iloc[0][cells].to_numpy()
        hidden[total] |= bool(t.mask.iloc[0]["Total"])
    out = flow[["status", "n", "share"]].reset_index(drop=True)
    mask = pd.DataFrame(False, index=out.index, columns=out.columns)
    mask["n"] = hidden.reindex(out["status"]).to_numpy()
    mask["share"] = mask["n"]
    if hidden["ended"]:  # the reasons' shares would reveal their denominator
        mask.loc[out["status"].str.startswith("ended_"), "share"] = True
    primary = pd.DataFrame(False, index=out.index, columns=out.columns)
    primary["n"] = (out["n"] > 0) & (out["n"] < min_count)
    return disclosure.Suppressed(out.mask(mask), mask, primary)


def outcome_flow_by_quarter(caseload: pd.DataFrame, start: Any = None,
                            end: Any = None) -> pd.DataFrame:
    """:func:`outcome_flow` at every quarter end (long table with a ``quarter`` column)."""
    ep = _prepare_caseload(caseload)
    first = _quarter(start) if start is not None else ep["referral_date"].min().to_period("Q")
    last = _quarter(end) if end is not None else pd.concat(
        [ep[c] for c in _DATES]).max().to_period("Q")
    frames = [outcome_flow(caseload, q.end_time.normalize()).assign(quarter=str(q))
              for q in pd.period_range(first, last, freq="Q")]
    out = pd.concat(frames, ignore_index=True)
    return out[["quarter", "status", "n", "share"]]


def plot_outcome_flow(flow: pd.DataFrame, ax=None):
    """Stacked bars of the job seekers' status by quarter (or at one date).

    ``flow`` is :func:`outcome_flow_by_quarter` (or :func:`outcome_flow`) output, already
    disclosure-controlled: suppressed (NaN) cells are drawn as gaps, never estimated.
    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    f = flow if "quarter" in flow else flow.assign(quarter="")
    parts = ["waiting", "currently_attached"] + [f"ended_{r}" for r in END_REASONS]
    wide = f.pivot(index="quarter", columns="status", values="n").reindex(columns=parts)
    bottom = np.zeros(len(wide))
    colours = ["0.85", "0.45", "tab:green", "tab:blue", "tab:red", "0.7"]
    for part, colour in zip(parts, colours):
        h = wide[part].to_numpy(dtype=float)
        ax.bar(range(len(wide)), np.nan_to_num(h), bottom=bottom, color=colour,
               label=part.replace("_", " "))
        bottom += np.nan_to_num(h)
    ax.set_xticks(range(len(wide)), wide.index, rotation=90, fontsize=7)
    ax.set_ylabel("Job seekers")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("Job seekers by status")
    return ax
