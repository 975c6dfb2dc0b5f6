"""Figures' content check (issue 20): every saved PNG and PDF carries the record of what it
draws, bars are person counts unless declared otherwise, and check-outputs reads PDFs too."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import ips_study.disclosure as dc  # noqa: E402
from ips_study import figures  # noqa: E402
from ips_study.disclosure import drawn  # noqa: E402


def _kinds(folder):
    return sorted((v.file, v.kind) for v in dc.check_outputs(folder).violations)


def _bars(values, **kw):
    fig, ax = plt.subplots()
    ax.bar(range(len(values)), values, **kw)
    ax.set_xticks(range(len(values)), [f"group {k}" for k in range(len(values))])
    return fig, ax


def test_a_pdf_drawing_a_bar_of_three_persons_is_caught(tmp_path):
    """Planted leak: PDFs were not read at all (only their PNG twin)."""
    fig, _ = _bars([240, 3])
    figures.save(fig, tmp_path / "figure_leak", formats=("pdf",), close=True)
    res = dc.check_outputs(tmp_path)
    assert "figure_leak.pdf" in res.files
    found = [(v.file, v.kind, v.location) for v in res.violations]
    assert found == [("figure_leak.pdf", "small_count", "drawn count 2 (axes 1 bar)")], found


def test_an_unmarked_bar_axis_with_a_count_of_three_is_caught(tmp_path):
    """Planted leak: bar lengths were recorded only on axes marked with mark_counts."""
    fig, _ = _bars([120, 3, 45])
    dc.save_figure(fig, tmp_path / "figure.png")
    plt.close(fig)
    assert _kinds(tmp_path) == [("figure.png", "small_count")]


def test_histograms_and_stairs_are_counts_too(tmp_path):
    fig, (a, b) = plt.subplots(1, 2)
    a.hist([1.0] * 30 + [2.0] * 2, bins=[0.5, 1.5, 2.5])  # a bin of two persons
    b.stairs([40, 2, 30], [0, 1, 2, 3])
    figures.save(fig, tmp_path / "figure", close=True)
    res = dc.check_outputs(tmp_path)
    where = sorted({(v.file, v.location.split("(")[1]) for v in res.violations})
    assert where == [("figure.pdf", "axes 1 bar)"), ("figure.pdf", "axes 2 stairs)"),
                     ("figure.png", "axes 1 bar)"), ("figure.png", "axes 2 stairs)")], where


def test_bars_declared_as_measures_are_listed_not_checked_as_counts(tmp_path):
    fig, ax = _bars([0.3, 0.7])
    figures.save(fig, tmp_path / "undeclared", formats=("png",))
    dc.mark_measures(ax, "unit weight")
    figures.save(fig, tmp_path / "declared", formats=("png",), close=True)
    assert _kinds(tmp_path) == [("undeclared.png", "small_count")] * 2
    rec, _ = drawn.read_record(tmp_path / "declared.png")
    assert json.loads(rec)["measures"] == [{"unit": "unit weight", "value": 0.3, "where": "axes 1 bar"},
                                           {"unit": "unit weight", "value": 0.7, "where": "axes 1 bar"}]
    with pytest.raises(ValueError, match="unit"):
        dc.mark_measures(ax, "")


def test_png_and_pdf_carry_the_same_record_and_stay_deterministic(tmp_path):
    fig, ax = _bars([120, 45])
    ax.set_title("Persons by group")
    a = figures.save(fig, tmp_path / "a")
    b = figures.save(fig, tmp_path / "b", close=True)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    png, pdf = (drawn.read_record(p)[0] for p in a)
    assert png == pdf and json.loads(png)["counts"][0] == {"value": 120.0, "where": "axes 1 bar"}
    assert dc.check_outputs(tmp_path).ok, dc.check_outputs(tmp_path).to_text()


def test_every_text_artist_is_recorded_category_ticks_included(tmp_path):
    """Tick labels were left out: a category axis could carry an id or 'n = 3'."""
    fig, ax = plt.subplots()
    ax.barh([0, 1], [40, 50])
    ax.set_yticks([0, 1], ["person 0000012345", "n = 3"])
    fig.supxlabel("deaths: 2")
    ax.plot([0, 1], [0, 1], label="controls")
    ax.legend(title="n = 4")
    figures.save(fig, tmp_path / "figure", formats=("pdf",), close=True)
    res = dc.check_outputs(tmp_path)
    assert sorted(v.kind for v in res.violations) == ["identifier_value", "small_count", "small_count",
                                                      "small_count"], res.to_text()
    assert all(v.location.startswith("drawn text") for v in res.violations)
    assert "0000012345" not in res.to_text()
    texts = json.loads(drawn.read_record(tmp_path / "figure.pdf")[0])["texts"]
    assert not any(t in texts for t in ("0", "10", "20", "30", "40", "50"))  # the scale is left out


def test_a_pdf_without_its_record_or_with_an_id_in_its_metadata(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "plain.pdf")  # not saved by the package
    fig.savefig(tmp_path / "titled.pdf", metadata={"Title": "cohort (person 0000012345)"})
    dc.save_figure(fig, tmp_path / "package.pdf")
    plt.close(fig)
    res = dc.check_outputs(tmp_path)
    assert sorted((v.file, v.kind) for v in res.violations) == [
        ("plain.pdf", "unverified_figure"), ("titled.pdf", "identifier_value"),
        ("titled.pdf", "unverified_figure")], res.to_text()
    assert next(v for v in res.violations if v.kind == "identifier_value").location.startswith("metadata")
    # the record damaged in place: reported, not passed
    data = (tmp_path / "package.pdf").read_bytes()
    key = f"/{drawn.PDF_KEY} (".encode()
    at = data.index(key) + len(key)
    (tmp_path / "package.pdf").write_bytes(data[:at] + b"!!" + data[at + 2:])
    assert ("package.pdf", "unreadable") in _kinds(tmp_path)


def test_figure_formats_without_a_record_are_flagged_and_not_written(tmp_path):
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "person 0000012345")
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(tmp_path / "figure.svg")
    fig.savefig(tmp_path / "figure.jpg")
    with pytest.raises(ValueError, match="one of"):
        figures.save(fig, tmp_path / "f", formats=("svg",))
    with pytest.raises(ValueError, match=r"figure2\.svg"):
        dc.save_figure(fig, tmp_path / "figure2.svg")
    plt.close(fig)
    assert _kinds(tmp_path) == [("figure.jpg", "unverified_figure"), ("figure.svg", "identifier_value"),
                                ("figure.svg", "unverified_figure")]


def test_pdf_information_strings_are_decoded():
    """Literal strings with escapes and nesting, and UTF-16 hex strings, as PDF writers use."""
    body = (b"%PDF-1.4\n7 0 obj\n<< /Title (a \\(b\\) (c) \\101\\\nd) /Trapped /False "
            b"/Subject <FEFF00E6 00F8> /N 3 >>\nendobj\ntrailer\n<< /Size 8 /Info 7 0 R >>\n")
    import pathlib
    import tempfile

    p = pathlib.Path(tempfile.mkdtemp()) / "f.pdf"
    p.write_bytes(body)
    assert drawn.pdf_info(p) == [("Title", "a (b) (c) Ad"), ("Subject", "æø")]
