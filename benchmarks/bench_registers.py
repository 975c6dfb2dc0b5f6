"""Benchmark: read and validate a benefits table of 20 million spells (issue 2).

Writes a register delivery under ``benchmarks/_data/registers_<rows>/`` (2 million persons,
~10 spells each, 0.1 % end-before-start rows) in three copies: ``parquet_text/`` (Parquet with
dates as text -- ISO, 5 % FD-Trygd ``YYYYMM`` start months -- as a delivery converted from CSV
or SAS is; the goal file), ``parquet/`` (the same spells with typed ``date32`` dates, ISO
starts) and ``csv/``. Measures, each in a fresh subprocess so that peak memory (``VmHWM``) is
per task:

* the peer: ``pandas.read_parquet`` / ``pandas.read_csv`` of the benefits file alone;
* ``ips_study.registers.read_registers`` of the whole delivery (persons + benefits, validated,
  merged, quarantine written).

Goals: Parquet >= 2 million benefit rows/s end to end on 2 cores; peak memory < 3x the
in-memory size of the benefits table (``DataFrame.memory_usage(deep=True)`` of the peer's read).

Run: ``.venv/bin/python benchmarks/bench_registers.py [--rows N] [--variants ...] [--repeat 3]``
(default: the two Parquet copies at 20 M rows, three fresh-process runs of each task, peer and
ours alternating, the median shown with the range). The clock runs around the read call alone
(for the peer too); import time is shown beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from _harness import Contender, SelfTimed, compare

HERE = Path(__file__).resolve().parent


def make_delivery(root: Path, rows: int, seed: int = 2013) -> None:
    """Write persons and benefits (Parquet and CSV) plus tiny other required tables."""
    rng = np.random.default_rng(seed)
    n_persons = max(rows // 10, 1)
    ids = pa.array([f"P{i:09d}" for i in range(n_persons)], pa.string())
    birth = rng.integers(np.datetime64("1950-01-01").astype(int), np.datetime64("2000-12-31").astype(int), n_persons)
    persons = pa.table({
        "person_id": ids,
        "birth_date": pa.array(birth.astype("datetime64[D]")),
        "sex": pa.array(np.where(rng.random(n_persons) < 0.5, "F", "M")),
        "death_date": pa.nulls(n_persons, pa.date32()),
    })
    who = np.sort(rng.integers(0, n_persons, rows))  # deliveries come sorted by person
    start = rng.integers(np.datetime64("2000-01-01").astype(int), np.datetime64("2020-12-31").astype(int), rows)
    end = start + rng.geometric(1 / 200, rows)
    codes = np.array(["disability_pension", "work_assessment", "sickness", "unemployment",
                      "social_assistance", "qualification"])
    benefit = rng.integers(0, len(codes), rows)
    grade = np.where(rng.random(rows) < 0.3, np.nan, rng.choice([50.0, 100.0], rows))
    bad = rng.random(rows) < 0.001  # end before start
    end = np.where(bad, start - 5, end)
    open_ = rng.random(rows) < 0.05
    benefits = pa.table({
        "person_id": pa.DictionaryArray.from_arrays(pa.array(who.astype(np.int32)), ids).cast(pa.string()),
        "benefit": pa.DictionaryArray.from_arrays(pa.array(benefit.astype(np.int32)), pa.array(codes)).cast(pa.string()),
        "start_date": pa.array(start.astype("datetime64[D]")),
        "end_date": pa.array(end.astype("datetime64[D]"), mask=open_),
        "grade": pa.array(grade, from_pandas=True),
    })
    small = {
        "residence": "person_id,municipality,start_date,end_date\nP000000000,1804,2000-01-01,\n",
        "employment": "person_id,employer_id,start_date,end_date,fte,monthly_wage\n",
        "diagnoses": "person_id,date,system,code,source\n",
        "municipalities": "municipality,name,county,centrality,ips_start\n1804,Bodo,18,3,2013-01-01\n",
    }
    for fmt in ("parquet", "csv"):
        d = root / fmt
        d.mkdir(parents=True, exist_ok=True)
        for name, text in small.items():
            (d / f"{name}.csv").write_text(text)
    pq.write_table(persons, root / "parquet" / "persons.parquet")
    pq.write_table(benefits, root / "parquet" / "benefits.parquet")
    pacsv.write_csv(persons, root / "csv" / "persons.csv")
    import pyarrow.compute as pc

    ym = pa.array(rng.random(rows) < 0.05)
    csv_b = benefits.set_column(2, "start_date", pc.if_else(ym, pc.strftime(benefits["start_date"], "%Y%m"),
                                                            pc.strftime(benefits["start_date"], "%Y-%m-%d")))
    pacsv.write_csv(csv_b, root / "csv" / "benefits.csv")
    write_text_parquet(root, csv_b, persons)


def write_text_parquet(root: Path, csv_b: pa.Table, persons: pa.Table) -> None:
    """The CSV delivery converted to Parquet as-is: dates stay text (ISO, 5 % ``YYYYMM``)."""
    import pyarrow.compute as pc

    d = root / "parquet_text"
    d.mkdir(parents=True, exist_ok=True)
    for f in (root / "parquet").glob("*.csv"):
        (d / f.name).write_bytes(f.read_bytes())
    text_b = csv_b.set_column(3, "end_date", pc.strftime(csv_b["end_date"], "%Y-%m-%d"))
    text_p = persons.set_column(1, "birth_date", pc.strftime(persons["birth_date"], "%Y-%m-%d"))
    text_p = text_p.set_column(3, "death_date", pa.nulls(len(text_p), pa.string()))
    pq.write_table(text_b, d / "benefits.parquet")
    pq.write_table(text_p, d / "persons.parquet")


_PLAIN = """import pandas as pd
{{timer}}
df = pd.{reader}(r'{{d}}/{variant}/benefits.{ext}')
{{stop}}
n = len(df)
size = int(df.memory_usage(deep=True).sum())"""
_OURS = """from ips_study.registers import read_registers
{{timer}}
rs = read_registers(r'{{d}}/{variant}', quarantine_dir=r'{{d}}/quarantine_{variant}')
{{stop}}
n = rs.report.tables['benefits'].read
size = int(rs['benefits'].memory_usage(deep=True).sum())
extra = rs.report.to_dict()['tables']['benefits']"""
#: delivery variants: directory, file suffix, pandas reader (the peer), description
VARIANTS = {
    "parquet_text": ("parquet", "read_parquet", "Parquet, dates as text (ISO, 5 % YYYYMM): the goal file"),
    "parquet": ("parquet", "read_parquet", "Parquet, dates typed (date32)"),
    "csv": ("csv", "read_csv", "CSV (ISO dates, 5 % YYYYMM)"),
}

# The clock runs around the read call alone, for the peer and for us alike: importing the
# libraries happens once per session (reported separately), and measuring the table's size
# (memory_usage(deep=True) walks every Python string) is the benchmark's own work.
RUNNER = """
import json, resource, time
t_import = time.perf_counter()
extra = None
{body}
elapsed = t1 - t0
cpu = c1 - c0
# VmHWM belongs to this program's memory map; ru_maxrss would carry the parent's peak over exec
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "user": r1.ru_utime - r0.ru_utime, "sys": r1.ru_stime - r0.ru_stime,
                  "import": t0 - t_import, "rows": n, "size": size, "peak": peak, "extra": extra}}))
"""
_TIMER = "t0 = time.perf_counter(); c0 = time.process_time(); r0 = resource.getrusage(resource.RUSAGE_SELF)"
_STOP = "t1 = time.perf_counter(); c1 = time.process_time(); r1 = resource.getrusage(resource.RUSAGE_SELF)"

BASELINE = ("import pandas, pyarrow, numpy\nimport ips_study.registers\n"
            "print(next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')))")


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_text_parquet(root: Path) -> None:
    """Build the text-date Parquet copy from the CSV copy (for data generated before it existed)."""
    if (root / "parquet_text" / "benefits.parquet").exists():
        return
    types = {"person_id": pa.string(), "benefit": pa.string(), "start_date": pa.string(),
             "end_date": pa.date32(), "grade": pa.float64()}
    csv_b = pacsv.read_csv(root / "csv" / "benefits.csv", convert_options=pacsv.ConvertOptions(column_types=types))
    write_text_parquet(root, csv_b, pq.read_table(root / "parquet" / "persons.parquet"))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--variants", default="parquet_text,parquet",
                    help=f"comma-separated, from {', '.join(VARIANTS)} (csv is slow: 1.1 GB at 20 M rows)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="fresh-process runs per task, peer and ours alternating; the median run is shown")
    args = ap.parse_args(argv)
    root = HERE / "_data" / f"registers_{args.rows}"
    if not (root / "csv" / "benefits.csv").exists():
        t = time.perf_counter()
        make_delivery(root, args.rows)
        print(f"generated {args.rows:,} benefit spells in {time.perf_counter() - t:.1f} s under {root}")
    ensure_text_parquet(root)
    base = run(BASELINE)
    print(f"\nbenefits: {args.rows:,} spells of {max(args.rows // 10, 1):,} persons;"
          f" interpreter + libraries baseline RSS {base / 2**30:.2f} GiB; median of {args.repeat} runs")
    print(f"{'file':<14}{'task':<24}{'wall s':>8}{'(range)':>14}{'user s':>8}{'sys s':>7}{'rows/s (M)':>12}"
          f"{'peak GiB':>10}{'peak/size':>11}{'wall vs peer':>14}{'import s':>10}")
    counts = {}
    for variant in args.variants.split(","):
        ext, reader, _ = VARIANTS[variant]
        peer_code = RUNNER.format(body=_PLAIN.format(reader=reader, variant=variant, ext=ext).format(
            d=root, timer=_TIMER, stop=_STOP))
        ours_code = RUNNER.format(body=_OURS.format(variant=variant).format(d=root, timer=_TIMER, stop=_STOP))
        runs = {"peer": [], "ours": []}

        def contender(key: str, code: str):
            def go():
                r = run(code)
                runs[key].append(r)
                return SelfTimed(r["rows"], {"wall": r["seconds"], "user": r["user"], "sys": r["sys"]})
            return go

        import pandas as pd

        from ips_study import __version__
        # fresh processes, ours and the peer alternating, so that both see the same machine
        compare(f"registers: {variant}, {args.rows / 1e6:g}M spells", f"registers_{variant}",
                [Contender("ips_study", contender("ours", ours_code), __version__,
                           "read_registers: read, validate, merge, quarantine"),
                 Contender(f"pandas.{reader}", contender("peer", peer_code), pd.__version__,
                           "defaults, read only")],
                equal=lambda a, b: abs(a - b), tolerance=0, repeats=max(args.repeat, 3),
                notes="equal = rows read; fresh process per run, clock around the read call")
        med = {k: sorted(v, key=lambda r: r["seconds"])[len(v) // 2] for k, v in runs.items()}
        peer, ours = med["peer"], med["ours"]
        for key, name in (("peer", f"pandas.{reader}"), ("ours", "read_registers")):
            r, walls = med[key], [x["seconds"] for x in runs[key]]
            print(f"{variant:<14}{name:<24}{r['seconds']:>8.2f}{f'{min(walls):.1f}-{max(walls):.1f}':>14}"
                  f"{r['user']:>8.1f}{r['sys']:>7.1f}{r['rows'] / r['seconds'] / 1e6:>12.2f}"
                  f"{r['peak'] / 2**30:>10.2f}{r['peak'] / peer['size']:>11.2f}"
                  f"{r['seconds'] / peer['seconds']:>13.2f}x{r['import']:>10.2f}")
        counts[variant] = (ours["extra"], peer["size"], ours["size"])
    print("\nrows/s = benefit rows / wall seconds of the read call; read_registers is end to end (persons and"
          " benefits read, validated, merged, quarantine written); size = memory_usage(deep=True) of the peer's"
          " DataFrame; import s = importing the library first (not in the wall time)")
    for variant, (extra, peer_size, our_size) in counts.items():
        print(f"{variant}: table size {peer_size / 2**30:.2f} GiB (peer), {our_size / 2**30:.2f} GiB (ours);"
              f" kept {extra['kept']:,}, merged {extra['merged']:,}, quarantined {extra['quarantined']:,}"
              f" {extra['reasons']}")


if __name__ == "__main__":
    main()
