"""Progress on stderr for the steps that take more than a few seconds.

One setting per process. A library call shows no progress unless asked (``progress=True``
where a function takes it); the command line turns it on for the whole run with
``--progress``, off with ``--no-progress``, and by default only when stderr is a terminal, so
logs, pipes and CI stay clean. Progress goes to stderr only and never into stdout or an
output file: the outputs are the same with and without it.

Two shapes:

* :func:`bar` counts a loop (partitions, replications, placebo units);
* :func:`step` names a step that has no loop to count (one model fit, a register read) and
  shows its running time, refreshed every second.

Example
-------
>>> from ips_study import progress
>>> with progress.forced(False):
...     with progress.step("fitting did"):
...         total = sum(progress.bar(range(4), "placebo fits"))
>>> total
6
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

#: the run's setting: None until the command line (or :func:`forced`) sets it; None is off
_ON: bool | None = None


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (the command line's default)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def configure(on: bool | None) -> bool:
    """Set the run's progress: True/False as given, None for "when stderr is a terminal"."""
    global _ON
    _ON = stderr_is_terminal() if on is None else bool(on)
    return _ON


def enabled(flag: bool | None = None) -> bool:
    """``flag`` when given, else the run's setting (off unless the command line set it)."""
    return bool(_ON) if flag is None else bool(flag)


@contextlib.contextmanager
def forced(on: bool) -> Iterator[None]:
    """Progress on or off inside the block, restoring the setting afterwards."""
    global _ON
    before, _ON = _ON, bool(on)
    try:
        yield
    finally:
        _ON = before


def bar(iterable: Iterable[T], desc: str, *, total: int | None = None, unit: str = "it",
        enabled_: bool | None = None, leave: bool = False) -> Iterable[T]:
    """``iterable`` counted on stderr as ``desc`` when progress is on, else unchanged.

    ``leave=False`` (default) clears the bar when the loop ends, so loops inside a step do
    not pile up; ``enabled_`` overrides the run's setting (a function's own ``progress=``).
    """
    if not enabled(enabled_):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, file=sys.stderr,
                dynamic_ncols=True)


@contextlib.contextmanager
def step(name: str, *, enabled_: bool | None = None) -> Iterator[None]:
    """Show ``name`` and its running time on stderr while the block runs (when progress is on).

    A thread refreshes the clock every second, because a single long call (a hazard fit of a
    minute) gives a counting bar nothing to count; the step's line stays with its total time.
    """
    if not enabled(enabled_):
        yield
        return
    from tqdm import tqdm

    line = tqdm(total=None, desc=name, bar_format="{desc}: {elapsed}", file=sys.stderr,
                dynamic_ncols=True)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            line.refresh()

    clock = threading.Thread(target=tick, name="ips-study-progress", daemon=True)
    clock.start()
    try:
        yield
    finally:
        stop.set()
        clock.join()
        line.close()
