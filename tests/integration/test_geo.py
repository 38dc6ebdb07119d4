"""cdn-geo steering over real processes: two sites, one real cdn-edge each on 127.0.0.2 / 127.0.0.3
behind the session stack's shield. /steer decisions (coverage zones, MaxMind, default), HTTP 302
followed by curl over HTTPS with the viewer token, health (kill, drain, load over the share) and
reloads that keep the old data when the new file is broken."""
import signal
import subprocess
import time

import pytest

from access_support import Keys
from conftest import program_path, wait_until
from geo_support import HOST, ZONE, GeoEnv


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("geo-keys"))


@pytest.fixture
def env(tiers, tmp_path, stack, keys):
    return GeoEnv(tiers, tmp_path, stack.shield.port(), keys)


def test_steer_explains_where_the_viewer_is_and_which_edge_serves(env):
    d = env.steer("81.1.2.3")  # coverage: 81.1/16 is fra (longer than 81/8's ams)
    assert d["located"] == {"by": "coverage", "site": "fra", "scope": 16}
    assert (d["site"], d["edges"], d["spilled"]) == ("fra", ["fra-1"], False)
    d = env.steer("81.2.0.1")
    assert d["located"] == {"by": "coverage", "site": "ams", "scope": 8}
    assert d["edges"] == ["ams-1"]
    d = env.steer("198.51.100.7")  # MaxMind: Frankfurt, 20 km
    assert d["located"]["by"] == "maxmind" and d["located"]["scope"] == 24
    assert d["edges"] == ["fra-1"]
    d = env.steer("2001:db8:1::5")  # MaxMind: Amsterdam over IPv6
    assert (d["located"]["by"], d["located"]["scope"], d["edges"]) == ("maxmind", 48, ["ams-1"])
    d = env.steer("192.0.2.1")  # MaxMind knows only the country: default site, not the country's centre
    assert d["located"] == {"by": "default", "site": "ams", "maxmind_miss": "country-only", "scope": 0}
    d = env.steer("203.0.113.200")  # Paris at 800 km accuracy: over the 200 km limit
    assert d["located"]["maxmind_miss"] == "accuracy-radius-over-limit"
    d = env.steer("81.1.2.3", path="/vod/a.ts?token=x")
    assert d["key"] == "path"
    e = env.edges["fra-1"]
    assert d["redirect"] == f"https://fra-1.{ZONE}:{e.port(tls=True)}/vod/a.ts?token=x"
    assert env.geo.admin_get("/steer?ip=not-an-ip").status == 400
    st = env.state()
    assert st["fra-1"]["health"] == "up" and st["fra-1"]["reason"] == "ok"


def test_http_302_is_followed_to_the_edge_over_https_with_the_token(env, content, keys, tmp_path):
    path, data = content.new_file(5000, subdir="geo")
    token = keys.sign(aud="cdn", path="/vod/")
    status, location = env.redirect(f"{path}?token={token}")
    fra = env.edges["fra-1"]
    assert status == 302
    assert location == f"https://fra-1.{ZONE}:{fra.port(tls=True)}{path}?token={token}"
    out = tmp_path / "body"
    code, url, redirects = env.curl_follow(f"{path}?token={token}", out)
    assert (code, redirects) == (200, 1)
    assert url.startswith(f"https://fra-1.{ZONE}:")
    assert out.read_bytes() == data
    code, _, _ = env.curl_follow(path, out)  # the edge, not cdn-geo, enforces the token
    assert code == 401
    assert env.geo.metric("cdn_geo_decisions_total", site="fra", located="coverage", address="viewer") >= 2
    from conftest import http_request
    r = http_request(env.geo.port(), "/x", host="other.example")
    assert r.status == 421 and r.header("X-Error-Reason") == "unknown-host"


def test_killed_edge_leaves_within_k_polls_and_returns_after_m(env):
    ip = "81.1.0.9"  # fra's viewer
    fra = env.edges["fra-1"]
    fra.kill()
    t_down = env.wait_steered(ip, "ams-1", timeout=10)
    # connect refused fails each poll at once: K polls plus one interval of phase, plus scheduling slack
    assert t_down < (env.down_after + 1) * env.interval_s + 1.5, t_down
    st = env.state()["fra-1"]
    assert st["health"] == "down" and st["reason"].startswith("down: ")
    d = env.steer(ip)
    assert d["spilled"] and d["reasons"] == ["site fra: no available edge"]
    fra.start()
    t_up = env.wait_steered(ip, "fra-1", timeout=10)
    assert t_up < (env.up_after + 1) * env.interval_s + 3.0, t_up  # includes the edge's own start
    assert env.geo.metric("cdn_geo_health_transitions_total", edge="fra-1", to="down") == 1
    assert env.geo.metric("cdn_geo_health_transitions_total", edge="fra-1", to="up") == 2  # first poll, then back


def test_drained_edge_gets_no_new_viewers(env):
    from conftest import RawConn
    fra = env.edges["fra-1"]
    # A half-sent request keeps the draining edge alive, so cdn-geo sees "draining", not a dead edge.
    with RawConn(fra.port(), host=fra.address) as busy:
        busy.send(b"GET /vod/x HTTP/1.1\r\nHost: a.test\r\n")
        # The drain arrives on the admin thread: first make sure the edge's one worker has read the
        # half-sent head (an answer on a later connection means it went round its loop since), or
        # it would count that connection idle, close it and exit.
        with RawConn(fra.port(), host=fra.address) as probe:
            probe.send(b"GET /vod/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            assert probe.read_response().status == 401
        assert fra.admin_post("/admin/drain").status == 202
        env.wait_steered("81.1.0.9", "ams-1", timeout=10)
        st = env.state()["fra-1"]
        assert (st["health"], st["available"], st["reason"]) == ("up", False, "draining")
        status, location = env.redirect("/vod/y.ts")
        assert status == 302 and location.startswith(f"https://ams-1.{ZONE}:")


def test_load_over_the_share_spills_to_the_next_site(tiers, tmp_path, stack, keys):
    from conftest import RawConn
    env = GeoEnv(tiers, tmp_path, stack.shield.port(), keys, capacity_connections=4, load_share=0.5)
    fra = env.edges["fra-1"]
    before = env.geo.metric("cdn_geo_spillovers_total", **{"from": "fra"})
    conns = [RawConn(fra.port(), host=fra.address) for _ in range(3)]  # 3 > 0.5 * 4
    try:
        env.wait_steered("81.1.0.9", "ams-1", timeout=10)
        st = env.state()["fra-1"]
        assert (st["available"], st["reason"], st["connections"]) == (False, "connections-over-share", 3)
        status, location = env.redirect("/vod/z.ts")  # counted: the viewer is fra's, served by ams
        assert status == 302 and location.startswith(f"https://ams-1.{ZONE}:")
        assert env.geo.metric("cdn_geo_spillovers_total", **{"from": "fra"}) == before + 1
    finally:
        for c in conns:
            c.close()
    env.wait_steered("81.1.0.9", "fra-1", timeout=10)


def test_dns_answers_follow_ecs_coverage_and_edge_health(tiers, tmp_path, stack, keys):
    env = GeoEnv(tiers, tmp_path, stack.shield.port(), keys, dns=True)
    assert env.dig(HOST, subnet="81.1.7.0/24") == (["127.0.0.2"], 16)  # fra by the 81.1/16 zone
    assert env.dig(HOST, subnet="81.2.7.0/24") == (["127.0.0.3"], 8)   # ams by 81/8
    assert env.dig(HOST, subnet="198.51.100.0/24") == (["127.0.0.2"], 24)  # MaxMind: Frankfurt
    assert env.dig(HOST) == (["127.0.0.2"], None)  # the resolver 127.0.0.1 is fra's
    assert env.dig(f"ams-1.{ZONE}") == (["127.0.0.3"], None)
    assert env.dig(HOST, "AAAA")[0] == []  # NODATA: no edge has IPv6
    env.edges["fra-1"].kill()
    wait_until(lambda: env.dig(HOST, subnet="81.1.7.0/24")[0] == ["127.0.0.3"], timeout=10, what="spill in DNS")
    assert env.geo.metric("cdn_geo_decisions_total", located="coverage", address="ecs") >= 3
    assert env.geo.metric("cdn_geo_decisions_total", located="maxmind", address="ecs", site="fra") == 1


def reload_errors(env, trigger):
    return [line for line in env.geo.log_tail(200).splitlines()
            if "geo reload failed" in line and f'"trigger":"{trigger}"' in line]


def test_broken_coverage_file_on_sighup_keeps_the_old_zones(env):
    env.coverage.write_text("81.0.0.0/8 nowhere\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: reload_errors(env, "sighup"), timeout=10, what="reload error logged")
    assert 'no site named \\"nowhere\\"' in reload_errors(env, "sighup")[0]
    assert env.steer("81.2.0.1")["located"] == {"by": "coverage", "site": "ams", "scope": 8}
    env.coverage.write_text("81.0.0.0/8 fra\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: env.steer("81.2.0.1")["located"].get("site") == "fra", timeout=10, what="new zones")


def test_coverage_file_change_is_picked_up_without_a_signal(env):
    env.coverage.write_text("81.0.0.0/8 fra\n81.2.9.0/24 ams\n")
    wait_until(lambda: env.steer("81.2.0.1")["located"].get("site") == "fra", timeout=10, what="changed zones")
    assert env.steer("81.2.9.1")["located"] == {"by": "coverage", "site": "ams", "scope": 24}
    env.coverage.write_text("81.0.0.0/8 fra\n81.2.9.1/24 ams\n")  # host bits set: refused
    wait_until(lambda: reload_errors(env, "file-change"), timeout=10, what="reload error logged")
    assert "address bits past the prefix length" in reload_errors(env, "file-change")[0]
    assert env.steer("81.2.9.1")["located"] == {"by": "coverage", "site": "ams", "scope": 24}


def test_sighup_rereads_sites_and_edges_keeping_known_health(env):
    from conftest import to_yaml
    assert env.steer("192.0.2.1")["site"] == "ams"  # unlocated: the default site
    cfg = env.geo.config
    cfg["geo"]["default_site"] = "fra"
    cfg["geo"]["sites"].append({"name": "lon", "lat": 51.51, "lon": -0.13})
    cfg["geo"]["edges"][1]["site"] = "lon"  # ams-1 moves to a new site
    env.geo.config_path.write_text(to_yaml(cfg) + "\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: '"msg":"geo reloaded"' in env.geo.log_tail(50), timeout=10, what="reload logged")
    # No gap: the edges that stayed are still up the moment the new sites are in use.
    assert env.steer("192.0.2.1")["edges"] == ["fra-1"]
    d = env.steer("81.2.0.1")  # the coverage zone names ams, which has no edge now
    assert (d["site"], d["edges"], d["spilled"]) == ("lon", ["ams-1"], True)
    assert d["reasons"] == ["site ams: no edges"]
    cfg["geo"]["sites"][0]["lat"] = 123  # broken: refused, the running config stays
    env.geo.config_path.write_text(to_yaml(cfg) + "\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: reload_errors(env, "sighup"), timeout=10, what="reload error logged")
    assert "geo.sites[0].lat" in reload_errors(env, "sighup")[0]
    assert env.steer("81.2.0.1")["site"] == "lon"


def test_check_config_names_file_and_line(tmp_path):
    bad = tmp_path / "geo.yaml"
    bad.write_text("tier: geo\nlisten: [{address: 127.0.0.1:1}]\ngeo:\n  zone: {name: cdn.test, ns: [{name: ns1.other.example}]}\n"
                   "  delivery_hosts: [{name: video.elsewhere.example}]\n  sites: [{name: fra, lat: 95, lon: 8}]\n"
                   "  edges: [{name: e1, site: ams, ipv4: [127.0.0.2], admin: 'http://127.0.0.1:1'}]\n")
    r = subprocess.run([str(program_path("geo")), "--config", str(bad), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert f"{bad}:5: geo.delivery_hosts[0].name" in r.stderr, r.stderr
    assert f"{bad}:6: geo.sites[0].lat" in r.stderr, r.stderr
    assert f"{bad}:7: geo.edges[0].site: no site named \"ams\"" in r.stderr, r.stderr
