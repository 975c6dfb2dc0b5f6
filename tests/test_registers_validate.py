"""Property: whatever mess a benefits file holds, every row is accounted for exactly once, the
quarantine file lists exactly the quarantined rows by line, and the kept spells are clean."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ips_study.registers import read_registers

BASE = Path(__file__).parent / "corpus" / "base"

field = {
    "person_id": st.sampled_from(["p01", "p02", "p03", "p99", "", " p04 "]),
    "benefit": st.sampled_from(["sickness", "work_assessment", "AAP", "Sickness", ""]),
    "start_date": st.sampled_from(["2012-01-01", "2012-01-20", "201202", "2012-02-30", "", "2040-01-01"]),
    "end_date": st.sampled_from(["2012-01-31", "2012-02-15", "201203", "", "2011-12-31", "x"]),
    "grade": st.sampled_from(["", "50", "100", "150", "abc"]),
}
rows = st.lists(st.fixed_dictionaries(field), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_every_row_accounted_for(records):
    header = "person_id,benefit,start_date,end_date,grade"
    # a leading valid row keeps every column from being wholly of the wrong type
    lines = [header, "p05,qualification,2015-01-01,2015-12-31,100"] + [
        ",".join(r[c] for c in field) for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "data"
        shutil.copytree(BASE, d)
        (d / "benefits.csv").write_text("\n".join(lines) + "\n")
        rs = read_registers(d, quarantine_dir=Path(tmp) / "q")
        t = rs.report.tables["benefits"]
        assert t.read == len(lines) - 1
        assert t.kept + t.merged + t.n_quarantined == t.read
        assert t.kept == len(rs["benefits"])
        qfile = Path(tmp) / "q" / "benefits.csv"
        q = pd.read_csv(qfile, dtype=str, keep_default_na=False) if qfile.exists() else pd.DataFrame({"line": []})
        assert len(q) == t.n_quarantined and q["line"].astype(int).is_unique
        assert set(q["line"].astype(int)) <= set(range(2, len(lines) + 1))
    b = rs["benefits"]
    assert b["person_id"].isin(["p01", "p02", "p03", "p04", "p05"]).all()
    assert b["benefit"].isin(["sickness", "work_assessment", "qualification"]).all()
    assert (b["end_date"].isna() | (b["end_date"] >= b["start_date"])).all()
    assert b["grade"].dropna().between(0, 100).all()
    # merged spells of one person, benefit and grade neither overlap nor touch
    for _, g in b.groupby(["person_id", "benefit", "grade"], dropna=False):
        g = g.sort_values("start_date")
        assert (g["start_date"].iloc[1:].to_numpy() > (g["end_date"].iloc[:-1] + pd.Timedelta(days=1)).to_numpy()).all()


def test_empty_partitions_are_not_fatal_but_an_all_failing_delivery_is(tmp_path):
    """The delivery-level fatal checks run on the summed counts, not per partition."""
    import shutil

    from ips_study.registers import RegisterError
    from ips_study.registers.partition import iter_partitions, split_by_person

    base = Path(__file__).parent / "corpus" / "base"
    parts = split_by_person(base, tmp_path / "parts", 12)  # 5 persons: most partitions empty
    sets = list(iter_partitions(parts, quarantine_dir=tmp_path / "q"))
    assert sum(len(rs["persons"]) for rs in sets) == 5
    bad = tmp_path / "bad"
    shutil.copytree(base, bad)
    text = (bad / "employment.csv").read_text().splitlines()
    (bad / "employment.csv").write_text("\n".join([text[0]] + [ln.replace("p0", "p9") for ln in text[1:]]) + "\n")
    parts = split_by_person(bad, tmp_path / "parts2", 3)
    with pytest.raises(RegisterError, match="none of the 4 rows"):
        list(iter_partitions(parts, quarantine_dir=tmp_path / "q2"))
