"""Study configuration: defaults, TOML parsing and clear errors."""

import pandas as pd
import pytest

from ips_study.config import ConfigError, StudyConfig

MUNIS = pd.DataFrame({"municipality": ["1804", "1833", "1840", "1806"],
                      "ips_start": pd.to_datetime(["2013-01-01", None, "2021-01-01", "2016-01-01"])})


def test_defaults_follow_the_spec():
    c = StudyConfig()
    assert c.treated_municipality == "1804" and c.ips_start == pd.Timestamp("2013-01-01")
    assert (c.window_start, c.window_end) == (pd.Timestamp("2008-01-01"), pd.Timestamp("2019-12-31"))
    assert c.min_count == 5 and c.target_rule == "mental_health" and c.design == "open"


def test_toml_round_trip(tmp_path):
    f = tmp_path / "study.toml"
    f.write_text('treated_municipality = 1804\nwindow = ["2009-01", "201812"]\nfreq = "month"\n'
                 'controls = [1833, "1840"]\n[economics]\ndiscount_rate = 0.04\n')
    c = StudyConfig.from_toml(f)
    assert c.window_start == pd.Timestamp("2009-01-01") and c.window_end == pd.Timestamp("2018-12-31")
    assert c.controls == ("1833", "1840") and c.freq == "month"
    assert c.economics == {"discount_rate": 0.04}
    assert StudyConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize("text, message", [
    ('windw = ["2008-01", "2019-12"]', "unknown key"),
    ('freq = "week"', "freq must be"),
    ('target_rule = "x"', "target_rule"),
    ('window = ["2019-01", "2008-12"]', "window end"),
    ('ips_start = "2021-01"', "inside the window"),
    ('ips_start = "jan"', "cannot read"),
    ('min_count = 0', "min_count"),
    ('controls = "some"', "controls must be"),
    ('window = "2008"', "list"),
    ('freq = ', "not valid TOML"),
])
def test_bad_study_files_name_the_problem(tmp_path, text, message):
    f = tmp_path / "study.toml"
    f.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        StudyConfig.from_toml(f)


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        StudyConfig.from_toml("/nonexistent/study.toml")


def test_controls_rules():
    assert StudyConfig().control_municipalities(MUNIS) == ["1833", "1840"]  # 1840 starts after window
    assert StudyConfig(controls="not_yet_treated").control_municipalities(MUNIS) == ["1806", "1833", "1840"]
    assert StudyConfig(controls=("1833",)).control_municipalities(MUNIS) == ["1833"]
    with pytest.raises(ConfigError, match="not in the data"):
        StudyConfig(controls=("9999",)).control_municipalities(MUNIS)
    with pytest.raises(ConfigError, match="treated municipality 1805"):
        StudyConfig(treated_municipality="1805").control_municipalities(MUNIS)


def test_window_outside_the_data():
    res = pd.DataFrame({"person_id": ["a"], "municipality": ["1804"],
                        "start_date": pd.to_datetime(["2010-01-01"]), "end_date": pd.to_datetime(["2011-05-01"])})
    with pytest.raises(ConfigError, match="outside the data"):
        StudyConfig(window_start=pd.Timestamp("2012-01-01")).check_data({"municipalities": MUNIS, "residence": res})
    StudyConfig().check_data({"municipalities": MUNIS, "residence": res})
