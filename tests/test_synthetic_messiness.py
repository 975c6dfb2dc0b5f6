"""Messy written registers are read back by the loader into exactly the clean registers."""

import pandas as pd
import pytest

from ips_study.registers.validate import read_registers
from ips_study.synthetic import MessSpec, generate
from ips_study.synthetic.embedded import CHECKSUMS, checksums, embedded_dir

SPELLS = ("residence", "benefits", "employment")


@pytest.fixture(scope="module")
def data():
    return generate(3000, seed=13)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=[c for c in ("registered_date",) if c in df.columns])
    return df.sort_values(list(df.columns), kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_loader_recovers_clean_tables_from_messy_files(tmp_path, data, fmt):
    out = data.write(tmp_path / fmt, format=fmt, messy=MessSpec(duplicate=0.03, overlap=0.02,
                                                                 invalid=0.005, late=0.05))
    rs = read_registers(out, quarantine_dir=tmp_path / "q")
    rep = rs.report.to_frame() if hasattr(rs.report, "to_frame") else None
    for name in ("persons", "residence", "benefits", "employment", "diagnoses", "ips_caseload",
                 "specialist_weeks", "municipalities"):
        a, b = _sorted(data.registers[name]), _sorted(rs[name])
        pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False, obj=name)
    assert rep is not None
    text = rs.report.to_text()
    assert "identity kept + merged + quarantined = read holds" in text


def test_messiness_kinds_are_present_in_written_files(tmp_path, data):
    out = data.write(tmp_path / "p", messy=True)
    b = pd.read_parquet(out / "benefits.parquet")
    assert b["start_date"].str.fullmatch(r"\d{6}").any()          # YYYYMM months
    assert b["start_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").any()
    assert b["end_date"].isna().any()                              # open spells
    late = pd.to_datetime(b["registered_date"]) - pd.to_datetime(b["start_date"].where(b["start_date"].str.len() == 10))
    assert (late.dt.days > 100).any()
    tail = b.iloc[-len(b) // 50:]
    assert not tail["person_id"].is_monotonic_increasing            # late rows at the end
    e = pd.read_parquet(out / "employment.parquet")
    assert e.duplicated(["person_id", "employer_id", "start_date", "end_date"]).any()
    p = pd.read_parquet(out / "persons.parquet")
    assert {"1", "2", "F", "M"} <= set(p["sex"])
    clean = data.write(tmp_path / "c", messy=False)
    assert len(pd.read_parquet(clean / "benefits.parquet")) == len(data.registers["benefits"])


def test_embedded_data_reads_with_accounting_and_merges(tmp_path):
    if not (embedded_dir() / "persons.parquet").exists():
        pytest.skip("embedded synthetic data not built")
    rs = read_registers(embedded_dir(), quarantine_dir=tmp_path / "q")
    frame = rs.report.to_frame()
    assert (frame["kept"] + frame["merged"] + frame["quarantined"] == frame["read"]).all()
    merged = frame.set_index("table")["merged"] if "table" in frame.columns else frame["merged"]
    assert merged.sum() > 1000
    assert (embedded_dir() / CHECKSUMS).read_text() == checksums(embedded_dir())


@pytest.mark.slow
def test_embedded_data_regenerates_byte_identically(tmp_path):
    from ips_study.synthetic.embedded import build

    new = checksums(build(tmp_path, progress=False))
    assert new == (embedded_dir() / CHECKSUMS).read_text()
