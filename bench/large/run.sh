#!/usr/bin/env bash
# One object larger than 4 GiB fetched whole through origin -> shield -> edge with curl: the
# bytes must come back exact (sha256 of the response against the file) and no tier may hold more
# than a bounded part of it (the object is above cache.max_object_size, so each proxy tier passes
# it through in a paced fill). Prints progress while it runs, then each tier's peak RSS (VmHWM)
# against the bound, the transfer rate and the time.
#
# The file is sparse: 8-byte little-endian words holding their own offsets are written around
# the start, every GiB boundary, the 2^32 boundary and the end; the rest is holes (zeros). A tier
# that misplaced a block would change the digest.
#
# Environment (defaults in brackets):
#   LARGE_SIZE [4298313033 = 2^32 + 3 MiB + 12345]  LARGE_RSS_BOUND_MIB [256]
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18480]  BENCH_OUT [bench/large/out]
#
# `./cdn bench large origin-throughput` runs origin_throughput.sh instead (cdn-origin against
# nginx's sendfile on a 1 GiB file).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "${1:-}" != origin-throughput ] || exec "$HERE/origin_throughput.sh"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

SIZE="${LARGE_SIZE:-4298313033}"
BOUND_MIB="${LARGE_RSS_BOUND_MIB:-256}"
BENCH_DEFAULT_BASE=18480
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools curl sha256sum "$PYTHON"
ensure_programs
mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/big,shield-db,edge-db,logs}
FILE="$WORK/vod/big/movie.mp4"

"$PYTHON" - "$FILE" "$SIZE" <<'PY'
import sys
from array import array
path, size = sys.argv[1], int(sys.argv[2])
MiB, GiB = 1 << 20, 1 << 30
regions = [(0, MiB), (size - MiB, MiB)] + [(g * GiB - MiB, 2 * MiB) for g in range(1, size // GiB + 1)]
with open(path, "wb") as f:
    f.truncate(size)
    for start, length in regions:
        start, end = max(0, start) & ~7, min(size, start + length)
        data = array("Q", range(start, end + 8, 8)).tobytes()[:end - start]
        f.seek(start)
        f.write(data)
PY
say "file: $SIZE bytes ($(du -k "$FILE" | cut -f1) KiB on disk), digest..."
WANT="$(sha256sum <"$FILE" | cut -d' ' -f1)"

write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
cat >"$WORK/edge.yaml" <<YAML
tier: edge
workers: 2
listen: [{address: 127.0.0.1:$EDGE_PORT}]
admin: {listen: 127.0.0.1:$EDGE_ADMIN, token: bench}
upstream: {servers: [{address: 127.0.0.1:$SHIELD_PORT}]}
cache: {disk_path: $WORK/edge-db}
access_log: "off"
YAML
start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
ORIGIN_PID=$STARTED_PID
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
SHIELD_PID=$STARTED_PID
start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "$EDGE_BIN" --config "$WORK/edge.yaml"
EDGE_PID=$STARTED_PID

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
rss_line() {
  local name pid out=""
  for name in origin shield edge; do
    pid=$(eval echo "\$${name^^}_PID")
    out+="$name $(($(kib "$pid" VmRSS) / 1024)) MiB  "
  done
  echo "$out"
}
declare -A START
for name in origin shield edge; do START[$name]=$(($(kib "$(eval echo "\$${name^^}_PID")" VmRSS) / 1024)); done
say "start RSS: $(rss_line)"

URL="http://127.0.0.1:$EDGE_PORT/vod/big/movie.mp4"
t0=$(date +%s.%N)
curl -sS --fail -o - "$URL" | tee >(wc -c >"$RAW/got_bytes") | sha256sum | cut -d' ' -f1 >"$RAW/got_sha256" &
CURL_JOB=$!
while kill -0 "$CURL_JOB" 2>/dev/null; do
  sleep 5
  kill -0 "$CURL_JOB" 2>/dev/null || break
  sent=$(curl -sf "http://127.0.0.1:$EDGE_ADMIN/metrics" | awk '$1 == "cdn_bytes_sent_total" {printf "%.0f", $2}')
  say "  $(awk -v s="${sent:-0}" -v n="$SIZE" -v t0="$t0" -v t="$(date +%s.%N)" \
    'BEGIN {printf "%5.1f%%  %6.0f MiB  %6.1f s", 100 * s / n, s / 1048576, t - t0}')  RSS $(rss_line)"
done
wait "$CURL_JOB"
t1=$(date +%s.%N)
sleep 0.2  # the byte counter's process substitution writes its file as the pipe ends
GOT="$(cat "$RAW/got_sha256")"
GOT_BYTES="$(cat "$RAW/got_bytes" 2>/dev/null || echo '?')"

fail=0
{
  run_header
  echo "object: $SIZE bytes, sparse, origin -> shield -> edge, plain HTTP, curl"
  echo "command: ./cdn bench large (LARGE_SIZE=$SIZE LARGE_RSS_BOUND_MIB=$BOUND_MIB)"
} >"$RAW/env.txt"
{
  echo "| tier | RSS at start (MiB) | peak RSS VmHWM (MiB) | bound (MiB) | ok |"
  echo "| --- | ---: | ---: | ---: | --- |"
} >"$RAW/table.md"
for name in origin shield edge; do
  pid=$(eval echo "\$${name^^}_PID")
  hwm=$(($(kib "$pid" VmHWM) / 1024))
  ok=yes
  [ "$hwm" -lt "$BOUND_MIB" ] || { ok=NO; fail=1; }
  echo "| $name | ${START[$name]} | $hwm | $BOUND_MIB | $ok |" >>"$RAW/table.md"
done
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
{
  echo ""
  echo "bytes received: $GOT_BYTES of $SIZE; sha256 $( [ "$GOT" = "$WANT" ] && echo "matches the file" || echo "DIFFERS ($GOT, file $WANT)")"
  echo "time: $secs s ($(awk -v n="$SIZE" -v s="$secs" 'BEGIN {printf "%.0f", n / s / 1048576}') MiB/s)"
} >>"$RAW/table.md"
[ "$GOT" = "$WANT" ] && [ "$GOT_BYTES" = "$SIZE" ] || fail=1
rm -f "$FILE"
show_run "raw results"
[ "$fail" -eq 0 ] || die "large: the transfer was not byte-exact or a tier went over its RSS bound"
say "large: ok"
