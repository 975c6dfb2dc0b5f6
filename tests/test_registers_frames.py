"""The loader's speed paths give exactly what the plain paths give: DataFrames assembled without
consolidation, row takes chunk by chunk, dictionary-read Parquet text, spell merging in
blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from ips_study.registers.columns import _from_dictionaries, _text
from ips_study.registers.frames import assemble_frame, take_rows
from ips_study.registers.readers import read_file
from ips_study.registers.spells import _NAT, merge_days, merge_days_blocks


def test_assemble_frame_equals_constructor_and_shares_memory():
    ids = np.array(["a", None, "c"], dtype=object)
    cols = {"id": ids, "d": np.array(["2010-01-01", "NaT", "2011-05-03"], "datetime64[ns]"),
            "x": np.array([1.5, np.nan, 3.0]), "sex": np.array(["F", "M", "F"], dtype=object),
            "n": np.array([1, 2, 3], np.int64)}
    df = assemble_frame(cols)
    # the constructor with each array's own dtype (pandas 3 would infer str for object text)
    pd.testing.assert_frame_equal(df, pd.DataFrame({k: pd.Series(v, dtype=v.dtype)
                                                    for k, v in cols.items()}))
    assert np.shares_memory(df["id"].to_numpy(), ids)
    df2 = df.copy()  # ordinary pandas work on the frame still behaves
    df2.loc[0, "x"] = 9.0
    assert df.loc[0, "x"] == 1.5 and df2.groupby("sex")["x"].sum().to_dict() == {"F": 12.0, "M": 0.0}


def test_assemble_frame_empty():
    pd.testing.assert_frame_equal(assemble_frame({"a": np.empty(0, object)}),
                                  pd.DataFrame({"a": pd.Series(np.empty(0, object), dtype=object)}))
    assert assemble_frame({}).shape == (0, 0)


def test_take_rows_matches_table_take():
    chunks = [pa.array(["x", None, "y"]).dictionary_encode(), pa.array([], pa.string()).dictionary_encode(),
              pa.array(["z", "x"]).dictionary_encode()]
    t = pa.table({"c": pa.chunked_array(chunks), "n": pa.chunked_array([[1, 2, 3], [], [4, 5]])})
    for rows in ([], [0], [1, 3], [0, 1, 2, 3, 4], [4]):
        got = take_rows(t, np.array(rows, np.int64))
        want = t.take(pa.array(rows, pa.int64()))
        assert got["c"].tolist() == want["c"].cast(pa.string()).to_pylist()
        assert got["n"].tolist() == want["n"].to_pylist()
        assert got["c"].dtype == object


def test_dictionary_codes_are_first_appearance_like_plain(tmp_path):
    rng = np.random.default_rng(3)
    values = np.array([" b", "a", "b", "", "c ", "d"], dtype=object)[rng.integers(0, 6, 5000)]
    values[rng.random(5000) < 0.05] = None
    plain = _text(pa.chunked_array([pa.array(values)]))
    pq.write_table(pa.table({"v": pa.array(values)}), tmp_path / "t.parquet", row_group_size=700)
    read = read_file(tmp_path / "t.parquet").data.column("v")
    assert pa.types.is_dictionary(read.type) and read.num_chunks > 1
    coded = _text(read)
    np.testing.assert_array_equal(coded.codes, plain.codes)
    assert coded.uniques.tolist() == plain.uniques.tolist()
    assert sorted(plain.uniques) == ["a", "b", "c", "d"]  # trimmed; empty is missing
    # chunks with dictionaries in another order are renumbered to first appearance too
    shuffled = [pc.dictionary_encode(pa.array(["q", "p"])), pc.dictionary_encode(pa.array(["p", "r"]))]
    shuffled[1] = pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int32()), pa.array(["x", "p"]))
    got = _from_dictionaries(shuffled)
    assert got.uniques[got.codes].tolist() == ["q", "p", "p", "x"] and got.codes.tolist() == [0, 1, 1, 2]


@st.composite
def sorted_spells(draw):
    n_groups = draw(st.integers(1, 30))
    sizes = draw(st.lists(st.integers(1, 6), min_size=n_groups, max_size=n_groups))
    code = np.repeat(np.arange(n_groups) * draw(st.integers(1, 3)), sizes)
    n = len(code)
    start = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), np.int64)
    length = np.array(draw(st.lists(st.integers(-1, 20), min_size=n, max_size=n)), np.int64)
    end = np.where(length < 0, _NAT, start + np.maximum(length, 0))
    return code, start, end


@given(sorted_spells(), st.integers(1, 4))
def test_merge_in_blocks_equals_one_merge(spells, workers):
    code, start, end = spells
    want = merge_days(code, start, end)
    got = merge_days_blocks(code, start, end, workers=workers)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_merge_in_blocks_unsorted_groups_fall_back():
    code = np.array([1, 0, 1, 0, 1, 0])
    start = np.array([0, 0, 3, 2, 9, 1])
    end = np.array([2, 1, 4, 5, 9, 1])
    want = merge_days(code, start, end)
    got = merge_days_blocks(code, start, end, workers=2)
    assert [a.tolist() for a in got] == [a.tolist() for a in want]


def test_first_appearance_order_check_in_blocks():
    from ips_study.registers.columns import _in_order

    cases = [([], 0, True), ([-1, -1], 0, True), ([0, 0, 1, -1, 2, 1], 3, True), ([1, 0], 2, False),
             ([0, 2, 1], 3, False), ([0, 1], 3, False), ([0, -1, 1, 0, 2], 3, True)]
    for codes, k, want in cases:
        for block in (1, 2, 3, 100):
            assert _in_order(np.array(codes, np.int64), k, block) == want
