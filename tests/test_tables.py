"""ips_study.tables: etable across models, paper-ready analysis tables, disclosure on export."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ips_study import disclosure
from ips_study.config import StudyConfig
from ips_study.results import Results
from ips_study.tables import Table, etable, format_number, paper_table

SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def did_results():
    from ips_study.designs.did import example_panel, fit_panel

    panel = example_panel(seed=3, effect=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cl = fit_panel(panel, outcome="workdays", config=StudyConfig(), inference="cluster",
                       level="municipality")
    return cl, cl.with_inference("placebo")


def survival_like(terms, inference="robust", n_units=400):
    tidy = pd.DataFrame({"estimate": np.linspace(-0.8, 0.6, len(terms)),
                         "std_error": np.full(len(terms), 0.3)}, index=terms)
    return Results(tidy, design="dthazard", outcome="ltbd_onset", inference=inference,
                   n_obs=3997, n_units=n_units)


def test_etable_puts_did_and_survival_side_by_side_with_their_inference(did_results):
    cl, pl = did_results
    cox = survival_like(["exposed", "female", "age_band[25-29]"])
    dth = survival_like(["treated_post", "female_1", "age_band_25-29"], inference="cluster")
    t = etable([cl, pl, cox, dth])
    frame = pd.DataFrame(t.rows, columns=t.headers[-1])
    labels = frame.iloc[:, 0].tolist()
    # the dummy spellings of two fitters land on one row each
    assert labels.count("Female") == 1 and labels.count("Age 25–29") == 1
    female = frame[frame.iloc[:, 0] == "Female"].iloc[0, 1:].tolist()
    assert female[0] == "" and female[2] != "" and female[3] != ""
    # the inference row names each column's method, read from the results
    inf = frame[frame.iloc[:, 0] == "Inference"].iloc[0, 1:].tolist()
    assert inf == ["Clustered by municipality", "Placebo-in-space", "Person-robust",
                   "Clustered by municipality"]
    # the DiD estimate printed is the tidy estimate at the column's fixed decimals
    est = frame[frame.iloc[:, 0] == "Treated × post"].iloc[0, 1]
    assert float(est.replace("\u2212", "-")) == pytest.approx(cl.estimate, abs=0.006)
    for text in (t.to_text(), t.to_markdown(), t.to_latex(), t.to_html()):
        assert not SNAKE.search(text.replace("tab:", "")), SNAKE.search(text)
        assert "e-0" not in text and "e+0" not in text


def test_etable_formats():
    r = survival_like(["exposed"])
    t = etable([r], stat="ci", stars=True, caption="Onset of dependence", label="tab:onset",
               notes=("Closed cohort.",))
    tex = t.to_latex()
    for piece in ("\\toprule", "\\midrule", "\\bottomrule", "\\caption{Onset of dependence}",
                  "\\label{tab:onset}", "Closed cohort.", "confidence intervals in brackets"):
        assert piece in tex
    assert "\\begin{tabular}{lr}" in tex and "$<$" in tex  # "p < 0.10" typeset, not "¡"
    html = t.to_html()
    assert "<caption>Onset of dependence</caption>" in html and "<tfoot>" in html
    md = t.to_markdown()
    assert md.splitlines()[2].startswith("| ") and "|:---|---:|" in md
    assert t.render("text") == t.to_text()
    with pytest.raises(ValueError, match="unknown table format"):
        t.render("docx")


def test_etable_norwegian_labels_and_numbers():
    tidy = pd.DataFrame({"estimate": [1234.5], "std_error": [0.25]}, index=["treated_post"])
    r = Results(tidy, design="did", outcome="workdays", inference="placebo-t", n_obs=12345,
                n_units=22)
    t = etable([r], lang="no", decimals=1)
    md = t.to_markdown()
    assert "Arbeidsdager per personår" in md and "Behandlet × etter" in md
    assert "1\u00a0234,5" in md and "12\u00a0345" in md and "(0,2)" in md
    assert "Placebo i rom, studentisert" in md and "*Merknad:*" in md


def test_etable_stars_follow_each_columns_p_value():
    a = Results(pd.DataFrame({"estimate": [1.0], "std_error": [0.2], "p_value": [0.004]},
                             index=["exposed"]), design="cox", outcome="ltbd_onset",
                inference="robust", n_obs=500, n_units=50)
    b = Results(pd.DataFrame({"estimate": [1.0], "std_error": [0.2], "p_value": [0.2]},
                             index=["exposed"]), design="cox", outcome="ltbd_onset",
                inference="placebo", n_obs=500, n_units=50)
    row = etable([a, b], stars=True).rows[0]
    assert row[1].endswith("***") and not row[2].endswith("*")


def test_etable_unbounded_interval_gets_a_note():
    tidy = pd.DataFrame({"estimate": [-1.18], "std_error": [1.09], "conf_low": [-np.inf],
                         "conf_high": [np.inf], "p_value": [0.667]}, index=["treated_post"])
    r = Results(tidy, design="dthazard", outcome="ltbd_onset", inference="placebo",
                n_obs=3997, n_units=22)
    t = etable([r], stat="ci")
    assert "[\u2212∞, ∞]" in t.to_text() and "cannot bound" in t.to_text()
    assert "$-$$\\infty$" in t.to_latex()
    assert "cannot bound" not in etable([r], stat="se").to_text()


def test_etable_refuses_small_units_and_keeps_order():
    with pytest.raises(disclosure.DisclosureError, match="n_units = 3"):
        etable([survival_like(["exposed"], n_units=3)])
    r = survival_like(["exposed", "female", "age_band[25-29]"])
    t = etable([r], keep=["female", "exposed"])
    assert [row[0] for row in t.rows[:4:2]] == ["Female", "Exposed to IPS"]
    assert all(row[0] != "Age 25–29" for row in etable([r], drop=["age_band"]).rows)
    with pytest.raises(ValueError, match="at least one"):
        etable([])


def test_table_save_checks_disclosure_and_removes_a_failing_table(tmp_path):
    ok = Table(["Group", "N (persons)"], [["a", "12"], ["b", "40"]], caption="Counts")
    paths = ok.save(tmp_path / "ok", ("md", "tex", "html", "text"))
    assert [p.name for p in paths] == ["ok.md", "ok.tex", "ok.html", "ok.txt"]
    assert disclosure.check_outputs(tmp_path).ok
    bad = Table(["Group", "N (persons)"], [["a", "3"], ["b", "40"]])
    with pytest.raises(disclosure.DisclosureError, match="small_count"):
        bad.save(tmp_path / "bad", ("md", "tex"))
    assert not list(tmp_path.glob("bad.*"))


def test_format_number_never_scientific():
    assert format_number(1.97e-06, 3) == "0.000"
    assert format_number(1.97e-06, p_value=True) == "<0.001"
    assert format_number(-500000.0, 0) == "\u2212500,000"
    assert format_number(-0.0001, 2) == "0.00"
    assert format_number(2667, integer=True) == "2,667"
    assert format_number(":") == ":"


def test_paper_table_headers_labels_and_notes():
    df = pd.DataFrame({
        "outcome": ["workdays", "ltbd"], "inference": ["placebo-t", "cluster"],
        "estimate": [-5.2345, -0.012345], "std_error": [4.31, 0.0061],
        "conf_low": [-13.7, -0.024], "conf_high": [3.3, np.inf],
        "p_value": [0.22, 1.97e-06], "n_obs": [12345, 12345], "n_units": [22, ":"]})
    t = paper_table(df, caption="Difference-in-differences")
    head = t.headers[0]
    assert head == ["Outcome", "Inference", "Estimate", "Std. error", "CI lower", "CI upper",
                    "p-value", "N (observations)", "N (units)"]
    assert t.rows[0][:4] == ["Workdays per person-year", "Placebo-in-space, studentized",
                             "\u22125.23", "4.31"]
    # fixed decimals per row: a share keeps its digits, on the same decimals as its SE
    assert t.rows[1][2:4] == ["\u22120.0123", "0.0061"]
    assert t.rows[1][6] == "<0.001" and t.rows[1][8] == ":"
    notes = " ".join(t.notes)
    assert "95% confidence interval" in notes and "not published" in notes and "∞" in notes
    tex = t.to_latex()
    assert "\\caption{Difference-in-differences}" in tex and "\\toprule" in tex


def test_save_table_keeps_csv_machine_readable_and_paper_files_human(tmp_path):
    from ips_study.reproduce.outputs import make_survival_table, save_table

    df = pd.DataFrame({"design": ["cox", "dthazard", "dthazard"],
                       "term": ["female", "female_1", "age_band_25-29"],
                       "estimate": [-0.841, -1.01, 1.04], "std_error": [0.51, 0.541, 0.571],
                       "p_value": [0.0993, 0.063, 0.0689], "inference": ["robust", "cluster", "cluster"],
                       "n_obs": [487, 3997, 3997], "n_units": [22, 22, 22]})
    paths = save_table(df, tmp_path / "table_10", 5, caption="Survival models", lang="en")
    assert sorted(p.name for p in paths) == ["table_10.csv", "table_10.md", "table_10.tex"]
    csv = pd.read_csv(tmp_path / "table_10.csv")
    assert list(csv.columns) == list(df.columns)           # machine names kept
    assert csv["term"].tolist() == ["female", "female", "age_band[25-29]"]
    assert csv["design"].tolist() == ["cox", "dthazard", "dthazard"]
    md = (tmp_path / "table_10.md").read_text()
    assert "Std. error" in md and "Discrete-time hazard" in md and "Age 25–29" in md
    assert not SNAKE.search(md)
    assert "\\caption{Survival models}" in (tmp_path / "table_10.tex").read_text()
    assert disclosure.check_outputs(tmp_path).ok
    assert make_survival_table.__doc__  # the caption source of table 10
