"""The command line interface, end to end on a small synthetic delivery (data contract, section 5)."""

import json
import shutil

import pandas as pd
import pytest

from ips_study.cli import main


def test_synth_validate_panel_estimate(small_synthetic_dir, tmp_path, capsys):
    assert main(["validate", str(small_synthetic_dir)]) == 0
    text = capsys.readouterr().out
    assert "kept + merged + quarantined = read" in text
    panel = tmp_path / "panel.parquet"
    assert main(["panel", str(small_synthetic_dir), "--out", str(panel), "--quiet",
                 "--quarantine-dir", str(tmp_path / "q")]) == 0
    p = pd.read_parquet(panel)
    for col in ("person_id", "municipality", "period", "treated", "post", "disability", "workdays", "ltbd"):
        assert col in p.columns
    assert p["period"].str.fullmatch(r"\d{4}").all()
    summary = json.loads(panel.with_suffix(".summary.json").read_text())
    assert summary["rows"] == len(p)
    out = tmp_path / "did.json"
    capsys.readouterr()
    assert main(["estimate", str(panel), "--design", "did", "--outcome", "workdays",
                 "--inference", "placebo", "--option", "level=municipality", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    for key in ("design", "outcome", "estimate", "std_error", "conf_int", "p_value", "n_obs", "n_units", "inference"):
        assert key in d
    assert d["inference"] == "placebo" and len(d["conf_int"]) == 2
    printed = capsys.readouterr().out
    assert str(p["person_id"].iloc[0]) not in printed  # no identifiers on screen


def test_validate_reports_fatal_with_exit_1(small_synthetic_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(small_synthetic_dir, broken, ignore=shutil.ignore_patterns("quarantine"))
    (broken / "persons.parquet").unlink()
    assert main(["validate", str(broken)]) == 1
    assert "persons" in capsys.readouterr().out


def test_input_errors_are_one_line_without_traceback(tmp_path, capsys):
    bad = tmp_path / "study.toml"
    bad.write_text("nonsense = 1\n")
    code = main(["estimate", str(tmp_path / "missing.parquet"), "--design", "did", "--outcome", "x",
                 "--study", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "unknown key" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["estimate"])  # argparse usage error


def test_panel_in_person_partitions(small_synthetic_dir, tmp_path):
    whole, parted = tmp_path / "whole.parquet", tmp_path / "parted.parquet"
    assert main(["panel", str(small_synthetic_dir), "--out", str(whole), "--quiet",
                 "--quarantine-dir", str(tmp_path / "q")]) == 0
    assert main(["panel", str(small_synthetic_dir), "--out", str(parted), "--quiet", "--partitions", "3",
                 "--work", str(tmp_path / "work"), "--quarantine-dir", str(tmp_path / "q2")]) == 0
    from ips_study.panel import read_panel

    a = read_panel(whole).sort_values(["person_id", "period"]).reset_index(drop=True)
    b = read_panel(parted).sort_values(["person_id", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert main(["panel", str(small_synthetic_dir), "--out", str(parted), "--partitions", "3"]) == 2
