"""ValidationReport and the directory-level API: accounting identity, renderings, as-of date,
quarantine folder, fatal handling, and the reason vocabulary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ips_study.registers import (REASONS, RegisterError, TableReport, ValidationReport, read_registers,
                                  validate_directory)

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def delivery(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(CORPUS / "base", d)
    return d


def test_identity_is_enforced():
    t = TableReport("benefits", read=10)
    t.quarantine("end_before_start", 2)
    with pytest.raises(AssertionError, match="row accounting broken for benefits"):
        t.close(kept=7, merged=0)
    t.close(kept=7, merged=1)
    assert t.closed
    with pytest.raises(ValueError, match="unknown reason"):
        t.quarantine("bad_vibes", 1)


def test_renderings(delivery, tmp_path):
    with open(delivery / "benefits.csv", "a") as fh:
        fh.write("p02,sickness,2012-05-01,2012-04-30,100\np02,sickness,2012-05-01,2012-04-30,100\n")
    rep = validate_directory(delivery, quarantine_dir=tmp_path / "q")
    frame = rep.to_frame()
    counts = frame.loc["benefits", ["read", "kept", "merged", "quarantined", "end_before_start"]].tolist()
    assert counts == [8, 6, 0, 2, 2]
    assert (frame["kept"] + frame["merged"] + frame["quarantined"] == frame["read"]).all()
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["tables"]["benefits"]["reasons"] == {"end_before_start": 2}
    assert d["tables"]["benefits"]["identity_holds"] and d["fatal"] is False
    text = rep.to_text()
    assert "quarantined in benefits: end_before_start 2 (lines 8, 9)" in text
    assert d["tables"]["benefits"]["example_lines"] == {"end_before_start": [8, 9]}
    assert "identity kept + merged + quarantined = read holds" in text
    assert "p02" not in text and "p02" not in json.dumps(d)


def test_as_of_controls_future_dates(delivery, tmp_path):
    rep = validate_directory(delivery, quarantine_dir=tmp_path / "q", as_of="2014-12-31")
    assert rep.as_of == "2014-12-31"
    # benefits starting 2015-01-01 and employment starting 2015-05-01 / 2016-01-01 are future then;
    # p03's death on 2016-05-05 quarantines p03, whose spells then refer to an unknown person
    assert rep.tables["persons"].quarantined == {"future_date": 1}
    assert rep.tables["benefits"].quarantined == {"future_date": 1, "unknown_person": 1}
    assert rep.tables["employment"].quarantined == {"future_date": 2}
    assert rep.tables["residence"].quarantined == {"unknown_person": 1}
    assert not validate_directory(delivery, quarantine_dir=tmp_path / "q2").tables["benefits"].quarantined


def test_default_quarantine_dir_and_stale_files(delivery, tmp_path, monkeypatch):
    from ips_study.workarea import default_quarantine

    monkeypatch.setenv("IPS_STUDY_WORK", str(tmp_path / "work"))
    with open(delivery / "diagnoses.csv", "a") as fh:
        fh.write("p05,2012-01-01,ICD9,295,specialist\n")
    rep = validate_directory(delivery)
    # rows with person ids go to the work area, never beside the input data (issue 21)
    q = default_quarantine(delivery)
    assert rep.quarantine_dir == str(q) and q.is_relative_to(tmp_path / "work")
    assert not (delivery / "quarantine").exists()
    assert (q / "README_CONFIDENTIAL.txt").read_text().startswith("CONFIDENTIAL")
    assert (q / "diagnoses.csv").read_text().splitlines()[1].startswith("5,unknown_code,p05")
    (delivery / "diagnoses.csv").write_text((CORPUS / "base" / "diagnoses.csv").read_text())
    validate_directory(delivery)
    assert not (q / "diagnoses.csv").exists()


def test_fatal_reporting_and_exception(tmp_path):
    rep = validate_directory(tmp_path / "nowhere")
    assert rep.fatal and "not a directory" in rep.errors[0]
    d = tmp_path / "d"
    shutil.copytree(CORPUS / "base", d)
    (d / "persons.csv").unlink()
    (d / "employment.csv").write_text("person_id,employer_id\n")
    rep = validate_directory(d, quarantine_dir=tmp_path / "q")
    assert rep.fatal and len(rep.all_errors()) == 2
    assert "FATAL" in rep.to_text() and rep.to_dict()["fatal"] is True
    with pytest.raises(ValueError) as info:  # RegisterError is a ValueError
        read_registers(d, quarantine_dir=tmp_path / "q")
    assert isinstance(info.value, RegisterError) and "1 more fatal" in str(info.value)
    assert info.value.report.fatal
    # without persons, person links are not checked, but the other tables are still accounted
    assert rep.tables["benefits"].kept == 6


def test_every_reason_code_is_exercised_by_the_corpus():
    used = set()
    for f in CORPUS.glob("*/expected.json"):
        for rows in json.loads(f.read_text(encoding="utf-8")).get("quarantined", {}).values():
            used.update(reason for _, reason in rows)
    assert used == set(REASONS)


def test_report_without_tables_is_fatal_free():
    rep = ValidationReport()
    assert not rep.fatal and rep.to_frame().empty
