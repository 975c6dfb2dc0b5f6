"""Turn monthly simulated paths into register tables (spells), vectorised.

A run of equal values in a person's monthly path becomes one spell. A spell starts on the
person's change day of its first month and ends the day before the change day of the month
after its last one; a spell still running in the last month is open (``NaT`` end). Social
assistance and the qualification programme are paid per calendar month, so their spells
run from the first to the last day of their months, as in the municipal statistics they come
from (and so they may overlap a neighbouring spell in a transition month).

Example
-------
>>> runs(np.array([[0, 2, 2, 0, 3]]), null=0)
(array([0, 0]), array([1, 4]), array([2, 4]), array([2, 3]))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .population import ABSENT, Calendar, Population
from .states import AAP, DP, QUAL, SA, SICK, UNEMP, ProgrammeRecord

#: state -> benefit code of the ``benefits`` table
STATE_BENEFIT = {UNEMP: "unemployment", SICK: "sickness", AAP: "work_assessment",
                 DP: "disability_pension", SA: "social_assistance", QUAL: "qualification"}
MONTHLY_BENEFITS = (SA, QUAL)


def runs(x: np.ndarray, null: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal non-``null`` values per row: (row, first column, last column, value)."""
    prev = np.empty_like(x)
    prev[:, 0] = null
    prev[:, 1:] = x[:, :-1]
    nxt = np.empty_like(x)
    nxt[:, -1] = null
    nxt[:, :-1] = x[:, 1:]
    ps, ts = np.nonzero((x != prev) & (x != null))
    pe, te = np.nonzero((x != nxt) & (x != null))
    return ps, ts, te, x[ps, ts]


def _bounds(cal: Calendar, pop: Population, p: np.ndarray, ts: np.ndarray, te: np.ndarray,
            monthly: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    T = cal.n_months
    start = np.where(ts == 0, cal.month_start[0], cal.day_date(ts, pop.change_day[p, ts]))
    te1 = np.minimum(te + 1, T - 1)
    end = cal.day_date(te1, pop.change_day[p, te1]) - np.timedelta64(1, "D")
    if monthly is not None:
        start = np.where(monthly, cal.month_start[ts], start)
        month_end = (cal.month_start[te].astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        end = np.where(monthly, month_end, end)
    start = start.astype("datetime64[ns]")
    end = end.astype("datetime64[ns]")
    end[te == T - 1] = np.datetime64("NaT")
    return start, end


def job_fte(u: np.ndarray, mh_class: np.ndarray, ips_job: np.ndarray | bool = False) -> np.ndarray:
    """Position percentage of a job from its start month's shared draw.

    Part-time is likelier with mental illness; jobs found by a job specialist are part-time
    (20-50 %), as typical first IPS placements are.
    """
    u = np.asarray(u, dtype=np.int64)
    part_time = u < np.where(mh_class > 0, 128, 90)
    fte = np.where(part_time, 20.0 + 10 * (u % 8), 100.0)
    return np.where(ips_job, 20.0 + 10 * (u % 4), fte)


def is_ips_job(p: np.ndarray, start_t: np.ndarray, ips_job_t: np.ndarray | None) -> np.ndarray | bool:
    """Whether the job of person ``p`` starting in month ``start_t`` was found by the job clock."""
    if ips_job_t is None:
        return False
    return ips_job_t[p] == start_t


def persons_table(pop: Population, cal: Calendar, ids: np.ndarray) -> pd.DataFrame:
    """The ``persons`` table."""
    death = np.full(pop.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    d = pop.death_month >= 0
    death[d] = cal.day_date(pop.death_month[d], pop.change_day[d, pop.death_month[d]])
    return pd.DataFrame({"person_id": ids, "birth_date": pop.birth_date.astype("datetime64[ns]"),
                         "sex": np.where(pop.female, "F", "M"), "death_date": death})


def residence_table(pop: Population, cal: Calendar, ids: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """The ``residence`` table from the monthly municipality matrix."""
    p, ts, te, v = runs(pop.residence, ABSENT)
    start, end = _bounds(cal, pop, p, ts, te)
    return pd.DataFrame({"person_id": ids[p], "municipality": codes[v], "start_date": start,
                         "end_date": end})


def benefits_table(state: np.ndarray, shared_u: np.ndarray, pop: Population, cal: Calendar,
                   ids: np.ndarray) -> pd.DataFrame:
    """The ``benefits`` table from a monthly state matrix (one world)."""
    code = np.full(state.shape, -1, dtype=np.int8)
    for s in STATE_BENEFIT:
        code[state == s] = s
    p, ts, te, v = runs(code, -1)
    start, end = _bounds(cal, pop, p, ts, te, monthly=np.isin(v, MONTHLY_BENEFITS))
    u = shared_u[p, ts].astype(np.int64)
    grade = np.full(len(p), 100.0)
    grade = np.where((v == DP) & (u < 50), 50.0 + 10 * (u % 4), grade)
    grade = np.where((v == AAP) & (u < 25), 50.0, grade)
    grade = np.where((v == SICK) & (u < 50), 50.0 + 10 * (u % 3), grade)
    grade = np.where(np.isin(v, MONTHLY_BENEFITS), np.nan, grade)
    names = np.array([STATE_BENEFIT.get(s, "") for s in range(8)], dtype=object)
    return pd.DataFrame({"person_id": ids[p], "benefit": names[v], "start_date": start,
                         "end_date": end, "grade": grade})


def employment_table(job: np.ndarray, shared_u: np.ndarray, pop: Population, cal: Calendar,
                     ids: np.ndarray, person_offset: int, ips_job_t: np.ndarray | None = None) -> pd.DataFrame:
    """The ``employment`` table from a monthly job-key matrix (one world)."""
    p, ts, te, key = runs(job, 0)
    start, end = _bounds(cal, pop, p, ts, te)
    u = shared_u[p, key - 1].astype(np.int64)
    fte = job_fte(u, pop.mh_class[p], is_ips_job(p, key - 1, ips_job_t))
    age = (cal.month_number[ts] - pop.birth_month[p]) // 12
    year = cal.year[ts]
    full_wage = (30000 + 1000 * np.clip(age - 18, 0, 25) + 500 * (u % 17 - 8)) * 1.03 ** (year - 2006)
    wage = np.round(full_wage * fte / 100, -2)
    muni = np.maximum(pop.residence[p, ts], 0).astype(np.int64)
    h = ((p + person_offset) * 2654435761 + ts * 40503) % 1500
    employer = (900_000_000 + muni * 100_000 + h).astype(str)
    return pd.DataFrame({"person_id": ids[p], "employer_id": employer, "start_date": start,
                         "end_date": end, "fte": fte, "monthly_wage": wage})


def diagnoses_table(rows: dict[str, np.ndarray], cal: Calendar, ids: np.ndarray) -> pd.DataFrame:
    """The ``diagnoses`` table from the simulated contacts."""
    spec = rows["specialist"]
    return pd.DataFrame({
        "person_id": ids[rows["person"]],
        "date": cal.day_date(rows["month"], rows["day"]).astype("datetime64[ns]"),
        "system": np.where(spec, "ICD10", "ICPC2"),
        "code": rows["code"].astype(str),
        "source": np.where(spec, "specialist", "primary"),
    })


def caseload_table(prog: ProgrammeRecord, pop: Population, cal: Calendar, ids: np.ndarray,
                   municipality: int, rng: np.random.Generator,
                   specialists: list[str]) -> pd.DataFrame:
    """The ``ips_caseload`` quality register of one municipality's programme."""
    sel = np.nonzero(prog.municipality == municipality)[0]
    sel = sel[np.argsort(prog.order[sel], kind="stable")]
    last_day = (cal.month_start[-1].astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    referral = cal.day_date(prog.referral_t[sel], prog.referral_day[sel])
    start = referral + prog.meet_days[sel].astype("timedelta64[D]")
    contact = start + prog.contact_days[sel].astype("timedelta64[D]")
    ended = prog.end_t[sel] >= 0
    end_t = np.where(ended, prog.end_t[sel], 0)
    end = cal.day_date(end_t, pop.change_day[sel, end_t])
    # an episode cannot end before its first meeting
    end = np.where(end < start, start, end)
    job_t = prog.job_start_t[sel]
    has_job = job_t >= 0
    jt = np.where(has_job, job_t, 0)
    job = cal.day_date(jt, pop.change_day[sel, jt])
    nat = np.datetime64("NaT")
    contact = np.where((ended & (contact > end)) | (contact > last_day), nat, contact)
    reason = prog.end_reason[sel].copy()
    done = reason == "completed"
    reason[done & has_job] = "completed_in_work"
    reason[done & ~has_job] = "completed_without_work"
    service = rng.choice(["psychosis_team", "municipal_mental_health", "nav"], len(sel), p=[0.3, 0.5, 0.2])
    out = pd.DataFrame({
        "person_id": ids[sel],
        "specialist_id": np.asarray(specialists, dtype=object)[np.arange(len(sel)) % len(specialists)],
        "service": service,
        "referral_date": referral.astype("datetime64[ns]"),
        "start_date": np.where(start > last_day, nat, start).astype("datetime64[ns]"),
        "first_employer_contact_date": contact.astype("datetime64[ns]"),
        "job_start_date": np.where(has_job, job, nat).astype("datetime64[ns]"),
        "end_date": np.where(ended, end, nat).astype("datetime64[ns]"),
        "end_reason": np.where(ended, reason, None),
    })
    return out
