"""Smoke test of bench/memory/hold.py (the client behind `./cdn bench memory`): it holds real
connections to a real edge and reports the edge's RSS; and it refuses to report a figure when the
server closed the connections it meant to hold. No memory bound is asserted here: that is the
benchmark's job, on a quiet machine."""
import json
import subprocess
import sys

from conftest import REPO, edge_config, origin_config

HOLD = REPO / "bench" / "memory" / "hold.py"


def hold(edge, tls, n, *extra):
    cmd = [sys.executable, str(HOLD), "--pid", str(edge.proc.pid), "--port", str(edge.port(tls=tls)),
           "--n", str(n), "--quiet", "0.5", "--settle-timeout", "10", *extra]
    if tls:
        cmd.append("--tls")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.stdout, r.stderr
    return r.returncode, json.loads(r.stdout)


def start_edge(tiers, content, certs, keepalive_idle):
    origin = tiers("origin", origin_config(content.root)).start()
    cfg = edge_config([origin.port()], certs=[certs["a"]],
                      extra={"workers": 1, "timeouts": {"keepalive_idle": keepalive_idle, "send_stall": "60s"}})
    return tiers("edge", cfg).start()


def test_hold_keeps_idle_and_stalled_connections_open_and_reports_rss(tiers, content, certs):
    edge = start_edge(tiers, content, certs, "60s")
    small, _ = content.new_file(1024, suffix=".bin")
    for tls in (False, True):
        rc, res = hold(edge, tls, 50, "--path", small)
        assert rc == 0, res
        assert (res["held"], res["alive"], res["errors"]) == (50, 50, 0)
        assert res["rss_before_kib"] > 0 and res["rss_after_kib"] > 0
        assert isinstance(res["bytes_per_conn"], int)
    large, _ = content.new_file(512 * 1024, suffix=".bin")
    rc, res = hold(edge, True, 5, "--path", large, "--mode", "stall", "--rcvbuf", "4096")
    assert rc == 0, res
    assert (res["held"], res["alive"], res["errors"]) == (5, 5, 0)


def test_hold_fails_when_the_server_closed_the_connections(tiers, content, certs):
    # The edge drops idle keep-alive connections after 1 s, before the RSS has been steady for
    # the 2 s hold.py waits: a figure for connections that are gone would flatter the server.
    edge = start_edge(tiers, content, certs, "1s")
    path, _ = content.new_file(1024, suffix=".bin")
    rc, res = hold(edge, False, 20, "--path", path, "--quiet", "2.5")
    assert rc != 0
    assert res["held"] == 20 and res["alive"] < 20
