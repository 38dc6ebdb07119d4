"""Concurrent stream limits at the edge (climit 3), both behaviours, in memory and across two edges
sharing one real redis-server (killed and restarted mid-test); session admin (cdnctl sessions/kick)."""
import json
import time

import pytest

from access_support import (Chain, Keys, RedisServer, access_section, admin_get_with_token, cdnctl, get, get_from,
                            rejection)
from conftest import ADMIN_TOKEN, wait_until


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def seg(content):
    path, _ = content.new_file(2000, suffix=".ts", subdir="lim")
    return path


class Viewer:
    """One playback session: a token with its own sid, requesting segments."""

    def __init__(self, keys, sub, sid, edge, **claims):
        self.sid = sid
        self.edge = edge
        self.token = keys.sign(aud="cdn", sub=sub, sid=sid, climit=3, **claims)

    def play(self, path, edge=None):
        return get(edge or self.edge, path, token=self.token)


def test_evict_oldest_default(tiers, content, keys, seg):
    c = Chain(tiers, content.root, [access_section(keys)])
    sub = "evict-me"
    v = [Viewer(keys, sub, f"s{i}", c.edge) for i in range(4)]
    for x in v[:3]:
        assert x.play(seg).status == 200
        time.sleep(0.01)  # distinct start times
    for x in v[:3]:
        assert x.play(seg).status == 200  # renewals are never limited
    assert c.edge.metric("cdn_stream_sessions_active") == 3
    r = v[3].play(seg)  # the fourth starts: the oldest (s0) goes
    assert r.status == 200
    r = v[0].play(seg)
    assert r.status == 403 and rejection(r) == "stream-evicted" and b"stream-evicted" in r.body
    assert v[1].play(seg).status == 200 and v[2].play(seg).status == 200 and v[3].play(seg).status == 200
    # the evicted viewer restarts playback: a new session, which evicts the next oldest (s1)
    restarted = Viewer(keys, sub, "s0-restart", c.edge)
    assert restarted.play(seg).status == 200
    r = v[1].play(seg)
    assert r.status == 403 and rejection(r) == "stream-evicted"
    assert v[2].play(seg).status == 200 and v[3].play(seg).status == 200
    assert c.edge.metric("cdn_token_rejections_total", reason="stream-evicted") == 2
    # another viewer is not affected
    assert Viewer(keys, "someone-else", "s0", c.edge).play(seg).status == 200


def test_block_new_until_a_lease_expires(tiers, content, keys, seg):
    c = Chain(tiers, content.root, [access_section(keys, sessions={"store": "memory", "lease": "2s"})])
    v = [Viewer(keys, "blocker", f"b{i}", c.edge, cbeh="BLOCK_NEW") for i in range(4)]
    for x in v[:3]:
        assert x.play(seg).status == 200
    r = v[3].play(seg)
    assert r.status == 403 and rejection(r) == "stream-limit-reached"
    # b2 stops playing; b0 and b1 go on (each request renews their lease)
    deadline = time.monotonic() + 10
    played = False
    while time.monotonic() < deadline:
        assert v[0].play(seg).status == 200 and v[1].play(seg).status == 200
        r = v[3].play(seg)
        if r.status == 200:
            played = True
            break
        assert rejection(r) == "stream-limit-reached"
        time.sleep(0.4)
    assert played, "the fourth session never got the freed slot"
    # and now b2, back after its lease expired, is the one refused
    r = v[2].play(seg)
    assert r.status == 403 and rejection(r) == "stream-limit-reached"


def test_admin_lists_and_kicks_sessions(tiers, content, keys, seg):
    c = Chain(tiers, content.root, [access_section(keys)])
    a, b = Viewer(keys, "kicked", "k1", c.edge), Viewer(keys, "kicked", "k2", c.edge)
    assert a.play(seg).status == 200 and b.play(seg).status == 200
    admin = f"http://127.0.0.1:{c.edge.admin_port}"
    out = json.loads(cdnctl("sessions", "kicked", "--admin", admin, "--token", ADMIN_TOKEN).stdout)
    assert sorted(s["sid"] for s in out["sessions"]) == ["k1", "k2"]
    r = cdnctl("kick", "kicked", "k1", "--admin", admin, check=False)
    assert r.returncode == 1 and "admin-token-required" in r.stderr
    cdnctl("kick", "kicked", "k1", "--admin", admin, "--token", ADMIN_TOKEN)
    r = a.play(seg)
    assert r.status == 403 and rejection(r) == "stream-evicted"
    assert b.play(seg).status == 200
    out = json.loads(cdnctl("sessions", "kicked", "--admin", admin, "--token", ADMIN_TOKEN).stdout)
    assert [s["sid"] for s in out["sessions"]] == ["k2"]
    assert cdnctl("kick", "kicked", "nope", "--admin", admin, "--token", ADMIN_TOKEN, check=False).returncode == 1


def test_viewer_data_on_the_admin_listener_needs_the_token(tiers, content, keys, seg):
    c = Chain(tiers, content.root, [access_section(keys)])
    assert Viewer(keys, "private", "p1", c.edge).play(seg).status == 200
    before = c.edge.metric("cdn_admin_rejections_total", reason="admin-token-required")
    for token in (None, "wrong-token", ADMIN_TOKEN + "x"):
        r = admin_get_with_token(c.edge, "/admin/sessions?sub=private", token)
        assert r.status == 401 and r.header("X-Error-Reason") == "admin-token-required", token
        assert b"p1" not in r.body
    assert c.edge.metric("cdn_admin_rejections_total", reason="admin-token-required") == before + 3
    r = cdnctl("sessions", "private", "--admin", f"http://127.0.0.1:{c.edge.admin_port}", check=False)
    assert r.returncode == 1 and "admin-token-required" in r.stderr
    r = admin_get_with_token(c.edge, "/admin/sessions?sub=private", ADMIN_TOKEN)
    assert r.status == 200 and [s["sid"] for s in json.loads(r.body)["sessions"]] == ["p1"]
    # operational reads stay open
    assert c.edge.admin_get("/healthz").status == 200
    assert c.edge.admin_get("/metrics").status == 200


def test_without_an_admin_token_configured_viewer_data_is_not_served(tiers, content, keys, seg):
    from conftest import edge_config, free_port
    c = Chain(tiers, content.root, [])
    edge = tiers("edge", edge_config([c.shield.port()], extra={
        "access": access_section(keys), "admin": {"listen": f"127.0.0.1:{free_port()}"}}), name="tokenless").start()
    assert get(edge, seg, token=keys.sign(aud="cdn", sub="nobody-sees", sid="n1")).status == 200
    for token in (None, "anything"):
        r = admin_get_with_token(edge, "/admin/sessions?sub=nobody-sees", token)
        assert r.status == 403 and r.header("X-Error-Reason") == "admin-token-not-configured", token
        assert b"n1" not in r.body
    assert edge.metric("cdn_admin_rejections_total", reason="admin-token-not-configured") == 2
    assert edge.admin_get("/healthz").status == 200


SHARERS = [f"127.0.0.{i}" for i in range(2, 7)]


def sharing_access(keys, store, redis, **sessions):
    s = {"store": store, "address_prefix_v4": 32, **sessions}
    if store == "redis":
        s["redis"] = {"address": redis.address, "renew_interval": "300ms"}
    return access_section(keys, sessions=s)


@pytest.fixture(params=["memory", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        yield "memory", None
        return
    r = RedisServer(tmp_path / "redis").start()
    yield "redis", r
    r.kill()


def test_shared_sid_new_stream_from_each_address_evicts_the_last(tiers, content, keys, seg, store):
    kind, redis = store
    c = Chain(tiers, content.root, [sharing_access(keys, kind, redis)])
    token = keys.sign(aud="cdn", sub="sharer", sid="one-subscription", climit=1)
    moved = c.edge.metric("cdn_stream_sid_moved_total")
    for i, ip in enumerate(SHARERS):
        r = get_from(c.edge, ip, seg, token)
        assert r.status == 200, (ip, r.status, rejection(r))
        # every earlier address was evicted by a later one: only this one plays now
        playing = [other for other in SHARERS[:i + 1] if get_from(c.edge, other, seg, token).status == 200]
        assert playing == [ip]
    for ip in SHARERS[:-1]:
        r = get_from(c.edge, ip, seg, token)
        assert r.status == 403 and rejection(r) == "stream-evicted", ip
    assert c.edge.metric("cdn_stream_sid_moved_total") == moved + len(SHARERS) - 1


def test_shared_sid_block_new_refuses_the_other_addresses(tiers, content, keys, seg, store):
    kind, redis = store
    c = Chain(tiers, content.root, [sharing_access(keys, kind, redis)])
    token = keys.sign(aud="cdn", sub="sharer-b", sid="one-subscription", climit=1, cbeh="BLOCK_NEW")
    assert get_from(c.edge, SHARERS[0], seg, token).status == 200
    for ip in SHARERS[1:]:
        r = get_from(c.edge, ip, seg, token)
        assert r.status == 403 and rejection(r) == "stream-limit-reached", ip
        assert get_from(c.edge, SHARERS[0], seg, token).status == 200


def test_shared_sid_refused_elsewhere_while_the_first_plays(tiers, content, keys, seg, store):
    kind, redis = store
    c = Chain(tiers, content.root, [sharing_access(keys, kind, redis, sid_elsewhere="refuse")])
    token = keys.sign(aud="cdn", sub="sharer-r", sid="one-subscription", climit=1)
    before = c.edge.metric("cdn_token_rejections_total", reason="sid-in-use-elsewhere")
    assert get_from(c.edge, SHARERS[0], seg, token).status == 200
    for ip in SHARERS[1:]:
        r = get_from(c.edge, ip, seg, token)
        assert r.status == 403 and rejection(r) == "sid-in-use-elsewhere" and b"sid-in-use-elsewhere" in r.body, ip
        assert get_from(c.edge, SHARERS[0], seg, token).status == 200
    assert c.edge.metric("cdn_token_rejections_total", reason="sid-in-use-elsewhere") == before + len(SHARERS) - 1


def test_addresses_in_one_default_prefix_are_one_stream(tiers, content, keys, seg):
    # address_prefix_v4 defaults to /24: every 127.0.0.x is the same place (a phone moving inside
    # its carrier's block stays one stream), so even `refuse` lets them all play.
    c = Chain(tiers, content.root, [access_section(keys, sessions={"sid_elsewhere": "refuse"})])
    token = keys.sign(aud="cdn", sub="mover", sid="one-subscription", climit=1)
    for ip in SHARERS:
        assert get_from(c.edge, ip, seg, token).status == 200, ip
    assert c.edge.metric("cdn_stream_sessions_active") == 1


@pytest.fixture
def redis(tmp_path):
    r = RedisServer(tmp_path / "redis").start()
    yield r
    r.kill()


def redis_access(keys, redis, when_down, **over):
    return access_section(keys, sessions={
        "store": "redis", "lease": "30s",
        "redis": {"address": redis.address, "renew_interval": "300ms", "command_timeout": "500ms",
                  "when_down": when_down}}, **over)


def test_limit_holds_across_two_edges_sharing_redis(tiers, content, keys, seg, redis):
    c = Chain(tiers, content.root, [redis_access(keys, redis, "fail-open"),
                                    redis_access(keys, redis, "fail-open")])
    e1, e2 = c.edges
    # BLOCK_NEW: three on two edges, the fourth refused on either
    v = [Viewer(keys, "fleet-b", f"f{i}", e1, cbeh="BLOCK_NEW") for i in range(4)]
    assert v[0].play(seg, e1).status == 200
    assert v[1].play(seg, e2).status == 200
    assert v[2].play(seg, e1).status == 200
    for e in (e1, e2):
        r = v[3].play(seg, e)
        assert r.status == 403 and rejection(r) == "stream-limit-reached"
    # EVICT_OLDEST: the fourth on edge 2 evicts the oldest, which was playing on edge 1
    w = [Viewer(keys, "fleet-e", f"g{i}", e1) for i in range(4)]
    for i, x in enumerate(w[:3]):
        assert x.play(seg, (e1, e2)[i % 2]).status == 200
        time.sleep(0.01)
    assert w[3].play(seg, e2).status == 200
    time.sleep(0.5)  # edge 1 confirms g0's lease in Redis at most every renew_interval
    r = w[0].play(seg, e1)
    assert r.status == 403 and rejection(r) == "stream-evicted"
    # either edge lists the viewer's sessions from Redis
    out = json.loads(admin_get_with_token(e2, "/admin/sessions?sub=fleet-e", ADMIN_TOKEN).body)
    assert sorted(s["sid"] for s in out["sessions"]) == ["g1", "g2", "g3"]


def test_redis_down_follows_policy_and_edges_recover(tiers, content, keys, seg, redis):
    c = Chain(tiers, content.root, [redis_access(keys, redis, "fail-open"),
                                    redis_access(keys, redis, "fail-closed")])
    open_edge, closed_edge = c.edges
    v = Viewer(keys, "outage", "o1", open_edge)
    assert v.play(seg, open_edge).status == 200 and v.play(seg, closed_edge).status == 200
    redis.kill()
    # fail-open: still served (new sessions too); fail-closed: 503 once Redis is known down
    assert Viewer(keys, "outage", "o2", open_edge).play(seg).status == 200
    wait_until(lambda: v.play(seg, open_edge).status == 200, what="fail-open serving")

    def refused():
        r = Viewer(keys, "outage", "o3", closed_edge).play(seg)
        return r if r.status == 503 else None
    r = wait_until(refused, timeout=10, interval=0.2, what="fail-closed 503")
    assert rejection(r) == "session-store-unavailable"
    assert closed_edge.metric("cdn_token_rejections_total", reason="session-store-unavailable") >= 1
    assert open_edge.running() and closed_edge.running()
    # Redis comes back (empty): both edges reconnect by themselves
    redis.start()
    # Each worker loop has its own Redis connection and reconnects on its own backoff: wait until
    # a run of new sessions (spread over the workers by their connections) all get through.
    probes = iter(range(10_000))
    wait_until(lambda: all(Viewer(keys, f"probe-{next(probes)}", "p", closed_edge).play(seg).status == 200
                           for _ in range(8)), timeout=30, interval=0.3, what="fail-closed edge to recover")
    assert Viewer(keys, "outage", "o4", closed_edge).play(seg).status == 200
    assert Viewer(keys, "outage", "o5", open_edge).play(seg).status == 200
    # and the shared limit holds again across the edges
    w = [Viewer(keys, "after", f"a{i}", open_edge, cbeh="BLOCK_NEW") for i in range(4)]
    for i, x in enumerate(w[:3]):
        assert x.play(seg, c.edges[i % 2]).status == 200
    r = w[3].play(seg, closed_edge)
    assert r.status == 403 and rejection(r) == "stream-limit-reached"
    logs = open_edge.stderr_path.read_text() + closed_edge.stderr_path.read_text()
    assert "session store" in logs
