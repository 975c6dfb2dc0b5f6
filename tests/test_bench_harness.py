"""The fair-timing harness of benchmarks/: alternation, CPU accounting, equality, records."""

from __future__ import annotations

import doctest
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("_harness", ROOT / "benchmarks" / "_harness.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_harness"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_doctest(harness):
    assert doctest.testmod(harness).failed == 0


def test_alternates_and_records(harness, tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "RESULTS", tmp_path)
    order = []
    a = harness.Contender("ips_study", lambda: order.append("A") or [1.0, 2.0], "1.0", "x")
    b = harness.Contender("peer", lambda: order.append("B") or [1.0, 2.0 + 1e-9], "2.3", "tol=1e-6",
                          warmup=lambda: order.append("w"))
    rec = harness.compare("g", "k", [a, b], equal=harness.max_abs_diff, tolerance=1e-8,
                          repeats=4, target=2.0, echo=False)
    assert order == ["w"] + ["A", "B"] * 4
    assert rec["equal"] and rec["differences"]["peer"] == pytest.approx(1e-9, rel=1e-6)
    stored = json.loads((tmp_path / "k.json").read_text())
    assert stored["contenders"][1]["version"] == "2.3"
    assert stored["contenders"][1]["settings"] == "tol=1e-6"
    assert len(stored["contenders"][0]["runs"]) == 4
    assert len(stored["load_before"]) == 3
    row = harness.markdown_rows(stored)
    assert "peer 2.3 (tol=1e-6)" in row and "yes" in row
    assert harness.table([tmp_path / "k.json"]).count("\n") == 2


def test_unequal_answers_are_flagged(harness):
    rec = harness.compare("g", "k", [harness.Contender("ips_study", lambda: [1.0], "1"),
                                     harness.Contender("peer", lambda: [1.1], "1")],
                          equal=harness.max_abs_diff, tolerance=1e-8, write=False, echo=False)
    assert not rec["equal"]
    assert "| NO: " in harness.markdown_rows(rec)


def test_fewer_than_three_runs_refused(harness):
    with pytest.raises(ValueError, match="at least 3"):
        harness.compare("g", "k", [harness.Contender("a", lambda: 0, "1")], equal=lambda a, b: 0,
                        tolerance=0, repeats=2, write=False, echo=False)


def test_child_process_cpu_is_counted(harness):
    busy = [sys.executable, "-c", "s = 0\nfor i in range(3_000_000): s += i"]
    _, usage = harness.timed(lambda: subprocess.run(busy, check=True))
    # the work happens in the child: without RUSAGE_CHILDREN the parent's CPU would be ~0
    assert usage["user"] + usage["sys"] > 0.05


def test_self_timed_usage_replaces_the_clock(harness):
    usage = {"wall": 9.0, "user": 8.0, "sys": 1.0}
    rec = harness.compare("g", "k", [harness.Contender("ips_study", lambda: 1.0, "1"),
                                     harness.Contender("peer", lambda: harness.SelfTimed(1.0, usage), "1")],
                          equal=lambda a, b: abs(a - b), tolerance=0, write=False, echo=False)
    assert rec["contenders"][1]["runs"] == [usage] * 3
    assert rec["contenders"][1]["cpu_median"] == 9.0
