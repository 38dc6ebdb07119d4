"""Flow control end to end on a real edge with TLS (issue 8): a viewer that stops reading holds a
bounded amount of edge memory (high-water mark + TLS state, never a copy of the object), slow
readers of a large object keep the edge's RSS bounded, egress counts the bytes the socket took,
and a request queued behind a stuck fill has its own deadline.

RSS and timing assertions are skipped under a sanitizer build (env CDN_SANITIZER); the functional
assertions always run."""
import hashlib
import os
import socket
import ssl
import time

from conftest import (RawConn, client_tls_context, edge_config, http_request, origin_config,
                      rss_bytes, under_sanitizer, wait_until)

SANITIZER = bool(under_sanitizer())
HWM = 64 * 1024              # limits.send_buffer_bytes (the default)
PER_VIEWER = HWM + 48 * 1024  # the bound per stalled TLS viewer
KIB = 1024
MIB = 1024 * 1024


def start_pair(tiers, content, certs, extra=None):
    origin = tiers("origin", origin_config(content.root)).start()
    # Hundreds of viewers from one loopback address: the per-client connection limit is off.
    extra = dict(workers=1, limits={"max_connections_per_client": 0}, **(extra or {}))
    cfg = edge_config([origin.port()], certs=[certs["a"]], extra=extra)
    edge = tiers("edge", cfg).start()
    return origin, edge


def warm(edge, path, data):
    """Caches `path` under the Host the TLS viewers send (the host is part of the cache key)."""
    r = edge.get(path, host="a.test")
    assert r.status == 200 and hashlib.sha256(r.body).digest() == hashlib.sha256(data).digest()
    r = edge.get(path, host="a.test")
    assert r.status == 200 and r.header("X-Cache") == "HIT"


def open_tls_viewer(port, path, rcvbuf=4096):
    """A TLS viewer whose receive buffer is `rcvbuf` bytes; sends the request and reads nothing."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", port))
    s = client_tls_context().wrap_socket(raw, server_hostname="a.test")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: a.test\r\n\r\n".encode())
    return s


def read_response(s, timeout=60):
    """Reads one response off a TLS socket: (status, X-Cache, body)."""
    s.settimeout(timeout)
    r = RawConn.over(s).read_response()
    return r.status, r.header("X-Cache") or "", r.body


def wait_egress_settled(edge, timeout=60):
    """Waits until cdn_bytes_sent_total stops moving (every viewer's socket is full)."""
    last = [None]

    def settled():
        now = edge.metric("cdn_bytes_sent_total")
        same = last[0] is not None and now == last[0]
        last[0] = now
        return same

    wait_until(settled, timeout=timeout, interval=0.5, what="egress settled")
    return last[0]


def test_stalled_tls_viewers_cost_bounded_memory(tiers, content, certs):
    origin, edge = start_pair(tiers, content, certs)
    path, data = content.new_file(2 * MIB)
    warm(edge, path, data)
    sent_before = edge.metric("cdn_bytes_sent_total")
    rss_before = rss_bytes(edge)
    n = 300
    viewers = [open_tls_viewer(edge.port(tls=True), path) for _ in range(n)]
    try:
        sent = wait_egress_settled(edge) - sent_before
        rss_growth = rss_bytes(edge) - rss_before
        print(f"stalled TLS viewers: {rss_growth / n / KIB:.1f} KiB RSS each, kernel took {sent / n / KIB:.0f} KiB each")
        assert 0 < sent <= n * len(data)
        if not SANITIZER:
            assert rss_growth <= n * PER_VIEWER, f"{rss_growth / n / KIB:.1f} KiB per stalled viewer"
        # Still served, and whole: a few viewers start reading and get every byte.
        for s in viewers[:5]:
            status, x_cache, body = read_response(s)
            assert status == 200 and x_cache == "HIT" and body == data
        assert edge.healthz()[1]["active_connections"] >= n - 5
    finally:
        for s in viewers:
            s.close()
    wait_until(lambda: edge.healthz()[1]["active_connections"] == 0, timeout=30, what="viewers gone")


def tcp_wmem_max():
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        return int(f.read().split()[2])


def test_slow_tls_readers_of_a_large_object_keep_rss_bounded(tiers, content, certs):
    # One memory shard, so a 20 MB object is admitted to the memory tier.
    origin, edge = start_pair(tiers, content, certs, extra={"cache": {"memory_shards": 1}})
    rss_base = rss_bytes(edge)
    path, data = content.new_file(20 * MIB)
    warm(edge, path, data)
    rss_warm = rss_bytes(edge)
    sent_before = edge.metric("cdn_bytes_sent_total")
    n, seconds, rate = int(os.environ.get("FLOW_N", 200)), 20, 10 * KIB
    got = {}
    viewers = []
    try:
        for _ in range(n):
            s = open_tls_viewer(edge.port(tls=True), path, rcvbuf=16 * KIB)
            s.setblocking(False)
            viewers.append(s)
            got[s] = b""
        start = time.monotonic()
        tick = 0.1
        next_tick = start
        while time.monotonic() - start < seconds:
            # Each viewer reads at most rate * tick per tick: about 10 KB/s.
            for s in viewers:
                budget = int(rate * tick)
                while budget > 0:
                    try:
                        chunk = s.recv(budget)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        break
                    if not chunk:
                        break
                    got[s] += chunk
                    budget -= len(chunk)
            next_tick += tick
            time.sleep(max(0.0, next_tick - time.monotonic()))
        rss_growth = rss_bytes(edge) - rss_base
        sent = edge.metric("cdn_bytes_sent_total") - sent_before
        read = sum(len(b) for b in got.values())
        print(f"slow TLS readers: RSS grew {rss_growth / MIB:.1f} MiB ({(rss_warm - rss_base) / MIB:.1f} MiB "
              f"by the warming fetch), read {read / MIB:.1f} MiB, "
              f"counted sent {sent / MIB:.1f} MiB")
        # Egress counts what the sockets took (read, or in kernel buffers), not the 4 GB queued.
        assert read - n * 1024 <= sent <= read + n * (tcp_wmem_max() + 64 * KIB), (sent, read)
        assert sent < n * len(data) / 2
        # Every viewer made progress, and what it got is the object's first bytes.
        for s in viewers:
            head, sep, body = got[s].partition(b"\r\n\r\n")
            assert sep and head.startswith(b"HTTP/1.1 200") and b"X-Cache: HIT" in head, head[:300]
            assert len(body) >= rate * seconds // 4, len(body)
            assert body == data[:len(body)]
        if not SANITIZER:
            fixed_base = 8 * MIB
            bound = len(data) + n * PER_VIEWER + fixed_base
            assert rss_growth <= bound, f"RSS grew {rss_growth / MIB:.1f} MiB (bound {bound / MIB:.1f} MiB)"
    finally:
        for s in viewers:
            s.close()


def test_egress_counts_body_bytes_sent_not_head_bodies(tiers, content, certs):
    origin, edge = start_pair(tiers, content, certs)
    path, data = content.new_file(300 * KIB)
    before = edge.metric("cdn_bytes_sent_total")
    miss0, hit0 = edge.metric("cdn_cache_lookups_total", result="miss"), edge.metric("cdn_cache_lookups_total",
                                                                                     result="hit")
    r = edge.get(path)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "MISS"
    wait_until(lambda: edge.metric("cdn_bytes_sent_total") - before == len(data), what="GET counted")
    r = http_request(edge.port(), path, method="HEAD")
    assert r.status == 200 and r.header("Content-Length") == str(len(data))
    r = edge.get(path)
    assert r.status == 200 and r.header("X-Cache") == "HIT"
    wait_until(lambda: edge.metric("cdn_bytes_sent_total") - before == 2 * len(data), what="HIT counted")
    # One lookup per response: the miss once, the HEAD and the GET hits once each.
    assert edge.metric("cdn_cache_lookups_total", result="miss") - miss0 == 1
    assert edge.metric("cdn_cache_lookups_total", result="hit") - hit0 == 2


def test_request_queued_behind_a_stuck_fill_gets_504(tiers, slow_origin):
    slow_origin.add("/vod/stuck.ts", b"x" * 1000, hang=True)
    edge = tiers("edge", edge_config([slow_origin.port], extra=dict(
        workers=1, timeouts={"upstream_connect": "2s", "upstream_first_byte": "30s", "header_read": "2s",
                             "cache_lock": "500ms"}))).start()
    leader = socket.create_connection(("127.0.0.1", edge.port()), timeout=10)
    try:
        leader.sendall(b"GET /vod/stuck.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        wait_until(lambda: slow_origin.count("/vod/stuck.ts") == 1, what="fill started")
        t0 = time.monotonic()
        r = edge.get("/vod/stuck.ts")
        elapsed = time.monotonic() - t0
        assert r.status == 504 and r.header("X-Error-Reason") == "cache-lock-timeout"
        if not SANITIZER:
            assert elapsed < 5, elapsed
        # Queued requests do not stampede the upstream the fill is waiting on.
        assert slow_origin.count("/vod/stuck.ts") == 1
    finally:
        leader.close()
