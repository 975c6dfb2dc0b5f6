"""Fair side-by-side timing for the benchmark scripts (issue 22, item 6).

Every ``bench_*.py`` times its contenders through :func:`compare`:

- the contenders run **alternating** (A B A B A B ...; ``repeats`` times each, at least 3), so a
  slow minute on the shared machine hits both tools, not one;
- every run records **wall, user and system CPU** (``getrusage`` of the process and of its
  waited-for children: threads and worker processes count), and the record keeps min and
  median of each;
- the answers are **checked equal** by a callable returning the largest difference, against
  a stated tolerance; a benchmark whose answers differ says so in its row;
- the peer's **name, version and settings** and the **load average** (before and after)
  are recorded with the date.

:func:`compare` returns a JSON-able record, writes it to ``benchmarks/results/<key>.json``
and prints a Markdown row; ``python benchmarks/_harness.py`` prints the side-by-side table of
every stored record (the one in ``docs/benchmarks.md``).

>>> rec = compare("sum of 1e5 floats", "example", [
...     Contender("ips_study", lambda: sum(range(100_000)), "0", "builtin sum"),
...     Contender("numpy", lambda: int(np.arange(100_000).sum()), np.__version__, "arange")],
...     equal=lambda a, b: abs(a - b), tolerance=0, write=False, echo=False)
>>> rec["equal"], len(rec["contenders"][0]["runs"])
(True, 3)
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Contender:
    """One tool in a comparison.

    ``run()`` does the timed work and returns the answer the equality check compares;
    ``warmup()`` (untimed, once, e.g. a JIT compile) runs before the first timed run.
    """

    name: str
    run: Callable[[], Any]
    version: str
    settings: str = ""
    warmup: Callable[[], Any] | None = None
    runs: list = field(default_factory=list)


@dataclass
class SelfTimed:
    """What ``Contender.run`` returns when the work ran elsewhere and timed itself (a peer
    in its own virtual environment, in a child process that loads the data first): the
    answer and its own ``{"wall", "user", "sys"}``, which replace the harness's clock."""

    answer: Any
    usage: dict


def self_time(fn: Callable[[], Any]) -> dict:
    """In a child process: run ``fn`` and return ``{"answer": ..., "usage": ...}`` for JSON."""
    out, usage = timed(fn)
    return {"answer": out, "usage": usage}


def _usage() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + kids.ru_utime, me.ru_stime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, dict]:
    """Run ``fn`` once; its answer and ``{"wall", "user", "sys"}`` seconds."""
    gc.collect()
    u0, s0 = _usage()
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    u1, s1 = _usage()
    return out, {"wall": wall, "user": u1 - u0, "sys": s1 - s0}


def _summary(runs: list[dict]) -> dict:
    cpu = [r["user"] + r["sys"] for r in runs]
    wall = [r["wall"] for r in runs]
    return {"wall_min": min(wall), "wall_median": statistics.median(wall),
            "cpu_min": min(cpu), "cpu_median": statistics.median(cpu),
            "user_median": statistics.median(r["user"] for r in runs),
            "sys_median": statistics.median(r["sys"] for r in runs)}


def max_abs_diff(a, b) -> float:
    """Largest absolute difference of two arrays (shapes must agree)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b), initial=0.0))


def max_rel_diff(a, b) -> float:
    """Largest relative difference ``|a - b| / max(|b|, tiny)``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), initial=0.0))


def compare(goal: str, key: str, contenders: list[Contender], *, equal: Callable[[Any, Any], float],
            tolerance: float, repeats: int = 3, target: float | None = None,
            notes: str = "", write: bool = True, echo: bool = True) -> dict:
    """Time ``contenders`` alternating and check their answers against the first one's.

    Parameters
    ----------
    goal : str
        What is measured (the row's first cell), e.g. ``"Cox TV, 2M episodes"``.
    key : str
        File name of the record under ``benchmarks/results/``.
    contenders : list of Contender
        ips_study first; every other one is a peer, compared with it.
    equal : callable
        ``equal(ours, peers) -> float``: the largest difference between two answers.
    tolerance : float
        The answers count as equal when every peer's difference is at most this.
    repeats : int
        Timed runs per contender (at least 3), in the order A B A B ...
    target : float, optional
        The speed-up goal (peer median wall / ours), shown as met or not.
    notes : str
        Anything the reader needs (data size, threads, how the peer was called).

    Returns
    -------
    dict
        The record written to ``benchmarks/results/<key>.json``.
    """
    if repeats < 3:
        raise ValueError(f"repeats must be at least 3 for a fair comparison, got {repeats}")
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    for c in contenders:
        c.runs = []
        if c.warmup is not None:
            c.warmup()
    answers: dict[str, Any] = {}
    for _ in range(repeats):
        for c in contenders:
            out, usage = timed(c.run)
            if isinstance(out, SelfTimed):
                out, usage = out.answer, out.usage
            c.runs.append(usage)
            if c.name not in answers:       # keep the first answer only (they can be large)
                answers[c.name] = out
            del out
            if echo:
                print(f"  {c.name:<28} wall {usage['wall']:8.3f} s  user {usage['user']:8.3f}"
                      f"  sys {usage['sys']:7.3f}  load {os.getloadavg()[0]:.2f}", flush=True)
    ours = contenders[0]
    diffs = {c.name: equal(answers[ours.name], answers[c.name]) for c in contenders[1:]}
    answers.clear()
    rec = {
        "goal": goal, "key": key, "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, numpy {np.__version__}",
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "repeats": repeats, "tolerance": tolerance, "differences": diffs,
        "equal": all(d <= tolerance for d in diffs.values()), "target": target, "notes": notes,
        "contenders": [{"name": c.name, "version": c.version, "settings": c.settings,
                        "runs": c.runs, **_summary(c.runs)} for c in contenders],
    }
    if len(contenders) > 1:
        o = rec["contenders"][0]
        rec["ratios"] = {p["name"]: {"wall_median": p["wall_median"] / o["wall_median"],
                                     "wall_min": p["wall_min"] / o["wall_min"],
                                     "cpu_median": p["cpu_median"] / o["cpu_median"]}
                         for p in rec["contenders"][1:]}
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{key}.json").write_text(json.dumps(rec, indent=1) + "\n")
    if echo:
        print(HEADER)
        print(markdown_rows(rec))
    return rec


HEADER = ("| goal | ips_study: median wall (min), CPU user+sys | peer, version, settings: median "
          "wall (min), CPU | ratio: wall median (min), CPU | target | equal (tolerance) | load "
          "before → after | date | run |\n|---|---|---|---|---|---|---|---|---|")


def _fmt(c: dict) -> str:
    return f"{c['wall_median']:.3g} s ({c['wall_min']:.3g}), {c['cpu_median']:.3g} s"


def markdown_rows(rec: dict) -> str:
    """One Markdown row per peer of a record (a record without peers gives one row)."""
    o, peers = rec["contenders"][0], rec["contenders"][1:]
    load = f"{rec['load_before'][0]:.1f} → {rec['load_after'][0]:.1f}"
    rows = []
    for p in peers or [None]:
        if p is None:
            peer, ratio, met, eq = "—", "—", "—", "—"
        else:
            r = rec["ratios"][p["name"]]
            # a pipe in the settings (a fixest formula) would split the Markdown cell
            settings = str(p["settings"]).replace("|", "\\|")
            peer = f"{p['name']} {p['version']} ({settings}): {_fmt(p)}"
            ratio = f"**{r['wall_median']:.1f}×** ({r['wall_min']:.1f}×), CPU {r['cpu_median']:.1f}×"
            t = rec.get("target")
            met = "—" if t is None else f"≥ {t:g}×: {'met' if r['wall_median'] >= t else 'NOT met'}"
            d = rec["differences"][p["name"]]
            eq = f"{'yes' if d <= rec['tolerance'] else 'NO'}: {d:.1e} (≤ {rec['tolerance']:g})"
        rows.append(f"| {rec['goal']} | {_fmt(o)} | {peer} | {ratio} | {met} | {eq} | {load} | "
                    f"{rec['date']} | `{rec['command']}`, {rec['repeats']} runs each, alternating |")
    return "\n".join(rows)


def table(paths=None) -> str:
    """The side-by-side table of stored records (all of ``benchmarks/results/`` by default)."""
    paths = sorted(RESULTS.glob("*.json")) if paths is None else [Path(p) for p in paths]
    recs = [json.loads(Path(p).read_text()) for p in paths]
    # scaling and bandwidth records hold no contenders; their rows are written by their scripts
    return "\n".join([HEADER] + [markdown_rows(r) for r in recs if "contenders" in r])


if __name__ == "__main__":
    print(table(sys.argv[1:] or None))
