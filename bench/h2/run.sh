#!/usr/bin/env bash
# HTTP/2 comparison on loopback: h2load against cdn-edge (in front of cdn-shield and cdn-origin)
# and nginx (proxy_cache, `listen ... ssl http2;`) in front of the same cdn-origin: the same
# certificate, the same objects cached (every URL checked to be a HIT over HTTP/2 first), the
# same worker count, access logs off. Cases: 1 KB and 1 MB objects, 1 and 10 connections, 10 and
# 100 concurrent streams per connection; ROUNDS rounds interleaved (edge, nginx, edge, ...), the
# median req/s and the median of the per-round ratios reported. The origin's access log proves
# no request reached it while measuring. (HTTP/1.1 figures: bench/load/run.sh.)
#
#   bench/h2/run.sh            2 workers each, nothing pinned, 3 rounds of 10 s
#   bench/h2/run.sh --pinned   1 worker each, servers on CPU 0 and h2load on CPU 1, 5 rounds
#   bench/h2/run.sh --short    a few seconds per case: shows the script works, measures nothing
#   bench/h2/run.sh --cpu ...  CPU time per request instead (bench/h2/cpu.sh, its arguments follow)
#
# Environment (defaults in brackets; --pinned changes the ones marked *):
#   DURATION [10]  seconds per h2load run (h2load -D), after WARMUP [2] seconds of warm-up
#   ROUNDS [3] *5  SERVER_WORKERS [2] *1  SERVER_CPUS [] *0  CLIENT_CPUS [] *1
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18480]  BENCH_OUT [bench/h2/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

if [ "${1:-}" = --cpu ]; then
  shift
  exec "$HERE/cpu.sh" "$@"
fi
PINNED=0
SHORT=0
for arg in "$@"; do
  case "$arg" in
    --pinned) PINNED=1 ;;
    --short) SHORT=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'bench/h2/run.sh: unknown argument %s\n' "$arg" >&2; exit 2 ;;
  esac
done
if [ "$PINNED" = 1 ]; then
  SERVER_CPUS="${SERVER_CPUS:-0}"
  CLIENT_CPUS="${CLIENT_CPUS:-1}"
  SERVER_WORKERS="${SERVER_WORKERS:-1}"
  ROUNDS="${ROUNDS:-5}"
fi
if [ "$SHORT" = 1 ]; then
  DURATION="${DURATION:-1}"
  WARMUP="${WARMUP:-0}"
  ROUNDS="${ROUNDS:-1}"
fi
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"
SERVER_WORKERS="${SERVER_WORKERS:-2}"
SERVER_CPUS="${SERVER_CPUS:-}"
CLIENT_CPUS="${CLIENT_CPUS:-}"

BENCH_DEFAULT_BASE=18480
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools h2load nginx curl openssl
[ -z "$SERVER_CPUS$CLIENT_CPUS" ] || need_tools taskset
ensure_programs

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,edge-db,shield-db,nginx/cache,nginx/tmp,nginx/logs,logs}
make_certificate
write_bench_objects

write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
write_bench_edge_config "http2: {enabled: true}"
write_nginx_config "$SERVER_WORKERS" 4096 60s 60s "$ORIGIN_PORT" "$NGINX_PORT" "$NGINX_TLS_PORT"
# nginx 1.22 turns HTTP/2 on per listen socket; 100 streams per connection fit its default 128.
sed -i "s|listen 127.0.0.1:$NGINX_TLS_PORT ssl;|listen 127.0.0.1:$NGINX_TLS_PORT ssl http2;|" "$WORK/nginx/nginx.conf"
grep -q "ssl http2;" "$WORK/nginx/nginx.conf" || die "could not turn HTTP/2 on in nginx.conf"

pin_server=()
[ -n "$SERVER_CPUS" ] && pin_server=(taskset -c "$SERVER_CPUS")
pin_client=()
[ -n "$CLIENT_CPUS" ] && pin_client=(taskset -c "$CLIENT_CPUS")

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "${pin_server[@]}" "$EDGE_BIN" --config "$WORK/edge.yaml"
nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/logs/nginx-t.log" ||
  { cat "$WORK/logs/nginx-t.log"; die "nginx config test failed"; }
start nginx "http://127.0.0.1:$NGINX_PORT/vod/bench/1k.bin" \
  "${pin_server[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"

url_for() {  # proxy object
  printf '%s/vod/bench/%s' "$(proxy_url "$1" https)" "$2"
}
say "warming caches (over HTTP/2)"
for proxy in edge nginx; do
  for obj in 1k.bin 1m.bin; do
    url="$(url_for "$proxy" "$obj")"
    h="x-cache"
    [ "$proxy" = nginx ] && h="x-cache-status"
    status=""
    for _ in 1 2 3 4 5 6; do
      out="$(curl -ksS --http2 -o "$WORK/got" -D - -w '%{http_version}' "$url" | tr -d '\r')"
      status="$(awk -v h="$h" 'BEGIN{FS=": "} tolower($1)==h {print $2}' <<<"$out")"
      [ "$status" = HIT ] && break
      sleep 0.2
    done
    [ "${out##*$'\n'}" = 2 ] || die "$url did not answer over HTTP/2"
    [ "$status" = HIT ] || die "$url is not a cache HIT after warming (got '$status')"
    cmp -s "$WORK/got" "$WORK/vod/bench/$obj" || die "$url returns different bytes"
    say "  $proxy $url -> HTTP/2 $status"
  done
done
sleep 1
origin_before=$(wc -l <"$WORK/logs/origin-access.log")

# Runs h2load once into $RAW/$file; sets H_RPS and H_ERRS (failed + errored + timeouts + non-2xx).
run_h2load() {  # file url clients streams
  local file="$RAW/$1" url="$2" c="$3" m="$4"
  local args=(-D "$DURATION" --warm-up-time="$WARMUP" -c "$c" -m "$m" -t 1)
  echo "# ${pin_client[*]:-} h2load ${args[*]} $url" >"$file"
  # h2load has been seen to hang after "Stopped all clients" (nginx, 1 MB, 10 × 100, -D 1): a run
  # that outlives its duration by a minute is stopped and shows as 0 req/s.
  local rc=0
  timeout -k 5 $((DURATION + WARMUP + 60)) "${pin_client[@]}" h2load "${args[@]}" "$url" >>"$file" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || { echo "# h2load timed out" >>"$file"; say "  h2load timed out: $file"; }
  H_RPS=$(awk '/^finished in/ {gsub(",", ""); print $4}' "$file")
  H_RPS=${H_RPS:-0}
  H_ERRS=$(awk '/^requests:/ {print $10 + $12 + $14} /^status codes:/ {print $5 + $7 + $9}' "$file" |
    awk '{s += $1} END {print s + 0}')
}

say "h2load: ${DURATION}s per run, ${ROUNDS} round(s), $SERVER_WORKERS worker(s)${SERVER_CPUS:+, servers on CPUs $SERVER_CPUS}${CLIENT_CPUS:+, h2load on CPUs $CLIENT_CPUS}"
declare -A RPS ERRS
CASES=()
for obj in 1k.bin 1m.bin; do
  for c in 1 10; do
    for m in 10 100; do CASES+=("$obj:$c:$m"); done
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for case in "${CASES[@]}"; do
    IFS=: read -r obj c m <<<"$case"
    for proxy in edge nginx; do
      name="$proxy-${obj%.bin}-c$c-m$m"
      run_h2load "$name-r$round.txt" "$(url_for "$proxy" "$obj")" "$c" "$m"
      RPS[$name]="${RPS[$name]:-} $H_RPS"
      ERRS[$name]=$(( ${ERRS[$name]:-0} + H_ERRS ))
      say "  round $round $name: $H_RPS req/s, errors $H_ERRS"
    done
  done
done
sleep 1
origin_after=$(wc -l <"$WORK/logs/origin-access.log")

{
  run_header
  echo "h2load: -D $DURATION --warm-up-time=$WARMUP -t 1, $ROUNDS round(s), $SERVER_WORKERS worker(s) each${SERVER_CPUS:+, servers on CPUs $SERVER_CPUS}${CLIENT_CPUS:+, h2load on CPUs $CLIENT_CPUS}"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'), listen ssl http2, proxy_cache"
  echo "origin requests while measuring: $((origin_after - origin_before))"
} >"$RAW/env.txt"
{
  echo "| object | connections × streams | cdn-edge req/s | nginx req/s | edge/nginx | errors (edge/nginx) |"
  echo "| --- | --- | ---: | ---: | ---: | --- |"
  for case in "${CASES[@]}"; do
    IFS=: read -r obj c m <<<"$case"
    e="edge-${obj%.bin}-c$c-m$m"
    n="nginx-${obj%.bin}-c$c-m$m"
    # shellcheck disable=SC2086  # space-separated per-round values
    printf '| %s | %s × %s | %.0f | %.0f | %.2f | %s/%s |\n' "$( [ "$obj" = 1k.bin ] && echo "1 KB" || echo "1 MB")" \
      "$c" "$m" "$(median ${RPS[$e]})" "$(median ${RPS[$n]})" "$(median_ratio "${RPS[$e]}" "${RPS[$n]}")" \
      "${ERRS[$e]}" "${ERRS[$n]}"
  done
} >"$RAW/table.md"
show_run "raw h2load output"
[ "$((origin_after - origin_before))" -eq 0 ] || die "the origin was asked while measuring: a cache was cold"
