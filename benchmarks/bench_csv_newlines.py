"""Cost of Arrow's newlines_in_values for the two CSV readers (docs/benchmarks.md, session 6).

A/B: Arrow newlines_in_values False vs True, on the 1.5M-person delivery's benefits.csv
(173 MB, every field quoted); streaming (4 MiB blocks, one thread, as partition._CsvBlocks) and
whole (1 MiB blocks, threads, as readers._read_csv). Alternating A B A B A B."""
import os
import resource
import statistics
import sys
import time

import pyarrow.csv as pacsv

f = sys.argv[1]  # e.g. WORK/d1500k/benefits.csv of `ips-study synth --persons 1500000 --format csv`
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
def run(nl, threads):
    c0, t0 = cpu(), time.perf_counter()
    if threads:
        pacsv.read_csv(f, read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 20),
                       parse_options=pacsv.ParseOptions(newlines_in_values=nl))
    else:
        for _ in pacsv.open_csv(f, read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 22),
                                parse_options=pacsv.ParseOptions(newlines_in_values=nl)):
            pass
    return time.perf_counter() - t0, cpu() - c0
for threads in (False, True):
    res = {False: [], True: []}
    load0 = os.getloadavg()
    for _ in range(4):
        for nl in (False, True):
            res[nl].append(run(nl, threads))
    for nl in (False, True):
        w = [x[0] for x in res[nl]]; c = [x[1] for x in res[nl]]
        print(f"{'whole (threads, 1 MiB)' if threads else 'streaming (4 MiB)'} newlines_in_values={nl}: "
              f"wall min {min(w):.2f} median {statistics.median(w):.2f} s; cpu min {min(c):.2f} median {statistics.median(c):.2f} s; "
              f"load {load0[0]:.1f}->{os.getloadavg()[0]:.1f}")
