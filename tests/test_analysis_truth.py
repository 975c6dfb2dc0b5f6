"""The truth-recovery table compares each design with the estimand it identifies."""

import json

import pytest

from ips_study.reproduce.outputs import MAIN_OUTCOMES, SC_OUTCOMES, _truth_rows


def _truth(outcomes):
    def vals(x):
        return {o: x + i for i, o in enumerate(outcomes)}
    return {"att": vals(100.0), "att_population": vals(1.0), "att_population_year_mean": vals(2.0),
            "att_cohort": vals(3.0), "staggered": {"att_simple": vals(4.0), "att_dynamic": vals(5.0)}}


def test_each_design_is_matched_to_its_estimand():
    truth = _truth(MAIN_OUTCOMES)
    rows = _truth_rows(truth)
    key = {(o, d, json.dumps(kw, sort_keys=True)): (est, v) for o, d, kw, est, v in rows}
    o = "workdays"
    i = MAIN_OUTCOMES.index(o)
    assert key[(o, "did", '{"level": "municipality"}')] == ("att_population", 1.0 + i)
    assert key[(o, "did", '{"level": "municipality", "population": "closed"}')] == ("att_cohort", 3.0 + i)
    assert key[(o, "synth", "{}")] == ("att_population_year_mean", 2.0 + i)
    assert key[(o, "sdid", "{}")] == ("att_population_year_mean", 2.0 + i)
    assert key[(o, "staggered", '{"aggregation": "simple", "inference": "placebo", "scope": "all"}')] == ("staggered.att_simple", 4.0 + i)
    assert key[(o, "staggered", '{"aggregation": "dynamic", "inference": "placebo", "scope": "all"}')] == ("staggered.att_dynamic", 5.0 + i)
    # the compatibility estimand att is not what any design is compared with
    assert all(v < 100 for *_, v in rows)
    # synthetic control, SDID and staggered only for the outcomes the analysis fits them on
    assert {r[0] for r in rows if r[1] != "did"} == set(SC_OUTCOMES)


@pytest.mark.slow
def test_truth_table_on_small_synthetic_data(small_synthetic_dir, tmp_path):
    import warnings

    from ips_study.reproduce.context import Context
    from ips_study.reproduce.outputs import make_truth_table
    from ips_study.config import StudyConfig

    ctx = Context(data=small_synthetic_dir, out=tmp_path / "out", work=tmp_path, config=StudyConfig(),
                  key="t" * 64, quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = make_truth_table(ctx)
    truth = ctx.truth
    assert {"outcome", "design", "estimand", "truth", "estimate", "covers_truth"} <= set(table.columns)
    row = table[(table["outcome"] == "workdays") & (table["design"] == "did")].iloc[0]
    assert row["estimand"] == "att_population" and row["truth"] == truth["att_population"]["workdays"]
    row = table[(table["outcome"] == "ltbd") & (table["design"] == "did (closed cohort)")].iloc[0]
    assert row["truth"] == truth["att_cohort"]["ltbd"]
    assert (table["covers_truth"] == ((table["conf_low"] <= table["truth"])
                                      & (table["truth"] <= table["conf_high"]))).all()


def test_old_truth_files_are_refused():
    from types import SimpleNamespace

    from ips_study.reproduce.outputs import make_truth_table

    with pytest.raises(ValueError, match="regenerate"):
        make_truth_table(SimpleNamespace(truth={"att": {}}))
