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
run bench_hls_rewrite
run bench_live_segment
run bench_auth_verify

echo "== peer: openssl speed (verify/s, 1 core)"
openssl speed -seconds 3 ecdsap256 ed25519 2>/dev/null | tee "$out/openssl.txt" | grep -E "^ *256 bits ecdsa|Ed25519" || true
ossl_p256="$(awk '/256 bits ecdsa \(nistp256\)/ {print $NF}' "$out/openssl.txt" | head -1)"
ossl_ed="$(awk '/253 bits EdDSA \(Ed25519\)/ {print $NF}' "$out/openssl.txt" | head -1)"

# items_per_second is not set by these benchmarks; derive verifications/s from ns per iteration.
per_s() { awk -v name="$1" '$1 == name {t=$2; u=$3; f=(u=="ns")?1e9:(u=="us")?1e6:1e3; printf "%.0f", f/t; exit}' "$out/bench_auth_verify.txt"; }
es="$(per_s BM_VerifyES256)"
ed="$(per_s BM_VerifyEd25519)"

echo "== peer: ffmpeg HLS muxer remuxing the benchmark's input (-c copy)"
in=/tmp/cdn-bench-live-30s.ts
size=$(stat -c %s "$in")
start=$(date +%s.%N)
ffmpeg -nostdin -loglevel error -y -i "$in" -c copy -f hls -hls_time 2 -hls_segment_filename "$out/s%03d.ts" "$out/p.m3u8"
end=$(date +%s.%N)
ff_mbs=$(awk -v s="$size" -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", s / (b - a) / 1e6}')
ours=$(grep -m1 "BM_DemuxSegment/65536" "$out/bench_live_segment.txt" | grep -oE '[0-9.]+[GM]i?B/s' | head -1)

echo
echo "== summary"
printf "token verify ES256:   %s/s  vs openssl raw P-256 verify %s/s  (ratio %s)\n" "$es" "${ossl_p256:-?}" \
  "$(awk -v a="$es" -v b="${ossl_p256:-0}" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}')"
printf "token verify Ed25519: %s/s  vs openssl raw Ed25519 verify %s/s  (ratio %s)\n" "$ed" "${ossl_ed:-?}" \
  "$(awk -v a="$ed" -v b="${ossl_ed:-0}" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "?"}')"
printf "demux+segment: %s (64 KiB chunks)  vs ffmpeg -c copy -f hls: %s MB/s (wall, whole process)\n" "$ours" "$ff_mbs"
