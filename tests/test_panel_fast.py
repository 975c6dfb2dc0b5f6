"""The fast panel paths (cell lists, person arrays, worker threads) against slower, independent
formulations of the same quantities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ips_study.cohort import PersonArrays, person_months
from ips_study.config import StudyConfig
from ips_study.outcomes import MonthGrid
from ips_study.panel import _all_codes, build_panel, iter_panel

from .panel_reference import random_registers

DAY0 = np.datetime64("2007-06-01", "D")


def random_spells(seed: int, n_persons: int, n_spells: int):
    """Spells starting 2007-06 .. 2020-06 with lengths from one day to years; some open."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_persons, n_spells)
    start = DAY0 + rng.integers(0, 13 * 365, n_spells).astype("timedelta64[D]")
    end = start + rng.choice([0, 1, 20, 40, 400, 2000], n_spells).astype("timedelta64[D]")
    end = end.astype("datetime64[ns]")
    end[rng.random(n_spells) < 0.1] = np.datetime64("NaT")
    return rows, start.astype("datetime64[ns]"), end


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), first_day=st.booleans())
def test_cover_kinds_equals_difference_array_counts(seed, first_day):
    # `count` is the difference-array formulation (cumulative sums over the grid), a separate
    # code path from the cell lists that `cover` and `cover_kinds` use
    grid = MonthGrid.from_range("2008-01", "2019-12", 7)
    rows, start, end = random_spells(seed, 7, 40)
    kinds = np.random.default_rng(seed).integers(-1, 3, len(rows))  # -1: an unknown kind
    got = grid.cover_kinds(rows, start, end, kinds, 3, first_day=first_day)
    for k in range(3):
        sel = kinds == k
        want = grid.count(rows[sel], start[sel], end[sel], first_day=first_day) > 0
        np.testing.assert_array_equal(got[k], want)
        np.testing.assert_array_equal(grid.cover(rows[sel], start[sel], end[sel], first_day=first_day), want)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_workdays_equal_a_day_loop(seed):
    grid = MonthGrid.from_range("2008-01", "2009-12", 3)
    rows, start, end = random_spells(seed, 3, 6)
    fte = np.random.default_rng(seed).choice([20.0, 50.0, 80.0, 100.0], len(rows))
    got = grid.workdays(rows, start, end, fte)
    want = np.zeros_like(got)
    days = np.arange(np.datetime64("2008-01-01"), np.datetime64("2010-01-01"))
    weekday = np.is_busday(days)
    col = (days.astype("datetime64[M]").astype(np.int64) - grid.first)
    for r, s, e, f in zip(rows, start.astype("datetime64[D]"), end, fte):
        e = days[-1] if np.isnat(e) else e.astype("datetime64[D]")
        on = weekday & (days >= s) & (days <= e)
        np.add.at(want[r], col[on], f / 100)
    want = np.minimum(want, np.bincount(col, weights=weekday))
    np.testing.assert_allclose(got, want, atol=1e-9)
    # the cell list covers exactly the months the spells touch
    cells, _ = grid.workday_cells(rows, start, end, fte)
    covered = np.zeros(got.size, bool)
    covered[cells] = True
    np.testing.assert_array_equal(covered.reshape(got.shape), grid.cover(rows, start, end))


def test_person_arrays_slices_match_tables_cut_by_person():
    t = random_registers(5, n_persons=30)
    codes = _all_codes(t)
    arrays = PersonArrays.from_tables(t, codes)
    grid = MonthGrid.from_range("2008-01", "2019-12", 10)
    cfg = StudyConfig()
    part = person_months(arrays.slice(10, 20), grid, codes, cfg)
    ids = set(t["persons"]["person_id"].iloc[10:20])
    sub = {k: (v[v["person_id"].isin(ids)] if "person_id" in v else v) for k, v in t.items()}
    sub["persons"] = t["persons"].iloc[10:20]
    whole = person_months(sub, grid, codes, cfg)
    for name in ("muni", "alive", "age", "mh_recent", "dp_day1", "employed", "workdays"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name), err_msg=name)
    for b, g in whole.benefit.items():
        np.testing.assert_array_equal(part.benefit[b], g, err_msg=b)


def test_later_residence_spell_wins_after_sorting_by_person():
    # person b's rows are interleaved with a's; b moves 2012-03 while the old spell is still
    # open, so the later-starting spell must win from its first full month on
    t = random_registers(1, n_persons=2)
    ids = list(t["persons"]["person_id"])
    T = pd.Timestamp
    t["residence"] = pd.DataFrame({
        "person_id": [ids[1], ids[0], ids[1]], "municipality": ["1833", "1804", "1804"],
        "start_date": [T("2000-01-01"), T("2000-01-01"), T("2012-02-15")],
        "end_date": [pd.NaT, pd.NaT, pd.NaT]})
    p = build_panel(t, freq="month", restrict_to_target=False).set_index(["person_id", "period"])
    alive = p.loc[ids[1]]
    assert alive.loc["2012-02", "municipality"] == "1833"
    assert alive.loc["2012-03", "municipality"] == "1804"


@pytest.mark.parametrize("freq", ["month", "year"])
def test_worker_threads_and_partition_sizes_give_the_same_panel(freq):
    t = random_registers(9, n_persons=60)
    one = build_panel(t, freq=freq, restrict_to_target=False)
    for size, workers in ((7, 2), (13, 3), (1000, 2)):
        got = build_panel(t, freq=freq, restrict_to_target=False, partition_size=size, workers=workers)
        pd.testing.assert_frame_equal(got, one)
    tables = list(iter_panel(t, freq=freq, restrict_to_target=False, partition_size=11, workers=2, arrow=True))
    back = pa.concat_tables(tables).to_pandas()
    for c in ("person_id", "municipality", "period", "sex"):
        back[c] = back[c].astype(str)
    pd.testing.assert_frame_equal(back, one, check_dtype=False)


def test_arrow_timestamps_share_the_buffer_and_keep_nat_as_null():
    from ips_study.panel import _timestamps

    v = np.array(["2013-01-01", "NaT", "2020-12-01", "NaT"], dtype="datetime64[ns]")
    got = _timestamps(v)
    assert got.equals(pa.array(v)) and got.null_count == 2
    assert _timestamps(v[[0, 2]]).null_count == 0
    # municipalities without IPS (NaT ips_start) reach the Arrow panel as nulls
    t = random_registers(9, n_persons=60)
    arrow = pa.concat_tables(list(iter_panel(t, restrict_to_target=False, freq="month", arrow=True)))
    frame = build_panel(t, freq="month", restrict_to_target=False)
    assert frame["ips_start"].isna().any()
    assert arrow["ips_start"].null_count == int(frame["ips_start"].isna().sum())


def test_person_arrays_without_contacts_refuse_the_mental_health_rule():
    t = random_registers(3, n_persons=20)
    codes = _all_codes(t)
    arrays = PersonArrays.from_tables(t, codes, contacts=False)
    cfg = StudyConfig()
    pm = person_months(arrays, MonthGrid.from_range(cfg.window_start, cfg.window_end, len(arrays)),
                       codes, cfg)
    with pytest.raises(ValueError, match="contacts=True"):
        pm.mh_recent
    # the default target rule still gets its contacts through build_panel
    assert len(build_panel(t)) == len(build_panel(t, partition_size=7))


def test_constant_columns_share_one_arrow_buffer_and_stay_writable_in_pandas():
    from ips_study.panel import _constant

    a, b = _constant(np.int64(1), 5), _constant(np.int64(1), 3)
    assert a.to_pylist() == [1] * 5 and b.to_pylist() == [1] * 3
    assert a.buffers()[1].address == b.buffers()[1].address
    frame = build_panel(random_registers(4, n_persons=10), freq="month", restrict_to_target=False)
    frame.loc[frame.index[0], "months_observed"] = 5    # a real column, not a read-only view
    assert (frame["months_observed"].iloc[1:] == 1).all()
