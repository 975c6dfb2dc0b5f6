#!/bin/bash
# Peak RSS of `ips-study reproduce` in memory against `--partitions K` (docs/benchmarks.md,
# "Memory: reproduce --partitions"), on the outputs that read the registers and the year panel
# (table 1 row accounting, table 2 participant flow, table 4 descriptives), alternating the
# two contenders; then checks that both wrote byte-identical outputs.
#
#   ips-study synth --out WORK/d300k --persons 300000 --format csv       # about 6 min
#   benchmarks/mem_reproduce.sh WORK/d300k WORK 8 2                        # K=8, 2 rounds
set -u
DELIVERY=$1; WORK=$2; K=${3:-8}; ROUNDS=${4:-3}
PY=${PY:-python}
ONLY="table_1_register_accounting table_2_participant_flow table_4_descriptives"
for rep in $(seq 1 "$ROUNDS"); do
  for k in 0 "$K"; do
    d=$WORK/mem_reproduce/$k-$rep; rm -rf "$d"; mkdir -p "$d"
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -v "$PY" -m ips_study.reproduce --data "$DELIVERY" --out "$d/o" --work "$d/w" --quiet \
      --only $ONLY --partitions "$k" > "$d/log" 2>&1
    echo "K=$k round=$rep exit=$(grep 'Exit status' "$d/log" | awk '{print $3}')" \
         "peak_rss_kB=$(grep 'Maximum resident' "$d/log" | awk '{print $6}')" \
         "wall=$(grep Elapsed "$d/log" | awk '{print $8}')" \
         "user=$(grep 'User time' "$d/log" | awk '{print $4}') sys=$(grep 'System time' "$d/log" | awk '{print $4}')" \
         "load=$load"
    rm -rf "$d/w/partitions-"*
  done
done
"$PY" - "$WORK/mem_reproduce/0-1/o" "$WORK/mem_reproduce/$K-1/o" <<'PY'
import hashlib, pathlib, sys
def h(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(pathlib.Path(d).iterdir())
            if p.is_file() and p.name != "run_manifest.json"}
a, b = h(sys.argv[1]), h(sys.argv[2])
print(f"outputs byte-identical: {a == b} ({len(a)} files)")
PY
