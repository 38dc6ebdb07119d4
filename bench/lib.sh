# shellcheck shell=bash disable=SC2034  # the port variables are used by the scripts that source this
# Shared by bench/load/run.sh and bench/memory/run.sh (sourced, not run): finding the programs,
# the certificate, the origin and shield every peer sits in front of, and starting processes so
# that they are all stopped when the script exits.
# The caller sets HERE (its folder), ROOT and BENCH_DEFAULT_BASE (its first port unless
# BENCH_PORT_BASE says otherwise), optionally BENCH_RUN_SUFFIX; this file sets the paths every
# bench uses: BUILD (CDN_BUILD_DIR), OUT (BENCH_OUT), RAW (this run's results), WORK (its scratch).
BUILD="$(realpath -m "${CDN_BUILD_DIR:-$ROOT/build}")"
BASE="${BENCH_PORT_BASE:-${BENCH_DEFAULT_BASE:?the bench sets BENCH_DEFAULT_BASE}}"
OUT="${BENCH_OUT:-$HERE/out}"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$OUT/$RUN_ID${BENCH_RUN_SUFFIX:-}"
WORK="$OUT/work${BENCH_RUN_SUFFIX:-}"
PYTHON="${PYTHON:-/usr/bin/python3}"

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
  done
}

# Port layout from BASE: BASE..BASE+6 and BASE+1000..BASE+1002 (used by the scripts that
# source this file).
ORIGIN_PORT=$BASE
SHIELD_PORT=$((BASE + 1))
EDGE_PORT=$((BASE + 2))
EDGE_TLS_PORT=$((BASE + 3))
NGINX_PORT=$((BASE + 4))
NGINX_TLS_PORT=$((BASE + 5))
VARNISH_PORT=$((BASE + 6))
ORIGIN_ADMIN=$((BASE + 1000))
SHIELD_ADMIN=$((BASE + 1001))
EDGE_ADMIN=$((BASE + 1002))

proxy_url() {  # edge|nginx|varnish http|https -> base URL (Varnish does not terminate TLS)
  local port
  case "$1/$2" in
    edge/http) port=$EDGE_PORT ;;
    edge/https) port=$EDGE_TLS_PORT ;;
    nginx/http) port=$NGINX_PORT ;;
    nginx/https) port=$NGINX_TLS_PORT ;;
    varnish/http) port=$VARNISH_PORT ;;
    *) return 1 ;;
  esac
  printf '%s://127.0.0.1:%s' "$2" "$port"
}

ORIGIN_BIN="$BUILD/origin-shield/origin/cdn-origin"
SHIELD_BIN="$BUILD/origin-shield/shield/cdn-shield"
EDGE_BIN="$BUILD/edge/cdn-edge"

ensure_programs() {
  if [ ! -x "$ORIGIN_BIN" ] || [ ! -x "$SHIELD_BIN" ] || [ ! -x "$EDGE_BIN" ]; then
    say "building the programs in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target cdn-origin cdn-shield cdn-edge
  fi
}

# The two cached objects of the request-rate comparisons, 1 KB and 1 MB of random bytes.
write_bench_objects() {
  head -c 1024 /dev/urandom >"$WORK/vod/bench/1k.bin"
  head -c $((1024 * 1024)) /dev/urandom >"$WORK/vod/bench/1m.bin"
}

# The edge of the request-rate comparisons: plain and TLS listeners in front of the shield, memory
# and disk cache, no access log; each argument is one more top-level YAML line.
write_bench_edge_config() {  # [yaml-line...]
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
  [ "$#" -eq 0 ] || printf '%s\n' "$@" >>"$WORK/edge.yaml"
}

make_certificate() {  # self-signed RSA-2048 for 127.0.0.1 and localhost, in $WORK/tls
  mkdir -p "$WORK/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
}

write_origin_and_shield_configs() {  # origin-port origin-admin shield-port shield-admin
  cat >"$WORK/origin.yaml" <<EOF
tier: origin
workers: 2
listen: [{address: 127.0.0.1:$1}]
admin: {listen: 127.0.0.1:$2, token: bench}
origin: {root: $WORK/vod, segment_max_age: 7d}
access_log: $WORK/logs/origin-access.log
EOF
  cat >"$WORK/shield.yaml" <<EOF
tier: shield
workers: 2
listen: [{address: 127.0.0.1:$3}]
admin: {listen: 127.0.0.1:$4, token: bench}
upstream: {policy: failover, servers: [{address: 127.0.0.1:$1}]}
cache: {disk_path: $WORK/shield-db}
access_log: "off"
EOF
}

# nginx runs as root's user only when we are root (it refuses `user` otherwise).
nginx_user_line() {
  [ "$(id -u)" -eq 0 ] && echo "user root root;"
  return 0
}

# nginx as the edge's peer: proxy_cache in front of the same origin, same certificate and TLS
# versions, session cache, keep-alive to the upstream, no access log.
write_nginx_config() {  # workers connections keepalive-timeout send-timeout origin-port port tls-port
  mkdir -p "$WORK/nginx"/{cache,tmp,logs}
  cat >"$WORK/nginx/nginx.conf" <<EOF
$(nginx_user_line)
daemon off;
worker_processes $1;
worker_rlimit_nofile $(($2 + 100));
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections $2; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout $3;
  keepalive_requests 1000000;   # cdn-edge has no per-connection request limit either
  send_timeout $4;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  default_type application/octet-stream;
  proxy_cache_path $WORK/nginx/cache levels=1:2 keys_zone=edge:64m max_size=2g inactive=7d use_temp_path=off;
  upstream origin {
    server 127.0.0.1:$5;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$6;
    listen 127.0.0.1:$7 ssl;
    server_name localhost;
    ssl_certificate $WORK/tls/cert.pem;
    ssl_certificate_key $WORK/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:20m;
    ssl_session_tickets on;${NGINX_TLS13_SUITES:+
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites $NGINX_TLS13_SUITES;}
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
}

PIDS=()
stop_pid() {  # pid: TERM, wait up to 5 s, then KILL
  local p=$1 n=0
  kill -TERM "$p" 2>/dev/null || true
  while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STARTED_PID=""
start() {  # name health-url cmd...   (sets STARTED_PID)
  local name="$1" url="$2"
  shift 2
  "$@" >"$WORK/logs/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  local n=0
  until curl -ksf -o /dev/null "$url"; do
    kill -0 "$STARTED_PID" 2>/dev/null || { tail -n 20 "$WORK/logs/$name.log"; die "$name exited during start-up"; }
    n=$((n + 1))
    [ $n -lt 100 ] || die "$name did not come up ($url)"
    sleep 0.1
  done
}

stop_started() {  # pid: stops one process started with `start` and forgets it
  local p=$1 keep=() q
  stop_pid "$p"
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}

machine_line() {
  echo "$(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

run_header() {  # what every run records first: when, where, which programs
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(machine_line)"
  echo "programs: $BUILD$( [ -f "$BUILD/SOURCE" ] && echo " ($(cat "$BUILD/SOURCE"))")"
}

# Prints env.txt and the table of a finished run.
show_run() {  # what-the-raw-files-are
  say ""
  cat "$RAW/env.txt"
  say ""
  cat "$RAW/table.md"
  say ""
  say "$1: ${RAW#"$ROOT"/}/"
}

# Median over rounds of edge/peer, each round's ratio taken from runs made minutes apart at most,
# so that drift in the machine's load cancels.
median_ratio() {  # "a1 a2 ..." "b1 b2 ..."
  local -a a b r=()
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  local i
  for i in "${!a[@]}"; do
    r+=("$(awk -v x="${a[$i]}" -v y="${b[$i]:-0}" 'BEGIN{ printf "%.4f", (y > 0 ? x / y : 0) }')")
  done
  median "${r[@]}"
}

median() {  # numbers... -> median (mean of the middle two for an even count)
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print 0; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
