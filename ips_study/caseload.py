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
    Active persons with ``job_start_date <= D`` in an episode of their current stay in the
    service (transfers continue a stay; a re-referral after ending starts a new one), and
    that count divided by ``active`` (share of the active caseload in ordinary paid work). With the
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

    Ending without work, or to disability pension or another benefit, is "no active
    solution" (ingen aktiv løsning); moving away, death and unknown reasons are "other".

    >>> [classify_end_reason(r) for r in ("completed_in_work", "completed_without_work",
    ...                                   "utdanning", "transfer", "moved", None)]
    ['ordinary_work', 'no_active_solution', 'education', 'transfer', 'other', 'other']
    """
    if reason is None or (isinstance(reason, float) and np.isnan(reason)):
        return "other"
    s = str(reason).strip().lower().replace("-", "_").replace(" ", "_")
    if "transfer" in s or "overf" in s or "bytte" in s:
        return "transfer"
    if ("no_active" in s or "ingen" in s or "without" in s or "no_work" in s
            or "disab" in s or "ufor" in s or "uføre" in s or "benefit" in s
            or s in ("none", "no_solution", "inactive", "passive")):
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
                        kind="mergesort").reset_index(drop=True)
    g = ep.groupby("person_id", sort=True)
    people = pd.DataFrame({
        "referral_date": g["referral_date"].min(),
        "first_start": g["start_date"].min(),
        "first_contact": g["first_employer_contact_date"].min(),
        "first_job": g["job_start_date"].min(),
        "last_start": g["start_date"].max(),
    })
    # the first episode: the earliest first meeting, else the earliest referral
    first = (ep.sort_values(["person_id", "start_date"], na_position="last", kind="mergesort")
             .drop_duplicates("person_id").set_index("person_id"))
    people["first_referral"] = first["referral_date"].where(first["start_date"].notna())
    people["intake_specialist"] = first["specialist_id"]
    people["intake_service"] = first["service"]
    active = (ep[ep["state"] == "active"].sort_values(["person_id", "start_date"], kind="mergesort")
              .drop_duplicates("person_id", keep="last").set_index("person_id"))
    waiting = (ep[ep["state"] == "waiting"].drop_duplicates("person_id", keep="last")
               .set_index("person_id"))
    transferred = ep[(ep["state"] == "ended") & (ep["end_class"] == "transfer")]["person_id"]
    ended = (ep[ep["state"] == "ended"].sort_values(["person_id", "end_date"], kind="mergesort")
             .drop_duplicates("person_id", keep="last").set_index("person_id"))
    idx = people.index
    has_active = idx.isin(active.index)
    # between specialists: the new episode is open, the person never left the service
    bridging = (~has_active & idx.isin(waiting.index) & idx.isin(transferred)
                & people["first_start"].notna().to_numpy())
    people["status"] = np.where(has_active | bridging, "active",
                                np.where(idx.isin(waiting.index), "waiting", "ended"))
    cur_spec = active["specialist_id"].reindex(idx).where(has_active,
                                                          waiting["specialist_id"].reindex(idx))
    cur_serv = active["service"].reindex(idx).where(has_active, waiting["service"].reindex(idx))
    is_active = people["status"] == "active"
    people["current_specialist"] = cur_spec.where(is_active, None)
    people["current_service"] = cur_serv.where(is_active, None)
    people["current_start"] = people["last_start"].where(is_active)
    people["end_class"] = ended["end_class"].reindex(idx).where(people["status"] == "ended", None)
    cols = ["person_id", "status", "referral_date", "first_start", "first_referral",
            "first_contact", "first_job", "intake_specialist", "intake_service",
            "current_specialist", "current_service", "current_start", "end_class"]
    people = people.rename_axis("person_id").reset_index()[cols]
    if employment is None:
        # a job counts for the current stay in the service: episodes referred after the
        # last episode that ended other than by transfer (a re-referral starts afresh)
        closed = ep[(ep["state"] == "ended") & (ep["end_class"] != "transfer")]
        last_close = closed.groupby("person_id")["end_date"].max()
        since = ep["person_id"].map(last_close)
        current = since.isna() | (ep["referral_date"] >= since)
        with_job = set(ep.loc[current & ep["job_start_date"].notna(), "person_id"])
        people["in_work"] = (people["status"] == "active") & people["person_id"].isin(with_job)
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


def protect_flow(flow: pd.DataFrame, min_count: int = disclosure.MIN_COUNT, *,
                 force: set[str] | frozenset[str] = frozenset()) -> disclosure.Suppressed:
    """Disclosure control for :func:`outcome_flow`: the four end reasons add up to
    ``ended`` and waiting + current + ended add up to ``attached``, so both sums get
    secondary suppression; shares follow their counts. ``force`` names statuses another
    published table hides (they are hidden and protected here too)."""
    f = flow.set_index("status")
    parts = [("attached", ["waiting", "currently_attached", "ended"]),
             ("ended", [f"ended_{r}" for r in END_REASONS])]
    hidden = pd.Series(False, index=f.index)
    for status in force:
        hidden[status] = True
    changed = True
    while changed:  # "ended" is a cell of one sum and the total of the other
        changed = False
        for total, cells in parts:
            labels = [*cells, total]
            forced = np.array([hidden[labels].to_numpy()] * 2)
            # the headline counts (attached = ever offered, current = active caseload) are
            # published in the metrics too: hide them only when nothing else protects
            avoid = np.array([[s in ("attached", "currently_attached") for s in labels]] * 2)
            t = disclosure.protect_table(f.loc[cells, ["n"]].T, min_count=min_count,
                                         force=forced, avoid=avoid).mask.to_numpy()
            new = pd.Series(t[0] | t[1], index=labels)
            changed |= bool((new & ~hidden[labels]).any())
            hidden[labels] |= new
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
    if wide.isna().to_numpy().any():
        ax.text(0.0, -0.3, "Suppressed cells (fewer than the minimum number of persons, or "
                "revealing one) are not drawn.", transform=ax.transAxes, fontsize=6)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("Job seekers by status")
    return ax


# -- follow-up procedures (the job-specialist continuity procedure as checks) --------------
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


# -- quarterly report -----------------------------------------------------------------------
def _pseudonyms(ids: Sequence[str]) -> dict[str, str]:
    """Specialist ids -> "specialist 1", "specialist 2", ... (sorted, stable across tables)."""
    return {s: f"specialist {k}" for k, s in enumerate(sorted(set(ids)), start=1)}


#: Person count behind each person-based metric row (its ``n``).
_DENOMINATOR = {"ever_offered": "ever_offered", "active": "active", "in_work": "active",
                "share_in_work": "active", "caseload_per_specialist": "active",
                "days_to_job_search": "n_job_search", "days_to_first_meeting": "n_first_meeting"}
_BASE_COUNTS = ("ever_offered", "active", "in_work", "n_job_search", "n_first_meeting")


_GET_COUNT = {
    "ever_offered": ("ever_offered", "count", "value"), "active": ("active", "count", "value"),
    "in_work": ("in_work", "count", "value"),
    "n_job_search": ("days_to_job_search", "median", "n"),
    "n_first_meeting": ("days_to_first_meeting", "median", "n"),
}
_COUNT_COLS = (*_GET_COUNT, "not_in_work")


def _base_counts(m: pd.DataFrame) -> pd.DataFrame:
    """Person counts of every (quarter, group_by, group): the cells disclosure protects."""
    key = ["quarter", "group_by", "group"]
    cols = {}
    for name, (metric, stat, col) in _GET_COUNT.items():
        rows = m[(m["metric"] == metric) & (m["statistic"] == stat)]
        cols[name] = rows.set_index(key)[col].astype(float)
    b = pd.DataFrame(cols)
    b["not_in_work"] = b["active"] - b["in_work"]
    return b


def _protect_lines(vals: np.ndarray, hidden: np.ndarray, rows: list[int], cols: list[int],
                   min_count: int) -> bool:
    """Protect the additive table ``vals[rows][:, cols]`` (last row and column are its
    totals) and merge its mask into ``hidden``; True if anything new was hidden."""
    sub = np.ix_(rows, cols)
    before = hidden.copy()
    after = disclosure.protect_array(vals[sub], min_count=min_count, force=hidden[sub])
    # a row or column may appear twice (a lone row is its own total): merge the copies
    for i, j in zip(*np.nonzero(after)):
        hidden[rows[i], cols[j]] = True
    return bool((hidden & ~before).any())


def protect_metrics(metrics: pd.DataFrame, min_count: int = disclosure.MIN_COUNT, *,
                    force: dict[tuple[str, str], set[str]] | None = None) -> disclosure.Suppressed:
    """Disclosure control of a :func:`caseload_metrics` / :func:`metrics_by_quarter` table.

    Person counts are protected as the tables they form: for every quarter and grouping
    (service, specialist) the groups' counts add up to the overall count, and in every
    group ``in_work + not in work = active`` ("not in work" is never printed but follows by
    subtraction). Each such table gets primary and secondary suppression
    (:func:`ips_study.disclosure.protect_array`), iterated across tables until stable, so no
    hidden count can be recovered by subtraction. A median, mean or share is hidden when
    its person count (or, for the share in work, its numerator) is hidden or below
    ``min_count``; weekly metrics when they rest on fewer than ``min_count``
    specialist-weeks.

    ``force`` maps ``(quarter, "overall")`` to overall counts (``ever_offered``, ``active``)
    that another published table hides; they are hidden here too.

    Returns a :class:`~ips_study.disclosure.Suppressed` aligned with ``metrics``.
    """
    m = metrics if "quarter" in metrics else metrics.assign(quarter="")
    b = _base_counts(m)
    pos = {k: i for i, k in enumerate(b.index)}
    col = {c: j for j, c in enumerate(_COUNT_COLS)}
    vals = b[list(_COUNT_COLS)].to_numpy(dtype=float)
    hidden = (vals > 0) & (vals < min_count)
    for (q, _), names in (force or {}).items():
        for name in names:
            hidden[pos[(q, "overall", "all")], col[name]] = True
    tables: list[tuple[list[int], list[int]]] = []
    for q in b.index.get_level_values("quarter").unique():
        o = pos[(q, "overall", "all")]
        for g in [x for x in m["group_by"].unique() if x != "overall"]:
            rows = [pos[k] for k in b.index if k[0] == q and k[1] == g]
            if not rows:
                continue
            full = [*rows, o]
            tables.append((full, [col["in_work"], col["not_in_work"], col["active"]]))
        # ever offered etc. per group add up to the overall: a one-column table whose
        # total column repeats the column
        for g in [x for x in m["group_by"].unique() if x != "overall"]:
            rows = [pos[k] for k in b.index if k[0] == q and k[1] == g]
            for name in ("ever_offered", "n_job_search", "n_first_meeting"):
                if rows:
                    tables.append(([*rows, o], [col[name], col[name]]))
        # no breakdown: in work + not in work = active overall (the total row repeats it)
        tables.append(([o, o], [col["in_work"], col["not_in_work"], col["active"]]))
    changed = True
    while changed:
        changed = False
        for rows, cols in tables:
            changed |= _protect_lines(vals, hidden, rows, cols, min_count)
    hid = pd.DataFrame(hidden, index=b.index, columns=list(_COUNT_COLS))
    keys = pd.MultiIndex.from_frame(m[["quarter", "group_by", "group"]])
    den = m["metric"].map(_DENOMINATOR)
    person = den.notna().to_numpy()
    n = m["n"].to_numpy(dtype=float)
    small_n = (n > 0) & (n < min_count)

    def lookup(names: pd.Series) -> np.ndarray:
        out = np.zeros(len(m), dtype=bool)
        ok = names.notna().to_numpy()
        if ok.any():
            r = hid.index.get_indexer(keys[ok])
            c = [hid.columns.get_loc(x) for x in names[ok]]
            out[ok] = hid.to_numpy()[r, c]
        return out

    n_hidden = np.where(person, lookup(den) | small_n, small_n)
    is_count = (m["statistic"] == "count").to_numpy()
    own = lookup(m["metric"].where(m["statistic"] == "count"))
    numer = lookup(m["metric"].map({"share_in_work": "in_work"}))
    v_hidden = np.where(is_count & person, own, n_hidden | (n < min_count) | numer)
    mask = pd.DataFrame(False, index=m.index, columns=metrics.columns)
    mask["value"] = v_hidden
    mask["n"] = n_hidden
    primary = pd.DataFrame(False, index=m.index, columns=metrics.columns)
    primary["n"] = small_n
    return disclosure.Suppressed(metrics.mask(mask), mask, primary)


def _protect_consistently(metrics: pd.DataFrame, flows: pd.DataFrame, min_count: int
                          ) -> tuple[disclosure.Suppressed, pd.DataFrame]:
    """Protect the metrics and the outcome flow so that they hide the same overall counts.

    Both publish the overall number ever offered (= attached) and active (= currently
    attached); a count hidden in one table must be hidden in the other, or it could be read
    there. Alternate until neither table hides anything new.
    """
    link = {"ever_offered": "attached", "active": "currently_attached"}
    force: dict[tuple[str, str], set[str]] = {}
    while True:
        msup = protect_metrics(metrics, min_count, force=force)
        hidden_m = {}
        for i in metrics.index[(metrics["group_by"] == "overall")
                               & (metrics["statistic"] == "count")]:
            name = metrics.at[i, "metric"]
            if name in link and msup.mask.at[i, "value"]:
                hidden_m.setdefault(metrics.at[i, "quarter"], set()).add(link[name])
        parts, grew = [], False
        for label, f in flows.groupby("quarter", sort=True):
            sup = protect_flow(f.drop(columns="quarter").reset_index(drop=True), min_count,
                               force=hidden_m.get(label, set()))
            frame = sup.to_frame().assign(quarter=label)
            parts.append(frame)
            for name, status in link.items():
                row = sup.mask[sup.frame["status"] == status]
                if bool(row["n"].any()) and name not in force.get((label, "overall"), set()):
                    force.setdefault((label, "overall"), set()).add(name)
                    grew = True
        if not grew:
            fl = pd.concat(parts, ignore_index=True)[["quarter", "status", "n", "share"]]
            return msup, fl


def quarterly_report(
    caseload: pd.DataFrame,
    weeks: pd.DataFrame | None,
    quarter: Any,
    out_dir: str | Path,
    *,
    min_count: int = disclosure.MIN_COUNT,
    fidelity: pd.DataFrame | None = None,
    absent_weeks: int = 2,
    days_without_work: int = 180,
) -> list[Path]:
    """Quarterly report for the partner organisations (health trust, municipality, NAV).

    Writes, through disclosure control (every count below ``min_count`` and every value
    resting on fewer persons suppressed, totals protected by secondary suppression):

    * ``ips_<Q>_metrics.csv/.md``: all metrics at the quarter end, overall and per service;
    * ``ips_<Q>_specialists.csv/.md``: per specialist (pseudonymised "specialist 1..k");
    * ``ips_<Q>_trend.csv/.md`` and ``.png``: overall metrics at every quarter end so far;
    * ``ips_<Q>_outcome_flow.csv/.md`` and ``.png``: status and end reasons by quarter;
    * ``ips_<Q>_follow_up.csv/.md``: numbers of job seekers flagged by each follow-up check;
    * with ``fidelity`` reviews: ``ips_<Q>_fidelity.csv/.md`` (totals, bands, change) and
      ``ips_<Q>_fidelity_profile.png``.

    Every written table is re-read by :func:`ips_study.disclosure.check_outputs`; a
    violation raises :class:`~ips_study.disclosure.DisclosureError`.

    Returns the written paths (sorted).

    Examples
    --------
    >>> import tempfile
    >>> cl = pd.DataFrame({"person_id": [f"p{i}" for i in range(12)],
    ...     "specialist_id": ["s1"] * 12, "service": ["psychosis team"] * 12,
    ...     "referral_date": ["2014-01-01"] * 12, "start_date": ["2014-01-10"] * 12,
    ...     "first_employer_contact_date": [None] * 12, "job_start_date": [None] * 12,
    ...     "end_date": [None] * 12, "end_reason": [None] * 12})
    >>> paths = quarterly_report(cl, None, "2014Q1", tempfile.mkdtemp())
    >>> sorted({p.suffix for p in paths})
    ['.csv', '.md', '.png']
    """
    import matplotlib.pyplot as plt

    from . import fidelity as fid

    q = _quarter(quarter)
    d = q.end_time.normalize()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"ips_{q}"
    paths: list[Path] = []

    allq = metrics_by_quarter(caseload, weeks, end=q, by=["overall", "service", "specialist"])
    allq["group"] = allq["group"].where(allq["group_by"] != "specialist",
                                        allq["group"].map(_pseudonyms(allq.loc[
                                            allq["group_by"] == "specialist", "group"])))
    flows = outcome_flow_by_quarter(caseload, end=q)
    msup, fl = _protect_consistently(allq, flows, min_count)

    def part(rows: pd.Series, drop_quarter: bool) -> disclosure.Suppressed:
        cols = [c for c in allq.columns if not (drop_quarter and c == "quarter")]
        return disclosure.Suppressed(msup.frame.loc[rows, cols].reset_index(drop=True),
                                     msup.mask.loc[rows, cols].reset_index(drop=True),
                                     msup.primary.loc[rows, cols].reset_index(drop=True))

    now = allq["quarter"] == str(q)
    paths += disclosure.export_table(part(now & (allq["group_by"] != "specialist"), True),
                                     out / f"{stem}_metrics", min_count=min_count)
    paths += disclosure.export_table(part(now & (allq["group_by"] == "specialist"), True),
                                     out / f"{stem}_specialists", min_count=min_count)
    trend = part((allq["group_by"] == "overall")
                 & ~allq["statistic"].isin(["max"]), False)
    paths += disclosure.export_table(trend, out / f"{stem}_trend", min_count=min_count)
    paths.append(_plot_trend(trend.frame, out / f"{stem}_trend.png"))

    paths += disclosure.export_table(fl, out / f"{stem}_outcome_flow", min_count=min_count)
    fig, ax = plt.subplots(figsize=(8, 4))
    plot_outcome_flow(fl.assign(n=pd.to_numeric(fl["n"], errors="coerce")), ax=ax)
    fig.tight_layout()
    paths.append(disclosure.save_figure(fig, out / f"{stem}_outcome_flow.png"))
    plt.close(fig)

    follow = pd.DataFrame({
        "check": [f"specialist absent {absent_weeks}+ weeks",
                  f"followed {days_without_work}+ days without work",
                  f"specialists above {CASELOAD_LIMIT} job seekers"],
        "n": [len(flag_absent_specialist(caseload, weeks, d, min_weeks=absent_weeks))
              if weeks is not None else 0,
              len(flag_long_without_work(caseload, d, days=days_without_work)),
              0],
        "specialists": [0, 0, len(flag_caseload_above_limit(caseload, d))],
    })
    follow = follow.rename(columns={"specialists": "specialists_flagged"})
    fsup = disclosure.suppress_small(follow, min_count=min_count, counts=["n"], rates={})
    paths += disclosure.export_table(fsup, out / f"{stem}_follow_up", min_count=min_count)

    if fidelity is not None:
        scored = fid.score_reviews(fidelity)
        if len(scored) >= 2:
            change = fid.change_between_reviews(fidelity).loc["total"]
            scored["change_in_total"] = [np.nan] + list(change.to_numpy(dtype=float))
        paths += disclosure.export_table(scored, out / f"{stem}_fidelity", min_count=min_count)
        fig, ax = plt.subplots(figsize=(7, 8))
        fid.plot_item_profile(fidelity, ax=ax)
        fig.tight_layout()
        paths.append(disclosure.save_figure(fig, out / f"{stem}_fidelity_profile.png"))
        plt.close(fig)

    check = disclosure.OutputCheck(str(out), min_count)
    for p in paths:
        if p.suffix in disclosure.CHECKED_SUFFIXES:
            check.files.append(p.name)
            check.violations += disclosure.check_file(p, min_count)
    if not check.ok:
        raise disclosure.DisclosureError(check.to_text())
    return sorted(paths)


def _plot_trend(trend: pd.DataFrame, path: Path) -> Path:
    """Active caseload and share in work by quarter; suppressed points are left out."""
    import matplotlib.pyplot as plt

    t = trend[trend["group_by"] == "overall"]
    active = t[(t["metric"] == "active") & (t["statistic"] == "count")]
    share = t[(t["metric"] == "share_in_work") & (t["statistic"] == "share")]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(active))
    ax.plot(x, active["value"].to_numpy(dtype=float), "o-", color="0.3", label="Active caseload")
    ax.set_ylabel("Job seekers")
    ax.set_xticks(x, active["quarter"], rotation=90, fontsize=7)
    ax2 = ax.twinx()
    ax2.plot(x, 100 * share["value"].to_numpy(dtype=float), "s--", color="tab:green",
             label="In ordinary work (%)")
    ax2.axhspan(40, 50, color="tab:green", alpha=0.1, label="Target 40-50 %")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("% of active caseload")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, frameon=False, loc="upper left")
    ax.set_title("IPS caseload by quarter")
    fig.tight_layout()
    disclosure.save_figure(fig, path)
    plt.close(fig)
    return path
