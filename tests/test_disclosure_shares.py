"""``check-outputs`` and small numerators behind shares and means (issue 20).

Only the producer rule (:func:`suppress_shares`) knew that 0.0122 of 152 person-years is
about 2 person-years; the stand-alone checker passed any number in [0, 1]. Tables the
package writes now declare their columns' roles in a ``<stem>.roles`` sidecar, and
undeclared tables are judged by a role-based rule. Each planted leak here passed the old
checker.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import ips_study.disclosure as dc
from ips_study.disclosure import roles

LEAKS = {
    # issue 20's table 4: 0.0122 x 152 person-years = 1.85 (no declaration: by its values)
    "descriptives.csv": "group,era,n_persons,n_person_years,workdays,disability\n"
                        "controls,post,40,152,120,0.0122\ntreated,pre,75,400,100,0.2\n",
    # the 3,000-person run: treated/pre ltbd 0.04 x 75 = 3
    "ltbd.csv": "group,n,ltbd\ntreated,75,0.04\ncontrols,300,0.3\n",
    # the complement: 0.99 of 100 leaves 1 person without
    "complement.csv": "group,n_persons,employed\na,100,0.99\nb,100,0.5\n",
    # a count found by role, not English name, and a decimal comma
    "antall.csv": "gruppe;antall;uføre\na;152;0,0122\nb;400;0,2\n",
    # a percentage
    "percent.csv": "group,n,pct_employed\na,150,2.0\nb,200,50\n",
    # a long table whose unit says share
    "long.csv": "metric,value,n,unit\nshare employed,0.04,75,share\nemployed,30,75,persons\n",
    # a Markdown pipe table with human headers
    "table.md": "| Group | N (persons) | Disability |\n|:---|---:|---:|\n| Controls | 152 | 0.0122 |\n"
                "| Treated | 400 | 0.2 |\n",
    "table.html": "<table><tr><th>group</th><th>n</th><th>share</th></tr>"
                  "<tr><td>a</td><td>75</td><td>0.04</td></tr></table>",
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_a_small_numerator_behind_a_share_is_caught(tmp_path, name):
    (tmp_path / name).write_text(LEAKS[name], encoding="utf-8")
    res = dc.check_outputs(tmp_path)
    kinds = [v.kind for v in res.violations]
    assert kinds == ["small_numerator"], res.to_text()
    assert "row" in res.violations[0].location
    for value in ("0.0122", "0,0122", "0.04", "0.99", "152", "75"):
        assert value not in res.to_text()  # names the cell, never a value


def test_the_shares_rule_does_not_drown_real_tables(tmp_path):
    """Columns in [0, 1] that are not shares of persons, flow tables whose count is the
    numerator, and shares over enough persons: no finding."""
    files = {
        "regression.csv": "term,estimate,std_error,p_value,conf_low,conf_high,n_obs\n"
                          "post,0.01,0.002,0.0001,0.006,0.014,5000\n",
        "weights.csv": "unit,weight,n_persons\n1801,0.4,300\n1820,0.001,2000\n",
        "flow.csv": "status,n,share\nattached,101,1\nwaiting,0,0\ncurrently_attached,58,0.574\n"
                    "ended,43,0.426\nended_ordinary_work,23,0.535\nended_education,0,0\n"
                    "ended_other,6,0.14\n",
        "descriptives.csv": "group,n_persons,n_person_years,workdays,disability,employed\n"
                            "controls,5639,14033,131,0.0115,0.645\ntreated,735,1624,135,0.0113,0.657\n",
        "no_counts.csv": "outcome,share\na,0.001\n",
        "zero_and_one.csv": "group,n,share\na,40,0\nb,40,1\nc,40,0.5\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    res = dc.check_outputs(tmp_path)
    assert res.ok, res.to_text()


def _table_4(disability):
    return pd.DataFrame({"group": ["controls", "treated"], "n_persons": [40, 200],
                         "n_person_years": [400, 800], "ever_disabled": disability})


def test_export_writes_the_declaration_and_the_checker_uses_it(tmp_path):
    """A share of persons beside a larger person-year count: the largest-count rule would
    take 0.075 x 400 = 30, the declaration says 0.075 x 40 persons = 3."""
    t = roles.declare(_table_4([0.5, 0.4]), {"ever_disabled": ("share", "n_persons")})
    paths = dc.export_table(t, tmp_path / "table_4", formats=("csv", "md"))
    assert [p.name for p in paths] == ["table_4.csv", "table_4.md", "table_4.roles"]
    decl = json.loads((tmp_path / "table_4.roles").read_text())
    assert decl["columns"][3] == {"name": "ever_disabled", "role": "share", "of": ["n_persons"]}
    assert dc.check_outputs(tmp_path).ok
    # the same figures edited after writing: caught in the CSV by name, in the Markdown
    # (human headers) by position
    for p in (tmp_path / "table_4.csv", tmp_path / "table_4.md"):
        p.write_text(p.read_text().replace("0.5", "0.075"))
    res = dc.check_outputs(tmp_path)
    assert sorted((v.file, v.kind) for v in res.violations) == [
        ("table_4.csv", "small_numerator"), ("table_4.md", "small_numerator")], res.to_text()
    assert "declared" in res.violations[0].detail
    # without the declaration the rule for undeclared columns takes the largest count (30)
    (tmp_path / "table_4.roles").unlink()
    assert dc.check_outputs(tmp_path).ok


def test_export_refuses_a_declared_share_with_a_small_numerator(tmp_path):
    t = roles.declare(_table_4([0.075, 0.4]), {"ever_disabled": ("share", "n_persons")})
    with pytest.raises(dc.DisclosureError) as info:
        dc.export_table(t, tmp_path / "table_4")
    assert str(info.value).startswith("table_4: refused by disclosure control: column 'ever_disabled' rows 1")
    assert not list(tmp_path.iterdir())


def test_suppress_shares_declares_what_it_checked(tmp_path):
    t = pd.DataFrame({"group": ["a", "b"], "n_persons": [40, 90], "n_person_years": [152, 400],
                      "disability": [0.0122, 0.2], "workdays": [120.0, 90.0]})
    s = dc.suppress_shares(t)
    assert s.roles["disability"] == {"role": "share", "of": ["n_persons", "n_person_years"]}
    assert s.roles["n_persons"] == {"role": "count"} and "workdays" not in s.roles
    dc.export_table(s, tmp_path / "t")
    assert (tmp_path / "t.roles").is_file() and dc.check_outputs(tmp_path).ok


def test_a_declared_mean_over_a_small_or_hidden_denominator(tmp_path):
    (tmp_path / "wages.csv").write_text("group,n,mean_wage\na,:,350000\nb,3,41000\nc,40,39000\n")
    (tmp_path / "wages.roles").write_text(json.dumps({"ips_study_roles": 1, "columns": [
        {"name": "group", "role": "label"}, {"name": "n", "role": "count"},
        {"name": "mean_wage", "role": "mean", "of": ["n"]}]}))
    res = dc.check_outputs(tmp_path)
    found = {(v.kind, v.location) for v in res.violations}
    assert ("small_denominator", "column 'mean_wage' rows 1, 2") in found, res.to_text()
    assert ("small_count", "column 'n' rows 2") in found


def test_a_declaration_that_does_not_fit_or_smuggles_values_is_reported(tmp_path):
    (tmp_path / "t.csv").write_text("group,n,share\na,75,0.04\n")
    (tmp_path / "t.roles").write_text(json.dumps({"ips_study_roles": 1, "columns": [
        {"name": "group", "role": "label"}, {"name": "n", "role": "count"}]}))
    (tmp_path / "u.csv").write_text("group,n\na,40\n")
    (tmp_path / "u.roles").write_text(json.dumps({"ips_study_roles": 1, "columns": [
        {"name": "n", "role": "count", "value": 3}]}))
    res = dc.check_outputs(tmp_path)
    got = sorted((v.file, v.kind) for v in res.violations)
    # the misfit falls back to the rule for undeclared columns, which still finds 0.04 x 75
    assert got == [("t.csv", "roles_mismatch"), ("t.csv", "small_numerator"),
                   ("u.csv", "roles_mismatch"), ("u.roles", "unreadable")], res.to_text()


def test_declare_names_a_wrong_role_or_column():
    t = pd.DataFrame({"n": [40], "share": [0.5]})
    with pytest.raises(ValueError, match="'share': role must be one of"):
        roles.declare(t, {"share": "fraction"})
    with pytest.raises(ValueError, match="denominator column"):
        roles.declare(t, {"share": ("share", "n_persons")})
