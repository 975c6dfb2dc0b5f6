"""Episodes to persons: what each job seeker's status is at a reference date.

The rules for several episodes of one person (transfers, re-referrals) are in the package
docstring (:mod:`ips_study.caseload`).

>>> classify_end_reason("completed_in_work")
'ordinary_work'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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


def id_text(col: pd.Series) -> pd.Series:
    """Identifiers as text, the same however a reader typed them: whole numbers held as
    floats (an integer column with a gap, read by pandas) lose the ``".0"`` that
    ``astype(str)`` would give them, so ``12345.0`` matches ``"12345"`` in another table."""
    if pd.api.types.is_float_dtype(col.dtype):
        v = col.to_numpy(dtype=float, na_value=np.nan)
        if np.all(np.isnan(v) | (v == np.round(v))):
            return col.astype("Int64").astype(str)
    return col.astype(str)


def _check_id_codings(caseload_ids: pd.Series, other: pd.Series, table: str) -> None:
    """Warn when no caseload person appears in ``table``: ids coded differently (leading
    zeros lost to an integer column) would otherwise make every comparison silently false."""
    import warnings

    a, b = set(id_text(caseload_ids)), set(id_text(other))
    if a and b and not (a & b):
        hint = ""
        if pd.api.types.is_numeric_dtype(caseload_ids.dtype) != pd.api.types.is_numeric_dtype(
                other.dtype):
            hint = (" (one table has numeric person_id, the other text: leading zeros are lost "
                    "when ids are read as numbers; read both as text)")
        warnings.warn(f"no person_id of ips_caseload appears in {table}{hint}: every person "
                      "counts as not in work", UserWarning, stacklevel=4)


def _prepare_caseload(caseload: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _CASELOAD_COLUMNS if c not in caseload.columns]
    if missing:
        raise KeyError(f"ips_caseload lacks column(s): {', '.join(missing)}")
    ep = caseload.loc[:, list(_CASELOAD_COLUMNS)].copy()
    for c in _DATES:
        ep[c] = pd.to_datetime(ep[c])
    for c in ("person_id", "specialist_id", "service"):
        ep[c] = id_text(ep[c])
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
    w["specialist_id"] = id_text(w["specialist_id"])
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
        # reindex, not map: pandas 3's map of an empty datetime Series fails ("Cannot cast
        # DatetimeArray to dtype float64") when no episode has closed yet
        since = pd.Series(last_close.reindex(ep["person_id"]).to_numpy(), index=ep.index)
        current = since.isna() | (ep["referral_date"] >= since)
        with_job = set(ep.loc[current & ep["job_start_date"].notna(), "person_id"])
        people["in_work"] = (people["status"] == "active") & people["person_id"].isin(with_job)
    else:
        e = employment
        works = ((e["fte"].astype(float) > 0) & (e["monthly_wage"].astype(float) > 0)
                 & (pd.to_datetime(e["start_date"]) <= d)
                 & (pd.to_datetime(e["end_date"]).isna() | (pd.to_datetime(e["end_date"]) >= d)))
        # each distinct id once: an employment register has many spells per person
        _check_id_codings(caseload["person_id"], e["person_id"].drop_duplicates(), "employment")
        working = set(id_text(e.loc[works, "person_id"]))
        people["in_work"] = (people["status"] == "active") & people["person_id"].isin(working)
    return people


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
