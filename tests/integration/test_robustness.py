"""Harder cases: pipelining behind a slow miss, request bodies on keep-alive connections,
connection limits, clients that stop reading, close-delimited upstream bodies, stale-if-error on
5xx, access log reopen on SIGHUP."""
import http.client
import signal
import socket
import threading
import time

from conftest import RawConn, edge_config, shield_config, time_bound, wait_until

GOOD = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_pipelined_hit_waits_for_the_slow_miss_before_it(tiers, slow_origin):
    body = b"s" * 200_000
    release = threading.Event()
    slow_origin.add("/vod/slow.ts", body, split=1000, release=release)
    slow_origin.add("/vod/fast.ts", b"fast" * 100)
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    assert edge.get("/vod/fast.ts").status == 200
    with RawConn(edge.port(), timeout=20) as c:
        c.send(GOOD % b"/vod/slow.ts" + GOOD % b"/vod/fast.ts")
        wait_until(lambda: slow_origin.count("/vod/slow.ts") == 1, timeout=10, what="the slow fill to start")
        release.set()
        r1 = c.read_response()
        r2 = c.read_response()
    assert r1.status == 200 and r1.body == body
    assert r2.status == 200 and r2.body == b"fast" * 100 and r2.header("X-Cache") == "HIT"


def test_request_body_on_a_keepalive_connection_is_not_parsed_as_a_request(stack, content):
    path, data = content.new_file(1000)
    stack.edge.get(path)
    secret = f"/vod/smuggled-{time.monotonic_ns()}.ts"
    smuggled = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % secret.encode()
    log_path = stack.edge.dir / "edge-access.log"
    posts_before = log_path.read_text().count('"method":"POST"') if log_path.exists() else 0
    for framing in (b"Content-Length: %d\r\n\r\n" % len(smuggled) + smuggled,
                    b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n"):
        with RawConn(stack.edge.port()) as c:
            c.send(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing + GOOD % path.encode())
            r1 = c.read_response()
            assert r1.status == 405
            try:
                r2 = c.read_response()
            except EOFError:
                continue  # the edge closed instead of reading the body: fine
            assert r2.status == 200 and r2.body == data, r2
            assert r2.header("X-Cache") == "HIT"
    # the log is written off the loop: wait for both POST lines, then look at everything around them
    wait_until(lambda: log_path.read_text().count('"method":"POST"') >= posts_before + 2, timeout=10,
               what="the POST lines in the access log")
    log = log_path.read_text()
    assert secret not in log, "the POST body was served as a request"


def test_connection_limit(tiers, slow_origin):
    slow_origin.add("/vod/x.ts", b"x" * 100)
    edge = tiers("edge", edge_config([slow_origin.port], extra={"limits": {"max_connections": 4}, "workers": 1})).start()
    held = [socket.create_connection(("127.0.0.1", edge.port()), timeout=10) for _ in range(4)]
    try:
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 4, timeout=10, what="4 open connections")
        status, raw, closed = __import__("conftest").raw_exchange(edge.port(), GOOD % b"/vod/x.ts", timeout=10)
        assert closed and status in (None, 503), raw[:200]
        assert edge.metric("cdn_http_refused_total", status=503) >= 1
    finally:
        for s in held:
            s.close()
    wait_until(lambda: edge.healthz()[1]["active_connections"] == 0, timeout=10, what="connections to close")
    r = edge.get("/vod/x.ts")
    assert r.status == 200


def test_client_that_stops_reading_is_cut_off_and_others_are_served(tiers, stack, content):
    """timeouts.send_stall: a client that stops reading (here a cached 8 MiB object, far more than
    the socket buffers hold) is disconnected after send_stall, not after keepalive_idle."""
    path, data = content.new_file(8 * 1024 * 1024)
    small, sdata = content.new_file(1000)
    edge = tiers("edge", edge_config([stack.shield.port()], extra={
        "timeouts": {"send_stall": "2s", "header_read": "2s", "keepalive_idle": "60s"}})).start()
    assert edge.get(path, timeout=60).body == data
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(20)
    s.connect(("127.0.0.1", edge.port()))
    s.sendall(GOOD % path.encode())
    try:
        t0 = time.monotonic()
        r = edge.get(small)
        assert r.status == 200 and r.body == sdata
        assert time.monotonic() - t0 < time_bound(2)
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 0, timeout=2 + 5, interval=0.2,
                   what="the edge to drop a client that stopped reading (send_stall 2s)")
        got = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
        except (ConnectionResetError, socket.timeout):
            pass
        assert got < len(data), "a client that stopped reading still got the whole object"
    finally:
        s.close()


def test_close_delimited_upstream_body(tiers, slow_origin):
    body = bytes(range(256)) * 300
    slow_origin.add("/vod/eof.ts", body, no_length=True)
    shield = tiers("shield", shield_config([slow_origin.port])).start()
    edge = tiers("edge", edge_config([shield.port()])).start()
    r = edge.get("/vod/eof.ts")
    assert r.status == 200 and r.body == body
    r = edge.get("/vod/eof.ts")
    assert r.status == 200 and r.body == body and r.header("X-Cache") == "HIT"
    assert slow_origin.count("/vod/eof.ts") == 1


def test_stale_if_error_on_upstream_5xx(tiers, slow_origin):
    slow_origin.add("/vod/p.m3u8", b"#EXTM3U\n", headers={"Cache-Control": "max-age=1"})
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    assert edge.get("/vod/p.m3u8").header("X-Cache") == "MISS"
    slow_origin.add("/vod/p.m3u8", b"broken", status=500, headers={"Cache-Control": "no-store"})

    def not_fresh():
        r = edge.get("/vod/p.m3u8")
        return r if r.header("X-Cache") != "HIT" else None

    r = wait_until(not_fresh, timeout=10, interval=0.2, what="expiry")
    assert r.status == 200 and r.body == b"#EXTM3U\n"
    assert r.header("X-Cache") == "STALE"


def test_sighup_reopens_the_access_log(tiers, slow_origin):
    slow_origin.add("/vod/a.ts", b"a")
    slow_origin.add("/vod/b.ts", b"b")
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    log = edge.dir / "edge-access.log"
    edge.get("/vod/a.ts")
    wait_until(lambda: log.exists() and "/vod/a.ts" in log.read_text(), timeout=10, what="first log line")
    rotated = log.with_suffix(".log.1")
    log.rename(rotated)
    edge.signal(signal.SIGHUP)
    wait_until(log.exists, timeout=10, what="the access log reopened after SIGHUP")
    edge.get("/vod/b.ts")
    wait_until(lambda: log.exists() and "/vod/b.ts" in log.read_text(), timeout=10,
               what="the request after SIGHUP in a new access log file")
    assert "/vod/b.ts" not in rotated.read_text()


def test_head_while_the_object_is_still_arriving(tiers, slow_origin):
    body = b"h" * 100_000
    release = threading.Event()
    slow_origin.add("/vod/h.ts", body, split=10_000, release=release)
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    with RawConn(edge.port(), timeout=20) as c:
        c.send(b"HEAD /vod/h.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + GOOD % b"/vod/h.ts")
        wait_until(lambda: slow_origin.count("/vod/h.ts") == 1, timeout=10, what="the fill to start")
        release.set()
        h = c.read_response(method="HEAD")
        assert h.status == 200
        assert h.header("Content-Length") == str(len(body))
        g = c.read_response()
        assert g.status == 200 and g.body == body
