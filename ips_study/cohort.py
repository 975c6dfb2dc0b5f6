"""Target group: who is in the study, when, and the participant flow.

The default rule (data contract, section 3) is evaluated at an *index date*, the first day of a month:

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
from functools import cached_property

import numpy as np
import pandas as pd

from .config import StudyConfig
from .outcomes import MonthGrid, age_at_month_start, as_datetime64, cap_workdays, month_id

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


@dataclass(frozen=True)
class Spells:
    """Spells of one register table as arrays, sorted by person row (table order within a
    person). ``rows`` index the persons table; ``values`` holds one array per extra column."""

    rows: np.ndarray
    start: np.ndarray
    end: np.ndarray
    values: dict

    @classmethod
    def from_table(cls, table: pd.DataFrame, index: pd.Index, start: str, end: str,
                   values: dict | None = None, keep: np.ndarray | None = None) -> "Spells":
        rows = index.get_indexer(table["person_id"])
        ok = rows >= 0 if keep is None else (rows >= 0) & keep
        # a stable sort keeps each person's spells in table order (later rows win ties in
        # the residence grid, panel_kernel.residence_grid, as they did before sorting)
        order = np.flatnonzero(ok)[np.argsort(rows[ok], kind="stable")]
        cols = {k: np.asarray(v)[order] for k, v in (values or {}).items()}
        return cls(rows[order].astype(np.int64), as_datetime64(table[start])[order],
                   as_datetime64(table[end])[order], cols)

    def slice(self, lo: int, hi: int) -> "Spells":
        """Spells of persons ``lo .. hi - 1``, rows renumbered from 0 (views, no copies)."""
        a, b = np.searchsorted(self.rows, [lo, hi])
        return Spells(self.rows[a:b] - lo, self.start[a:b], self.end[a:b],
                      {k: v[a:b] for k, v in self.values.items()})


@dataclass(frozen=True)
class PersonArrays:
    """The registers a panel needs, as NumPy arrays indexed by person row.

    Built once per register set (one string lookup per table row), then sliced into person
    partitions without touching pandas again: per-partition DataFrame indexing and string
    matching used to cost more than the month arithmetic itself.
    """

    person_ids: np.ndarray
    sex: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    residence: Spells   # values: "code" (index into ``codes``, -1 unknown)
    benefits: Spells    # values: "kind" (index into BENEFITS)
    work: Spells        # employment spells counting as work; values: "fte"
    contacts: Spells | None  # mental-health contacts (start = end = contact date)
    codes: list

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], codes: list[str], *,
                    contacts: bool = True) -> "PersonArrays":
        """Arrays of every register; ``contacts=False`` skips classifying the diagnoses
        (only the mental-health target rule reads them; panels of all residents do not)."""
        from .registers.schema import BENEFITS

        persons = tables["persons"]
        index = pd.Index(persons["person_id"])
        res = tables["residence"]
        code = pd.Index(codes).get_indexer(res["municipality"].astype(str)).astype(np.int32)
        ben = tables["benefits"]
        kind = pd.Index(BENEFITS).get_indexer(ben["benefit"].astype(str)).astype(np.int8)
        emp = tables["employment"]
        work = ((emp["fte"] > 0) & (emp["monthly_wage"] > 0)).to_numpy()
        dx = tables["diagnoses"]
        return cls(
            person_ids=persons["person_id"].astype(str).to_numpy(),
            sex=persons["sex"].astype(str).to_numpy(),
            birth=as_datetime64(persons["birth_date"]),
            death=as_datetime64(persons["death_date"]),
            residence=Spells.from_table(res, index, "start_date", "end_date", {"code": code}),
            benefits=Spells.from_table(ben, index, "start_date", "end_date", {"kind": kind}),
            work=Spells.from_table(emp, index, "start_date", "end_date",
                                   {"fte": emp["fte"].to_numpy(dtype=np.float64)}, keep=work),
            contacts=(Spells.from_table(dx, index, "date", "date", keep=mental_health_mask(dx))
                      if contacts else None),
            codes=list(codes),
        )

    def __len__(self) -> int:
        return len(self.person_ids)

    def slice(self, lo: int, hi: int) -> "PersonArrays":
        """Persons ``lo .. hi - 1`` (a partition)."""
        return PersonArrays(self.person_ids[lo:hi], self.sex[lo:hi], self.birth[lo:hi],
                            self.death[lo:hi], self.residence.slice(lo, hi),
                            self.benefits.slice(lo, hi), self.work.slice(lo, hi),
                            None if self.contacts is None else self.contacts.slice(lo, hi),
                            self.codes)


class PersonMonths:
    """All person x month grids of one partition of persons (see :mod:`ips_study.outcomes`).

    ``muni`` holds an index into ``codes`` (-1: not resident anywhere on the first day).
    Every grid but residence and being alive is computed on first use: month panels read
    outcomes straight from the covered cells, and panels of all residents never need the
    target-rule grids (``mh_recent``, ``dp_day1``, ``age``).
    """

    def __init__(self, arrays: PersonArrays, grid: MonthGrid, lookback_months: int):
        self.arrays, self.grid, self.lookback = arrays, grid, lookback_months
        self.person_ids, self.sex, self.codes = arrays.person_ids, arrays.sex, arrays.codes
        from .panel_kernel import residence_grid

        r = arrays.residence
        # one compiled pass over the spells and the grid (the NumPy form, MonthGrid.assign and
        # broadcast comparisons, sorted the spells and made four grid-sized temporaries)
        lo, hi = grid._range(r.start, r.end, first_day=True)
        self.muni, self.alive = residence_grid(
            grid.n_persons, r.rows, lo, hi, r.start.view(np.int64), r.values["code"].astype(np.int32, copy=False),
            arrays.birth.view(np.int64), arrays.death.view(np.int64),
            grid.starts.astype("datetime64[ns]").view(np.int64))

    @cached_property
    def benefit_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid cells covered by benefit spells and the benefit (index into BENEFITS) of each."""
        b = self.arrays.benefits
        return self.grid.cells(b.rows, b.start, b.end, b.values["kind"])

    @cached_property
    def work_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid cells covered by work spells and each spell's FTE-weighted weekdays there."""
        w = self.arrays.work
        return self.grid.workday_cells(w.rows, w.start, w.end, w.values["fte"])

    @cached_property
    def benefit(self) -> dict[str, np.ndarray]:
        """Benefit name -> bool grid: on that benefit any day of the month."""
        from .registers.schema import BENEFITS

        cells, kind = self.benefit_cells
        out = np.zeros((len(BENEFITS), self.grid.n_persons, self.grid.n_months), dtype=bool)
        ok = kind >= 0
        out.reshape(-1)[kind[ok].astype(np.int64) * out[0].size + cells[ok]] = True
        return dict(zip(BENEFITS, out))

    @cached_property
    def employed(self) -> np.ndarray:
        """Bool grid: a spell counting as work covers some day of the month."""
        out = np.zeros((self.grid.n_persons, self.grid.n_months), dtype=bool)
        out.reshape(-1)[self.work_cells[0]] = True
        return out

    @cached_property
    def workdays(self) -> np.ndarray:
        """FTE-weighted weekdays worked per person-month (see :meth:`MonthGrid.workdays`)."""
        g = self.grid
        cells, days = self.work_cells
        total = np.bincount(cells, weights=days, minlength=g.n_persons * g.n_months)
        return cap_workdays(total, np.tile(g.weekdays, g.n_persons)).reshape(g.n_persons, g.n_months)

    @cached_property
    def age(self) -> np.ndarray:
        """Completed years on the first day of each month (persons x months)."""
        return age_at_month_start(month_id(self.arrays.birth), self._birth_day(), self.grid.month_ids)

    @cached_property
    def age_offset(self) -> np.ndarray:
        """Completed months of age at grid column 0, per person (int64): the age at grid
        month ``m`` is ``(age_offset + m) // 12``."""
        return self.grid.first - month_id(self.arrays.birth) - (self._birth_day() > 1)

    def age_at(self, p: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Age (int64) at person-months ``(p[i], m[i])``, without the full grid."""
        return (self.age_offset[p] + m) // 12

    def _birth_day(self) -> np.ndarray:
        b = self.arrays.birth
        return (b.astype("datetime64[D]") - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1

    @cached_property
    def mh_recent(self) -> np.ndarray:
        """A mental-health contact in the ``lookback`` calendar months before each month."""
        c, look, grid = self.arrays.contacts, self.lookback, self.grid
        if c is None:
            raise ValueError("the mental-health target rule needs the diagnoses: build the "
                             "PersonArrays with contacts=True")
        ext = MonthGrid(grid.first - look, grid.n_months + look, grid.n_persons)
        contact = ext.cover(c.rows, c.start, c.end).astype(np.int32)
        csum = np.concatenate([np.zeros((grid.n_persons, 1), np.int64), np.cumsum(contact, axis=1)], axis=1)
        # months m-look .. m-1 in grid coordinates are ext columns m .. m+look-1
        cols = np.arange(grid.n_months)
        return (csum[:, cols + look] - csum[:, cols]) > 0

    @cached_property
    def dp_day1(self) -> np.ndarray:
        """On disability pension on the first day of each month."""
        b = self.arrays.benefits
        k = b.values["kind"] == 0  # BENEFITS[0] is disability_pension
        return self.grid.cover(b.rows[k], b.start[k], b.end[k], first_day=True)

    def resident_in(self, codes: list[str]) -> np.ndarray:
        """Person-months resident (on day 1) in one of ``codes`` and alive."""
        lut = np.zeros(len(self.codes) + 1, dtype=bool)  # slot 0: not resident (-1)
        lut[[self.codes.index(c) + 1 for c in codes if c in self.codes]] = True
        return lut[self.muni + 1] & self.alive

    def target(self, config: StudyConfig, study_codes: list[str]) -> np.ndarray:
        """Person-months meeting the target-group rule with each month as index date."""
        base = self.resident_in(study_codes)
        base &= (self.age >= config.age_min) & (self.age <= config.age_max)
        if config.target_rule == "mental_health":
            return base & self.mh_recent & ~self.dp_day1
        return base & (self.benefit["work_assessment"] > 0)


def person_months(tables, grid: MonthGrid, codes: list[str], config: StudyConfig) -> PersonMonths:
    """Every grid for the persons in ``tables["persons"]`` (one partition).

    ``tables`` is a dict of register DataFrames or a prepared :class:`PersonArrays`.
    """
    arrays = tables if isinstance(tables, PersonArrays) else PersonArrays.from_tables(tables, codes)
    return PersonMonths(arrays, grid, config.mh_lookback_months)


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
