#!/usr/bin/env bash
# Fleet purges (issue 16), not a peer comparison:
#   1. latency from the purge call to the last node applying it, with 4 and 16 cdn-edge processes
#      on loopback sharing one redis-server: p50/p99 over PURGES purges by URL (fleet_latency.py);
#   2. purge by surrogate key over 100,000 tagged objects (memory + RocksDB + index): time of a
#      purge of 1,000 and of all 100,000, and the key index's memory (bench_proxy_purge_key).
# Results go to bench/purge/out/<run>/ (one JSON line per fleet size, the micro-benchmark's JSON).
#
# Environment (defaults in brackets):
#   PURGES [1000]  PURGE_NODES ["4 16"]  CDN_BUILD_DIR [build]  BENCH_PORT_BASE [19400]
#   BENCH_OUT [bench/purge/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
PURGES="${PURGES:-1000}"
PURGE_NODES="${PURGE_NODES:-4 16}"
BUILD="${CDN_BUILD_DIR:-$ROOT/build}"
BASE="${BENCH_PORT_BASE:-19400}"
OUT="${BENCH_OUT:-$HERE/out}/$(date -u +%Y%m%dT%H%M%SZ)"

for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench purge: $tool is not installed" >&2; exit 1; }
done
cmake --build "$BUILD" -j2 --target cdn-edge cdn-origin bench_proxy_purge_key >/dev/null
mkdir -p "$OUT"

echo "== fleet purge latency: purge call -> last node applied ($PURGES purges by URL)"
for n in $PURGE_NODES; do
  python3 "$HERE/fleet_latency.py" "$BUILD" "$OUT/work-$n" "$n" "$PURGES" "$BASE" | tee "$OUT/latency-$n.json"
  rm -rf "$OUT/work-$n"
done

echo "== purge by surrogate key over 100,000 tagged objects"
"$BUILD/bench/bench_proxy_purge_key" --benchmark_out="$OUT/purge_key.json" --benchmark_out_format=json |
  grep -E '^BM_' || true
echo "results: $OUT"
