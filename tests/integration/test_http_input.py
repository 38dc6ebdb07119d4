"""HTTP/1.1 on the edge's plain listener: bad and hostile input, slow clients, keep-alive,
pipelining and HEAD."""
import os
import select
import socket
import time

import pytest

from conftest import RawConn, raw_exchange, wait_until

GOOD = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

BAD_INPUT = [
    # (id, request bytes, status, X-Error-Reason or None when any reason will do)
    ("malformed-request-line", b"THIS IS NOT HTTP\r\n\r\n", 400, None),
    ("missing-version", b"GET /\r\nHost: x\r\n\r\n", 400, None),
    ("bad-method-token", b"G(T /vod/x.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
    ("bare-lf", b"GET /vod/x.ts HTTP/1.1\nHost: x\n\n", 400, "bare-lf"),
    ("bare-lf-in-header", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, "bare-lf"),
    ("obs-fold", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400, "obs-fold"),
    ("cl-and-te", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "content-length-with-transfer-encoding"),
    ("te-and-cl", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 5\r\n\r\n0\r\n\r\n", 400, "content-length-with-transfer-encoding"),
    ("duplicate-content-length", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 b"Content-Length: 6\r\n\r\nhello!", 400, "duplicate-content-length"),
    ("header-20k", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\n"
                   + b"".join(b"X-Big%d: %s\r\n" % (i, b"a" * 7_000) for i in range(3)) + b"\r\n",
     431, "header-too-large"),
    ("field-20k", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
     431, "field-too-large"),
    # issue 7: leading empty lines must not end the head early
    ("leading-empty-lines-header-too-large", b"\r\n\r\nGET /vod/x.ts HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-Big%d: %s\r\n" % (i, b"a" * 7_000) for i in range(3)) + b"\r\n", 431, "header-too-large"),
    ("leading-empty-lines-obs-fold", b"\r\n\r\nGET /vod/x.ts HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
     400, "obs-fold"),
    ("leading-empty-lines-cr-lf-lf", b"\r\n\r\nGET /vod/x.ts HTTP/1.1\r\nHost: x\r\n\n", 400, "bare-lf"),
    ("empty-header-name", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400, "bad-header-name"),
    ("del-in-header-value", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n", 400, "bad-header-value"),
    ("host-with-path", b"GET /vod/x.ts HTTP/1.1\r\nHost: 127.0.0.1/vod/premium\r\n\r\n", 400, "bad-host"),
    ("host-with-userinfo", b"GET /vod/x.ts HTTP/1.1\r\nHost: u@127.0.0.1\r\n\r\n", 400, "bad-host"),
    ("port-without-host", b"GET /vod/x.ts HTTP/1.1\r\nHost: :8080\r\n\r\n", 400, "bad-host"),
    ("absolute-form-bad-host", b"GET http://a%zz/vod/x.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-host"),
    ("tab-in-target", b"GET /vod/a\tb.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
    ("0xff-in-target", b"GET /vod/a\xff.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request-target"),
    ("malformed-escape", b"GET /vod/a%4.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request-target"),
    ("encoded-nul", b"GET /vod/a%00.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "encoded-nul"),
    ("encoded-slash", b"GET /vod/free/..%2fpremium/x.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "encoded-slash"),
    ("encoded-backslash", b"GET /vod/a%5Cb.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "encoded-slash"),
    ("url-10k", b"GET /vod/" + b"u" * 10_000 + b".ts HTTP/1.1\r\nHost: x\r\n\r\n", 414, "url-too-long"),
    ("200-headers", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\n"
                    + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n", 431, "too-many-headers"),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, None),
    ("nul-in-header", b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, None),
    ("missing-host", b"GET /vod/x.ts HTTP/1.1\r\n\r\n", 400, None),
    ("space-before-colon", b"GET /vod/x.ts HTTP/1.1\r\nHost : x\r\n\r\n", 400, None),
    ("space-in-target", b"GET /vod/a b.ts HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request-target"),
    ("lowercase-version", b"GET /vod/x.ts http/1.1\r\nHost: x\r\n\r\n", 400, None),
    ("two-hosts", b"GET /vod/x.ts HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, None),
    ("bad-chunk-size", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, None),
    ("te-gzip", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     400, None),
    ("negative-content-length", b"POST /vod/x.ts HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, None),
]


@pytest.fixture(scope="module")
def good_object(stack, content):
    path, data = content.new_file(10_000)
    r = stack.edge.get(path)
    assert r.status == 200 and r.body == data
    return path, data


def assert_still_serving(stack, good_object):
    path, data = good_object
    with RawConn(stack.edge.port()) as c:
        c.send(GOOD % path.encode())
        r = c.read_response()
    assert r.status == 200 and r.body == data


@pytest.mark.parametrize("name,request_bytes,status,reason", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_refused_and_edge_keeps_serving(stack, good_object, name, request_bytes, status, reason):
    before = stack.edge.metric("cdn_http_refused_total")
    got, raw, closed = raw_exchange(stack.edge.port(), request_bytes)
    assert closed, f"connection left open after {name}: {raw[:200]!r}"
    if got is None:
        assert raw == b"", f"garbage instead of a response: {raw[:200]!r}"
    else:
        assert got == status, raw[:400]
        head, _, body = raw.partition(b"\r\n\r\n")
        if reason:
            assert f"X-Error-Reason: {reason}".encode().lower() in head.lower(), head
            assert body.startswith(f"{status}".encode()), body
        assert b"connection: close" in head.lower()
        assert stack.edge.metric("cdn_http_refused_total", status=status) >= 1
        assert stack.edge.metric("cdn_http_refused_total") > before
    assert stack.edge.running()
    assert_still_serving(stack, good_object)


def test_bad_request_after_a_good_one_on_a_keepalive_connection(stack, good_object):
    path, data = good_object
    with RawConn(stack.edge.port()) as c:
        c.send(GOOD % path.encode())
        r = c.read_response()
        assert r.status == 200 and r.body == data
        c.send(b"GET /vod/x.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        r = c.read_response()
        assert r.status == 400
        raw, closed = c.read_to_close(10)
        assert closed and raw == b""
    assert_still_serving(stack, good_object)


def test_slowloris_is_timed_out_while_others_are_served(stack, good_object):
    path, data = good_object
    header_read = 2.0  # edge_config sets timeouts.header_read: 2s
    n = 50
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", stack.edge.port()), timeout=10)
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    payload = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    pos = {s: 0 for s in socks}
    ended = {}  # sock -> (seconds, status or None)
    received = {s: b"" for s in socks}
    normal_latencies = []
    next_drip = start
    while len(ended) < n and time.monotonic() - start < header_read + 15:
        now = time.monotonic()
        if now >= next_drip:
            for s in socks:
                if s in ended:
                    continue
                try:
                    s.send(payload[pos[s]:pos[s] + 1])
                    pos[s] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    ended[s] = (time.monotonic() - start, received[s][:12])
            next_drip = now + 0.3
            # a normal client on its own connection, between drips
            t0 = time.monotonic()
            with RawConn(stack.edge.port(), timeout=10) as c:
                c.send(GOOD % path.encode())
                r = c.read_response()
            normal_latencies.append(time.monotonic() - t0)
            assert r.status == 200 and r.body == data
        live = [s for s in socks if s not in ended]
        readable, _, _ = select.select(live, [], [], 0.05)
        for s in readable:
            try:
                chunk = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if chunk:
                received[s] += chunk
            else:
                ended[s] = (time.monotonic() - start, received[s][:12])
    for s in socks:
        s.close()
    assert len(ended) == n, f"only {len(ended)} of {n} slow connections were ended"
    latest = max(t for t, _ in ended.values())
    assert latest < header_read + 2.5, f"slow connections ended after {latest:.1f}s"
    earliest = min(t for t, _ in ended.values())
    assert earliest > header_read - 0.5, f"slow connection ended early, after {earliest:.1f}s"
    statuses = {st for _, st in ended.values()}
    assert statuses <= {b"HTTP/1.1 408", b""}, statuses
    assert b"HTTP/1.1 408" in statuses
    assert max(normal_latencies) < 2.0, normal_latencies
    assert stack.edge.metric("cdn_http_refused_total", status=408, reason="header-timeout") >= 1
    assert_still_serving(stack, good_object)


def test_pipelined_requests_are_answered_in_order(stack, content):
    a, da = content.new_file(3000)
    b, db = content.new_file(70_000)
    stack.edge.get(b)  # one cached, one cold
    with RawConn(stack.edge.port()) as c:
        c.send(GOOD % a.encode() + GOOD % b.encode() + GOOD % a.encode())
        r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
        assert (r1.status, r2.status, r3.status) == (200, 200, 200)
        assert r1.body == da and r2.body == db and r3.body == da
        # still open for more (keep-alive)
        c.send(GOOD % b.encode())
        r4 = c.read_response()
        assert r4.status == 200 and r4.body == db and r4.header("X-Cache") == "HIT"


def test_head_has_content_length_and_no_body(stack, content):
    path, data = content.new_file(12345)
    for _ in range(2):  # cold, then cached
        with RawConn(stack.edge.port()) as c:
            c.send(b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode() + GOOD % path.encode())
            h = c.read_response(method="HEAD")
            assert h.status == 200
            assert int(h.header("Content-Length")) == len(data)
            # the next bytes on the connection are the GET's response, not a body
            g = c.read_response()
            assert g.status == 200 and g.body == data


def test_connection_close_is_honoured(stack, good_object):
    path, data = good_object
    with RawConn(stack.edge.port()) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode())
        r = c.read_response()
        assert r.status == 200 and r.body == data
        rest, closed = c.read_to_close(10)
        assert closed and rest == b""


def test_http10_without_host(stack, good_object):
    path, data = good_object
    with RawConn(stack.edge.port()) as c:
        c.send(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
        r = c.read_response()
        assert r.status in (200, 400)  # no Host: the edge may refuse; it must not hang or crash
        rest, closed = c.read_to_close(10)
        assert closed
    assert_still_serving(stack, good_object)


def test_unsupported_method(stack, good_object):
    path, _ = good_object
    with RawConn(stack.edge.port()) as c:
        c.send(b"DELETE %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
        r = c.read_response()
    assert r.status == 405
    assert "GET" in (r.header("Allow") or "")
    assert stack.edge.get(path).header("X-Cache") == "HIT"


def test_many_pipelined_requests(stack, content):
    objs = [content.new_file(500 + i * 100) for i in range(5)]
    for p, _ in objs:
        stack.edge.get(p)
    order = [objs[i % 5] for i in range(60)]
    with RawConn(stack.edge.port(), timeout=30) as c:
        c.send(b"".join(GOOD % p.encode() for p, _ in order))
        for p, d in order:
            r = c.read_response()
            assert r.status == 200 and r.body == d


@pytest.mark.parametrize("target", [
    b"/vod/../../../../etc/passwd", b"/vod/..%2f..%2f..%2f..%2fetc%2fpasswd", b"/vod/%2e%2e/%2e%2e/etc/passwd",
    b"/vod/bin/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", b"/vod//etc/passwd", b"/vod/%00.ts",
])
def test_path_traversal_through_the_edge(stack, target):
    with RawConn(stack.edge.port()) as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            r = c.read_response()
        except EOFError:
            return
    assert r.status != 200 and b"root:" not in r.body, r


def test_host_is_part_of_the_key(stack, content):
    path, data = content.new_file(100)
    assert stack.edge.get(path, host="one.example").header("X-Cache") == "MISS"
    assert stack.edge.get(path, host="ONE.example:8080").header("X-Cache") == "HIT"
    assert stack.edge.get(path, host="two.example").header("X-Cache") == "MISS"


def test_requests_just_inside_the_limits_are_served(stack, good_object):
    """Defaults: max_headers 100, max_url_bytes 8192, max_header_bytes 16384, max_field_bytes 8192."""
    path, data = good_object
    cases = {
        "99 headers + Host": b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path.encode()
                             + b"".join(b"X-H%d: v\r\n" % i for i in range(99)) + b"\r\n",
        "8 KB field": b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n" % (path.encode(), b"a" * 8192),
        "14 KB header": b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: %s\r\nX-B: %s\r\n\r\n"
                        % (path.encode(), b"a" * 7_000, b"b" * 7_000),
        "leading empty lines": b"\r\n\r\n" + GOOD % path.encode(),
        "8 KB query": b"GET %s?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % (path.encode(), b"q" * (8000 - len(path))),
    }
    for name, req in cases.items():
        with RawConn(stack.edge.port()) as c:
            c.send(req)
            r = c.read_response()
        assert r.status == 200 and r.body == data, (name, r)


def test_equivalent_targets_reach_the_same_object(stack, content):
    """One normalization (RFC 3986 §6.2.2) before the key, the gate and the upstream request."""
    path, data = content.new_file(5000)
    assert path.startswith("/vod/")
    first = stack.edge.get(path)
    assert first.status == 200 and first.body == data
    head, name = path.rsplit("/", 1)
    for variant in ["/" + path, "/%76od" + path[len("/vod"):], head + "/./../" + head.rsplit("/", 1)[1] + "/" + name,
                    head + "//" + name, path.replace("/vod/", "/v%6Fd/")]:
        r = stack.edge.get(variant)
        assert r.status == 200 and r.body == data, (variant, r)
        assert r.header("X-Cache") == "HIT", (variant, r)


def _vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_huge_header_value_after_empty_lines_is_refused_quickly(stack, good_object):
    """issue 7: 400 MiB of one header value behind leading empty lines once grew the edge by 415 MiB.
    Now the field cap ends it after 8 KiB: the edge answers 431 and closes, its RSS stays put, and
    another connection is served meanwhile."""
    pid = stack.edge.proc.pid
    before_rss = _vm_rss_kib(pid)
    before = stack.edge.metric("cdn_http_refused_total", status=431, reason="field-too-large")
    chunk = b"a" * (1 << 20)
    sent = 0
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", stack.edge.port()), timeout=10)
    try:
        s.sendall(b"\r\n\r\nGET /vod/x.ts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
        try:
            while sent < (400 << 20):
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the edge closed the connection: what this test wants
        elapsed = time.monotonic() - start
        try:
            reply = s.recv(4096)
        except OSError:
            reply = b""  # a reset can discard the 431 the edge sent first
    finally:
        s.close()
    assert sent < (64 << 20), f"edge kept reading: {sent >> 20} MiB accepted"
    assert elapsed < 10, elapsed
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431"), reply[:100]
    wait_until(lambda: stack.edge.metric("cdn_http_refused_total", status=431, reason="field-too-large") > before,
               what="field-too-large counted")
    assert_still_serving(stack, good_object)
    grown_mib = (_vm_rss_kib(pid) - before_rss) / 1024
    assert grown_mib < 32, f"edge RSS grew {grown_mib:.0f} MiB"


def test_host_cannot_poison_another_paths_key(stack, content):
    """issue 7: GET <free> with Host: 127.0.0.1/vod/<premium> once stored the free file under the
    key of /vod/<premium>/vod/<free...>; the viewer of that path then got the wrong bytes as a HIT."""
    free, free_data = content.new_file(3000, subdir="free")
    # the victim path is "/vod/premium" + free's path, with its own bytes at the origin
    victim = "/vod/premium" + free
    premium_data = os.urandom(3000)
    victim_file = content.root / victim[len("/vod/"):]
    victim_file.parent.mkdir(parents=True, exist_ok=True)
    victim_file.write_bytes(premium_data)
    got, raw, closed = raw_exchange(stack.edge.port(),
                                    b"GET %s HTTP/1.1\r\nHost: 127.0.0.1/vod/premium\r\n\r\n" % free.encode())
    assert got == 400 and b"x-error-reason: bad-host" in raw.lower(), raw[:300]
    r = stack.edge.get(victim)
    assert r.status == 200 and r.body == premium_data and r.body != free_data
    assert r.header("X-Cache") == "MISS"
