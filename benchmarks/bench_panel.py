"""Benchmark: person-month panels (issue 4), side by side with DuckDB.

1. Full population: read the 1.5-million-person synthetic registers and stream the
   person-month panel 2008-2019 with every outcome (all residents, every municipality) to
   Parquet in person partitions. Time and peak memory of that process.
2. Side by side on a 100,000-person subset: the whole panel (all 24 columns: keys, treatment
   columns, age, sex and every outcome including ``ltbd``) built by ips_study and by one
   DuckDB query (the tool a register researcher would otherwise pick), timed in the same run
   from the same in-memory registers (ips_study: the validated DataFrames; DuckDB: the same
   rows in native tables, loading not timed) to an in-memory Arrow table of the same rows; every column is compared. Both sides use 2 threads. Both
   DuckDB query forms are timed: spells unnested to months (generate_series) and a range
   join with the months table; ``ltbd`` by a person-year aggregate (``--ltbd window``: by
   a window, slower in earlier sessions).

Timed through ``benchmarks/_harness.py``: ips_study and both DuckDB query forms alternate,
3 runs each, wall and user/system CPU, all 24 columns compared (identical: tolerance 0).
ips_study is warmed up once on 100 persons (untimed): the first use of its compiled kernel
(compiled, or loaded from numba's cache) is reported as ``first_use_s``, like an import.
``--kernel`` times the kernel alone against the write bandwidth.
``--bandwidth`` measures the machine's memory bandwidth with NumPy, the physical limit of a
build that writes ``DISTINCT_BYTES_PER_ROW`` bytes per person-month.

Usage::

    .venv/bin/python benchmarks/bench_panel.py [--data DIR] [--subset 100000] [--workers 2]
    .venv/bin/python benchmarks/bench_panel.py --skip-full    # side by side only
    .venv/bin/python benchmarks/bench_panel.py --bandwidth

The data directory is generated with ``ips_study.synthetic.write_synthetic`` when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _harness import RESULTS, Contender, SelfTimed, self_time, timed
from _harness import compare as harness_compare

HERE = Path(__file__).resolve().parent
#: DuckDB from a peer virtual environment (``python3.11 -m venv /work/peers/duckdb &&
#: /work/peers/duckdb/bin/pip install duckdb``) when the project's venv has none
DUCKDB_SITE = "/work/peers/duckdb/lib/python3.11/site-packages"

def full_run(data: str, out: str, partition: int, workers: int = 1) -> dict:
    """Child process: read registers, stream the month panel; timings and sizes."""
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
    return {"read_s": t_read, "panel_s": t_panel, "panel_cpu_s": c_panel, "rows": rows,
            "panel_user_s": r1.ru_utime - r0.ru_utime, "panel_sys_s": r1.ru_stime - r0.ru_stime,
            "peak_gb": peak, "persons": len(rs["persons"])}


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
        ltbd_expr = f"(count(ben.health OR NULL) OVER (PARTITION BY pm.person_id, pm.yr) >= {cfg.ltbd_months})::TINYINT AS ltbd"
        ltbd_join, ltbd_cte = "", ""
    else:
        ltbd_expr = "(ly.person_id IS NOT NULL)::TINYINT AS ltbd"
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
SELECT pm.person_id, pm.municipality, pm.period, pm.ms::TIMESTAMP_NS AS period_start,
  (pm.municipality = '{cfg.treated_municipality}')::TINYINT AS treated,
  (pm.ms >= DATE '{ips}')::TINYINT AS post, pm.ips_start::TIMESTAMP_NS AS ips_start,
  coalesce(pm.ips_start <= pm.ms, false)::TINYINT AS exposed,
  (pm.month_id - mid(DATE '{ips}'))::SMALLINT AS event_time, pm.age::SMALLINT AS age, pm.sex,
  1::TINYINT AS months_observed,
  coalesce(ben.disability, false)::TINYINT AS disability,
  coalesce(ben.work_assessment, false)::TINYINT AS work_assessment,
  coalesce(ben.sickness, false)::TINYINT AS sickness,
  coalesce(ben.unemployment, false)::TINYINT AS unemployment,
  coalesce(ben.social_assistance, false)::TINYINT AS social_assistance,
  coalesce(ben.qualification, false)::TINYINT AS qualification,
  coalesce(ben.health, false)::TINYINT AS health_benefit,
  (ben.person_id IS NOT NULL)::TINYINT AS any_benefit,
  (emp.person_id IS NOT NULL)::TINYINT AS employed,
  coalesce(emp.workdays, 0)::DOUBLE AS workdays,
  coalesce(ben.health, false)::TINYINT AS benefit_months,
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
    """Row sets and every column compared by DuckDB (full outer join on person and period),
    and the Arrow types of the numeric and date columns (text: ips_study's are dictionary
    arrays, DuckDB's plain strings)."""
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
    text = {"person_id", "municipality", "period", "sex"}
    out["types_differing"] = {c: [str(ours.schema.field(c).type), str(duck.schema.field(c).type)]
                              for c in ours.schema.names if c not in text
                              and ours.schema.field(c).type != duck.schema.field(c).type}
    return out


def _subset(data: str, subset: int):
    from ips_study.registers import read_registers

    rs = read_registers(data, quarantine_dir=HERE / "_data" / "quarantine_bench")
    ids = set(rs["persons"]["person_id"].iloc[:subset])
    return {k: (v[v["person_id"].isin(ids)] if "person_id" in v else v) for k, v in rs.tables.items()}


def _duckdb():
    """Import DuckDB, from a peer virtual environment when the project's has none."""
    try:
        import duckdb
    except ImportError:
        site = Path(DUCKDB_SITE)
        if not site.exists():
            raise SystemExit(f"no duckdb: pip install duckdb (e.g. into {site.parents[2]})")
        sys.path.append(str(site))   # after the project's packages: only duckdb comes from it
        import duckdb
    return duckdb


def side_by_side(data: str, subset: int, *, workers: int = 2, repeats: int = 3,
                 ltbd: str = "group") -> dict:
    """ips_study and both DuckDB query forms build the same panel from the same registers.

    Input: the validated registers of the first ``subset`` persons, in memory (ips_study:
    the typed DataFrames; DuckDB: the same rows loaded into native tables with DATE columns,
    loading not timed). Output: an in-memory ``pyarrow.Table`` of the same rows and columns
    (ips_study: dictionary-encoded text; DuckDB: its Arrow export). Both use 2 threads; the
    three contenders alternate (``_harness.compare``) and every column is compared.
    """
    import pyarrow as pa

    from ips_study import __version__
    from ips_study.config import StudyConfig
    from ips_study.panel import iter_panel

    duckdb = _duckdb()
    tables = _subset(data, subset)
    cfg = StudyConfig(freq="month")
    kw = dict(freq="month", restrict_to_target=False, scope="all", workers=workers)
    con = duck_connect(tables, cfg)
    sql = {form: duck_sql(cfg, form, ltbd) for form in ("series", "range")}
    first_use = {}

    def warmup():
        # the compiled kernel is loaded from numba's cache (or compiled) on first use, like an
        # import: timed here on 100 persons, reported, and kept out of the timed runs
        few = set(tables["persons"]["person_id"].iloc[:100])
        small = {k: (v[v["person_id"].isin(few)] if "person_id" in v else v) for k, v in tables.items()}
        t0 = time.perf_counter()
        list(iter_panel(small, cfg, arrow=True, **kw))
        first_use["seconds"] = time.perf_counter() - t0
        print(f"  ips_study first use (kernel compiled or loaded from cache): {first_use['seconds']:.2f} s")

    contenders = [
        Contender("ips_study", lambda: pa.concat_tables(list(iter_panel(tables, cfg, arrow=True, **kw))),
                  __version__, f"iter_panel(arrow=True, workers={workers}), 5,000-person partitions",
                  warmup=warmup),
        Contender("DuckDB generate_series", lambda: con.sql(sql["series"]).to_arrow_table(),
                  duckdb.__version__, f"threads=2, spells unnested to months, ltbd by {ltbd}"),
        Contender("DuckDB range join", lambda: con.sql(sql["range"]).to_arrow_table(),
                  duckdb.__version__, f"threads=2, range join with a months table, ltbd by {ltbd}")]
    checks = {}

    def equal(ours, duck) -> float:
        c = compare(con, ours, duck)
        checks[len(checks)] = c
        same = (c["unmatched"] == 0 and not c["columns_differing"] and not c["types_differing"]
                and ours.num_rows == duck.num_rows)
        return float(c["max_abs_diff"] or 0.0) if same else float("inf")

    rec = harness_compare(
        f"panel, {subset:,} persons, 24 columns → Arrow", "panel_duckdb", contenders,
        equal=equal, tolerance=0.0, repeats=repeats, target=5,
        notes=f"same validated registers in memory (DuckDB: native tables, load untimed); "
              "full outer join on person and period, all 24 columns compared")
    rec["checks"] = checks
    rec["first_use_s"] = first_use.get("seconds")
    path = RESULTS / "panel_duckdb.json"
    if path.exists():
        path.write_text(json.dumps({**json.loads(path.read_text()), "first_use_s": rec["first_use_s"]}, indent=1) + "\n")
    return rec


def bandwidth(mib: int = 1024, repeats: int = 5) -> dict:
    """Memory bandwidth of this machine by NumPy (GB/s, best and median of ``repeats``).

    ``copy`` reads and writes (2 x bytes), ``write`` fills an array already touched,
    ``fresh`` writes into new pages (what a panel's new output columns cost: page faults):
    NumPy's own allocation, which asks for 2 MiB transparent huge pages, and ``fresh_4k``
    a private anonymous mapping of 4 KiB pages (how the panel kernel allocates its output).
    """
    import mmap

    import numpy as np

    n = mib * 2**20 // 8
    a, b = np.ones(n), np.zeros(n)

    def fresh_4k():
        m = mmap.mmap(-1, 8 * n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        np.frombuffer(m, dtype=np.float64).fill(3.0)

    out = {}
    for name, fn, nbytes in (("copy", lambda: np.copyto(b, a), 2 * a.nbytes),
                             ("write", lambda: b.fill(2.0), b.nbytes),
                             ("read", lambda: a.sum(), a.nbytes),
                             ("fresh", lambda: np.full(n, 3.0), a.nbytes),
                             ("fresh_4k", fresh_4k, a.nbytes)):
        us = [timed(fn)[1] for _ in range(repeats)]
        ts = sorted(u["wall"] for u in us)
        # CPU (user + system) as well: on a crowded machine the wall clock also counts the
        # time the process waited for a core
        cs = sorted(u["user"] + u["sys"] for u in us)
        out[name] = {"best_GBps": nbytes / ts[0] / 1e9, "median_GBps": nbytes / ts[len(ts) // 2] / 1e9,
                     "best_GBps_cpu": nbytes / max(cs[0], 1e-9) / 1e9,
                     "median_GBps_cpu": nbytes / max(cs[len(cs) // 2], 1e-9) / 1e9,
                     "sys_share": sum(u["sys"] for u in us) / max(sum(u["user"] + u["sys"] for u in us), 1e-9)}
    return out


def kernel_rate(data: str, subset: int, repeats: int = 5) -> dict:
    """The compiled kernel alone (one thread) on every partition of the side-by-side panel:
    CPU a row writing into outputs already touched (the work and the memory writes) and into
    new outputs (plus mapping their pages), against the machine's write bandwidth."""
    from ips_study import panel_kernel as K
    from ips_study.cohort import PersonArrays
    from ips_study.config import StudyConfig
    from ips_study.panel import _all_codes, _output_block, _partition_panel

    tables = _subset(data, subset)
    cfg = StudyConfig(freq="month")
    codes = _all_codes(tables)
    arrays = PersonArrays.from_tables(tables, codes, contacts=False)
    calls, real = [], K.fill_month_rows

    def capture(*args):
        calls.append(args)
        return real(*args)

    K.fill_month_rows = capture
    try:
        for lo in range(0, len(arrays), 5_000):
            _partition_panel(arrays.slice(lo, lo + 5_000), tables["municipalities"], cfg, "month", False, "all", codes)
    finally:
        K.fill_month_rows = real
    rows = sum(a[-1].shape[1] for a in calls)

    def touched():
        for a in calls:
            real(*a)

    def fresh():   # new output blocks, allocated as the build does
        return [real(*a[:-5], *(_output_block(*x.shape, x.dtype) for x in a[-5:])) for a in calls]

    out = {"rows": rows, "bytes_per_row": DISTINCT_BYTES_PER_ROW}
    for name, fn in (("touched", touched), ("fresh", fresh)):
        us = sorted((timed(fn)[1] for _ in range(repeats)), key=lambda u: u["user"] + u["sys"])
        med = us[len(us) // 2]
        out[name] = {"user_ns_row": med["user"] / rows * 1e9, "sys_ns_row": med["sys"] / rows * 1e9,
                     "GBps_cpu": DISTINCT_BYTES_PER_ROW * rows / (med["user"] + med["sys"]) / 1e9}
    return out


#: bytes written per person-month into the 24 output columns (docs/panel.md, "Column types";
#: Arrow: int32 dictionary codes for person, municipality, period and sex; two timestamps;
#: int16 event time and age; int8 flags, 0/1 outcomes and ``months_observed``; float64
#: ``workdays``). Before the compact types (session 8): 4 * 4 + 3 * 1 + 8 * 5 + 8 * 12 = 155.
BYTES_PER_ROW = 4 * 4 + 2 * 8 + 2 * 2 + (3 + 11 + 1) * 1 + 8
#: of which distinct buffers, the bytes the kernel writes: ``benefit_months`` of a month panel
#: shares ``health_benefit``'s buffer and ``months_observed`` is one shared buffer of ones
#: (before: 139)
DISTINCT_BYTES_PER_ROW = BYTES_PER_ROW - 2 * 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE / "_data" / "synthetic_1500000"))
    ap.add_argument("--persons", type=int, default=1_500_000)
    ap.add_argument("--subset", type=int, default=100_000)
    ap.add_argument("--partition", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=2, help="threads for ips_study (DuckDB uses 2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per contender, alternating")
    ap.add_argument("--ltbd", default="group", choices=["group", "window"], help="DuckDB ltbd form")
    ap.add_argument("--kernel", action="store_true",
                    help="time the compiled kernel alone against the write bandwidth (needs --data)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--bandwidth", action="store_true",
                    help="measure memory bandwidth (the physical limit of the panel build)")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(self_time(lambda: full_run(a.data, str(HERE / "_data" / "panel_month.parquet"),
                                                    a.partition, a.workers))))
        return
    if a.kernel:
        rec = {"kernel": kernel_rate(a.data, a.subset), "load": os.getloadavg()}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "panel_kernel_rate.json").write_text(json.dumps(rec, indent=1) + "\n")
        k = rec["kernel"]
        for name in ("touched", "fresh"):
            print(f"kernel, {name} outputs: user {k[name]['user_ns_row']:.1f} + system {k[name]['sys_ns_row']:.1f} "
                  f"ns a row ({k['bytes_per_row']} B): {k[name]['GBps_cpu']:.2f} GB/s of CPU, "
                  f"{k['rows']:,} rows, load {rec['load'][0]:.1f}")
        return
    if a.bandwidth:
        bw = bandwidth()
        rec = {"bandwidth": bw, "load": os.getloadavg(), "bytes_per_row": BYTES_PER_ROW,
               "distinct_bytes_per_row": DISTINCT_BYTES_PER_ROW}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "memory_bandwidth.json").write_text(json.dumps(rec, indent=1) + "\n")
        for k, v in bw.items():
            print(f"{k:<8} wall: best {v['best_GBps']:6.2f} GB/s  median {v['median_GBps']:6.2f} GB/s;  "
                  f"CPU: best {v['best_GBps_cpu']:6.2f}  median {v['median_GBps_cpu']:6.2f} GB/s "
                  f"(system {v['sys_share']:.0%})  -> {DISTINCT_BYTES_PER_ROW} B/row at the CPU median: "
                  f"{DISTINCT_BYTES_PER_ROW / v['median_GBps_cpu']:.0f} ns/row  load {os.getloadavg()[0]:.1f}")
        return
    if not Path(a.data, "persons.parquet").exists():
        from ips_study.synthetic import write_synthetic
        print(f"generating {a.persons:,} persons in {a.data} ...")
        write_synthetic(a.data, persons=a.persons, progress=True)
    if not a.skip_full:
        from ips_study import __version__

        cmd = [sys.executable, __file__, "--child", "--data", a.data, "--partition", str(a.partition),
               "--workers", str(a.workers)]
        info = {}

        def full():
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True)
                             .stdout.strip().splitlines()[-1])
            info.update(out["answer"])
            return SelfTimed(out["answer"]["rows"], out["usage"])

        harness_compare("full panel (write_panel to Parquet)", "panel_full",
                        [Contender("ips_study", full, __version__,
                                   f"write_panel, {a.partition:,}-person partitions, workers={a.workers}")],
                        equal=lambda x, y: 0.0, tolerance=0, repeats=a.repeats,
                        notes="goal < 90 s; the time covers read_registers as well (see panel_s)")
        print(f"last run: {info['rows']:,} person-months; read+validate {info['read_s']:.1f} s, "
              f"panel {info['panel_s']:.1f} s, peak RSS {info['peak_gb']:.2f} GB")
    rec = side_by_side(a.data, a.subset, workers=a.workers, repeats=a.repeats, ltbd=a.ltbd)
    rows = rec["checks"][0]["rows"]
    for c in rec["contenders"]:
        print(f"{c['name']:<24} median {c['wall_median'] / rows * 1e9:6.0f} ns/row wall, "
              f"{c['cpu_median'] / rows * 1e9:6.0f} ns/row CPU")


if __name__ == "__main__":
    main()
