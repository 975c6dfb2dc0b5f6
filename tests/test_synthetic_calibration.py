"""Calibration of the synthetic registers to the public figures of the data contract, section 6.

The embedded default data is read through the register loader, like a real delivery. Each
figure has the tolerance stated in :func:`ips_study.synthetic.calibration.calibration_table`:
register prevalences within about a third of the published share (the Nordland subsample
has about 4,000 people per age band, so sampling noise alone is about 0.2 percentage
points), the programme metrics within rounding of the report's printed figures.
"""

from pathlib import Path

import pandas as pd
import pytest

from ips_study.synthetic.calibration import PROGRAMME_TARGETS, calibration_table, programme_metrics

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedded():
    if not (ROOT / "synthetic_data" / "persons.parquet").exists():
        pytest.skip("embedded synthetic data not built")
    from ips_study.synthetic.embedded import load_default
    return load_default()


def test_every_public_figure_within_tolerance(embedded):
    table = calibration_table(embedded)
    bad = table[~table["within"]]
    assert bad.empty, bad.to_string()
    assert len(table) == 14


def test_table_3_within_rounding(embedded):
    m = programme_metrics(embedded)
    assert m["ever_offered"] == 101
    assert m["active_caseload"] == 58
    assert round(100 * m["share_in_work"]) == 53
    assert round(m["days_to_job_search"]) == 24
    assert round(m["days_referral_to_meeting"]) == 9
    assert round(m["employer_meetings_per_week"]) == 8
    assert round(100 * m["community_share"]) == 66
    # four job specialists report weekly
    assert embedded["specialist_weeks"]["specialist_id"].nunique() == 4
    assert embedded["ips_caseload"]["specialist_id"].nunique() == 4
    # the specialists' target: 40-50 % or more of the active caseload in ordinary work
    assert m["share_in_work"] >= 0.40


def test_reform_shocks_visible_in_default_data(embedded):
    b = embedded["benefits"]
    aap = b[b["benefit"] == "work_assessment"]
    starts = aap["start_date"].dt.to_period("M").value_counts().sort_index()
    # inflow to work assessment allowance jumps when the scheme starts in March 2010
    before = starts[pd.Period("2009-03", "M"):pd.Period("2010-02", "M")].mean()
    after = starts[pd.Period("2010-03", "M"):pd.Period("2011-02", "M")].mean()
    assert after > 1.2 * before
    # the three-year limit from 2018 ends long spells: fewer spells running past 36 months
    dur = (aap["end_date"].fillna(pd.Timestamp("2020-12-31")) - aap["start_date"]).dt.days / 30.4
    ends = aap["end_date"]
    long_2017 = ((ends.dt.year == 2017) & (dur > 36)).sum()
    long_2018 = ((ends.dt.year == 2018) & (dur > 36)).sum()
    assert long_2018 > 1.5 * long_2017
    # disability inflow surges before the 2015 reform
    dp = b[b["benefit"] == "disability_pension"]["start_date"]
    h2_2014 = ((dp >= "2014-07-01") & (dp < "2015-01-01")).sum()
    h2_2015 = ((dp >= "2015-07-01") & (dp < "2016-01-01")).sum()
    assert h2_2014 > 1.3 * h2_2015


@pytest.mark.slow
def test_other_seed_lands_near_the_targets():
    """Another seed is not tuned: programme metrics are near the targets (stratified timings
    keep the medians within a day or two; counts vary with who is referred and when)."""
    from ips_study.synthetic import generate

    rs = generate(seed=2).registers
    m = programme_metrics(rs)
    assert m["ever_offered"] == PROGRAMME_TARGETS["ever_offered"]   # referral schedule is fixed
    assert abs(m["active_caseload"] - 58) <= 8
    assert abs(m["share_in_work"] - 0.53) <= 0.12
    assert abs(m["days_to_job_search"] - 24) <= 2
    assert abs(m["days_referral_to_meeting"] - 9) <= 1
    table = calibration_table(rs)
    regs = table[~table["figure"].str.startswith("Kom i jobb")]
    assert regs["within"].all(), regs.to_string()
