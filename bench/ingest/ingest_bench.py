"""bench/ingest/run.sh's body (see there for what it measures); configured by its environment."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

ENV = os.environ
N, R = int(ENV["CHANNELS"]), int(ENV["RENDITIONS"])
DURATION, WARMUP = int(ENV["DURATION"]), int(ENV["WARMUP"])
INPUT, WITH_NGINX = ENV["INPUT"], ENV["NGINX"] == "1"
BUILD, BASE, OUT = ENV["BUILD"], int(ENV["BASE"]), ENV["OUT"]
KEY = "bench-stream-key"
TARGET_S = 2.0
POLL_S = 0.5
# A wait between two segments longer than this is a late segment (the GOP is exactly TARGET_S).
LATE_S = 1.5 * TARGET_S + POLL_S
HTTP, ADMIN, SRT, RTMP, NGINX_RTMP = BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4
# Rendition r's file: size and video bitrate (2 s GOP at 25 fps, AAC 96k).
LADDER = [("640x360", "1200k"), ("320x180", "400k"), ("960x540", "2500k"), ("1280x720", "4000k")]
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def log(*a):
    print(*a, flush=True)


def encode_sources():
    files = []
    for r in range(R):
        size, rate = LADDER[r % len(LADDER)]
        path = f"{OUT}/src-r{r}.flv"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc=size={size}:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "10",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min",
                        "50", "-sc_threshold", "0", "-b:v", rate, "-maxrate", rate, "-bufsize", rate,
                        "-c:a", "aac", "-b:a", "96k", path], check=True)
        files.append((path, os.path.getsize(path) / 10.0))  # bytes per second of the file
    return files


def origin_config():
    chans = "".join(f"    - name: c{i}\n      stream_key: {KEY}\n      renditions:\n"
                    + "".join(f"        - name: r{r}\n" for r in range(R)) for i in range(N))
    return f"""tier: origin
workers: 1
listen:
  - address: 127.0.0.1:{HTTP}
admin:
  listen: 127.0.0.1:{ADMIN}
origin:
  root: {OUT}
live:
  store_path: {OUT}/store
  target_duration: 2s
  window_segments: 6
  channels:
{chans}  srt:
    listen: 127.0.0.1:{SRT}
    latency: {ENV["SRT_LATENCY"]}
  rtmp:
    listen: 127.0.0.1:{RTMP}
"""


def nginx_config():
    user = "user root root;\n" if os.getuid() == 0 else ""
    return f"""load_module {NGINX_MODULE};
{user}worker_processes 1;
daemon off;
pid {OUT}/nginx.pid;
error_log {OUT}/nginx-error.log warn;
events {{ worker_connections 4096; }}
rtmp {{
  server {{
    listen 127.0.0.1:{NGINX_RTMP};
    chunk_size 4096;
    application live {{
      live on;
      hls on;
      hls_path {OUT}/nginx-hls;
      hls_nested on;
      hls_fragment 2s;
      hls_playlist_length 12s;
    }}
  }}
}}
"""


def origin_target(i, r):
    kind = INPUT if INPUT in ("rtmp", "srt") else ("rtmp" if i % 2 == 0 else "srt")
    if kind == "rtmp":
        return kind, "flv", f"rtmp://127.0.0.1:{RTMP}/live/c{i}/r{r}?key={KEY}"
    return kind, "mpegts", f"srt://127.0.0.1:{SRT}?streamid=%23!::r=c{i}/r{r},s={KEY},m=publish"


def encoder(i, r, src):
    kind, fmt, url = origin_target(i, r)
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", src, "-map", "0",
           "-c", "copy", "-t", str(WARMUP + DURATION + 20)]
    if not WITH_NGINX:
        return kind, cmd + ["-f", fmt, url]
    bsf = ":bsfs/v=h264_mp4toannexb" if fmt == "mpegts" else ""
    slaves = f"[f={fmt}{bsf}:onfail=ignore]{url}|[f=flv:onfail=ignore]rtmp://127.0.0.1:{NGINX_RTMP}/live/c{i}_r{r}"
    return kind, cmd + ["-f", "tee", slaves]


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode()
    except Exception:
        return None


def next_sequence(text):
    """Media sequence + segments listed: the number the next segment will get (-1: none)."""
    if not text or "#EXT-X-MEDIA-SEQUENCE:" not in text:
        return -1, -1, False
    media = int(text.split("#EXT-X-MEDIA-SEQUENCE:")[1].split()[0])
    return media + text.count("#EXTINF:"), media, "#EXT-X-ENDLIST" in text


def origin_playlist(i, r):
    return http_get(f"http://127.0.0.1:{HTTP}/live/c{i}/r{r}/index.m3u8")


def nginx_playlist(i, r):
    try:
        with open(f"{OUT}/nginx-hls/c{i}_r{r}/index.m3u8") as f:
            return f.read()
    except OSError:
        return None


def ingest_bytes():
    text = http_get(f"http://127.0.0.1:{ADMIN}/metrics") or ""
    out = {}
    for m in re.finditer(r'^cdn_live_ingest_bytes_total\{([^}]*)\} (\S+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        k = (labels.get("channel"), labels.get("rendition"))
        out[k] = out.get(k, 0) + float(m.group(2))
    return out


def tree(pid):
    """pid and its descendants (nginx's workers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                kids.setdefault(int(stat[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def cpu_s(pids):
    total = 0.0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def rss_mib(pids):
    total = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Watch:
    """One server's renditions: next sequence numbers, polled every POLL_S, and the longest wait
    between two new segments of a rendition inside the measured window (up to POLL_S more than
    the real one)."""

    def __init__(self, read):
        self.read = read
        self.keys = [(i, r) for i in range(N) for r in range(R)]
        self.start, self.last, self.changed, self.max_gap, self.media0 = {}, {}, {}, {}, {}
        self.ended = set()

    def begin(self, now):
        for k in self.keys:
            seq, media, _ = next_sequence(self.read(*k))
            self.start[k] = self.last[k] = seq
            self.media0[k] = media
            self.changed[k], self.max_gap[k] = now, 0.0

    def poll(self, now):
        for k in self.keys:
            seq, _, ended = next_sequence(self.read(*k))
            if ended:
                self.ended.add(k)
            if seq != self.last[k]:
                self.max_gap[k] = max(self.max_gap[k], now - self.changed[k])
                self.last[k], self.changed[k] = seq, now

    def finish(self, now):
        for k in self.keys:
            self.max_gap[k] = max(self.max_gap[k], now - self.changed[k])
        produced = [self.last[k] - self.start[k] for k in self.keys]
        media_advance = [next_sequence(self.read(*k))[1] - self.media0[k] for k in self.keys]
        return {
            "segments_expected": round(DURATION / TARGET_S, 1),
            "segments_produced_min_median_max": [min(produced), sorted(produced)[len(produced) // 2],
                                                  max(produced)],
            "renditions_below_expected_minus_1": sum(p < DURATION / TARGET_S - 1 for p in produced),
            # What the previous version of this bench measured: it lags segments produced by the
            # segments the live window still lacked at the first sample (media sequence stays 0 until
            # the window is full).
            "media_sequence_advance_min_max": [min(media_advance), max(media_advance)],
            "longest_wait_between_segments_s": round(max(self.max_gap.values()), 2),
            "renditions_with_a_late_segment": sum(g > LATE_S for g in self.max_gap.values()),
            "renditions_ended": len(self.ended),
        }


def main():
    if WITH_NGINX and not os.path.exists(NGINX_MODULE):
        sys.exit(f"{NGINX_MODULE} missing (apt-get install libnginx-mod-rtmp) or run with NGINX=0")
    files = encode_sources()
    open(f"{OUT}/origin.yaml", "w").write(origin_config())
    procs = []
    origin = subprocess.Popen([f"{BUILD}/origin-shield/origin/cdn-origin", "--config", f"{OUT}/origin.yaml"],
                              stdout=open(f"{OUT}/origin.log", "w"), stderr=subprocess.STDOUT)
    procs.append(origin)
    nginx = None
    if WITH_NGINX:
        os.makedirs(f"{OUT}/nginx-hls", exist_ok=True)
        open(f"{OUT}/nginx.conf", "w").write(nginx_config())
        nginx = subprocess.Popen(["nginx", "-c", f"{OUT}/nginx.conf", "-p", OUT], stdout=open(f"{OUT}/nginx.log", "w"),
                                 stderr=subprocess.STDOUT)
        procs.append(nginx)
    encoders = []
    try:
        for _ in range(100):
            if http_get(f"http://127.0.0.1:{HTTP}/live/none/master.m3u8") is not None or origin.poll() is not None:
                break
            time.sleep(0.1)
        kinds = {}
        for i in range(N):
            for r in range(R):
                kind, cmd = encoder(i, r, files[r][0])
                kinds[kind] = kinds.get(kind, 0) + 1
                encoders.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                                 stderr=open(f"{OUT}/ffmpeg-c{i}-r{r}.log", "w")))
        log(f"{len(encoders)} encoders started ({kinds}); warming up {WARMUP}s")
        time.sleep(WARMUP)  # every stream has started and cut its first segments
        ours, theirs = Watch(origin_playlist), Watch(nginx_playlist) if nginx else None
        t0 = time.monotonic()
        for w in (ours, theirs):
            if w:
                w.begin(t0)
        bytes0 = ingest_bytes()
        enc_pids = [e.pid for e in encoders]
        nginx_pids = tree(nginx.pid) if nginx else []
        c0 = (cpu_s([origin.pid]), cpu_s(nginx_pids), cpu_s(enc_pids))
        busy0 = sum(int(x) for x in open("/proc/stat").readline().split()[1:8])
        idle0 = int(open("/proc/stat").readline().split()[4])
        while time.monotonic() - t0 < DURATION:
            time.sleep(POLL_S)  # the sampling period of segment arrival, not a wait for a condition
            now = time.monotonic()
            for w in (ours, theirs):
                if w:
                    w.poll(now)
        t1 = time.monotonic()
        c1 = (cpu_s([origin.pid]), cpu_s(nginx_pids), cpu_s(enc_pids))
        busy1 = sum(int(x) for x in open("/proc/stat").readline().split()[1:8])
        idle1 = int(open("/proc/stat").readline().split()[4])
        bytes1 = ingest_bytes()
        secs = t1 - t0
        streams = N * R

        def cost(pids, cpu):
            share = cpu / secs
            return {"cpu_percent_of_one_core": round(100 * share, 1),
                    "cpu_ms_per_rendition_second": round(1000 * share / streams, 3),
                    "rss_mib": round(rss_mib(pids), 1)}

        rates = []
        for (i, r) in ours.keys:
            got = (bytes1.get((f"c{i}", f"r{r}"), 0) - bytes0.get((f"c{i}", f"r{r}"), 0)) / secs
            rates.append(got / files[r][1])
        rates.sort()
        result = {
            "channels": N, "renditions_per_channel": R, "inputs": kinds, "seconds": round(secs, 1),
            "machine_cpus": os.cpu_count(), "load_average": open("/proc/loadavg").read().split()[:3],
            "machine_busy_percent": round(100 * (1 - (idle1 - idle0) / max(1, busy1 - busy0)), 1),
            "origin": {**cost([origin.pid], c1[0] - c0[0]), **ours.finish(t1),
                       # MPEG-TS bytes in (RTMP is counted after its remux) per second over the FLV
                       # file's rate: ~1.1 is real time (TS overhead); less, the encoders fell behind.
                       "input_rate_vs_file_min_median_max": [round(rates[0], 3), round(rates[len(rates) // 2], 3),
                                                             round(rates[-1], 3)]},
            "encoders": {"cpu_percent_of_one_core": round(100 * (c1[2] - c0[2]) / secs, 1)},
        }
        if theirs:
            result["nginx_rtmp"] = {**cost(nginx_pids, c1[1] - c0[1]), **theirs.finish(t1)}
        print(json.dumps(result, indent=1))
        open(f"{OUT}/result.json", "w").write(json.dumps(result) + "\n")
        o = result["origin"]
        # The bar: every playlist advances (no rendition more than one segment short) and
        # no segment is late.
        bad = o["renditions_ended"] or o["renditions_below_expected_minus_1"] or o["renditions_with_a_late_segment"]
        table = ["| | cdn-origin | nginx-rtmp |", "| --- | ---: | ---: |"]
        rows = [("segments produced per rendition (min / median / max), expected "
                 f"{o['segments_expected']:g}", lambda x: " / ".join(map(str, x["segments_produced_min_median_max"]))),
                ("renditions more than one segment short", lambda x: x["renditions_below_expected_minus_1"]),
                (f"longest wait between two segments ({POLL_S} s sampling)",
                 lambda x: f"{x['longest_wait_between_segments_s']} s"),
                (f"renditions with a wait over {LATE_S:g} s", lambda x: x["renditions_with_a_late_segment"]),
                ("CPU, % of one core (ms per rendition-second)",
                 lambda x: f"{x['cpu_percent_of_one_core']} ({x['cpu_ms_per_rendition_second']})"),
                ("RSS", lambda x: f"{x['rss_mib']} MiB")]
        for name, f in rows:
            table.append(f"| {name} | {f(o)} | {f(result['nginx_rtmp']) if theirs else '-'} |")
        table.append(f"| input rate over the file's (min / median / max) | "
                     f"{' / '.join(map(str, o['input_rate_vs_file_min_median_max']))} | |")
        open(f"{OUT}/table.md", "w").write("\n".join(table) + "\n")
        log("\n".join(table))
        log(f"encoders: {result['encoders']['cpu_percent_of_one_core']} % of one core; "
            f"load average {' '.join(result['load_average'])}; verdict: {'FAIL' if bad else 'ok'}")
        log(f"raw files: {OUT}")
        sys.exit(1 if bad else 0)
    finally:
        for e in encoders:
            e.kill()
        for e in encoders:
            e.wait()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
