"""Progress output (issue 21): step names and bars on stderr when asked or on a terminal,
never in stdout or an output file; and ``estimate`` reads the population off the panel."""

from __future__ import annotations

import hashlib

import pytest

from ips_study import progress
from ips_study.cli import main, panel_population
from ips_study.reproduce.pipeline import run


def files(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _restore_setting():
    before = progress._ON
    yield
    progress._ON = before


def test_bar_and_step_are_silent_when_off_and_write_to_stderr_when_on(capsys):
    items = list(range(5))
    with progress.forced(False):
        assert progress.bar(items, "placebo fits") is items  # untouched, no tqdm at all
        with progress.step("fitting did"):
            pass
    assert capsys.readouterr() == ("", "")
    with progress.forced(True):
        assert list(progress.bar(items, "placebo fits")) == items
        with progress.step("fitting did"):
            pass
    out, err = capsys.readouterr()
    assert out == "" and "placebo fits" in err and "/5 " in err and "fitting did: 00:00" in err
    # a function's own flag wins over the run's setting
    with progress.forced(False):
        assert list(progress.bar(items, "explicit", enabled_=True)) == items
    assert "explicit" in capsys.readouterr().err


def test_configure_defaults_to_the_terminal(monkeypatch):
    assert progress.configure(True) is True and progress.configure(False) is False
    assert progress.configure(None) is False  # pytest's captured stderr is not a terminal

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert progress.configure(None) is True


def _panel_and_dthazard(data, folder, flags, capsys):
    panel = folder / "panel.parquet"
    assert main(["panel", str(data), "--out", str(panel), "--freq", "month", "--design", "closed",
                 "--quarantine-dir", str(folder.parent / "q"), *flags]) == 0
    built = capsys.readouterr()
    assert main(["estimate", str(panel), "--design", "dthazard", "--outcome", "ltbd_onset",
                 "--json", str(folder / "dthazard.json"), *flags]) == 0
    fitted = capsys.readouterr()
    return built, fitted


def test_cli_progress_names_the_steps_on_stderr_and_outputs_are_identical(small_synthetic_dir,
                                                                          tmp_path, capsys):
    on, off, auto = tmp_path / "on", tmp_path / "off", tmp_path / "auto"
    built_on, fit_on = _panel_and_dthazard(small_synthetic_dir, on, ["--progress"], capsys)
    built_off, fit_off = _panel_and_dthazard(small_synthetic_dir, off, ["--no-progress"], capsys)
    built_auto, fit_auto = _panel_and_dthazard(small_synthetic_dir, auto, [], capsys)
    # the step names, the panel's partition bar and the placebo loop's bar, on stderr
    for step in ("reading registers from", "building the month panel (closed population)",
                 "panel:", "partition"):
        assert step in built_on.err
    for step in ("reading panel", "fitting dthazard on ltbd_onset", "dthazard placebo fits"):
        assert step in fit_on.err
    # off, and by default when stderr is not a terminal: none of it
    for err in (built_off.err, fit_off.err, built_auto.err, fit_auto.err):
        assert "fitting" not in err and "reading" not in err and "|" not in err
    # stdout and every file written are the same, byte for byte
    assert built_on.out == built_off.out == built_auto.out
    assert fit_on.out == fit_off.out == fit_auto.out and "dthazard results" in fit_on.out
    assert files(on) == files(off) == files(auto) and "panel.parquet" in files(on)


def test_quiet_keeps_progress_off_unless_asked(small_synthetic_dir, tmp_path, capsys):
    common = ["panel", str(small_synthetic_dir), "--out", str(tmp_path / "p.parquet"),
              "--quarantine-dir", str(tmp_path / "q"), "--quiet"]
    assert main(common) == 0
    assert "building the" not in capsys.readouterr().err
    assert main([*common, "--progress"]) == 0
    assert "building the year panel" in capsys.readouterr().err


def test_reproduce_progress_names_each_output_and_changes_no_file(small_synthetic_dir, tmp_path,
                                                                 capsys):
    quick = ["table_1_register_accounting", "table_4_descriptives"]
    assert run(data=small_synthetic_dir, out=tmp_path / "a", work=tmp_path / "wa", quiet=True,
               only=quick, progress=True) == 0
    err = capsys.readouterr().err
    assert "reproduce:" in err and "registers: table_1_register_accounting" in err
    assert "panel:" in err  # the panel build's own bar, inside the output that needs it
    assert run(data=small_synthetic_dir, out=tmp_path / "b", work=tmp_path / "wb", quiet=True,
               only=quick, progress=False) == 0
    assert capsys.readouterr().err == ""
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    a.pop("run_manifest.json"), b.pop("run_manifest.json")  # holds the timings
    assert a == b and len(a) == 3 * len(quick) + 1  # + table_4_descriptives.roles


def test_estimate_reads_the_population_off_the_panel(small_synthetic_dir, tmp_path, capsys):
    """``estimate`` without a study file used the study default (open population) for the
    survival designs, so on a closed panel it said "prefer a closed-cohort panel" and put
    follow-up on the calendar time scale."""
    closed, opened = tmp_path / "closed.parquet", tmp_path / "open.parquet"
    common = ["--freq", "month", "--quarantine-dir", str(tmp_path / "q")]
    assert main(["panel", str(small_synthetic_dir), "--out", str(closed), "--design", "closed",
                 *common]) == 0
    assert main(["panel", str(small_synthetic_dir), "--out", str(opened), "--design", "open",
                 *common]) == 0
    from ips_study.panel import read_panel

    assert panel_population(read_panel(closed)) == "closed"
    assert panel_population(read_panel(opened)) == "open"
    assert panel_population(read_panel(closed).drop(columns="person_id")) is None
    capsys.readouterr()
    assert main(["estimate", str(closed), "--design", "km", "--outcome", "ltbd_onset"]) == 0
    plain = capsys.readouterr().out
    assert "prefer a closed-cohort panel" not in plain
    study = tmp_path / "closed.toml"
    study.write_text('design = "closed"\nfreq = "month"\n')
    assert main(["estimate", str(closed), "--design", "km", "--outcome", "ltbd_onset",
                 "--study", str(study)]) == 0
    assert capsys.readouterr().out == plain  # the same fit as with the population stated
    # an open panel (no summary beside it, so the command does not refuse it) keeps the note
    opened.with_suffix(".summary.json").unlink()
    assert main(["estimate", str(opened), "--design", "km", "--outcome", "ltbd_onset"]) == 0
    assert "prefer a closed-cohort panel" in capsys.readouterr().out
