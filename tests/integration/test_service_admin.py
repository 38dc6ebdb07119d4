"""Delivery services (issue 9), the session side: a service's admin_token lists and kicks its own
service's stream sessions only, cdn_stream_sessions_active by service, and the sessions settings
(lease, Redis credentials) taken by a reload, or reported as needing a restart (the store kind)."""
import json

from access_support import Keys, RedisServer, access_section, rejection
from conftest import ADMIN_TOKEN, edge_config, http_request, origin_config, wait_until
from test_services import SAME, fleet, origin_roots, reload_via_admin, write_config  # noqa: F401
from test_tier_tls import redis_command


def sessions_admin(fleet, method, path, token):
    return http_request(fleet.edge.admin_port, path, method=method,
                        headers={"Authorization": f"Bearer {token}", "Content-Length": "0"})


def listed_sids(r):
    assert r.status == 200, r
    return sorted(s["sid"] for s in json.loads(r.body)["sessions"])


def out_of_scope(fleet):
    return fleet.edge.metric("cdn_admin_rejections_total", reason="session-out-of-scope")


def test_a_service_token_lists_and_kicks_its_own_viewers_only(fleet):
    claims = dict(sub="viewer-9", climit=3)
    live_tok = fleet.token("live", sid="live-sid", **claims)
    vod_tok = fleet.token("vod", sid="vod-sid", **claims)
    assert fleet.get("live.test", SAME, live_tok).status == 200
    assert fleet.get("vod.test", SAME, vod_tok).status == 200

    # Its own service's viewer: without service= (its service is implied) and with it.
    assert listed_sids(sessions_admin(fleet, "GET", "/admin/sessions?sub=viewer-9", "live-secret")) == ["live-sid"]
    assert listed_sids(sessions_admin(fleet, "GET", "/admin/sessions?service=vod&sub=viewer-9",
                                      "vod-secret")) == ["vod-sid"]
    # Another service's viewers: refused, counted, nothing kicked.
    refused = out_of_scope(fleet)
    r = sessions_admin(fleet, "GET", "/admin/sessions?service=vod&sub=viewer-9", "live-secret")
    assert r.status == 403 and r.header("X-Error-Reason") == "session-out-of-scope", r
    r = sessions_admin(fleet, "DELETE", "/admin/sessions/kick?service=vod&sub=viewer-9&sid=vod-sid", "live-secret")
    assert r.status == 403 and r.header("X-Error-Reason") == "session-out-of-scope", r
    assert out_of_scope(fleet) == refused + 2
    assert fleet.get("vod.test", SAME, vod_tok).status == 200
    # A token no service has is not an admin at all.
    assert sessions_admin(fleet, "GET", "/admin/sessions?sub=viewer-9", "nobody").status == 401

    # vod's token kicks vod's stream; live's stream of the same sub plays on.
    r = sessions_admin(fleet, "DELETE", "/admin/sessions/kick?sub=viewer-9&sid=vod-sid", "vod-secret")
    assert r.status == 200 and json.loads(r.body) == {"kicked": True}, r
    r = fleet.get("vod.test", SAME, vod_tok)
    assert r.status == 403 and rejection(r) == "stream-evicted", r
    assert fleet.get("live.test", SAME, live_tok).status == 200
    # The operator's token reaches every service's viewers (service= names one).
    assert listed_sids(sessions_admin(fleet, "GET", "/admin/sessions?service=live&sub=viewer-9",
                                      ADMIN_TOKEN)) == ["live-sid"]
    r = sessions_admin(fleet, "POST", "/admin/sessions/kick?service=live&sub=viewer-9&sid=live-sid", ADMIN_TOKEN)
    assert r.status == 200, r
    assert fleet.get("live.test", SAME, live_tok).status == 403


def test_stream_sessions_gauge_by_service(fleet):
    def gauge(service):
        return fleet.edge.metric("cdn_stream_sessions_active", service=service)

    live_before, vod_before = gauge("live"), gauge("vod")
    for sid in ("g1", "g2"):
        assert fleet.get("vod.test", SAME, fleet.token("vod", sub="gauge-viewer", sid=sid, climit=5)).status == 200
    assert gauge("vod") == vod_before + 2
    assert gauge("live") == live_before
    assert sessions_admin(fleet, "POST", "/admin/sessions/kick?sub=gauge-viewer&sid=g1", "vod-secret").status == 200
    assert gauge("vod") == vod_before + 1
    # Every service with a gate has its own series; none without a label besides them.
    samples = [s for s in fleet.edge.metrics() if s[0] == "cdn_stream_sessions_active"]
    assert {s[1].get("service") for s in samples} == {"live", "vod"}, samples


def test_passed_requests_count_under_their_service(fleet):
    """A POST is passed upstream uncached (RFC 9111 §2); its upstream counters carry the service
    on the edge and on the shield, like a cached request's."""
    def passed(tier, **labels):
        return tier.metric("cdn_upstream_requests_total", service="pub", **labels)
    edge_before, shield_before = passed(fleet.edge), passed(fleet.shield)
    lookups = fleet.edge.metric("cdn_cache_lookups_total", service="pub")
    r = http_request(fleet.edge.port(), "/api/vote", method="POST", host="pub.test", body=b"yes",
                     headers={"Content-Length": "3"})
    assert r.status == 404, r  # the origin's answer (no such file), not a 405 of a tier
    assert fleet.edge.metric("cdn_cache_lookups_total", service="pub") == lookups  # not the cache's
    assert passed(fleet.edge, status=str(r.status)) >= 1
    assert passed(fleet.edge) == edge_before + 1
    assert passed(fleet.shield) == shield_before + 1


def single_edge(tmp_path, tiers, sessions):
    """An edge straight on an origin with one gated service "tv" whose sessions settings are
    `sessions`; returns (edge, config, play(sid) -> response)."""
    roots, _ = origin_roots(tmp_path)
    origin = tiers("origin", origin_config(roots["a"]), name="origin").start()
    keys = Keys(tmp_path / "keys")
    tv = {"name": "tv", "hosts": ["tv.test"], "upstream": {"servers": [{"address": f"127.0.0.1:{origin.port()}"}]},
          "access": access_section(keys, sessions=sessions)}
    cfg = edge_config([origin.port()], extra={"services": [tv]})
    del cfg["upstream"]
    edge = tiers("edge", cfg, name="edge").start()

    def play(sid):
        token = keys.sign(aud="cdn", sub="one-screen", sid=sid, climit=1, cbeh="BLOCK_NEW")
        return http_request(edge.port(), SAME + "?token=" + token, host="tv.test")
    return edge, dict(edge.config), play


def with_sessions(cfg, **sessions):
    tv = dict(cfg["services"][0])
    tv["access"] = dict(tv["access"], sessions=dict(tv["access"]["sessions"], **sessions))
    return dict(cfg, services=[tv])


def test_a_reload_takes_new_session_settings_and_names_the_store_kind_restart_only(tmp_path, tiers):
    edge, cfg, play = single_edge(tmp_path, tiers, {"store": "memory", "lease": "1h"})
    assert play("first").status == 200
    r = play("second")
    assert r.status == 403 and rejection(r) == "stream-limit-reached", r

    # A shorter lease applies to the running sessions: "first" (not renewed) lapses within it.
    write_config(edge, with_sessions(cfg, lease="1s"))
    status, out = reload_via_admin(edge)
    assert status == 200 and out["reloaded"] and out["needs_restart"] == [], out
    wait_until(lambda: play("second").status == 200, timeout=10, what="the old session lapsing under the new lease")

    # The store kind cannot change in a running process: reported, and the memory store stays.
    write_config(edge, with_sessions(cfg, lease="1s", store="redis", redis={"address": "127.0.0.1:1"}))
    status, out = reload_via_admin(edge)
    assert status == 200 and out["needs_restart"] == ["access.sessions.store"], out
    assert "session_store_down" not in edge.healthz()[1]
    assert play("second").status == 200


def test_a_reload_takes_a_new_redis_password(tmp_path, tiers):
    redis = RedisServer(tmp_path / "redis").start()
    try:
        assert redis_command(redis.port, "CONFIG", "SET", "requirepass", "right-pass").startswith(b"+OK")
        redis_sessions = {"store": "redis", "redis": {"address": redis.address, "password": "wrong-pass",
                                                      "command_timeout": "500ms", "when_down": "fail-closed"}}
        edge, cfg, play = single_edge(tmp_path, tiers, redis_sessions)

        def health(field):
            return edge.healthz()[1][field]
        wait_until(lambda: health("session_store_auth_refused") == 3, what="AUTH refused on every loop")
        r = play("a")
        assert r.status == 503 and rejection(r) == "session-store-unavailable", r

        fixed = dict(redis_sessions, redis=dict(redis_sessions["redis"], password="right-pass"))
        write_config(edge, with_sessions(cfg, **fixed))
        status, out = reload_via_admin(edge)
        assert status == 200 and out["needs_restart"] == [], out
        wait_until(lambda: health("session_store_down") == 0, what="Redis taking the new password")
        assert health("session_store_auth_refused") == 0
        assert play("a").status == 200
        # Admitted by Redis itself (the limit is kept there): a second sid is refused.
        r = play("b")
        assert r.status == 403 and rejection(r) == "stream-limit-reached", r
    finally:
        redis.kill()
