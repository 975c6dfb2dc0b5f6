"""A consumer that stops iterating the partitions early still leaves a complete quarantine.

The quarantine merge used to run only after the last partition, so breaking out of
:func:`iter_partitions` left the partitions' staged files (person ids) under
``<quarantine>/.partitions/`` and no merged file, or a stale one of an earlier run.
"""

import csv
import io

import pandas as pd
import pytest

from ips_study.registers.partition import iter_partitions, partition_of, split_by_person

from .panel_reference import random_registers

N_PARTS = 3


def _delivery(tmp_path):
    t = random_registers(5, n_persons=40)
    bad = t["employment"].iloc[:4].copy()
    bad["end_date"] = bad["start_date"] - pd.Timedelta(days=5)  # quarantined: end before start
    t["employment"] = pd.concat([t["employment"], bad])
    src = tmp_path / "src"
    src.mkdir()
    for name, df in t.items():
        df.to_csv(src / f"{name}.csv", index=False)
    lines = (src / "benefits.csv").read_text().splitlines()
    lines.insert(3, lines[3] + ",extra")  # a malformed row: goes with the first partition
    (src / "benefits.csv").write_text("\n".join(lines) + "\n")
    return src


def _restricted(full: bytes, parts: set[int]) -> bytes:
    """The full read's quarantine file keeping the rows of persons in ``parts`` (rows without
    a person id -- malformed rows -- belong to the first partition)."""
    rows = list(csv.reader(io.StringIO(full.decode("utf-8"), newline="")))
    head, body = rows[0], rows[1:]
    pid = head.index("person_id") if "person_id" in head else None
    keep = [r for r in body if pid is None or r[pid] == ""
            or int(partition_of([r[pid]], N_PARTS)[0]) in parts]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([head, *keep])
    return out.getvalue().encode("utf-8")


def _no_staging(q):
    assert not (q / ".partitions").exists()
    assert not list(q.rglob("*.part")) and not list(q.rglob("part-*"))


@pytest.mark.parametrize("how", ["break", "close"])
def test_early_stop_leaves_the_quarantine_of_what_was_read(tmp_path, how):
    src = _delivery(tmp_path)
    parts = split_by_person(src, tmp_path / "work" / "parts", N_PARTS)
    full_q = tmp_path / "q_full"
    assert len(list(iter_partitions(parts, quarantine_dir=full_q))) == N_PARTS
    full = {f.name: f.read_bytes() for f in full_q.glob("*.csv")}
    assert {"benefits.csv", "employment.csv"} <= set(full)

    q = tmp_path / "q"
    (q).mkdir()
    (q / "persons.csv").write_text("stale file of an earlier run\n")  # must not survive
    if how == "break":
        for k, rs in enumerate(iter_partitions(parts, quarantine_dir=q)):
            break
    else:  # a consumer holding the iterator and closing it
        it = iter_partitions(parts, quarantine_dir=q)
        next(it)
        next(it)
        it.close()
    read = {0} if how == "break" else {0, 1}
    _no_staging(q)
    got = {f.name: f.read_bytes() for f in q.glob("*.csv")}
    want = {name: _restricted(body, read) for name, body in full.items()}
    want = {name: body for name, body in want.items() if body.count(b"\n") > 1}  # rows left
    assert got == want
    assert b"malformed_row" in got["benefits.csv"]  # the first partition's malformed row
    # fewer rows than the full read: something was really left unread
    assert sum(len(b) for b in got.values()) < sum(len(b) for b in full.values())
    assert (q / "README_CONFIDENTIAL.txt").is_file()


def test_an_error_in_a_partition_leaves_no_staged_files(tmp_path, monkeypatch):
    from ips_study.registers import validate

    src = _delivery(tmp_path)
    parts = split_by_person(src, tmp_path / "work" / "parts", N_PARTS)
    calls = []

    orig = validate._run

    def failing(part, *a, **k):
        calls.append(part)
        if len(calls) == 2:
            orig(part, *a, **k)  # the partition's rows are staged, then it fails
            raise MemoryError("simulated")
        return orig(part, *a, **k)

    monkeypatch.setattr(validate, "_run", failing)
    q = tmp_path / "q"
    with pytest.raises(MemoryError):
        for _ in iter_partitions(parts, quarantine_dir=q):
            pass
    _no_staging(q)
    # the first partition, validated before the failure, is merged
    assert b"malformed_row" in (q / "benefits.csv").read_bytes()
