"""HTTP/2 request bodies (issue 17 over issue 13's streams): each stream's window reopens only as
its upstream takes the bytes, so an upload into a slow origin holds about one window in the edge
while the other streams of its connection keep flowing; a body over limits.max_body_bytes is a 413
on its stream only; a stream the client resets mid-upload cuts its upstream request. The client
here sends only what the edge's windows allow (RFC 9113 §6.9) and records every WINDOW_UPDATE;
the origin is test_request_bodies.BodyOrigin, which answers with the length and hash of what it
read."""
import hashlib
import shutil
import struct
import subprocess
import threading
import time

import pytest

pytest.importorskip("hpack", reason="python3-h2 (hpack) is not installed: scripts/install-deps.sh")

from conftest import rss_bytes, under_sanitizer, wait_until
from h2_support import (ACK, CANCEL, DATA, END_STREAM, NO_ERROR, SETTINGS, SETTINGS_INITIAL_WINDOW_SIZE,
                        WINDOW_UPDATE, H2Conn, frame, rst_stream)
from test_request_bodies import MiB, BodyOrigin, answer_of, pattern, start_edge

KiB = 1024
STREAM_WINDOW = 256 * KiB  # http2.stream_window_bytes' default
FRAME = 16 * KiB  # SETTINGS_MAX_FRAME_SIZE's default: the edge does not raise it


class HoldOrigin(BodyOrigin):
    """BodyOrigin that does not read the body of /hold/... requests until `release` is set, and
    marks a request `aborted` when its connection ended before the whole body came."""

    def __init__(self):
        super().__init__(rcvbuf=64 * KiB)
        self.release = threading.Event()

    def _hash_body(self, c, buf, r, slow):
        r.aborted = False
        if r.target.startswith("/hold/"):
            self.release.wait(30)
        try:
            return super()._hash_body(c, buf, r, slow)
        except OSError:
            r.aborted = True
            raise


class Uploader(H2Conn):
    """An HTTP/2 client that sends request bodies only as the server's flow-control windows allow
    (both the stream's and the connection's), and counts what each stream was allowed."""

    def __init__(self, port, **kw):
        self.conn_window = 65535  # RFC 9113 §6.9.2: the connection's starts there
        self.windows = {}  # stream -> bytes we may still send on it
        self.allowed = {}  # stream -> its initial window + every WINDOW_UPDATE for it
        self.bodies = {}  # stream -> [body, bytes sent, bytes to send before stopping]
        super().__init__(port, **kw)
        assert self.pump(lambda: SETTINGS_INITIAL_WINDOW_SIZE in self.server_settings, 10), \
            "no SETTINGS_INITIAL_WINDOW_SIZE from the edge"

    def _handle(self, ftype, flags, sid, payload):
        if ftype == WINDOW_UPDATE:
            n = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
            if sid == 0:
                self.conn_window += n
            elif sid in self.windows:
                self.windows[sid] += n
                self.allowed[sid] += n
        elif ftype == SETTINGS and not flags & ACK:
            old = self.server_settings.get(SETTINGS_INITIAL_WINDOW_SIZE, 65535)
            super()._handle(ftype, flags, sid, payload)
            delta = self.server_settings.get(SETTINGS_INITIAL_WINDOW_SIZE, 65535) - old
            for s in self.windows:  # RFC 9113 §6.9.2: open streams' windows move by the change
                self.windows[s] += delta
                self.allowed[s] += delta
            return
        super()._handle(ftype, flags, sid, payload)

    def upload(self, path, body, length=True, stop_at=None):
        """Opens a POST for `body`; feed() sends it (up to `stop_at` bytes when given)."""
        headers = {"content-length": str(len(body))} if length else {}
        sid = self.request(path, method="POST", headers=headers, end_stream=False)
        self.windows[sid] = self.allowed[sid] = self.server_settings.get(SETTINGS_INITIAL_WINDOW_SIZE, 65535)
        self.bodies[sid] = [body, 0, len(body) if stop_at is None else stop_at]
        return sid

    def sent(self, sid):
        return self.bodies[sid][1]

    def feed(self):
        for sid, b in self.bodies.items():
            body, off, stop = b
            st = self.streams[sid]
            while off < stop and not st.ended and st.reset is None:
                n = min(FRAME, stop - off, self.windows[sid], self.conn_window)
                if n <= 0:
                    break
                last = off + n == len(body)
                self.send(frame(DATA, END_STREAM if last else 0, sid, body[off:off + n]))
                off += n
                self.windows[sid] -= n
                self.conn_window -= n
            b[1] = off

    def run(self, until, timeout=20.0):
        """Reads frames and sends what the windows allow until until() is true."""
        deadline = time.monotonic() + (timeout * 3 if under_sanitizer() else timeout)
        while not until():
            self.feed()
            if time.monotonic() > deadline or self.closed:
                return until()
            if self._recv(0.2):
                for f in self._frames():
                    self._handle(*f)
        return True


def body_of(size, seed=0):
    block = 64 * KiB
    return b"".join(pattern(seed + i, block) for i in range(size // block))


@pytest.fixture
def origin():
    o = HoldOrigin()
    yield o
    o.release.set()
    o.close()


def h2_edge(tiers, origin, **extra):
    return start_edge(tiers, origin, http2={"h2c": True}, **extra)


def kernel_send_buffer_max():
    """The most a TCP socket's send buffer grows to (tcp_wmem's max): what the edge's upstream
    socket may take from a stalled upload on top of what the edge itself holds."""
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        return int(f.read().split()[2])


def test_stalled_upload_keeps_its_window_shut_while_its_connection_flows(tiers, origin):
    """The origin does not read the first upload: the edge stops opening that stream's window
    (what it was allowed stays within one window, the upstream's mark and the kernel's socket
    buffers), while a larger upload and a GET on the same connection complete. Released, the
    first body arrives byte-exact."""
    edge = h2_edge(tiers, origin)
    # Window + the pass-through's high-water mark + the sockets' buffers (the origin's receive
    # buffer is doubled by the kernel) + frames in flight.
    bound = STREAM_WINDOW + 256 * KiB + kernel_send_buffer_max() + 2 * 64 * KiB + MiB
    # Were the stalled stream given back its bytes as they arrive, it would be allowed as much
    # as the other upload: larger than the bound.
    other_body = body_of(bound + 2 * MiB, 1000)
    stalled_body = body_of(bound + 4 * MiB, 0)
    with Uploader(edge.port(), timeout=30) as h:
        assert h.server_settings[SETTINGS_INITIAL_WINDOW_SIZE] == STREAM_WINDOW
        stalled = h.upload("/hold/big", stalled_body)
        assert h.run(lambda: origin.requests("/hold/big")), "the head did not reach the origin"
        other = h.upload("/fast/other", other_body)
        get = h.request("/fast/get")
        assert h.run(lambda: h.streams[other].ended and h.streams[get].ended), "the other streams stalled"
        allowed = h.allowed[stalled]
        print(f"stalled stream allowed {allowed / KiB:.0f} KiB (bound {bound / KiB:.0f} KiB) "
              f"while {len(other_body) / KiB:.0f} KiB went on the other")
        assert answer_of(h.streams[other].response()) == (len(other_body), hashlib.sha256(other_body).hexdigest())
        assert h.streams[get].response().status == 200
        assert h.sent(stalled) == allowed < bound, "the stalled stream's window kept opening"
        origin.release.set()
        assert h.run(lambda: h.streams[stalled].ended, timeout=30)
        r = h.streams[stalled].response()
    assert r.status == 200, (r, r.body)
    assert answer_of(r) == (len(stalled_body), hashlib.sha256(stalled_body).hexdigest())


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_large_upload_with_curl_into_a_slow_origin_has_bounded_memory(tiers, origin, tmp_path):
    """curl over h2c: a 64 MiB upload into an origin that reads slowly arrives byte-exact, and
    the edge's peak RSS grows by far less than the body (one window and the upstream's mark)."""
    edge = h2_edge(tiers, origin)
    size = (8 if under_sanitizer() else 64) * MiB
    f = tmp_path / "body"
    want = hashlib.sha256()
    with open(f, "wb") as out:
        for i in range(size // MiB):
            b = pattern(i, MiB)
            want.update(b)
            out.write(b)
    before = rss_bytes(edge)
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-X", "POST", "-T", str(f),
                        "-H", "Content-Type: application/octet-stream", "-w", "\n%{http_version} %{http_code}",
                        f"http://127.0.0.1:{edge.port()}/slow/curl"], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    body, _, tail = r.stdout.rpartition(b"\n")
    assert tail == b"2 200", r.stdout[-200:]
    length, sha = body.decode().split()
    assert (int(length), sha) == (size, want.hexdigest())
    [seen] = origin.requests("/slow/curl")
    assert seen.header("Content-Length") == str(size)
    if not under_sanitizer():
        growth = rss_bytes(edge, "VmHWM") - before
        print(f"edge peak RSS growth for a {size // MiB} MiB h2 upload: {growth / MiB:.1f} MiB")
        assert growth < 8 * MiB, f"edge RSS grew {growth / MiB:.1f} MiB for a {size // MiB} MiB upload"


def test_body_over_the_limit_is_413_on_its_stream_only(tiers, origin, tmp_path):
    """Declared too large (refused before anything goes upstream) and found too large while
    streaming (the upstream request cut): 413 on that stream, then RST_STREAM NO_ERROR so the
    client stops sending (RFC 9113 §8.1); the connection goes on serving. A declared rest up to
    twice max_body_bytes is read and dropped instead, so curl (which before 8.x fails on that
    reset mid-upload) finishes and reports the 413."""
    limit = 256 * KiB
    edge = h2_edge(tiers, origin, limits={"max_body_bytes": limit})
    with Uploader(edge.port()) as h:
        declared = h.upload("/fast/declared", b"d" * (8 * MiB))
        streamed = h.upload("/fast/streamed", b"s" * MiB, length=False)
        assert h.run(lambda: all(h.streams[i].reset is not None for i in (declared, streamed)))
        for sid in (declared, streamed):
            r = h.streams[sid].response()
            assert (r.status, r.header("x-error-reason")) == (413, "body-too-large"), r
            assert h.streams[sid].reset == NO_ERROR
        assert h.sent(declared) <= STREAM_WINDOW, "the client was not stopped"
        assert h.get("/fast/after").status == 200
        assert h.goaway is None
    assert origin.requests("/fast/declared") == []
    [seen] = wait_until(lambda: [s for s in origin.requests("/fast/streamed") if s.aborted], timeout=10,
                        what="the origin to see the streamed request cut")
    assert not seen.complete and seen.length <= limit
    refused = 2
    if shutil.which("curl"):
        f = tmp_path / "over"
        f.write_bytes(body_of(2 * limit))
        r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-X", "POST", "-T", str(f), "-o", "/dev/null",
                            "-w", "%{http_version} %{http_code}", f"http://127.0.0.1:{edge.port()}/fast/curl"],
                           capture_output=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, b"2 413"), r.stderr.decode()
        refused += 1
    assert edge.metric("cdn_pass_errors_total", reason="body-too-large") == refused


def test_a_dropped_rest_that_stops_coming_is_reset(tiers, origin):
    """After the 413 the declared rest (within twice the limit) is read and dropped; a client
    that stops sending it does not hold its stream: RST_STREAM NO_ERROR once timeouts.send_stall
    passed without any of it."""
    edge = h2_edge(tiers, origin, limits={"max_body_bytes": 256 * KiB}, timeouts={"send_stall": "1s"})
    with Uploader(edge.port()) as h:
        sid = h.upload("/fast/linger", body_of(320 * KiB), stop_at=64 * KiB)
        assert h.run(lambda: h.streams[sid].ended)
        st = h.streams[sid]
        assert st.response().status == 413 and st.reset is None, (st.response(), st.reset)
        assert h.run(lambda: st.reset is not None, timeout=10), "the lingering stream was never reset"
        assert st.reset == NO_ERROR
        assert h.get("/fast/after").status == 200


def test_stream_reset_mid_upload_cuts_the_upstream_request(tiers, origin):
    """RST_STREAM CANCEL after 1 MiB of 4: the origin sees its connection end before the body
    did (never a complete body), the request is not sent again, the abort is counted, and the
    connection keeps serving."""
    edge = h2_edge(tiers, origin)
    with Uploader(edge.port()) as h:
        sid = h.upload("/slow/reset", body_of(4 * MiB), stop_at=MiB)
        assert h.run(lambda: h.sent(sid) == MiB and origin.requests("/slow/reset"))
        h.send(rst_stream(sid, CANCEL))
        [seen] = wait_until(lambda: [s for s in origin.requests("/slow/reset") if s.aborted], timeout=10,
                            what="the origin to see the upload cut")
        assert not seen.complete and seen.length <= MiB
        assert wait_until(lambda: edge.metric("cdn_pass_errors_total", reason="client-aborted") == 1,
                          timeout=5, what="the client's abort counted")
        # Another request through the same worker's upstream pool: a resend would be there first.
        assert h.get("/fast/after").status == 200
        assert h.goaway is None
    assert len(origin.requests("/slow/reset")) == 1
