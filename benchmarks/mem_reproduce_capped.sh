#!/bin/bash
# A full `ips-study reproduce --partitions K` (every output, the analysis step included) under an
# address-space cap, with peak RSS from /usr/bin/time -v (docs/reliability.md, "Memory";
# docs/benchmarks.md, "Memory: full reproduce under 1 GiB").
#
#   ips-study synth --out WORK/d1500k_pq --persons 1500000 --format parquet   # about 13 min CPU
#   benchmarks/mem_reproduce_capped.sh WORK/d1500k_pq WORK 64                 # CAP_KB=1048576
#   CAP_KB=unlimited benchmarks/mem_reproduce_capped.sh WORK/d1500k_pq WORK 64     # no cap
#   benchmarks/mem_reproduce_capped.sh WORK/d1500k_pq WORK 64 figure_6_survival table_10_survival_models
#
# The cap is `ulimit -v` (address space: stricter than a limit on resident memory; Python with
# numpy, pandas, pyarrow, scipy and matplotlib loaded already maps about 570 MiB), or with
# CAP_MODE=rss a limit on resident memory without cgroups: a watchdog reads the process's
# VmHWM (its peak resident set, which a sampler cannot miss) every 0.2 s and kills it with
# SIGKILL once it passes CAP_KB ("killed_by_rss_watchdog" in the line printed):
#   CAP_MODE=rss benchmarks/mem_reproduce_capped.sh WORK/d1m_pq WORK 32
# Address space is the wrong measure for the analysis step: numba/llvmlite, OpenBLAS and
# glibc reserve address space they never touch (docs/reliability.md, "Memory"). As in
# benchmarks/mem_partitions.sh, Arrow uses the system allocator (its default, mimalloc, reserves
# address space up front), glibc two arenas and a fixed mmap threshold (so that freed large
# buffers go back to the system instead of staying in the heap: after the split of the delivery
# 200 MiB stayed mapped without it), and BLAS one thread (the machine is shared).
# Prints exit status, peak RSS, wall, user and system CPU and the load average; the outputs
# are in WORK/mem_capped_K/o and the run's work area (panels, partitions) is removed after.
set -u
DELIVERY=$1; WORK=$2; K=${3:-64}; CAP_KB=${CAP_KB:-1048576}; CAP_MODE=${CAP_MODE:-vm}
shift 3; ONLY=("$@")  # output names
PY=${PY:-python}
W=$WORK/mem_capped_$K; rm -rf "$W"; mkdir -p "$W"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
(
  [ "$CAP_MODE" = vm ] && ulimit -v "$CAP_KB"
  export ARROW_DEFAULT_MEMORY_POOL=system MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 \
         OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
         MPLBACKEND=Agg
  /usr/bin/time -v "$PY" -m ips_study.reproduce --data "$DELIVERY" --out "$W/o" --work "$W/w" \
    --partitions "$K" --quiet ${ONLY[@]:+--only "${ONLY[@]}"} > "$W/log" 2> "$W/time.txt"
) &
RUN=$!
if [ "$CAP_MODE" = rss ] && [ "$CAP_KB" != unlimited ]; then
  PYPID=""
  while kill -0 $RUN 2>/dev/null; do
    if [ -z "$PYPID" ]; then   # the Python process, not /usr/bin/time
      for p in $(pgrep -f -- "--out $W/o --work $W/w"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" != time ] && PYPID=$p
      done
    fi
    hwm=$(awk '/VmHWM/{print $2}' /proc/$PYPID/status 2>/dev/null)
    if [ -n "$hwm" ] && [ "$hwm" -gt "$CAP_KB" ]; then
      kill -9 "$PYPID"; echo "killed_by_rss_watchdog VmHWM_kB=$hwm" >> "$W/watchdog"; break
    fi
    sleep 0.2
  done
fi
wait $RUN
echo "K=$K cap_kB=$CAP_KB cap_mode=$CAP_MODE $(cat "$W/watchdog" 2>/dev/null) exit=$(grep 'Exit status' "$W/time.txt" | awk '{print $3}')" \
     "peak_rss_kB=$(grep 'Maximum resident' "$W/time.txt" | awk '{print $6}')" \
     "wall=$(grep Elapsed "$W/time.txt" | awk '{print $8}')" \
     "user=$(grep 'User time' "$W/time.txt" | awk '{print $4}') sys=$(grep 'System time' "$W/time.txt" | awk '{print $4}')" \
     "load_start=$load0 load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
ls "$W/o" | wc -l | xargs echo "output files:"
grep -h '"not_fitted"' -A30 "$W/o/run_manifest.json" 2>/dev/null | head -40
rm -rf "$W/w"
