"""Delivery services (issue 9): three services on one origin -> shield -> edge chain, chosen by
Host (and their certificates by SNI), each with its own origin, TTLs, token keys and admin token;
an unknown Host gets 421 and never reaches a cache; purges scoped by service."""
import json
import os
import signal
import ssl
import subprocess
import urllib.parse

import pytest

from access_support import Keys, access_section, rejection
from conftest import (ADMIN_TOKEN, Tier, client_tls_context, edge_config, free_port, http_request, make_cert,
                      metric_sum, origin_config, program_path, shield_config, to_yaml, wait_until)

SAME = "/vod/same/clip.bin"


def origin_roots(directory):
    """Roots for origins "a" and "b", each with its own body at SAME; returns (roots, bodies)."""
    roots, bodies = {}, {}
    for name in ("a", "b"):
        r = directory / f"origin-{name}"
        (r / "same").mkdir(parents=True)
        bodies[name] = f"object of origin {name}\n".encode() * 100
        (r / "same" / "clip.bin").write_bytes(bodies[name])
        roots[name] = r
    return roots, bodies


class Fleet:
    """origins A and B; a shield whose services "live" and "pub" go to A, "vod" to B; an edge
    with the same three services: live and vod with their own token keys and certificates, pub
    open."""

    def __init__(self, root, tiers):
        roots, self.bodies = origin_roots(root)
        self.origin_a = tiers("origin", origin_config(roots["a"]), name="origin-a").start()
        self.origin_b = tiers("origin", origin_config(roots["b"]), name="origin-b").start()

        def upstream(origin):
            return {"policy": "failover", "servers": [{"address": f"127.0.0.1:{origin.port()}"}]}

        shield_services = [
            {"name": "live", "hosts": ["live.test"], "upstream": upstream(self.origin_a)},
            {"name": "vod", "hosts": ["vod.test", "*.vod.test"], "upstream": upstream(self.origin_b)},
            {"name": "pub", "hosts": ["pub.test"], "upstream": upstream(self.origin_a)},
        ]
        shield_cfg = shield_config([self.origin_a.port()], extra={"services": shield_services})
        del shield_cfg["upstream"]  # every service brings its own
        self.shield = tiers("shield", shield_cfg, name="shield").start()

        self.keys_live = Keys(root / "keys-live")
        self.keys_vod = Keys(root / "keys-vod")
        self.certs = {n: make_cert(root / "certs", f"{n}.test") for n in ("live", "vod")}
        edge_services = [
            {"name": "live", "hosts": ["live.test"], "access": access_section(self.keys_live),
             "cache": {"default_ttls": [{"match": "*.bin", "ttl": "1h"}]},
             "tls": {"certificates": [{"cert": str(self.certs["live"][0]), "key": str(self.certs["live"][1])}]},
             "admin_token": "live-secret"},
            {"name": "vod", "hosts": ["vod.test", "*.vod.test"], "access": access_section(self.keys_vod),
             "tls": {"certificates": [{"cert": str(self.certs["vod"][0]), "key": str(self.certs["vod"][1])}]},
             "admin_token": "vod-secret"},
            {"name": "pub", "hosts": ["pub.test"]},
        ]
        edge_cfg = edge_config([self.shield.port()], extra={"services": edge_services})
        edge_cfg["listen"].insert(0, {"address": f"127.0.0.1:{free_port()}", "tls": True})
        self.edge = tiers("edge", edge_cfg, name="edge").start()

    def token(self, service, **claims):
        keys = self.keys_live if service == "live" else self.keys_vod
        return keys.sign(aud="cdn", **claims)

    def get(self, host, path, token=None, **kw):
        if token:
            path += ("&" if "?" in path else "?") + "token=" + token
        return http_request(self.edge.port(), path, host=host, **kw)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    made = []

    def tiers(kind, config, name):
        t = Tier(kind, tmp_path_factory.mktemp(name), config, name=name)
        made.append(t)
        return t

    yield Fleet(tmp_path_factory.mktemp("services"), tiers)
    for t in reversed(made):
        t.kill()


def test_same_path_on_two_hosts_is_two_objects_from_two_origins(fleet):
    live_tok, vod_tok = fleet.token("live"), fleet.token("vod")
    live = fleet.get("live.test", SAME, live_tok)
    vod = fleet.get("VOD.test:443", SAME, vod_tok)  # case and port do not matter
    assert (live.status, vod.status) == (200, 200), (live, vod)
    assert live.body == fleet.bodies["a"]
    assert vod.body == fleet.bodies["b"]
    assert live.header("X-Cache") == "MISS" and vod.header("X-Cache") == "MISS"
    # Each is stored under its own service: both hit now, each with its own body.
    again_live = fleet.get("live.test", SAME, live_tok)
    again_vod = fleet.get("vod.test", SAME, vod_tok)
    assert again_live.header("X-Cache") == "HIT" and again_live.body == fleet.bodies["a"]
    assert again_vod.header("X-Cache") == "HIT" and again_vod.body == fleet.bodies["b"]
    # A host under the wildcard is the same service (its origin, its keys); the host is still
    # part of the key, so it is an object of its own.
    wild = fleet.get("x.vod.test", SAME, vod_tok)
    assert wild.status == 200 and wild.body == fleet.bodies["b"]
    m = fleet.edge.metrics()
    assert metric_sum(m, "cdn_cache_lookups_total", result="hit", service="live") >= 1
    assert metric_sum(m, "cdn_cache_lookups_total", result="hit", service="vod") >= 1
    assert metric_sum(m, "cdn_requests_total", service="live", status="200") >= 2
    sm = fleet.shield.metrics()
    assert metric_sum(sm, "cdn_upstream_requests_total", service="live") >= 1
    assert metric_sum(sm, "cdn_upstream_requests_total", service="vod") >= 1


def test_a_token_of_one_service_is_refused_on_another(fleet):
    before = fleet.edge.metric("cdn_token_rejections_total", service="vod")
    r = fleet.get("vod.test", SAME, fleet.token("live"))
    assert r.status in (401, 403), r
    assert rejection(r)
    assert fleet.edge.metric("cdn_token_rejections_total", service="vod") == before + 1
    # The open service asks for no token at all; the gated ones do.
    assert fleet.get("pub.test", SAME).status == 200
    assert fleet.get("live.test", SAME).status in (401, 403)


def test_stream_limits_count_per_service(fleet):
    """Two content owners may both have a viewer "sub-1": one screen each (climit 1, block new)
    on their own service, not one between them."""
    claims = dict(sub="sub-1", climit=1, cbeh="BLOCK_NEW")
    live_1 = fleet.token("live", sid="live-sid", **claims)
    vod_1 = fleet.token("vod", sid="vod-sid", **claims)
    assert fleet.get("live.test", SAME, live_1).status == 200
    assert fleet.get("vod.test", SAME, vod_1).status == 200
    # Within one service the limit holds: a second sid of live's sub-1 is refused.
    r = fleet.get("live.test", SAME, fleet.token("live", sid="live-sid-2", **claims))
    assert r.status == 403 and rejection(r) == "stream-limit-reached", r
    # The session admin names a service's viewers with service=.
    listed = http_request(fleet.edge.admin_port, "/admin/sessions?service=vod&sub=sub-1",
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert listed.status == 200
    assert [s["sid"] for s in json.loads(listed.body)["sessions"]] == ["vod-sid"]


def test_unknown_host_is_misdirected_and_never_cached(fleet):
    lookups = fleet.edge.metric("cdn_cache_lookups_total")
    misdirected = fleet.edge.metric("cdn_requests_misdirected_total")
    shield_requests = fleet.shield.metric("cdn_requests_total")
    for host in ("other.test", "vod.test.evil", "vod.test.", "127.0.0.1"):
        r = fleet.get(host, SAME)
        assert r.status == 421, (host, r)
        assert r.header("X-Error-Reason") == "unknown-host"
    assert fleet.edge.metric("cdn_requests_misdirected_total") == misdirected + 4
    assert fleet.edge.metric("cdn_cache_lookups_total") == lookups
    assert fleet.shield.metric("cdn_requests_total") == shield_requests
    # The shield refuses an unknown host itself too.
    assert http_request(fleet.shield.port(), SAME, host="other.test").status == 421


def test_each_service_certificate_by_sni(fleet):
    for name in ("live", "vod"):
        ctx = client_tls_context()
        r = http_request(fleet.edge.port(tls=True), SAME, host="pub.test", tls_context=ctx,
                         server_hostname=f"{name}.test")
        assert r.status == 200
        with ssl.create_connection(("127.0.0.1", fleet.edge.port(tls=True))) as sock:
            with ctx.wrap_socket(sock, server_hostname=f"{name}.test") as tls:
                der = tls.getpeercert(binary_form=True)
        assert der == ssl.PEM_cert_to_DER_cert(fleet.certs[name][0].read_text())


def test_a_request_without_host_is_routed_by_its_tls_server_name(fleet):
    """HTTP/1.0 may leave Host out: over TLS the SNI picks the service (pub.test is open)."""
    def get_without_host(sni):
        ctx = client_tls_context()
        with ssl.create_connection(("127.0.0.1", fleet.edge.port(tls=True))) as sock:
            with ctx.wrap_socket(sock, server_hostname=sni) as tls:
                tls.sendall(f"GET {SAME} HTTP/1.0\r\n\r\n".encode())
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body

    assert get_without_host("pub.test") == (200, fleet.bodies["a"])
    assert get_without_host("unknown.test")[0] == 421


def test_access_log_names_the_service(fleet):
    fleet.get("pub.test", SAME)
    log = fleet.edge.dir / "edge-access.log"

    def services_logged():
        lines = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
        return {l.get("service") for l in lines}

    wait_until(lambda: {"pub", "live", "vod"} <= services_logged(), what="service in the access log")


def purge(tier, url, token):
    return tier.admin_post("/admin/purge?url=" + urllib.parse.quote(url, safe=""), token=token)


def test_purge_scoped_by_service(fleet):
    live_tok, vod_tok = fleet.token("live"), fleet.token("vod")
    path = SAME + "?purge=1"
    assert fleet.get("live.test", path, live_tok).status == 200
    assert fleet.get("vod.test", path, vod_tok).status == 200
    assert fleet.get("live.test", path, live_tok).header("X-Cache") == "HIT"
    assert fleet.get("vod.test", path, vod_tok).header("X-Cache") == "HIT"
    # vod's token may not purge live's object...
    r = purge(fleet.edge, "http://live.test" + path, "vod-secret")
    assert r.status == 400 and r.header("X-Error-Reason") == "purge-out-of-scope", r
    assert fleet.get("live.test", path, live_tok).header("X-Cache") == "HIT"
    # ...but may purge its own, and that leaves live's copy of the same path alone.
    r = purge(fleet.edge, "http://vod.test" + path, "vod-secret")
    assert r.status == 200, r
    assert json.loads(r.body)["purged"] >= 1
    assert fleet.get("vod.test", path, vod_tok).header("X-Cache") != "HIT"
    assert fleet.get("live.test", path, live_tok).header("X-Cache") == "HIT"
    # A token no service has is refused; the operator's purges any service.
    assert purge(fleet.edge, "http://live.test" + path, "nobody").status == 401
    r = purge(fleet.edge, "http://live.test" + path, ADMIN_TOKEN)
    assert r.status == 200 and json.loads(r.body)["purged"] >= 1
    assert fleet.get("live.test", path, live_tok).header("X-Cache") != "HIT"
    # A host no service takes names nothing to purge.
    r = purge(fleet.edge, "http://other.test" + path, ADMIN_TOKEN)
    assert r.status == 400 and r.header("X-Error-Reason") == "purge-unknown-host"


def check_config(tmp_path, cfg):
    p = tmp_path / "bad.yaml"
    p.write_text(to_yaml(cfg) + "\n")
    return subprocess.run([str(program_path(cfg["tier"])), "--config", str(p), "--check-config"],
                          capture_output=True, text=True, timeout=30), p


def test_check_config_names_file_and_line_of_service_problems(tmp_path):
    cfg = edge_config([free_port()], extra={
        "services": [
            {"name": "a", "hosts": ["a.test"]},
            {"name": "b", "hosts": ["A.test"]},
        ],
        "default_service": "c",
    })
    r, path = check_config(tmp_path, cfg)
    assert r.returncode == 2, r
    text = path.read_text().splitlines()
    dup_line = next(i for i, l in enumerate(text, 1) if "A.test" in l)
    default_line = next(i for i, l in enumerate(text, 1) if l.startswith("default_service"))
    assert f"{path}:{dup_line}: services[1].hosts: duplicate host \"a.test\"" in r.stderr, r.stderr
    assert f"{path}:{default_line}: default_service: no service is named \"c\"" in r.stderr, r.stderr


# ---- reload without a restart ---------------------------------------------------------------

def edge_services_config(fleet, services):
    cfg = dict(fleet.edge.config)
    cfg["services"] = services
    return cfg


def write_config(tier, cfg):
    tier.config = cfg
    tier.config_path.write_text(to_yaml(cfg) + "\n")


def reload_via_admin(tier):
    r = tier.admin_post("/admin/reload")
    return r.status, json.loads(r.body)


class Streamer:
    """Reads a large object slowly on one connection, in a thread, so that it is in flight across
    reloads; records its bytes and any error."""

    def __init__(self, port, host, path, rate=64 * 1024):
        import threading
        self.body = b""
        self.error = None
        self.status = None
        self.started = threading.Event()
        self._t = threading.Thread(target=self._run, args=(port, host, path, rate), daemon=True)
        self._t.start()

    def _run(self, port, host, path, rate):
        import http.client
        import time as _time
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Host": host})
            r = conn.getresponse()
            self.status = r.status
            while True:
                chunk = r.read(16 * 1024)
                if not chunk:
                    break
                self.body += chunk
                self.started.set()
                _time.sleep(16 * 1024 / rate)
            conn.close()
        except Exception as e:  # noqa: BLE001 - any failure is the test's finding
            self.error = e
        finally:
            self.started.set()

    def running(self):
        return self._t.is_alive()

    def join(self, timeout=60):
        self._t.join(timeout)
        assert not self._t.is_alive(), "the stream did not finish"


def test_reload_adds_changes_and_removes_services_while_a_stream_goes_on(tmp_path, tiers):
    """One edge straight on two origins: "pub" streams a large object across three reloads that
    add "extra", change it (new origin, new token key) and remove it; a broken config is refused
    with file:line reasons and the running services keep serving."""
    roots, bodies = origin_roots(tmp_path)
    big = os.urandom(2 * 1024 * 1024)
    (roots["a"] / "same" / "big.bin").write_bytes(big)
    origin_a = tiers("origin", origin_config(roots["a"]), name="origin-a").start()
    origin_b = tiers("origin", origin_config(roots["b"]), name="origin-b").start()
    keys_1, keys_2 = Keys(tmp_path / "keys-1"), Keys(tmp_path / "keys-2")

    def up(origin):
        return {"servers": [{"address": f"127.0.0.1:{origin.port()}"}]}

    pub = {"name": "pub", "hosts": ["pub.test"], "upstream": up(origin_a)}
    cfg = edge_config([origin_a.port()], extra={"services": [pub]})
    del cfg["upstream"]
    edge = tiers("edge", cfg, name="edge").start()
    cfg = dict(edge.config)  # with the admin listener, log and node name the fixture added
    port = edge.port()

    def get(host, path=SAME, token=None):
        if token:
            path += ("&" if "?" in path else "?") + "token=" + token
        return http_request(port, path, host=host)

    assert get("extra.test").status == 421
    stream = Streamer(port, "pub.test", "/vod/same/big.bin", rate=1024 * 1024)
    assert stream.started.wait(20)

    # Added (SIGHUP): extra.test -> origin a, tokens of keys 1.
    extra = {"name": "extra", "hosts": ["extra.test"], "upstream": up(origin_a),
             "access": access_section(keys_1)}
    write_config(edge, dict(cfg, services=[pub, extra]))
    edge.signal(signal.SIGHUP)
    tok_1, tok_2 = keys_1.sign(aud="cdn"), keys_2.sign(aud="cdn")
    wait_until(lambda: get("extra.test", token=tok_1).status == 200, what="the added service")
    assert get("extra.test", token=tok_1).body == bodies["a"]
    assert get("extra.test", token=tok_2).status in (401, 403)

    # Changed (admin call): origin b and keys 2; the old key is refused now.
    extra_2 = dict(extra, upstream=up(origin_b), access=access_section(keys_2))
    write_config(edge, dict(cfg, services=[pub, extra_2]))
    status, out = reload_via_admin(edge)
    assert status == 200 and out["reloaded"] and out["services"] == ["pub", "extra"], out
    r = get("extra.test", "/vod/same/clip.bin?v=2", token=tok_2)
    assert r.status == 200 and r.body == bodies["b"]
    assert get("extra.test", token=tok_1).status in (401, 403)

    # A broken config is refused with its reasons; everything keeps serving.
    broken = dict(cfg, services=[pub, dict(extra_2, hosts=["pub.test"])])
    write_config(edge, broken)
    status, out = reload_via_admin(edge)
    assert status == 400 and not out["reloaded"], out
    line = [i for i, l in enumerate(edge.config_path.read_text().splitlines(), 1) if "pub.test" in l][-1]
    assert any(f"{edge.config_path}:{line}: services[1].hosts: duplicate host" in e for e in out["errors"]), out
    assert get("extra.test", "/vod/same/clip.bin?v=2", token=tok_2).body == bodies["b"]
    # A listener change is reported as needing a restart and kept.
    moved = dict(cfg, services=[pub, extra_2], listen=[{"address": f"127.0.0.1:{free_port()}"}])
    write_config(edge, moved)
    status, out = reload_via_admin(edge)
    assert status == 200 and out["needs_restart"] == ["listen"], out
    assert get("pub.test").status == 200  # still on the old port

    # Removed (SIGHUP), while the stream that began before the first reload still runs.
    assert stream.running()
    write_config(edge, dict(cfg, services=[pub]))
    edge.signal(signal.SIGHUP)
    wait_until(lambda: get("extra.test", token=tok_2).status == 421, what="the removed service gone")

    stream.join()
    assert stream.error is None and stream.status == 200
    assert stream.body == big
    # The tables the reloads replaced are freed once nothing uses them.
    wait_until(lambda: edge.metric("cdn_service_tables_retired") == 0, what="replaced tables freed")


def test_default_service_and_key_purge_scoped_to_a_service(tmp_path, tiers):
    """A shield with two services and default_service; the bundled origin tags VOD files with the
    surrogate key vod/<folder>, so one key names both services' objects."""
    roots, bodies = origin_roots(tmp_path)
    origin_a = tiers("origin", origin_config(roots["a"]), name="origin-a").start()
    origin_b = tiers("origin", origin_config(roots["b"]), name="origin-b").start()

    def up(origin):
        return {"policy": "failover", "servers": [{"address": f"127.0.0.1:{origin.port()}"}]}

    cfg = shield_config([origin_a.port()], extra={
        "services": [{"name": "live", "hosts": ["live.test"], "upstream": up(origin_a)},
                     {"name": "vod", "hosts": ["vod.test"], "upstream": up(origin_b), "admin_token": "vod-secret"}],
        "default_service": "vod"})
    shield = tiers("shield", cfg, name="shield").start()

    def get(host):
        return http_request(shield.port(), SAME, host=host)

    assert get("unlisted.test").body == bodies["b"]  # the default service
    for host in ("live.test", "vod.test"):
        assert get(host).status == 200
        assert get(host).header("X-Cache") == "HIT"

    def key_purge(token, query=""):
        return shield.admin_post("/admin/purge?key=vod/same" + query, token=token)

    r = key_purge(ADMIN_TOKEN, "&service=live")
    assert r.status == 200 and json.loads(r.body)["purged"] >= 1, r
    assert get("live.test").header("X-Cache") == "MISS"
    assert get("vod.test").header("X-Cache") == "HIT"
    # vod's own token: its objects only, whatever service= says.
    assert get("live.test").header("X-Cache") == "HIT"
    r = key_purge("vod-secret", "&service=live")
    assert r.status == 200 and json.loads(r.body)["purged"] >= 1, r
    assert get("vod.test").header("X-Cache") == "MISS"
    assert get("live.test").header("X-Cache") == "HIT"
    assert key_purge(ADMIN_TOKEN, "&service=nope").header("X-Error-Reason") == "purge-unknown-service"
