#!/usr/bin/env bash
# LL-HLS blocking-reload fan-out (issue 14), not a peer comparison: N viewers waiting at the edge
# for the next part (one upstream request per tier), released when the origin publishes it; time
# from the publication to the first and last viewer's first byte and to the last complete
# response, for N = 100, 1000, 10000 (fanout.py says how it measures). One JSON line per N goes
# to bench/llhls/out/<run>/fanout.jsonl.
#
# Environment (defaults in brackets):
#   LLHLS_VIEWERS ["100 1000 10000"]  CDN_BUILD_DIR [build]  BENCH_PORT_BASE [19600]
#   BENCH_OUT [bench/llhls/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
VIEWERS="${LLHLS_VIEWERS:-100 1000 10000}"
BUILD="${CDN_BUILD_DIR:-$ROOT/build}"
BASE="${BENCH_PORT_BASE:-19600}"
OUT="${BENCH_OUT:-$HERE/out}/$(date -u +%Y%m%dT%H%M%SZ)"

command -v python3 >/dev/null || { echo "bench llhls: python3 is not installed" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target cdn-edge cdn-shield >/dev/null
mkdir -p "$OUT"
# shellcheck disable=SC2086  # the sizes are words
python3 "$HERE/fanout.py" "$BUILD" "$OUT/work" "$BASE" $VIEWERS | tee "$OUT/fanout.jsonl"
rm -rf "$OUT/work"
echo "results: $OUT"
