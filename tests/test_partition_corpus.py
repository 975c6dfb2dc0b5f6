"""Every bad-input corpus case read in person partitions gives what the whole read gives (issue 20).

``ips-study panel --partitions K`` reads a delivery through :mod:`ips_study.registers.partition`
(a streaming split, then one validation per partition) instead of
:func:`~ips_study.registers.validate_directory`. For each case of ``tests/corpus`` and two
partition counts, the two reads must agree exactly:

* a readable delivery: the same report -- row accounting per table, quarantine reasons with
  their example lines, notes, file names, source -- and the same quarantined rows (table,
  line, reason and every delivered column), the partitions' quarantine files taken together;
* a fatal delivery: the same report too -- every fatal problem the whole read reports
  (file, column and line), in the same order, and the row accounting of the tables it could
  read (``several_fatal_problems`` has three at once);
* the quarantine folder holds what the whole read writes, byte for byte: one file per table,
  the same rows, columns and reasons in the same order (no file per partition).

Seven partitions put p01, p03 and p04 each alone in a partition (a column unreadable for one
person only is then seen alone), p02 and p05 together in the first (with the rows and notes
of the delivery as a whole), and leave three partitions empty. One partition count keeps the
test at about a third of a CPU second per case.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ips_study.registers import RegisterError, validate_directory
from ips_study.registers.partition import combine_reports, iter_partitions, split_by_person

from .test_registers_corpus import CASES, _delivery

PARTS = (7,)


def read_partitioned(data, tmp, k):
    """(combined report or None, fatal errors) of reading ``data`` in ``k`` partitions."""
    parts = split_by_person(data, tmp / "parts", k)  # a fatal delivery is reported at the end
    reports = []
    try:
        for rs in iter_partitions(parts, quarantine_dir=tmp / "q"):
            reports.append(rs.report)
    except RegisterError as exc:
        report = exc.report if exc.report is not None else combine_reports(reports)
        return report, list(report.errors)
    return combine_reports(reports), []


def quarantined_rows(files) -> pd.DataFrame:
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False).assign(table=f.stem) for f in files]
    if not frames:
        return pd.DataFrame()
    q = pd.concat(frames, ignore_index=True).fillna("")  # raw_text: malformed rows only
    q["line"] = q["line"].astype(int)
    return q.sort_values(["table", "line", "reason"], kind="stable").reset_index(drop=True)


def _comparable(report) -> dict:
    d = report.to_dict()
    d.pop("quarantine_dir")
    return d


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}


@pytest.mark.parametrize("case", CASES)
def test_corpus_case_reads_the_same_in_partitions(case, tmp_path):
    data, _ = _delivery(case, tmp_path)
    whole = validate_directory(data, quarantine_dir=tmp_path / "q0")
    want = quarantined_rows(sorted((tmp_path / "q0").glob("*.csv")))
    for k in PARTS:
        report, errors = read_partitioned(data, tmp_path / f"k{k}", k)
        assert errors == whole.errors, k
        assert _comparable(report) == _comparable(whole), k
        assert _files(tmp_path / f"k{k}" / "q") == _files(tmp_path / "q0"), k
        if whole.fatal:
            continue
        for name, t in report.tables.items():
            assert t.kept + t.merged + t.n_quarantined == t.read, (k, name)
        got = quarantined_rows(sorted((tmp_path / f"k{k}" / "q").glob("*.csv")))
        pd.testing.assert_frame_equal(got, want, obj=f"quarantine, {k} partitions")
