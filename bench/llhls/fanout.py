#!/usr/bin/env python3
"""LL-HLS blocking-reload fan-out through the tiers (issue 14), not a peer comparison.

Two origins, one cdn-shield and one cdn-edge on loopback:
- `real`: cdn-origin packaging ffmpeg's real-time encode (testsrc, 2 s GOP) as LL-HLS with 333 ms
  parts. For each N, N viewers (one HTTP/1.1 connection each) send the edge the blocking reload
  for a part a few parts ahead (far enough for N connections to park before it exists), and a
  probe sends the same request straight to cdn-origin. The part's publication is the probe's
  first byte: the moment the origin releases its held requests, the shield's among them.
- `scripted`: the scriptable LL-HLS origin of the integration tests
  (tests/integration/llhls_origin.py) in this process; once the edge reports all N parked
  (gauge cdn_blocking_reloads_waiting) it publishes the part.
Measured from the publication (same monotonic clock):
  - first byte of the first and the last viewer, p50/p99 (what the issue calls "released");
  - the last viewer's complete response;
and checked: every viewer got 200 with one and the same playlist, and one request per tier (the
origin's count, or the edge's and the shield's upstream request counters with `real`). Viewer sockets are read by one epoll loop here, so the figures include
this client's own time to go through N ready sockets (an upper bound on the tiers' share).
Prints one JSON line per N.

usage: fanout.py --build DIR --work DIR --ports ORIGIN,SHIELD,EDGE,ORIGIN_ADMIN,SHIELD_ADMIN,EDGE_ADMIN
                 --origin real|scripted N [N...]
(bench/llhls/run.sh passes bench/lib.sh's paths and ports.)"""
import argparse
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from llhls_origin import BASE, LLHLSOrigin  # noqa: E402

PLAYLIST = f"{BASE}/v0/index.m3u8"


def metric(admin_port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5).read().decode()
    return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith(name + " ") or l.startswith(name + "{"))


def wait_for(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


PROGRAMS = {"edge": "edge/cdn-edge", "shield": "origin-shield/shield/cdn-shield",
            "origin": "origin-shield/origin/cdn-origin"}
STREAM_KEY = "bench-key"
PART_S = 0.333


def start(build, work, kind, cfg):
    path = work / f"{kind}.yaml"
    path.write_text(cfg)
    binary = build / PROGRAMS[kind]
    err = open(work / f"{kind}.stderr", "wb")
    return subprocess.Popen([str(binary), "--config", str(path)], stdout=subprocess.DEVNULL, stderr=err)


def tier_config(kind, port, admin, upstream):
    return (f"tier: {kind}\nworkers: 2\nlisten:\n  - address: \"127.0.0.1:{port}\"\n"
            f"admin:\n  listen: \"127.0.0.1:{admin}\"\n  token: bench\naccess_log: \"off\"\n"
            f"upstream:\n  servers:\n    - address: \"127.0.0.1:{upstream}\"\n"
            f"timeouts:\n  upstream_blocking_reload: 120s\n  cache_lock: 120s\n  header_read: 120s\n"
            f"limits:\n  max_connections: 30000\n  max_connections_per_client: 0\n")


def origin_config(port, admin, work):
    return (f"tier: origin\nworkers: 1\nlisten:\n  - address: \"127.0.0.1:{port}\"\n"
            f"admin:\n  listen: \"127.0.0.1:{admin}\"\n  token: bench\naccess_log: \"off\"\n"
            f"origin:\n  root: \"{work}\"\n"
            f"live:\n  store_path: \"{work / 'live-store'}\"\n  target_duration: 2s\n  part_target: 333ms\n"
            f"  window_segments: 6\n  dvr_window: 1m\n  input_gap: 3s\n  channels:\n    - name: ll\n"
            f"      stream_key: {STREAM_KEY}\n      formats: [llhls]\n      renditions:\n        - name: v0\n")


def encoder(origin_port, work):
    """ffmpeg encoding in real time and pushing MPEG-TS to cdn-origin for as long as the bench runs."""
    url = f"http://127.0.0.1:{origin_port}/ingest/ll/v0?key={STREAM_KEY}"
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3600", "-c:v", "libx264", "-preset", "veryfast",
         "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
         "-c:a", "aac", "-f", "mpegts", "-method", "PUT", url],
        stdout=subprocess.DEVNULL, stderr=open(work / "ffmpeg.stderr", "wb"))


def live_edge(origin_port):
    """(msn, parts listed so far in the segment being written) from cdn-origin's own playlist."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{origin_port}{PLAYLIST}", timeout=5).read().decode()
    except OSError:
        return None
    msn, parts, segs = None, 0, 0
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            msn = int(line.split(":")[1])
        elif line.startswith("#EXT-X-PART:"):
            parts += 1
        elif line and not line.startswith("#"):
            msn, parts, segs = msn + 1, 0, segs + 1
    return (msn, parts) if msn is not None and segs >= 2 else None


def cpu_ms(pid):
    """User + system CPU time of a process so far (10 ms resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def connect_all(port, n, request):
    """N connected sockets with the request sent, opened in batches (the listen backlog)."""
    socks = []
    for start_at in range(0, n, 512):
        batch = []
        for _ in range(min(512, n - start_at)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            batch.append(s)
        sel = selectors.DefaultSelector()
        for s in batch:
            sel.register(s, selectors.EVENT_WRITE)
        pending = len(batch)
        while pending:
            for key, _ in sel.select(10):
                sel.unregister(key.fileobj)
                key.fileobj.setblocking(True)
                key.fileobj.sendall(request)
                key.fileobj.setblocking(False)
                pending -= 1
        sel.close()
        socks += batch
    return socks


def watch(socks):
    """An epoll set over the viewers' sockets, made before the publication (not timed)."""
    sel = selectors.EpollSelector()
    state = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        state[s] = {"buf": b"", "first": None, "done": None, "total": None}
    return sel, state


def read_all(sel, state, published):
    """First-byte and completion times (from publication) and each response's bytes. Kept cheap
    per event (a response's head is parsed once) so that the client is not what is measured."""
    open_count = len(state)
    deadline = time.monotonic() + 120
    while open_count and time.monotonic() < deadline:
        events = sel.select(1)
        now = time.monotonic()
        for key, _ in events:
            s = key.fileobj
            st = state[s]
            data = s.recv(65536)
            if st["first"] is None and data:
                st["first"] = now - published
            st["buf"] += data
            if st["total"] is None and b"\r\n\r\n" in st["buf"]:
                head, _, _ = st["buf"].partition(b"\r\n\r\n")
                st["total"] = len(head) + 4 + next(
                    (int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")[1:]
                     if l.split(b":", 1)[0].strip().lower() == b"content-length"), 1 << 40)
            if not data or (st["total"] is not None and len(st["buf"]) >= st["total"]):
                st["done"] = time.monotonic() - published
                sel.unregister(s)
                s.close()
                open_count -= 1
    sel.close()
    return state


def run_one(origin, edge_port, edge_admin, n, edge_pid):
    while origin.hint()[1] not in (1, 2):
        origin.publish()
    msn, part = origin.hint()
    query = f"_HLS_msn={msn}&_HLS_part={part}"
    request = f"GET {PLAYLIST}?{query} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
    t0 = time.monotonic()
    rss_before = rss_bytes(edge_pid)
    socks = connect_all(edge_port, n, request)
    wait_for(lambda: metric(edge_admin, "cdn_blocking_reloads_waiting") >= n, 120, f"{n} viewers parked")
    parked_s = time.monotonic() - t0
    rss_per_viewer = (rss_bytes(edge_pid) - rss_before) / n
    sel, state = watch(socks)
    edge_cpu, client_cpu = cpu_ms(edge_pid), time.process_time()
    published = time.monotonic()
    origin.publish()
    state = read_all(sel, state, published)
    edge_cpu, client_cpu = cpu_ms(edge_pid) - edge_cpu, (time.process_time() - client_cpu) * 1000
    firsts = [st["first"] for st in state.values() if st["first"] is not None]
    dones = [st["done"] for st in state.values() if st["done"] is not None]
    statuses = {st["buf"].split(b" ", 2)[1] for st in state.values() if st["buf"]}
    bodies = {st["buf"].partition(b"\r\n\r\n")[2] for st in state.values()}
    return {
        "origin": "scripted", "viewers": n, "answered": len(firsts), "statuses": sorted(s.decode() for s in statuses),
        "distinct_bodies": len(bodies), "origin_requests": origin.count(f"{PLAYLIST}?{query}"),
        "seconds_to_park_all": round(parked_s, 3),
        # What a parked viewer costs the edge: its connection, exchange and fill waiter (RSS
        # growth while they park; the allocator may reuse memory freed by an earlier N).
        "edge_rss_per_parked_viewer_bytes": round(rss_per_viewer),
        "first_byte_ms": first_bytes_ms(firsts),
        "last_complete_ms": round(max(dones) * 1000, 2) if dones else None,
        # CPU spent while releasing them: the edge's, and this client's reading its sockets.
        "edge_cpu_ms": round(edge_cpu), "client_cpu_ms": round(client_cpu),
    }


def first_bytes_ms(firsts):
    return {"first": round(min(firsts) * 1000, 2), "p50": round(pct(firsts, 50) * 1000, 2),
            "p99": round(pct(firsts, 99) * 1000, 2), "last": round(max(firsts) * 1000, 2)}


def run_one_real(origin_port, edge_port, admins, n, edge_pid):
    """N viewers at the edge and a probe at the origin, all asking for a part still to come."""
    ahead = 2 + int(n / 3000 / PART_S)  # parts: time for N connections to park (about 3000/s here)
    # Aligned just after a part appears (the playlist's part count moves), so `ahead` is whole parts.
    start_edge = live_edge(origin_port)
    wait_for(lambda: live_edge(origin_port) not in (None, start_edge), 10, "a new part")
    msn, parts = live_edge(origin_port)
    per_segment = 6  # 2 s segments of 333 ms parts (the last may be shorter, never more of them)
    target = divmod(parts + ahead, per_segment)
    msn, part = msn + target[0], target[1]
    query = f"_HLS_msn={msn}&_HLS_part={part}"
    request = f"GET {PLAYLIST}?{query} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
    before = {a: metric(a, "cdn_upstream_requests_total") for a in admins}
    probe = connect_all(origin_port, 1, request)
    t0 = time.monotonic()
    rss_before = rss_bytes(edge_pid)
    socks = connect_all(edge_port, n, request)
    parked_s = time.monotonic() - t0
    rss_per_viewer = (rss_bytes(edge_pid) - rss_before) / n
    sel, state = watch(socks + probe)
    edge_cpu, client_cpu = cpu_ms(edge_pid), time.process_time()
    state = read_all(sel, state, t0)
    edge_cpu, client_cpu = cpu_ms(edge_pid) - edge_cpu, (time.process_time() - client_cpu) * 1000
    probe_st = state.pop(probe[0])
    if probe_st["first"] is None or not probe_st["buf"].startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"the probe at the origin got no playlist: {probe_st['buf'][:200]!r}")
    published = probe_st["first"]
    firsts = [st["first"] - published for st in state.values() if st["first"] is not None]
    dones = [st["done"] - published for st in state.values() if st["done"] is not None]
    statuses = {st["buf"].split(b" ", 2)[1] for st in state.values() if st["buf"]}
    bodies = {st["buf"].partition(b"\r\n\r\n")[2] for st in state.values()}
    return {
        "origin": "cdn-origin", "viewers": n, "answered": len(firsts), "statuses": sorted(s.decode() for s in statuses),
        "distinct_bodies": len(bodies),
        # Upstream requests the edge (to the shield) and the shield (to the origin) made meanwhile.
        "upstream_requests": {"edge": metric(admins[1], "cdn_upstream_requests_total") - before[admins[1]],
                              "shield": metric(admins[0], "cdn_upstream_requests_total") - before[admins[0]]},
        "parts_ahead": ahead, "seconds_to_connect_all": round(parked_s, 3),
        "parked_before_publication": published > parked_s,
        "edge_rss_per_parked_viewer_bytes": round(rss_per_viewer),
        "first_byte_ms": first_bytes_ms(firsts),
        "last_complete_ms": round(max(dones) * 1000, 2) if dones else None,
        "edge_cpu_ms": round(edge_cpu), "client_cpu_ms": round(client_cpu),
    }


def main_real(build, work, ports, sizes):
    origin_port, shield_port, edge_port, origin_admin, shield_admin, edge_admin = ports
    procs = [start(build, work, "origin", origin_config(origin_port, origin_admin, work)),
             start(build, work, "shield", tier_config("shield", shield_port, shield_admin, origin_port)),
             start(build, work, "edge", tier_config("edge", edge_port, edge_admin, shield_port))]
    ff = None
    try:
        for admin in (origin_admin, shield_admin, edge_admin):
            wait_for(lambda a=admin: _healthy(a), 20, f"admin port {admin}")
        ff = encoder(origin_port, work)
        wait_for(lambda: live_edge(origin_port), 30, "two LL-HLS segments at cdn-origin")
        for n in sizes:
            print(json.dumps(run_one_real(origin_port, edge_port, (shield_admin, edge_admin), n, procs[2].pid)),
                  flush=True)
    finally:
        if ff is not None:
            ff.kill()
            ff.wait()
        stop(procs)


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    ap = argparse.ArgumentParser(description="LL-HLS blocking-reload fan-out through shield and edge")
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--ports", required=True, help="origin,shield,edge,origin_admin,shield_admin,edge_admin")
    ap.add_argument("--origin", choices=("real", "scripted"), default="real")
    ap.add_argument("viewers", type=int, nargs="*", default=[100, 1000, 10000])
    a = ap.parse_args()
    build, work, sizes = a.build, a.work, a.viewers
    ports = [int(p) for p in a.ports.split(",")]
    if len(ports) != 6:
        raise SystemExit("--ports takes six ports")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(sizes) + 200 > hard:
        raise SystemExit(f"open-file limit {hard} is too low for {max(sizes)} viewers (ulimit -Hn)")
    work.mkdir(parents=True, exist_ok=True)
    if a.origin == "real":
        return main_real(build, work, ports, sizes)
    origin = LLHLSOrigin(hold_limit=300)
    _, shield_port, edge_port, _, shield_admin, edge_admin = ports
    procs = [start(build, work, "shield", tier_config("shield", shield_port, shield_admin, origin.port)),
             start(build, work, "edge", tier_config("edge", edge_port, edge_admin, shield_port))]
    try:
        for admin in (shield_admin, edge_admin):
            wait_for(lambda a=admin: _healthy(a), 20, f"admin port {admin}")
        for n in sizes:
            print(json.dumps(run_one(origin, edge_port, edge_admin, n, procs[1].pid)), flush=True)
    finally:
        stop(procs)
        origin.close()


def _healthy(admin):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{admin}/healthz", timeout=1).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
