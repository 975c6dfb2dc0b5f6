"""A slow, obviously-correct reference for the person-month panel: plain loops over days.

It shares no code with :mod:`ips_study.outcomes` / :mod:`ips_study.panel`; tests compare the
two on random registers. Also home of the random register maker used by the panel tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

BENEFIT_OUTCOME = {"disability_pension": "disability"}
HEALTH = {"disability_pension", "work_assessment", "sickness"}
BENEFITS = ["disability_pension", "work_assessment", "sickness", "unemployment",
            "social_assistance", "qualification"]


def _d(x):
    return None if pd.isna(x) else pd.Timestamp(x).date()


def _covers(start, end, day):
    return start <= day and (end is None or end >= day)


def _overlaps(start, end, lo, hi):
    return start <= hi and (end is None or end >= lo)


def reference_month_panel(tables, config, study_codes):
    """Person-month rows computed day by day (open-population design), with a ``target`` flag."""
    months = pd.period_range(config.window_start, config.window_end, freq="M")
    rows = []
    by = {name: {pid: g for pid, g in tables[name].groupby("person_id")}
          for name in ("residence", "benefits", "employment", "diagnoses")}
    empty = {name: tables[name].iloc[:0] for name in by}
    for person in tables["persons"].itertuples(index=False):
        pid = person.person_id
        res = by["residence"].get(pid, empty["residence"]).sort_values("start_date", kind="stable")
        ben = by["benefits"].get(pid, empty["benefits"])
        emp = by["employment"].get(pid, empty["employment"])
        dx = by["diagnoses"].get(pid, empty["diagnoses"])
        birth, death = _d(person.birth_date), _d(person.death_date)
        # plain tuples: the day loop below must stay simple, not fast, but not glacial either
        res = [(_d(r.start_date), _d(r.end_date), r.municipality) for r in res.itertuples(index=False)]
        ben = [(_d(r.start_date), _d(r.end_date), r.benefit) for r in ben.itertuples(index=False)]
        emp = [(_d(r.start_date), _d(r.end_date), r.fte) for r in emp.itertuples(index=False)
               if r.fte > 0 and r.monthly_wage > 0]
        mh_months = set()
        for r in dx.itertuples(index=False):
            code = str(r.code).upper()
            if (r.system == "ICD10" and code.startswith("F")) or (r.system == "ICPC2" and code.startswith("P")):
                d = _d(r.date)
                mh_months.add(d.year * 12 + d.month - 1)
        for per in months:
            lo = per.start_time.date()
            hi = per.end_time.date()
            if not (birth <= lo and (death is None or death >= lo)):
                continue
            muni = None
            for s, e, code in res:
                if _covers(s, e, lo):
                    muni = code  # later starts win (spells are sorted by start)
            if muni is None or muni not in study_codes:
                continue
            age = lo.year - birth.year - ((lo.month, lo.day) < (birth.month, birth.day))
            mid = lo.year * 12 + lo.month - 1
            recent = any(mid - 24 <= m <= mid - 1 for m in mh_months)
            flags = {b: False for b in BENEFITS}
            dp_day1 = False
            for s, e, benefit in ben:
                if _overlaps(s, e, lo, hi):
                    flags[benefit] = True
                if benefit == "disability_pension" and _covers(s, e, lo):
                    dp_day1 = True
            target = (config.age_min <= age <= config.age_max) and recent and not dp_day1
            weekdays = 0
            worked = 0.0
            employed = False
            day = lo
            while day <= hi:
                if day.weekday() < 5:
                    weekdays += 1
                for s, e, fte in emp:
                    if _covers(s, e, day):
                        employed = True
                        if day.weekday() < 5:
                            worked += fte / 100
                day += dt.timedelta(days=1)
            row = {"person_id": pid, "municipality": muni, "period": f"{lo.year}-{lo.month:02d}",
                   "age": age, "target": target, "employed": float(employed), "workdays": min(worked, weekdays)}
            for b in BENEFITS:
                row[BENEFIT_OUTCOME.get(b, b)] = float(flags[b])
            row["health_benefit"] = float(any(flags[b] for b in HEALTH))
            row["any_benefit"] = float(any(flags.values()))
            rows.append(row)
    return pd.DataFrame(rows)


def random_registers(seed: int, n_persons: int = 30, munis=("1804", "1833", "1840")):
    """Small random registers in the typed RegisterSet conventions (no invalid rows)."""
    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp("2006-01-01")

    def day(lo, hi, size):
        return day0 + pd.to_timedelta(rng.integers(lo, hi, size), unit="D")

    pids = [f"p{i:03d}" for i in range(n_persons)]
    birth = pd.Timestamp("1970-01-01") + pd.to_timedelta(rng.integers(0, 365 * 25, n_persons), unit="D")
    death = pd.Series(pd.NaT, index=range(n_persons), dtype="datetime64[ns]")
    dead = rng.random(n_persons) < 0.15
    death[dead] = day(800, 5000, dead.sum())
    persons = pd.DataFrame({"person_id": pids, "birth_date": birth, "sex": rng.choice(["F", "M"], n_persons),
                            "death_date": death.to_numpy()})
    res_rows, ben_rows, emp_rows, dx_rows = [], [], [], []
    for pid in pids:
        # consecutive residence spells with occasional gaps (emigration)
        t = day0 + pd.Timedelta(days=int(rng.integers(0, 400)))
        while t < pd.Timestamp("2020-06-01"):
            length = int(rng.integers(30, 2500))
            end = t + pd.Timedelta(days=length)
            last = end > pd.Timestamp("2020-01-01") and rng.random() < 0.5
            res_rows.append((pid, str(rng.choice(list(munis) + ["0301"])), t, pd.NaT if last else end))
            if last:
                break
            t = end + pd.Timedelta(days=int(1 if rng.random() < 0.8 else rng.integers(2, 300)))
        for _ in range(int(rng.integers(0, 5))):
            s = day(0, 5200, 1)[0]
            e = pd.NaT if rng.random() < 0.15 else s + pd.Timedelta(days=int(rng.integers(0, 900)))
            ben_rows.append((pid, str(rng.choice(BENEFITS)), s, e, 100.0))
        for _ in range(int(rng.integers(0, 4))):
            s = day(0, 5200, 1)[0]
            e = pd.NaT if rng.random() < 0.15 else s + pd.Timedelta(days=int(rng.integers(0, 1500)))
            fte = float(rng.choice([0.0, 20.0, 50.0, 80.0, 100.0]))
            wage = float(rng.choice([0.0, 25000.0, 40000.0], p=[0.1, 0.45, 0.45]))
            emp_rows.append((pid, f"e{rng.integers(0, 20)}", s, e, fte, wage))
        for _ in range(int(rng.integers(0, 4))):
            system = str(rng.choice(["ICD10", "ICPC2"]))
            code = str(rng.choice(["F20", "F32", "J45"] if system == "ICD10" else ["P76", "P74", "L03"]))
            dx_rows.append((pid, day(0, 5200, 1)[0], system, code,
                            "specialist" if system == "ICD10" else "primary"))
    tables = {
        "persons": persons,
        "residence": pd.DataFrame(res_rows, columns=["person_id", "municipality", "start_date", "end_date"]),
        "benefits": pd.DataFrame(ben_rows, columns=["person_id", "benefit", "start_date", "end_date", "grade"]),
        "employment": pd.DataFrame(emp_rows, columns=["person_id", "employer_id", "start_date", "end_date",
                                                      "fte", "monthly_wage"]),
        "diagnoses": pd.DataFrame(dx_rows, columns=["person_id", "date", "system", "code", "source"]),
        "municipalities": pd.DataFrame({
            "municipality": list(munis), "name": [f"M{m}" for m in munis], "county": ["18"] * len(munis),
            "centrality": [3] * len(munis),
            "ips_start": [pd.Timestamp("2013-01-01")] + [pd.NaT] * (len(munis) - 1)}),
    }
    for name in ("residence", "benefits", "employment"):
        for c in ("start_date", "end_date"):
            tables[name][c] = pd.to_datetime(tables[name][c])
    tables["diagnoses"]["date"] = pd.to_datetime(tables["diagnoses"]["date"])
    return tables
