#!/usr/bin/env python3
"""LL-HLS blocking-reload fan-out through the tiers (issue 14), not a peer comparison.

The scriptable LL-HLS origin of the integration tests (tests/integration/llhls_origin.py) runs in
this process behind one cdn-shield and one cdn-edge on loopback. For each N, N viewers (one
HTTP/1.1 connection each) send the blocking reload for the next part (`_HLS_msn`/`_HLS_part`) to
the edge; once the edge reports all N parked (gauge cdn_blocking_reloads_waiting) the origin
publishes the part. Measured from the publication (same monotonic clock):
  - first byte of the first and the last viewer, p50/p99 (what the issue calls "released");
  - the last viewer's complete response;
and checked: every viewer got 200 with one and the same playlist, and the origin saw exactly one
request (one per tier). Viewer sockets are read by one epoll loop here, so the figures include
this client's own time to go through N ready sockets (an upper bound on the tiers' share).
Prints one JSON line per N.

usage: fanout.py BUILD_DIR WORK_DIR FIRST_PORT N [N...]"""
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


def start(build, work, kind, cfg):
    path = work / f"{kind}.yaml"
    path.write_text(cfg)
    binary = build / ("edge/cdn-edge" if kind == "edge" else "origin-shield/shield/cdn-shield")
    err = open(work / f"{kind}.stderr", "wb")
    return subprocess.Popen([str(binary), "--config", str(path)], stdout=subprocess.DEVNULL, stderr=err)


def tier_config(kind, port, admin, upstream):
    return (f"tier: {kind}\nworkers: 2\nlisten:\n  - address: \"127.0.0.1:{port}\"\n"
            f"admin:\n  listen: \"127.0.0.1:{admin}\"\n  token: bench\naccess_log: \"off\"\n"
            f"upstream:\n  servers:\n    - address: \"127.0.0.1:{upstream}\"\n"
            f"timeouts:\n  upstream_blocking_reload: 120s\n  cache_lock: 120s\n  header_read: 120s\n"
            f"limits:\n  max_connections: 30000\n  max_connections_per_client: 0\n")


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
        "viewers": n, "answered": len(firsts), "statuses": sorted(s.decode() for s in statuses),
        "distinct_bodies": len(bodies), "origin_requests": origin.count(f"{PLAYLIST}?{query}"),
        "seconds_to_park_all": round(parked_s, 3),
        # What a parked viewer costs the edge: its connection, exchange and fill waiter (RSS
        # growth while they park; the allocator may reuse memory freed by an earlier N).
        "edge_rss_per_parked_viewer_bytes": round(rss_per_viewer),
        "first_byte_ms": {"first": round(min(firsts) * 1000, 2), "p50": round(pct(firsts, 50) * 1000, 2),
                          "p99": round(pct(firsts, 99) * 1000, 2), "last": round(max(firsts) * 1000, 2)},
        "last_complete_ms": round(max(dones) * 1000, 2) if dones else None,
        # CPU spent while releasing them: the edge's, and this client's reading its sockets.
        "edge_cpu_ms": round(edge_cpu), "client_cpu_ms": round(client_cpu),
    }


def main():
    build, work, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    sizes = [int(x) for x in sys.argv[4:]] or [100, 1000, 10000]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(sizes) + 200 > hard:
        raise SystemExit(f"open-file limit {hard} is too low for {max(sizes)} viewers (ulimit -Hn)")
    work.mkdir(parents=True, exist_ok=True)
    origin = LLHLSOrigin(hold_limit=300)
    shield_port, edge_port, shield_admin, edge_admin = port, port + 1, port + 2, port + 3
    procs = [start(build, work, "shield", tier_config("shield", shield_port, shield_admin, origin.port)),
             start(build, work, "edge", tier_config("edge", edge_port, edge_admin, shield_port))]
    try:
        for admin in (shield_admin, edge_admin):
            wait_for(lambda a=admin: _healthy(a), 20, f"admin port {admin}")
        for n in sizes:
            print(json.dumps(run_one(origin, edge_port, edge_admin, n, procs[1].pid)), flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        origin.close()


def _healthy(admin):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{admin}/healthz", timeout=1).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
