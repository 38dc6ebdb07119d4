#!/usr/bin/env bash
# VOD origin throughput on one large file, plain HTTP: cdn-origin against nginx serving the same
# file from the same directory (`sendfile on`), one worker each, the server pinned to one CPU and
# curl to the other, rounds interleaved, medians. The file is read once first so both serve it
# from the page cache. Run with `./cdn bench large origin-throughput`.
#
# Environment (defaults in brackets):
#   OT_MB [1024]  OT_ROUNDS [5]  OT_SERVER_CPU [0]  OT_CLIENT_CPU [1]  OT_NGINX_SENDFILE [on]
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [18680]  BENCH_OUT [bench/large/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

MB="${OT_MB:-1024}"
ROUNDS="${OT_ROUNDS:-5}"
SCPU="${OT_SERVER_CPU:-0}"
CCPU="${OT_CLIENT_CPU:-1}"
SENDFILE="${OT_NGINX_SENDFILE:-on}"
BENCH_DEFAULT_BASE=18680
BENCH_RUN_SUFFIX=-origin
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools nginx curl taskset
ensure_programs
mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/big,logs,nginx/logs,nginx/tmp}
head -c $((MB * 1024 * 1024)) /dev/urandom >"$WORK/vod/big/file.mp4"
cat "$WORK/vod/big/file.mp4" >/dev/null  # into the page cache

cat >"$WORK/origin.yaml" <<YAML
tier: origin
workers: 1
listen: [{address: 127.0.0.1:$ORIGIN_PORT}]
admin: {listen: 127.0.0.1:$ORIGIN_ADMIN, token: bench}
origin: {root: $WORK/vod}
access_log: "off"
YAML
cat >"$WORK/nginx/nginx.conf" <<NGINX
$(nginx_user_line)
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile $SENDFILE;
  tcp_nopush on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK;
  }
}
NGINX

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" taskset -c "$SCPU" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start nginx "http://127.0.0.1:$NGINX_PORT/vod/big/file.mp4" taskset -c "$SCPU" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"

declare -A RATES
fetch() {  # server -> MiB/s of one whole-file GET
  local port=$ORIGIN_PORT
  [ "$1" = nginx ] && port=$NGINX_PORT
  taskset -c "$CCPU" curl -sS --fail -o /dev/null -w '%{speed_download} %{size_download}\n' \
    "http://127.0.0.1:$port/vod/big/file.mp4" |
    awk -v want=$((MB * 1024 * 1024)) '$2 != want {exit 1} {printf "%.0f", $1 / 1048576}'
}
say "origin throughput: $MB MiB file, $ROUNDS rounds, server on CPU $SCPU, curl on CPU $CCPU"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order="cdn-origin nginx"; else order="nginx cdn-origin"; fi
  for server in $order; do
    r="$(fetch "$server")" || die "$server returned a short body"
    RATES[$server]="${RATES[$server]:-} $r"
    echo "{\"round\": $round, \"server\": \"$server\", \"mib_per_s\": $r}" >>"$RAW/rounds.jsonl"
    say "  round $round $server: $r MiB/s"
  done
done
{
  run_header
  echo "command: ./cdn bench large origin-throughput (OT_MB=$MB OT_ROUNDS=$ROUNDS OT_NGINX_SENDFILE=$SENDFILE)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //')"
} >"$RAW/env.txt"
# shellcheck disable=SC2086  # space-separated numbers
o="$(median ${RATES[cdn-origin]})"
# shellcheck disable=SC2086
n="$(median ${RATES[nginx]})"
{
  echo "| file | cdn-origin MiB/s (median) | nginx (sendfile $SENDFILE) MiB/s (median) | origin/nginx | cdn-origin rounds | nginx rounds |"
  echo "| --- | ---: | ---: | ---: | --- | --- |"
  awk -v m="$MB" -v o="$o" -v n="$n" -v orr="${RATES[cdn-origin]# }" -v nr="${RATES[nginx]# }" \
    'BEGIN { printf "| %d MiB, plain | %.0f | %.0f | %.2fx | %s | %s |\n", m, o, n, o / n, orr, nr }'
} >"$RAW/table.md"
rm -f "$WORK/vod/big/file.mp4"
show_run "raw results"
