"""Readers and typed formats: Parquet (typed dates, string dates with YYYYMM rows, integer
municipality codes), Stata round trip, SAS (via the pandas reader's output form), CSV
line numbers, and the typed-table conventions of RegisterSet."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ips_study.registers import RegisterError, read_registers, validate_directory
from ips_study.registers.readers import read_file

BASE = Path(__file__).parent / "corpus" / "base"


@pytest.fixture
def delivery(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(BASE, d)
    return d


def test_typed_table_conventions(delivery, tmp_path):
    rs = read_registers(delivery, quarantine_dir=tmp_path / "q")
    b = rs["benefits"]
    assert b["start_date"].dtype == "datetime64[ns]" and b["end_date"].dtype == "datetime64[ns]"
    assert b["grade"].dtype == np.float64 and b["person_id"].map(type).eq(str).all()
    assert rs["municipalities"]["municipality"].tolist() == ["1804", "1833", "0301"]
    assert rs["municipalities"]["centrality"].dtype == np.int64
    assert rs["specialist_weeks"]["employer_meetings"].dtype == np.int64
    # p03's open disability pension ends on p03's death date (ended_at_death)
    assert rs["benefits"].set_index("benefit").loc["disability_pension", "end_date"] == pd.Timestamp("2016-05-05")
    assert pd.isna(rs["employment"].set_index("person_id").loc["p01", "end_date"])
    assert rs.report is not None and rs.meta["as_of"] == "2026-12-31"


def test_parquet_typed_and_string_dates(delivery, tmp_path):
    b = pd.read_csv(delivery / "benefits.csv", dtype=str, keep_default_na=False)
    (delivery / "benefits.csv").unlink()
    # FD-Trygd months stored as strings next to ISO dates, as some Parquet extracts do
    b.loc[0, "start_date"], b.loc[0, "end_date"] = "201201", "201306"
    pq.write_table(pa.table({
        "person_id": b["person_id"], "benefit": b["benefit"],
        "start_date": b["start_date"], "end_date": b["end_date"].replace("", None),
        "grade": pd.to_numeric(b["grade"]),
    }), delivery / "benefits.parquet")
    r = pd.read_csv(delivery / "residence.csv", dtype=str, keep_default_na=False)
    (delivery / "residence.csv").unlink()
    pq.write_table(pa.table({
        "person_id": r["person_id"],
        "municipality": r["municipality"].astype(int),  # integer column: 0301 arrives as 301
        "start_date": pa.array(pd.to_datetime(r["start_date"]).dt.date, pa.date32()),
        "end_date": pa.array(pd.to_datetime(r["end_date"].replace("", None)).dt.date, pa.date32()),
    }), delivery / "residence.parquet")
    rep = validate_directory(delivery, quarantine_dir=tmp_path / "q")
    assert not rep.fatal and rep.tables["residence"].file == "residence.parquet"
    assert rep.tables["residence"].notes["municipality_zero_padded"] == 1
    assert rep.tables["benefits"].notes["yyyymm_dates"] == 2
    rs = read_registers(delivery, quarantine_dir=tmp_path / "q")
    assert "0301" in rs["residence"]["municipality"].tolist()
    first = rs["benefits"].iloc[0]
    assert (str(first.start_date.date()), str(first.end_date.date())) == ("2012-01-01", "2013-06-30")


def test_parquet_bad_row_line_is_row_number(delivery, tmp_path):
    e = pd.read_csv(delivery / "employment.csv")
    e.loc[2, "fte"] = -1
    (delivery / "employment.csv").unlink()
    e.to_parquet(delivery / "employment.parquet")
    validate_directory(delivery, quarantine_dir=tmp_path / "q")
    q = pd.read_csv(tmp_path / "q" / "employment.csv")
    assert q[["line", "reason"]].values.tolist() == [[3, "out_of_range"]]


def test_stata_round_trip(delivery, tmp_path):
    p = pd.read_csv(delivery / "persons.csv", parse_dates=["birth_date", "death_date"])
    p["sex"] = p["sex"].map({"F": 2, "M": 1})  # SSB numeric codes, as in Stata extracts
    (delivery / "persons.csv").unlink()
    p.to_stata(delivery / "persons.dta", write_index=False, convert_dates={"birth_date": "td", "death_date": "td"})
    rs = read_registers(delivery, quarantine_dir=tmp_path / "q")
    assert rs["persons"]["sex"].tolist() == ["F", "M", "F", "M", "F"]
    assert str(rs["persons"].loc[2, "death_date"].date()) == "2016-05-05"
    assert rs.report.tables["persons"].notes["sex_code_recoded"] == 5


def test_sas_reader_output_is_understood(delivery, tmp_path, monkeypatch):
    # No SAS writer is available offline, so the test feeds what pandas.read_sas returns for a
    # SAS dataset: numeric columns as float64 (ids 1.0, codes 2.0), formatted dates as
    # datetime64, and undecoded character columns as bytes.
    (delivery / "persons.csv").unlink()
    (delivery / "persons.sas7bdat").write_bytes(b"not read: pandas.read_sas is replaced")
    frame = pd.DataFrame({
        "PERSON_ID": [b"p01", b"p02", b"p03", b"p04", b"p05"],
        "BIRTH_DATE": pd.to_datetime(["1985-04-12", "1990-11-30", "1978-02-01", "1995-07-19", "1988-01-01"]),
        "SEX": [2.0, 1.0, 2.0, 1.0, 2.0],
        "DEATH_DATE": pd.to_datetime([None, None, "2016-05-05", None, None]),
    })
    monkeypatch.setattr(pd, "read_sas", lambda *a, **k: frame.copy())
    rs = read_registers(delivery, quarantine_dir=tmp_path / "q")
    assert rs["persons"]["person_id"].tolist() == ["p01", "p02", "p03", "p04", "p05"]
    assert rs["persons"]["sex"].tolist() == ["F", "M", "F", "M", "F"]
    assert rs.report.tables["persons"].read == 5 and rs.report.tables["persons"].kept == 5


def test_unreadable_parquet_is_fatal(delivery, tmp_path):
    (delivery / "benefits.csv").unlink()
    (delivery / "benefits.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(RegisterError, match=r"benefits\.parquet, line 1: cannot read file"):
        read_registers(delivery, quarantine_dir=tmp_path / "q")


def test_two_files_for_one_table_is_fatal(delivery, tmp_path):
    pd.read_csv(delivery / "persons.csv").to_parquet(delivery / "persons.parquet")
    rep = validate_directory(delivery, quarantine_dir=tmp_path / "q")
    assert rep.fatal and "delivered in 2 files" in rep.errors[0]


def test_typed_column_of_wrong_type_is_fatal(delivery, tmp_path):
    e = pd.read_csv(delivery / "employment.csv")
    e["start_date"] = [True, False, True, True]
    (delivery / "employment.csv").unlink()
    e.to_parquet(delivery / "employment.parquet")
    with pytest.raises(RegisterError, match=r"employment\.parquet, column 'start_date', line 1"):
        read_registers(delivery, quarantine_dir=tmp_path / "q")


def test_csv_line_numbers_with_blank_and_malformed_lines(tmp_path):
    f = tmp_path / "persons.csv"
    f.write_bytes(b"\xef\xbb\xbfperson_id;birth_date;sex;death_date\r\np1;1990-01-05;2;\r\n\r\n"
                  b"p2;1991-01-01;1\r\np3;1992-01-01;K;;extra\r\np4;1993-01-01;1;\r\n")
    raw = read_file(f)
    assert raw.line.tolist() == [2, 6]
    assert [ln for ln, _ in raw.malformed] == [4, 5]
    assert raw.delimiter == ";" and raw.notes == {"utf8_bom": 1, "semicolon_delimited": 1, "blank_lines_skipped": 1}
    assert raw.data.column("birth_date").to_pylist() == ["1990-01-05", "1993-01-01"]


def test_one_field_larger_than_a_csv_block_is_read(tmp_path):
    """A 10 MB field made Arrow fail with 'straddling object straddles two block boundaries'."""
    f = tmp_path / "employment.csv"
    f.write_text("person_id,employer_id,start_date,end_date,fte,monthly_wage\n"
                 f"p1,{'x' * 10_000_000},2014-01-01,,80,32000\np2,e2,2015-01-01,,50,20000\n", encoding="utf-8")
    raw = read_file(f)
    assert raw.line.tolist() == [2, 3]
    assert len(raw.data.column("employer_id")[0].as_py()) == 10_000_000


def test_date_past_year_9999_reaches_the_quarantine_file(tmp_path):
    """Writing a quarantined Parquet date32 past year 9999 raised 'year 275760 is out of range'."""
    from ips_study.registers.frames import take_rows

    t = pa.table({"d": pa.array([100_000_000, 0], pa.int32()).cast(pa.date32())})
    assert take_rows(t, np.array([0]))["d"].tolist() == ["<value out of range: 100000000>"]
