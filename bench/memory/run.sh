#!/usr/bin/env bash
# Memory per connection: cdn-edge against nginx configured the same way (one worker each, same
# certificate, keep-alive and send timeouts long enough never to fire), in one run.
#
#   idle plain / idle TLS: MEM_CONNS connections, each having made one keep-alive request for a
#                          cached 1 KB object, held idle; server RSS delta / connections
#   stalled TLS:           MEM_STALLED TLS viewers with SO_RCVBUF 4 KiB ask for a cached 2 MB object
#                          and never read; server RSS delta / viewers
#
# Every case runs on a freshly started server (memory a case freed is not always returned to the
# kernel, which would flatter the next case), rounds interleave edge and nginx, and the table
# gives medians. Raw per-round JSON in bench/memory/out/<run>/. Use thousands of connections:
# with a few hundred, a server's first connections fit into memory its allocator already holds
# and the figure can come out near 0.
#
# Environment (defaults in brackets):
#   MEM_CONNS [10000]  MEM_STALLED [300]  MEM_ROUNDS [3]  MEM_CASES [idle-plain idle-tls stalled-tls]
#   MEM_RCVBUF [4096]  CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18380]  BENCH_OUT [bench/memory/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

MEM_CONNS="${MEM_CONNS:-10000}"
MEM_STALLED="${MEM_STALLED:-300}"
MEM_ROUNDS="${MEM_ROUNDS:-3}"
MEM_CASES="${MEM_CASES:-idle-plain idle-tls stalled-tls}"
MEM_RCVBUF="${MEM_RCVBUF:-4096}"

BENCH_DEFAULT_BASE=18380
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools nginx curl openssl "$PYTHON"
ensure_programs

# Each held connection is a descriptor in the server and one in the client.
need_fds=$((MEM_CONNS + 1000))
ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge "$need_fds" ] ||
  die "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); MEM_CONNS=$MEM_CONNS needs $need_fds"

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,shield-db,logs}
make_certificate
head -c 1024 /dev/urandom >"$WORK/vod/bench/1k.bin"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/vod/bench/2m.bin"

write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
cat >"$WORK/edge.yaml" <<EOF
tier: edge
workers: 1
listen: [{address: 127.0.0.1:$EDGE_TLS_PORT, tls: true}, {address: 127.0.0.1:$EDGE_PORT}]
admin: {listen: 127.0.0.1:$EDGE_ADMIN, token: bench}
tls: {certificates: [{cert: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}]}
upstream: {servers: [{address: 127.0.0.1:$SHIELD_PORT}]}
cache: {memory: 256MiB, disk_path: $WORK/edge-db}
# All held connections come from a few loopback addresses; idle and stalled connections must
# outlive the measurement.
limits: {max_connections_per_client: 0, max_connections: 20000}
timeouts: {keepalive_idle: 1h, send_stall: 1h}
access_log: "off"
EOF
# One worker like the edge; timeouts long enough that no held connection is closed.
write_nginx_config 1 20000 3600s 3600s "$ORIGIN_PORT" "$NGINX_PORT" "$NGINX_TLS_PORT"

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"

# Starts one server with an empty cache, fills it with both objects over plain and TLS until they
# are hits, and sets SERVER_PID (the process whose RSS is measured: nginx's one worker).
SERVER_PID=""
SERVER_MAIN=""
start_server() {  # edge|nginx
  case "$1" in
    edge)
      rm -rf "$WORK/edge-db"
      start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "$EDGE_BIN" --config "$WORK/edge.yaml"
      SERVER_MAIN=$STARTED_PID
      SERVER_PID=$STARTED_PID
      ;;
    nginx)
      rm -rf "$WORK/nginx/cache" "$WORK/nginx/tmp"
      mkdir -p "$WORK/nginx"/{cache,tmp,logs}
      start nginx "http://127.0.0.1:$NGINX_PORT/vod/bench/1k.bin" \
        nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
      SERVER_MAIN=$STARTED_PID
      SERVER_PID="$(pgrep -P "$SERVER_MAIN" | head -n1)"
      [ -n "$SERVER_PID" ] || die "no nginx worker under $SERVER_MAIN"
      ;;
  esac
  local obj scheme url status header=x-cache n
  [ "$1" = nginx ] && header=x-cache-status
  for obj in 1k.bin 2m.bin; do
    for scheme in http https; do
      url="$(proxy_url "$1" "$scheme")/vod/bench/$obj"
      for n in 1 2 3 4 5 6 7 8 9 10; do
        status="$(curl -ksS -o /dev/null -D - "$url" | tr -d '\r' |
          awk -v h="$header" 'BEGIN{FS=": "} tolower($1)==h {print $2}')"
        [ "$status" = HIT ] && break
        sleep 0.2
      done
      [ "$status" = HIT ] || die "$1 $url is not a cache HIT after warming (got '$status')"
    done
    [ "$(curl -ksSf "$url" | sha256sum)" = "$(sha256sum <"$WORK/vod/bench/$obj")" ] ||
      die "$1 returns different bytes for $obj"
  done
}

declare -A PER_CONN
measure() {  # round case server
  local round=$1 case=$2 server=$3 args port
  start_server "$server"
  case "$case" in
    idle-plain) args=(--n "$MEM_CONNS" --mode idle --path /vod/bench/1k.bin) ;;
    idle-tls) args=(--tls --n "$MEM_CONNS" --mode idle --path /vod/bench/1k.bin) ;;
    stalled-tls) args=(--tls --n "$MEM_STALLED" --mode stall --rcvbuf "$MEM_RCVBUF" --path /vod/bench/2m.bin) ;;
  esac
  port="$(proxy_url "$server" "$( [ "$case" = idle-plain ] && echo http || echo https)")"
  port="${port##*:}"
  local json rc=0
  json="$("$PYTHON" "$HERE/hold.py" --pid "$SERVER_PID" --port "$port" "${args[@]}")" || rc=$?
  echo "{\"round\": $round, \"case\": \"$case\", \"server\": \"$server\", \"result\": $json}" >>"$RAW/rounds.jsonl"
  stop_started "$SERVER_MAIN"
  [ "$rc" -eq 0 ] || die "$server $case round $round: not every connection was held: $json"
  local b
  b="$(printf '%s' "$json" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["bytes_per_conn"])')"
  PER_CONN[$case/$server]="${PER_CONN[$case/$server]:-} $b"
  say "  round $round $case $server: $b bytes per connection ($json)"
}

say "memory per connection: $MEM_CONNS idle, $MEM_STALLED stalled (SO_RCVBUF $MEM_RCVBUF), $MEM_ROUNDS rounds"
for round in $(seq 1 "$MEM_ROUNDS"); do
  for case in $MEM_CASES; do
    # Alternate which server goes first so that neither always runs on the warmer machine.
    if [ $((round % 2)) -eq 1 ]; then order="edge nginx"; else order="nginx edge"; fi
    for server in $order; do measure "$round" "$case" "$server"; done
  done
done

case_label() {
  case "$1" in
    idle-plain) echo "idle keep-alive, plain ($MEM_CONNS conns)" ;;
    idle-tls) echo "idle keep-alive, TLS ($MEM_CONNS conns)" ;;
    stalled-tls) echo "stalled TLS viewer, 2 MB object ($MEM_STALLED viewers)" ;;
  esac
}
table="$RAW/table.md"
{
  echo "| case | cdn-edge bytes/conn (median) | nginx bytes/conn (median) | edge/nginx | cdn-edge rounds | nginx rounds |"
  echo "| --- | ---: | ---: | ---: | --- | --- |"
  for case in $MEM_CASES; do
    # shellcheck disable=SC2086  # the lists are space-separated numbers
    e="$(median ${PER_CONN[$case/edge]})"
    # shellcheck disable=SC2086
    n="$(median ${PER_CONN[$case/nginx]})"
    awk -v l="$(case_label "$case")" -v e="$e" -v n="$n" -v er="${PER_CONN[$case/edge]# }" \
      -v nr="${PER_CONN[$case/nginx]# }" 'BEGIN{
        printf "| %s | %.0f | %.0f | %s | %s | %s |\n", l, e, n,
          (n > 0 ? sprintf("%.2fx", e / n) : "n/a"), er, nr }'
  done
} >"$table"
{
  run_header
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); python: $("$PYTHON" --version 2>&1)"
} >"$RAW/env.txt"
show_run "raw results (rounds.jsonl)"
