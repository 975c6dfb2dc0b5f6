"""``ips-study reproduce --partitions K``: the registers are read and the panels built one
person partition at a time, and every output is byte-identical to the in-memory run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import ips_study.registers as registers_module
from ips_study.panel import read_panel
from ips_study.reproduce.pipeline import PARTITIONS_ENV, run

#: outputs that read the registers (accounting, flow, programme tables) and every kind of panel
#: (year and month, study and all municipalities, open and closed population)
TOUCHING_INPUTS = ["table_1_register_accounting", "table_2_participant_flow", "figure_1_participant_flow",
                   "table_4_descriptives", "table_3_programme_metrics", "table_11_programme_outcome_flow",
                   "figure_6_survival"]


def hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.is_file() and p.name != "run_manifest.json"}


def _never_whole(*args, **kwargs):
    raise AssertionError("the partitioned run read the whole delivery")


def test_partitioned_run_equals_the_in_memory_run(small_synthetic_dir, tmp_path, monkeypatch):
    """6,000 persons with messy rows (quarantined in both runs), 3 partitions."""
    only = ["table_1_register_accounting", "table_2_participant_flow", "table_4_descriptives",
            "table_3_programme_metrics"]
    assert run(data=small_synthetic_dir, out=tmp_path / "a", work=tmp_path / "wa", quiet=True, only=only) == 0
    monkeypatch.setattr(registers_module, "read_registers", _never_whole)
    assert run(data=small_synthetic_dir, out=tmp_path / "b", work=tmp_path / "wb", quiet=True, only=only,
               partitions=3) == 0
    a = hashes(tmp_path / "a")
    assert a == hashes(tmp_path / "b") and len(a) == 3 * len(only) + 1  # + table_4_descriptives.roles
    assert json.loads((tmp_path / "b" / "run_manifest.json").read_text())["partitions"] == 3
    assert json.loads((tmp_path / "a" / "run_manifest.json").read_text())["partitions"] is None
    assert len(list((tmp_path / "wb" / "partitions-3").glob("part-*"))) == 3
    # the panel cache written partition by partition is the one the in-memory run writes
    cache = sorted(p.name for p in (tmp_path / "wa").glob("panel_*.parquet"))
    assert cache and cache == sorted(p.name for p in (tmp_path / "wb").glob("panel_*.parquet"))
    for name in cache:
        pd.testing.assert_frame_equal(read_panel(tmp_path / "wa" / name), read_panel(tmp_path / "wb" / name))


def test_partitions_default_from_the_environment(small_synthetic_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(PARTITIONS_ENV, "2")
    only = ["table_2_participant_flow"]
    assert run(data=small_synthetic_dir, out=tmp_path / "o", work=tmp_path / "w", quiet=True, only=only) == 0
    assert json.loads((tmp_path / "o" / "run_manifest.json").read_text())["partitions"] == 2
    monkeypatch.setenv(PARTITIONS_ENV, "many")
    with pytest.raises(ValueError, match=PARTITIONS_ENV):
        run(data=small_synthetic_dir, out=tmp_path / "o", work=tmp_path / "w", quiet=True, only=only)
    monkeypatch.delenv(PARTITIONS_ENV)
    with pytest.raises(ValueError, match="at least 1 .0: in memory."):
        run(data=small_synthetic_dir, out=tmp_path / "o", work=tmp_path / "w", quiet=True, only=only,
            partitions=-1)


@pytest.mark.slow
def test_partitioned_reproduce_is_byte_identical_on_the_embedded_data(tmp_path, monkeypatch):
    assert run(out=tmp_path / "a", work=tmp_path / "wa", quiet=True, only=TOUCHING_INPUTS, workers=1) == 0
    monkeypatch.setattr(registers_module, "read_registers", _never_whole)
    assert run(out=tmp_path / "b", work=tmp_path / "wb", quiet=True, only=TOUCHING_INPUTS, workers=1,
               partitions=2) == 0
    a = hashes(tmp_path / "a")
    assert a == hashes(tmp_path / "b")
    assert {Path(n).stem for n in a} == set(TOUCHING_INPUTS)


def test_partitioned_survival_never_reads_the_whole_month_panel(small_synthetic_dir, tmp_path, monkeypatch):
    """The survival designs get the month panel's episodes piece by piece (issue 20, memory):
    the whole month panel is never read into memory, and the outputs are those of the
    in-memory run."""
    import ips_study.panel as panel_module

    only = ["figure_6_survival", "table_10_survival_models"]
    assert run(data=small_synthetic_dir, out=tmp_path / "a", work=tmp_path / "wa", quiet=True, only=only) == 0
    whole = panel_module.read_panel

    def read_panel(path):
        assert "panel_month" not in Path(path).name, "the whole month panel was read"
        return whole(path)

    monkeypatch.setattr(panel_module, "read_panel", read_panel)
    assert run(data=small_synthetic_dir, out=tmp_path / "b", work=tmp_path / "wb", quiet=True, only=only,
               partitions=3) == 0
    a = hashes(tmp_path / "a")
    assert a == hashes(tmp_path / "b") and len(a) == 2 + 3
    assert list((tmp_path / "wb").glob("panel_month_*.parquet"))


def test_partitioned_context_keeps_no_person_level_fit(tmp_path, monkeypatch):
    """With partitions the person-level DiD fits (used once, by table 5) are not memoised;
    every other fit is, as in memory."""
    import ips_study.designs as designs_module
    from ips_study.config import StudyConfig
    from ips_study.reproduce.context import Context

    calls = []
    monkeypatch.setattr(designs_module, "get_design", lambda name: lambda data, **kw: calls.append(kw) or object())
    for partitions, person_fits in ((2, 2), (None, 1)):
        calls.clear()
        ctx = Context(data=tmp_path, out=tmp_path, work=tmp_path, config=StudyConfig(), key="k" * 16,
                      partitions=partitions)
        monkeypatch.setattr(ctx, "_design_input", lambda *a: None)
        for _ in range(2):
            ctx.fit("did", "workdays", level="person")
            ctx.fit("did", "workdays", level="municipality")
        assert [c["level"] for c in calls].count("person") == person_fits
        assert [c["level"] for c in calls].count("municipality") == 1
