"""Fuzzing the partitioned read (``ips-study panel --partitions K``) against the whole read.

The row-level and type-level mutations of ``tests/test_fuzz_registers.py`` (junk fields,
fields added or dropped, lines duplicated, deleted or split by quoted line breaks, damaged
headers; Parquet columns re-typed with extreme values) are read both whole
(:func:`validate_directory`) and in ``K`` person partitions (:mod:`ips_study.registers.partition`),
with 1 to 7 partitions and, for CSV, blocks from 64 bytes up (so rows, quoted line breaks and
long fields cross block boundaries, as they do in a large delivery with the default 4 MiB).

In every example: nothing but a :class:`RegisterError` escapes the partitioned read; the
accounting identity ``kept + merged + quarantined = read`` holds for every table; the report
(counts, reasons, example lines, notes) and the quarantined rows equal the whole read's, or
both reads are fatal and the partitioned read's messages are the whole read's first ones; no
message shows a person id. Examples are fixed (``derandomize``) and few, so the run is fast.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import ips_study.registers.partition as part
from ips_study.registers import validate_directory

from .test_fuzz_registers import FUZZ, PERSON_ID, _copy, _mutate_lines, line_mutations, retyped_table
from .test_partition_corpus import _comparable, quarantined_rows, read_partitioned

FEW = settings(FUZZ, max_examples=40)


def _same_as_whole(d, k: int, block: int) -> None:
    tmp = d.parent
    whole = validate_directory(d, quarantine_dir=tmp / "q0")
    saved = part.BLOCK_BYTES
    part.BLOCK_BYTES = block
    try:
        report, errors = read_partitioned(d, tmp / "p", k)
    finally:
        part.BLOCK_BYTES = saved
    shown = " ".join(errors)
    if report is not None:
        shown += report.to_text() + json.dumps(report.to_dict())
    assert not PERSON_ID.search(shown), "person id in a message"
    if whole.fatal or errors:
        assert whole.fatal and errors, (whole.errors, errors)
        assert errors == whole.errors[:len(errors)]
        return
    for name, t in report.tables.items():
        assert t.kept + t.merged + t.n_quarantined == t.read, name
    assert _comparable(report) == _comparable(whole)
    got = quarantined_rows(sorted((tmp / "p" / "q").glob("*.csv")))
    want = quarantined_rows(sorted((tmp / "q0").glob("*.csv")))
    pd.testing.assert_frame_equal(got, want, check_like=True)


@FEW
@given(muts=line_mutations(), k=st.integers(1, 7), block=st.sampled_from([64, 100, 256, 4096, part.BLOCK_BYTES]))
def test_row_level_fuzz_reads_the_same_in_partitions(tmp_path_factory, muts, k, block):
    d = _copy(tmp_path_factory.mktemp("prows"))
    _mutate_lines(d, muts)
    _same_as_whole(d, k, block)


@FEW
@given(case=retyped_table(), k=st.integers(1, 7))
def test_type_level_fuzz_reads_the_same_in_partitions(tmp_path_factory, case, k):
    table, data, row_group = case
    d = _copy(tmp_path_factory.mktemp("ptypes"))
    (d / f"{table}.csv").unlink()
    try:
        pq.write_table(data, d / f"{table}.parquet", row_group_size=row_group)
    except pa.ArrowInvalid:  # not writable as Parquet (seconds beyond the millisecond range)
        reject()
    _same_as_whole(d, k, part.BLOCK_BYTES)
