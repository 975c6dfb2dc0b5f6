"""Bad-input corpus: each case in ``tests/corpus/<case>/`` overlays the valid base delivery in
``tests/corpus/base/`` and states in ``expected.json`` exactly which lines of which tables are
quarantined with which reason (every table not listed must quarantine nothing), which counts
and repair notes are reported, or which fatal error is raised."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ips_study.registers import RegisterError, read_registers, validate_directory

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())
PERSON_ID = re.compile(r"\bp\d\d\b")


def _delivery(case: str, tmp_path: Path) -> tuple[Path, dict]:
    expected = json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))
    data = tmp_path / "data"
    shutil.copytree(CORPUS / "base", data)
    for f in (CORPUS / case).iterdir():
        if f.name != "expected.json":
            shutil.copy(f, data / f.name)
    for name in expected["remove"]:
        (data / name).unlink()
    return data, expected


def test_corpus_is_large_enough():
    assert len(CASES) >= 100


def test_base_delivery_is_clean(tmp_path):
    rep = validate_directory(CORPUS / "base", quarantine_dir=tmp_path / "q")
    assert not rep.fatal
    frame = rep.to_frame()
    assert (frame["read"] == frame["kept"]).all() and frame["read"].sum() == 31
    assert not (tmp_path / "q").exists()


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case, tmp_path):
    data, expected = _delivery(case, tmp_path)
    qdir = tmp_path / "quarantine"
    rep = validate_directory(data, quarantine_dir=qdir)
    text, as_json = rep.to_text(), json.dumps(rep.to_dict())
    assert not PERSON_ID.search(text) and not PERSON_ID.search(as_json), "person id on screen"
    if expected.get("fatal"):
        assert rep.fatal
        message = " ".join(rep.all_errors())
        for part in expected["error_contains"]:
            assert part in message
        with pytest.raises(RegisterError) as info:
            read_registers(data, quarantine_dir=qdir)
        assert expected["error_contains"][0] in str(info.value)
        assert not PERSON_ID.search(str(info.value))
        return
    assert not rep.fatal, rep.all_errors()
    for name, t in rep.tables.items():
        assert t.kept + t.merged + t.n_quarantined == t.read
        want = [tuple(x) for x in expected["quarantined"].get(name, [])]
        qfile = qdir / f"{name}.csv"
        got = [] if not qfile.exists() else list(
            pd.read_csv(qfile, dtype=str, keep_default_na=False)[["line", "reason"]]
            .astype({"line": int}).itertuples(index=False, name=None))
        assert got == want, name
        assert sum(t.quarantined.values()) == len(want)
        for k, v in expected.get("counts", {}).get(name, {}).items():
            assert getattr(t, k) == v, (name, k)
        for k, v in expected.get("notes", {}).get(name, {}).items():
            assert t.notes.get(k) == v, (name, k)
    if any(expected["quarantined"].values()):
        assert (qdir / "README_CONFIDENTIAL.txt").is_file()
    rs = read_registers(data, quarantine_dir=qdir)
    for name in expected.get("absent", []):
        assert name not in rs
    for name, cols in expected.get("values", {}).items():
        df = rs[name]
        for col, values in cols.items():
            got = df[col].tolist()
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                got = [None if pd.isna(v) else str(v.date()) for v in got]
            assert got == values, (name, col)


FATAL = [c for c in CASES if json.loads((CORPUS / c / "expected.json").read_text(encoding="utf-8")).get("fatal")]


@pytest.mark.parametrize("case", FATAL)
def test_fatal_case_through_the_cli(case, tmp_path, capsys):
    """Issue 20's crashes: the CLI exited 2 with one line naming no file and ``--json`` wrote
    nothing. Every fatal case now exits 1 with the report as JSON, whose ``errors`` name the
    file, and without a traceback or a person id; the text report says the same."""
    from ips_study.cli import main

    data, expected = _delivery(case, tmp_path)
    assert main(["validate", str(data), "--json", "--quarantine-dir", str(tmp_path / "q")]) == 1
    out = capsys.readouterr()
    errors = json.loads(out.out)["errors"]
    assert errors and expected["error_contains"][0] in " ".join(errors)
    assert "Traceback" not in out.err and not PERSON_ID.search(out.out + out.err)
    assert main(["validate", str(data), "--quarantine-dir", str(tmp_path / "q")]) == 1
    text = capsys.readouterr().out
    assert all(e in text for e in errors) and not PERSON_ID.search(text)
