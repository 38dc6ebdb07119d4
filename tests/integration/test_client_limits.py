"""Per-client-address limits (limits.max_connections_per_client, requests_per_second_per_client):
one loopback address (127.0.0.2) takes more than its share while another (127.0.0.3) is served
normally at the same time; refusals are 429 (plain) or a bare close (TLS) and are counted."""
import re
import socket
import time

from conftest import RawConn, client_tls_context, edge_config, shield_config, wait_until

HOG, OTHER = "127.0.0.2", "127.0.0.3"
BODY = b"c" * 1000
GOOD = b"GET /vod/c.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class ClientConn(RawConn):
    """A RawConn whose socket is bound to a chosen loopback source address before connecting."""

    def __init__(self, port, source, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buf = b""


def fetch_from(source, port):
    with ClientConn(port, source) as c:
        c.send(GOOD)
        return c.read_response()


def refused(edge, reason):
    return edge.metric("cdn_http_refused_total", status=429, reason=reason)


def edge_with(slow_origin, tiers, limits, certs=None):
    slow_origin.add("/vod/c.ts", BODY)
    cfg = edge_config([slow_origin.port], certs=certs, extra={"limits": limits, "workers": 2})
    return tiers("edge", cfg).start()


def test_connections_over_a_clients_share_get_429_while_others_are_served(tiers, slow_origin):
    edge = edge_with(slow_origin, tiers, {"max_connections_per_client": 3})
    held = [ClientConn(edge.port(), HOG) for _ in range(3)]
    try:
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 3, timeout=10, what="3 open connections")
        for attempt in range(1, 3):
            with ClientConn(edge.port(), HOG) as extra:
                raw, closed = extra.read_to_close(timeout=10)  # refused at accept, before any request
            assert closed, raw
            assert re.match(rb"HTTP/1\.1 429 ", raw), raw
            assert b"X-Error-Reason: client-connection-limit\r\n" in raw and b"Connection: close\r\n" in raw, raw
            assert refused(edge, "client-connection-limit") == attempt
        # Another address is served at the same time, and the held connections still work.
        r = fetch_from(OTHER, edge.port())
        assert r.status == 200 and r.body == BODY
        held[0].send(GOOD)
        r = held[0].read_response()
        assert r.status == 200 and r.body == BODY
        # Closing one frees one slot for the same address.
        held.pop().close()
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 2, timeout=10, what="the closed slot")
        r = fetch_from(HOG, edge.port())
        assert r.status == 200 and r.body == BODY
        assert refused(edge, "client-connection-limit") == 2
    finally:
        for c in held:
            c.close()
    wait_until(lambda: edge.healthz()[1]["active_connections"] == 0, timeout=10, what="all connections closed")
    # All slots back: the address can open its full share again.
    again = [ClientConn(edge.port(), HOG) for _ in range(3)]
    try:
        for c in again:
            c.send(GOOD)
            assert c.read_response().status == 200
    finally:
        for c in again:
            c.close()
    assert refused(edge, "client-connection-limit") == 2


def test_tls_connections_over_the_share_are_closed_without_a_handshake(tiers, slow_origin, certs):
    edge = edge_with(slow_origin, tiers, {"max_connections_per_client": 2}, certs=[certs["a"]])
    tls_port = edge.port(tls=True)
    held = [ClientConn(tls_port, HOG) for _ in range(2)]  # plain TCP: a slot is taken at accept
    try:
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 2, timeout=10, what="2 open connections")
        with ClientConn(tls_port, HOG) as extra:
            raw, closed = extra.read_to_close(timeout=10)
        assert closed and raw == b"", raw
        assert refused(edge, "client-connection-limit") == 1
        sock = socket.create_connection(("127.0.0.1", tls_port), timeout=10, source_address=(OTHER, 0))
        with client_tls_context().wrap_socket(sock, server_hostname="a.test") as s:
            s.sendall(GOOD)
            got = b""
            while BODY not in got:
                chunk = s.recv(65536)
                assert chunk, got
                got += chunk
        assert got.startswith(b"HTTP/1.1 200 ")
    finally:
        for c in held:
            c.close()


def test_requests_over_a_clients_rate_get_429_with_retry_after(tiers, slow_origin):
    rate, burst = 1, 4
    edge = edge_with(slow_origin, tiers, {"requests_per_second_per_client": rate, "request_burst_per_client": burst})
    t0 = time.monotonic()
    allowed = 0
    with ClientConn(edge.port(), HOG) as c:
        while True:
            c.send(GOOD)
            r = c.read_response()
            if r.status != 200:
                break
            allowed += 1
            assert allowed <= burst + 60, "never limited"
        elapsed = time.monotonic() - t0
        assert r.status == 429, r
        assert r.header("X-Error-Reason") == "client-rate-limit" and r.header("Retry-After") == "1", r
        assert r.header("Connection") == "close"
        _, closed = c.read_to_close(timeout=10)
        assert closed
    # The burst, plus whatever refilled while those requests ran.
    assert burst <= allowed <= burst + int(elapsed * rate) + 1, (allowed, elapsed)
    assert refused(edge, "client-rate-limit") == 1
    # Another address has its own bucket.
    for _ in range(burst):
        assert fetch_from(OTHER, edge.port()).status == 200
    # The limited address gets a token back after about 1/rate s (refused attempts cost nothing).
    t_limited = time.monotonic()
    statuses = []

    def served_again():
        statuses.append(fetch_from(HOG, edge.port()).status)
        return statuses[-1] == 200

    wait_until(served_again, timeout=10, interval=0.1, what="a refilled token")
    assert set(statuses[:-1]) <= {429}
    assert time.monotonic() - t_limited <= 1.0 / rate + 2
    assert refused(edge, "client-rate-limit") == 1 + len(statuses) - 1


def test_admin_listener_is_not_rate_limited(tiers, slow_origin):
    edge = edge_with(slow_origin, tiers, {"requests_per_second_per_client": 1, "request_burst_per_client": 1})
    for _ in range(10):
        assert edge.healthz()[0] == 200
    assert refused(edge, "client-rate-limit") == 0


def test_ipv4_prefix_groups_neighbouring_addresses(tiers, slow_origin):
    # 127.0.0.2 and 127.0.0.3 share a /24: together they get one share.
    edge = edge_with(slow_origin, tiers, {"max_connections_per_client": 2, "client_ipv4_prefix": 24})
    held = [ClientConn(edge.port(), HOG), ClientConn(edge.port(), OTHER)]
    try:
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 2, timeout=10, what="2 open connections")
        with ClientConn(edge.port(), "127.0.0.4") as extra:
            raw, closed = extra.read_to_close(timeout=10)
        assert closed and b"X-Error-Reason: client-connection-limit" in raw, raw
    finally:
        for c in held:
            c.close()


def open_many(port, n):
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]


def test_default_share_is_256_on_edge_and_off_on_shield(tiers, slow_origin):
    """The shield sees a whole edge as one address, so it does not limit per client by default."""
    slow_origin.add("/vod/c.ts", BODY)
    shield = tiers("shield", shield_config([slow_origin.port])).start()
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    socks = []
    try:
        socks += open_many(shield.port(), 300)
        wait_until(lambda: shield.healthz()[1]["active_connections"] == 300, timeout=20, what="300 shield connections")
        socks += open_many(edge.port(), 256)
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 256, timeout=20, what="256 edge connections")
        with ClientConn(edge.port(), "127.0.0.1") as extra:
            raw, closed = extra.read_to_close(timeout=10)
        assert closed and re.match(rb"HTTP/1\.1 429 ", raw), raw[:200]
        assert refused(edge, "client-connection-limit") == 1
        assert refused(shield, "client-connection-limit") == 0
    finally:
        for s in socks:
            s.close()
