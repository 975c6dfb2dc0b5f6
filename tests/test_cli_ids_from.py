"""``ips-study check-outputs --ids-from``: ids of any format, read from the delivery's persons
table, are looked for in the outputs; without it only 10- and 11-digit numbers are."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ips_study.cli import main


@pytest.fixture
def outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # an output that leaks a non-numeric id inside a text cell
    (out / "table.csv").write_text("group,note,persons\ntreated,see case AB-7781x,120\n")
    return out


def test_non_numeric_id_found_only_with_ids_from(outputs, tmp_path, capsys):
    persons = tmp_path / "persons.csv"
    persons.write_text("pid,birth_date\nAB-7781x,1990-01-01\nCD-0001y,1991-02-02\n")
    assert main(["check-outputs", str(outputs)]) == 0
    capsys.readouterr()
    assert main(["check-outputs", str(outputs), "--ids-from", str(persons), "--id-column", "pid"]) == 1
    text = capsys.readouterr().out
    assert "table.csv" in text and "identifier" in text
    assert "AB-7781x" not in text  # the report names the place, never the id


def test_ids_from_parquet(outputs, tmp_path):
    persons = tmp_path / "persons.parquet"
    pq.write_table(pa.table({"person_id": ["AB-7781x", "ZZ-1"]}), persons)
    assert main(["check-outputs", str(outputs), "--ids-from", str(persons)]) == 1


def test_ids_from_errors_are_one_line(outputs, tmp_path, capsys):
    persons = tmp_path / "persons.csv"
    persons.write_text("pid\nAB-7781x\n")
    assert main(["check-outputs", str(outputs), "--ids-from", str(persons)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "persons.csv" in err and "person_id" in err
    assert "AB-7781x" not in err
    assert main(["check-outputs", str(outputs), "--ids-from", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_ids_from_unreadable_row_is_named_not_quoted(outputs, tmp_path, capsys):
    persons = tmp_path / "persons.csv"
    persons.write_text("person_id,birth_date\nAB-7781x,1990-01-01\nCD-0001y,1991-02-02,extra\n")
    assert main(["check-outputs", str(outputs), "--ids-from", str(persons)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "persons.csv" in err and "cannot read" in err
    assert "CD-0001y" not in err and "1991" not in err
