"""Config checking, drain on SIGTERM (two phases: timeouts.drain_grace), shield failover on the edge."""
import http.client
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import (ADMIN_TOKEN, edge_config, free_port, origin_config, program_path, refuses_connections,
                      shield_config, time_bound, wait_until)


def check_config(kind, path):
    return subprocess.run([str(program_path(kind)), "--check-config", "--config", str(path)],
                          capture_output=True, timeout=60, text=True)


def edge_yaml(port, upstream_port, extra_lines=""):
    return (f"tier: edge\n"
            f"workers: 1\n"
            f"listen:\n"
            f"  - address: 127.0.0.1:{port}\n"
            f"admin: {{listen: 127.0.0.1:{free_port()}, token: {ADMIN_TOKEN}}}\n"
            f"upstream:\n"
            f"  servers:\n"
            f"    - address: 127.0.0.1:{upstream_port}\n"
            + extra_lines)


def test_check_config_accepts_a_valid_config(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(edge_yaml(free_port(), free_port(), "timeouts:\n  header_read: 2s\n"))
    r = check_config("edge", p)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name,extra,line", [
    ("unknown-key", "cache:\n  memory: 64MiB\n  disk_pth: /tmp/x\n", 11),
    ("bad-duration", "timeouts:\n  header_read: 5 parsecs\n", 10),
    ("unknown-top-level-key", "colour: blue\n", 9),
    ("negative-duration", "timeouts:\n  upstream_connect: 1s\n  header_read: -3s\n", 11),
])
def test_check_config_names_file_and_line(tmp_path, name, extra, line):
    p = tmp_path / f"{name}.yaml"
    p.write_text(edge_yaml(free_port(), free_port(), extra))
    assert p.read_text().splitlines()[line - 1].strip() == extra.strip().splitlines()[-1].strip()
    r = check_config("edge", p)
    assert r.returncode != 0
    assert r.stderr.startswith(f"{p}:{line}:"), r.stderr


def test_bad_config_fails_start_too(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(edge_yaml(free_port(), free_port(), "timeouts:\n  header_read: soon\n"))
    r = subprocess.run([str(program_path("edge")), "--config", str(p)], capture_output=True, timeout=60, text=True)
    assert r.returncode != 0
    assert re.match(rf"{re.escape(str(p))}:\d+:", r.stderr), r.stderr


def test_origin_config_with_missing_root(tmp_path):
    p = tmp_path / "origin.yaml"
    p.write_text(f"tier: origin\nlisten:\n  - address: 127.0.0.1:{free_port()}\n"
                 f"origin:\n  root: {tmp_path}/does-not-exist\n")
    r = check_config("origin", p)
    assert r.returncode != 0
    assert r.stderr.startswith(f"{p}:5:"), r.stderr


@pytest.mark.concurrency
def test_sigterm_drains_an_active_download(tiers, slow_origin):
    body = bytes(range(256)) * 2048  # 512 KiB
    release = threading.Event()
    slow_origin.add("/vod/big.ts", body, split=100_000, release=release)
    edge = tiers("edge", edge_config([slow_origin.port], extra={"workers": 2})).start()
    conn = http.client.HTTPConnection("127.0.0.1", edge.port(), timeout=30)
    conn.request("GET", "/vod/big.ts", headers={"Host": "127.0.0.1"})
    resp = conn.getresponse()
    assert resp.status == 200
    first = resp.read1(65536)
    assert first
    try:
        edge.signal(__import__("signal").SIGTERM)

        def draining():
            status, h = edge.healthz()
            return (status, h) if h.get("draining") else None

        status, h = wait_until(draining, timeout=10, what="/healthz to report draining")
        assert status == 503
        assert h["status"] == "draining"
        assert edge.running(), "exited while a download was in progress"
    finally:
        release.set()
    rest = resp.read()
    conn.close()
    assert first + rest == body
    assert edge.wait_exit(30) == 0


def test_sigterm_with_idle_keepalive_connection_exits_promptly(tiers, slow_origin):
    slow_origin.add("/vod/small.ts", b"s" * 100)
    edge = tiers("edge", edge_config([slow_origin.port], extra={"workers": 1})).start()
    conn = http.client.HTTPConnection("127.0.0.1", edge.port(), timeout=30)
    conn.request("GET", "/vod/small.ts", headers={"Host": "127.0.0.1"})
    assert conn.getresponse().read() == b"s" * 100
    t0 = time.monotonic()
    assert edge.stop(timeout=30) == 0
    assert time.monotonic() - t0 < time_bound(10), "an idle keep-alive connection held the drain"
    conn.close()


@pytest.mark.parametrize("trigger", ["sigterm", "admin-drain"])
def test_drain_grace_serves_new_connections_then_stops_accepting(tiers, slow_origin, trigger):
    grace = time_bound(2.0)  # long enough for the phase-1 checks below, also under a sanitizer
    body = b"d" * 300_000
    release = threading.Event()
    slow_origin.add("/vod/open.ts", body, split=100_000, release=release)
    slow_origin.add("/vod/new.ts", b"n" * 1000)
    edge = tiers("edge", edge_config([slow_origin.port], extra={
        "workers": 2, "timeouts": {"drain_grace": f"{int(grace * 1000)}ms", "drain": "20s"}})).start()
    assert edge.healthz()[1]["drain_phase"] == 0 and edge.metric("cdn_drain_phase") == 0
    # A download in flight across the grace keeps the edge alive into phase 2, where it can be seen.
    conn = http.client.HTTPConnection("127.0.0.1", edge.port(), timeout=30)
    conn.request("GET", "/vod/open.ts", headers={"Host": "127.0.0.1"})
    resp = conn.getresponse()
    first = resp.read1(65536)
    try:
        t0 = time.monotonic()
        if trigger == "sigterm":
            edge.signal(signal.SIGTERM)
        else:
            assert edge.admin_post("/admin/drain").status == 202

        def announced():
            status, h = edge.healthz()
            return (status, h) if h["draining"] else None

        status, h = wait_until(announced, timeout=10, what="/healthz to report draining")
        assert (status, h["status"], h["drain_phase"]) == (503, "draining", 1)
        # Phase 1: a new connection is still accepted and served, and the phase is still 1 after it.
        r = edge.get("/vod/new.ts")
        assert r.status == 200 and r.body == b"n" * 1000
        assert edge.healthz()[1]["drain_phase"] == 1, "the grace ended before the new request was checked"
        assert edge.metric("cdn_drain_phase") == 1 and edge.metric("cdn_draining") == 1
        assert not refuses_connections(edge.port())

        # Phase 2: after the grace, connects are refused while the open download still runs.
        wait_until(lambda: refuses_connections(edge.port()), timeout=grace + 10, what="connections refused")
        assert time.monotonic() - t0 >= grace, "stopped accepting before drain_grace was over"
        assert edge.running()
        assert edge.healthz()[1]["drain_phase"] == 2
        assert edge.metric("cdn_drain_phase") == 2 and edge.metric("cdn_draining") == 1
    finally:
        release.set()
    assert first + resp.read() == body
    conn.close()
    assert edge.wait_exit(30) == 0


@pytest.mark.parametrize("first", ["sigterm", "admin-drain"])
def test_sigterm_while_draining_skips_the_drain_grace(tiers, slow_origin, first):
    edge = tiers("edge", edge_config([slow_origin.port], extra={
        "workers": 1, "timeouts": {"drain_grace": "60s", "drain": "20s"}})).start()
    if first == "sigterm":
        edge.signal(signal.SIGTERM)
    else:
        assert edge.admin_post("/admin/drain").status == 202
        assert edge.admin_post("/admin/drain").status == 202  # a retried POST keeps the grace
    wait_until(lambda: edge.healthz()[1]["drain_phase"] == 1, timeout=10, what="drain phase 1")
    assert edge.running() and not refuses_connections(edge.port())
    t0 = time.monotonic()
    edge.signal(signal.SIGTERM)
    assert edge.wait_exit(time_bound(10)) == 0
    assert time.monotonic() - t0 < time_bound(10)


def test_edge_fails_over_to_the_other_shield(tiers, content):
    path, data = content.new_file(40_000)
    origin = tiers("origin", origin_config(content.root)).start()
    shields = {}
    for name in ("shield-a", "shield-b"):
        shields[name] = tiers("shield", shield_config([origin.port()]), name=name).start()
    edge = tiers("edge", edge_config([s.port() for s in shields.values()])).start()

    def served_by(resp):
        via = resp.header("Via", "")
        names = [n for n in shields if n in via]
        assert len(names) == 1, via
        return names[0]

    r = edge.get(path)
    assert r.status == 200 and r.body == data
    first = served_by(r)
    # rendezvous hashing: the same key goes to the same shield again
    assert edge.purge_url(f"http://127.0.0.1{path}").status == 200
    r = edge.get(path)
    assert r.header("X-Cache") == "MISS" and served_by(r) == first

    # keys spread over both shields
    seen = set()
    for _ in range(16):
        p, _ = content.new_file(10)
        seen.add(served_by(edge.get(p)))
    assert seen == set(shields), seen

    assert shields[first].stop() == 0
    assert edge.purge_url(f"http://127.0.0.1{path}").status == 200
    r = edge.get(path)
    assert r.status == 200, r
    assert r.body == data
    other = served_by(r)
    assert other != first
    # and keeps working for more keys while the shield is down
    for _ in range(5):
        p, d = content.new_file(10)
        r = edge.get(p)
        assert r.status == 200 and r.body == d


def test_admin_drain_needs_the_token_and_drains(tiers, slow_origin):
    slow_origin.add("/vod/x.ts", b"x")
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    r = edge.admin_post("/admin/drain", token=None)
    assert r.status == 401
    r = edge.admin_post("/admin/drain", token="nope")
    assert r.status == 401
    assert edge.healthz()[0] == 200
    r = edge.admin_post("/admin/drain")
    assert r.status in (200, 202), r

    def drained():
        if not edge.running():
            return "exited"
        try:
            s, h = edge.healthz()
        except OSError:
            return None
        return (s, h) if h.get("draining") else None

    got = wait_until(drained, timeout=10, what="draining")
    if got != "exited":
        status, h = got
        assert status == 503 and h["draining"] is True
        assert h["status"] == "draining"
    assert edge.wait_exit(40) == 0  # README: "202, then drains like SIGTERM"


def test_502_is_not_cached_and_the_edge_recovers_with_its_shield(tiers, content):
    path, data = content.new_file(1000)
    origin = tiers("origin", origin_config(content.root)).start()
    shield = tiers("shield", shield_config([origin.port()]))
    edge = tiers("edge", edge_config([shield.port()])).start()
    for _ in range(5):  # enough failures to mark the shield down
        r = edge.get(path)
        assert r.status == 502, r
    shield.start()
    t0 = time.monotonic()

    def ok():
        r = edge.get(path)
        return r if r.status == 200 else None

    r = wait_until(ok, timeout=15, interval=0.2, what="the edge to use its shield again")
    assert r.body == data
    assert time.monotonic() - t0 < time_bound(3), "the only shield was avoided long after it came back"


@pytest.mark.concurrency
def test_shield_coalesces_misses_from_two_edges(tiers, content):
    path, data = content.new_file(1024 * 1024)
    origin = tiers("origin", origin_config(content.root)).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    edges = [tiers("edge", edge_config([shield.port()]), name=f"edge-{i}").start() for i in range(2)]
    before = origin.metric("cdn_requests_total")
    barrier = threading.Barrier(60)
    results = []

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", edges[i % 2].port(), timeout=60)
        try:
            conn.connect()
            barrier.wait(60)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            r = conn.getresponse()
            results.append(r.status == 200 and r.read() == data)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [True] * 60
    assert origin.metric("cdn_requests_total") - before == 1
    assert shield.metric("cdn_upstream_requests_total") == 1
