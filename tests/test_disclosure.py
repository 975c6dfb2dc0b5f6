"""Disclosure control: suppression, rounding, figure helpers, results checks, output checker."""

from __future__ import annotations

import json
import logging

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ips_study import disclosure as dc
from ips_study.results import Results


# -- naming convention ------------------------------------------------------------------------
@pytest.mark.parametrize("name,count", [
    ("n", True), ("N", True), ("n_active", True), ("ever_offered_n", True), ("count", True),
    ("n obs", True), ("persons", True), ("n_persons", True), ("cases", True),
    ("share", False), ("value", False), ("mean_age", False), ("municipality", False),
    ("event_time", False), ("unit", False),
])
def test_count_names(name, count):
    assert dc.is_count_name(name) is count


@pytest.mark.parametrize("name,ident", [
    ("person_id", True), ("PersonID", True), ("fnr", True), ("fødselsnummer", True),
    ("lopenr", True), ("specialist_id", False), ("municipality", False), ("n", False),
])
def test_identifier_names(name, ident):
    assert dc.is_identifier_name(name) is ident


def test_birth_names():
    assert dc.is_birth_name("birth_date") and dc.is_birth_name("fødselsdato")
    assert dc.is_birth_name("DOB") and not dc.is_birth_name("start_date")


# -- primary suppression and rounding ---------------------------------------------------------
def test_suppress_small_counts_and_rates():
    t = pd.DataFrame({"group": ["a", "b", "c"], "n_active": [3, 0, 12],
                      "share_in_work": [0.33, np.nan, 0.5], "mean_age": [30.0, 31.0, 29.0]})
    s = dc.suppress_small(t, rates={"share_in_work": "n_active", "mean_age": "n_active"})
    out = s.to_frame()
    assert out["n_active"].tolist() == [":", 0, 12]  # zeros are published
    assert out["share_in_work"].tolist()[0] == ":" and out["share_in_work"].tolist()[2] == 0.5
    assert out["mean_age"].tolist()[:2] == [":", ":"]  # a mean over nobody is not shown either
    assert s.primary["n_active"].tolist() == [True, False, False]
    assert s.n_suppressed == 5


def test_suppress_small_long_table_defaults_and_rounding():
    t = pd.DataFrame({"metric": ["x", "y"], "value": [0.1, 0.2], "n": [4, 23]})
    s = dc.suppress_small(t, round_base=5)
    assert s.to_frame()["value"].tolist() == [":", 0.2]
    assert s.to_frame()["n"].tolist() == [":", 25]
    with pytest.raises(KeyError, match="denominator"):
        dc.suppress_small(t, rates={"value": "n_missing"})


def test_round_counts_to_base():
    r = dc.round_counts(pd.Series([0, 1, 2, 2.5, 3, 7, 8, 12]), base=5)
    assert r.tolist() == [0, 0, 0, 5, 5, 5, 10, 10]
    with pytest.raises(ValueError):
        dc.round_counts(pd.Series([1]), base=0)


# -- secondary suppression ----------------------------------------------------------------------
def test_protect_table_hand_example():
    counts = pd.DataFrame({"in work": [3, 20, 15], "not in work": [12, 30, 2]},
                          index=["psychosis", "municipal", "nav"])
    t = dc.protect_table(counts)
    m = t.mask
    # primaries
    assert m.loc["psychosis", "in work"] and m.loc["nav", "not in work"]
    # each has a partner in its row and in its column, totals stay published
    for row in counts.index:
        assert m.loc[row].sum() != 1
    for col in m.columns:
        assert m[col].sum() != 1
    assert not m.loc["Total", "Total"]
    assert t.frame.loc["Total", "Total"] == 82


def _full(counts: np.ndarray) -> pd.DataFrame:
    x = pd.DataFrame(counts.astype(float))
    x["Total"] = x.sum(axis=1)
    x.loc["Total"] = x.sum(axis=0)
    return x


def test_audit_detects_primary_only_suppression():
    counts = np.array([[2, 10], [8, 9]])
    full = _full(counts)
    only_primary = full < 0
    only_primary.iloc[0, 0] = True
    a = dc.audit_suppression(full, only_primary)
    assert a.loc[0, "lower"] == a.loc[0, "upper"] == 2  # recovered exactly


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(2, 4), st.integers(0, 10_000))
def test_secondary_suppression_never_discloses_a_primary_cell(rows, cols, seed):
    # random tables with many small cells; the LP intruder must not pin any primary cell
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.choice([2, 4, 8, 20]), size=(rows, cols))
    t = dc.protect_table(pd.DataFrame(counts), min_count=5)
    mask = t.mask.to_numpy()
    v = _full(counts).to_numpy()
    assert mask[(v > 0) & (v < 5)].all()
    for line in list(mask) + list(mask.T):
        assert line.sum() != 1
    if mask.any():
        audit = dc.audit_suppression(_full(counts), t.mask)
        primary = t.primary.to_numpy()[mask]
        assert ((audit["upper"] - audit["lower"]).to_numpy()[primary] > 0).all()


def test_protect_table_force_and_validation():
    counts = pd.DataFrame({"a": [10, 20], "b": [30, 40]})
    force = np.zeros((3, 3), dtype=bool)
    force[0, 0] = True
    t = dc.protect_table(counts, force=force)
    assert t.mask.to_numpy().sum() == 4  # the forced cell is protected like a primary one
    with pytest.raises(ValueError, match="force mask"):
        dc.protect_table(counts, force=np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="non-negative"):
        dc.protect_table(-counts)


# -- figures ------------------------------------------------------------------------------------
def test_mask_small_and_coarsen_bins():
    d = pd.DataFrame({"age": ["18", "19", "20", "21", "22"], "n": [2, 4, 6, 1, 9],
                      "y": [1.0, 0.0, 0.5, 1.0, 0.0]})
    assert dc.mask_small(d, ["y"])["y"].isna().tolist() == [True, True, False, True, False]
    c = dc.coarsen_bins(d, "n", ["y"], 5, "age")
    # greedy from the left: 2+4, then 6 alone, then 1+9
    assert c["age"].tolist() == ["18-19", "20", "21-22"]
    assert c["n"].tolist() == [6, 6, 10]
    assert c["y"].iloc[0] == pytest.approx((2 * 1.0 + 4 * 0.0) / 6)
    assert (c["n"] >= 5).all()
    assert dc.coarsen_bins(d.iloc[:1], "n", ["y"], 5).empty


def test_truncate_survival_at_small_risk_set():
    c = pd.DataFrame({"t": range(6), "at_risk": [40, 20, 8, 5, 4, 9], "s": np.linspace(1, .5, 6)})
    assert dc.truncate_survival(c)["t"].tolist() == [0, 1, 2, 3]
    assert dc.truncate_survival(c, min_count=10)["t"].tolist() == [0, 1]


# -- regression results -------------------------------------------------------------------------
def _results(n_obs=500, n_units=20, n_min=None, n=None):
    tidy = pd.DataFrame({"estimate": [1.0, 2.0], "std_error": [0.5, 0.5]}, index=["att", "pre"])
    if n is not None:
        tidy["n"] = n
    return Results(tidy, design="did", outcome="workdays", inference="cluster",
                   n_obs=n_obs, n_units=n_units, n_min=n_min)


def test_check_results_passes_and_refuses():
    r = _results()
    assert dc.check_results(r) is r
    with pytest.raises(dc.DisclosureError, match="n_obs = 4"):
        dc.check_results(_results(n_obs=4))
    with pytest.raises(dc.DisclosureError, match="n_min = 2"):
        dc.check_results(_results(n_min=2))
    with pytest.raises(dc.DisclosureError, match="terms pre"):
        dc.check_results(_results(n=[50, 3]))
    assert dc.check_results(_results(n_units=3), min_count=3)


# -- identifiers --------------------------------------------------------------------------------
def test_redact_and_log_filter(caplog):
    assert dc.redact("fnr 01019012345, id P7 and P77", ids=["P7"]) == "fnr [id], id [id] and P77"
    log = logging.getLogger("ips_study.test_disclosure")
    f = dc.RedactingFilter(ids=["8398759685"])
    log.addFilter(f)
    try:
        with caplog.at_level(logging.WARNING, logger=log.name):
            log.warning("person %s quarantined (end before start)", "8398759685")
    finally:
        log.removeFilter(f)
    assert "8398759685" not in caplog.text
    assert "[id] quarantined" in caplog.text


def test_assert_no_identifiers():
    dc.assert_no_identifiers(pd.DataFrame({"group": ["a"], "n": [10]}))
    with pytest.raises(dc.DisclosureError, match="person identifier"):
        dc.assert_no_identifiers(pd.DataFrame({"person_id": ["x"]}))
    with pytest.raises(dc.DisclosureError, match="date of birth"):
        dc.assert_no_identifiers(pd.DataFrame({"birth_date": ["1990-01-01"]}))
    with pytest.raises(dc.DisclosureError, match="11-digit"):
        dc.assert_no_identifiers(pd.DataFrame({"note": ["see 01019012345"]}))
    with pytest.raises(dc.DisclosureError) as err:
        dc.assert_no_identifiers(pd.DataFrame({"who": ["abc123"]}), ids=["abc123"])
    assert "abc123" not in str(err.value)


def test_export_table_writes_markers_and_refuses_leaks(tmp_path):
    s = dc.suppress_small(pd.DataFrame({"metric": ["a", "b"], "value": [0.25, 0.5], "n": [3, 40]}))
    paths = dc.export_table(s, tmp_path / "t")
    assert [p.name for p in paths] == ["t.csv", "t.md"]
    assert (tmp_path / "t.csv").read_text().splitlines() == ["metric,value,n", "a,:,:", "b,0.5,40"]
    assert "| a | : | : |" in (tmp_path / "t.md").read_text()
    with pytest.raises(dc.DisclosureError, match="below the minimum"):
        dc.export_table(pd.DataFrame({"n": [3]}), tmp_path / "bad")
    with pytest.raises(dc.DisclosureError, match="identifier"):
        dc.export_table(pd.DataFrame({"person_id": ["a"], "n": [30]}), tmp_path / "bad")
    assert not (tmp_path / "bad.csv").exists()


# -- the output checker -------------------------------------------------------------------------
def _write_outputs(d):
    (d / "ok.csv").write_text("group,n,share\na,12,0.5\nb,:,:\nc,0,\n")
    (d / "small.csv").write_text("group,n_active\na,3\nb,40\n")
    (d / "ids.csv").write_text("person_id,value\nx,1\n")
    (d / "fnr.csv").write_text("note,value\nsee 01019012345,1\n")
    sub = d / "estimates"
    sub.mkdir()
    res = _results()
    res.to_json(sub / "did.json")
    (sub / "small.json").write_text(json.dumps({"design": "did", "n_obs": 3, "rows": [
        {"persons": [2, 10]}, {"fnr": "x"}, {"n_by_municipality": {"1804": 2, "1805": 40}}]}))
    (d / "table.md").write_text("# Table\n\n| group | count |\n|---|---|\n| a | 2 |\n| b | 30 |\n"
                                "\nBased on n = 4 persons.\n")
    (d / "table.tex").write_text("\\begin{tabular}{lr}\n\\toprule\ngroup & persons \\\\\n"
                                 "\\midrule\na & 1 \\\\\nb & 55 \\\\\n\\bottomrule\n\\end{tabular}\n")
    (d / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (d / "birth.csv").write_text("birth_date,n\n1990-01-01,12\n")


def test_check_outputs_finds_every_kind_of_violation(tmp_path):
    _write_outputs(tmp_path)
    res = dc.check_outputs(tmp_path)
    assert not res.ok
    by_file = {}
    for v in res.violations:
        by_file.setdefault(v.file, set()).add(v.kind)
    assert "ok.csv" not in by_file and "estimates/did.json" not in by_file
    assert by_file["small.csv"] == {"small_count"}
    assert by_file["ids.csv"] == {"identifier_column"}
    assert by_file["fnr.csv"] == {"identifier_value"}
    assert by_file["estimates/small.json"] == {"small_count", "identifier_column"}
    small_json = [v.location for v in res.violations if v.file == "estimates/small.json"]
    assert small_json == ["n_obs", "rows[0].persons", "rows[1].fnr", "rows[2].n_by_municipality"]
    assert by_file["table.md"] == {"small_count"}
    assert sum(v.file == "table.md" for v in res.violations) == 2  # the table cell and "n = 4"
    assert by_file["table.tex"] == {"small_count"}
    assert by_file["birth.csv"] == {"birth_date_column"}
    # PNG files are read for the record of what they draw (and their metadata); this one,
    # not saved by the package, has none: its content cannot be checked
    assert "figure.png" in res.files and by_file["figure.png"] == {"unverified_figure"}
    text = res.to_text()
    assert "01019012345" not in text and f"{len(res.violations)} violation(s)" in text


def test_check_outputs_clean_folder_and_known_ids(tmp_path):
    (tmp_path / "t.csv").write_text("group,n\na,12\n")
    assert dc.check_outputs(tmp_path).ok
    (tmp_path / "note.md").write_text("Example row for P0042 was dropped.\n")
    assert dc.check_outputs(tmp_path).ok
    res = dc.check_outputs(tmp_path, ids=["P0042"])
    assert [v.kind for v in res.violations] == ["identifier_value"]
    assert "P0042" not in res.to_text()
    assert dc.check_outputs(tmp_path, min_count=20).violations[0].kind == "small_count"
    with pytest.raises(FileNotFoundError):
        dc.check_outputs(tmp_path / "missing")


def test_check_outputs_flags_unreadable_files(tmp_path):
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe\x00bad")
    assert [v.kind for v in dc.check_outputs(tmp_path).violations] == ["unreadable"]


def test_save_figure_is_deterministic(tmp_path):
    import matplotlib.pyplot as plt

    paths = []
    for name in ("a.png", "b.png"):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        paths.append(dc.save_figure(fig, tmp_path / name))
        plt.close(fig)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_latex_tables_from_pandas_and_by_hand_are_parsed(tmp_path):
    dc.export_table(pd.DataFrame({"n_persons": [12, 30], "group": ["a", "b"]}), tmp_path / "t",
                    formats=("tex",))
    assert dc.check_outputs(tmp_path).ok
    bad = (tmp_path / "t.tex").read_text().replace("12", "3")
    (tmp_path / "t.tex").write_text(bad)  # the count column comes first, right after the spec
    assert [v.location for v in dc.check_outputs(tmp_path).violations] == [
        "table 1 column 'n_persons' rows 1"]
    (tmp_path / "t.tex").write_text(
        "\\begin{tabularx}{\\textwidth}{@{}lXr@{}}\n\\toprule\n\\textbf{n\\_active} & a \\& b & "
        "\\multicolumn{1}{c}{count} \\\\\n\\midrule\n7 & x & 2 \\\\\n\\bottomrule\n\\end{tabularx}\n")
    res = dc.check_outputs(tmp_path)
    assert [v.location for v in res.violations] == ["table 1 column 'count' rows 1"]


def test_install_redaction_covers_child_loggers():
    import io

    stream = io.StringIO()
    parent = logging.getLogger("ips_study_test_parent")
    handler = logging.StreamHandler(stream)
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    try:
        filt = dc.install_redaction(["8398759685"], parent)
        logging.getLogger("ips_study_test_parent.registers").info(
            "quarantined person %s and fnr 01019012345", "8398759685")
        assert stream.getvalue() == "quarantined person [id] and fnr [id]\n"
        handler.removeFilter(filt)
    finally:
        parent.removeHandler(handler)


def test_protect_table_avoid_keeps_headline_cells():
    counts = pd.DataFrame({"waiting": [1], "current": [45], "ended": [149]})
    plain = dc.protect_table(counts).mask.iloc[0]
    assert plain["waiting"] and plain["current"] and not plain["ended"]  # smallest complement
    avoid = np.zeros((2, 4), dtype=bool)
    avoid[:, 1] = True
    kept = dc.protect_table(counts, avoid=avoid).mask.iloc[0]
    assert kept["waiting"] and kept["ended"] and not kept["current"] and not kept["Total"]
    with pytest.raises(ValueError, match="avoid mask"):
        dc.protect_table(counts, avoid=np.zeros((1, 1), dtype=bool))


def test_check_outputs_reads_one_column_and_other_delimiters(tmp_path):
    (tmp_path / "one.csv").write_text("n\n12\n3\n")  # csv.Sniffer would split on "n"
    (tmp_path / "semi.csv").write_text("\ufeffn_persons;group\n2;a\n")
    (tmp_path / "quoted.csv").write_text('label,n\n"a, b",30\n"c",4\n')
    res = dc.check_outputs(tmp_path)
    assert sorted((v.file, v.location) for v in res.violations) == [
        ("one.csv", "column 'n' rows 2"), ("quoted.csv", "column 'n' rows 2"),
        ("semi.csv", "column 'n_persons' rows 1")]


def test_coarsen_survival_steps_rest_on_enough_events():
    rng = np.random.default_rng(12)
    times = np.arange(0, 40)
    events = np.r_[0, rng.poisson(1.5, 39)]
    at_risk = 120 - np.r_[0, np.cumsum(events[:-1])] - np.r_[0, np.arange(39)]  # some censoring
    surv = np.cumprod(1 - events / at_risk)
    curve = pd.DataFrame({"time": times, "survival": surv, "events": events, "at_risk": at_risk})
    out = dc.coarsen_survival(curve, min_count=5)
    assert out.loc[0, "events"] == 0 and out.loc[0, "survival"] == 1.0
    assert (out["events"].iloc[1:] >= 5).all()
    assert (out["at_risk"] >= 5).all()
    # values are the exact curve at the reported times, and no events are invented
    exact = curve.set_index("time")["survival"]
    assert np.allclose(out["survival"].to_numpy(), exact.loc[out["time"]].to_numpy())
    kept = dc.truncate_survival(curve)
    assert out["events"].sum() <= kept["events"].sum() < out["events"].sum() + 5
    # a cumulative incidence column works the same way
    cif = curve.assign(cif=1 - curve["survival"])
    out2 = dc.coarsen_survival(cif, value_col="cif", min_count=10)
    assert (out2["events"].iloc[1:] >= 10).all() and out2["cif"].is_monotonic_increasing


def test_export_table_number_format(tmp_path):
    df = pd.DataFrame({"term": ["npv", "share", "p"], "estimate": [-28_812_345.2, 0.53448, 1.2e-5],
                       "n": [1200, 58, 58]})
    dc.export_table(df, tmp_path / "t", formats=("csv",))
    assert (tmp_path / "t.csv").read_text().splitlines() == [
        "term,estimate,n", "npv,-28812345,1200", "share,0.534,58", "p,1.2e-05,58"]
    dc.export_table(df, tmp_path / "u", formats=("csv",), float_format="{:.2f}")
    assert (tmp_path / "u.csv").read_text().splitlines()[2] == "share,0.53,58"
    assert dc.format_number(pd.NA) == "" and dc.format_number("x") == "x"
