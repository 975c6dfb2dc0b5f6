"""Target group: who is in the study, when, and the participant flow.

The default rule (SPEC section 3) is evaluated at an *index date*, the first day of a month:

1. alive and resident in a study municipality on the index date;
2. aged 18-40 (completed years) on the index date;
3. a mental-health contact - ICD-10 chapter F (specialist care, NPR) or ICPC-2 chapter P
   (primary care, KUHR) - in the 24 calendar months before the index month;
4. not on disability pension (uføretrygd) on the index date.

The alternative rule ``work_assessment`` (the published design) replaces 3-4 by "receiving
work assessment allowance (arbeidsavklaringspenger, AAP) in the index month".

Designs: *open population* re-evaluates the rule every period (month panels: each month;
year panels: at the person's first observed month of the year, i.e. 1 January for people
resident all year, the SSB convention); *closed cohort* evaluates it once at
``config.baseline_date`` and follows the cohort onward by baseline municipality
(intention to treat).

>>> from ips_study.config import StudyConfig
>>> study_municipalities(pd.DataFrame({"municipality": ["1804", "1833"],
...                                    "ips_start": [pd.Timestamp("2013-01-01"), pd.NaT]}),
...                      StudyConfig())
['1804', '1833']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import StudyConfig
from .outcomes import MonthGrid, age_at_month_start, as_datetime64, month_id

MH_PREFIX = {"ICD10": "F", "ICPC2": "P"}


def study_municipalities(municipalities: pd.DataFrame, config: StudyConfig,
                         scope: str = "study") -> list[str]:
    """Municipalities in the sample: treated + controls (``scope="study"``) or all."""
    if scope == "all":
        return sorted(municipalities["municipality"].astype(str))
    if scope != "study":
        raise ValueError("scope must be 'study' or 'all'")
    controls = config.control_municipalities(municipalities)
    return sorted({config.treated_municipality, *controls})


def mental_health_mask(diagnoses: pd.DataFrame) -> np.ndarray:
    """Rows of ``diagnoses`` that are mental-health contacts (ICD-10 F / ICPC-2 P)."""
    # classify each distinct (system, code) pair once: registers repeat a few thousand codes
    # millions of times
    if len(diagnoses) == 0:
        return np.zeros(0, dtype=bool)
    pairs = pd.MultiIndex.from_arrays([diagnoses["system"].astype(str).to_numpy(),
                                       diagnoses["code"].astype(str).to_numpy()])
    codes, uniques = pairs.factorize()
    system = np.asarray(uniques.get_level_values(0))
    code = pd.Series(uniques.get_level_values(1)).str.strip().str.upper()
    hit = np.zeros(len(uniques), dtype=bool)
    for sys_name, prefix in MH_PREFIX.items():
        hit |= (system == sys_name) & code.str.startswith(prefix).to_numpy(dtype=bool)
    return hit[codes]


@dataclass
class PersonMonths:
    """All person x month grids of one partition of persons (see :mod:`ips_study.outcomes`).

    ``muni`` holds an index into ``codes`` (-1: not resident anywhere on the first day).
    """

    person_ids: np.ndarray
    grid: MonthGrid
    codes: list[str]
    muni: np.ndarray
    alive: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    mh_recent: np.ndarray
    dp_day1: np.ndarray
    benefit: dict[str, np.ndarray]
    employed: np.ndarray
    workdays: np.ndarray

    def resident_in(self, codes: list[str]) -> np.ndarray:
        """Person-months resident (on day 1) in one of ``codes`` and alive."""
        idx = [self.codes.index(c) for c in codes if c in self.codes]
        return np.isin(self.muni, idx) & self.alive

    def target(self, config: StudyConfig, study_codes: list[str]) -> np.ndarray:
        """Person-months meeting the target-group rule with each month as index date."""
        base = self.resident_in(study_codes)
        base &= (self.age >= config.age_min) & (self.age <= config.age_max)
        if config.target_rule == "mental_health":
            return base & self.mh_recent & ~self.dp_day1
        return base & (self.benefit["work_assessment"] > 0)


def _rows(table: pd.DataFrame, index: pd.Index) -> tuple[np.ndarray, pd.DataFrame]:
    rows = index.get_indexer(table["person_id"])
    keep = rows >= 0
    return rows[keep], table.loc[keep]


def person_months(tables: dict[str, pd.DataFrame], grid: MonthGrid, codes: list[str],
                  config: StudyConfig) -> PersonMonths:
    """Compute every grid for the persons in ``tables["persons"]`` (one partition)."""
    persons = tables["persons"]
    index = pd.Index(persons["person_id"])
    months = grid.month_ids
    starts = grid.starts.astype("datetime64[ns]")

    r, res = _rows(tables["residence"], index)
    code_index = pd.Index(codes).get_indexer(res["municipality"].astype(str))
    muni = grid.assign(r, res["start_date"], res["end_date"], code_index.astype(np.int32), first_day=True)

    birth = pd.to_datetime(persons["birth_date"])
    death = as_datetime64(persons["death_date"])
    alive = np.isnat(death)[:, None] | (death[:, None] >= starts[None, :])
    alive &= np.asarray(birth, dtype="datetime64[ns]")[:, None] <= starts[None, :]
    age = age_at_month_start(month_id(birth), birth.dt.day.to_numpy(), months)

    # mental-health contacts in the lookback months before each index month
    r, dx = _rows(tables["diagnoses"], index)
    mh = mental_health_mask(dx)
    look = config.mh_lookback_months
    ext = MonthGrid(grid.first - look, grid.n_months + look, grid.n_persons)
    contact = ext.cover(r[mh], dx.loc[mh, "date"], dx.loc[mh, "date"]).astype(np.int32)
    csum = np.concatenate([np.zeros((grid.n_persons, 1), np.int64), np.cumsum(contact, axis=1)], axis=1)
    # months m-look .. m-1 in grid coordinates are ext columns m .. m+look-1
    cols = np.arange(grid.n_months)
    mh_recent = (csum[:, cols + look] - csum[:, cols]) > 0

    r, ben = _rows(tables["benefits"], index)
    kinds = ben["benefit"].astype(str).to_numpy()
    benefit = {}
    from .registers.schema import BENEFITS
    for b in BENEFITS:
        k = kinds == b
        benefit[b] = grid.cover(r[k], ben.loc[k, "start_date"], ben.loc[k, "end_date"])
    k = kinds == "disability_pension"
    dp_day1 = grid.cover(r[k], ben.loc[k, "start_date"], ben.loc[k, "end_date"], first_day=True)

    r, emp = _rows(tables["employment"], index)
    work = ((emp["fte"] > 0) & (emp["monthly_wage"] > 0)).to_numpy()
    employed = grid.cover(r[work], emp.loc[work, "start_date"], emp.loc[work, "end_date"])
    workdays = grid.workdays(r[work], emp.loc[work, "start_date"], emp.loc[work, "end_date"],
                             emp.loc[work, "fte"])

    return PersonMonths(
        person_ids=persons["person_id"].astype(str).to_numpy(), grid=grid, codes=codes,
        muni=muni, alive=alive, age=age, sex=persons["sex"].astype(str).to_numpy(),
        mh_recent=mh_recent, dp_day1=dp_day1, benefit=benefit, employed=employed,
        workdays=workdays,
    )


def participant_flow(tables: dict[str, pd.DataFrame], config: StudyConfig,
                     index_date=None, scope: str = "study") -> pd.DataFrame:
    """Participant flow at an index date: persons remaining after each step, by group.

    Columns: ``step``, ``treated`` (the treated municipality), ``controls``, ``total``. The
    index date defaults to ``config.baseline_date``. Counts are of persons; pass the result
    through :mod:`ips_study.disclosure` before export.
    """
    index_date = pd.Timestamp(index_date if index_date is not None else config.baseline_date)
    grid = MonthGrid.from_range(index_date, index_date, len(tables["persons"]))
    munis = tables["municipalities"]
    study = study_municipalities(munis, config, scope)
    all_codes = sorted(set(tables["residence"]["municipality"].astype(str)) | set(study))
    pm = person_months(tables, grid, all_codes, config)
    treated_idx = all_codes.index(config.treated_municipality) if config.treated_municipality in all_codes else -2
    is_treated = pm.muni[:, 0] == treated_idx
    steps = [("persons in the registers", np.ones(len(pm.person_ids), bool))]
    m = pm.alive[:, 0] & (pm.muni[:, 0] >= 0)
    steps.append(("alive and resident in Norway", m.copy()))
    m &= pm.resident_in(study)[:, 0]
    steps.append(("resident in a study municipality", m.copy()))
    m &= (pm.age[:, 0] >= config.age_min) & (pm.age[:, 0] <= config.age_max)
    steps.append((f"aged {config.age_min}-{config.age_max}", m.copy()))
    if config.target_rule == "mental_health":
        m &= pm.mh_recent[:, 0]
        steps.append((f"mental-health contact in previous {config.mh_lookback_months} months", m.copy()))
        m &= ~pm.dp_day1[:, 0]
        steps.append(("not on disability pension", m.copy()))
    else:
        m &= pm.benefit["work_assessment"][:, 0]
        steps.append(("receiving work assessment allowance", m.copy()))
    rows = []
    for name, mask in steps:
        rows.append({"step": name, "treated": int((mask & is_treated).sum()),
                     "controls": int((mask & ~is_treated & pm.resident_in(study)[:, 0]).sum()),
                     "total": int(mask.sum())})
    out = pd.DataFrame(rows)
    out.attrs["index_date"] = index_date.strftime("%Y-%m-%d")
    return out
