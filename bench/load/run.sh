#!/usr/bin/env bash
# Load comparison on loopback: cdn-edge (in front of cdn-shield and cdn-origin) against nginx
# with proxy_cache in front of the same cdn-origin, both with 2 workers, access logs off, TLS with
# the same certificate, keep-alive to the upstream. Both caches are warmed and every URL is
# checked to be a HIT before measuring; the origin's access log proves that no request reached it
# during the measurements.
#
# Environment (defaults in brackets):
#   WRK_THREADS [2]  WRK_CONNS [50]  WRK_DURATION [10s]   wrk -t/-c/-d
#   WRK_CPUS  []     if set, wrk runs under `taskset -c $WRK_CPUS`
#   SERVER_CPUS []   if set, cdn-edge and nginx run under `taskset -c $SERVER_CPUS`
#   SERVER_WORKERS [2]  worker threads of cdn-edge = worker_processes of nginx
#   CDN_BUILD_DIR [build]  where the cdn programs are (built if missing)
#   BENCH_PORT_BASE [18180]  ports BASE..BASE+5 and BASE+1000..BASE+1002 are used
#   BENCH_OUT [bench/load/out]  raw wrk output, configs and logs
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNS="${WRK_CONNS:-50}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_CPUS="${WRK_CPUS:-}"
SERVER_CPUS="${SERVER_CPUS:-}"
SERVER_WORKERS="${SERVER_WORKERS:-2}"
BUILD="${CDN_BUILD_DIR:-$ROOT/build}"
BASE="${BENCH_PORT_BASE:-18180}"
OUT="${BENCH_OUT:-$HERE/out}"

ORIGIN_PORT=$BASE
SHIELD_PORT=$((BASE + 1))
EDGE_PORT=$((BASE + 2))
EDGE_TLS_PORT=$((BASE + 3))
NGINX_PORT=$((BASE + 4))
NGINX_TLS_PORT=$((BASE + 5))
ORIGIN_ADMIN=$((BASE + 1000))
SHIELD_ADMIN=$((BASE + 1001))
EDGE_ADMIN=$((BASE + 1002))

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for tool in wrk nginx curl openssl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
done
ORIGIN_BIN="$BUILD/origin-shield/origin/cdn-origin"
SHIELD_BIN="$BUILD/origin-shield/shield/cdn-shield"
EDGE_BIN="$BUILD/edge/cdn-edge"
if [ ! -x "$ORIGIN_BIN" ] || [ ! -x "$SHIELD_BIN" ] || [ ! -x "$EDGE_BIN" ]; then
  say "building the programs in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target cdn-origin cdn-shield cdn-edge
fi

RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$OUT/$RUN_ID"
mkdir -p "$RAW"
WORK="$OUT/work"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,edge-db,shield-db,nginx/cache,nginx/tmp,nginx/logs,logs,tls}

# --- certificate (self-signed, for 127.0.0.1 and localhost) ----------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null

# --- objects ---------------------------------------------------------------------------------
head -c 1024 /dev/urandom >"$WORK/vod/bench/1k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/vod/bench/1m.bin"

# --- configs ---------------------------------------------------------------------------------
cat >"$WORK/origin.yaml" <<EOF
tier: origin
workers: 2
listen: [{address: 127.0.0.1:$ORIGIN_PORT}]
admin: {listen: 127.0.0.1:$ORIGIN_ADMIN, token: bench}
origin: {root: $WORK/vod, segment_max_age: 7d}
access_log: $WORK/logs/origin-access.log
EOF
cat >"$WORK/shield.yaml" <<EOF
tier: shield
workers: 2
listen: [{address: 127.0.0.1:$SHIELD_PORT}]
admin: {listen: 127.0.0.1:$SHIELD_ADMIN, token: bench}
upstream: {policy: failover, servers: [{address: 127.0.0.1:$ORIGIN_PORT}]}
cache: {disk_path: $WORK/shield-db}
access_log: "off"
EOF
cat >"$WORK/edge.yaml" <<EOF
tier: edge
workers: $SERVER_WORKERS
listen: [{address: 127.0.0.1:$EDGE_TLS_PORT, tls: true}, {address: 127.0.0.1:$EDGE_PORT}]
admin: {listen: 127.0.0.1:$EDGE_ADMIN, token: bench}
tls: {certificates: [{cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}]}
upstream: {servers: [{address: 127.0.0.1:$SHIELD_PORT}]}
cache: {memory: 256MiB, disk_path: $WORK/edge-db}
access_log: "off"
EOF
USER_LINE=""
[ "$(id -u)" -eq 0 ] && USER_LINE="user root root;"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Equivalent of the cdn-edge config above: same worker count, same certificate, TLS 1.2/1.3,
# session cache, keep-alive to the upstream, no access log; cached objects on disk (proxy_cache).
$USER_LINE
daemon off;
worker_processes $SERVER_WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 60s;
  keepalive_requests 1000000;   # cdn-edge has no per-connection request limit either
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  default_type application/octet-stream;
  proxy_cache_path $WORK/nginx/cache levels=1:2 keys_zone=edge:64m max_size=2g inactive=7d use_temp_path=off;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    listen 127.0.0.1:$NGINX_TLS_PORT ssl;
    server_name localhost;
    ssl_certificate $WORK/tls/cert.pem;
    ssl_certificate_key $WORK/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:20m;
    ssl_session_tickets on;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_key \$proxy_host\$request_uri;   # like cdn-edge: plain and TLS share entries
      proxy_cache_lock on;
      add_header X-Cache-Status \$upstream_cache_status;
    }
  }
}
EOF

# --- processes -------------------------------------------------------------------------------
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    local n=0
    while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin_server=()
[ -n "$SERVER_CPUS" ] && pin_server=(taskset -c "$SERVER_CPUS")
pin_wrk=()
[ -n "$WRK_CPUS" ] && pin_wrk=(taskset -c "$WRK_CPUS")

start() {  # name health-url cmd...
  local name="$1" url="$2"
  shift 2
  "$@" >"$WORK/logs/$name.log" 2>&1 &
  PIDS+=("$!")
  local pid=$! n=0
  until curl -ksf -o /dev/null "$url"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$WORK/logs/$name.log"; die "$name exited during start-up"; }
    n=$((n + 1))
    [ $n -lt 100 ] || die "$name did not come up ($url)"
    sleep 0.1
  done
}

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "${pin_server[@]}" "$EDGE_BIN" --config "$WORK/edge.yaml"
nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/logs/nginx-t.log" ||
  { cat "$WORK/logs/nginx-t.log"; die "nginx config test failed"; }
start nginx "http://127.0.0.1:$NGINX_PORT/vod/bench/1k.bin" \
  "${pin_server[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"

# --- warm up and verify HITs -----------------------------------------------------------------
url_for() {  # proxy scheme object
  local port
  case "$1/$2" in
    edge/http) port=$EDGE_PORT ;;
    edge/https) port=$EDGE_TLS_PORT ;;
    nginx/http) port=$NGINX_PORT ;;
    nginx/https) port=$NGINX_TLS_PORT ;;
  esac
  printf '%s://127.0.0.1:%s/vod/bench/%s' "$2" "$port" "$3"
}
cache_header() {  # proxy url
  local h="X-Cache"
  [ "$1" = nginx ] && h="X-Cache-Status"
  curl -ksS -o /dev/null -D - "$2" | tr -d '\r' | awk -v h="$(echo "$h" | tr 'A-Z' 'a-z')" \
    'BEGIN{FS=": "} tolower($1)==h {print $2}'
}
say "warming caches"
for proxy in edge nginx; do
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      url="$(url_for $proxy $scheme $obj)"
      want_size=$(stat -c %s "$WORK/vod/bench/$obj")
      got_size=$(curl -ksSf -o /dev/null -w '%{size_download}' "$url")
      [ "$got_size" = "$want_size" ] || die "$url: got $got_size bytes, want $want_size"
      status=""
      for _ in 1 2 3 4 5; do
        status="$(cache_header $proxy "$url")"
        [ "$status" = HIT ] && break
        sleep 0.2
      done
      say "  $proxy $url -> $status"
      [ "$status" = HIT ] || die "$url is not a cache HIT after warming (got '$status')"
    done
  done
done
# The same bytes from every path.
for obj in 1k.bin 1m.bin; do
  want="$(sha256sum <"$WORK/vod/bench/$obj")"
  for proxy in edge nginx; do
    got="$(curl -ksSf "$(url_for $proxy https $obj)" | sha256sum)"
    [ "$got" = "$want" ] || die "$proxy returns different bytes for $obj"
  done
done
sleep 1
origin_before=$(wc -l <"$WORK/logs/origin-access.log")

# --- measure ---------------------------------------------------------------------------------
say "wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency${WRK_CPUS:+ (wrk pinned to CPUs $WRK_CPUS)}${SERVER_CPUS:+ (servers pinned to CPUs $SERVER_CPUS)}"
to_ms() {  # "1.23ms" / "456.00us" / "1.20s" -> milliseconds
  awk -v v="$1" 'BEGIN{
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.2f", n }'
}
declare -A RPS P99 ERRS
for obj in 1k.bin 1m.bin; do
  for scheme in http https; do
    for proxy in edge nginx; do
      url="$(url_for $proxy $scheme $obj)"
      name="${proxy}-${obj%.bin}-${scheme}"
      file="$RAW/$name.txt"
      {
        echo "# $proxy $url"
        echo "# wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency ${pin_wrk[*]:-}"
      } >"$file"
      "${pin_wrk[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency "$url" >>"$file" 2>&1
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$file")
      p99=$(awk '$1 == "99%" {print $2}' "$file")
      non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$file")
      sockerr=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$file")
      RPS[$name]="${rps:-0}"
      P99[$name]="$(to_ms "${p99:-0}")"
      ERRS[$name]=$(( ${non2xx:-0} + ${sockerr:-0} ))
      say "  $name: ${rps:-?} req/s, p99 ${p99:-?}, errors ${ERRS[$name]}"
      sleep 1
    done
  done
done

# Latency at equal offered load: the same connections, each pausing between requests, long
# enough that neither proxy is saturated (1 MB responses need a longer pause than 1 KB ones).
PACE_MS_1K="${PACE_MS_1K:-2}"
PACE_MS_1M="${PACE_MS_1M:-60}"
say "paced: wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency -s paced.lua (pause per connection: 1 KB ${PACE_MS_1K} ms, 1 MB ${PACE_MS_1M} ms)"
declare -A PRPS P50 PP99
for obj in 1k.bin 1m.bin; do
  if [ "$obj" = 1k.bin ]; then export PACE_MS=$PACE_MS_1K; else export PACE_MS=$PACE_MS_1M; fi
  for scheme in http https; do
    for proxy in edge nginx; do
      url="$(url_for $proxy $scheme $obj)"
      name="${proxy}-${obj%.bin}-${scheme}"
      file="$RAW/paced-$name.txt"
      echo "# $proxy $url (PACE_MS=$PACE_MS)" >"$file"
      "${pin_wrk[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency \
        -s "$ROOT/bench/load/paced.lua" "$url" >>"$file" 2>&1
      PRPS[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$file")
      P50[$name]="$(to_ms "$(awk '$1 == "50%" {print $2}' "$file")")"
      PP99[$name]="$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")"
      say "  paced $name: ${PRPS[$name]:-?} req/s, p50 ${P50[$name]} ms, p99 ${PP99[$name]} ms"
      sleep 1
    done
  done
done
sleep 1
origin_after=$(wc -l <"$WORK/logs/origin-access.log")

# --- report ----------------------------------------------------------------------------------
case_label() {  # 1k.bin https -> "1 KB TLS"
  local size=${1%.bin}
  size=${size/1k/1 KB}
  size=${size/1m/1 MB}
  echo "$size $( [ "$2" = https ] && echo TLS || echo plain)"
}
table="$RAW/table.md"
{
  echo "| case | cdn-edge req/s | nginx req/s | edge/nginx | cdn-edge p99 ms | nginx p99 ms | p99 edge/nginx | errors edge/nginx |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      e="edge-${obj%.bin}-$scheme"
      n="nginx-${obj%.bin}-$scheme"
      label="$(case_label "$obj" "$scheme")"
      awk -v l="$label" -v er="${RPS[$e]}" -v nr="${RPS[$n]}" -v ep="${P99[$e]}" -v np="${P99[$n]}" \
        -v ee="${ERRS[$e]}" -v ne="${ERRS[$n]}" 'BEGIN{
          printf "| %s | %.0f | %.0f | %.2fx | %.2f | %.2f | %.2fx | %d / %d |\n",
            l, er, nr, (nr > 0 ? er / nr : 0), ep, np, (np > 0 ? ep / np : 0), ee, ne }'
    done
  done
  echo
  echo "Equal offered load (each connection pauses between requests: 1 KB ${PACE_MS_1K} ms, 1 MB ${PACE_MS_1M} ms):"
  echo
  echo "| case | cdn-edge req/s | nginx req/s | cdn-edge p50 ms | nginx p50 ms | cdn-edge p99 ms | nginx p99 ms | p99 edge/nginx |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      e="edge-${obj%.bin}-$scheme"
      n="nginx-${obj%.bin}-$scheme"
      label="$(case_label "$obj" "$scheme")"
      awk -v l="$label" -v er="${PRPS[$e]:-0}" -v nr="${PRPS[$n]:-0}" -v e5="${P50[$e]}" -v n5="${P50[$n]}" \
        -v ep="${PP99[$e]}" -v np="${PP99[$n]}" 'BEGIN{
          printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2fx |\n",
            l, er, nr, e5, n5, ep, np, (np > 0 ? ep / np : 0) }'
    done
  done
} >"$table"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
  echo "wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency; wrk CPUs: ${WRK_CPUS:-any}; server CPUs: ${SERVER_CPUS:-any}; workers: $SERVER_WORKERS"
  echo "origin requests during measurement: $((origin_after - origin_before)) (0 = every response was a cache hit)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); wrk: $(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
} >"$RAW/env.txt"
say ""
cat "$RAW/env.txt"
say ""
cat "$table"
say ""
say "raw wrk output: ${RAW#"$ROOT"/}/"
[ "$((origin_after - origin_before))" -eq 0 ] || say "WARNING: the origin saw requests during the measurement"
