"""Calibration of the synthetic registers against public figures (data contract, section 6).

:func:`calibration_table` computes, from a register set, each figure the generator is
calibrated to, next to the published value and the tolerance the tests use:

* disability pension (uføretrygd) prevalence at 30.06.2016 in Nordland municipalities, ages
  18-29 and 30-39. The data contract gives NAV's recipient counts (704 and 1,232); the shares use
  SSB's Nordland population at 1.1.2016 as denominator (about 36,900 aged 18-29 and 28,900
  aged 30-39, table 07459, rounded), so the published shares are 1.9 % and 4.3 %;
* the relative rise of disability prevalence among 18-40 year olds from 31.12.2010 to
  31.12.2019 (all ages rose 9.5 % -> 10.3 % nationally, Nordland 12.7 % -> 13.6 %; young
  adults rose faster, so the tolerance is one-sided wide);
* the share of 18-29 year olds on health-related benefits in 2017 (5.1 %, measured at
  30.06.2017);
* the share of 18-40 year olds with a mental-health contact in the previous 24 months;
* the "Kom i jobb" programme metrics at 2014-09-30 (report Table 3), with the definitions
  shared with :mod:`ips_study.caseload`.

Example
-------
>>> PROGRAMME_TARGETS["ever_offered"]
101
"""

from __future__ import annotations

import pandas as pd

REFERENCE_DATE = pd.Timestamp("2014-09-30")
PROGRAMME_TARGETS = {"ever_offered": 101, "active_caseload": 58, "share_in_work": 0.53,
                     "days_to_job_search": 24, "days_referral_to_meeting": 9,
                     "employer_meetings_per_week": 8, "community_share": 0.66}


def _residents(rs, date: pd.Timestamp, municipalities=None) -> pd.DataFrame:
    res = rs["residence"]
    on = (res["start_date"] <= date) & (res["end_date"].isna() | (res["end_date"] >= date))
    if municipalities is not None:
        on &= res["municipality"].isin(municipalities)
    p = rs["persons"].set_index("person_id")
    ids = res.loc[on, "person_id"].drop_duplicates()
    birth = p.loc[ids, "birth_date"]
    age = date.year - birth.dt.year - ((birth.dt.month > date.month)
                                       | ((birth.dt.month == date.month) & (birth.dt.day > date.day)))
    return pd.DataFrame({"person_id": ids.to_numpy(), "age": age.to_numpy()})


def _on_benefit(rs, date: pd.Timestamp, benefits) -> set:
    b = rs["benefits"]
    on = b["benefit"].isin(benefits) & (b["start_date"] <= date) & (b["end_date"].isna() | (b["end_date"] >= date))
    return set(b.loc[on, "person_id"])


def prevalence(rs, date, benefits, age_lo: int, age_hi: int, municipalities=None) -> float:
    """Share of residents aged ``age_lo``-``age_hi`` on any of ``benefits`` at ``date``."""
    pop = _residents(rs, pd.Timestamp(date), municipalities)
    pop = pop[(pop["age"] >= age_lo) & (pop["age"] <= age_hi)]
    on = _on_benefit(rs, pd.Timestamp(date), benefits)
    return float(pop["person_id"].isin(on).mean())


def mental_health_share(rs, date, age_lo: int = 18, age_hi: int = 40) -> float:
    """Share of residents with an ICD-10 F / ICPC-2 P contact in the 24 months before ``date``."""
    date = pd.Timestamp(date)
    pop = _residents(rs, date)
    pop = pop[(pop["age"] >= age_lo) & (pop["age"] <= age_hi)]
    d = rs["diagnoses"]
    mh = d["code"].str[0].eq("F") & d["system"].eq("ICD10") | d["code"].str[0].eq("P") & d["system"].eq("ICPC2")
    recent = mh & (d["date"] <= date) & (d["date"] > date - pd.DateOffset(months=24))
    return float(pop["person_id"].isin(set(d.loc[recent, "person_id"])).mean())


def programme_metrics(rs, date=REFERENCE_DATE) -> dict[str, float]:
    """The report's Table 3 metrics at ``date`` (definitions shared with the caseload module)."""
    D = pd.Timestamp(date)
    c = rs["ips_caseload"]
    started = c["start_date"] <= D
    active = started & (c["end_date"].isna() | (c["end_date"] > D))
    contact = started & (c["first_employer_contact_date"] <= D)
    w = rs["specialist_weeks"]
    recent = (w["week_start"] > D - pd.Timedelta(days=91)) & (w["week_start"] <= D)
    return {
        "ever_offered": int(c.loc[c["referral_date"] <= D, "person_id"].nunique()),
        "active_caseload": int(active.sum()),
        "share_in_work": float((active & (c["job_start_date"] <= D)).sum() / max(active.sum(), 1)),
        "days_to_job_search": float((c.loc[contact, "first_employer_contact_date"]
                                     - c.loc[contact, "start_date"]).dt.days.median()),
        "days_referral_to_meeting": float((c.loc[started, "start_date"]
                                           - c.loc[started, "referral_date"]).dt.days.median()),
        "employer_meetings_per_week": float(w.loc[recent, "employer_meetings"].mean()),
        "community_share": float(w.loc[recent, "hours_in_community"].sum() / w.loc[recent, "hours_worked"].sum()),
    }


def calibration_table(rs) -> pd.DataFrame:
    """Generated vs published figures with the tolerance the calibration tests use.

    >>> from ips_study.synthetic import generate                    # doctest: +SKIP
    >>> calibration_table(generate().registers)                     # doctest: +SKIP
    """
    geo = rs["municipalities"]
    nordland = list(geo.loc[geo["county"] == "Nordland", "municipality"])
    dp = ["disability_pension"]
    health = ["disability_pension", "work_assessment", "sickness"]
    rise = (prevalence(rs, "2019-12-31", dp, 18, 40) / prevalence(rs, "2010-12-31", dp, 18, 40))
    rows = [
        ("Disability pension, Nordland, age 18-29, 30.06.2016", 704 / 36_900,
         prevalence(rs, "2016-06-30", dp, 18, 29, nordland), 0.006),
        ("Disability pension, Nordland, age 30-39, 30.06.2016", 1_232 / 28_900,
         prevalence(rs, "2016-06-30", dp, 30, 39, nordland), 0.012),
        ("Disability pension, all study municipalities, age 18-29, 30.06.2016", 13_781 / 848_000,
         prevalence(rs, "2016-06-30", dp, 18, 29), 0.008),
        ("Disability pension, all study municipalities, age 30-39, 30.06.2016", 23_464 / 705_000,
         prevalence(rs, "2016-06-30", dp, 30, 39), 0.015),
        ("Rise in disability prevalence 2010-2019 (ratio; all ages 1.08)", 10.3 / 9.5, rise, 0.35),
        ("Health-related benefits, age 18-29, 2017", 0.051,
         prevalence(rs, "2017-06-30", health, 18, 29), 0.015),
        ("Mental-health contact in previous 24 months, age 18-40, 2014 (assumed; no public figure)", 0.17,
         mental_health_share(rs, "2014-12-31"), 0.06),
    ]
    out = pd.DataFrame(rows, columns=["figure", "published", "generated", "tolerance"])
    if "ips_caseload" in rs and "specialist_weeks" in rs:
        m = programme_metrics(rs)
        tol = {"ever_offered": 0.5, "active_caseload": 0.5, "share_in_work": 0.005,
               "days_to_job_search": 0.5, "days_referral_to_meeting": 0.5,
               "employer_meetings_per_week": 0.5, "community_share": 0.005}
        prog = pd.DataFrame([(f"Kom i jobb 2014-09-30: {k.replace('_', ' ')}", float(v), float(m[k]), tol[k])
                             for k, v in PROGRAMME_TARGETS.items()], columns=out.columns)
        out = pd.concat([out, prog], ignore_index=True)
    out["within"] = (out["generated"] - out["published"]).abs() <= out["tolerance"]
    return out
