"""Request bodies passed upstream (issue 17): streamed as they arrive with flow control, bounded by
limits.max_body_bytes, never sent twice, and held (not lost) while the access gate suspends a
request. The edge talks straight to BodyOrigin, a raw-socket origin in this file that records
every request with when its head and its body's end arrived."""
import hashlib
import socket
import threading
import time

import pytest

from access_support import Keys, RedisServer, access_section
from conftest import RawConn, edge_config, rss_bytes, under_sanitizer, wait_until
from h2_support import DATA, END_STREAM, H2Conn, frame
from rfc_origin import RfcOrigin, read_request_head

MiB = 1 << 20


class Seen:
    """One request as BodyOrigin saw it."""

    def __init__(self, method, target, headers, on_connection):
        self.method, self.target, self.headers = method, target, headers
        self.on_connection = on_connection  # 0: the connection's first request
        self.head_at = time.monotonic()
        self.length = 0
        self.sha = hashlib.sha256()
        self.complete = False  # the whole body (as framed) arrived

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class BodyOrigin(RfcOrigin):
    """HTTP/1.1 origin on a raw socket. Answers `200` with `<length> <sha256>` of the body it read.
    Paths: /slow/... reads the body in small steps with pauses (a slow origin); /stale/... closes
    without answering when the request came on a reused connection (an idle keep-alive
    connection the server dropped just as the request arrived); anything else reads at once."""

    def __init__(self, rcvbuf=None):
        super().__init__()
        if rcvbuf:  # accepted sockets take the listener's buffer size
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.seen = []
        self.head_event = threading.Event()

    def requests(self, prefix):
        with self.lock:
            return [r for r in self.seen if r.target.startswith(prefix)]

    def _serve(self, c):
        buf = b""
        n = 0
        try:
            while True:
                got = read_request_head(c, buf)
                if got is None:
                    return
                method, target, headers, buf = got
                r = Seen(method, target, headers, n)
                n += 1
                with self.lock:
                    self.seen.append(r)
                self.head_event.set()
                if target.startswith("/stale/") and r.on_connection > 0:
                    return  # dropped just as the request came; it may have been applied
                buf = self._hash_body(c, buf, r, slow=target.startswith("/slow/"))
                r.complete = True
                body = f"{r.length} {r.sha.hexdigest()}".encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nCache-Control: no-store\r\n\r\n%s"
                          % (len(body), body))
        except (OSError, ValueError):
            return
        finally:
            c.close()

    @staticmethod
    def _recv(c, slow):
        if slow:
            time.sleep(0.004)  # ~64 MB/s at most: slower than any uploader on loopback
        more = c.recv(256 * 1024)
        if not more:
            raise OSError("closed mid-body")
        return more

    def _hash_body(self, c, buf, r, slow):
        if "chunked" in (r.header("Transfer-Encoding") or "").lower():
            while True:
                while b"\r\n" not in buf:
                    buf += self._recv(c, slow)
                line, _, buf = buf.partition(b"\r\n")
                size = int(line.split(b";")[0], 16)
                while len(buf) < size + 2:
                    buf += self._recv(c, slow)
                if size == 0:
                    return buf[2:]
                r.sha.update(buf[:size])
                r.length += size
                buf = buf[size + 2:]
        left = int(r.header("Content-Length") or 0)
        while left > 0:
            if not buf:
                buf = self._recv(c, slow)
            take = buf[:left]
            r.sha.update(take)
            r.length += len(take)
            left -= len(take)
            buf = buf[len(take):]
        return buf


def pattern(i, size):
    """Block i of an upload: distinct bytes per block, so a lost or repeated block changes the hash."""
    return (b"%08d" % i) * (size // 8)


def head(method, path, fields):
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


def answer_of(resp):
    length, sha = resp.body.decode().split()
    return int(length), sha


@pytest.fixture
def origin():
    o = BodyOrigin(rcvbuf=64 * 1024)
    yield o
    o.close()


def start_edge(tiers, origin, **extra):
    cfg = edge_config([origin.port], extra={"workers": 1, "limits": {"max_body_bytes": 128 * MiB}, **extra})
    cfg["timeouts"]["header_read"] = "10s"
    return tiers("edge", cfg).start()


def test_large_upload_into_a_slow_origin_is_streamed_with_bounded_memory(tiers, origin):
    """The head goes upstream before the body is in, and a 64 MiB upload into an origin that reads
    slowly holds a bounded amount in the edge (it stops reading the client meanwhile)."""
    edge = start_edge(tiers, origin)
    size = (8 if under_sanitizer() else 64) * MiB
    block = MiB
    before = rss_bytes(edge)
    want = hashlib.sha256()
    with RawConn(edge.port(), timeout=60) as c:
        c.send(head("POST", "/slow/upload", {"Content-Length": size, "Content-Type": "application/octet-stream"}))
        first = pattern(0, block)
        c.send(first)
        want.update(first)
        # Streamed: the origin has the head while most of the body is still with the client.
        assert origin.head_event.wait(10), "the request head did not reach the origin before the body ended"
        for i in range(1, size // block):
            b = pattern(i, block)
            c.send(b)
            want.update(b)
        r = c.read_response("POST")
    assert r.status == 200, r
    assert answer_of(r) == (size, want.hexdigest())
    [seen] = origin.requests("/slow/upload")
    assert seen.header("Content-Length") == str(size) and seen.header("Transfer-Encoding") is None
    if not under_sanitizer():
        growth = rss_bytes(edge, "VmHWM") - before
        print(f"edge peak RSS growth for a {size // MiB} MiB upload: {growth / MiB:.1f} MiB")
        assert growth < 16 * MiB, f"edge RSS grew {growth / MiB:.1f} MiB for a {size // MiB} MiB upload"


def test_chunked_upload_is_rechunked_upstream(tiers, origin):
    edge = start_edge(tiers, origin)
    pieces = [b"a" * 1, b"b" * 5000, b"c" * 70000, b"d" * 3]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    with RawConn(edge.port(), timeout=20) as c:
        c.send(head("PUT", "/fast/chunked", {"Transfer-Encoding": "chunked"}) + body)
        r = c.read_response("PUT")
    whole = b"".join(pieces)
    assert r.status == 200, r
    assert answer_of(r) == (len(whole), hashlib.sha256(whole).hexdigest())
    [seen] = origin.requests("/fast/chunked")
    # The length is not known when the head goes: the body is re-chunked, never given a length.
    assert "chunked" in seen.header("Transfer-Encoding") and seen.header("Content-Length") is None


def test_body_over_the_limit_is_413_and_the_upstream_request_is_cut(tiers, origin):
    edge = start_edge(tiers, origin, limits={"max_body_bytes": 256 * 1024})
    # Declared too large: refused before anything goes upstream.
    with RawConn(edge.port(), timeout=20) as c:
        c.send(head("POST", "/fast/declared", {"Content-Length": 300 * 1024}))
        r = c.read_response("POST")
    assert (r.status, r.header("X-Error-Reason")) == (413, "body-too-large")
    assert origin.requests("/fast/declared") == []
    # Chunked: found too large while streaming; the origin has the head but never a whole body.
    # The byte over the limit is the last one sent, so the edge has read all it got when it answers.
    with RawConn(edge.port(), timeout=20) as c:
        c.send(head("POST", "/fast/streamed", {"Transfer-Encoding": "chunked"}))
        for _ in range(4):
            c.send(b"10000\r\n" + b"z" * 0x10000 + b"\r\n")
        c.send(b"1\r\nz\r\n")
        r = c.read_response("POST")
    assert (r.status, r.header("X-Error-Reason")) == (413, "body-too-large")
    assert edge.metric("cdn_pass_errors_total", reason="body-too-large") == 2
    [seen] = wait_until(lambda: origin.requests("/fast/streamed"), timeout=5, what="the streamed head upstream")
    time.sleep(0.2)  # give a wrongly completed body the time to arrive; the assertion is that it did not
    assert not seen.complete and seen.length <= 256 * 1024


def test_post_is_never_sent_twice_on_a_stale_keepalive_connection(tiers, origin):
    """RFC 9110 §9.2.2: a POST the origin may have applied is not resent; a GET is."""
    edge = start_edge(tiers, origin)
    for method, body, status in (("POST", b"once", 502), ("GET", None, 200)):
        path = f"/stale/{method.lower()}"
        # A first request leaves an idle keep-alive connection in the edge's pool (one worker).
        with RawConn(edge.port(), timeout=20) as c:
            c.send(head("POST", "/fast/warm", {"Content-Length": 1}) + b"w")
            assert c.read_response("POST").status == 200
        fields = {"Content-Length": len(body)} if body else {}
        with RawConn(edge.port(), timeout=20) as c:
            c.send(head(method, path, fields) + (body or b""))
            r = c.read_response(method)
        seen = origin.requests(path)
        assert seen and seen[0].on_connection > 0, f"{path} did not come on a reused connection: {seen}"
        if method == "POST":
            assert (r.status, r.header("X-Error-Reason")) == (502, "upstream-reset")
            time.sleep(0.2)  # a wrong retry would be on its way by now
            assert len(origin.requests(path)) == 1
            assert edge.metric("cdn_pass_errors_total", reason="upstream-reset") == 1
        else:
            assert r.status == 200, r
            assert [s.on_connection for s in origin.requests(path)] == [seen[0].on_connection, 0]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.mark.parametrize("framing", ["length", "chunked", "h2c"])
def test_body_behind_a_suspending_access_gate_is_held_and_passed(tiers, origin, keys, tmp_path, framing):
    """The stream-session check on Redis suspends the request: its body is held and passed after."""
    redis = RedisServer(tmp_path / "redis").start()
    try:
        gate = access_section(keys, sessions={"store": "redis", "redis": {"address": redis.address}})
        edge = start_edge(tiers, origin, access=gate, http2={"h2c": True})
        token = keys.sign(aud="cdn", sub="uploader", sid="s1", climit=2)
        path = f"/gated/up?token={token}"
        if framing == "h2c":
            r = h2_post(edge, path, pattern(7, 60000))  # within the stream's first window
            data = pattern(7, 60000)
        else:
            data = b"".join(pattern(i, 4096) for i in range(100))  # 400 KiB: more than the edge holds unread
            if framing == "length":
                msg = head("POST", path, {"Content-Length": len(data)}) + data
            else:
                msg = head("POST", path, {"Transfer-Encoding": "chunked"})
                msg += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (data[:1000], data[1000:])) + b"0\r\n\r\n"
            with RawConn(edge.port(), timeout=20) as c:
                c.send(msg)
                r = c.read_response("POST")
        assert r.status == 200, (r, r.body)
        assert answer_of(r) == (len(data), hashlib.sha256(data).hexdigest())
        [seen] = origin.requests("/gated/up")
        assert "token=" not in seen.target
        # The request really went through the Redis session check (it suspends there).
        assert wait_until(lambda: edge.metric("cdn_stream_sessions_active") >= 1, timeout=5,
                          what="the upload's stream session")
    finally:
        redis.kill()


def h2_post(edge, path, data):
    with H2Conn(edge.port()) as h:
        sid = h.request(path, method="POST", headers={"content-length": str(len(data))}, end_stream=False)
        for i in range(0, len(data), 16384):
            last = i + 16384 >= len(data)
            h.send(frame(DATA, END_STREAM if last else 0, sid, data[i:i + 16384]))
        return h.wait_streams([sid], timeout=20)[0].response()
