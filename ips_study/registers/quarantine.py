"""Quarantine files of a partitioned read, written as the whole read writes them.

Each partition of :mod:`.partition` writes its quarantined rows under ``<quarantine
folder>/.partitions/part-NNNN/``; :func:`merge_quarantine` then writes one file per table
into the quarantine folder, byte for byte the whole read's file (the same columns in the same
order, rows in line order), and removes the partitions' files. The merge streams: it holds
one row per partition.
"""

from __future__ import annotations

import csv
import heapq
import os
import shutil
from pathlib import Path

from .validate import _ORDER, _README

#: where the partitions' quarantine files wait to be merged (inside the quarantine folder)
STAGE = ".partitions"


def merge_quarantine(qdir: Path, parts: list[Path], skip=frozenset()) -> list[Path]:
    """One quarantine file per table from the partitions' files, as the whole read writes it:
    the same columns in the same order, rows in line order (each partition's file is in line
    order; the merge streams them, holding one row per partition). ``skip``: tables the whole
    read reports fatal (it writes no quarantine file for them)."""
    stage = Path(qdir) / STAGE
    by_table: dict[str, list[Path]] = {}
    for part in parts:
        for f in sorted((stage / Path(part).name).glob("*.csv")):
            by_table.setdefault(f.stem, []).append(f)
    written = []
    for name in _ORDER:
        target = Path(qdir) / f"{name}.csv"
        if name in skip:
            continue
        if name not in by_table:
            target.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
            continue
        written.append(_merge_csv(by_table[name], target))
    if written:
        (Path(qdir) / "README_CONFIDENTIAL.txt").write_text(_README, encoding="utf-8")
    shutil.rmtree(stage, ignore_errors=True)
    return written


def _merge_csv(files: list[Path], target: Path) -> Path:
    handles = [open(f, newline="", encoding="utf-8") for f in files]
    try:
        readers = [csv.reader(h) for h in handles]
        headers = [next(r) for r in readers]
        # the whole read's columns: line, reason, the table's, then raw_text (malformed rows)
        names: list[str] = []
        for h in headers:
            names += [c for c in h if c not in names and c != "raw_text"]
        if any("raw_text" in h for h in headers):
            names.append("raw_text")

        def rows(k):
            where = [headers[k].index(c) if c in headers[k] else None for c in names]
            for row in readers[k]:
                yield int(row[0]), k, [row[i] if i is not None else "" for i in where]

        # written aside and renamed: an interrupted merge leaves no half file as the table's
        part = target.with_name(target.name + ".part")
        try:
            with open(part, "w", newline="", encoding="utf-8") as out:
                w = csv.writer(out, lineterminator="\n")
                w.writerow(names)
                for _, _, row in heapq.merge(*(rows(k) for k in range(len(readers)))):
                    w.writerow(row)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
    finally:
        for h in handles:
            h.close()
    return target
