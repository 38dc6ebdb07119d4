#!/usr/bin/env bash
# Ingest cost on the origin: CHANNELS channels, each one rendition pushed at real time by ffmpeg
# from a pre-encoded file (-re -stream_loop -1 -c copy, so the encoders cost little), half over
# RTMP (FLV remuxed to MPEG-TS by the origin) and half over SRT (MPEG-TS as is), for DURATION
# seconds. Reports the origin's CPU (share of one core, and ms per channel-second) and RSS, and
# fails if any playlist stopped advancing or a stream ended.
#
# Environment (defaults in brackets):
#   CHANNELS [10]  DURATION [30] seconds  SIZE [640x360]  SRT_LATENCY [120ms] (live.srt.latency)
#   CDN_BUILD_DIR [build]
#   BENCH_PORT_BASE [15600]  BENCH_OUT [build/bench-ingest] (raw files, outside git)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) printf 'bench/ingest/run.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
esac
export CHANNELS="${CHANNELS:-10}" DURATION="${DURATION:-30}" SIZE="${SIZE:-640x360}"
export SRT_LATENCY="${SRT_LATENCY:-120ms}"
export BUILD="$(cd "${CDN_BUILD_DIR:-$ROOT/build}" && pwd)"
export BASE="${BENCH_PORT_BASE:-15600}"
export OUT="${BENCH_OUT:-$ROOT/build/bench-ingest}/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
exec /usr/bin/python3 - <<'PY'
import json, os, subprocess, sys, time, urllib.request

n, duration, size = int(os.environ["CHANNELS"]), int(os.environ["DURATION"]), os.environ["SIZE"]
build, base, out = os.environ["BUILD"], int(os.environ["BASE"]), os.environ["OUT"]
key = "bench-stream-key"
http, admin, srt, rtmp = base, base + 1, base + 2, base + 3

src = f"{out}/src.flv"
subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25",
                "-f", "lavfi", "-i", "sine=frequency=440", "-t", "10", "-c:v", "libx264", "-preset", "veryfast",
                "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v", "1500k",
                "-c:a", "aac", src], check=True)
chans = "\n".join(f"    - name: c{i}\n      stream_key: {key}\n      renditions:\n        - name: r" for i in range(n))
cfg = f"""tier: origin
workers: 1
listen:
  - address: 127.0.0.1:{http}
admin:
  listen: 127.0.0.1:{admin}
origin:
  root: {out}
live:
  store_path: {out}/store
  channels:
{chans}
  srt:
    listen: 127.0.0.1:{srt}
    latency: {os.environ["SRT_LATENCY"]}
  rtmp:
    listen: 127.0.0.1:{rtmp}
"""
open(f"{out}/origin.yaml", "w").write(cfg)
origin = subprocess.Popen([f"{build}/origin-shield/origin/cdn-origin", "--config", f"{out}/origin.yaml"],
                          stdout=open(f"{out}/origin.log", "w"), stderr=subprocess.STDOUT)


def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http}{path}", timeout=5) as r:
            return r.read().decode()
    except Exception:
        return None


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


encoders = []
try:
    for _ in range(100):
        if get("/live/nope/master.m3u8") is not None or origin.poll() is not None:
            break
        time.sleep(0.1)
    for i in range(n):
        common = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", src, "-c", "copy",
                  "-t", str(duration + 15)]
        if i % 2 == 0:
            target = ["-f", "flv", f"rtmp://127.0.0.1:{rtmp}/live/c{i}/r?key={key}"]
        else:
            target = ["-f", "mpegts", f"srt://127.0.0.1:{srt}?streamid=%23!::r=c{i}/r,s={key},m=publish"]
        encoders.append(subprocess.Popen(common + target, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(8)  # every stream has started and cut its first segments
    seqs0 = [get(f"/live/c{i}/r/index.m3u8") for i in range(n)]
    c0, t0 = cpu_s(origin.pid), time.monotonic()
    time.sleep(duration)
    c1, t1 = cpu_s(origin.pid), time.monotonic()
    rss = rss_mib(origin.pid)
    ok = True
    advanced_by = {"rtmp": [], "srt": []}
    for i in range(n):
        pl = get(f"/live/c{i}/r/index.m3u8") or ""
        before = seqs0[i] or ""
        seq = lambda t: int(t.split("#EXT-X-MEDIA-SEQUENCE:")[1].split()[0]) if "#EXT-X-MEDIA-SEQUENCE:" in t else -1
        advanced = seq(pl) - seq(before)
        advanced_by["rtmp" if i % 2 == 0 else "srt"].append(advanced)
        if advanced < duration / 2 - 3 or "#EXT-X-ENDLIST" in pl:
            ok = False
            print(f"c{i}: advanced {advanced} segments in {duration}s (ended: {'#EXT-X-ENDLIST' in pl})")
    busy = (c1 - c0) / (t1 - t0)
    result = {"channels": n, "rtmp": (n + 1) // 2, "srt": n // 2, "seconds": round(t1 - t0, 1),
              "origin_cpu_percent_of_one_core": round(100 * busy, 1),
              "cpu_ms_per_channel_second": round(1000 * busy / n, 2), "origin_rss_mib": round(rss, 1),
              "segments_advanced_min_max": {k: [min(v), max(v)] for k, v in advanced_by.items() if v},
              "srt_latency": os.environ["SRT_LATENCY"], "every_playlist_advanced": ok}
    print(json.dumps(result))
    open(f"{out}/result.json", "w").write(json.dumps(result) + "\n")
    sys.exit(0 if ok else 1)
finally:
    for e in encoders:
        e.kill()
    origin.terminate()
    origin.wait(30)
PY
