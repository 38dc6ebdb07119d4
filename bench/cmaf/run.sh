#!/usr/bin/env bash
# fMP4/CMAF packaging throughput beside the TS segmenter's, on the same 30 s 720p input (made by
# ffmpeg once into /tmp), pinned to one core; prints both and the ratio (CMAF / TS).
# Usage: ./cdn bench cmaf [BUILD_DIR]   (MIN_TIME=seconds per benchmark, default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
B="${1:-build}"
MIN_TIME="${MIN_TIME:-2}"
CPU="${CPU:-1}"
cmake --build "$B" --target bench_live_segment bench_live_cmaf -j2 >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for b in bench_live_segment bench_live_cmaf; do
  echo "== $b"
  taskset -c "$CPU" "$B/bench/$b" --benchmark_min_time="$MIN_TIME" --benchmark_format=json \
    --benchmark_out="$out/$b.json" --benchmark_out_format=json --benchmark_format=console 2>/dev/null
done
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
rate = lambda f: {b["name"]: b["bytes_per_second"] / 1e6 for b in json.load(open(f"{d}/{f}.json"))["benchmarks"]}
ts, cmaf = rate("bench_live_segment"), rate("bench_live_cmaf")
for chunk in ("1316", "65536"):
    t = ts.get(f"BM_DemuxSegment/{chunk}")
    for name, c in cmaf.items():
        if name.split("/")[1] == chunk and t:
            print(f"{name}: {c:8.0f} MB/s   TS segmenter /{chunk}: {t:8.0f} MB/s   CMAF/TS {c / t:.2f}")
PY
