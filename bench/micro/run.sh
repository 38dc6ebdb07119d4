#!/usr/bin/env bash
# Runs the Google Benchmark micro-benchmarks and, in the same run, a peer doing comparable work:
#   token verification   vs  `openssl speed` (raw ECDSA P-256 / Ed25519 verify, no JWT parsing)
#   demux + segment      vs  ffmpeg's own HLS muxer remuxing the same TS file (-c copy)
# Prints the benchmark output and the ratios. Usage: bench/micro/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
B="${1:-build}"
MIN_TIME="${MIN_TIME:-0.5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run() {  # binary
  echo "== $1"
  "$B/bench/$1" --benchmark_min_time="$MIN_TIME" --benchmark_format=console 2>/dev/null | tee "$out/$1.txt"
}

run bench_cache_lookup
run bench_http_query
run bench_hls_rewrite
run bench_live_segment
run bench_auth_verify
run bench_geo_steering
run bench_geo_answer

echo "== peer: openssl speed (verify/s, 1 core)"
openssl speed -seconds 3 ecdsap256 ed25519 2>/dev/null | tee "$out/openssl.txt" | grep -E "^ *256 bits ecdsa|Ed25519" || true
ossl_p256="$(awk '/256 bits ecdsa \(nistp256\)/ {print $NF}' "$out/openssl.txt" | head -1)"
ossl_ed="$(awk '/253 bits EdDSA \(Ed25519\)/ {print $NF}' "$out/openssl.txt" | head -1)"

# Verifications/s from the benchmark's items_per_second counter (e.g. "19.8687k/s").
per_s() {
  awk -v name="$1" '$1 == name { for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) {
      v = $i; sub(/^items_per_second=/, "", v); sub(/\/s$/, "", v); m = 1;
      if (v ~ /k$/) m = 1e3; else if (v ~ /M$/) m = 1e6; sub(/[kM]$/, "", v); printf "%.0f", v * m; exit } }' \
    "$out/bench_auth_verify.txt"
}
es="$(per_s BM_VerifyES256)"
ed="$(per_s BM_VerifyEd25519)"

echo "== peer: ffmpeg HLS muxer remuxing the benchmark's input (-c copy)"
in=/tmp/cdn-bench-live-30s.ts
size=$(stat -c %s "$in")
start=$(date +%s.%N)
ffmpeg -nostdin -loglevel error -y -i "$in" -c copy -f hls -hls_time 2 -hls_segment_filename "$out/s%03d.ts" "$out/p.m3u8"
end=$(date +%s.%N)
ff_mbs=$(awk -v s="$size" -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", s / (b - a) / 1e6}')
ours=$(grep -m1 "BM_DemuxSegment/65536" "$out/bench_live_segment.txt" | grep -oE 'bytes_per_second=[0-9.]+[kMG]?/s' | cut -d= -f2 || true)

echo
echo "== summary"
printf "token verify ES256:   %s/s  vs openssl raw P-256 verify %s/s  (ratio %s)\n" "$es" "${ossl_p256:-?}" \
  "$(awk -v a="$es" -v b="${ossl_p256:-0}" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}')"
printf "token verify Ed25519: %s/s  vs openssl raw Ed25519 verify %s/s  (ratio %s)\n" "$ed" "${ossl_ed:-?}" \
  "$(awk -v a="$ed" -v b="${ossl_ed:-0}" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}')"
printf "demux+segment: %s bytes/s (64 KiB chunks, one core)  vs ffmpeg -c copy -f hls: %s MB/s (wall, whole process incl. file I/O)\n" "$ours" "$ff_mbs"
