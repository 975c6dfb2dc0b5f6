"""The leaks ``check-outputs`` missed in issue 20's attack, one planted per class, and the
new rules: shares with small numerators, min_count override, one-line refusals."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import ips_study.disclosure as dc  # noqa: E402
from ips_study.config import ConfigError, StudyConfig  # noqa: E402

LEAKS = {
    "ten_digit_id.csv": ("group,note\na,see 0000012345\n", "identifier_value"),
    "antall.csv": ("gruppe,antall\na,3\nb,40\n", "small_count"),
    "total.csv": ("group,total\na,2\nb,40\n", "small_count"),
    "events.csv": ("time,events\n1,4\n2,30\n", "small_count"),
    "deaths.csv": ("year,deaths\n2014,1\n2015,12\n", "small_count"),
    "decimal_comma.csv": ("group;n\na;3,0\nb;40,0\n", "small_count"),
    "long_unit.csv": ("metric,unit,value\nemployed,persons,3\nshare,share,0.4\n", "small_count"),
    "total_minus_subtotals.csv": ("group,n\na,20\nb,10\nTotal,33\n", "small_count"),
    "recoverable.csv": ("group,n\na,:\nb,10\nTotal,13\n", "recoverable_cell"),
    "table.tsv": ("group\tn\na\t3\nb\t40\n", "small_count"),
    "note.txt": ("Results\n\ndeaths: 3 in the treated group\n", "small_count"),
    "id_in_text.txt": ("dropped person 0000012345 from the sample\n", "identifier_value"),
    "table.html": ("<html><table><tr><th>group</th><th>n</th></tr><tr><td>a</td><td>2</td></tr>"
                   "<tr><td>b</td><td>50</td></tr></table></html>", "small_count"),
    "counts.json": (json.dumps({"deaths": 3, "events_by_year": {"2014": 40}}), "small_count"),
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_each_planted_leak_is_caught(tmp_path, name):
    text, kind = LEAKS[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    res = dc.check_outputs(tmp_path)
    assert name in res.files
    assert kind in {v.kind for v in res.violations}, res.to_text()
    assert "0000012345" not in res.to_text()


def test_png_metadata_with_an_id_is_caught(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "figure.png", metadata={"Description": "cohort of person 0000012345"})
    plt.close(fig)
    res = dc.check_outputs(tmp_path)
    # saved without the package: its drawing cannot be checked, and its metadata holds an id
    assert sorted((v.file, v.kind) for v in res.violations) == [("figure.png", "identifier_value"),
                                                               ("figure.png", "unverified_figure")]
    assert next(v for v in res.violations if v.kind == "identifier_value").location.startswith("metadata line")


def test_near_misses_are_not_flagged(tmp_path):
    """Whole tables that only look like leaks: no false alarms."""
    files = {
        "shares.csv": "group,share,total_cost\na,0.3,3.5\nb,0.7,12\n",
        "years.csv": "year,n\n2014,40\n2015,45\n",
        "thousands.csv": "group,n\na,\"3,000\"\nb,40\n",
        "totals.csv": "group,n\na,20\nb,10\nTotal,30\n",
        "rounded.csv": "step,n_treated,n_controls,n_total\nall,35,20,55\ntarget,:,10,:\n",
        "hash.txt": "sha256 ab1234567890cd\n",
        "plain.png": None,
    }
    for name, text in files.items():
        if text is None:  # a figure saved by the package, drawing no count
            fig, ax = plt.subplots()
            dc.save_figure(fig, tmp_path / name)
            plt.close(fig)
        else:
            (tmp_path / name).write_text(text)
    res = dc.check_outputs(tmp_path)
    assert res.ok, res.to_text()


def test_shares_with_small_numerators_are_suppressed():
    """Issue 20's cases: 0.0122 of 152 person-years (about 2) and 0.04 of 75 (3)."""
    t = pd.DataFrame({"group": ["controls", "treated", "big", "almost_all"],
                      "n_persons": [40, 30, 90, 80], "n_person_years": [152, 75, 400, 100],
                      "disability": [0.0122, 0.04, 0.2, 0.99], "workdays": [120.0, 80.0, 90.0, 100.0]})
    out = dc.suppress_shares(t).to_frame()
    assert out["disability"].tolist() == [":", ":", 0.2, ":"]  # 0.99 x 100 leaves 1 without
    assert out["workdays"].tolist() == [120, 80, 90, 100]  # not a share: untouched
    assert out["n_persons"].tolist() == [40, 30, 90, 80]


def test_refused_export_is_one_line_naming_output_and_cell(tmp_path):
    with pytest.raises(dc.DisclosureError) as info:
        dc.export_table(pd.DataFrame({"group": ["a", "b"], "n": [40, 3]}), tmp_path / "table_9_small")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("table_9_small: refused by disclosure control: column 'n' rows 2")
    assert not list(tmp_path.iterdir())


def test_min_count_below_five_needs_an_override():
    with pytest.raises(ConfigError, match="min_count_override"):
        StudyConfig(min_count=1)
    cfg = StudyConfig(min_count=3, min_count_override=True)
    assert cfg.to_dict()["min_count"] == 3 and cfg.to_dict()["min_count_override"] is True
    assert StudyConfig.from_dict({"min_count": 3, "min_count_override": True}).min_count == 3


def test_flow_with_one_hidden_part_protects_its_total(tmp_path):
    """A tiny-group table 2: the one suppressed part was total minus the other part."""
    flow = pd.DataFrame({"step": ["all", "target"], "n_treated": [40, 3], "n_controls": [60, 22],
                         "n_total": [100, 25]})
    primary = dc.suppress_small(flow)
    (tmp_path / "primary.csv").write_text(primary.to_frame().to_csv(index=False))
    assert "recoverable_cell" in {v.kind for v in dc.check_outputs(tmp_path).violations}
    safe = dc.protect_sums(primary, {"n_total": ["n_treated", "n_controls"]}).to_frame()
    assert safe.loc[1, ["n_treated", "n_controls", "n_total"]].tolist() == [":", 22, ":"]
    (tmp_path / "primary.csv").unlink()
    (tmp_path / "safe.csv").write_text(safe.to_csv(index=False))
    assert dc.check_outputs(tmp_path).ok


def test_ten_digit_amounts_are_not_ids_but_ten_digit_id_columns_are(tmp_path):
    (tmp_path / "cost.csv").write_text("item,estimate,std_error\nnpv,-28812345,1234567890\nqaly,0.5,0.1\n")
    (tmp_path / "cost.json").write_text(json.dumps({"npv": {"estimate": 1234567890}}))
    assert dc.check_outputs(tmp_path).ok
    (tmp_path / "ids.csv").write_text("group,who\na,0000012345\nb,2654448106\n")
    res = dc.check_outputs(tmp_path)
    assert [(v.file, v.kind) for v in res.violations] == [("ids.csv", "identifier_value")]


def _flow(treated, controls):
    return pd.DataFrame({"step": ["persons in the registers", "aged 18-40"], "treated": treated,
                         "controls": controls, "total": [t + c for t, c in zip(treated, controls)]})


def test_a_small_count_drawn_in_a_figure_is_caught(tmp_path):
    """Issue 20: check-outputs read only PNG metadata, so a figure could print a count of 3.
    Figures now carry a record of what they draw, checked like a table."""
    from ips_study import figures

    ok = figures.plot_participant_flow(_flow([900, 300], [5000, 2000]), lang="en")
    figures.save(ok, tmp_path / "figure_ok", formats=("png",), close=True)
    assert dc.check_outputs(tmp_path).ok, dc.check_outputs(tmp_path).to_text()
    # planted leak: counts that skipped disclosure control (min_count=1 lets 3 through)
    leak = figures.plot_participant_flow(_flow([900, 3], [5000, 2000]), lang="en", min_count=1)
    figures.save(leak, tmp_path / "figure_leak", formats=("png",), close=True)
    res = dc.check_outputs(tmp_path)
    found = [(v.file, v.kind, v.location) for v in res.violations]
    # the printed count and the bar's length both show it
    assert found == [("figure_leak.png", "small_count", "drawn count 2 (axes 1 text)"),
                     ("figure_leak.png", "small_count", "drawn count 4 (axes 1 bar)")], found


def test_small_counts_and_ids_in_figure_texts_are_caught(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("Bodø, n = 3")
    ax.annotate("person 0000012345", xy=(0.5, 0.5))
    dc.save_figure(fig, tmp_path / "figure.png")
    plt.close(fig)
    res = dc.check_outputs(tmp_path)
    assert sorted(v.kind for v in res.violations) == ["identifier_value", "small_count"]
    assert all(v.location.startswith("drawn text") for v in res.violations)
    assert "0000012345" not in res.to_text()


def test_a_figure_without_its_record_is_not_passed(tmp_path):
    from ips_study import figures

    ax = figures.plot_participant_flow(_flow([900, 300], [5000, 2000]), lang="en")
    figures.save(ax, tmp_path / "figure", formats=("png",), close=True)
    png = (tmp_path / "figure.png").read_bytes()
    # strip the record chunk (a re-saved or edited image): the content is no longer checkable
    import struct

    pos, out = 8, [png[:8]]
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos:pos + 12 + length]
        if not (kind in (b"tEXt", b"iTXt", b"zTXt") and chunk[8:].startswith(b"ips_study drawn")):
            out.append(chunk)
        pos += 12 + length
    (tmp_path / "figure.png").write_bytes(b"".join(out))
    assert [v.kind for v in dc.check_outputs(tmp_path).violations] == ["unverified_figure"]


def test_min_count_override_is_written_into_the_run_manifest(small_synthetic_dir, tmp_path):
    """Issue 20, part 3: the override is visible to the output reviewer, in the manifest."""
    from ips_study.reproduce.pipeline import run

    study = tmp_path / "study.toml"
    study.write_text("min_count = 3\nmin_count_override = true\n")
    out = tmp_path / "out"
    assert run(data=small_synthetic_dir, out=out, work=tmp_path / "w", study=study, quiet=True,
               only=["table_2_participant_flow"]) == 0
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["study"]["min_count"] == 3 and manifest["study"]["min_count_override"] is True


def test_reproduce_looks_for_the_deliverys_own_ids_in_every_output(small_synthetic_dir, tmp_path, monkeypatch):
    """Issue 20: ids of every format the loader accepts. The loader takes any text as an id,
    so ids that are not 10/11-digit numbers can only be found by value: the run passes the
    delivery's ids to the final check."""
    import shutil

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ips_study.reproduce import outputs as outputs_module
    from ips_study.reproduce.pipeline import run

    data = tmp_path / "registers"
    shutil.copytree(small_synthetic_dir, data)
    for f in data.glob("*.parquet"):  # the same delivery with ids of another format: "P0000012345"
        t = pq.read_table(f)
        if "person_id" in t.column_names:
            i = t.column_names.index("person_id")
            t = t.set_column(i, "person_id", pc.binary_join_element_wise("P", t["person_id"].cast(pa.string()), ""))
            pq.write_table(t, f)
    first = pq.read_table(data / "persons.parquet")["person_id"][0].as_py()

    def leak(ctx):  # a table naming a person: not a 10/11-digit number, so no pattern finds it
        return pd.DataFrame({"note": [f"spells of {first} checked by hand"], "n_persons": [40]})

    only = ["table_2_participant_flow", "table_leak"]
    monkeypatch.setattr(outputs_module, "OUTPUTS",
                        [*outputs_module.OUTPUTS, outputs_module.Output("table_leak", "cohort", leak)])
    for partitions in (None, 2):
        out = tmp_path / f"out{partitions}"
        assert run(data=data, out=out, work=tmp_path / f"w{partitions}", quiet=True, only=only,
                   partitions=partitions) == 1
        manifest = json.loads((out / "run_manifest.json").read_text())
        assert manifest["disclosure_check"]["violations"] == 3  # csv, md, tex
        assert manifest["disclosure_check"]["known_ids_looked_for"] >= 5000
        res = dc.check_outputs(out)
        assert res.ok  # without the ids nothing finds it
        found = dc.check_outputs(out, ids=dc.searchable_ids(pq.read_table(data / "persons.parquet")["person_id"]
                                                            .to_pylist()))
        assert sorted((v.file, v.kind) for v in found.violations) == [
            (f"table_leak.{x}", "identifier_value") for x in ("csv", "md", "tex")]
        assert first not in found.to_text()



def test_table_4_suppresses_shares_with_small_numerators():
    """Issue 20: table 4 published 0.0122 of 152 person-years (about 2 on disability
    pension). The output itself goes through the share rule, not only the function."""
    from types import SimpleNamespace

    import numpy as np

    from ips_study.reproduce.outputs import MAIN_OUTCOMES, make_descriptives

    rng = np.random.default_rng(20)
    rows = []
    for treated in (0, 1):
        for post in (0, 1):
            for k in range(40):  # 40 persons, one year each, per group and era
                rows.append({"person_id": f"{treated}{post}{k:04d}", "treated": treated, "post": post})
    panel = pd.DataFrame(rows)
    for o in MAIN_OUTCOMES:
        panel[o] = rng.integers(0, 2, len(panel)).astype(float)  # shares far from 0 and 1
    panel["workdays"] = rng.uniform(50, 200, len(panel))
    small = (panel["treated"] == 0) & (panel["post"] == 1)
    panel.loc[small, "disability"] = 0.0
    panel.loc[panel.index[small][:2], "disability"] = 1.0  # 2 of 40 controls/post: a small numerator
    ctx = SimpleNamespace(panel=lambda freq: panel, config=SimpleNamespace(min_count=5))
    out = make_descriptives(ctx).set_index(["group", "era"])
    assert out.loc[("controls", "post"), "disability"] == ":"
    assert out.loc[("treated", "post"), "disability"] != ":"
    assert (out["n_persons"] == 40).all()
