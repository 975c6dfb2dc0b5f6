"""The published design as a shipped study file, its control rule and its reproduce table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ips_study.config import ConfigError, StudyConfig, shipped_studies
from ips_study.published import published_table, select_controls
from ips_study.synthetic.geography import municipality_table


@pytest.fixture(scope="module")
def study():
    return StudyConfig.load("published_design")


def test_published_design_loads_by_name_with_the_published_settings(study):
    assert "published_design" in shipped_studies()
    assert StudyConfig.from_study("published_design") == study
    assert study.target_rule == "work_assessment" and study.design == "open" and study.freq == "year"
    assert (study.age_min, study.age_max) == (18, 40)
    # four years of exposure from 2013
    assert str(study.ips_start.date()) == "2013-01-01" and str(study.window_end.date()) == "2016-12-31"
    assert len(study.controls) == 10 and "1804" not in study.controls
    assert study.published == {"estimate": 5.6, "conf_low": 2.7, "conf_high": 8.4, "event_time": 3,
                               "event_estimate": 10.5, "outcome": "workdays",
                               "model": "person-level OLS, municipality and year effects, CRV1 clustered on persons"}


def test_unknown_study_name_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="no_such_study"):
        StudyConfig.load("no_such_study")


def test_published_table_must_be_a_toml_table():
    with pytest.raises(ConfigError, match="published"):
        StudyConfig.from_dict({"published": 5.6})


def test_control_rule_reproduces_the_study_files_ten_controls(study):
    geo = municipality_table()
    chosen = select_controls(geo, follow_up_end=study.window_end)
    assert sorted(chosen) == sorted(study.controls)
    ips = geo.set_index("municipality")["ips_start"]
    cent = geo.set_index("municipality")["centrality"]
    for code in chosen:  # the rule's first two conditions hold for every control
        assert pd.isna(ips[code]) or ips[code] > study.window_end
        assert abs(cent[code] - cent["1804"]) <= 1
    # a municipality with IPS during follow-up is never a control, whatever its size
    assert "1902" not in chosen and "1502" not in chosen


def test_control_rule_names_a_missing_column():
    with pytest.raises(ValueError, match="centrality"):
        select_controls(municipality_table().drop(columns="centrality"))


def test_published_table_on_a_real_fit(small_synthetic_dir, study):
    from ips_study.designs import get_design
    from ips_study.panel import build_panel
    from ips_study.registers import read_registers

    panel = build_panel(read_registers(small_synthetic_dir), study, freq="year")
    did = get_design("did")(panel, outcome="workdays", config=study, level="municipality")
    event = get_design("event")(panel, outcome="workdays", config=study, level="municipality")
    tab = published_table([did, did.with_inference("cluster")], event, study.published)
    run = tab[tab["source"] == "this run"]
    assert list(run["quantity"]) == ["att", "att", "event_time_3"]
    assert run["estimate"].iloc[0] == pytest.approx(did.estimate)
    et = event.event_time().set_index("event_time")
    assert run["estimate"].iloc[2] == pytest.approx(et.loc[3, "estimate"])
    pub = tab[tab["source"] == "published"].set_index("quantity")
    assert pub.loc["att", "interval_width"] == pytest.approx(5.7)
    assert pub.loc["event_time_3", "estimate"] == 10.5
    # the cluster interval is finite even with few controls
    assert np.isfinite(run["interval_width"].iloc[1])


def test_reproduce_by_study_name_writes_the_table_beside_the_published_numbers(small_synthetic_dir, tmp_path):
    from ips_study.reproduce.__main__ import main

    out = tmp_path / "out"
    rc = main(["--data", str(small_synthetic_dir), "--study", "published_design", "--out", str(out),
               "--work", str(tmp_path / "work"), "--only", "table_16_published_design", "--quiet"])
    assert rc == 0  # the disclosure check of the folder passed
    tab = pd.read_csv(out / "table_16_published_design.csv")
    pub = tab[tab["source"] == "published"]
    assert sorted(pub["estimate"]) == [5.6, 10.5]
    run = tab[(tab["source"] == "this run") & (tab["quantity"] == "att")]
    from ips_study.reproduce.outputs import INFERENCES
    assert sorted(run["inference"]) == sorted([*INFERENCES, "person-cluster"])
    # the published method's row: conventional_fit on the same panel (person rows, SEs by person)
    from ips_study.panel import build_panel
    from ips_study.published import conventional_fit
    from ips_study.registers import read_registers

    study = StudyConfig.load("published_design")
    ref = conventional_fit(build_panel(read_registers(small_synthetic_dir), study, freq="year"), study)
    row = run.set_index("inference").loc["person-cluster"]
    # the CSV prints three significant digits (disclosure.format_number)
    assert row["estimate"] == pytest.approx(ref["estimate"], rel=5e-3)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((ref["conf_low"], ref["conf_high"]), rel=5e-3)
    assert row["n_units"] == ref["n_persons"]
    # its estimate is the default's (the same regression on person rows); only the interval differs
    assert row["estimate"] == run.set_index("inference").loc["placebo-t", "estimate"]
    assert (out / "table_16_published_design.md").read_text(encoding="utf-8").count("published") >= 2
    # a study without a [published] table does not get the output
    rc = main(["--data", str(small_synthetic_dir), "--out", str(tmp_path / "plain"),
               "--work", str(tmp_path / "work2"), "--only", "table_16_published_design", "--quiet"])
    assert not (tmp_path / "plain" / "table_16_published_design.csv").exists()


def _person_panel(seed=1, effect=5.0):
    from ips_study.designs.register_panel import example_panel

    p = example_panel(seed=seed, effect=effect, n_controls=10)
    p["post"] = (p["period"].astype(int) >= 2013).astype("int8")
    return p


def test_conventional_fit_is_the_person_weighted_did_with_person_clustered_errors():
    import ips_study as ips
    from ips_study.designs import get_design
    from ips_study.published import conventional_fit

    p = _person_panel()
    cfg = StudyConfig()
    r = conventional_fit(p, cfg)
    # the same regression as the municipality-level DiD on cell means weighted by persons
    agg = get_design("did")(p, outcome="workdays", config=cfg, level="municipality")
    assert r["estimate"] == pytest.approx(agg.estimate, abs=1e-9)
    # and the package's own TWFE with municipality effects and CRV1 clusters on persons
    # (nobody moves in this panel, so its absorbing-treatment rule holds)
    tp = ((p["municipality"] == "1804") & (p["post"] == 1)).astype(int)
    ref = ips.did(p.assign(tp=tp), y="workdays", unit="municipality", time="period", treat="tp",
                  cluster="person_id", inference="cluster")
    assert r["std_error"] == pytest.approx(ref.std_error, rel=1e-9)
    lo, hi = ref.conf_int().loc[ref.main_term]
    assert (r["conf_low"], r["conf_high"]) == pytest.approx((lo, hi), rel=1e-6)
    assert r["n_persons"] == p["person_id"].nunique() and r["inference"] == "person-cluster"


def test_conventional_fit_follows_movers_and_names_a_missing_column():
    from ips_study.published import conventional_fit

    p = _person_panel(seed=2)
    mover = p["person_id"] == p.loc[p["municipality"] == "1804", "person_id"].iloc[0]
    p.loc[mover & (p["period"].astype(int) >= 2015), "municipality"] = "1805"
    r = conventional_fit(p, StudyConfig())          # treated_post switches off when moving out
    assert np.isfinite(r["std_error"]) and r["std_error"] > 0
    with pytest.raises(ValueError, match="'post'"):
        conventional_fit(p.drop(columns="post"), StudyConfig())


def test_cli_reproduce_takes_the_study_by_name(monkeypatch, tmp_path):
    # `ips-study reproduce --study published_design` hands the name to the pipeline, which
    # loads the shipped study (the pipeline itself is run by the test above)
    import ips_study.reproduce.pipeline as pipeline
    from ips_study.cli import main

    seen = {}
    monkeypatch.setattr(pipeline, "run", lambda **kw: seen.update(kw) or 0)
    assert main(["reproduce", "--study", "published_design", "--out", str(tmp_path), "--quiet"]) == 0
    assert StudyConfig.load(seen["study"]).published["estimate"] == 5.6


def test_readme_and_notebook_02_state_the_embedded_defaults_true_effect():
    # the honesty paragraph ("what the small embedded default can and cannot show") quotes the
    # embedded truth; it must be the one synthetic_data/truth.json holds
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    truth = json.loads((root / "synthetic_data" / "truth.json").read_text(encoding="utf-8"))
    stated = f"+{truth['att_population']['workdays']:.1f} days per person-year"
    nb = json.loads((root / "notebooks" / "02_difference_in_differences.ipynb").read_text(encoding="utf-8"))
    notebook = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for name, text in (("README.md", (root / "README.md").read_text(encoding="utf-8")), ("notebook 02", notebook)):
        text = re.sub(r"\s+", " ", text)
        assert stated in text, f"{name} does not state the embedded truth {stated}"
        assert "minimum detectable effect" in text and "17 days" in text, name
