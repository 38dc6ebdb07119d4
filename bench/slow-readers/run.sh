#!/usr/bin/env bash
# 1000 TLS viewers of one cached 20 MB object, each reading at 10 KB/s for 60 s (slow links the
# edge must pace, never buffer for): the edge's RSS after 60 s must stay under
#   object size + viewers x (limits.send_buffer_bytes + 48 KiB) + a fixed base
# over its RSS before the object was fetched. Prints progress, the figure against the bound and
# the time. The short version (200 viewers, 20 s) is tests/integration/test_flow_control.py.
#
# Environment (defaults in brackets):
#   VIEWERS_N [1000]  VIEWERS_RATE [10000] bytes/s  VIEWERS_SECONDS [60]  VIEWERS_OBJECT_MB [20]
#   VIEWERS_SEND_BUFFER_KIB [64]  VIEWERS_BASE_MIB [16] (the fixed base)
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18580]  BENCH_OUT [bench/slow-readers/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

N="${VIEWERS_N:-1000}"
RATE="${VIEWERS_RATE:-10000}"
SECONDS_HELD="${VIEWERS_SECONDS:-60}"
OBJECT_MB="${VIEWERS_OBJECT_MB:-20}"
SEND_BUFFER_KIB="${VIEWERS_SEND_BUFFER_KIB:-64}"
BASE_MIB="${VIEWERS_BASE_MIB:-16}"
BENCH_DEFAULT_BASE=18580
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools curl openssl sha256sum "$PYTHON"
ensure_programs
need_fds=$((N + 1000))
ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge "$need_fds" ] || die "ulimit -n is $(ulimit -n); $N viewers need $need_fds"

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,shield-db,logs}
make_certificate
OBJECT="$WORK/vod/bench/object.bin"
head -c $((OBJECT_MB * 1000 * 1000)) /dev/urandom >"$OBJECT"
OBJECT_BYTES=$(stat -c %s "$OBJECT")

write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
cat >"$WORK/edge.yaml" <<YAML
tier: edge
workers: 2
listen: [{address: 127.0.0.1:$EDGE_TLS_PORT, tls: true}]
admin: {listen: 127.0.0.1:$EDGE_ADMIN, token: bench}
tls: {certificates: [{cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}]}
upstream: {servers: [{address: 127.0.0.1:$ORIGIN_PORT}]}
# One memory shard, so the whole object is admitted to the memory tier and every viewer shares
# its blocks.
cache: {memory: 256MiB, memory_shards: 1}
limits: {max_connections_per_client: 0, max_connections: $((N + 100)), send_buffer_bytes: ${SEND_BUFFER_KIB}KiB}
timeouts: {send_stall: 1h}
access_log: "off"
YAML
start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "$EDGE_BIN" --config "$WORK/edge.yaml"
EDGE_PID=$STARTED_PID
rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
sleep 1  # let start-up allocations settle before the baseline
BASE_KIB=$(rss_kib "$EDGE_PID")

URL="https://127.0.0.1:$EDGE_TLS_PORT/vod/bench/object.bin"
[ "$(curl -ksSf "$URL" | sha256sum)" = "$(sha256sum <"$OBJECT")" ] || die "the edge returns different bytes"
[ "$(curl -ksS -o /dev/null -D - "$URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache" {print $2}')" = HIT ] ||
  die "the object is not a cache HIT after warming"
WARM_KIB=$(rss_kib "$EDGE_PID")

say "viewers: $N TLS at $RATE B/s for $SECONDS_HELD s of a $OBJECT_BYTES-byte object; edge RSS $((BASE_KIB / 1024)) MiB, $((WARM_KIB / 1024)) MiB warm"
t0=$(date +%s.%N)
rc=0
json="$("$PYTHON" "$HERE/read.py" --pid "$EDGE_PID" --port "$EDGE_TLS_PORT" --path /vod/bench/object.bin \
  --n "$N" --rate "$RATE" --seconds "$SECONDS_HELD")" || rc=$?
t1=$(date +%s.%N)
echo "$json" >"$RAW/result.json"
[ "$rc" -eq 0 ] || die "not every viewer was held to the end: $json"

field() { printf '%s' "$json" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
AFTER_KIB=$(field rss_after_kib)
GROWTH=$(((AFTER_KIB - BASE_KIB) * 1024))
BOUND=$((OBJECT_BYTES + N * (SEND_BUFFER_KIB * 1024 + 48 * 1024) + BASE_MIB * 1024 * 1024))
{
  run_header
  echo "command: ./cdn bench slow-readers (VIEWERS_N=$N VIEWERS_RATE=$RATE VIEWERS_SECONDS=$SECONDS_HELD)"
} >"$RAW/env.txt"
{
  echo "| viewers | rate | held | edge RSS before / warm / after $SECONDS_HELD s (MiB) | growth (MiB) | bound (MiB) | read (MiB) | min / median read per viewer (KiB) | ok |"
  echo "| ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |"
  awk -v n="$N" -v r="$RATE" -v h="$(field alive)" -v b="$BASE_KIB" -v w="$WARM_KIB" -v a="$AFTER_KIB" \
    -v g="$GROWTH" -v B="$BOUND" -v rd="$(field read_mib)" -v mn="$(field min_read_kib)" -v md="$(field median_read_kib)" \
    'BEGIN { printf "| %d | %d B/s | %d | %.0f / %.0f / %.0f | %.1f | %.1f | %s | %s / %s | %s |\n",
      n, r, h, b / 1024, w / 1024, a / 1024, g / 1048576, B / 1048576, rd, mn, md, (g <= B ? "yes" : "NO") }'
  echo ""
  echo "bound = object ($OBJECT_BYTES B) + $N x (send_buffer_bytes ${SEND_BUFFER_KIB} KiB + 48 KiB) + base ${BASE_MIB} MiB"
  echo "time: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
} >"$RAW/table.md"
show_run "raw result"
[ "$GROWTH" -le "$BOUND" ] || die "viewers: the edge's RSS grew past the bound"
# Every viewer made progress at about its rate (a quarter of it at least, on a loaded machine).
[ "$(field min_read_kib)" -ge $((RATE * ${SECONDS_HELD%.*} / 4 / 1024)) ] || die "a viewer starved"
say "viewers: ok"
