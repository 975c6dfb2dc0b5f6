"""The loader's block-wise and lookup paths give exactly what the whole-table paths give.

The strongest check reuses the identity fingerprints of ``test_registers_identity`` (the
output of the implementation before any speed work): they must hold with tiny blocks and
threads forced on, so that every block-wise loop runs many times and every cut between person
blocks is exercised, and with the whole-table merge forced instead of person blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ips_study.registers.blocks as blocks
import ips_study.registers.columns as columns
import ips_study.registers.validate as validate
from ips_study.registers.blocks import GroupKey, concat_parts, first_appearance_index, merge_blocks, person_blocks
from ips_study.registers.columns import Coded, _check_number, _from_dictionaries, _text
from ips_study.registers.ids import KnownIds, fixed_width
from ips_study.registers.schema import TABLES
from ips_study.registers.spells import _NAT, from_days, merge_days

from .test_registers_corpus import CASES, _delivery
from .test_registers_identity import EXPECTED, HERE, TEXT_FORMATS, fingerprint, text_delivery


def _all_fingerprints(tmp_path, cases=CASES):
    got = {"synthetic_data": fingerprint(HERE.parent / "synthetic_data", tmp_path / "q")}
    for fmt in TEXT_FORMATS:
        got[f"text_{fmt}"] = fingerprint(text_delivery(tmp_path / "t", fmt), tmp_path / "t" / fmt / "q")
    for case in cases:
        data, _ = _delivery(case, tmp_path / case)
        got[f"corpus_{case}"] = fingerprint(data, tmp_path / case / "q")
    return got


@pytest.mark.slow
def test_fingerprints_hold_with_tiny_blocks_and_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 97)
    monkeypatch.setattr(columns, "_BLOCK", 61)
    monkeypatch.setattr(validate, "_PARALLEL_ROWS", 1)
    got = _all_fingerprints(tmp_path)
    assert {k: v for k, v in got.items() if v != EXPECTED[k]} == {}


def test_fingerprints_hold_with_tiny_blocks_quick(tmp_path, monkeypatch):
    """The quick path: the deliveries most exposed to block cuts (many persons, merges)."""
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 53)
    monkeypatch.setattr(columns, "_BLOCK", 31)
    monkeypatch.setattr(validate, "_PARALLEL_ROWS", 1)
    got = {"synthetic_data": fingerprint(HERE.parent / "synthetic_data", tmp_path / "q"),
           "text_parquet_dict": fingerprint(text_delivery(tmp_path / "t", "parquet_dict"), tmp_path / "q2")}
    assert {k: v for k, v in got.items() if v != EXPECTED[k]} == {}


def _force_person_order(monkeypatch):
    """Make every table take the path for deliveries not sorted by person."""
    real, state = validate.person_blocks, {"first": True}

    def unsorted_first(person, ok, size=None):
        first, state["first"] = state["first"], not state["first"]
        return None if first else real(person, ok, size)

    monkeypatch.setattr(validate, "person_blocks", unsorted_first)


def test_fingerprints_hold_on_the_person_order_path(tmp_path, monkeypatch):
    _force_person_order(monkeypatch)
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 101)
    got = {"synthetic_data": fingerprint(HERE.parent / "synthetic_data", tmp_path / "q"),
           "text_csv": fingerprint(text_delivery(tmp_path / "t", "csv"), tmp_path / "q2")}
    assert {k: v for k, v in got.items() if v != EXPECTED[k]} == {}


def test_fingerprints_hold_on_the_whole_table_path(tmp_path, monkeypatch):
    monkeypatch.setattr(validate, "_BLOCK_CODE_LIMIT", 0)
    got = {"synthetic_data": fingerprint(HERE.parent / "synthetic_data", tmp_path / "q"),
           "text_parquet": fingerprint(text_delivery(tmp_path / "t", "parquet"), tmp_path / "q2")}
    assert {k: v for k, v in got.items() if v != EXPECTED[k]} == {}


def test_a_delivery_sorted_by_person_is_cut_without_sorting(tmp_path, monkeypatch):
    """The fast path is the one taken when the delivery is sorted by person."""
    rng = np.random.default_rng(11)
    n_p, rows = 300, 3000
    pid = [f"P{i:05d}" for i in range(n_p)]
    who = np.sort(rng.integers(0, n_p, rows))
    start = rng.integers(14000, 18000, rows)
    d = tmp_path / "d"
    d.mkdir()
    pd.DataFrame({"person_id": pid, "birth_date": "1980-01-01", "sex": "F", "death_date": ""}).to_csv(
        d / "persons.csv", index=False)
    pd.DataFrame({"person_id": np.array(pid)[who], "benefit": rng.choice(["sickness", "work_assessment"], rows),
                  "start_date": start.astype("datetime64[D]").astype(str),
                  "end_date": (start + rng.integers(0, 300, rows)).astype("datetime64[D]").astype(str),
                  "grade": ""}).to_csv(d / "benefits.csv", index=False)
    for name, text in {"residence": "person_id,municipality,start_date,end_date\n",
                       "employment": "person_id,employer_id,start_date,end_date,fte,monthly_wage\n",
                       "diagnoses": "person_id,date,system,code,source\n",
                       "municipalities": "municipality,name,county,centrality,ips_start\n1804,Bodo,18,3,\n"}.items():
        (d / f"{name}.csv").write_text(text)
    seen = []
    real = validate.person_blocks

    def spy(person, ok, size=None):
        out = real(person, ok, 64)
        seen.append(out)
        return out

    monkeypatch.setattr(validate, "person_blocks", spy)
    rs = validate.read_registers(d, quarantine_dir=tmp_path / "q")
    assert None not in seen and len(seen[0]) > 10  # benefits cut straight away (employment: empty)
    assert rs.report.tables["benefits"].merged > 0


@st.composite
def person_rows(draw):
    counts = draw(st.lists(st.integers(0, 6), min_size=0, max_size=30))
    person = np.repeat(np.arange(len(counts)), counts)
    ok = np.array(draw(st.lists(st.booleans(), min_size=len(person), max_size=len(person))), bool)
    return person, ok, draw(st.integers(1, 9))


@given(person_rows())
def test_person_blocks_cover_the_table_and_never_split_a_person(case):
    person, ok, size = case
    got = person_blocks(person, ok, size)
    assert got is not None
    assert got[0][0] == 0 and got[-1][1] == len(person)
    assert all(a < b for a, b in got) or len(person) == 0
    assert all(b == a2 for (_, b), (a2, _) in zip(got[:-1], got[1:]))
    block_of = np.empty(len(person), int)
    for i, (a, b) in enumerate(got):
        block_of[a:b] = i
    for p in np.unique(person[ok]):
        assert len(np.unique(block_of[ok & (person == p)])) == 1


def test_person_blocks_unsorted_is_none_but_bad_rows_do_not_count():
    person = np.array([0, 0, 5, 1, 1, 2])
    assert person_blocks(person, np.ones(6, bool), 2) is None
    ok = np.array([True, True, False, True, True, True])  # the out-of-order row is quarantined
    assert person_blocks(person, ok, 2) == [(0, 3), (3, 5), (5, 6)]


def test_first_appearance_index_equals_factorize():
    rng = np.random.default_rng(3)
    values = rng.choice([np.nan, 50.0, 100.0, 20.0, 0.0], 500)
    ok = rng.random(500) < 0.8
    for size in (1, 7, 1000):
        for workers in (1, 2):
            idx = first_appearance_index(values, ok, size=size, workers=workers)
            _, want = pd.factorize(values[ok], use_na_sentinel=False)
            np.testing.assert_array_equal(idx.to_numpy(), want)


@st.composite
def spell_table(draw):
    counts = draw(st.lists(st.integers(1, 5), min_size=1, max_size=25))
    person = np.repeat(np.arange(len(counts)), counts)
    n = len(person)
    ints = st.lists(st.integers(0, 3), min_size=n, max_size=n)
    benefit = np.array(draw(ints), np.int32) - 1  # -1: missing
    grade = np.array([[np.nan, 50.0, 100.0, 0.0][g] for g in draw(ints)])
    start = np.array(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)), np.int64)
    length = np.array(draw(st.lists(st.integers(-1, 15), min_size=n, max_size=n)), np.int64)
    end = np.where(length < 0, _NAT, start + np.maximum(length, 0))
    ok = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    return person.astype(np.int32), benefit, grade, start, end, ok, draw(st.integers(1, 6))


@settings(max_examples=60, deadline=None)
@given(spell_table())
def test_merge_blocks_equals_whole_table_merge(case):
    person, benefit, grade, start, end, ok, size = case
    parsed = {"person_id": columns.Parsed(Coded(person, np.array([f"p{i}" for i in range(person.max() + 1)], object)),
                                          None),
              "benefit": columns.Parsed(Coded(benefit, np.array(["a", "b", "c"], object)), None),
              "grade": columns.Parsed(grade, None)}
    good = np.flatnonzero(ok)
    code = validate._group(parsed, ["person_id", "benefit", "grade"], good)
    first, want_end = merge_days(code, start[good], end[good])
    keys = [GroupKey(codes=person, n_values=person.max() + 1), GroupKey(codes=benefit, n_values=3),
            GroupKey(values=grade, index=first_appearance_index(grade, ok, size=size))]
    cuts = person_blocks(person, ok, size)
    got_first, got_end = concat_parts(merge_blocks(keys, start, end, ok, cuts, workers=2))
    np.testing.assert_array_equal(got_first, good[first])
    np.testing.assert_array_equal(got_end, want_end)


@given(st.lists(st.text(alphabet="ab1 é", min_size=0, max_size=4), max_size=30),
       st.lists(st.text(alphabet="ab1 é", min_size=0, max_size=4), max_size=30))
def test_known_ids_agree_with_set_membership(persons, queries):
    persons = sorted(set(persons))
    known = KnownIds(pa.array(persons, pa.string()))
    got = known.contains(pa.array(queries, pa.string()))
    assert got.tolist() == [q in set(persons) for q in queries]


def test_known_ids_binary_search_is_taken_for_sorted_fixed_width_ids():
    ids = [f"P{i:06d}" for i in range(0, 3000, 3)]
    known = KnownIds(pa.array(ids))
    assert known.method == "binary search"
    q = pa.array([f"P{i:06d}" for i in range(3000)] + ["P1", "Q000003"])
    want = [i % 3 == 0 for i in range(3000)] + [False, False]
    assert known.contains(q).tolist() == want
    assert KnownIds(pa.array(ids[::-1])).method == "hash"  # unsorted persons file
    assert KnownIds(pa.array(ids[::-1])).contains(q).tolist() == want
    assert fixed_width(pa.array(["ab", None])) is None and fixed_width(pa.array(["ab", "abc"])) is None


def test_sorted_row_group_dictionaries_code_like_the_plain_column():
    # a delivery sorted by person: each row group's dictionary is ascending, neighbours overlap
    rows = ["p01", "p01", "p02", " p02", "p03", "", "p03", "p04", "p05", "p05", "p06"]
    chunks = [pa.array(rows[a:b]).dictionary_encode() for a, b in ((0, 4), (4, 7), (7, 11))]
    got = _from_dictionaries(chunks)
    want = _text(pa.chunked_array([pa.array(rows)]))
    assert got.codes.tolist() == want.codes.tolist()
    assert list(got.uniques) == list(want.uniques) == ["p01", "p02", "p03", "p04", "p05", "p06"]


def test_from_days_inplace_equals_copy():
    days = np.array([0, 15000, _NAT, -3000, 47000], np.int64)
    want = from_days(days)
    got = from_days(days.copy(), inplace=True)
    np.testing.assert_array_equal(got, want)
    assert np.isnat(got[2])
    with pytest.raises(TypeError):
        from_days(days.astype(np.int32), inplace=True)


@pytest.mark.parametrize("table,name", [("benefits", "grade"), ("specialist_weeks", "employer_meetings"),
                                        ("municipalities", "centrality")])
def test_number_checks_do_not_depend_on_block_size(table, name, monkeypatch):
    col = TABLES[table].column(name)
    rng = np.random.default_rng(5)
    vals = rng.choice([np.nan, np.inf, -1.0, 0.0, 3.0, 50.5, 100.0, 130.0], 400)
    bad = rng.random(400) < 0.05
    want = _check_number(vals, bad, col, {})
    monkeypatch.setattr(columns, "_BLOCK", 7)
    got = _check_number(vals, bad, col, {})
    np.testing.assert_array_equal(got.reason, want.reason)
    assert (got.n_present, got.n_bad) == (want.n_present, want.n_bad)
    assert want.reason.any() and (want.reason == 0).any()


def test_reason_counts_equal_bincount():
    reason = np.random.default_rng(2).integers(0, len(validate.REASONS) + 1, 5000).astype(np.int8)
    want = np.bincount(reason, minlength=len(validate.REASONS) + 1)
    np.testing.assert_array_equal(validate._reason_counts(reason, block=333), want)


@pytest.mark.parametrize("table,name,end", [("benefits", "end_date", True), ("benefits", "start_date", False)])
def test_dictionary_dates_equal_the_coded_path(table, name, end):
    """Dates straight from dictionary indices give what codes then per-row lookups give."""
    from ips_study.registers.columns import _string_date, parse_column

    col = TABLES[table].column(name)
    cases = [[], [pa.array([], pa.string()).dictionary_encode()],
             [pa.array(["2013-01-01", None, "", "201302", "x", " 2014-05-06 ", "1870-01-01"]).dictionary_encode(),
              pa.array(["201302", None, "2013-02-30"]).dictionary_encode(), pa.array(["2013-01-01"]).dictionary_encode()]]
    for chunks in cases:
        arr = pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))
        got = parse_column(arr, col, end=end)
        text = _text(arr)
        want = _string_date(text, text.codes < 0, col, end)
        np.testing.assert_array_equal(got.values, want.values)
        np.testing.assert_array_equal(got.reason, want.reason)
        assert (got.notes, got.n_present, got.n_bad) == (want.notes, want.n_present, want.n_bad)
    assert set(got.reason.tolist()) >= {0, 3}  # the mixed case holds good and unparseable dates
