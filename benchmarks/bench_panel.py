"""Benchmark: person-month panels (issue 4), side by side with DuckDB.

1. Full population: read the 1.5-million-person synthetic registers and stream the
   person-month panel 2008-2019 with every outcome (all residents, every municipality) to
   Parquet in person partitions. Time and peak memory of that process.
2. Side by side on a 150,000-person subset: the whole panel (all 24 columns: keys, treatment
   columns, age, sex and every outcome including ``ltbd``) built by ips_study and by one
   DuckDB query (the tool a register researcher would otherwise pick), timed in the same run
   from the same in-memory registers (ips_study: the validated DataFrames; DuckDB: the same
   rows in native tables, loading not timed) to an in-memory Arrow table (and a pandas
   DataFrame) of the same rows; every column is compared. Both sides use 2 threads; the
   fastest of ``--repeats`` runs counts and the speed ratio is per output row. DuckDB's
   query form is its fastest of those tried (``--forms`` times them): spells unnested to
   months (generate_series) rather than a range join with the months table, ``ltbd`` by a
   person-year aggregate rather than a window.

Usage::

    .venv/bin/python benchmarks/bench_panel.py [--data DIR] [--subset 150000] [--workers 2]
    .venv/bin/python benchmarks/bench_panel.py --skip-full --forms   # DuckDB query forms

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
def full_run(data: str, out: str, partition: int, workers: int = 1) -> None:
    """Child process: read registers, stream the month panel; print JSON timings."""
    from ips_study.config import StudyConfig
    from ips_study.panel import write_panel
    from ips_study.registers import read_registers

    t0 = time.perf_counter()
    rs = read_registers(data, quarantine_dir=Path(out).parent / "quarantine_bench")
    t_read = time.perf_counter() - t0
    cfg = StudyConfig(freq="month")
    t0, c0, r0 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    summary = write_panel(rs, out, cfg, freq="month", scope="all", restrict_to_target=False,
                          partition_size=partition, progress=True, workers=workers)
    rows = summary["rows"]
    t_panel, c_panel = time.perf_counter() - t0, time.process_time() - c0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    peak = r1.ru_maxrss / 1024 ** 2
    print(json.dumps({"read_s": t_read, "panel_s": t_panel, "panel_cpu_s": c_panel, "rows": rows,
                      "panel_user_s": r1.ru_utime - r0.ru_utime, "panel_sys_s": r1.ru_stime - r0.ru_stime,
                      "peak_gb": peak, "persons": len(rs["persons"])}))


DUCK_LOAD = """
CREATE TABLE persons AS SELECT person_id, birth_date::DATE AS birth_date, sex, death_date::DATE AS death_date FROM persons_df;
CREATE TABLE residence AS SELECT person_id, municipality, start_date::DATE AS start_date, end_date::DATE AS end_date FROM residence_df;
CREATE TABLE benefits AS SELECT person_id, benefit, start_date::DATE AS start_date, end_date::DATE AS end_date FROM benefits_df;
CREATE TABLE employment AS SELECT person_id, start_date::DATE AS start_date, end_date::DATE AS end_date, fte, monthly_wage FROM employment_df;
CREATE TABLE municipalities AS SELECT municipality, ips_start::DATE AS ips_start FROM municipalities_df;
CREATE TABLE months AS SELECT month_id, ms::DATE AS ms, me::DATE AS me, yr, period, weekdays FROM months_df;
-- weekdays before day d, counted from the Monday 1970-01-05: 5 a whole week + the rest up to 5
CREATE MACRO wdb(d) AS (5 * ((d - DATE '1970-01-05') // 7) + least((d - DATE '1970-01-05') % 7, 5));
CREATE MACRO mid(d) AS ((year(d) - 1970) * 12 + month(d) - 1);
"""


def duck_sql(cfg, form: str = "range", ltbd: str = "window") -> str:
    """The whole panel (every column of ``build_panel``, all residents, every municipality)
    as one DuckDB query. ``form``: ``"range"`` joins spells to the months table on their date
    range (a range join), ``"series"`` unnests each spell's months (generate_series)."""
    from ips_study.registers.schema import HEALTH_BENEFITS

    ws, we = cfg.window_start.strftime("%Y-%m-01"), cfg.window_end.strftime("%Y-%m-01")
    ips = cfg.ips_start.strftime("%Y-%m-%d")
    health = ", ".join(f"'{b}'" for b in HEALTH_BENEFITS)
    if form == "range":
        rm = ("SELECT r.person_id, r.municipality, r.sex, r.birth_date, m.month_id FROM res r JOIN months m "
              "ON m.ms BETWEEN r.start_date AND r.end_date")
        bm = ("SELECT b.person_id, b.benefit, m.month_id FROM benefits b JOIN months m "
              "ON b.start_date <= m.me AND coalesce(b.end_date, DATE '9999-12-31') >= m.ms")
        em = ("SELECT e.person_id, e.start_date, e.end_date, e.fte, m.month_id FROM employment e JOIN months m "
              "ON e.start_date <= m.me AND coalesce(e.end_date, DATE '9999-12-31') >= m.ms "
              "WHERE e.fte > 0 AND e.monthly_wage > 0")
    elif form == "series":
        def months_of(first):
            return (f"unnest(range(greatest({first}, mid(DATE '{ws}')), "
                    f"least(mid(coalesce(end_date, DATE '{we}')), mid(DATE '{we}')) + 1)) AS month_id")
        # residence holds a month when the spell covers its first day
        rm = f"SELECT person_id, municipality, sex, birth_date, {months_of('mid(start_date) + (day(start_date) > 1)::INT')} FROM res"
        bm = f"SELECT person_id, benefit, {months_of('mid(start_date)')} FROM benefits"
        em = (f"SELECT person_id, start_date, end_date, fte, {months_of('mid(start_date)')} "
              "FROM employment WHERE fte > 0 AND monthly_wage > 0")
    else:
        raise ValueError(form)
    if ltbd == "window":
        ltbd_expr = f"(count(ben.health OR NULL) OVER (PARTITION BY pm.person_id, pm.yr) >= {cfg.ltbd_months})::DOUBLE AS ltbd"
        ltbd_join, ltbd_cte = "", ""
    else:
        ltbd_expr = "(ly.person_id IS NOT NULL)::DOUBLE AS ltbd"
        ltbd_join = " LEFT JOIN ly USING (person_id, yr)"
        ltbd_cte = f""", ly AS (
  SELECT pm.person_id, pm.yr FROM pm JOIN ben USING (person_id, month_id) WHERE ben.health
  GROUP BY ALL HAVING count(*) >= {cfg.ltbd_months}
)"""
    return f"""
WITH res AS (
  -- residence spells cut to the person's lifetime (alive on a month's first day); a
  -- later-starting spell takes over from an earlier one (exact unless spells nest)
  SELECT r.person_id, r.municipality, p.sex, p.birth_date,
         greatest(r.start_date, p.birth_date) AS start_date,
         least(coalesce(r.end_date, DATE '9999-12-31'), coalesce(p.death_date, DATE '9999-12-31'),
               coalesce(lead(r.start_date) OVER (PARTITION BY r.person_id ORDER BY r.start_date) - 1,
                        DATE '9999-12-31')) AS end_date
  FROM residence r JOIN persons p USING (person_id)
), rm AS ({rm}
), pm AS (
  SELECT rm.person_id, rm.municipality, rm.month_id, m.ms, m.yr, m.period, rm.sex, mu.ips_start,
    (12 * (year(m.ms) - year(rm.birth_date)) + month(m.ms) - month(rm.birth_date)
     - (day(rm.birth_date) > 1)::INT) // 12 AS age
  FROM rm JOIN months m USING (month_id) JOIN municipalities mu USING (municipality)
), ben AS (
  SELECT person_id, month_id,
    bool_or(benefit = 'disability_pension') AS disability,
    bool_or(benefit = 'work_assessment') AS work_assessment,
    bool_or(benefit = 'sickness') AS sickness,
    bool_or(benefit = 'unemployment') AS unemployment,
    bool_or(benefit = 'social_assistance') AS social_assistance,
    bool_or(benefit = 'qualification') AS qualification,
    bool_or(benefit IN ({health})) AS health
  FROM ({bm}) GROUP BY ALL
), emp AS (
  SELECT e.person_id, e.month_id,
    least(round(sum((wdb(least(coalesce(e.end_date, m.me), m.me) + 1) - wdb(greatest(e.start_date, m.ms)))
                    * e.fte / 100.0), 10), any_value(m.weekdays)) AS workdays
  FROM ({em}) e JOIN months m USING (month_id) GROUP BY ALL
){ltbd_cte}
SELECT pm.person_id, pm.municipality, pm.period, pm.ms AS period_start,
  (pm.municipality = '{cfg.treated_municipality}')::TINYINT AS treated,
  (pm.ms >= DATE '{ips}')::TINYINT AS post, pm.ips_start,
  coalesce(pm.ips_start <= pm.ms, false)::TINYINT AS exposed,
  pm.month_id - mid(DATE '{ips}') AS event_time, pm.age, pm.sex, 1 AS months_observed,
  coalesce(ben.disability, false)::DOUBLE AS disability,
  coalesce(ben.work_assessment, false)::DOUBLE AS work_assessment,
  coalesce(ben.sickness, false)::DOUBLE AS sickness,
  coalesce(ben.unemployment, false)::DOUBLE AS unemployment,
  coalesce(ben.social_assistance, false)::DOUBLE AS social_assistance,
  coalesce(ben.qualification, false)::DOUBLE AS qualification,
  coalesce(ben.health, false)::DOUBLE AS health_benefit,
  (ben.person_id IS NOT NULL)::DOUBLE AS any_benefit,
  (emp.person_id IS NOT NULL)::DOUBLE AS employed,
  coalesce(emp.workdays, 0)::DOUBLE AS workdays,
  coalesce(ben.health, false)::DOUBLE AS benefit_months,
  {ltbd_expr}
FROM pm LEFT JOIN ben USING (person_id, month_id) LEFT JOIN emp USING (person_id, month_id){ltbd_join}
"""


def duck_connect(tables: dict, cfg):
    """DuckDB (2 threads) with the registers loaded as native tables (dates as DATE) and a
    months table: the form a register researcher would query (loading is not timed)."""
    import duckdb
    import numpy as np
    import pandas as pd

    from ips_study.outcomes import MonthGrid

    grid = MonthGrid.from_range(cfg.window_start, cfg.window_end, 1)
    mids = grid.month_ids
    months = pd.DataFrame({"month_id": mids, "ms": grid.starts,
                           "me": (mids + 1).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D"),
                           "yr": mids // 12 + 1970,
                           "period": [f"{m // 12 + 1970}-{m % 12 + 1:02d}" for m in mids],
                           "weekdays": grid.weekdays})
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name in ("persons", "residence", "benefits", "employment", "municipalities"):
        con.register(f"{name}_df", tables[name])
    con.register("months_df", months)
    con.execute(DUCK_LOAD)
    for name in ("persons", "residence", "benefits", "employment", "municipalities", "months"):
        con.unregister(f"{name}_df")
    return con


COMPARE_COLS = ["municipality", "period_start", "treated", "post", "ips_start", "exposed", "event_time",
                "age", "sex", "months_observed"]


def compare(con, ours, duck) -> dict:
    """Row sets and every column compared by DuckDB (full outer join on person and period)."""
    from ips_study.panel import OUTCOMES

    con.register("ours_t", ours)
    con.register("duck_t", duck)
    cols = COMPARE_COLS + OUTCOMES
    diffs = ", ".join(f"count(*) FILTER (WHERE o.{c}{'::DATE' if c in ('period_start', 'ips_start') else ''} "
                      f"IS DISTINCT FROM d.{c}) AS {c}" for c in cols)
    maxdiff = ", ".join(f"max(abs(o.{c} - d.{c}))" for c in OUTCOMES)
    row = con.execute(f"""
        SELECT count(*) FILTER (WHERE o.person_id IS NULL OR d.person_id IS NULL) AS unmatched,
               count(*) AS rows, {diffs}, greatest({maxdiff}) AS max_abs_diff
        FROM ours_t o FULL OUTER JOIN duck_t d
          ON o.person_id::VARCHAR = d.person_id AND o.period::VARCHAR = d.period""").fetchall()[0]
    con.unregister("ours_t")
    con.unregister("duck_t")
    out = dict(zip(["unmatched", "rows", *cols, "max_abs_diff"], row))
    out["columns_differing"] = [c for c in cols if out[c]]
    return out


def _subset(data: str, subset: int):
    from ips_study.registers import read_registers

    rs = read_registers(data, quarantine_dir=HERE / "_data" / "quarantine_bench")
    ids = set(rs["persons"]["person_id"].iloc[:subset])
    return {k: (v[v["person_id"].isin(ids)] if "person_id" in v else v) for k, v in rs.tables.items()}


def _best(fn, repeats: int):
    """Fastest of ``repeats`` runs: (wall seconds, CPU seconds of all threads), last result."""
    best, out = (float("inf"), float("inf")), None
    for _ in range(repeats):
        out = None  # free the previous result before the next run
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best, out


def side_by_side(data: str, subset: int, *, workers: int = 2, repeats: int = 2,
                 form: str = "series", ltbd: str = "group", pandas_too: bool = True) -> dict:
    """ips_study and DuckDB build the same panel from the same in-memory registers.

    Input: the validated registers of the first ``subset`` persons, in memory (ips_study:
    the typed DataFrames; DuckDB: the same rows loaded into native tables with DATE columns,
    loading not timed). Output: an in-memory table of the same rows and columns - a
    ``pyarrow.Table`` (ips_study: dictionary-encoded text; DuckDB: its Arrow export), and a
    pandas DataFrame with str columns. Both use 2 threads.
    """
    import pyarrow as pa

    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel, iter_panel

    tables = _subset(data, subset)
    cfg = StudyConfig(freq="month")
    kw = dict(freq="month", restrict_to_target=False, scope="all", workers=workers)
    t_ours_arrow, ours_arrow = _best(lambda: pa.concat_tables(list(iter_panel(tables, cfg, arrow=True, **kw))), repeats)
    con = duck_connect(tables, cfg)
    sql = duck_sql(cfg, form, ltbd)
    t_duck_arrow, duck_arrow = _best(lambda: con.sql(sql).to_arrow_table(), repeats)
    check = compare(con, ours_arrow, duck_arrow)
    out = {"persons": subset, "rows": ours_arrow.num_rows, "duckdb_rows": duck_arrow.num_rows,
           "ours_arrow_s": t_ours_arrow, "duckdb_arrow_s": t_duck_arrow,
           "ratio_arrow": t_duck_arrow[0] / t_ours_arrow[0], **check}
    del ours_arrow, duck_arrow
    if pandas_too:
        out["ours_s"], _ = _best(lambda: build_panel(tables, cfg, **kw), 1)
        out["duckdb_s"], _ = _best(lambda: con.sql(sql).df(), 1)
        out["ratio"] = out["duckdb_s"][0] / out["ours_s"][0]
    return out


def duck_forms(data: str, subset: int, repeats: int = 2) -> list[tuple[str, float]]:
    """Seconds of each DuckDB query form (to pick its best)."""
    from ips_study.config import StudyConfig

    tables = _subset(data, subset)
    cfg = StudyConfig(freq="month")
    con = duck_connect(tables, cfg)
    out = []
    for form in ("range", "series"):
        for ltbd in ("window", "group"):
            sql = duck_sql(cfg, form, ltbd)
            out.append((f"{form} join, ltbd by {ltbd}", _best(lambda: con.sql(sql).to_arrow_table(), repeats)[0][0]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE / "_data" / "synthetic_1500000"))
    ap.add_argument("--persons", type=int, default=1_500_000)
    ap.add_argument("--subset", type=int, default=150_000)
    ap.add_argument("--partition", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=2, help="threads for ips_study (DuckDB uses 2)")
    ap.add_argument("--repeats", type=int, default=2, help="side-by-side runs per tool (fastest counts)")
    ap.add_argument("--form", default="series", choices=["series", "range"], help="DuckDB spell-to-month form")
    ap.add_argument("--ltbd", default="group", choices=["group", "window"], help="DuckDB ltbd form")
    ap.add_argument("--forms", action="store_true", help="time every DuckDB query form instead")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas-output rows")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--skip-full", action="store_true")
    a = ap.parse_args()
    if a.child:
        full_run(a.data, str(HERE / "_data" / "panel_month.parquet"), a.partition, a.workers)
        return
    if not Path(a.data, "persons.parquet").exists():
        from ips_study.synthetic import write_synthetic
        print(f"generating {a.persons:,} persons in {a.data} ...")
        write_synthetic(a.data, persons=a.persons, progress=True)
    if a.forms:
        print(f"DuckDB query forms, {a.subset:,} persons -> Arrow, 2 threads")
        for name, sec in duck_forms(a.data, a.subset, a.repeats):
            print(f"  {name:<32}{sec:>8.2f} s")
        return
    if not a.skip_full:
        proc = subprocess.run([sys.executable, __file__, "--child", "--data", a.data,
                               "--partition", str(a.partition), "--workers", str(a.workers)],
                              capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        full = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"full population: {full['persons']:,} persons, {full['rows']:,} person-months; "
              f"read+validate {full['read_s']:.1f} s, panel {full['panel_s']:.1f} s "
              f"({full['rows'] / full['panel_s'] / 1e6:.2f} M rows/s, {a.workers} worker threads, "
              f"CPU {full['panel_cpu_s']:.1f} s incl. the Parquet writer thread: user "
              f"{full['panel_user_s']:.1f} s, system {full['panel_sys_s']:.1f} s), "
              f"peak RSS {full['peak_gb']:.2f} GB")
    s = side_by_side(a.data, a.subset, workers=a.workers, repeats=a.repeats, form=a.form, ltbd=a.ltbd,
                     pandas_too=not a.no_pandas)
    same = s["unmatched"] == 0 and not s["columns_differing"] and s["rows"] == s["duckdb_rows"]
    print(f"subset {s['persons']:,} persons, {s['rows']:,} person-months (DuckDB {s['duckdb_rows']:,}); "
          f"all 24 columns identical: {same} (unmatched rows {s['unmatched']}, differing columns "
          f"{s['columns_differing'] or 'none'}, max |diff| {s['max_abs_diff']:.1e})")
    print(f"DuckDB form: {a.form} join, ltbd by {a.ltbd}; fastest of {a.repeats} runs; "
          f"ips_study {a.workers} threads, DuckDB 2 threads")
    print(f"{'tool':<28}{'seconds':>10}{'ns/row':>10}{'CPU s':>10}")
    rows = [("ips_study -> Arrow", "ours_arrow_s"), ("duckdb -> Arrow", "duckdb_arrow_s")]
    if not a.no_pandas:
        rows += [("ips_study -> pandas", "ours_s"), ("duckdb -> pandas", "duckdb_s")]
    for name, key in rows:
        wall, cpu = s[key]
        print(f"{name:<28}{wall:>10.2f}{wall / s['rows'] * 1e9:>10.0f}{cpu:>10.2f}")
    print(f"speed ratio DuckDB / ips_study: Arrow {s['ratio_arrow']:.1f}x"
          + ("" if a.no_pandas else f", pandas {s['ratio']:.1f}x"))


if __name__ == "__main__":
    main()
