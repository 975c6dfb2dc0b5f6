"""The reviewers' analysis: one strict sequence from registers to every figure and table.

``python -m ips_study.reproduce`` / ``ips-study reproduce [--data DIR] [--out DIR] [--study FILE]``.

The run is driven by one list, :data:`ips_study.reproduce.outputs.OUTPUTS`: each output names its file
stem, the step it belongs to and the function that makes it. Steps run in the order of
the study's data flow: registers -> target group -> panels -> DiD and event study ->
synthetic control and synthetic DiD -> staggered adoption -> survival -> programme metrics
-> economics and power -> disclosure check.

Resuming and caching: every output records a *key* (hash of the input files, the study
configuration and the package source) and the hash of what it wrote in a ledger in the
work area. A rerun skips an output whose key is unchanged and whose files
still hash as recorded; anything missing, changed or corrupted is rebuilt. Expensive
intermediates (panels, which hold person ids) are cached as Parquet in a confidential work
area (``--work``, default :func:`default_work`), never in the output folder, with their hash
checked on load. Files are written to a temporary name and renamed, so an interrupted run never
leaves a half-written output, and a rerun gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from ips_study import progress as _progress
from ips_study.workarea import DEFAULT_OUT, default_work

from .lock import locked

#: the installed package's source (hashed into every output's key)
PACKAGE = Path(__file__).resolve().parents[1]
MANIFEST = "run_manifest.json"


def default_data() -> Path:
    """The embedded synthetic registers that ship with the package."""
    from ips_study.datasets import registers_dir

    return registers_dir()


#: environment variable giving ``run``'s default number of person partitions
PARTITIONS_ENV = "IPS_STUDY_PARTITIONS"


def default_partitions() -> int | None:
    """Person partitions when none are given: ``$IPS_STUDY_PARTITIONS`` if set (a whole number
    of at least 1; empty or 0 means in memory), else ``None`` (registers and panels in memory).
    """
    raw = os.environ.get(PARTITIONS_ENV, "").strip()
    if raw in ("", "0"):
        return None
    if not raw.isdigit():
        raise ValueError(f"{PARTITIONS_ENV} must be a whole number of partitions, got {raw!r}")
    return int(raw)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(data: Path) -> dict[str, str]:
    """Hashes of the register files (the quarantine folder and caches excluded)."""
    out = {}
    for p in sorted(data.iterdir()):
        if p.is_file() and p.suffix.lower() in (".csv", ".parquet", ".sas7bdat", ".dta", ".json", ".toml"):
            out[p.name] = sha256_file(p)
    return out


def source_hash() -> str:
    """Hash of the package source (the analysis included): code changes invalidate cached outputs."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        h.update(str(p.relative_to(PACKAGE)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("ips-study", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class Ledger:
    """What each output was built from and what it wrote (``outputs-<tag>.json`` in the work area)."""

    def __init__(self, work: Path, out: Path):
        tag = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:12]
        self.path = work / f"outputs-{tag}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.entries: dict[str, Any] = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self.entries = {}

    def up_to_date(self, name: str, key: str, out: Path) -> bool:
        e = self.entries.get(name)
        if not e or e.get("key") != key:
            return False
        for fname, digest in e["files"].items():
            p = out / fname
            if not p.exists() or sha256_file(p) != digest:
                return False
        return True

    def record(self, name: str, key: str, files: list[Path], out: Path) -> None:
        self.entries[name] = {"key": key, "files": {str(p.relative_to(out)): sha256_file(p) for p in files}}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=2, sort_keys=True))
        os.replace(tmp, self.path)


@locked  # one run per output/work folder: a second one stops with a clear FolderBusy
def run(data=None, out=None, study=None, quiet: bool = False, only: list[str] | None = None,
        work=None, lang: str = "en", workers: int = 1, progress: bool | None = None,
        partitions: int | None = None) -> int:
    """Run every output of :data:`ips_study.reproduce.outputs.OUTPUTS`; return a process exit code.

    ``workers`` > 1 spreads the simulation outputs (power) over a local Dask cluster of that many
    processes, started only if such an output is rebuilt; the outputs are identical.
    ``progress``: each output's name and running time, and the loops inside it (panel
    partitions, simulation replications, placebo fits), on stderr; default: the run's setting
    (:mod:`ips_study.progress`), off with ``quiet``. The outputs do not depend on it.
    ``partitions``: read the registers and build the panels in that many person partitions
    (:mod:`ips_study.reproduce.partitioned`; default :func:`default_partitions`); the outputs
    are byte-identical to the in-memory run, so it is not part of the outputs' key.
    """
    from ips_study.config import StudyConfig
    from ips_study.disclosure import check_outputs, searchable_ids

    from .context import Context
    from .outputs import OUTPUTS

    embedded = not data
    data = Path(data) if data else default_data()
    out = Path(out) if out else DEFAULT_OUT
    work = Path(work) if work else default_work()
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    config = StudyConfig.load(study)
    inputs = input_hashes(data)
    key = hashlib.sha256(json.dumps({"inputs": inputs, "config": config.to_dict(), "lang": lang,
                                     "source": source_hash()}, sort_keys=True).encode()).hexdigest()
    partitions = default_partitions() if partitions is None else partitions
    if partitions is not None and partitions < 0:
        raise ValueError(f"--partitions must be a whole number of at least 1 (0: in memory), got {partitions}")
    partitions = partitions or None  # 0: in memory, as for the environment variable
    ctx = Context(data=data, out=out, work=work, config=config, key=key, quiet=quiet, lang=lang,
                  workers=workers, partitions=partitions)
    ledger = Ledger(work, out)
    timings: dict[str, float] = {}
    skipped: list[str] = []
    todo = [o for o in OUTPUTS if only is None or o.name in only or o.step in only]
    show = _progress.enabled(progress) and not (quiet and progress is None)
    with _progress.forced(show):  # the loops inside the outputs follow the run's setting
        for o in _progress.bar(todo, "reproduce", unit="output", leave=True):
            if not o.applies(ctx):
                continue
            t0 = time.perf_counter()
            if ledger.up_to_date(o.name, key, out):
                skipped.append(o.name)
                continue
            with _progress.step(f"{o.step}: {o.name}"):
                files = o.build(ctx)
            ledger.record(o.name, key, files, out)
            timings[o.name] = round(time.perf_counter() - t0, 2)
    ctx.close()  # an exception above ends the process, and the cluster with it

    # the delivery's ids (those that can be told from numbers) are looked for in every output
    ids = searchable_ids(ctx.loaded_person_ids())
    check = check_outputs(out, min_count=config.min_count, ids=ids)
    manifest = {
        "study": config.to_dict(),
        "seed": config.seed,
        "data": "embedded synthetic registers" if embedded else "external",
        "input_hashes": inputs,
        "versions": _versions(),
        "machine": {"system": platform.system(), "machine": platform.machine(),
                    "cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "outputs": {n: e["files"] for n, e in sorted(ledger.entries.items())
                    if any(o.name == n for o in OUTPUTS)},
        "timings_seconds": timings,
        "skipped_up_to_date": skipped,
        "disclosure_check": {"files": len(check.files), "violations": len(check.violations),
                             "known_ids_looked_for": len(ids)},
        # how the panels were built (in memory, or in person partitions); outputs are the same
        "partitions": partitions,
        # designs/outputs that could not be fitted on these data (written with the reason)
        "not_fitted": dict(sorted(ctx._memo.get("not_fitted", {}).items())),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if not quiet:
        for what, reason in manifest["not_fitted"].items():
            print(f"{what}: {reason}")
        print(check.to_text())
        print(f"outputs in {out}; manifest {out / MANIFEST}")
    return 0 if check.ok else 1
