"""Benchmark: person-month panels (issue 4), side by side with a DuckDB range join.

1. Full population: read the 1.5-million-person synthetic registers and stream the
   person-month panel 2008-2019 with every outcome (all residents, every municipality) to
   Parquet in person partitions. Time and peak memory of that process.
2. Side by side on a 150,000-person subset: the same person-month outcomes built by ips_study
   and by a DuckDB range join (the tool a register researcher would otherwise pick); the two
   are checked equal and timed in the same run; the speed ratio is per output row.

Usage::

    .venv/bin/python benchmarks/bench_panel.py [--data DIR] [--persons 1500000] [--subset 150000]

The data directory is generated with ``ips_study.synthetic.write_synthetic`` when missing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTCOMES = ["disability", "work_assessment", "sickness", "unemployment", "social_assistance",
            "qualification", "employed", "workdays"]


def full_run(data: str, out: str, partition: int) -> None:
    """Child process: read registers, stream the month panel; print JSON timings."""
    from ips_study.config import StudyConfig
    from ips_study.panel import write_panel
    from ips_study.registers import read_registers

    t0 = time.perf_counter()
    rs = read_registers(data, quarantine_dir=Path(out).parent / "quarantine_bench")
    t_read = time.perf_counter() - t0
    cfg = StudyConfig(freq="month")
    t0 = time.perf_counter()
    summary = write_panel(rs, out, cfg, freq="month", scope="all", restrict_to_target=False,
                          partition_size=partition, progress=True)
    rows = summary["rows"]
    t_panel = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(json.dumps({"read_s": t_read, "panel_s": t_panel, "rows": rows, "peak_gb": peak,
                      "persons": len(rs["persons"])}))


DUCK_SQL = """
CREATE OR REPLACE MACRO wd(a, b) AS (
  (datediff('day', a, b) + 1) // 7 * 5
  + coalesce(list_sum(list_transform(range(((datediff('day', a, b) + 1) % 7)::BIGINT),
                            lambda k: CASE WHEN (isodow(a) - 1 + k) % 7 < 5 THEN 1 ELSE 0 END)), 0));
WITH pm AS (
  SELECT r.person_id, m.month_id, r.municipality
  FROM residence r JOIN months m
    ON r.start_date <= m.ms AND (r.end_date IS NULL OR r.end_date >= m.ms)
  JOIN persons p ON p.person_id = r.person_id
  WHERE p.birth_date <= m.ms AND (p.death_date IS NULL OR p.death_date >= m.ms)
), ben AS (
  SELECT b.person_id, m.month_id,
    max((b.benefit = 'disability_pension')::INT) AS disability,
    max((b.benefit = 'work_assessment')::INT) AS work_assessment,
    max((b.benefit = 'sickness')::INT) AS sickness,
    max((b.benefit = 'unemployment')::INT) AS unemployment,
    max((b.benefit = 'social_assistance')::INT) AS social_assistance,
    max((b.benefit = 'qualification')::INT) AS qualification
  FROM benefits b JOIN months m
    ON b.start_date <= m.me AND (b.end_date IS NULL OR b.end_date >= m.ms)
  GROUP BY 1, 2
), emp AS (
  SELECT e.person_id, m.month_id, 1 AS employed,
    least(sum(wd(greatest(e.start_date, m.ms), least(coalesce(e.end_date, m.me), m.me)) * e.fte / 100.0),
          max(m.weekdays)) AS workdays
  FROM employment e JOIN months m
    ON e.start_date <= m.me AND (e.end_date IS NULL OR e.end_date >= m.ms)
  WHERE e.fte > 0 AND e.monthly_wage > 0
  GROUP BY 1, 2
)
SELECT pm.person_id, pm.month_id, pm.municipality,
  coalesce(disability, 0) AS disability, coalesce(work_assessment, 0) AS work_assessment,
  coalesce(sickness, 0) AS sickness, coalesce(unemployment, 0) AS unemployment,
  coalesce(social_assistance, 0) AS social_assistance, coalesce(qualification, 0) AS qualification,
  coalesce(employed, 0) AS employed, coalesce(workdays, 0) AS workdays
FROM pm LEFT JOIN ben USING (person_id, month_id) LEFT JOIN emp USING (person_id, month_id)
"""


def side_by_side(data: str, subset: int) -> dict:
    import duckdb
    import numpy as np
    import pandas as pd

    from ips_study.config import StudyConfig
    from ips_study.outcomes import MonthGrid
    from ips_study.panel import build_panel
    from ips_study.registers import RegisterSet, read_registers

    rs = read_registers(data, quarantine_dir=HERE / "_data" / "quarantine_bench")
    ids = set(rs["persons"]["person_id"].iloc[:subset])
    tables = {k: (v[v["person_id"].isin(ids)] if "person_id" in v else v) for k, v in rs.tables.items()}
    sub = RegisterSet(tables)
    cfg = StudyConfig(freq="month")

    import pyarrow as pa

    from ips_study.panel import iter_panel

    # Arrow path (what write_panel streams): dictionary-encoded text, no Python strings
    t0 = time.perf_counter()
    ours_arrow = pa.concat_tables(list(iter_panel(sub, cfg, freq="month", restrict_to_target=False,
                                                  scope="all", arrow=True)))
    t_ours_arrow = time.perf_counter() - t0
    # pandas path (build_panel): the same rows as a DataFrame with str columns
    t0 = time.perf_counter()
    ours = build_panel(sub, cfg, freq="month", restrict_to_target=False, scope="all")
    t_ours = time.perf_counter() - t0

    grid = MonthGrid.from_range(cfg.window_start, cfg.window_end, 1)
    months = pd.DataFrame({
        "month_id": grid.month_ids,
        "ms": pd.to_datetime(grid.starts),
        "me": pd.to_datetime(grid.starts) + pd.offsets.MonthEnd(0),
        "weekdays": grid.weekdays,
    })
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name in ("persons", "residence", "benefits", "employment"):
        con.register(name, tables[name])
    con.register("months", months)
    t0 = time.perf_counter()
    duck_arrow = con.execute(DUCK_SQL).to_arrow_table()
    t_duck_arrow = time.perf_counter() - t0
    t0 = time.perf_counter()
    duck = con.execute(DUCK_SQL).df()
    t_duck = time.perf_counter() - t0

    # same rows, same values
    ours_k = ours.assign(month_id=(ours["period"].str[:4].astype(int) - 1970) * 12
                         + ours["period"].str[5:].astype(int) - 1)
    a = ours_k.set_index(["person_id", "month_id"])[OUTCOMES].sort_index()
    b = duck.set_index(["person_id", "month_id"])[OUTCOMES].sort_index().astype(float)
    same_rows = a.index.equals(b.index)
    max_diff = float(np.abs(a.to_numpy() - b.reindex(a.index).to_numpy()).max()) if same_rows else float("nan")
    assert ours_arrow.num_rows == len(ours) and duck_arrow.num_rows == len(duck)
    return {"persons": len(ids), "rows": len(ours), "ours_s": t_ours, "duckdb_s": t_duck,
            "ours_arrow_s": t_ours_arrow, "duckdb_arrow_s": t_duck_arrow,
            "duckdb_rows": len(duck), "same_rows": bool(same_rows), "max_abs_diff": max_diff,
            "ratio": t_duck / t_ours, "ratio_arrow": t_duck_arrow / t_ours_arrow}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE / "_data" / "synthetic_1500000"))
    ap.add_argument("--persons", type=int, default=1_500_000)
    ap.add_argument("--subset", type=int, default=150_000)
    ap.add_argument("--partition", type=int, default=5_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--skip-full", action="store_true")
    a = ap.parse_args()
    if a.child:
        full_run(a.data, str(HERE / "_data" / "panel_month.parquet"), a.partition)
        return
    if not Path(a.data, "persons.parquet").exists():
        from ips_study.synthetic import write_synthetic
        print(f"generating {a.persons:,} persons in {a.data} ...")
        write_synthetic(a.data, persons=a.persons, progress=True)
    if not a.skip_full:
        proc = subprocess.run([sys.executable, __file__, "--child", "--data", a.data,
                               "--partition", str(a.partition)], capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        full = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"full population: {full['persons']:,} persons, {full['rows']:,} person-months; "
              f"read+validate {full['read_s']:.1f} s, panel {full['panel_s']:.1f} s "
              f"({full['rows'] / full['panel_s'] / 1e6:.2f} M rows/s), peak RSS {full['peak_gb']:.2f} GB")
    s = side_by_side(a.data, a.subset)
    print(f"subset {s['persons']:,} persons, {s['rows']:,} person-months (DuckDB {s['duckdb_rows']:,}); "
          f"identical rows {s['same_rows']}, max |diff| {s['max_abs_diff']:.2e}")
    print(f"{'tool':<28}{'seconds':>10}{'ns/row':>10}")
    for name, key in (("ips_study -> Arrow", "ours_arrow_s"), ("duckdb -> Arrow", "duckdb_arrow_s"),
                      ("ips_study -> pandas", "ours_s"), ("duckdb -> pandas", "duckdb_s")):
        print(f"{name:<28}{s[key]:>10.2f}{s[key] / s['rows'] * 1e9:>10.0f}")
    print(f"speed ratio DuckDB / ips_study: Arrow {s['ratio_arrow']:.1f}x, pandas {s['ratio']:.1f}x")


if __name__ == "__main__":
    main()
