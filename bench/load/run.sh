#!/usr/bin/env bash
# Load comparison on loopback: cdn-edge (in front of cdn-shield and cdn-origin) against nginx
# with proxy_cache and Varnish (plain HTTP only: it does not terminate TLS) in front of the same
# cdn-origin, the same worker count, access logs off, TLS with the same certificate, keep-alive
# to the upstream. Every cache is warmed and every URL is checked to be a HIT before measuring;
# the origin's access log proves that no request reached it during the measurements.
#
#   bench/load/run.sh            2 workers each, nothing pinned, one round, then a paced pass
#   bench/load/run.sh --pinned   one worker each, servers on CPU 0 and wrk on CPU 1, ROUNDS
#                                rounds interleaved (edge, nginx, varnish, edge, ...), medians
#
# Environment (defaults in brackets; --pinned changes the ones marked *):
#   WRK_THREADS [2]  WRK_CONNS [50]  WRK_DURATION [10s]   wrk -t/-c/-d
#   WRK_CPUS  [] *1  if set, wrk runs under `taskset -c $WRK_CPUS`
#   SERVER_CPUS [] *0  if set, cdn-edge, nginx and varnishd run under `taskset -c $SERVER_CPUS`
#   SERVER_WORKERS [2] *1  worker threads of cdn-edge = worker_processes of nginx (Varnish: one
#                    thread pool; its threads share the same CPUs)
#   ROUNDS [1] *5    closed-loop rounds; every case of a round runs each server once
#   PACED [1] *0     1 = also the equal-offered-load pass (paced.lua), edge and nginx
#   PROFILE []       a case such as edge-1k-http: `perf record -e task-clock --call-graph dwarf` of that server
#                    during its first round, report in OUT/<case>.perf.txt (proportions only)
#   SAME_CIPHERS [0]  1 = nginx also prefers the edge's TLS 1.3 order (AES-128-GCM first); 0 =
#                    each server's default (nginx lets the client's AES-256-GCM preference win)
#   PEERS [nginx varnish]  which peers to run (varnish is skipped when varnishd is missing)
#   CDN_BUILD_DIR [build]  where the cdn programs are (built if missing)
#   BENCH_PORT_BASE [18180]  ports BASE..BASE+6 and BASE+1000..BASE+1002 are used
#   BENCH_OUT [bench/load/out]  raw wrk output, configs and logs
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

PINNED=0
for arg in "$@"; do
  case "$arg" in
    --pinned) PINNED=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'bench/load/run.sh: unknown argument %s\n' "$arg" >&2; exit 2 ;;
  esac
done
if [ "$PINNED" = 1 ]; then
  WRK_CPUS="${WRK_CPUS:-1}"
  SERVER_CPUS="${SERVER_CPUS:-0}"
  SERVER_WORKERS="${SERVER_WORKERS:-1}"
  ROUNDS="${ROUNDS:-5}"
  PACED="${PACED:-0}"
fi
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNS="${WRK_CONNS:-50}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_CPUS="${WRK_CPUS:-}"
SERVER_CPUS="${SERVER_CPUS:-}"
SERVER_WORKERS="${SERVER_WORKERS:-2}"
ROUNDS="${ROUNDS:-1}"
PACED="${PACED:-1}"
PEERS="${PEERS:-nginx varnish}"
SAME_CIPHERS="${SAME_CIPHERS:-0}"
PROFILE="${PROFILE:-}"
[ "$SAME_CIPHERS" = 1 ] && export NGINX_TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

BENCH_DEFAULT_BASE=18180
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools wrk nginx curl openssl
[ -z "$PROFILE" ] || need_tools perf
[ -z "$SERVER_CPUS$WRK_CPUS" ] || need_tools taskset
if [[ " $PEERS " == *" varnish "* ]] && ! command -v varnishd >/dev/null; then
  say "varnishd is not installed (scripts/install-deps.sh installs it): running without Varnish"
  PEERS="${PEERS//varnish/}"
fi
ensure_programs

mkdir -p "$RAW"
rm -rf "$WORK"
mkdir -p "$WORK"/{vod/bench,edge-db,shield-db,nginx/cache,nginx/tmp,nginx/logs,varnish,logs}
make_certificate

# --- objects ---------------------------------------------------------------------------------
write_bench_objects

# --- configs ---------------------------------------------------------------------------------
write_origin_and_shield_configs "$ORIGIN_PORT" "$ORIGIN_ADMIN" "$SHIELD_PORT" "$SHIELD_ADMIN"
write_bench_edge_config
# Same worker count as the edge; nginx keeps its cached objects on disk (proxy_cache).
write_nginx_config "$SERVER_WORKERS" 4096 60s 60s "$ORIGIN_PORT" "$NGINX_PORT" "$NGINX_TLS_PORT"
# Varnish: the same origin as backend, objects in malloc storage, one thread pool; it honours the
# origin's Cache-Control like the others. X-Cache tells a hit from a miss for the warm-up check.
cat >"$WORK/varnish/default.vcl" <<EOF
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$ORIGIN_PORT"; }
sub vcl_deliver {
  if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
EOF

# --- processes -------------------------------------------------------------------------------
pin_server=()
[ -n "$SERVER_CPUS" ] && pin_server=(taskset -c "$SERVER_CPUS")
pin_wrk=()
[ -n "$WRK_CPUS" ] && pin_wrk=(taskset -c "$WRK_CPUS")

start origin "http://127.0.0.1:$ORIGIN_ADMIN/healthz" "$ORIGIN_BIN" --config "$WORK/origin.yaml"
start shield "http://127.0.0.1:$SHIELD_ADMIN/healthz" "$SHIELD_BIN" --config "$WORK/shield.yaml"
start edge "http://127.0.0.1:$EDGE_ADMIN/healthz" "${pin_server[@]}" "$EDGE_BIN" --config "$WORK/edge.yaml"
declare -A SERVER_PID=([edge]=$STARTED_PID)
if [[ " $PEERS " == *" nginx "* ]]; then
  nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/logs/nginx-t.log" ||
    { cat "$WORK/logs/nginx-t.log"; die "nginx config test failed"; }
  start nginx "http://127.0.0.1:$NGINX_PORT/vod/bench/1k.bin" \
    "${pin_server[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
  SERVER_PID[nginx]=$STARTED_PID
fi
if [[ " $PEERS " == *" varnish "* ]]; then
  # -j none: no privilege separation, so it runs as whoever runs the benchmark.
  start varnish "http://127.0.0.1:$VARNISH_PORT/vod/bench/1k.bin" \
    "${pin_server[@]}" varnishd -F -j none -n "$WORK/varnish/state" -a "127.0.0.1:$VARNISH_PORT" \
    -f "$WORK/varnish/default.vcl" -s malloc,256m -p thread_pools=1
  SERVER_PID[varnish]=$STARTED_PID
fi

# --- warm up and verify HITs -----------------------------------------------------------------
url_for() {  # proxy scheme object
  printf '%s/vod/bench/%s' "$(proxy_url "$1" "$2")" "$3"
}
serves() {  # proxy scheme: Varnish does not terminate TLS
  [ "$1" != varnish ] || [ "$2" = http ]
}
cache_header() {  # proxy url
  local h="X-Cache"
  [ "$1" = nginx ] && h="X-Cache-Status"
  curl -ksS -o /dev/null -D - "$2" | tr -d '\r' | awk -v h="$(echo "$h" | tr '[:upper:]' '[:lower:]')" \
    'BEGIN{FS=": "} tolower($1)==h {print $2}'
}
# shellcheck disable=SC2206  # a space-separated list
PROXIES=(edge $PEERS)
say "warming caches"
for proxy in "${PROXIES[@]}"; do
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      serves "$proxy" "$scheme" || continue
      url="$(url_for "$proxy" "$scheme" "$obj")"
      want_size=$(stat -c %s "$WORK/vod/bench/$obj")
      got_size=$(curl -ksSf -o /dev/null -w '%{size_download}' "$url")
      [ "$got_size" = "$want_size" ] || die "$url: got $got_size bytes, want $want_size"
      status=""
      for _ in 1 2 3 4 5; do
        status="$(cache_header "$proxy" "$url")"
        [ "$status" = HIT ] && break
        sleep 0.2
      done
      say "  $proxy $url -> $status"
      [ "$status" = HIT ] || die "$url is not a cache HIT after warming (got '$status')"
      # The same bytes from every path.
      [ "$(curl -ksSf "$url" | sha256sum)" = "$(sha256sum <"$WORK/vod/bench/$obj")" ] ||
        die "$url returns different bytes"
    done
  done
done
sleep 1
origin_before=$(wc -l <"$WORK/logs/origin-access.log")

# --- measure ---------------------------------------------------------------------------------
to_ms() {  # "1.23ms" / "456.00us" / "1.20s" -> milliseconds
  awk -v v="$1" 'BEGIN{
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.2f", n }'
}
WRK_ARGS=(-t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency)
# Runs wrk once into $RAW/$file and sets W_RPS, W_P50, W_P99 (ms), W_ERRS.
run_wrk() {  # file url [wrk args...]
  local file="$RAW/$1" url="$2"
  shift 2
  {
    echo "# $url"
    echo "# ${pin_wrk[*]:-} wrk ${WRK_ARGS[*]} $*"
  } >"$file"
  "${pin_wrk[@]}" wrk "${WRK_ARGS[@]}" "$@" "$url" >>"$file" 2>&1
  W_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$file")
  W_RPS=${W_RPS:-0}
  W_P50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$file")")"
  W_P99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")"
  local non2xx sockerr
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$file")
  sockerr=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$file")
  W_ERRS=$(( ${non2xx:-0} + ${sockerr:-0} ))
}

# CPU time a server and its child processes (nginx's and Varnish's workers) have used, in clock
# ticks: per request it is the comparison that the machine's other load disturbs least, and on one
# pinned CPU it is the inverse of the request rate a saturated server reaches.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # pid
  local total=0 p
  for p in "$1" $(pgrep -P "$1"); do
    # Fields after the command name, which is in parentheses: utime and stime are 12th and 13th.
    total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
wrk_requests() {  # wrk output file -> requests completed
  awk '/requests in/ {print $1}' "$1"
}

say "closed loop: wrk ${WRK_ARGS[*]}, $ROUNDS round(s), servers: ${PROXIES[*]}${WRK_CPUS:+ (wrk on CPUs $WRK_CPUS)}${SERVER_CPUS:+ (servers on CPUs $SERVER_CPUS)}, $SERVER_WORKERS worker(s)"
# Per case and proxy: space-separated per-round values.
declare -A RPS P99 ERRS CPU
for round in $(seq 1 "$ROUNDS"); do
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      for proxy in "${PROXIES[@]}"; do
        serves "$proxy" "$scheme" || continue
        name="${proxy}-${obj%.bin}-${scheme}"
        t0=$(cpu_ticks "${SERVER_PID[$proxy]}")
        perf_pid=""
        if [ "$PROFILE" = "$name" ] && [ "$round" = 1 ]; then
          perf record -q -e task-clock -F 499 --call-graph dwarf,8192 -o "$RAW/$name.perf.data" -p "${SERVER_PID[$proxy]}" 2>/dev/null &
          perf_pid=$!
        fi
        run_wrk "$name-r$round.txt" "$(url_for "$proxy" "$scheme" "$obj")"
        if [ -n "$perf_pid" ]; then
          kill -INT "$perf_pid" && wait "$perf_pid" || true
          perf report -i "$RAW/$name.perf.data" --no-children -g none --sort dso,symbol --percent-limit 0.3 --stdio 2>/dev/null \
            | grep -v '^$' >"$RAW/$name.perf.txt" || true
          say "  profile of $name: $RAW/$name.perf.txt"
        fi
        t1=$(cpu_ticks "${SERVER_PID[$proxy]}")
        CPU[$name]="${CPU[$name]:-} $(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$(wrk_requests "$RAW/$name-r$round.txt")" \
          'BEGIN{ printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')"
        RPS[$name]="${RPS[$name]:-} $W_RPS"
        P99[$name]="${P99[$name]:-} $W_P99"
        ERRS[$name]=$(( ${ERRS[$name]:-0} + W_ERRS ))
        say "  round $round $name: $W_RPS req/s, p99 $W_P99 ms, errors $W_ERRS"
        sleep 1
      done
    done
  done
done

# Latency at equal offered load: the same connections, each pausing between requests, long
# enough that neither proxy is saturated (1 MB responses need a longer pause than 1 KB ones).
PACE_MS_1K="${PACE_MS_1K:-2}"
PACE_MS_1M="${PACE_MS_1M:-60}"
declare -A PRPS P50 PP99
if [ "$PACED" = 1 ]; then
  say "paced: wrk ${WRK_ARGS[*]} -s paced.lua (pause per connection: 1 KB ${PACE_MS_1K} ms, 1 MB ${PACE_MS_1M} ms)"
  for obj in 1k.bin 1m.bin; do
    if [ "$obj" = 1k.bin ]; then export PACE_MS=$PACE_MS_1K; else export PACE_MS=$PACE_MS_1M; fi
    for scheme in http https; do
      for proxy in "${PROXIES[@]}"; do
        [ "$proxy" != varnish ] || continue  # the paced table compares edge and nginx only
        name="${proxy}-${obj%.bin}-${scheme}"
        run_wrk "paced-$name.txt" "$(url_for "$proxy" "$scheme" "$obj")" -s "$ROOT/bench/load/paced.lua"
        PRPS[$name]=$W_RPS
        P50[$name]=$W_P50
        PP99[$name]=$W_P99
        say "  paced $name: $W_RPS req/s, p50 $W_P50 ms, p99 $W_P99 ms"
        sleep 1
      done
    done
  done
fi
sleep 1
origin_after=$(wc -l <"$WORK/logs/origin-access.log")

# --- report ----------------------------------------------------------------------------------
case_label() {  # 1k.bin https -> "1 KB TLS"
  local size=${1%.bin}
  size=${size/1k/1 KB}
  size=${size/1m/1 MB}
  echo "$size $( [ "$2" = https ] && echo TLS || echo plain)"
}
cell() {  # median of a list, or "-" when the proxy did not run the case
  # shellcheck disable=SC2086  # a space-separated list
  if [ -n "${1// /}" ]; then awk -v v="$(median $1)" -v f="$2" 'BEGIN{ printf f, v }'; else echo "-"; fi
}
ratio_cell() {
  if [ -n "${1// /}" ] && [ -n "${2// /}" ]; then
    awk -v v="$(median_ratio "$1" "$2")" 'BEGIN{ printf "%.2fx", v }'
  else echo "-"; fi
}
table="$RAW/table.md"
{
  echo "Closed loop, medians of $ROUNDS round(s); ratios are medians of the per-round ratios:"
  echo
  echo "| case | cdn-edge req/s | nginx req/s | varnish req/s | edge/nginx | edge/varnish | cdn-edge p99 ms | nginx p99 ms | varnish p99 ms | p99 edge/nginx | p99 edge/varnish | errors edge/nginx/varnish |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      e="edge-${obj%.bin}-$scheme"
      n="nginx-${obj%.bin}-$scheme"
      v="varnish-${obj%.bin}-$scheme"
      echo "| $(case_label "$obj" "$scheme") | $(cell "${RPS[$e]:-}" %.0f) | $(cell "${RPS[$n]:-}" %.0f) | $(cell "${RPS[$v]:-}" %.0f) | $(ratio_cell "${RPS[$e]:-}" "${RPS[$n]:-}") | $(ratio_cell "${RPS[$e]:-}" "${RPS[$v]:-}") | $(cell "${P99[$e]:-}" %.2f) | $(cell "${P99[$n]:-}" %.2f) | $(cell "${P99[$v]:-}" %.2f) | $(ratio_cell "${P99[$e]:-}" "${P99[$n]:-}") | $(ratio_cell "${P99[$e]:-}" "${P99[$v]:-}") | ${ERRS[$e]:-0} / ${ERRS[$n]:--} / ${ERRS[$v]:--} |"
    done
  done
  echo
  echo "Server CPU time per request (the server and its child processes, from /proc; medians of the rounds; peer/edge > 1: the edge needs less):"
  echo
  echo "| case | cdn-edge us/req | nginx us/req | varnish us/req | nginx/edge | varnish/edge |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for obj in 1k.bin 1m.bin; do
    for scheme in http https; do
      e="edge-${obj%.bin}-$scheme"
      n="nginx-${obj%.bin}-$scheme"
      v="varnish-${obj%.bin}-$scheme"
      echo "| $(case_label "$obj" "$scheme") | $(cell "${CPU[$e]:-}" %.2f) | $(cell "${CPU[$n]:-}" %.2f) | $(cell "${CPU[$v]:-}" %.2f) | $(ratio_cell "${CPU[$n]:-}" "${CPU[$e]:-}") | $(ratio_cell "${CPU[$v]:-}" "${CPU[$e]:-}") |"
    done
  done
  if [ "$PACED" = 1 ]; then
    echo
    echo "Equal offered load (each connection pauses between requests: 1 KB ${PACE_MS_1K} ms, 1 MB ${PACE_MS_1M} ms):"
    echo
    echo "| case | cdn-edge req/s | nginx req/s | cdn-edge p50 ms | nginx p50 ms | cdn-edge p99 ms | nginx p99 ms | p99 edge/nginx |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for obj in 1k.bin 1m.bin; do
      for scheme in http https; do
        e="edge-${obj%.bin}-$scheme"
        n="nginx-${obj%.bin}-$scheme"
        echo "| $(case_label "$obj" "$scheme") | $(cell "${PRPS[$e]:-}" %.0f) | $(cell "${PRPS[$n]:-}" %.0f) | $(cell "${P50[$e]:-}" %.2f) | $(cell "${P50[$n]:-}" %.2f) | $(cell "${PP99[$e]:-}" %.2f) | $(cell "${PP99[$n]:-}" %.2f) | $(ratio_cell "${PP99[$e]:-}" "${PP99[$n]:-}") |"
      done
    done
  fi
} >"$table"
{
  run_header
  echo "wrk ${WRK_ARGS[*]}; rounds: $ROUNDS; wrk CPUs: ${WRK_CPUS:-any}; server CPUs: ${SERVER_CPUS:-any}; workers: $SERVER_WORKERS"
  echo "origin requests during measurement: $((origin_after - origin_before)) (0 = every response was a cache hit)"
  for proxy in "${PROXIES[@]}"; do
    serves "$proxy" https || continue
    port="$(proxy_url "$proxy" https)"; port="${port##*:}"
    echo "$proxy TLS 1.3 suite chosen for an OpenSSL default client: $(openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | awk '/^New, /{print $NF}')"
  done
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); varnish: $(varnishd -V 2>&1 | head -n1 | sed 's/^varnishd (\([^ ]*\).*/\1/'); wrk: $(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
} >"$RAW/env.txt"
show_run "raw wrk output"
[ "$((origin_after - origin_before))" -eq 0 ] || say "WARNING: the origin saw requests during the measurement"
