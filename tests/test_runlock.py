"""Faults of a reproduce run (issue 20): a second run into the same folders, a read-only
folder, a full disk. Each is one line on stderr with exit code 2, never a traceback, and
running again afterwards resumes."""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ips_study.cli import main
from ips_study.reproduce import outputs as outputs_module
from ips_study.reproduce.lock import LOCK_NAME, FolderBusy, run_lock
from ips_study.reproduce.pipeline import run

QUICK = ["table_1_register_accounting", "table_2_participant_flow"]


def _reproduce(data, out, work):
    return main(["reproduce", "--data", str(data), "--out", str(out), "--work", str(work), "--quiet"])


def test_second_run_into_a_locked_folder_stops_with_one_line(small_synthetic_dir, tmp_path, capsys):
    out, work = tmp_path / "out", tmp_path / "work"
    with run_lock(work):
        assert _reproduce(small_synthetic_dir, out, work) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "another ips-study run is using" in err and str(work) in err
    assert not (out / LOCK_NAME).exists()  # the lock taken on out was given back


def test_lock_held_by_another_process(tmp_path):
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib; from ips_study.reproduce.lock import run_lock\n"
        f"with run_lock(pathlib.Path({str(tmp_path / 'out')!r})):\n"
        f"    pathlib.Path({str(ready)!r}).touch(); time.sleep(60)")],
        env={"PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        for _ in range(600):
            if ready.exists():
                break
            time.sleep(0.05)
        with pytest.raises(FolderBusy, match=f"process {holder.pid}"):
            with run_lock(tmp_path / "out"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(tmp_path / "out"):  # a dead holder's lock is gone with it
        pass


def test_a_left_over_lock_file_does_not_block(tmp_path):
    (tmp_path / LOCK_NAME).write_text("12345")  # a crashed run: file, but no holder
    with run_lock(tmp_path):
        pass
    assert not (tmp_path / LOCK_NAME).exists()


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "No space left on device (ENOSPC)"),
                                        (errno.EACCES, "Permission denied (EACCES)")])
def test_full_disk_and_read_only_folder_are_one_line_and_resume(small_synthetic_dir, tmp_path, capsys,
                                                                 monkeypatch, code, words):
    out, work = tmp_path / "out", tmp_path / "work"

    def failing(df, stem, min_count, **kwargs):
        raise OSError(code, words.split(" (")[0], str(stem) + ".csv")

    with monkeypatch.context() as m:
        m.setattr(outputs_module, "save_table", failing)
        assert _reproduce(small_synthetic_dir, out, work) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert words in err and "table_1_register_accounting.csv" in err and "run again to resume" in err
    assert not (out / LOCK_NAME).exists() and not (work / LOCK_NAME).exists()
    # the fault gone, the same folders resume and finish
    assert run(data=small_synthetic_dir, out=out, work=work, quiet=True, only=QUICK) == 0
    assert (out / "table_2_participant_flow.csv").is_file()
