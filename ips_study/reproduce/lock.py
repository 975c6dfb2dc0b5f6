"""One run at a time per output and work folder: :func:`run_lock` and :func:`locked`.

Two ``ips-study reproduce`` runs into the same ``--out`` or ``--work`` folder would write the
same temporary files and ledger, and the second died on the first's temporary file. A run
now takes an exclusive lock on each folder (``fcntl.flock`` on ``.ips-study.lock``); a second
run stops at once with :class:`FolderBusy`, naming the folder and the process holding it.

The kernel drops the lock when the holding process ends, however it ends, so a crashed run
leaves nothing to clean up, and resuming (the ledger's job) is unchanged. The lock file is
removed when the run finishes, so the output folder holds only outputs.

Example
-------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with run_lock(d):
...     try:
...         with run_lock(d):
...             pass
...     except FolderBusy as exc:
...         print(str(exc).split(" (")[0].endswith(d.name))
True
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from pathlib import Path
from typing import Callable, Iterator

from ips_study.workarea import DEFAULT_OUT, default_work

LOCK_NAME = ".ips-study.lock"

try:  # POSIX; on Windows the lock is skipped (runs there are single-user desktops)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


class FolderBusy(RuntimeError):
    """Another run holds the lock on an output or work folder."""


def _acquire(folder: Path) -> int | None:
    if fcntl is None:  # pragma: no cover
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise FolderBusy(f"another ips-study run is using {folder} (process {holder}); wait for it"
                             " to finish or give this run other --out/--work folders") from None
        # the holder before us may have removed the file after we opened it: lock the live one
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)


def _release(folder: Path, fd: int | None) -> None:
    if fd is None:  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        os.unlink(folder / LOCK_NAME)  # still holding the lock: nobody else has it
    os.close(fd)


@contextlib.contextmanager
def run_lock(*folders: Path | str) -> Iterator[None]:
    """Hold an exclusive lock on each folder (created if needed) for the ``with`` block.

    Raises :class:`FolderBusy` if another process (or another run in this process) holds
    one of them; locks already taken are released first. The same folder given twice is
    locked once.
    """
    taken: list[tuple[Path, int | None]] = []
    seen = set()
    try:
        for f in folders:
            f = Path(f)
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            taken.append((f, _acquire(f)))
        yield
    finally:
        for f, fd in reversed(taken):
            _release(f, fd)


def locked(run: Callable) -> Callable:
    """Decorate the pipeline's ``run(data, out, ..., work)`` to hold :func:`run_lock` on its
    output and work folders (defaults resolved as ``run`` resolves them)."""
    sig = inspect.signature(run)

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        out = bound.arguments.get("out") or DEFAULT_OUT
        work = bound.arguments.get("work") or default_work()
        with run_lock(Path(out), Path(work)):
            return run(*args, **kwargs)

    return wrapper
