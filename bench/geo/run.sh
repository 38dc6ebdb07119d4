#!/usr/bin/env bash
# DNS queries per second on loopback: cdn-geo (steering every A query: coverage zone lookup, MaxMind
# database loaded, nearest site, weighted rendezvous over its edges) against Knot DNS and BIND 9
# serving the same names from a static zone (same A records, same TTL). dnsperf sends the same
# query file to each; one worker thread each, servers on CPU 0 and dnsperf on CPU 1, ROUNDS rounds
# interleaved (geo, knot, bind, geo, ...), medians. Knot and BIND are installed with apt-get when
# missing (bench-only, so not in scripts/install-deps.sh).
#
# Two query sets, each run against every server:
#   plain  "video.cdn.bench A", no EDNS: cdn-geo locates the resolver 127.0.0.1 by its coverage zone
#   ecs    the same with EDNS Client Subnet 81.2.0.0/24: cdn-geo locates it through MaxMind and
#          echoes the option with its scope; Knot and BIND ignore the option (no GeoIP module)
#
# Every round reports each server's CPU busy share of the run (user + system time of all its
# threads over the run's duration; 100 % = one CPU) beside its qps, and dnsperf's own: a server
# under 100 % while dnsperf is near 100 % of its CPU was limited by the load generator, not by
# itself. Server CPU per answered query is the figure that does not depend on that.
#
# Modes:
#   bench/geo/run.sh             dnsperf -c 8 -q 100 (the earlier runs' load)
#   bench/geo/run.sh --saturate  as much as dnsperf can offer: -c 64 -q 2000, 4 MB socket buffers
#
# Environment (defaults in brackets):
#   ROUNDS [5]  DURATION [10] seconds per dnsperf run   CLIENTS [8; 64 saturating]
#   OUTSTANDING [100; 2000 saturating]   THREADS [1]  server worker threads = dnsperf threads
#   SERVER_CPUS [0]  DNSPERF_CPUS [1]   taskset lists
#   GEO_BIN [$CDN_BUILD_DIR/geo/cdn-geo]  the cdn-geo to measure
#   BASELINE_BIN [none]  a second cdn-geo (e.g. an older build) measured in the same interleaved
#                rounds as "cdn-geo-baseline", from the same data
#   CDN_BUILD_DIR [build]  BENCH_PORT_BASE [15300]  BENCH_OUT [bench/geo/out]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
SATURATE=0
case "${1:-}" in
  "") ;;
  --saturate) SATURATE=1 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) printf 'bench/geo/run.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
esac

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10}"
if [ "$SATURATE" = 1 ]; then
  CLIENTS="${CLIENTS:-64}"
  OUTSTANDING="${OUTSTANDING:-2000}"
  DNSPERF_EXTRA=(-b 4096)
else
  CLIENTS="${CLIENTS:-8}"
  OUTSTANDING="${OUTSTANDING:-100}"
  DNSPERF_EXTRA=()
fi
THREADS="${THREADS:-1}"
SERVER_CPUS="${SERVER_CPUS:-0}"
DNSPERF_CPUS="${DNSPERF_CPUS:-1}"
BENCH_DEFAULT_BASE=15300
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
WORK="$RAW/work"  # kept with the run's results: the zone files and configs each server answered from
mkdir -p "$WORK/logs"

GEO_DNS=$BASE
KNOT_DNS=$((BASE + 1))
BIND_DNS=$((BASE + 2))
GEO_HTTP=$((BASE + 3))
GEO_ADMIN=$((BASE + 4))
HEALTHZ=$((BASE + 5))
BASELINE_DNS=$((BASE + 6))
BASELINE_HTTP=$((BASE + 7))
BASELINE_ADMIN=$((BASE + 8))
BASELINE_BIN="${BASELINE_BIN:-}"
GEO_BIN="${GEO_BIN:-$BUILD/geo/cdn-geo}"
ZONE=cdn.bench

install_peers() {
  local missing=()
  command -v dnsperf >/dev/null || missing+=(dnsperf)
  command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || missing+=(knot)
  command -v named >/dev/null || [ -x /usr/sbin/named ] || missing+=(bind9)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (apt-get)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >"$WORK/logs/apt.log" 2>&1 ||
    die "apt-get install ${missing[*]} failed (see $WORK/logs/apt.log)"
}

SITES=(fra:50.11:8.68 ams:52.37:4.90 lon:51.51:-0.13 par:48.85:2.35 mad:40.42:-3.70 waw:52.23:21.01
  sto:59.33:18.07 mil:45.46:9.19)
EDGES_PER_SITE=8

edges() {  # "edge-name site-name IPv4" for the 64 edges, 8 per site
  local site s=0 e
  for site in "${SITES[@]}"; do
    for ((e = 1; e <= EDGES_PER_SITE; e++)); do
      echo "${site%%:*}-$e ${site%%:*} 192.0.2.$((s * EDGES_PER_SITE + e))"
    done
    s=$((s + 1))
  done
}

write_data() {  # 10,000 coverage zones (127.0.0.0/24 among them) and a 1,024-network MaxMind DB
  awk -v n=10000 'BEGIN { split("fra ams lon par mad waw sto mil", s, " ")
    print "127.0.0.0/24 ams"; k = 1
    for (b = 0; k < n; b++) { print "10." b ".0.0/16 " s[b % 8 + 1]; k++
      for (c = 0; c < 250 && k < n; c++) { print "10." b "." c ".0/24 " s[(b + c) % 8 + 1]; k++ } } }' \
    >"$WORK/coverage.txt"
  awk 'BEGIN { split("50.11 52.37 51.51 48.85 40.42 52.23 59.33 45.46", la, " ")
    split("8.68 4.90 -0.13 2.35 -3.70 21.01 18.07 9.19", lo, " ")
    for (i = 0; i < 1024; i++) print "81." int(i / 256) + 2 "." i % 256 ".0/24 " la[i % 8 + 1] " " lo[i % 8 + 1] " 20 city" i }' \
    >"$WORK/cities.txt"
  perl "$ROOT/tests/unit/geo/fixtures/make_mmdb.pl" "$WORK/cities.txt" "$WORK/cities.mmdb" ||
    die "make_mmdb.pl failed (libmaxmind-db-writer-perl is needed)"
}

write_geo_config() {  # file dns-port http-port admin-port
  local site name lat lon
  {
    echo "tier: geo"
    echo "workers: $THREADS"
    echo "listen: [{address: 127.0.0.1:$3}]"
    echo "admin: {listen: 127.0.0.1:$4}"
    echo "access_log: \"off\""
    echo "geo:"
    echo "  zone: {name: $ZONE, ns: [{name: ns1.$ZONE, address: 127.0.0.1}]}"
    echo "  dns_listen: [\"127.0.0.1:$2\"]"
    echo "  delivery_hosts: [{name: video.$ZONE}]"
    echo "  sites:"
    for site in "${SITES[@]}"; do
      IFS=: read -r name lat lon <<<"$site"
      echo "    - {name: $name, lat: $lat, lon: $lon}"
    done
    echo "  edges:"
    edges | while read -r name site ip; do
      echo "    - {name: $name, site: $site, ipv4: [$ip], admin: \"http://127.0.0.1:$HEALTHZ\"}"
    done
    echo "  coverage_zones: $WORK/coverage.txt"
    echo "  maxmind: $WORK/cities.mmdb"
    echo "  ttl: 30s"
    echo "  health: {interval: 5s, timeout: 1s}"
  } >"$1"
}

# The static equivalent: the same names, one A record for the delivery host (as cdn-geo answers
# with records_per_answer 1), the per-edge names.
write_zone_file() {
  {
    echo "\$ORIGIN $ZONE."
    echo "@ 3600 IN SOA ns1.$ZONE. hostmaster.$ZONE. 1 3600 600 86400 30"
    echo "@ 3600 IN NS ns1.$ZONE."
    echo "ns1 3600 IN A 127.0.0.1"
    echo "video 30 IN A 192.0.2.9"
    edges | while read -r name site ip; do echo "$name 300 IN A $ip"; done
  } >"$WORK/$ZONE.zone"
}

write_knot_config() {
  mkdir -p "$WORK/knot"
  cat >"$WORK/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$KNOT_DNS
    rundir: $WORK/knot
    udp-workers: $THREADS
    tcp-workers: 1
    background-workers: 1
database:
    storage: $WORK/knot
log:
  - target: stderr
    any: warning
zone:
  - domain: $ZONE
    file: $WORK/$ZONE.zone
    zonefile-sync: -1
    journal-content: none
EOF
}

write_bind_config() {
  mkdir -p "$WORK/bind"
  cat >"$WORK/named.conf" <<EOF
options {
  directory "$WORK/bind";
  pid-file "$WORK/bind/named.pid";
  listen-on port $BIND_DNS { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { any; };
  querylog no;
};
controls { };
zone "$ZONE" { type primary; file "$WORK/$ZONE.zone"; };
EOF
}

wait_dns() {  # name port pid
  local n=0
  until kdig +short +time=1 +retry=0 @127.0.0.1 -p "$2" "video.$ZONE" A 2>/dev/null | grep -q '^192\.0\.2\.'; do
    kill -0 "$3" 2>/dev/null || { tail -n 20 "$WORK/logs/$1.log"; die "$1 exited during start-up"; }
    n=$((n + 1))
    [ $n -lt 100 ] || die "$1 did not answer on port $2"
    sleep 0.2
  done
}

declare -A SERVER_PID
start_dns() {  # name port cmd...
  local name=$1 port=$2
  shift 2
  taskset -c "$SERVER_CPUS" "$@" >"$WORK/logs/$name.log" 2>&1 &
  PIDS+=("$!")
  SERVER_PID[$name]=$!
  wait_dns "$name" "$port" "$!"
}

cpu_ticks() {  # pid -> user + system clock ticks of all its threads so far
  awk '{print $14 + $15}' "/proc/$1/stat"
}

wait_edges_up() {  # admin-port: the poller has seen every edge up
  local n=0
  until curl -sf "http://127.0.0.1:$1/state" | grep -q '"up"' &&
    ! curl -sf "http://127.0.0.1:$1/state" | grep -qE '"(unknown|down)"'; do
    n=$((n + 1))
    [ $n -lt 100 ] || die "cdn-geo does not see its edges up (healthz stub on :$HEALTHZ)"
    sleep 0.2
  done
}

for p in $GEO_DNS $KNOT_DNS $BIND_DNS $GEO_HTTP $GEO_ADMIN $HEALTHZ $BASELINE_DNS $BASELINE_HTTP $BASELINE_ADMIN; do
  if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port 127.0.0.1:$p is in use (BENCH_PORT_BASE)"; fi
done
install_peers
need_tools dnsperf kdig taskset perl curl python3
KNOTD="$(command -v knotd || echo /usr/sbin/knotd)"
NAMED="$(command -v named || echo /usr/sbin/named)"
if [ ! -x "$GEO_BIN" ]; then
  say "building cdn-geo in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target cdn-geo
fi

write_data
write_geo_config "$WORK/geo.yaml" "$GEO_DNS" "$GEO_HTTP" "$GEO_ADMIN"
[ -z "$BASELINE_BIN" ] || write_geo_config "$WORK/geo-baseline.yaml" "$BASELINE_DNS" "$BASELINE_HTTP" "$BASELINE_ADMIN"
write_zone_file
write_knot_config
write_bind_config
for ((i = 0; i < 1000; i++)); do echo "video.$ZONE A"; done >"$WORK/queries.txt"

# The /healthz stub runs beside dnsperf, off the servers' CPU; 64 polls every 5 s.
# Every edge's admin URL is bench/geo/healthz.py (idle edges), so the poller keeps all 64 up.
taskset -c "$DNSPERF_CPUS" python3 "$HERE/healthz.py" "$HEALTHZ" >"$WORK/logs/healthz.log" 2>&1 &
PIDS+=("$!")
start_dns cdn-geo "$GEO_DNS" "$GEO_BIN" --config "$WORK/geo.yaml"
wait_edges_up "$GEO_ADMIN"
SERVERS=("cdn-geo:$GEO_DNS")
if [ -n "$BASELINE_BIN" ]; then
  start_dns cdn-geo-baseline "$BASELINE_DNS" "$BASELINE_BIN" --config "$WORK/geo-baseline.yaml"
  wait_edges_up "$BASELINE_ADMIN"
  SERVERS+=("cdn-geo-baseline:$BASELINE_DNS")
fi
start_dns knot "$KNOT_DNS" "$KNOTD" -c "$WORK/knot.conf"
start_dns bind "$BIND_DNS" "$NAMED" -g -n "$THREADS" -c "$WORK/named.conf"
SERVERS+=("knot:$KNOT_DNS" "bind:$BIND_DNS")

# What each answers, recorded with the run.
{
  for s in "${SERVERS[@]}"; do
    echo "== ${s%%:*}: kdig video.$ZONE A +subnet=81.2.0.0/24"
    kdig +noall +answer +opt @127.0.0.1 -p "${s##*:}" "video.$ZONE" A +subnet=81.2.0.0/24 2>&1 | grep -vE '^;; (PSEUDOSECTION|EDNS PSEUDO)|^$' || true
  done
} >"$RAW/answers.txt"

{
  run_header
  echo "peers: $("$KNOTD" --version 2>&1 | head -n1); $("$NAMED" -v 2>&1 | head -n1); $(dnsperf -h 2>&1 | grep -m1 -i 'version' || dpkg-query -W -f='dnsperf ${Version}' dnsperf)"
  echo "load: dnsperf -T $THREADS -c $CLIENTS -q $OUTSTANDING ${DNSPERF_EXTRA[*]} -l $DURATION on CPU $DNSPERF_CPUS; servers on CPU $SERVER_CPUS with $THREADS worker thread(s); $ROUNDS rounds interleaved"
  echo "cdn-geo: $GEO_BIN"
  [ -z "$BASELINE_BIN" ] || echo "cdn-geo-baseline: $BASELINE_BIN"
} >"$RAW/env.txt"

ECS_OPT="8:00011800510200"  # family 1, source /24, scope 0, 81.2.0
qps() {  # file -> queries per second
  awk '/Queries per second:/ {print $4}' "$1"
}
HZ="$(getconf CLK_TCK)"
children_cpu() {  # CHILDREN_CPU = user + system seconds of the waited-for children of this shell
  times >"$WORK/times.txt"  # not in a $(...) subshell: its counts would start from zero
  CHILDREN_CPU="$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] }
    printf "%.3f", n }' "$WORK/times.txt")"
}
declare -A RESULTS COST BUSY GEN_BUSY ROUND_CELLS
for ((r = 1; r <= ROUNDS; r++)); do
  for set in plain ecs; do
    for s in "${SERVERS[@]}"; do
      name="${s%%:*}"
      f="$RAW/dnsperf-$set-$name-$r.txt"
      extra=()
      [ "$set" = plain ] || extra=(-E "$ECS_OPT")
      t0="$(cpu_ticks "${SERVER_PID[$name]}")"
      children_cpu
      g0=$CHILDREN_CPU
      taskset -c "$DNSPERF_CPUS" dnsperf -s 127.0.0.1 -p "${s##*:}" -d "$WORK/queries.txt" -T "$THREADS" \
        -c "$CLIENTS" -q "$OUTSTANDING" "${DNSPERF_EXTRA[@]}" -l "$DURATION" "${extra[@]}" >"$f" 2>&1 || true
      children_cpu
      g1=$CHILDREN_CPU
      q="$(qps "$f")"
      [ -n "$q" ] || { tail -n 5 "$f"; die "dnsperf against $name gave no result ($f)"; }
      t1="$(cpu_ticks "${SERVER_PID[$name]}")"
      lost="$(awk '/Queries lost:/ {print $3}' "$f")"
      # Server CPU per answered query: what the server spends, whatever the load generator manages.
      us="$(awk -v t=$((t1 - t0)) -v hz="$HZ" '/Queries completed:/ {printf "%.2f", t / hz * 1e6 / $3}' "$f")"
      busy="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v d="$DURATION" 'BEGIN {printf "%.0f", 100 * t / hz / d}')"
      gen="$(awk -v a="$g0" -v b="$g1" -v d="$DURATION" 'BEGIN {printf "%.0f", 100 * (b - a) / d}')"
      say "round $r $set $name: $q qps (lost $lost), server CPU $busy%, dnsperf CPU $gen%, $us us/query"
      RESULTS[$set/$name]+="$q "
      COST[$set/$name]+="$us "
      BUSY[$set/$name]+="$busy "
      GEN_BUSY[$set/$name]+="$gen "
      ROUND_CELLS[$set/$r]+="$(printf '%.0f' "$q") ($busy %, $gen %, $us) | "
    done
  done
done

names=()
for s in "${SERVERS[@]}"; do names+=("${s%%:*}"); done
{
  # One row per query set and server: the medians, and cdn-geo's ratios to Knot and BIND (qps,
  # and CPU efficiency = the peer's CPU per query / this one's).
  echo "| queries | server | qps | / Knot | / BIND | server CPU µs/query | CPU efficiency / Knot, / BIND | server CPU busy % | dnsperf CPU busy % |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
  for set in plain ecs; do
    # shellcheck disable=SC2086  # word-splitting the collected numbers is intended
    k="$(median ${RESULTS[$set/knot]})" b="$(median ${RESULTS[$set/bind]})"
    # shellcheck disable=SC2086
    ck="$(median ${COST[$set/knot]})" cb="$(median ${COST[$set/bind]})"
    for name in "${names[@]}"; do
      # shellcheck disable=SC2086
      q="$(median ${RESULTS[$set/$name]})" c="$(median ${COST[$set/$name]})"
      # shellcheck disable=SC2086
      bu="$(median ${BUSY[$set/$name]})" ge="$(median ${GEN_BUSY[$set/$name]})"
      awk -v s="$set" -v n="$name" -v q="$q" -v k="$k" -v b="$b" -v c="$c" -v ck="$ck" -v cb="$cb" \
        -v bu="$bu" -v ge="$ge" 'BEGIN {
          peer = n == "knot" || n == "bind"
          printf "| %s | %s | %.0f | %s | %s | %.2f | %s | %.0f | %.0f |\n", s, n, q,
            peer ? "" : sprintf("%.2f", q / k), peer ? "" : sprintf("%.2f", q / b), c,
            peer ? "" : sprintf("%.2f, %.2f", ck / c, cb / c), bu, ge }'
    done
  done
  echo
  echo "Per round: qps (server CPU busy %, dnsperf CPU busy %, server CPU µs/query)"
  echo
  header="| round |" rule="| ---: |"
  for set in plain ecs; do
    for name in "${names[@]}"; do header+=" $set $name |" rule+=" ---: |"; done
  done
  echo "$header"
  echo "$rule"
  for ((r = 1; r <= ROUNDS; r++)); do echo "| $r | ${ROUND_CELLS[plain/$r]}${ROUND_CELLS[ecs/$r]}"; done
} >"$RAW/table.md"
show_run "raw dnsperf output, configs and logs"
