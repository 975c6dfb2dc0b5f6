"""The reproduce pipeline: determinism, resume after interruption, corrupted caches."""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from ips_study.reproduce import outputs as outputs_module
from ips_study.reproduce.context import Context
from ips_study.reproduce.pipeline import run
from ips_study.config import StudyConfig

QUICK = ["table_1_register_accounting", "table_2_participant_flow", "table_4_descriptives"]


def hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.is_file() and p.name != "run_manifest.json"}


def test_quick_outputs_are_deterministic_and_resume(small_synthetic_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(data=small_synthetic_dir, out=a, work=tmp_path / "wa", quiet=True, only=QUICK) == 0
    assert run(data=small_synthetic_dir, out=b, work=tmp_path / "wb", quiet=True, only=QUICK) == 0
    ha = hashes(a)
    assert ha == hashes(b) and len(ha) == 3 * len(QUICK) + 1  # + table_4_descriptives.roles
    manifest = json.loads((a / "run_manifest.json").read_text())
    assert manifest["disclosure_check"]["violations"] == 0 and manifest["seed"] == StudyConfig().seed
    assert set(manifest["input_hashes"]) >= {"persons.parquet", "benefits.parquet"}
    # resume: a deleted output is rebuilt, the others are skipped
    (a / "table_4_descriptives.csv").unlink()
    assert run(data=small_synthetic_dir, out=a, work=tmp_path / "wa", quiet=True, only=QUICK) == 0
    m = json.loads((a / "run_manifest.json").read_text())
    assert m["skipped_up_to_date"] == QUICK[:2] and list(m["timings_seconds"]) == QUICK[2:]
    assert hashes(a) == ha


def test_interrupted_run_resumes_without_mixed_outputs(small_synthetic_dir, tmp_path, monkeypatch):
    out, work = tmp_path / "out", tmp_path / "work"
    original = list(outputs_module.OUTPUTS)
    boom = outputs_module.Output("table_4_descriptives", "panels",
                                 lambda ctx: (_ for _ in ()).throw(KeyboardInterrupt()))
    monkeypatch.setattr(outputs_module, "OUTPUTS", [o if o.name != boom.name else boom for o in original])
    with pytest.raises(KeyboardInterrupt):
        run(data=small_synthetic_dir, out=out, work=work, quiet=True, only=QUICK)
    assert not list(out.glob("*.part*"))
    monkeypatch.setattr(outputs_module, "OUTPUTS", original)
    assert run(data=small_synthetic_dir, out=out, work=work, quiet=True, only=QUICK) == 0
    fresh = tmp_path / "fresh"
    run(data=small_synthetic_dir, out=fresh, work=tmp_path / "w2", quiet=True, only=QUICK)
    assert hashes(out) == hashes(fresh)


def test_corrupted_panel_cache_is_detected_and_rebuilt(small_synthetic_dir, tmp_path):
    cfg = StudyConfig()
    ctx = Context(data=small_synthetic_dir, out=tmp_path / "o", work=tmp_path, config=cfg, key="k" * 64)
    first = ctx.panel("year")
    cached = next(tmp_path.glob("panel_year_study_*.parquet"))
    cached.write_bytes(cached.read_bytes()[:-100] + b"x" * 100)  # corrupt the tail
    again = Context(data=small_synthetic_dir, out=tmp_path / "o", work=tmp_path, config=cfg, key="k" * 64)
    pd.testing.assert_frame_equal(again.panel("year"), first)
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == cached.with_suffix(".sha256").read_text().strip()


@pytest.mark.slow
def test_full_pipeline_twice_gives_identical_outputs(small_synthetic_dir, tmp_path):
    # every output but the power simulation (minutes of replications; seeded, and its
    # determinism is tested in tests/test_power.py)
    # table 16 needs a study with a [published] table (tests/test_published_design.py runs it)
    names = [o.name for o in outputs_module.OUTPUTS if o.step != "power" and o.name != "table_16_published_design"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(data=small_synthetic_dir, out=a, work=tmp_path / "wa", quiet=True, only=names) == 0
    assert run(data=small_synthetic_dir, out=b, work=tmp_path / "wb", quiet=True, only=names) == 0
    ha = hashes(a)
    assert ha == hashes(b)
    assert {Path(n).stem for n in ha} == set(names)  # every output was made, PNG and PDF included
