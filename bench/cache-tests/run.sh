#!/usr/bin/env bash
# The public HTTP cache conformance suite (https://github.com/http-tests/cache-tests) against an
# edge -> shield chain, and against nginx with the suite's own reference config, on this machine.
# Prints, per cache, the results by kind (pass, fail = required behaviour failed, setup_fail,
# optional_fail, ...) and lists every required or set-up failure. Takes a few minutes (the suite
# waits for expiries); node >= 18 needed.
#
#   ./cdn bench cache-tests [edge|nginx ...]     (default: edge nginx)
#
# Environment: CACHE_TESTS_DIR [bench/cache-tests/out/suite: cloned, `npm i --omit=dev` run, when
# absent], CDN_BUILD_DIR [build], BENCH_OUT [bench/cache-tests/out], PYTHON [a python3 with
# pytest, which the integration tests' helpers import].
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${BENCH_OUT:-$HERE/out}"
SUITE="${CACHE_TESTS_DIR:-$OUT/suite}"
export CDN_BUILD_DIR="${CDN_BUILD_DIR:-$ROOT/build}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import pytest' 2>/dev/null || PYTHON=/usr/bin/python3
mkdir -p "$OUT"

if [ ! -d "$SUITE/tests" ]; then
  git clone --depth 1 https://github.com/http-tests/cache-tests "$SUITE"
fi
if [ ! -d "$SUITE/node_modules/undici" ]; then
  (cd "$SUITE" && npm i --omit=dev --no-audit --no-fund)
fi
cp "$HERE/summarise.mjs" "$SUITE/cdn-summarise.mjs"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(edge nginx)
results=()
for t in "${targets[@]}"; do
  echo "== cache-tests against $t"
  results+=("$("$PYTHON" "$HERE/run.py" "$t" "$SUITE" "$OUT" | tail -n1)")
done
(cd "$SUITE" && LIST=1 node cdn-summarise.mjs "${results[@]}")
