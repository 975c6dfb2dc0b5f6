"""A delivery under the register owners' variable names reads through the study file's
``[columns.<table>]`` rename mapping (issue 21)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ips_study.config import ConfigError, StudyConfig
from ips_study.registers import read_registers

CORPUS = Path(__file__).parent / "corpus" / "base"

#: data contract column -> name in the delivery (an FD-Trygd-style export: upper case, Norwegian)
DELIVERED = {
    "persons": {"person_id": "LOPENR", "birth_date": "FOEDSELSDATO", "sex": "KJOENN",
                "death_date": "DOEDSDATO"},
    "benefits": {"person_id": "LOPENR", "benefit": "YTELSE", "start_date": "STARTDATO",
                 "end_date": "SLUTTDATO", "grade": "GRAD"},
}

STUDY = """
[columns.persons]
person_id = "LOPENR"
birth_date = "FOEDSELSDATO"
sex = "KJOENN"
death_date = "DOEDSDATO"

[columns.benefits]
person_id = "lopenr"          # matched case-insensitively
benefit = "YTELSE"
start_date = "STARTDATO"
end_date = "SLUTTDATO"
grade = "GRAD"
"""


def delivery(tmp_path) -> Path:
    d = tmp_path / "delivery"
    shutil.copytree(CORPUS, d)
    for table, mapping in DELIVERED.items():
        df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
        df.rename(columns=mapping).to_csv(d / f"{table}.csv", index=False)
    return d


def test_a_delivery_under_delivered_names_reads_like_the_spec_files(tmp_path):
    d = delivery(tmp_path)
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    cfg = StudyConfig.from_toml(study)
    assert cfg.columns["benefits"]["start_date"] == "STARTDATO"
    got = read_registers(d, quarantine_dir=tmp_path / "q1", columns=cfg.columns)
    want = read_registers(CORPUS, quarantine_dir=tmp_path / "q2")
    for table in ("persons", "benefits", "residence"):
        pd.testing.assert_frame_equal(got[table], want[table])
    # without the mapping the same delivery is refused, naming the contract column it lacks
    with pytest.raises(ValueError, match="person_id"):
        read_registers(d, quarantine_dir=tmp_path / "q3")


def test_cli_validate_and_panel_take_the_mapping_from_the_study_file(tmp_path, capsys):
    from ips_study.cli import main

    d = delivery(tmp_path)
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    assert main(["validate", str(d), "--quarantine-dir", str(tmp_path / "q")]) == 1  # fatal
    assert main(["validate", str(d), "--study", str(study),
                 "--quarantine-dir", str(tmp_path / "q")]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("text, message", [
    ('[columns.benefit]\nperson_id = "X"', "no such register table"),
    ('[columns.persons]\ngender = "KJOENN"', "'gender' is not a column of persons"),
    ('[columns.persons]\nperson_id = "A"\nsex = "a"', "named for both"),
    ('columns = 3', "TOML table of tables"),
])
def test_bad_mappings_are_refused_with_the_key(tmp_path, text, message):
    study = tmp_path / "study.toml"
    study.write_text(text)
    with pytest.raises(ConfigError, match=message):
        StudyConfig.from_toml(study)


def test_the_documented_mapping_reads_a_delivery_under_its_names(tmp_path):
    """The example in docs/data_dictionary.md (placeholders plus SSB's published
    ``BEFOLKNING_KOMMNR_FORMELL``) is a working mapping: a delivery renamed by it reads like
    the contract-named files."""
    import re
    import tomllib

    text = (Path(__file__).parents[1] / "docs" / "data_dictionary.md").read_text()
    example = re.search(r"## The rename mapping.*?```toml\n(.*?)```", text, re.S).group(1)
    study = tmp_path / "study.toml"
    study.write_text(example)
    mapping = StudyConfig.from_toml(study).columns
    assert mapping["residence"]["municipality"] == "BEFOLKNING_KOMMNR_FORMELL"
    d = tmp_path / "delivery"
    shutil.copytree(CORPUS, d)
    for table, names in tomllib.loads(example)["columns"].items():
        df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
        df.rename(columns=names).to_csv(d / f"{table}.csv", index=False)
    got = read_registers(d, quarantine_dir=tmp_path / "q1", columns=mapping)
    want = read_registers(CORPUS, quarantine_dir=tmp_path / "q2")
    for table in mapping:
        pd.testing.assert_frame_equal(got[table], want[table])
