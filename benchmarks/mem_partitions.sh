#!/bin/bash
# Peak RSS of `ips-study panel --partitions K` (docs/benchmarks.md, "Memory: panel build by
# partitions"). Run once per K on a quiet-enough machine; memory does not depend on load.
#
#   ips-study synth --out WORK/d1500k --persons 1500000 --format csv     # about 30 min
#   benchmarks/mem_partitions.sh WORK/d1500k WORK "4 16 64"              # peak RSS per K
#   CAP=1 benchmarks/mem_partitions.sh WORK/d1500k WORK 64               # under ulimit -v 1 GiB
#
# With CAP=1 the address space is limited to 1 GiB (ulimit -v: stricter than a limit on
# resident memory); Arrow's default allocator (mimalloc) reserves 1 GiB of address space up
# front, so the capped run uses the system allocator (ARROW_DEFAULT_MEMORY_POOL=system) and
# two glibc arenas (MALLOC_ARENA_MAX=2).
set -u
DELIVERY=$1; WORK=$2; PARTS=${3:-"4 16 64"}
PY=${PY:-python}
for K in $PARTS; do
  W=$WORK/mem_run_$K; rm -rf "$W"; mkdir -p "$W"
  (
    if [ "${CAP:-0}" = 1 ]; then
      ulimit -v 1048576; export ARROW_DEFAULT_MEMORY_POOL=system MALLOC_ARENA_MAX=2
    fi
    /usr/bin/time -v "$PY" -m ips_study.cli panel "$DELIVERY" --out "$W/panel.parquet" --partitions "$K" \
      --work "$W/work" --quarantine-dir "$W/q" --quiet > "$W/out.txt" 2> "$W/time.txt"
    echo "K=$K exit=$? ulimit-v=$(ulimit -v) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  )
  grep -E "Maximum resident|Elapsed|User time|System time" "$W/time.txt"
  rm -rf "$W/work/partitions"
done
