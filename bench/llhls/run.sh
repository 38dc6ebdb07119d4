#!/usr/bin/env bash
# LL-HLS blocking-reload fan-out (issue 14), not a peer comparison: N viewers waiting at the edge
# for a part still to come (one upstream request per tier), released when the origin publishes it;
# time from the publication to the first and last viewer's first byte and to the last complete
# response, for N = 100, 1000, 10000 (fanout.py says how it measures). By default against
# cdn-origin packaging ffmpeg's real-time encode (the publication is the moment cdn-origin answers
# a probe held there for the same part); LLHLS_ORIGIN=scripted uses the tests' scriptable origin,
# which publishes only once the edge reports every viewer parked. One JSON line per N goes to
# bench/llhls/out/<run>/fanout.jsonl.
#
# Environment (defaults in brackets):
#   LLHLS_VIEWERS ["100 1000 10000"]  LLHLS_ORIGIN [real]  CDN_BUILD_DIR [build]
#   BENCH_PORT_BASE [19600]  BENCH_OUT [bench/llhls/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
VIEWERS="${LLHLS_VIEWERS:-100 1000 10000}"
MODE="${LLHLS_ORIGIN:-real}"
BENCH_DEFAULT_BASE=19600
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools "$PYTHON"
[ "$MODE" = scripted ] || need_tools ffmpeg
ensure_programs
mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"
# shellcheck disable=SC2086  # the sizes are words
"$PYTHON" "$HERE/fanout.py" --build "$BUILD" --work "$WORK" --origin "$MODE" \
  --ports "$ORIGIN_PORT,$SHIELD_PORT,$EDGE_PORT,$ORIGIN_ADMIN,$SHIELD_ADMIN,$EDGE_ADMIN" $VIEWERS |
  tee "$RAW/fanout.jsonl"
rm -rf "$WORK"
say "results: $RAW"
