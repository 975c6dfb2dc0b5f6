"""Person partitions: the same accounting and panel as reading the delivery whole."""

import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.panel import build_panel, read_panel, write_panel_partitioned
from ips_study.registers import RegisterError, read_registers
from ips_study.registers.partition import partition_of, split_by_person

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
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"id": ["a"], "birth_date": ["1990-01-01"]}).to_csv(src / "persons.csv", index=False)
    with pytest.raises(Exception, match="person_id"):
        split_by_person(src, tmp_path / "parts", 2)


def test_malformed_csv_rows_stop_a_partitioned_read_instead_of_vanishing(tmp_path):
    # the partitioned CSV reader used to skip rows with the wrong field count silently, so
    # they fell out of the row accounting (kept + merged + quarantined < read)
    t = random_registers(5, n_persons=30)
    src = tmp_path / "src"
    src.mkdir()
    for name, df in t.items():
        df.to_csv(src / f"{name}.csv", index=False)
    lines = (src / "benefits.csv").read_text().splitlines()
    lines.insert(3, lines[3] + ",extra")  # line 4 of the file gets one field too many
    (src / "benefits.csv").write_text("\n".join(lines) + "\n")
    whole = read_registers(src, quarantine_dir=tmp_path / "q0")
    assert whole.report.tables["benefits"].quarantined.get("malformed_row") == 1
    with pytest.raises(RegisterError, match=r"benefits\.csv, line 4: 1 malformed row"):
        split_by_person(src, tmp_path / "parts", 3)
