"""Spell merging: worked examples and hypothesis properties (idempotent, union of covered days
preserved per group, never more rows, no overlapping or touching spells left)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ips_study.registers import merge_spells
from ips_study.registers.spells import _NAT, merge_days, truncate_residence

DAY0 = pd.Timestamp("2010-01-01")
HORIZON = 80  # day offsets drawn in [0, 60]; open ends are counted up to this horizon


def _frame(rows):
    return pd.DataFrame({
        "person_id": [r[0] for r in rows],
        "benefit": [r[1] for r in rows],
        "grade": [r[2] for r in rows],
        "start_date": [DAY0 + pd.Timedelta(days=r[3]) for r in rows],
        "end_date": [pd.NaT if r[4] is None else DAY0 + pd.Timedelta(days=r[3] + r[4]) for r in rows],
    }, columns=["person_id", "benefit", "grade", "start_date", "end_date"])


spell = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["sickness", "work_assessment"]),
                  st.sampled_from([np.nan, 50.0, 100.0]), st.integers(0, 60),
                  st.one_of(st.none(), st.integers(0, 15)))
spells = st.lists(spell, min_size=0, max_size=25)
BY = ["person_id", "benefit", "grade"]


def _days(df):
    """Covered days per group: {(person, benefit, grade): set of day offsets}."""
    out: dict = {}
    for r in df.itertuples(index=False):
        key = (r.person_id, r.benefit, "nan" if pd.isna(r.grade) else r.grade)
        s = (r.start_date - DAY0).days
        e = HORIZON if pd.isna(r.end_date) else (r.end_date - DAY0).days
        out.setdefault(key, set()).update(range(s, e + 1))
    return out


@settings(max_examples=150, deadline=None, derandomize=True)
@given(spells)
def test_merge_properties(rows):
    df = _frame(rows)
    merged, n = merge_spells(df, by=BY)
    assert len(merged) <= len(df) and n == len(df) - len(merged)
    assert _days(merged) == _days(df)
    again, n2 = merge_spells(merged, by=BY)
    assert n2 == 0
    pd.testing.assert_frame_equal(again, merged)
    # no two spells of one group overlap or touch after merging
    for _, g in merged.groupby(BY, dropna=False):
        g = g.sort_values("start_date")
        ends = g["end_date"].iloc[:-1].to_numpy()
        starts = g["start_date"].iloc[1:].to_numpy()
        assert not pd.isna(ends).any()
        assert (starts > ends + np.timedelta64(1, "D")).all()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 60),
                          st.one_of(st.none(), st.integers(0, 30))), max_size=20))
def test_residence_truncation_leaves_one_municipality_per_day(rows):
    # same-day starts in different municipalities are quarantined before truncation
    seen: dict = {}
    rows = [r for r in rows if seen.setdefault((r[0], r[2]), r[1]) == r[1]]
    code = np.array([r[0] for r in rows], np.int64)
    muni = np.array([r[1] for r in rows], np.int64)
    start = np.array([r[2] for r in rows], np.int64)
    end = np.array([_NAT if r[3] is None else r[2] + r[3] for r in rows], np.int64)
    new_end, truncated = truncate_residence(code, start, end, muni)
    assert ((new_end == _NAT) | (new_end >= start)).all()
    assert (truncated == (new_end != end)).all()
    for p in set(code.tolist()):
        where: dict = {}
        for i in np.flatnonzero(code == p):
            stop = HORIZON if new_end[i] == _NAT else new_end[i]
            for d in range(start[i], stop + 1):
                where.setdefault(d, set()).add(muni[i])
        assert all(len(m) == 1 for m in where.values())
    # every day a spell started on is still covered by a spell in that municipality
    for i in range(len(rows)):
        assert start[i] <= (HORIZON if new_end[i] == _NAT else new_end[i])


def test_touching_and_overlap_rules():
    df = _frame([("a", "sickness", 100.0, 0, 9),     # days 0-9
                 ("a", "sickness", 100.0, 10, 5),    # touches (starts day after end)
                 ("a", "sickness", 100.0, 17, 3),    # gap of one day: stays apart
                 ("a", "sickness", np.nan, 5, 2),    # no grade: its own group
                 ("b", "sickness", 100.0, 0, None),  # open spell swallows later ones
                 ("b", "sickness", 100.0, 40, 2)])
    merged, n = merge_spells(df, by=BY)
    assert n == 2
    got = [(r.person_id, (r.start_date - DAY0).days, None if pd.isna(r.end_date) else (r.end_date - DAY0).days)
           for r in merged.itertuples()]
    assert got == [("a", 0, 15), ("a", 17, 20), ("a", 5, 7), ("b", 0, None)]


def test_merge_days_large_is_vectorised_and_exact():
    rng = np.random.default_rng(7)
    n = 200_000
    code = rng.integers(0, 20_000, n)
    start = rng.integers(0, 3_000, n)
    end = start + rng.integers(0, 90, n)
    first, new_end = merge_days(code, start, end)
    # brute-force check on a sample of groups with pandas
    df = pd.DataFrame({"c": code, "s": start, "e": end}).sort_values(["c", "s"])
    sample = set(range(0, 20_000, 997))
    exp = []
    for c, g in df[df.c.isin(sample)].groupby("c"):
        cur_s, cur_e = None, None
        for s, e in zip(g.s, g.e):
            if cur_s is None or s > cur_e + 1:
                if cur_s is not None:
                    exp.append((c, cur_s, cur_e))
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        exp.append((c, cur_s, cur_e))
    got = sorted((int(code[f]), int(start[f]), int(e)) for f, e in zip(first, new_end) if code[f] in sample)
    assert got == sorted(exp)


def test_merge_spells_rejects_missing_start():
    df = _frame([("a", "sickness", 100.0, 0, 3)])
    df.loc[0, "start_date"] = pd.NaT
    with pytest.raises(ValueError, match="start_date"):
        merge_spells(df, by=BY)
