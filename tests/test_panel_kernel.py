"""The compiled panel kernel (``ips_study.panel_kernel``) against a NumPy formulation from whole
person x month grids, and against its own Python source run by the interpreter.

The grid reference shares no code with the kernel: residence by a stable sort on the start and
a scatter, outcomes from the grids of ``PersonMonths`` (``MonthGrid.cells``, ``bincount``
workdays, ``age_at_month_start``), every column gathered at the included cells. It is compared
partition by partition, column by column and bit for bit, on the embedded data (open and
closed designs, all residents and the target group) and on small registers made to hit the
edges: overlapping and same-day residence spells, spells starting or ending on a month's
first or last day or on a weekend, births and deaths on the first of a month, unknown
benefit kinds, fractional FTE, persons without any spell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ips_study import panel_kernel as K
from ips_study.cohort import PersonArrays, person_months, study_municipalities
from ips_study.config import StudyConfig
from ips_study.outcomes import MonthGrid
from ips_study.panel import (KEY_COLUMNS, MONTH_DTYPES, OUTCOMES, _all_codes, _partition_panel,
                              iter_panel)
from ips_study.registers.schema import BENEFITS, HEALTH_BENEFITS

from .panel_reference import random_registers

DESIGNS = [("open", False), ("open", True), ("closed", False), ("closed", True)]


def _residence(arrays: PersonArrays, grid: MonthGrid):
    """Municipality grid and being alive, NumPy: spells sorted by start (stable), later writes win."""
    r = arrays.residence
    order = np.argsort(r.start, kind="stable")
    cells, code = grid.cells(r.rows[order], r.start[order], r.end[order], r.values["code"][order],
                             first_day=True)
    muni = np.full((grid.n_persons, grid.n_months), -1, np.int32)
    muni.reshape(-1)[cells] = code
    starts = grid.starts.astype("datetime64[ns]")
    alive = (np.isnat(arrays.death)[:, None] | (arrays.death[:, None] >= starts)) & (arrays.birth[:, None] <= starts)
    return muni, alive


def reference_partition(arrays: PersonArrays, munis: pd.DataFrame, config: StudyConfig,
                        restrict_to_target: bool, scope: str, codes: list[str]) -> dict:
    """Month columns of one partition from whole grids: {column: array} (codes for text)."""
    study = study_municipalities(munis, config, scope)
    in_study = np.isin(np.asarray(codes), study)

    def resident(muni, alive):
        return np.where(muni >= 0, in_study[muni], False) & alive

    def target(pm, muni, alive):
        base = resident(muni, alive) & (pm.age >= config.age_min) & (pm.age <= config.age_max)
        if config.target_rule == "mental_health":
            return base & pm.mh_recent & ~pm.dp_day1
        return base & pm.benefit["work_assessment"]

    grid = MonthGrid.from_range(config.window_start, config.window_end, len(arrays))
    pm = person_months(arrays, grid, codes, config)  # only its NumPy grids are read below
    muni, alive = _residence(arrays, grid)
    if config.design == "closed":
        g0 = MonthGrid.from_range(config.baseline_date, config.baseline_date, len(arrays))
        mu0, al0 = _residence(arrays, g0)
        pm0 = person_months(arrays, g0, codes, config)
        in_cohort = (target(pm0, mu0, al0) if restrict_to_target else resident(mu0, al0))[:, 0]
        observed = in_cohort[:, None] & alive & (muni >= 0)
        label = np.broadcast_to(mu0, muni.shape)
        include = observed
    else:
        observed = resident(muni, alive)
        label = muni
        include = target(pm, muni, alive) if restrict_to_target else observed
    p, m = np.nonzero(include)
    lab = label[p, m]
    starts = grid.starts.astype("datetime64[ns]")
    ips = pd.to_datetime(munis.set_index(munis["municipality"].astype(str))["ips_start"]
                         .reindex(codes)).to_numpy(dtype="datetime64[ns]")
    sex_values, sex_codes = np.unique(arrays.sex.astype(str), return_inverse=True)
    out = {"person_id": p, "municipality": lab, "period": m, "period_start": starts[m],
           "treated": (np.asarray(codes)[lab] == config.treated_municipality).astype(np.int8),
           "post": (starts[m] >= np.datetime64(config.ips_start)).astype(np.int8),
           "ips_start": ips[lab], "exposed": (ips[lab] <= starts[m]).astype(np.int8),
           "event_time": grid.month_ids[m] - (config.ips_start.year - 1970) * 12 - (config.ips_start.month - 1),
           "age": pm.age[p, m], "sex": sex_codes[p], "months_observed": np.ones(len(p), np.int64)}
    if config.design == "closed":
        out["current_municipality"] = muni[p, m]
    health = np.zeros_like(observed)
    anyb = np.zeros_like(observed)
    for b in BENEFITS:
        out[{"disability_pension": "disability"}.get(b, b)] = pm.benefit[b][p, m].astype(np.float64)
        anyb |= pm.benefit[b]
        health |= pm.benefit[b] if b in HEALTH_BENEFITS else False
    out["health_benefit"] = out["benefit_months"] = health[p, m].astype(np.float64)
    out["any_benefit"] = anyb[p, m].astype(np.float64)
    out["employed"] = pm.employed[p, m].astype(np.float64)
    out["workdays"] = pm.workdays[p, m]
    year = grid.month_ids // 12
    months_on = np.stack([(health & observed)[:, year == y].sum(axis=1) for y in np.unique(year)], axis=1)
    out["ltbd"] = (months_on >= config.ltbd_months)[:, year - year[0]][p, m].astype(np.float64)
    return out


def assert_partitions_equal(tables, config, restrict_to_target, scope="all", size=5_000):
    codes = _all_codes(tables)
    arrays = PersonArrays.from_tables(tables, codes)
    munis = tables["municipalities"]
    rows = 0
    for lo in range(0, len(arrays), size):
        part = arrays.slice(lo, lo + size)
        got = _partition_panel(part, munis, config, "month", restrict_to_target, scope, codes)
        want = reference_partition(part, munis, config, restrict_to_target, scope, codes)
        closed = ["current_municipality"] if config.design == "closed" else []
        assert list(got) == [*KEY_COLUMNS, *closed, *OUTCOMES]
        assert set(got) == set(want)
        for col, ref in want.items():
            v = got[col]
            a = v[0] if isinstance(v, tuple) else np.asarray(v)
            if a.dtype.kind == "M":   # NaT == NaT bit for bit
                a, ref = a.view(np.int64), ref.view(np.int64)
            # the reference is the float/int64 formulation: the panel's compact types hold the
            # same values (compared as the reference's type: a wrapped int8/int16 would differ)
            assert a.dtype == np.dtype(MONTH_DTYPES.get(col, ref.dtype)) or isinstance(v, tuple), col
            np.testing.assert_array_equal(a.astype(ref.dtype), ref, err_msg=f"{col}, persons {lo}..")
        rows += len(want["period"])
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("design,target", DESIGNS)
def test_kernel_equals_grid_reference_on_embedded_data(design, target):
    from ips_study.datasets import load_registers

    tables = dict(load_registers().tables)
    config = StudyConfig(freq="month", design=design)
    rows = assert_partitions_equal(tables, config, target, scope="study" if target else "all")
    assert rows > (100_000 if target else 5_000_000)


def adversarial_registers(seed: int, n_persons: int = 40) -> dict:
    """Small registers whose dates sit on the edges the kernel must get right."""
    t = random_registers(seed, n_persons=n_persons)
    rng = np.random.default_rng(seed)
    edges = pd.to_datetime(["2007-12-31", "2008-01-01", "2008-01-02", "2010-02-28", "2012-02-29",
                            "2012-03-01", "2013-01-01", "2013-06-01", "2013-06-02", "2013-06-08",
                            "2013-06-09", "2015-12-31", "2016-01-01", "2019-11-30", "2019-12-01",
                            "2019-12-31", "2020-01-01"])

    def pick(k):
        return edges[rng.integers(0, len(edges), k)]

    persons = t["persons"].copy()
    k = n_persons // 4
    persons.loc[persons.index[:k], "birth_date"] = pick(k) - pd.DateOffset(years=25)
    persons.loc[persons.index[k:2 * k], "death_date"] = pick(k)
    ids = persons["person_id"].to_numpy()
    # overlapping residence: nested spells, spells starting the same day (the later row wins),
    # spells starting on the 1st or the 2nd, open ends
    extra_res = pd.DataFrame({"person_id": rng.choice(ids[:-2], 3 * k), "municipality": rng.choice(["1804", "1833", "1840", "0301"], 3 * k),
                              "start_date": pick(3 * k), "end_date": pick(3 * k)})
    extra_res.loc[extra_res["end_date"] < extra_res["start_date"], "end_date"] = pd.NaT
    res = pd.concat([t["residence"], extra_res], ignore_index=True)
    # the last two persons have no spells at all
    res = res[~res["person_id"].isin(ids[-2:])]
    s = pick(3 * k)
    ben = pd.DataFrame({"person_id": rng.choice(ids[:-2], 3 * k), "benefit": rng.choice([*BENEFITS, "unknown"], 3 * k),
                        "start_date": s, "end_date": s + pd.to_timedelta(rng.choice([0, 1, 29, 31, 400], 3 * k), unit="D"),
                        "grade": 100.0})
    s = pick(3 * k)
    emp = pd.DataFrame({"person_id": rng.choice(ids[:-2], 3 * k), "employer_id": "e1", "start_date": s,
                        "end_date": s + pd.to_timedelta(rng.choice([0, 1, 2, 6, 30, 700], 3 * k), unit="D"),
                        "fte": rng.choice([33.33, 50.0, 100.0, 12.5], 3 * k), "monthly_wage": 30000.0})
    emp.loc[emp.index[::5], "end_date"] = pd.NaT
    return {**t, "persons": persons, "residence": res.reset_index(drop=True),
            "benefits": pd.concat([t["benefits"], ben], ignore_index=True),
            "employment": pd.concat([t["employment"], emp], ignore_index=True)}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), which=st.integers(0, 3),
       rule=st.sampled_from(["mental_health", "work_assessment"]), size=st.sampled_from([7, 1000]))
def test_kernel_equals_grid_reference_on_adversarial_registers(seed, which, rule, size):
    design, target = DESIGNS[which]
    config = StudyConfig(freq="month", design=design, target_rule=rule,
                         baseline_date=pd.Timestamp("2013-06-01"))
    assert_partitions_equal(adversarial_registers(seed), config, target,
                            scope="study" if target else "all", size=size)


@pytest.mark.parametrize("design,target", DESIGNS)
def test_compiled_kernel_equals_its_python_source(design, target, monkeypatch):
    # the same code run by the interpreter: integer division, wrap-around of negative codes,
    # float rounding and the NaT sentinel must behave as in Python/NumPy
    tables = adversarial_registers(5, n_persons=60)
    config = StudyConfig(freq="month", design=design, baseline_date=pd.Timestamp("2013-06-01"))
    kw = dict(restrict_to_target=target, scope="study" if target else "all", freq="month",
              arrow=True, partition_size=17)
    compiled = pa.concat_tables(list(iter_panel(tables, config, **kw)))
    for name in ("residence_grid", "count_rows", "fill_month_rows"):
        monkeypatch.setattr(K, name, getattr(K, name).py_func)
    interpreted = pa.concat_tables(list(iter_panel(tables, config, **kw)))
    assert compiled.num_rows > 0
    assert compiled.equals(interpreted)


def test_unsorted_spells_are_refused():
    grid = MonthGrid.from_range("2012-01", "2012-03", 2)
    starts = grid.starts.astype("datetime64[ns]").view(np.int64)
    rows = np.array([1, 0])
    one = np.zeros(2, np.int64)
    born = np.full(2, starts[0])
    with pytest.raises(ValueError, match="sorted by person"):
        K.residence_grid(2, rows, one, one, one, one.astype(np.int32), born, np.full(2, K.NAT), starts)
    muni, _ = K.residence_grid(2, rows[::-1].copy(), one, one, one, np.array([3, 4], np.int32), born,
                               np.full(2, K.NAT), starts)
    assert muni[:, 0].tolist() == [3, 4]
