"""Means, JSON outputs and scaled counts under the share rule (issue 20, session 8).

Each leak planted here passed the session 7 checker:

* a mean of a bounded quantity (workdays, at most a year's 262 weekdays) published over
  person-years whose total amounts to fewer than ``min_count`` persons at the bound (table
  4's ``workdays`` was not declared, so it was not checked at all);
* JSON outputs: only their keys and single values were checked, never a share against its
  count, and roles were not read for them;
* counts printed scaled (``persons_1000``, unit ``1000 persons``) and rates per 1,000.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import ips_study.disclosure as dc
from ips_study.disclosure import roles


def _kinds(d, kind=None):
    res = dc.check_outputs(d)
    return [(v.file, v.kind, v.location) for v in res.violations if kind is None or v.kind == kind]


# -- means ---------------------------------------------------------------------------------
def _descriptives(n_py, workdays):
    return pd.DataFrame({"group": ["controls", "treated"], "n_persons": [4000, 20],
                         "n_person_years": [10000, n_py], "workdays": [131.0, workdays],
                         "disability": [0.0115, 0.4]})


def test_a_bounded_mean_over_too_few_persons_at_the_bound_is_caught(tmp_path):
    # 40 person-years x 20 workdays = 800 workdays = 3.05 person-years at 262: a small total
    t = roles.declare(_descriptives(40, 20.0), {"workdays": ("mean", ["n_persons", "n_person_years"], 262)})
    (tmp_path / "t.csv").write_text(t.to_csv(index=False))
    roles.write_sidecar(tmp_path / "t", t, roles.normalise(t.attrs[roles.ATTR], t.columns))
    found = _kinds(tmp_path, "small_numerator")
    assert ("t.csv", "small_numerator", "column 'workdays' rows 2") in found
    # the shortfall: 40 person-years at 250 of 262 workdays leave 1.8 person-years short
    t["workdays"] = [131.0, 250.0]
    (tmp_path / "t.csv").write_text(t.to_csv(index=False))
    assert ("t.csv", "small_numerator", "column 'workdays' rows 2") in _kinds(tmp_path, "small_numerator")
    # an ordinary cell is not flagged: 40 x 131 / 262 = 20 person-years on each side
    t["workdays"] = [131.0, 131.0]
    (tmp_path / "t.csv").write_text(t.to_csv(index=False))
    assert _kinds(tmp_path) == []


def test_an_unbounded_mean_is_checked_for_its_denominator_only(tmp_path):
    t = dc.roles.declare(pd.DataFrame({"n": [3, 40], "mean_wage": [41000.0, 1.0]}), {"mean_wage": ("mean", "n")})
    paths = []
    with pytest.raises(dc.DisclosureError, match="mean_wage"):  # a mean over 3 persons
        paths = dc.export_table(t, tmp_path / "w")
    assert paths == []


def test_suppress_shares_suppresses_and_declares_a_bounded_mean(tmp_path):
    sup = dc.suppress_shares(_descriptives(40, 20.0), bounds={"workdays": 262})
    frame = sup.to_frame()
    assert frame["workdays"].tolist() == [131, dc.SUPPRESSED]
    assert frame.attrs[roles.ATTR]["workdays"] == {"role": "mean", "of": ["n_persons", "n_person_years"],
                                                  "max": 262.0}
    dc.export_table(frame, tmp_path / "t4", formats=("csv", "md", "json"))
    side = json.loads((tmp_path / "t4.roles").read_text())
    assert {"name": "workdays", "role": "mean", "of": ["n_persons", "n_person_years"], "max": 262.0} in side["columns"]
    assert _kinds(tmp_path) == []
    # the Markdown and JSON renderings carry the same declaration: un-suppress the cell in each
    for f, old, new in (("t4.md", "| : |", "| 20 |"), ("t4.json", '"workdays": ":"', '"workdays": 20')):
        text = (tmp_path / f).read_text()
        assert old in text
        (tmp_path / f).write_text(text.replace(old, new, 1))
    found = {(f, k) for f, k, _ in _kinds(tmp_path)}
    assert {("t4.md", "small_numerator"), ("t4.json", "small_numerator")} <= found


def test_make_descriptives_declares_workdays_as_a_bounded_mean():
    from ips_study.reproduce.outputs import MAIN_OUTCOMES, make_descriptives

    rng = np.random.default_rng(3)
    rows = []
    for pid in range(400):
        treated = int(pid < 8)  # 8 treated persons x 2 years x 2 eras = 32 person-years
        for year, post in ((2010, 0), (2011, 0), (2016, 1), (2017, 1)):
            rows.append({"person_id": f"P{pid:05d}", "treated": treated, "post": post, "year": year,
                         **{o: float(rng.random() < 0.3) for o in MAIN_OUTCOMES if o != "workdays"},
                         "workdays": 20.0 if treated else float(rng.integers(0, 262))})
    panel = pd.DataFrame(rows)
    for o in MAIN_OUTCOMES:  # the month panel's types after issue 22: small ints
        if o != "workdays":
            panel[o] = panel[o].astype("int8")
    ctx = SimpleNamespace(panel=lambda freq: panel, config=SimpleNamespace(min_count=5))
    out = make_descriptives(ctx)
    assert out.attrs[roles.ATTR]["workdays"]["role"] == "mean"
    assert out.attrs[roles.ATTR]["workdays"]["max"] == 262
    treated = out["group"] == "treated"
    # 16 person-years x 20 workdays = 1.2 person-years at the bound: suppressed
    assert (out.loc[treated, "workdays"] == dc.SUPPRESSED).all()
    assert (out.loc[~treated, "workdays"] != dc.SUPPRESSED).all()


# -- JSON ----------------------------------------------------------------------------------
JSON_LEAKS = {
    # table 4 as records: 0.0122 x 152 person-years = 1.85
    "records.json": [{"group": "controls", "n_person_years": 152, "disability": 0.0122},
                     {"group": "treated", "n_person_years": 400, "disability": 0.2}],
    # pandas orient="split", nested in a result document
    "split.json": {"result": {"columns": ["group", "n", "ltbd"],
                              "data": [["treated", 75, 0.04], ["controls", 300, 0.3]]}},
    # orient="list"
    "lists.json": {"group": ["a", "b"], "n_persons": [100, 100], "employed": [0.99, 0.5]},
    # one row as an object (shares named as such: one row says too little by its values)
    "flat.json": {"n_persons": 152, "share_disabled": 0.0122, "label": "controls"},
    # a long table whose unit says share
    "long.json": [{"metric": "share employed", "value": 0.04, "n": 75, "unit": "share"}],
}


def test_one_json_object_is_judged_by_its_names_only(tmp_path):
    # a result's extras: a number in [0, 1] beside a count is not a share unless named one
    (tmp_path / "r.json").write_text(json.dumps({"estimate": 1.2, "extras": {
        "n_placebos": 27, "studentised_variance": 0.02, "method": "placebo-t"}}))
    assert _kinds(tmp_path) == []


@pytest.mark.parametrize("name", sorted(JSON_LEAKS))
def test_a_small_numerator_in_json_is_caught(tmp_path, name):
    (tmp_path / name).write_text(json.dumps(JSON_LEAKS[name]))
    assert [k for _, k, _ in _kinds(tmp_path)] == ["small_numerator"]


def test_json_written_by_export_table_is_checked_with_its_roles(tmp_path):
    # the share is of persons (the smaller count): undeclared, it would be read over the
    # person-years and pass
    t = pd.DataFrame({"group": ["a", "b"], "n_persons": [40, 400], "n_person_years": [160, 1600],
                      "ever_disabled": [0.5, 0.3]})
    dc.export_table(t, tmp_path / "t", formats=("json",), roles={"ever_disabled": ("share", "n_persons")})
    assert json.loads((tmp_path / "t.json").read_text())[0] == {
        "group": "a", "n_persons": 40, "n_person_years": 160, "ever_disabled": 0.5}
    assert _kinds(tmp_path) == []
    body = (tmp_path / "t.json").read_text().replace('"ever_disabled": 0.5', '"ever_disabled": 0.05')
    (tmp_path / "t.json").write_text(body)  # 0.05 x 40 = 2 persons (0.05 x 160 = 8 would pass)
    assert ("t.json", "small_numerator", "(top) column 'ever_disabled' rows 1") in _kinds(tmp_path)
    # a declaration that fits no table of the file is reported
    (tmp_path / "t.json").write_text(json.dumps({"other": [{"x": 1, "y": 2}]}))
    assert ("t.json", "roles_mismatch", "file") in _kinds(tmp_path)


def test_export_table_refuses_a_json_leak():
    t = pd.DataFrame({"n_person_years": [152, 400], "disability": [0.0122, 0.2]})
    with pytest.raises(dc.DisclosureError, match="disability"):
        dc.export_table(t, "/nonexistent/t", formats=("json",))


# -- scaled counts -------------------------------------------------------------------------
def test_counts_printed_scaled_are_read_at_their_scale(tmp_path):
    # 0.003 thousand persons = 3 persons; 2.5 thousand = 2,500 (the old rule flagged 2.5 and
    # passed nothing else scaled)
    (tmp_path / "wide.csv").write_text("group,persons_1000\na,0.003\nb,2.5\n")
    (tmp_path / "long.csv").write_text("metric,value,unit\nemployed,0.002,1000 persons\n"
                                       "in work,1.2,1000 persons\ndeaths,0.002,per 1000 persons\n")
    (tmp_path / "rate.csv").write_text("group,n,deaths_per_1000\na,100,20\nb,4000,20\n")
    found = _kinds(tmp_path)
    assert ("wide.csv", "small_count", "column 'persons_1000' rows 1") in found
    assert ("long.csv", "small_count", "column 'value' rows 1") in found
    assert ("rate.csv", "small_numerator", "column 'deaths_per_1000' rows 1") in found
    assert len(found) == 3


# -- column types --------------------------------------------------------------------------
@pytest.mark.parametrize("share_type,count_type", [("int8", "int16"), ("float64", "Int32"), ("Int8", "int32")])
def test_the_rules_do_not_depend_on_float_columns(tmp_path, share_type, count_type):
    t = pd.DataFrame({"n_person_years": pd.array([152, 400, 60], dtype=count_type),
                      "employed": pd.array([1, 0, 1], dtype=share_type),  # a 0/1 column as ints
                      "disability": pd.array([0.0122, 0.2, 0.5], dtype="Float64" if share_type[0] == "I" else None),
                      "workdays": pd.array([20, 131, 250], dtype=count_type.replace("32", "16"))})
    frame = dc.suppress_shares(t, bounds={"workdays": 262}).to_frame()
    assert frame["disability"].tolist() == [dc.SUPPRESSED, 0.2, 0.5]  # 0.0122 x 152 = 1.9
    assert frame["workdays"].tolist() == [20, 131, dc.SUPPRESSED]  # 60 x 12/262 = 2.7 short
    dc.export_table(frame, tmp_path / "t", formats=("csv", "json"))
    assert _kinds(tmp_path) == []


# -- unbounded amounts: the p% rule on the microdata -----------------------------------------
def test_the_p_percent_rule_finds_a_dominated_wage_cell():
    d = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6 + ["c"] * 2,
                      "wage": [900_000, 30_000, 31_000, 29_000, 30_000, 32_000]  # one dominates
                      + [30_000] * 6 + [30_000, 30_000]})
    got = dc.dominated_cells(d, "g", "wage")
    # a: the rest (152,000 - 32,000 = 120,000) is 13 % of the largest; c: two contributors
    # learn each other's value exactly
    assert got.to_dict() == {"a": True, "b": False, "c": True}
    # exactly at the boundary: T - x1 - x2 = p/100 * x1 is safe
    e = pd.DataFrame({"g": ["x"] * 3, "wage": [100.0, 50.0, 25.0]})
    assert not dc.dominated_cells(e, "g", "wage").iloc[0]
    assert dc.dominated_cells(e, "g", "wage", p=26).iloc[0]
