"""The command line explains itself (issue 21): help on every option, choices listed,
--version, panel --design, a clear message for survival designs on the wrong panel, a note
for unbounded intervals, each warning once with its design."""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from ips_study.cli import (DESIGN_CHOICES, _unbounded_notes, _warnings_once, build_parser,
                           main)


def subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    missing = [(name, a.dest) for name, sub in subparsers(parser).items()
               for a in sub._actions if not isinstance(a, argparse._HelpAction) and not a.help]
    assert not missing, missing
    assert all(a.help for a in parser._actions if a.dest != "command")


def test_design_lists_its_choices_and_they_are_the_registry(capsys):
    from ips_study.designs import DESIGNS

    assert DESIGN_CHOICES == tuple(DESIGNS)
    with pytest.raises(SystemExit):
        main(["estimate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{did,event,synth,sdid,staggered,km,cox,cuminc,finegray,dthazard}" in text
    with pytest.raises(SystemExit) as exc:
        main(["estimate", "p.parquet", "--design", "dif", "--outcome", "workdays"])
    assert exc.value.code == 2
    assert "invalid choice: 'dif'" in capsys.readouterr().err


def test_version_prints_the_package_version(capsys):
    import ips_study

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ips-study {ips_study.__version__}"


def test_panel_design_closed_and_survival_designs_on_the_wrong_panel(small_synthetic_dir,
                                                                     tmp_path, capsys):
    open_month = tmp_path / "open.parquet"
    closed = tmp_path / "closed.parquet"
    common = ["--freq", "month", "--quiet", "--quarantine-dir", str(tmp_path / "q")]
    assert main(["panel", str(small_synthetic_dir), "--out", str(open_month), *common]) == 0
    assert main(["panel", str(small_synthetic_dir), "--out", str(closed), "--design", "closed",
                 *common]) == 0
    assert json.loads(open_month.with_suffix(".summary.json").read_text())["design"] == "open"
    assert json.loads(closed.with_suffix(".summary.json").read_text())["design"] == "closed"
    capsys.readouterr()
    # on the open population the fit used to die in a linear solve ("array must not contain
    # infs or NaNs"); now the command says what panel it needs and how to build it
    assert main(["estimate", str(open_month), "--design", "cuminc", "--outcome", "ltbd_onset"]) == 2
    err = capsys.readouterr().err
    assert "needs a month panel of the closed cohort" in err and "--design closed" in err
    assert "infs or NaNs" not in err and err.count("\n") == 1
    assert main(["estimate", str(closed), "--design", "cuminc", "--outcome", "ltbd_onset"]) == 0
    assert "aalen-johansen" in capsys.readouterr().out  # the fit ran on the closed cohort


def test_each_warning_is_printed_once_naming_its_design(capsys):
    def command(args):
        for _ in range(3):
            # a catch_warnings block between fits resets Python's own once-per-location
            # bookkeeping: this is how the staggered warning came back six times
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
            warnings.warn_explicit("group(s) 2013 have a single unit", UserWarning,
                                   "/x/ips_study/designs/staggered.py", 379)
        warnings.warn_explicit("only 1 treated cluster(s)", UserWarning,
                               "/x/ips_study/designs/did.py", 113)
        return 0

    assert _warnings_once(command)(argparse.Namespace(command="reproduce")) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["ips-study reproduce: UserWarning (staggered design): group(s) 2013 have a "
                   "single unit",
                   "ips-study reproduce: UserWarning (did design): only 1 treated cluster(s)"]


def test_unbounded_interval_gets_a_note():
    from ips_study.results import Results

    tidy = pd.DataFrame({"estimate": [0.04], "std_error": [0.7], "conf_low": [-np.inf],
                         "conf_high": [np.inf], "p_value": [0.89]}, index=["treated_post"])
    r = Results(tidy, design="dthazard", outcome="ltbd_onset", inference="placebo",
                n_obs=4000, n_units=19)
    (note,) = _unbounded_notes(r)
    assert "unbounded" in note and "1/(J+1)" in note
    bounded = Results(tidy.assign(conf_low=-1.0, conf_high=1.0), design="did",
                      outcome="workdays", inference="placebo", n_obs=4000, n_units=19)
    assert _unbounded_notes(bounded) == []


def test_validate_keeps_quarantined_rows_out_of_the_data_folder(small_synthetic_dir, tmp_path,
                                                                 monkeypatch, capsys):
    import shutil

    from ips_study.workarea import default_quarantine

    data = tmp_path / "delivery"
    shutil.copytree(small_synthetic_dir, data, ignore=shutil.ignore_patterns("quarantine"))
    monkeypatch.setenv("IPS_STUDY_WORK", str(tmp_path / "work"))
    assert main(["validate", str(data)]) == 0
    assert not (data / "quarantine").exists()
    q = default_quarantine(data)
    assert q.parent == tmp_path / "work" / "quarantine" and any(q.glob("*.csv"))
    assert str(q) in capsys.readouterr().out
    # a folder the user names is used as given
    assert main(["validate", str(data), "--quarantine-dir", str(tmp_path / "mine")]) == 0
    assert any((tmp_path / "mine").glob("*.csv"))
