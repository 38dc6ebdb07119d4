"""HTTP/2 to viewers (issue 13): ALPN h2 then http/1.1, h2c with prior knowledge, real clients
(curl, nghttp, h2load), many streams on one connection, the caching behaviours over both
protocols, and the attack table (Rapid Reset, CONTINUATION flood, SETTINGS/PING/empty-DATA
floods, oversized HPACK, a window never opened) with a raw-frame client."""
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("hpack", reason="python3-h2 (hpack) is not installed: scripts/install-deps.sh")

from conftest import SlowOrigin, Tier, edge_config, http_request, make_cert, wait_fills_done, wait_until
from h2_support import (ACK, CANCEL, COMPRESSION_ERROR, CONTINUATION, DATA, END_HEADERS, END_STREAM,
                        ENHANCE_YOUR_CALM, HEADERS, NO_ERROR, PING, REFUSED_STREAM, H2Conn, frame, h2_request,
                        rst_stream, settings, window_update)

pytestmark = pytest.mark.skipif(not shutil.which("nghttp") or not shutil.which("h2load"),
                                reason="nghttp2-client (nghttp, h2load) is not installed")

HANG_UPLOAD = "/up/hang"  # passed upstream (not a read-only path), never answered
LIMITS = {"max_resets": 20, "max_control_frames": 20, "max_empty_data": 20, "max_continuations": 4,
          "flood_interval": "30s", "max_header_list_bytes": 8192}


class Objects:
    """Bodies the scriptable origin serves, each under a fresh path."""

    def __init__(self, origin):
        self.origin = origin
        self.n = 0

    def add(self, size, **kw):
        self.n += 1
        path = f"/vod/h2/o{self.n}-{os.urandom(4).hex()}.ts"
        body = os.urandom(size)
        self.origin.add(path, body, split=kw.pop("split", size), **kw)
        return path, body


@pytest.fixture(scope="module")
def h2(tmp_path_factory):
    d = tmp_path_factory.mktemp("h2")
    origin = SlowOrigin()
    cert = make_cert(d / "certs", "a.test")
    edge = Tier("edge", d, edge_config([origin.port], certs=[cert], extra={
        "http2": dict(LIMITS, h2c=True),
        "timeouts": {"upstream_connect": "2s", "upstream_first_byte": "10s", "header_read": "2s",
                     "send_stall": "1s"}})).start()

    class H:
        pass
    h = H()
    origin.add(HANG_UPLOAD, b"", hang=True)
    h.origin, h.edge, h.dir, h.objects = origin, edge, d, Objects(origin)
    yield h
    edge.kill()
    origin.close()


def fetch(h, proto, path, headers=None, method="GET"):
    """One request over HTTP/1.1 (plain), h2c or h2 over TLS."""
    if proto == "h1":
        return http_request(h.edge.port(False), path, headers=headers, method=method)
    return h2_request(h.edge.port(proto == "h2"), path, headers=headers, method=method, tls=proto == "h2")


def curl(*args):
    r = subprocess.run(["curl", "-sS", "-k", *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def refused(h, reason):
    return h.edge.metric("cdn_http2_refused_total", reason=reason)


# ---------------------------------------------------------------------------------------------
# Negotiation and real clients

def test_alpn_prefers_h2_and_falls_back_to_http11(h2):
    for offer, want in ((["h2", "http/1.1"], "h2"), (["http/1.1", "h2"], "h2"), (["http/1.1"], "http/1.1")):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.set_alpn_protocols(offer)
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", h2.edge.port(True)), timeout=5),
                             server_hostname="a.test") as s:
            assert s.selected_alpn_protocol() == want, offer
    path, body = h2.objects.add(5000)
    url = f"https://a.test:{h2.edge.port(True)}{path}"
    resolve = f"a.test:{h2.edge.port(True)}:127.0.0.1"
    assert curl("--http1.1", "--resolve", resolve, "-o", "/dev/null", "-w", "%{http_version}", url) == b"1.1"
    assert curl("--http2", "--resolve", resolve, url) == body


def test_curl_h2_over_tls_and_h2c_byte_exact_logged_and_counted(h2):
    path, body = h2.objects.add(700_000)
    before = h2.edge.metric("cdn_requests_total", protocol="HTTP/2")
    out = curl("--http2", "-D", "-", "--resolve", f"a.test:{h2.edge.port(True)}:127.0.0.1",
               f"https://a.test:{h2.edge.port(True)}{path}")
    head, _, got = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 200"), head
    assert b"x-cache: MISS" in head and got == body
    wait_fills_done(h2.edge)
    out = curl("--http2-prior-knowledge", "-D", "-", "--resolve", f"a.test:{h2.edge.port(False)}:127.0.0.1",
               f"http://a.test:{h2.edge.port(False)}{path}")
    head, _, got = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 200") and b"x-cache: HIT" in head and got == body
    assert h2.edge.metric("cdn_requests_total", protocol="HTTP/2", status=200) - before == 2
    log = h2.dir / "edge-access.log"
    wait_until(lambda: log.read_text().count(path) == 2, what="both requests in the access log")
    lines = [ln for ln in log.read_text().splitlines() if path in ln]
    assert '"protocol":"HTTP/2+TLS"' in lines[0] and '"protocol":"HTTP/2"' in lines[1], lines
    assert all(f'"bytes_sent":{len(body)}' in ln for ln in lines), lines


def test_many_concurrent_streams_on_one_connection_are_byte_exact(h2):
    objs = [h2.objects.add(size) for size in [1, 100, 16384, 16385, 70_000, 250_000] * 10]
    for tls in (False, True):
        with H2Conn(h2.edge.port(tls), tls=tls) as c:
            ids = [c.request(p) for p, _ in objs]  # 60 streams at once: MISSes first, then HITs
            got = c.wait_streams(ids, timeout=30)
            for (p, body), st in zip(objs, got):
                r = st.response()
                assert r.status == 200 and st.reset is None, (p, r)
                assert hashlib.sha256(r.body).digest() == hashlib.sha256(body).digest(), p
                assert r.header("content-length") == str(len(body))


def test_nghttp_and_h2load(h2):
    path, body = h2.objects.add(1024)
    big, big_body = h2.objects.add(1_000_000)
    r = subprocess.run(["nghttp", "-n", "-s", f"https://127.0.0.1:{h2.edge.port(True)}{path}",
                        f"https://127.0.0.1:{h2.edge.port(True)}{big}"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for url, n, m in ((f"http://127.0.0.1:{h2.edge.port(False)}{path}", 2000, 100),
                      (f"https://127.0.0.1:{h2.edge.port(True)}{big}", 40, 10)):
        r = subprocess.run(["h2load", "-n", str(n), "-c", "4", "-m", str(m), url], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert f"{n} succeeded, 0 failed, 0 errored, 0 timeout" in r.stdout, r.stdout
        assert f"status codes: {n} 2xx" in r.stdout, r.stdout


# ---------------------------------------------------------------------------------------------
# The caching behaviours, over HTTP/1.1 and HTTP/2 alike

PROTOS = ["h1", "h2c", "h2"]


@pytest.mark.parametrize("proto", PROTOS)
def test_miss_then_hit(h2, proto):
    path, body = h2.objects.add(40_000)
    a = fetch(h2, proto, path)
    wait_fills_done(h2.edge)
    b = fetch(h2, proto, path)
    assert (a.status, a.header("X-Cache"), a.body) == (200, "MISS", body)
    assert (b.status, b.header("X-Cache"), b.body) == (200, "HIT", body)
    assert h2.origin.count(path) == 1


@pytest.mark.parametrize("proto", PROTOS)
def test_coalescing_across_streams_and_connections(h2, proto):
    release = threading.Event()
    path, body = h2.objects.add(300_000, split=1000, release=release)
    results = []

    def one_connection():
        if proto == "h1":
            results.extend(fetch(h2, proto, path) for _ in range(1))
            return
        with H2Conn(h2.edge.port(proto == "h2"), tls=proto == "h2") as c:
            ids = [c.request(path) for _ in range(5)]
            results.extend(st.response() for st in c.wait_streams(ids, timeout=20))

    threads = [threading.Thread(target=one_connection) for _ in range(3)]
    for t in threads:
        t.start()
    wait_until(lambda: h2.origin.count(path) >= 1, what="the fill")
    time.sleep(0.3)  # not a condition: gives every viewer's request the time to join the fill
    release.set()
    for t in threads:
        t.join(30)
    assert len(results) == (3 if proto == "h1" else 15)
    assert all(r.status == 200 and r.body == body for r in results)
    assert h2.origin.count(path) == 1


class LoggedConn(H2Conn):
    """Also keeps every frame's (type, flags, stream, payload length) in the order it came."""

    def __init__(self, *a, **kw):
        self.log = []
        super().__init__(*a, **kw)

    def _handle(self, ftype, flags, sid, payload):
        self.log.append((ftype, flags, sid, len(payload)))
        super()._handle(ftype, flags, sid, payload)


def assert_frames_in_order(log, sid, body_len):
    """One HEADERS first, then DATA frames adding up to the body, END_STREAM on the last only."""
    frames = [(t, f, n) for t, f, s, n in log if s == sid]
    assert frames and frames[0][0] == HEADERS and frames[0][1] & END_HEADERS, (sid, frames[:3])
    assert all(t == DATA for t, _, _ in frames[1:]), (sid, frames)
    assert sum(n for _, _, n in frames[1:]) == body_len, sid
    assert [i for i, (_, f, _) in enumerate(frames) if f & END_STREAM] == [len(frames) - 1], (sid, frames)


def test_fills_answer_many_streams_of_one_connection_byte_exact_in_order(h2):
    """Streams of one connection waiting for the same fills are answered together when a fill's
    head and then its body arrive (one write for all of them, which is not visible from here):
    each stream still gets its head, then its own body byte-exact, in order, ending once, and
    the HITs asked in between are unaffected."""
    cached, cached_body = h2.objects.add(3000)
    assert fetch(h2, "h2c", cached).status == 200
    wait_fills_done(h2.edge)
    for tls in (False, True):
        release = threading.Event()
        small, small_body = h2.objects.add(1000, split=0, release=release)
        big, big_body = h2.objects.add(120_000, split=0, release=release)
        with LoggedConn(h2.edge.port(tls), tls=tls) as c:
            want = {}
            for i in range(30):
                p, body = ((small, small_body), (big, big_body), (cached, cached_body))[i % 3]
                want[c.request(p)] = body
            # Its answer comes after the edge has read (and dispatched) every request before it.
            c.send(frame(PING, 0, 0, b"h13batch"))
            assert c.pump(lambda: any(t == PING and f & ACK for t, f, _, _ in c.log), 10), "no PING ACK"
            wait_until(lambda: h2.origin.count(small) == 1 and h2.origin.count(big) == 1, what="both fills")
            release.set()
            got = c.wait_streams(list(want), timeout=20)
            for (sid, body), st in zip(want.items(), got):
                r = st.response()
                assert (r.status, st.reset) == (200, None), sid
                assert r.body == body, sid
                assert_frames_in_order(c.log, sid, len(body))
        assert h2.origin.count(small) == 1 and h2.origin.count(big) == 1


@pytest.mark.parametrize("proto", PROTOS)
def test_range_and_conditional(h2, proto):
    path, body = h2.objects.add(100_000, headers={"ETag": '"v1"'})
    assert fetch(h2, proto, path).status == 200
    wait_fills_done(h2.edge)  # cached
    r = fetch(h2, proto, path, headers={"Range": "bytes=1000-60999"})
    assert r.status == 206 and r.body == body[1000:61000], r
    assert r.header("Content-Range") == f"bytes 1000-60999/{len(body)}"
    r = fetch(h2, proto, path, headers={"If-None-Match": '"v1"'})
    assert r.status == 304 and r.body == b"", r
    r = fetch(h2, proto, path, headers={"Range": f"bytes={len(body)}-"})
    assert r.status == 416, r


@pytest.mark.parametrize("proto", ["h2c", "h2"])
def test_head_and_bad_target_are_answered_like_http11(h2, proto):
    path, body = h2.objects.add(12_345)
    r = fetch(h2, proto, path, method="HEAD")
    assert r.status == 200 and r.body == b"" and r.header("content-length") == "12345"
    r = fetch(h2, proto, "/vod/%2e%2e/%2F/x")
    assert r.status == 400 and r.header("x-error-reason"), r


# ---------------------------------------------------------------------------------------------
# Attacks: each gets its GOAWAY or RST_STREAM, is counted, and other connections are served
# meanwhile.

def rapid_reset(c):
    for _ in range(200):
        sid = c.request("/vod/h2/none.ts")
        c.send(rst_stream(sid))


def continuation_flood(c):
    block = c.header_block("/vod/h2/none.ts", headers={"x-pad": "a" * 100})
    c.send(frame(HEADERS, 0, 1, block))
    field = b"\x00\x03x-a\x01b"  # a literal field, valid HPACK: only the count is hostile
    for _ in range(50):
        c.send(frame(CONTINUATION, 0, 1, field * 7))


def settings_flood(c):
    c.send(b"".join(settings(max_frame_size=16384) for _ in range(100)))


def ping_flood(c):
    c.send(b"".join(frame(PING, 0, 0, b"12345678") for _ in range(100)))


def empty_data_flood(c):
    # On a stream still reading its body (its upstream never answers): a stream already answered
    # is reset (RST_STREAM NO_ERROR, RFC 9113 §8.1) and what comes on it after is ignored.
    sid = c.request(HANG_UPLOAD, method="POST", end_stream=False)
    c.send(b"".join(frame(DATA, 0, sid) for _ in range(100)))


def oversized_hpack(c):
    # A dynamic table size update above the 4096 bytes we announced (RFC 7541 §4.2).
    c.send(frame(HEADERS, END_HEADERS | 1, 1, b"\x3f\xe1\xff\x03" + c.header_block("/x")))


ATTACKS = [
    ("rapid-reset", rapid_reset, ENHANCE_YOUR_CALM, "rapid-reset"),
    ("continuation-flood", continuation_flood, ENHANCE_YOUR_CALM, "continuation-flood"),
    ("settings-flood", settings_flood, ENHANCE_YOUR_CALM, "settings-flood"),
    ("ping-flood", ping_flood, ENHANCE_YOUR_CALM, "ping-flood"),
    ("empty-data-flood", empty_data_flood, ENHANCE_YOUR_CALM, "empty-data-flood"),
    ("oversized-hpack", oversized_hpack, COMPRESSION_ERROR, "compression-error"),
]


@pytest.mark.parametrize("name,attack,code,reason", ATTACKS, ids=[a[0] for a in ATTACKS])
@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "h2"])
def test_attack_gets_goaway_and_others_are_served(h2, name, attack, code, reason, tls):
    path, body = h2.objects.add(2000)
    before = refused(h2, reason)
    with H2Conn(h2.edge.port(tls), tls=tls) as bystander, H2Conn(h2.edge.port(tls), tls=tls) as c:
        assert bystander.get(path).body == body
        attack(c)
        goaway = c.wait_goaway()
        assert goaway is not None and goaway[1] == code, (name, goaway)
        assert bystander.get(path).body == body  # the other connection is still served
        assert c.pump(lambda: c.closed, timeout=5), "the attacker's connection stays open"
    assert refused(h2, reason) > before


def test_header_list_too_large_is_431_on_its_stream_only(h2):
    path, body = h2.objects.add(100)
    with H2Conn(h2.edge.port(False)) as c:
        big = c.request(path, headers={f"x-h{i}": "v" * 100 for i in range(100)})
        ok = c.request(path)
        a, b = c.wait_streams([big, ok])
        assert a.response().status == 431 and a.response().header("x-error-reason") == "header-list-too-large"
        assert b.response().body == body
    assert refused(h2, "header-list-too-large") >= 1


def test_streams_past_max_concurrent_are_refused(h2):
    release = threading.Event()
    path, _ = h2.objects.add(50_000, split=100, release=release)
    with H2Conn(h2.edge.port(False)) as c:
        ids = [c.request(path) for _ in range(105)]  # before our SETTINGS ACK: refused, not fatal
        c.pump(lambda: sum(c.streams[i].reset == REFUSED_STREAM for i in ids) >= 5, timeout=10)
        release.set()
        got = c.wait_streams(ids, timeout=20)
    assert sum(st.reset == REFUSED_STREAM for st in got) == 5
    assert sum(st.response().status == 200 for st in got if st.reset is None) == 100
    assert refused(h2, "max-concurrent-streams") >= 5


def test_window_never_opened_resets_only_that_stream(h2):
    path, body = h2.objects.add(300_000)
    small, small_body = h2.objects.add(30_000)
    for p in (path, small):
        fetch(h2, "h1", p)
    wait_fills_done(h2.edge)  # cached: the stall is ours, not the origin's
    before = refused(h2, "stream-send-stall")
    with H2Conn(h2.edge.port(False), window=0) as c:  # every stream starts with a shut window
        stuck = c.request(path)
        other = c.request(small)
        c.pump(lambda: c.streams[stuck].headers and c.streams[other].headers, timeout=5)
        # Only the other stream's window opens: it completes while the stuck one holds its place.
        c.send(window_update(other, len(small_body)))
        assert c.wait_streams([other])[0].body == small_body
        assert not c.streams[stuck].body and not c.streams[stuck].ended
        assert c.pump(lambda: c.streams[stuck].ended, timeout=10), "the stalled stream was never reset"
        assert c.streams[stuck].reset == CANCEL
        assert c.goaway is None and not c.closed  # the connection itself lives on
        assert refused(h2, "stream-send-stall") == before + 1
        late = c.request(small)  # new streams still start (their bodies wait for a window)
        assert c.pump(lambda: c.streams[late].headers, timeout=5)
        assert c.streams[late].response().status == 200
        assert fetch(h2, "h2c", small).body == small_body


def test_connection_that_never_reads_is_closed(h2):
    path, body = h2.objects.add(8_000_000)
    fetch(h2, "h1", path)
    wait_fills_done(h2.edge)
    before = refused(h2, "send-stall")
    with H2Conn(h2.edge.port(False), rcvbuf=4096, window=2**31 - 1) as c:
        c.send(window_update(0, 2**31 - 1 - 65535))
        c.request(path)  # every window open, and then the socket is never read
        wait_until(lambda: refused(h2, "send-stall") > before, timeout=15, what="the stalled connection closed")
        small, small_body = h2.objects.add(100)
        assert fetch(h2, "h2c", small).body == small_body


def test_drain_sends_graceful_goaway(tmp_path):
    origin = SlowOrigin()
    try:
        release = threading.Event()
        origin.add("/vod/slow.ts", os.urandom(50_000), split=1000, release=release)
        edge = Tier("edge", tmp_path, edge_config([origin.port], extra={"http2": {"h2c": True}})).start()
        try:
            with H2Conn(edge.port(False)) as c:
                sid = c.request("/vod/slow.ts")
                c.pump(lambda: c.streams[sid].headers, timeout=10)
                edge.signal(signal.SIGTERM)
                goaway = c.wait_goaway()
                assert goaway == (sid, NO_ERROR), goaway
                release.set()
                st = c.wait_streams([sid], timeout=20)[0]
                assert st.reset is None and len(st.body) == 50_000  # the stream in flight finished
        finally:
            edge.kill()
    finally:
        origin.close()


def test_certificate_reload_keeps_h2_connections(h2):
    path, body = h2.objects.add(3000)
    with H2Conn(h2.edge.port(True), tls=True) as c:
        assert c.get(path).body == body
        reloads = h2.edge.stderr_path.read_text().count('"reloading"')
        h2.edge.signal(signal.SIGHUP)
        wait_until(lambda: h2.edge.stderr_path.read_text().count('"reloading"') > reloads, what="the reload")
        assert c.get(path).body == body and not c.closed and c.goaway is None
    assert h2_request(h2.edge.port(True), path, tls=True).body == body  # new connections too


def test_unread_request_bodies_are_dropped_not_held(h2):
    path, body = h2.objects.add(100)
    with H2Conn(h2.edge.port(False)) as c:
        ids = []
        for _ in range(20):
            sid = c.request(path, method="POST", end_stream=False)
            for i in range(4):  # 64 KiB per stream: the initial stream window
                c.send(frame(DATA, 1 if i == 3 else 0, sid, b"x" * 16383))
            ids.append(sid)
        got = c.wait_streams(ids, timeout=20)
        assert all(st.response().status == 405 for st in got), [st.response() for st in got]
        assert c.get(path).body == body and c.goaway is None


BROWSER = Path(__file__).resolve().parents[1] / "browser"


@pytest.mark.skipif(not shutil.which("node") or not Path("/usr/bin/chromium").exists()
                    or not (BROWSER / "node_modules" / "playwright-core").exists(),
                    reason="needs node, Debian's chromium and `npm ci` in tests/browser")
def test_chromium_fetches_over_h2(h2):
    page, _ = h2.objects.add(0)
    h2.origin.add(page, b"<!doctype html><title>h2</title>", headers={"Content-Type": "text/html"})
    h2.origin.add("/favicon.ico", b"\0", headers={"Content-Type": "image/x-icon"})  # asked by the browser
    objs = [h2.objects.add(size) for size in (1000, 200_000, 1_500_000) * 4]
    r = subprocess.run(["node", str(BROWSER / "h2_fetch.mjs"), f"https://127.0.0.1:{h2.edge.port(True)}{page}",
                        *[p for p, _ in objs]], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert not out["problems"], out["problems"]
    for (path, body), got in zip(objs, out["bodies"]):
        assert (got["status"], got["bytes"]) == (200, len(body)), got
        assert got["sha256"] == hashlib.sha256(body).hexdigest(), path
    protocols = {p["name"]: p["protocol"] for p in out["protocols"]}
    assert protocols[page] == "h2" and all(protocols[p] == "h2" for p, _ in objs), protocols
