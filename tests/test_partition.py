"""Person partitions: the same accounting and panel as reading the delivery whole."""

import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.panel import build_panel, read_panel, write_panel_partitioned
from ips_study.registers import RegisterError, read_registers
from ips_study.registers.partition import iter_partitions, partition_of, split_by_person

from .panel_reference import random_registers


def _counts(tables):
    return {k: (t.read, t.kept, t.merged, t.n_quarantined) for k, t in tables.items()}


def test_partition_of_is_stable_and_covers_all_parts():
    ids = [f"{i:011d}" for i in range(2000)]
    a, b = partition_of(ids, 7), partition_of(list(ids), 7)
    assert (a == b).all() and set(a) == set(range(7))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_partitioned_panel_equals_whole(tmp_path, fmt):
    t = random_registers(21, n_persons=60)
    t["benefits"] = pd.concat([t["benefits"], t["benefits"].iloc[:3]])  # duplicates to merge
    bad = t["employment"].iloc[:2].copy()
    bad["end_date"] = bad["start_date"] - pd.Timedelta(days=5)  # quarantined rows
    t["employment"] = pd.concat([t["employment"], bad])
    src = tmp_path / "src"
    src.mkdir()
    for name, df in t.items():
        getattr(df, f"to_{fmt}")(src / f"{name}.{fmt}", index=False)
    whole = read_registers(src, quarantine_dir=tmp_path / "q0")
    summary = write_panel_partitioned(src, tmp_path / "p.parquet", StudyConfig(), n_parts=3,
                                      work=tmp_path / "work", quarantine_dir=tmp_path / "q")
    got = {k: (v["read"], v["kept"], v["merged"], v["quarantined"]) for k, v in summary["registers"]["tables"].items()}
    assert got == _counts(whole.report.tables)
    # the two planted rows end before they start; the random registers also date some rows
    # after death (after_death), counted the same way whole and partitioned
    assert got["benefits"][2] >= 3 and whole.report.tables["employment"].quarantined["end_before_start"] == 2
    a = read_panel(tmp_path / "p.parquet").sort_values(["person_id", "period"]).reset_index(drop=True)
    b = build_panel(whole, StudyConfig()).sort_values(["person_id", "period"]).reset_index(drop=True)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # every person's rows sit in exactly one partition
    parts = sorted((tmp_path / "work" / "partitions").iterdir())
    seen = [set(pd.read_parquet(p / "residence.parquet")["person_id"].astype(str)) for p in parts]
    assert sum(len(s) for s in seen) == len(set().union(*seen))


def test_missing_person_column_is_fatal(tmp_path):
    src = _csv_delivery(tmp_path)
    persons = pd.read_csv(src / "persons.csv", dtype=str).rename(columns={"person_id": "id"})
    persons.to_csv(src / "persons.csv", index=False)
    parts = split_by_person(src, tmp_path / "parts", 2)  # recorded; reported with the whole report
    with pytest.raises(RegisterError, match="persons.csv, column 'person_id', line 1: required column missing"):
        list(iter_partitions(parts, quarantine_dir=tmp_path / "q"))


def _csv_delivery(tmp_path, seed=5, n_persons=30):
    t = random_registers(seed, n_persons=n_persons)
    src = tmp_path / "src"
    src.mkdir()
    for name, df in t.items():
        df.to_csv(src / f"{name}.csv", index=False)
    return src


def _accounting(report):
    """(read, kept, merged, quarantined by reason) per table, of a report or its dict."""
    report = report if isinstance(report, dict) else report.to_dict()
    return {k: (t["read"], t["kept"], t["merged"], t["quarantined"]) for k, t in report["tables"].items()}


def test_malformed_csv_rows_are_quarantined_in_a_partitioned_read(tmp_path):
    # the partitioned CSV reader used to skip rows with the wrong field count silently, so
    # they fell out of the row accounting; then it refused the delivery; now it quarantines
    # them as malformed_row, as the whole read does, with the same accounting
    src = _csv_delivery(tmp_path)
    lines = (src / "benefits.csv").read_text().splitlines()
    lines.insert(3, lines[3] + ",extra")  # line 4 of the file gets one field too many
    lines.insert(8, "")  # a blank line (line 9) is no row
    (src / "benefits.csv").write_text("\n".join(lines) + "\n")
    whole = read_registers(src, quarantine_dir=tmp_path / "q0")
    assert whole.report.tables["benefits"].quarantined.get("malformed_row") == 1
    summary = write_panel_partitioned(src, tmp_path / "p.parquet", StudyConfig(), n_parts=3,
                                      work=tmp_path / "work", quarantine_dir=tmp_path / "q")
    got = summary["registers"]["tables"]
    assert _accounting(summary["registers"]) == _accounting(whole.report)
    b = got["benefits"]
    assert b["read"] == b["kept"] + b["merged"] + b["quarantined"]
    # one quarantine file per table, the whole read's byte for byte: the malformed row at its
    # delivered line, the other rows at theirs, in line order
    q = pd.read_csv(tmp_path / "q" / "benefits.csv")
    assert q.loc[q["reason"] == "malformed_row", "line"].tolist() == [4]
    assert (tmp_path / "q" / "benefits.csv").read_bytes() == (tmp_path / "q0" / "benefits.csv").read_bytes()
    assert not list((tmp_path / "q").glob("part-*")) and not (tmp_path / "q" / ".partitions").exists()


def test_a_field_longer_than_the_block_is_read_in_a_partitioned_read(tmp_path):
    """A field longer than the block (the issue: 10 MB; here 20 MB, beyond the old 16 MB block)
    made the streaming reader fail ("straddling object"); it now retries
    with a larger block, skipping the rows it already gave out."""
    import ips_study.registers.partition as part

    src = _csv_delivery(tmp_path)
    lines = (src / "employment.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("employer_id")] = "x" * 20_000_000
    lines[5] = ",".join(row)  # line 6
    (src / "employment.csv").write_text("\n".join(lines) + "\n")
    assert part.BLOCK_BYTES < 20_000_000
    whole = read_registers(src, quarantine_dir=tmp_path / "q0")
    summary = write_panel_partitioned(src, tmp_path / "p.parquet", StudyConfig(), n_parts=2,
                                      work=tmp_path / "work", quarantine_dir=tmp_path / "q")
    assert _accounting(summary["registers"]) == _accounting(whole.report)
    kept = pd.concat([pd.read_parquet(p / "employment.parquet") for p in
                      sorted((tmp_path / "work" / "partitions").glob("part-*"))])
    assert len(kept) == len(lines) - 1 and sorted(kept["source_line"]) == list(range(2, len(lines) + 1))
    assert (kept["employer_id"].str.len() == 20_000_000).sum() == 1


def test_partitioned_panel_applies_the_study_files_column_names(tmp_path):
    """``panel --partitions`` reads a delivery under its delivered names ([columns.<table>]),
    as the whole read does (issue #21)."""
    from ips_study.cli import main

    src = _csv_delivery(tmp_path)
    for table, renames in {"persons": {"person_id": "LOPENR", "birth_date": "FOEDSELSDATO"},
                           "benefits": {"person_id": "lopenr", "start_date": "STARTDATO"},
                           "municipalities": {"municipality": "KOMMNR"}}.items():
        df = pd.read_csv(src / f"{table}.csv", dtype=str, keep_default_na=False)
        df.rename(columns=renames).to_csv(src / f"{table}.csv", index=False)
    study = tmp_path / "study.toml"
    study.write_text('[columns.persons]\nperson_id = "LOPENR"\nbirth_date = "FOEDSELSDATO"\n'
                     '[columns.benefits]\nperson_id = "LOPENR"\nstart_date = "STARTDATO"\n'
                     '[columns.municipalities]\nmunicipality = "KOMMNR"\n')
    whole, parted = tmp_path / "whole.parquet", tmp_path / "parted.parquet"
    assert main(["panel", str(src), "--out", str(whole), "--quiet", "--study", str(study)]) == 0
    assert main(["panel", str(src), "--out", str(parted), "--quiet", "--study", str(study),
                 "--partitions", "3", "--work", str(tmp_path / "work")]) == 0
    a = read_panel(whole).sort_values(["person_id", "period"]).reset_index(drop=True)
    b = read_panel(parted).sort_values(["person_id", "period"]).reset_index(drop=True)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_the_split_streams_and_one_partition_is_held_at_a_time(tmp_path, monkeypatch):
    """Memory bounded by the partition, checked structurally (never by the clock):

    * the split hands the router blocks of at most a few hundred rows here (the block and
      buffer sizes made small), and writes partition files before it has read the table,
      so it never holds a whole table (it used to hash up to a million ids at once);
    * the validated partitions are released one by one (at most one in memory);
    * Python's traced peak (NumPy and pandas buffers) of the whole partitioned build is far
      lower with 8 partitions than with 1 (measured 0.14 of it; 1/8 plus fixed costs).
    """
    import gc
    import tracemalloc
    import weakref

    import ips_study.registers.partition as part

    src = _csv_delivery(tmp_path, n_persons=2000)
    n_rows = sum(1 for _ in open(src / "employment.csv")) - 1
    monkeypatch.setattr(part, "BLOCK_BYTES", 1 << 14)
    monkeypatch.setattr(part, "BUFFER_BYTES", 1 << 16)
    seen = {"batch": 0, "routed_at_first_flush": None, "routed": 0}
    add, flush = part._Router.add, part._Router.flush

    def counting_add(self, batch, where):
        seen["batch"] = max(seen["batch"], batch.num_rows)
        seen["routed"] += batch.num_rows if self.name == "employment" else 0
        add(self, batch, where)

    def noting_flush(self):
        if self.name == "employment" and seen["routed_at_first_flush"] is None:
            seen["routed_at_first_flush"] = seen["routed"]
        flush(self)

    monkeypatch.setattr(part._Router, "add", counting_add)
    monkeypatch.setattr(part._Router, "flush", noting_flush)
    parts = part.split_by_person(src, tmp_path / "parts", 8)
    assert 0 < seen["batch"] <= 1000 < n_rows
    assert seen["routed_at_first_flush"] < n_rows / 2

    refs, held, sizes = [], [], []
    for rs in part.iter_partitions(parts, quarantine_dir=tmp_path / "q"):
        gc.collect()
        held.append(sum(r() is not None for r in refs))  # earlier partitions still in memory
        refs.append(weakref.ref(rs.tables["employment"]))
        sizes.append(len(rs.tables["persons"]))
    assert held == [0] * 8
    assert sum(sizes) == 2000 and max(sizes) < 2000 / 8 * 1.5

    peaks = {}
    for k in (1, 8):
        tracemalloc.start()
        write_panel_partitioned(src, tmp_path / f"p{k}.parquet", StudyConfig(), n_parts=k,
                                work=tmp_path / f"w{k}", quarantine_dir=tmp_path / f"q{k}")
        peaks[k] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[8] < 0.4 * peaks[1], peaks


def test_quoted_line_breaks_and_bad_rows_keep_their_lines_across_blocks(tmp_path, monkeypatch):
    """Quoted values holding line breaks, and a line with a field too many after them, read in
    blocks of 200 bytes: the partitioned read used to stop ("out of sync") or split a value
    into a malformed and a wrong row at a block boundary, and both reads named the bad line
    by its record number instead of its physical line. Both now agree, and the line named is
    the line of the file that holds the row."""
    import ips_study.registers.partition as part

    from .test_partition_corpus import _comparable, quarantined_rows, read_partitioned
    from ips_study.registers import validate_directory

    src = _csv_delivery(tmp_path)
    f = src / "employment.csv"
    lines = f.read_text().splitlines()
    k = lines[0].split(",").index("employer_id")
    for i in (5, 17, 30):
        fields = lines[i].split(",")
        fields[k] = '"' + fields[k] + "\nsecond line of a long employer name\n" + '"'
        lines[i] = ",".join(fields)
    lines.insert(20, lines[21] + ",extra")
    f.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(part, "BLOCK_BYTES", 200)
    whole = validate_directory(src, quarantine_dir=tmp_path / "q0")
    report, errors = read_partitioned(src, tmp_path, 3)
    assert not errors and not whole.fatal
    assert _comparable(report) == _comparable(whole)
    physical = f.read_text().split("\n")
    t = whole.tables["employment"]
    assert t.quarantined["malformed_row"] == 1 and t.quarantined["control_character"] == 3
    assert physical[t.lines["malformed_row"][0] - 1].endswith(",extra")
    assert all(physical[n - 1].count('"') == 1 for n in t.lines["control_character"])  # a value opens there
    pd.testing.assert_frame_equal(quarantined_rows(sorted((tmp_path / "q").glob("*.csv"))),
                                  quarantined_rows(sorted((tmp_path / "q0").glob("*.csv"))), check_like=True)
