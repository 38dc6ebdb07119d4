#!/usr/bin/env bash
# CPU per request of cdn-edge (or nginx) serving one cached object over HTTP/2 (or HTTP/1.1): the
# server alone on SERVER_CPU with one worker, h2load on CLIENT_CPU, a fixed number of requests,
# and `perf stat -e task-clock` on the serving process over exactly that run (h2load's own CPU is
# reported too). CPU time per request moves much less than requests/s on a shared or noisy
# machine (about ±10% here with a load average of 10), so it is how changes to the HTTP/2 path
# are compared; comparisons with nginx still belong on a quiet machine. With --record the same
# run is also sampled (perf record, DWARF call graphs) for a profile.
#
#   bench/h2/cpu.sh                 1 KB over h2, 1 connection × 100 streams, 200000 requests
#   bench/h2/cpu.sh --h1            the same over HTTP/1.1 on TLS (h2load --h1)
#   bench/h2/cpu.sh --nginx         nginx (bench/h2/run.sh's config, one worker) instead of the edge
#   bench/h2/cpu.sh --record        also samples call graphs (perf.data) and writes a flat report of
#                                   the hottest symbols (`perf report -i .../perf.data` for callers)
#   bench/h2/cpu.sh --short         20000 requests: shows the script works
#
# Environment: OBJECT [1k.bin | 1m.bin]  REQUESTS [200000]  CLIENTS [1]  STREAMS [100]
#   EVENTS [] more perf events counted per request (syscalls:sys_enter_write,context-switches)
#   SERVER_CPU [0]  CLIENT_CPU [1]  CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18580]
#   BENCH_OUT [bench/h2/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

PROTO=h2
RECORD=0
SERVER=edge
for arg in "$@"; do
  case "$arg" in
    --h1) PROTO=h1 ;;
    --nginx) SERVER=nginx ;;
    --record) RECORD=1 ;;
    --short) REQUESTS="${REQUESTS:-20000}" ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'bench/h2/cpu.sh: unknown argument %s\n' "$arg" >&2; exit 2 ;;
  esac
done
OBJECT="${OBJECT:-1k.bin}"
REQUESTS="${REQUESTS:-200000}"
CLIENTS="${CLIENTS:-1}"
STREAMS="${STREAMS:-100}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
SERVER_WORKERS=1
BENCH_DEFAULT_BASE=18580
BENCH_RUN_SUFFIX=-cpu
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools h2load curl openssl perf taskset
ensure_programs

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,edge-db,shield-db,logs,nginx}
make_certificate
write_bench_objects
write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
write_bench_edge_config "http2: {enabled: true}"

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
if [ "$SERVER" = edge ]; then
  start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" taskset -c "$SERVER_CPU" "$EDGE_BIN" --config "$WORK/edge.yaml"
  SERVER_PID=$STARTED_PID
  cache_header=x-cache
else
  need_tools nginx
  write_nginx_config 1 4096 60s 60s "$ORIGIN_PORT" "$NGINX_PORT" "$NGINX_TLS_PORT"
  sed -i "s|listen 127.0.0.1:$NGINX_TLS_PORT ssl;|listen 127.0.0.1:$NGINX_TLS_PORT ssl http2;|" "$WORK/nginx/nginx.conf"
  start nginx "http://127.0.0.1:$NGINX_PORT/vod/bench/$OBJECT" \
    taskset -c "$SERVER_CPU" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
  # The one worker serves; the master only watches it.
  SERVER_PID=$(pgrep -P "$STARTED_PID" -f "worker process" | head -n1)
  [ -n "$SERVER_PID" ] || die "no nginx worker found"
  cache_header=x-cache-status
fi

url="$(proxy_url "$SERVER" https)/vod/bench/$OBJECT"
status=""
for _ in 1 2 3 4 5 6; do
  status="$(curl -ksS -o "$WORK/got" -D - "$url" | tr -d '\r' | awk -v h="$cache_header" 'BEGIN{FS=": "} tolower($1)==h {print $2}')"
  [ "$status" = HIT ] && break
  sleep 0.2
done
[ "$status" = HIT ] || die "$url is not a cache HIT after warming (got '$status')"
cmp -s "$WORK/got" "$WORK/vod/bench/$OBJECT" || die "$url returns different bytes"

h2args=(-c "$CLIENTS" -m "$STREAMS" -t 1)
[ "$PROTO" = h1 ] && h2args+=(--h1)
# A short run first so that the measured one finds warm caches, pools and TLS session state.
taskset -c "$CLIENT_CPU" h2load -n 2000 "${h2args[@]}" "$url" >/dev/null 2>&1 || true

perf_pids=()
perf stat -e "task-clock${EVENTS:+,$EVENTS}" -x, -o "$RAW/perf-stat.csv" -p "$SERVER_PID" >"$RAW/perf.log" 2>&1 &
perf_pids+=($!)
if [ "$RECORD" = 1 ]; then  # sampling costs the edge a little CPU too: compare like with like
  # DWARF unwinding: the programs are built without frame pointers.
  perf record --call-graph dwarf,16384 -o "$RAW/perf.data" -p "$SERVER_PID" >"$RAW/perf-record.log" 2>&1 &
  perf_pids+=($!)
fi
sleep 0.5  # perf attaches asynchronously; it must count from before the first request
# h2load's own CPU too: when it nears the edge's, req/s comparisons measure the client as much.
taskset -c "$CLIENT_CPU" perf stat -e task-clock -x, -o "$RAW/perf-stat-h2load.csv" \
  h2load -n "$REQUESTS" "${h2args[@]}" "$url" >"$RAW/h2load.txt" 2>&1 || true
for p in "${perf_pids[@]}"; do kill -INT "$p"; wait "$p" || true; done

done_reqs=$(awk '/^requests:/ {print $8}' "$RAW/h2load.txt")
ok2xx=$(awk '/^status codes:/ {print $3}' "$RAW/h2load.txt")
task_ms=$(awk -F, '/task-clock/ {print $1}' "$RAW/perf-stat.csv")
client_ms=$(awk -F, '/task-clock/ {print $1}' "$RAW/perf-stat-h2load.csv")
if [ -z "$done_reqs" ] || [ -z "$task_ms" ]; then
  cat "$RAW/h2load.txt" "$RAW/perf.log"
  die "no figures"
fi
[ "$ok2xx" = "$REQUESTS" ] || die "$ok2xx of $REQUESTS requests got 2xx (see $RAW/h2load.txt)"
{
  run_header
  echo "object: $OBJECT over $PROTO, $CLIENTS connection(s) × $STREAMS streams, $REQUESTS requests"
  echo "$SERVER on CPU $SERVER_CPU (1 worker), h2load on CPU $CLIENT_CPU$([ "$RECORD" = 1 ] && echo ", perf record running")"
  printf '%s CPU: %.0f ms, %.2f µs per request\n' "$SERVER" "$task_ms" "$(awk -v t="$task_ms" -v n="$REQUESTS" 'BEGIN{print t * 1000 / n}')"
  printf 'h2load CPU: %.0f ms, %.2f µs per request\n' "$client_ms" "$(awk -v t="$client_ms" -v n="$REQUESTS" 'BEGIN{print t * 1000 / n}')"
  # Any further EVENTS, per request.
  awk -F, -v n="$REQUESTS" '$3 != "" && $3 != "task-clock" && $1 ~ /^[0-9.]+$/ {printf "%s: %.3f per request\n", $3, $1 / n}' "$RAW/perf-stat.csv"
} | tee "$RAW/result.txt"
if [ "$RECORD" = 1 ]; then
  perf report -i "$RAW/perf.data" --no-children --stdio --percent-limit 0.7 -g none \
    --sort dso,symbol 2>/dev/null >"$RAW/report.txt" || true
  say "profile: ${RAW#"$ROOT"/}/report.txt (perf.data beside it)"
fi
