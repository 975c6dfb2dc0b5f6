"""Column parsers: dates, numbers, codes, municipality repairs, typed inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from ips_study.registers.columns import R, _fix_municipality, from_days_str, parse_column
from ips_study.registers.schema import TABLES

BEN = TABLES["benefits"]
EMP = TABLES["employment"]


def col(table, name):
    return TABLES[table].column(name)


@pytest.mark.parametrize("code, expected", [
    ("1804", ("1804", False)), ("0301", ("0301", False)), ("301", ("0301", True)),
    ("301.0", ("0301", True)), ("5001", ("5001", False)), ("2100", (None, False)),
    ("100", (None, False)), ("1304", (None, False)), ("18O4", (None, False)),
    ("18", (None, False)), ("18040", (None, False)), ("0000", (None, False)),
])
def test_municipality_rules(code, expected):
    assert _fix_municipality(code) == expected


def test_string_dates_start_and_end_semantics():
    arr = pa.chunked_array([["201302", "2013-02-15", "2013-02-15 00:00:00", "", "1850-01-01", "2013-13-01"]])
    start = parse_column(arr, BEN.column("start_date"))
    end = parse_column(arr, BEN.column("end_date"), end=True)
    assert from_days_str(start.values)[:3] == ["2013-02-01", "2013-02-15", "2013-02-15"]
    assert from_days_str(end.values)[:4] == ["2013-02-28", "2013-02-15", "2013-02-15", "NaT"]
    assert start.reason.tolist() == [0, 0, 0, R["missing_value"], R["out_of_range"], R["unparseable_date"]]
    assert end.reason.tolist() == [0, 0, 0, 0, R["out_of_range"], R["unparseable_date"]]
    assert start.notes == {"yyyymm_dates": 1}


def test_typed_dates_and_integer_months():
    typed = pa.chunked_array([pa.array([dt.date(2013, 1, 5), None], pa.date32())])
    p = parse_column(typed, BEN.column("end_date"), end=True)
    assert from_days_str(p.values) == ["2013-01-05", "NaT"] and p.reason.tolist() == [0, 0]
    ints = pa.chunked_array([pa.array([201301, 201312], pa.int64())])
    assert from_days_str(parse_column(ints, BEN.column("end_date"), end=True).values) == ["2013-01-31", "2013-12-31"]
    # local midnight in Oslo is 23:00 UTC the day before: the local calendar day counts
    utc = pa.array([dt.datetime(2013, 1, 4, 23, 0)], pa.timestamp("ns")).cast(pa.timestamp("ns", tz="UTC"))
    ts = pa.chunked_array([utc.cast(pa.timestamp("ns", tz="Europe/Oslo"))])
    assert from_days_str(parse_column(ts, BEN.column("start_date")).values) == ["2013-01-05"]


def test_numbers_decimal_comma_only_in_semicolon_files():
    arr = pa.chunked_array([["50,5", "100", " 20 ", "tjue", "", "-1"]])
    semi = parse_column(arr, EMP.column("fte"), decimal_comma=True)
    comma = parse_column(arr, EMP.column("fte"))
    assert semi.values[:3].tolist() == [50.5, 100.0, 20.0] and semi.notes == {"decimal_comma": 1}
    assert semi.reason.tolist() == [0, 0, 0, R["unparseable_number"], R["missing_value"], R["out_of_range"]]
    assert comma.reason[0] == R["unparseable_number"]


def test_integer_column_rejects_fractions():
    p = parse_column(pa.chunked_array([pa.array([3.0, 2.5, np.nan])]), col("specialist_weeks", "employer_meetings"))
    assert p.reason.tolist() == [0, R["unparseable_number"], R["missing_value"]]


def test_codes_case_aliases_and_unknown():
    p = parse_column(pa.chunked_array([["2", "1", "K", "f", "X", None]]), col("persons", "sex"))
    assert p.values.take(np.arange(6)).tolist() == ["F", "M", "F", "F", None, None]
    assert p.reason.tolist() == [0, 0, 0, 0, R["unknown_code"], R["missing_value"]]
    assert p.notes == {"sex_code_recoded": 4} and p.n_present == 5 and p.n_bad == 1
    # the same canonical value gets one code whatever its spelling
    assert len(set(p.values.codes[[0, 2, 3]].tolist())) == 1


def test_ids_from_doubles_and_whitespace():
    p = parse_column(pa.chunked_array([pa.array([12.0, 7.0, None])]), col("persons", "person_id"))
    assert p.values.take(np.arange(3)).tolist() == ["12", "7", None]
    q = parse_column(pa.chunked_array([[" p1", "p1 ", "p2"]]), col("persons", "person_id"))
    assert q.values.take(np.arange(3)).tolist() == ["p1", "p1", "p2"] and q.values.codes[0] == q.values.codes[1]


def test_dictionary_input_is_used_directly():
    arr = pa.chunked_array([pa.array(["sickness", "foo", "sickness"]).dictionary_encode()])
    p = parse_column(arr, BEN.column("benefit"))
    assert p.reason.tolist() == [0, R["unknown_code"], 0]
    assert p.values.take(np.array([0, 2])).tolist() == ["sickness", "sickness"]
