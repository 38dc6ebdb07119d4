#!/usr/bin/env bash
# Mutual TLS between tiers against plain HTTP: sequential 1 KB cache misses through origin ->
# shield -> edge, both chains side by side, interleaved rounds, medians (bench/tier_tls/misses.py).
# Run on a quiet machine: one client, so the figure is latency per miss, not throughput.
#
#   ./cdn bench tier_tls [MISSES_PER_ROUND [ROUNDS [OBJECT_BYTES]]]   (defaults 500 5 1000)
#   CDN_BUILD_DIR [build]: where cdn-origin, cdn-shield and cdn-edge are
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CDN_BUILD_DIR="${CDN_BUILD_DIR:-$ROOT/build}"
exec /usr/bin/python3 "$HERE/misses.py" "$@"
