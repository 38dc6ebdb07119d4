#!/usr/bin/env bash
# A live audience on one edge (issue 12): cdn-viewers' HLS players join a live channel in a flash
# crowd and play it; what they experience (startup, segment times, stalls, errors) and what it
# costs the edge (CPU, RSS) and the tiers above it (upstream requests per segment).
#
# The channel: cdn-origin's live segmenter fed by `ffmpeg -re -stream_loop -1 -c copy` from a
# pre-encoded ~150 kbit/s file (2 s GOPs, 2 s segments), behind cdn-shield. The edge: TLS with an
# ECDSA P-256 certificate, pinned to EDGE_CPU; the simulator pinned to SIM_CPU. Phases, each with
# the same audience (one after the other, same origin and shield):
#   edge-tokens  cdn-edge, 2 workers, viewer tokens on (each player its own token, distinct sub/sid)
#   edge         cdn-edge, 1 worker, tokens off        } the comparison: same certificate,
#   nginx        nginx, 1 worker (proxy_cache)         } pinning and audience
# Per phase: <phase>.json (the simulator's report), <phase>.tsv and <phase>.png (over time),
# <phase>-upstream.json (requests per segment at shield and origin, from their access logs, and
# the upstream request counters from /metrics). table.md compares them.
#
# Environment (defaults in brackets):
#   VIEWERS_N [19000]  VIEWERS_SECONDS [300]  VIEWERS_RAMP [10] (the flash crowd joins within it)
#   VIEWERS_COMPARE_N [min(N, what fits nginx's descriptors: (ulimit -Hn - 1100) / 2)]
#   VIEWERS_COMPARE_SECONDS [120]  audience and hold of the edge and nginx phases (the comparison)
#   VIEWERS_PHASES ["edge-tokens edge nginx"]  VIEWERS_PROCS [a phase's audience/9500 rounded up]
#   VIEWERS_SEARCH [unset] ("4000 8000 12000 16000 19000": the largest flash crowd that meets issue
#     12's criteria: a phase search-<n> per size, like edge-tokens with n viewers joining within
#     VIEWERS_RAMP and held VIEWERS_SEARCH_SECONDS [60]; table.md says pass or fail per size. With
#     it, VIEWERS_PHASES defaults to the search phases only)
#   VIEWERS_SESSION_MEAN [0] (churn: mean watch time in s; 0 = everyone stays)
#   VIEWERS_REJOIN_AFTER [5] (churn: seconds before a viewer who left joins again)
#   EDGE_CPU [0]  SIM_CPU [1]  VIEWERS_BITRATE [100k] (video; + 32k audio + MPEG-TS: ~150 kbit/s)
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18680]  BENCH_OUT [bench/viewers/out]
#   VIEWERS_PERF [unset] (1: `perf record -e task-clock` of the edge and of the simulator per phase,
#     <phase>-{edge,sim}.perf.data, and where the CPU went in <phase>-{edge,sim}-perf.md)
#   VIEWERS_PERF_FROM [0] (seconds into the phase when the profiles start: after the flash crowd,
#     they show the steady state)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) printf 'bench/viewers/run.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
esac
cd "$ROOT"

N="${VIEWERS_N:-19000}"
HOLD="${VIEWERS_SECONDS:-300}"
RAMP="${VIEWERS_RAMP:-10}"
SEARCH_HOLD="${VIEWERS_SEARCH_SECONDS:-60}"
SEARCH_PHASES=""
for size in ${VIEWERS_SEARCH:-}; do
  [[ "$size" =~ ^[1-9][0-9]*$ ]] || { printf "bench/viewers/run.sh: VIEWERS_SEARCH: %s is not an audience size\n" "$size" >&2; exit 2; }
  SEARCH_PHASES+="search-$size "
done
PHASES="${VIEWERS_PHASES:-${SEARCH_PHASES:-edge-tokens edge nginx}}"
# nginx holds two descriptors per viewer at a burst (see run_phase): the comparison's audience is
# what it can carry within the hard limit, so both servers are measured at a size both can serve.
NGINX_FITS=$((($(ulimit -Hn) - 1100) / 2))
COMPARE_N="${VIEWERS_COMPARE_N:-$((N < NGINX_FITS ? N : NGINX_FITS))}"
COMPARE_HOLD="${VIEWERS_COMPARE_SECONDS:-120}"
SESSION_MEAN="${VIEWERS_SESSION_MEAN:-0}"
REJOIN_AFTER="${VIEWERS_REJOIN_AFTER:-5}"
EDGE_CPU="${EDGE_CPU:-0}"
SIM_CPU="${SIM_CPU:-1}"
BITRATE="${VIEWERS_BITRATE:-100k}"
BENCH_DEFAULT_BASE=18680
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

SIM_BIN="$BUILD/bench/viewers/cdn-viewers"
CDNCTL_BIN="$BUILD/cdnctl/cdnctl"
need_tools curl openssl ffmpeg taskset "$PYTHON"
case " $PHASES " in *" nginx "*) need_tools nginx ;; esac
[ -z "${VIEWERS_PERF:-}" ] || need_tools perf
command -v gnuplot >/dev/null || say "gnuplot is not installed (scripts/install-deps.sh installs it): no PNG plots"
ensure_programs
if [ ! -x "$SIM_BIN" ] || [ ! -x "$CDNCTL_BIN" ]; then
  cmake --build "$BUILD" -j"$(nproc)" --target cdn-viewers cdnctl
fi
# The edge and nginx each hold one descriptor per viewer; the simulator splits them over PROCS.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((N + 200)) ] ||
  say "warning: ulimit -n is $(ulimit -n): the edge cannot hold $N viewers (aim for at most $(($(ulimit -n) - 1000)))"

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod,store,logs,tls}
LIVE_KEY=bench-stream-key
CHANNEL_PATH=/live/bench/master.m3u8

# ECDSA P-256: a flash crowd's handshakes cost the edge little (RSA-2048 signs ~3k/s per core).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -sha256 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
"$CDNCTL_BIN" token keygen --alg ES256 --kid bench-1 >"$WORK/viewer-key.jwk"
"$CDNCTL_BIN" token keygen --public "$WORK/viewer-key.jwk" >"$WORK/viewer-keys.jwks"

say "encoding a 60 s source at ~150 kbit/s"
SRC="$WORK/source.ts"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc=size=320x180:rate=25" -f lavfi -i "sine=frequency=440" \
  -t 60 -c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v "$BITRATE" -maxrate "$BITRATE" -bufsize "$BITRATE" \
  -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -b:a 32k -f mpegts "$SRC"

cat >"$WORK/origin.yaml" <<YAML
tier: origin
workers: 1
listen: [{address: 127.0.0.1:$ORIGIN_PORT}]
admin: {listen: 127.0.0.1:$ORIGIN_ADMIN, token: bench}
origin: {root: $WORK/vod}
live:
  store_path: $WORK/store
  target_duration: 2s
  window_segments: 6
  channels: [{name: bench, stream_key: $LIVE_KEY, renditions: [{name: 150k}]}]
access_log: $WORK/logs/origin-access.log
YAML
cat >"$WORK/shield.yaml" <<YAML
tier: shield
workers: 1
listen: [{address: 127.0.0.1:$SHIELD_PORT}]
admin: {listen: 127.0.0.1:$SHIELD_ADMIN, token: bench}
upstream: {policy: failover, servers: [{address: 127.0.0.1:$ORIGIN_PORT}]}
access_log: $WORK/logs/shield-access.log
YAML
write_edge_config() {  # workers tokens(yes|no) audience
  cat >"$WORK/edge.yaml" <<YAML
tier: edge
workers: $1
listen: [{address: 127.0.0.1:$EDGE_TLS_PORT, tls: true}]
admin: {listen: 127.0.0.1:$EDGE_ADMIN, token: bench}
tls: {certificates: [{cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}]}
upstream: {servers: [{address: 127.0.0.1:$SHIELD_PORT}]}
limits: {max_connections: $(($3 + 500)), max_connections_per_client: 0}
access_log: "off"
YAML
  if [ "$2" = yes ]; then
    cat >>"$WORK/edge.yaml" <<YAML
access: {enabled: true, jwks: $WORK/viewer-keys.jwks, audience: cdn, verified_cache: $(($3 + 1000))}
YAML
  fi
}

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i "$SRC" -c copy -f mpegts -method PUT \
  "http://127.0.0.1:$ORIGIN_PORT/ingest/bench/150k?key=$LIVE_KEY" >"$WORK/logs/ffmpeg.log" 2>&1 &
PIDS+=("$!")
say "waiting for three live segments"
n=0
until [ "$(curl -sf "http://127.0.0.1:$ORIGIN_PORT/live/bench/150k/index.m3u8" | grep -c '^#EXTINF')" -ge 3 ]; do
  n=$((n + 1))
  [ $n -lt 300 ] || die "the live channel produced no segments (see $WORK/logs/ffmpeg.log, origin.log)"
  sleep 0.1
done

metric_sum() {  # admin-port metric-name -> sum over its label sets
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%d", s}'
}
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

run_phase() {  # phase-name
  local phase=$1 pid url health="" n=$COMPARE_N hold=$COMPARE_HOLD
  [ "$phase" = edge-tokens ] && n=$N hold=$HOLD
  [[ "$phase" == search-* ]] && n=${phase#search-} hold=$SEARCH_HOLD
  case "$phase" in
    edge-tokens | search-*) write_edge_config 2 yes "$n" ;;
    edge) write_edge_config 1 no "$n" ;;
    nginx) ;;
    *) die "unknown phase $phase" ;;
  esac
  if [ "$phase" = nginx ]; then
    write_nginx_config 1 $((n + 1000)) 65s 60s "$SHIELD_PORT" "$NGINX_PORT" "$NGINX_TLS_PORT"
    # nginx opens a cache file for every response it sends: thousands of viewers fetching a new
    # segment or playlist at once hold one descriptor each beside their sockets, and run out
    # ("Too many open files", 500s) at one descriptor per viewer. So: two per viewer (as far as
    # the hard limit allows; nginx's error log says when it did not), and open_file_cache, which
    # shares one descriptor per cached segment. Segments never change; a playlist's cache file is
    # replaced at every update and a cached descriptor would serve the old one, so playlists are
    # left out of it.
    sed -i -e "s/^worker_rlimit_nofile .*/worker_rlimit_nofile $((2 * n + 1100));/" \
      -e 's/^  sendfile on;$/  sendfile on;\n  open_file_cache max=10000 inactive=60s;/' \
      -e 's|^    location / {$|    location / {\n      location ~ [.]m3u8$ { open_file_cache off; proxy_pass http://origin; }|' \
      "$WORK/nginx/nginx.conf"
    [ "$(grep -c open_file_cache "$WORK/nginx/nginx.conf")" -eq 2 ] || die "could not add open_file_cache to the nginx config"
    start nginx "https://127.0.0.1:$NGINX_TLS_PORT/live/bench/150k/index.m3u8" \
      taskset -c "$EDGE_CPU" nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
    # The worker serves the viewers; the master only watches it.
    pid=$(pgrep -P "$STARTED_PID" | head -n1)
    url="https://127.0.0.1:$NGINX_TLS_PORT$CHANNEL_PATH"
  else
    start "edge-$phase" "http://127.0.0.1:$EDGE_ADMIN/healthz" taskset -c "$EDGE_CPU" "$EDGE_BIN" --config "$WORK/edge.yaml"
    pid=$STARTED_PID
    url="https://127.0.0.1:$EDGE_TLS_PORT$CHANNEL_PATH"
    health="--healthz http://127.0.0.1:$EDGE_ADMIN/healthz"
  fi
  local started_pid=$STARTED_PID
  local tokens=()
  [[ "$phase" == edge-tokens || "$phase" == search-* ]] && tokens=(--token-key "$WORK/viewer-key.jwk" --token-aud cdn)
  local shield_log0 origin_log0 shield_up0 origin_req0
  shield_log0=$(log_size "$WORK/logs/shield-access.log")
  origin_log0=$(log_size "$WORK/logs/origin-access.log")
  shield_up0=$(metric_sum "$SHIELD_ADMIN" cdn_upstream_requests_total)
  origin_req0=$(metric_sum "$ORIGIN_ADMIN" cdn_requests_total)
  say ""
  say "== $phase: $n viewers join within $RAMP s and play for $hold s (edge pid $pid on CPU $EDGE_CPU, simulator on CPU $SIM_CPU)"
  local perf_sim=() perf_edge_pid=""
  if [ -n "${VIEWERS_PERF:-}" ]; then
    # DWARF call chains: Debian's OpenSSL has no symbols for its internals, so its work is told
    # apart by the exported calls above it (perf_split.py).
    local rec=(perf record -q -e task-clock -F 250 --call-graph dwarf,8192) from=${VIEWERS_PERF_FROM:-0}
    (sleep "$from" && exec "${rec[@]}" -p "$pid" -o "$RAW/$phase-edge.perf.data") >/dev/null 2>&1 &
    perf_edge_pid=$!
    # perf 6.1 refuses `-D 0`: a delay is passed only when there is one.
    perf_sim=("${rec[@]}" -o "$RAW/$phase-sim.perf.data" --)
    [ "$from" -eq 0 ] || perf_sim=("${rec[@]}" -D $((from * 1000)) -o "$RAW/$phase-sim.perf.data" --)
  fi
  # shellcheck disable=SC2086  # $health is two words or none
  "${perf_sim[@]}" taskset -c "$SIM_CPU" "$SIM_BIN" --url "$url" --host localhost --viewers "$n" --procs "${VIEWERS_PROCS:-$(((n + 9499) / 9500))}" \
    --ramp "$RAMP" --duration "$hold" --session-mean "$SESSION_MEAN" --rejoin-after "$REJOIN_AFTER" --edge-pid "$pid" $health \
    "${tokens[@]}" --out "$RAW/$phase.json" --series "$RAW/$phase.tsv" >/dev/null || say "$phase: the simulator reported a failure"
  if [ -n "$perf_edge_pid" ]; then
    kill -INT "$perf_edge_pid" 2>/dev/null || true
    wait "$perf_edge_pid" 2>/dev/null || true
    for side in edge sim; do
      "$PYTHON" "$HERE/perf_split.py" "$RAW/$phase-$side.perf.data" "$side" >"$RAW/$phase-$side-perf.md" ||
        say "$phase: perf_split.py failed on the $side profile"
    done
  fi
  local counts
  counts=$("$PYTHON" "$HERE/upstream_counts.py" "shield=$WORK/logs/shield-access.log:$shield_log0" \
    "origin=$WORK/logs/origin-access.log:$origin_log0")
  cat >"$RAW/$phase-upstream.json" <<JSON
{"shield_upstream_requests": $(($(metric_sum "$SHIELD_ADMIN" cdn_upstream_requests_total) - shield_up0)),
 "origin_requests": $(($(metric_sum "$ORIGIN_ADMIN" cdn_requests_total) - origin_req0)),
 "from_access_logs": $counts}
JSON
  stop_started "$started_pid"
  if command -v gnuplot >/dev/null; then
    gnuplot -e "series='$RAW/$phase.tsv'; out='$RAW/$phase.png'; title='$phase: $n viewers, flash crowd within $RAMP s'" \
      "$HERE/plot.gp" 2>/dev/null || say "$phase: gnuplot failed"
  fi
}

for phase in $PHASES; do run_phase "$phase"; done

{
  run_header
  echo "command: VIEWERS_SEARCH=\"${VIEWERS_SEARCH:-}\" VIEWERS_SEARCH_SECONDS=$SEARCH_HOLD VIEWERS_N=$N VIEWERS_SECONDS=$HOLD VIEWERS_COMPARE_N=$COMPARE_N VIEWERS_COMPARE_SECONDS=$COMPARE_HOLD VIEWERS_RAMP=$RAMP VIEWERS_PROCS=${VIEWERS_PROCS:-auto} VIEWERS_SESSION_MEAN=$SESSION_MEAN VIEWERS_REJOIN_AFTER=$REJOIN_AFTER EDGE_CPU=$EDGE_CPU SIM_CPU=$SIM_CPU ./cdn bench viewers"
  echo "source: 320x180 H.264 at $BITRATE + AAC 32k, 2 s GOPs, fed with ffmpeg -re -stream_loop -1 -c copy; 2 s segments, window 6"
  echo "ulimit -n: $(ulimit -n)"
} >"$RAW/env.txt"
"$PYTHON" "$HERE/table.py" "$RAW" $PHASES >"$RAW/table.md"
show_run "raw results (JSON, TSV, PNG per phase)"
