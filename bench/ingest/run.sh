#!/usr/bin/env bash
# Ingest at scale, beside nginx with its RTMP module: CHANNELS channels x RENDITIONS renditions,
# each rendition pushed at real time by one ffmpeg from a pre-encoded file (-re -stream_loop -1
# -c copy, so the encoders cost little) through the tee muxer to both servers at once, so both
# get the same stream: to the origin over RTMP or SRT (INPUT), to nginx-rtmp over RTMP (its HLS
# output, 2 s fragments). For DURATION seconds after WARMUP it records, per server: segments
# produced per rendition against DURATION / 2 s, the longest wait between two segments of a
# rendition (a late segment), CPU (share of one core and ms per rendition-second) and RSS; for
# the origin also each rendition's input rate against the file's own (are the encoders starved?),
# and for the encoders their CPU. Prints a table (also table.md beside result.json) and fails
# when an origin rendition ended, fell more than one segment short or had a late segment (a wait
# over 3.5 s between two 2 s segments).
#
# Usage: bench/ingest/run.sh [--short]    (--short: 6 channels, 30 s: shows it works)
# Environment (defaults in brackets):
#   CHANNELS [30]  RENDITIONS [2]  DURATION [300] s  WARMUP [15] s  INPUT [mix] (rtmp, srt or
#   mix: even channels RTMP, odd SRT)  NGINX [1] (0: the origin alone)  SRT_LATENCY [120ms]
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [15600]  BENCH_OUT [build/bench-ingest] (raw files)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHORT=0
case "${1:-}" in
  "") ;;
  --short) SHORT=1 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) printf 'bench/ingest/run.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
esac
if [ "$SHORT" = 1 ]; then
  export CHANNELS="${CHANNELS:-6}" DURATION="${DURATION:-30}" WARMUP="${WARMUP:-12}"
fi
export CHANNELS="${CHANNELS:-30}" RENDITIONS="${RENDITIONS:-2}" DURATION="${DURATION:-300}"
export WARMUP="${WARMUP:-15}" INPUT="${INPUT:-mix}" NGINX="${NGINX:-1}" SRT_LATENCY="${SRT_LATENCY:-120ms}"
export BUILD="$(cd "${CDN_BUILD_DIR:-$ROOT/build}" && pwd)"
export BASE="${BENCH_PORT_BASE:-15600}"
export OUT="${BENCH_OUT:-$ROOT/build/bench-ingest}/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
exec /usr/bin/python3 "$HERE/ingest_bench.py"
