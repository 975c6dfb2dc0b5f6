"""Messy written registers are read back by the loader into exactly the clean registers."""

import json
import math
import re
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from ips_study.registers.validate import read_registers
from ips_study.synthetic import MessSpec, generate
from ips_study.synthetic.embedded import CHECKSUMS, checksums, embedded_dir

SPELLS = ("residence", "benefits", "employment")


@pytest.fixture(scope="module")
def data():
    return generate(3000, seed=13)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=[c for c in ("registered_date",) if c in df.columns])
    return df.sort_values(list(df.columns), kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_loader_recovers_clean_tables_from_messy_files(tmp_path, data, fmt):
    out = data.write(tmp_path / fmt, format=fmt, messy=MessSpec(duplicate=0.03, overlap=0.02,
                                                                 invalid=0.005, late=0.05))
    rs = read_registers(out, quarantine_dir=tmp_path / "q")
    rep = rs.report.to_frame() if hasattr(rs.report, "to_frame") else None
    for name in ("persons", "residence", "benefits", "employment", "diagnoses", "ips_caseload",
                 "specialist_weeks", "municipalities"):
        a, b = _sorted(data.registers[name]), _sorted(rs[name])
        pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False, obj=name)
    assert rep is not None
    text = rs.report.to_text()
    assert "identity kept + merged + quarantined = read holds" in text


def test_messiness_kinds_are_present_in_written_files(tmp_path, data):
    out = data.write(tmp_path / "p", messy=True)
    b = pd.read_parquet(out / "benefits.parquet")
    assert b["start_date"].str.fullmatch(r"\d{6}").any()          # YYYYMM months
    assert b["start_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").any()
    assert b["end_date"].isna().any()                              # open spells
    late = pd.to_datetime(b["registered_date"]) - pd.to_datetime(b["start_date"].where(b["start_date"].str.len() == 10))
    assert (late.dt.days > 100).any()
    tail = b.iloc[-len(b) // 50:]
    assert not tail["person_id"].is_monotonic_increasing            # late rows at the end
    e = pd.read_parquet(out / "employment.parquet")
    assert e.duplicated(["person_id", "employer_id", "start_date", "end_date"]).any()
    p = pd.read_parquet(out / "persons.parquet")
    assert {"1", "2", "F", "M"} <= set(p["sex"])
    clean = data.write(tmp_path / "c", messy=False)
    assert len(pd.read_parquet(clean / "benefits.parquet")) == len(data.registers["benefits"])


def test_embedded_data_reads_with_accounting_and_merges(tmp_path):
    if not (embedded_dir() / "persons.parquet").exists():
        pytest.skip("embedded synthetic data not built")
    rs = read_registers(embedded_dir(), quarantine_dir=tmp_path / "q")
    frame = rs.report.to_frame()
    assert (frame["kept"] + frame["merged"] + frame["quarantined"] == frame["read"]).all()
    merged = frame.set_index("table")["merged"] if "table" in frame.columns else frame["merged"]
    assert merged.sum() > 1000
    assert (embedded_dir() / CHECKSUMS).read_text() == checksums(embedded_dir())


#: the libraries whose arithmetic reaches truth.json (summation order, BLAS, Newton steps)
NUMERIC_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow")


def _locked_versions() -> dict[str, str]:
    lock = Path(__file__).resolve().parents[1] / "requirements" / "dev.lock"
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", lock.read_text(), flags=re.M))
    return {name: pins.get(name) for name in NUMERIC_LIBRARIES}


def _under_the_lock() -> bool:
    return all(metadata.version(n) == v for n, v in _locked_versions().items())


def _numbers(obj, path=""):
    """(path, value) for every number in a JSON document, depth first."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj
    else:
        yield path, obj  # strings and nulls must match exactly


def _truth_close(a, b, path):
    """Tolerance across library versions (the lock itself is checked byte for byte).

    Sums and means over at most ~10^6 person-periods carry a relative rounding error of at most
    n * 2.2e-16 ~ 2e-10 when the summation order changes, so 1e-9 relative. Numbers that come
    out of a Cox fit (``hazard_ratio_*``) are Newton iterates stopped once every step is below
    1e-8 (``CoxPH``), so two platforms may land up to about that far apart: 1e-8 absolute.
    """
    if isinstance(a, float) or isinstance(b, float):
        abs_tol = 1e-8 if "hazard_ratio" in path else 0.0
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=abs_tol)
    return a == b


@pytest.mark.slow
def test_embedded_data_regenerates_byte_identically(tmp_path):
    """Under the lock every file regenerates byte for byte; across library versions the
    Parquet files still do and truth.json agrees within the tolerance of :func:`_truth_close`."""
    from ips_study.synthetic.embedded import build

    new_dir = build(tmp_path, progress=False)
    new = dict(line.split("  ")[::-1] for line in checksums(new_dir).splitlines())
    old = dict(line.split("  ")[::-1] for line in (embedded_dir() / CHECKSUMS).read_text().splitlines())
    assert new.keys() == old.keys()
    data_files = [name for name in old if name != "truth.json"]
    assert {n: new[n] for n in data_files} == {n: old[n] for n in data_files}
    if _under_the_lock():
        assert new["truth.json"] == old["truth.json"], "truth.json must regenerate byte for byte under the lock"
        return
    a = list(_numbers(json.loads((embedded_dir() / "truth.json").read_text())))
    b = list(_numbers(json.loads((new_dir / "truth.json").read_text())))
    assert [p for p, _ in a] == [p for p, _ in b]
    far = [p for (p, x), (_, y) in zip(a, b) if not _truth_close(x, y, p)]
    assert not far, f"truth.json differs beyond the cross-version tolerance at {far[:5]}"


def test_truth_tolerance_separates_rounding_from_real_change():
    assert _truth_close(-0.542202606940823, -0.5422026069404569, "/hazard_ratio_ltbd_onset/conf_int[0]")
    assert _truth_close(4.401020992271805, 4.401020992271804, "/att/workdays")
    assert not _truth_close(4.401020992271805, 4.4010209, "/att/workdays")
    assert not _truth_close(-0.5422026, -0.5422027, "/hazard_ratio_ltbd_onset/log_hr")
    assert not _truth_close("1804", "1805", "/treated_municipality")
