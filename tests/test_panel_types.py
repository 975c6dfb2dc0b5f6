"""The panel's column types (docs/panel.md, "Column types"): compact integers in memory and in
Parquet, and panels written by older versions (float64 outcomes, int64 integers) still read
by the estimators and ``ips-study estimate`` with the same results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ips_study.cli import main
from ips_study.config import StudyConfig
from ips_study.panel import (INDICATORS, MONTH_DTYPES, OUTCOMES, YEAR_DTYPES, _check_short,
                             build_panel, read_panel, write_panel)

from .panel_reference import random_registers


def _old_types(panel: pd.DataFrame) -> pd.DataFrame:
    """A panel as ips_study 0.2.0 and earlier wrote it: float64 outcomes, int64 integers."""
    out = panel.copy()
    for c in OUTCOMES:
        out[c] = out[c].astype(np.float64)
    for c in ("event_time", "age", "months_observed"):
        out[c] = out[c].astype(np.int64)
    return out


@pytest.mark.parametrize("freq,dtypes", [("month", MONTH_DTYPES), ("year", YEAR_DTYPES)])
@pytest.mark.parametrize("design", ["open", "closed"])
def test_panel_columns_have_the_documented_types_in_memory_and_in_parquet(freq, dtypes, design, tmp_path):
    t = random_registers(21, n_persons=80)
    config = StudyConfig(design=design, baseline_date=pd.Timestamp("2013-06-01"))
    frame = build_panel(t, config, freq=freq, restrict_to_target=False)
    assert len(frame) > 0
    assert {c: str(frame[c].dtype) for c in dtypes} == dtypes
    write_panel(t, tmp_path / "p.parquet", config, freq=freq, restrict_to_target=False)
    back = read_panel(tmp_path / "p.parquet")
    assert {c: str(back[c].dtype) for c in dtypes} == dtypes
    if "current_municipality" in back:   # read_panel leaves it categorical (as before)
        back["current_municipality"] = back["current_municipality"].astype(str)
    pd.testing.assert_frame_equal(back, frame)
    # 0/1 columns really hold 0 and 1 (int8 arithmetic: differences stay signed)
    ones = [c for c, d in dtypes.items() if d == "int8" and c not in ("months_observed", "benefit_months")]
    for c in ones:
        assert set(np.unique(frame[c])) <= {0, 1}, c
    assert (frame["employed"] - frame["any_benefit"]).min() >= -1
    if freq == "year":
        assert frame["months_observed"].between(1, 12).all()
        assert frame["benefit_months"].between(0, 12).all()
        assert ((frame["benefit_months"] >= config.ltbd_months) == (frame["ltbd"] == 1)).all()
        assert all(frame[c].dtype == np.float64 for c in INDICATORS)   # shares of months


def test_values_out_of_the_int16_range_are_refused():
    _check_short(np.array([-32768, 0, 32767]), "event_time")
    with pytest.raises(ValueError, match="event_time is outside the int16 range"):
        _check_short(np.array([0, 32768]), "event_time")
    with pytest.raises(ValueError, match="age is outside"):
        _check_short(np.array([-32769]), "age")


def _estimate(path, tmp_path, name, design, outcome, *options):
    out = tmp_path / f"{name}.json"
    args = ["estimate", str(path), "--design", design, "--outcome", outcome, "--json", str(out)]
    for o in options:
        args += ["--option", o]
    assert main(args) == 0
    d = json.loads(out.read_text())
    d.pop("runtime", None)
    return d


@pytest.mark.slow
@pytest.mark.parametrize("freq,population,design,outcome,options", [
    ("year", "open", "did", "ltbd", ("level=municipality",)),
    ("year", "open", "did", "benefit_months", ("level=person",)),
    ("month", "open", "did", "employed", ("level=municipality",)),
    ("month", "open", "did", "disability", ("level=person",)),
    ("year", "open", "event", "health_benefit", ()),
    ("year", "open", "synth", "ltbd", ()),
    ("month", "closed", "cox", "ltbd_onset", ()),
    ("month", "closed", "km", "ltbd_onset", ()),
])
def test_panels_with_float_outcomes_from_older_versions_give_the_same_estimates(
        small_synthetic_dir, tmp_path, freq, population, design, outcome, options):
    new = tmp_path / "new.parquet"
    assert main(["panel", str(small_synthetic_dir), "--out", str(new), "--freq", freq, "--quiet",
                 "--design", population, "--quarantine-dir", str(tmp_path / "q")]) == 0
    schema = pq.read_schema(new)
    column = "health_benefit" if outcome == "ltbd_onset" else outcome
    assert str(schema.field(column).type) == ("int8" if (freq == "month" or outcome in ("ltbd", "benefit_months"))
                                              else "double")
    old = tmp_path / "old.parquet"
    _old_types(read_panel(new)).to_parquet(old)
    assert str(pq.read_schema(old).field(column).type) == "double"
    a = _estimate(new, tmp_path, "new", design, outcome, *options)
    b = _estimate(old, tmp_path, "old", design, outcome, *options)
    assert a == b


def test_formula_terms_on_narrow_integer_columns_do_not_wrap():
    # age and event_time are int16, outcomes int8: a formula's I(...) terms are computed in
    # int64 (as on panels before the compact types), not in the column's type
    from ips_study.formula import formula_roles

    d = pd.DataFrame({"y": np.array([1, 0, 1], np.int8), "age": np.array([200, 30, 40], np.int16),
                      "event_time": np.array([-190, 0, 185], np.int16)})
    d2, y, covs = formula_roles(d, "I(y * 300) ~ I(age ** 2) + I(event_time ** 2)")
    assert d2["I(age ** 2)"].tolist() == [40_000.0, 900.0, 1_600.0]
    assert d2["I(event_time ** 2)"].tolist() == [36_100.0, 0.0, 34_225.0]
    assert d2[y].tolist() == [300.0, 0.0, 300.0]
