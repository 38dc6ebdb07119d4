"""The fleet's own admin clients over TLS (issue 9): cdn-geo polling an edge whose admin listener
wants a client certificate (healthy with the right one, down with a tls reason with a wrong one),
cdnctl over https:// (and refused, clearly, without a certificate), an edge forwarding a purge to
its shield's admin listener over mTLS, and their TLS files checked at --check-config."""
import json
import shutil
import signal
import subprocess

import pytest

from access_support import cdnctl, cdnctl_path
from conftest import (ADMIN_TOKEN, Tier, edge_config, free_port, origin_config, program_path, shield_config,
                      to_yaml, wait_until)
from test_tier_tls import AdminTlsTier, Pki, failures

# Client TLS handshakes of three programs: part of the ASan+UBSan subset.
pytestmark = pytest.mark.sanitize


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("admin-pki"))
    ca, rogue_ca = p.ca("admin-ca"), p.ca("rogue-ca")
    return {
        "ca": ca[0],
        "server": p.leaf("admin", ca, "IP:127.0.0.1"),
        "client": p.leaf("operator", ca, "DNS:operator.test"),
        "rogue_client": p.leaf("rogue-operator", rogue_ca, "DNS:operator.test"),
    }


def admin_tls(pki):
    cert, key = pki["server"]
    return {"listen": f"127.0.0.1:{free_port()}", "token": ADMIN_TOKEN,
            "tls": {"cert": str(cert), "key": str(key), "client_ca": str(pki["ca"])}}


def client_files(pki, client="client"):
    files = {"ca": str(pki["ca"])}
    if client:
        files["cert"], files["key"] = (str(x) for x in pki[client])
    return files


class Fleet:
    def __init__(self, origin, shield, edge):
        self.origin, self.shield, self.edge = origin, shield, edge


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, content, pki):
    """origin -> shield -> edge (plain viewer links); the shield's and the edge's admin listeners
    speak TLS and want the admin CA's client certificate; the edge forwards purges to the shield's
    admin listener over mTLS."""
    d = tmp_path_factory.mktemp("admin-tls")
    origin = Tier("origin", d, origin_config(content.root)).start()
    shield = AdminTlsTier("shield", d, shield_config([origin.port()], extra={"admin": admin_tls(pki)}), pki).start()
    purge = {"upstream_admins": [f"https://127.0.0.1:{shield.admin_port}"], "admin_client": client_files(pki)}
    edge = AdminTlsTier("edge", d, edge_config([shield.port()], extra={"admin": admin_tls(pki), "purge": purge}),
                        pki).start()
    yield Fleet(origin, shield, edge)
    for t in (edge, shield, origin):
        t.kill()


def geo_config(edge, admin_client, interval="100ms"):
    return {
        "tier": "geo",
        "workers": 1,
        "listen": [{"address": f"127.0.0.1:{free_port()}"}],
        "geo": {
            "zone": {"name": "cdn.test", "ns": [{"name": "ns1.cdn.test", "address": "127.0.0.1"}]},
            "delivery_hosts": [{"name": "video.cdn.test"}],
            "sites": [{"name": "fra", "lat": 50.11, "lon": 8.68}],
            "edges": [{"name": "fra-1", "site": "fra", "ipv4": ["127.0.0.1"],
                       "admin": f"https://127.0.0.1:{edge.admin_port}"}],
            "admin_client": admin_client,
            "health": {"interval": interval, "timeout": "1s", "down_after": 1, "up_after": 1},
        },
    }


def edge_state(geo):
    r = geo.admin_get("/state")
    assert r.status == 200, r
    state = json.loads(r.body)
    return next(e for site in state["sites"] for e in site["edges"] if e["name"] == "fra-1")


def test_geo_polls_an_admin_over_mtls_and_a_wrong_certificate_marks_the_edge_down_until_sighup(tiers, fleet, pki):
    untrusted_before = failures(fleet.edge, "client-certificate-untrusted")
    good = tiers("geo", geo_config(fleet.edge, client_files(pki)), name="geo-good").start()
    rogue = tiers("geo", geo_config(fleet.edge, client_files(pki, "rogue_client")), name="geo-rogue").start()

    up = wait_until(lambda: (e := edge_state(good))["health"] == "up" and e, what="geo to see the edge up")
    assert up["available"] and up["reason"] == "ok", up

    down = wait_until(lambda: (e := edge_state(rogue))["health"] == "down" and e,
                      what="geo with a rogue certificate to see the edge down")
    assert not down["available"]
    assert "tls-handshake-failed" in down["reason"] and "upstream-rejected-certificate" in down["reason"], down
    assert rogue.metric("cdn_tls_handshake_failures_total", reason="upstream-rejected-certificate") >= 1
    assert rogue.metric("cdn_geo_poll_failures_total", target="fra-1", reason="tls-handshake-failed") >= 1
    assert good.metric("cdn_tls_handshake_failures_total") == 0
    assert good.metric("cdn_geo_poll_failures_total") == 0
    # The edge refused the rogue's certificate, not a plain-text poll.
    assert failures(fleet.edge, "client-certificate-untrusted") > untrusted_before

    # SIGHUP with the right files in the config: the next generation of polls shows them.
    rogue.config["geo"]["admin_client"] = client_files(pki)
    rogue.config_path.write_text(to_yaml(rogue.config) + "\n")
    rogue.signal(signal.SIGHUP)
    wait_until(lambda: edge_state(rogue)["health"] == "up", what="geo to see the edge up after SIGHUP")


def ctl(pki, edge, *args, client="client", **kw):
    opts = ["--admin", f"https://127.0.0.1:{edge.admin_port}", "--token", ADMIN_TOKEN, "--cacert", str(pki["ca"])]
    if client:
        opts += ["--cert", str(pki[client][0]), "--client-key", str(pki[client][1])]
    return cdnctl(*args, *opts, **kw)


def test_cdnctl_purges_over_mtls_through_the_edge_and_its_shield(fleet, content, pki):
    path, _ = content.new_file(2048)
    assert fleet.edge.get(path).header("X-Cache") == "MISS"
    assert fleet.edge.get(path).header("X-Cache") == "HIT"
    assert fleet.shield.get(path).header("X-Cache") == "HIT"

    r = ctl(pki, fleet.edge, "purge", f"http://127.0.0.1{path}")
    # The edge's answer, with the shield's result got over mTLS from the shield's admin listener.
    assert "edge: purged 1" in r.stdout, r.stdout
    assert f"upstream 127.0.0.1:{fleet.shield.admin_port}: purged 1" in r.stdout, r.stdout
    assert fleet.shield.get(path).header("X-Cache") == "MISS"
    assert fleet.edge.get(path).header("X-Cache") == "MISS"
    assert fleet.edge.metric("cdn_purge_forwards_total", result="ok") >= 1

    health = ctl(pki, fleet.edge, "health")
    assert json.loads(health.stdout)["status"] == "ok"


def test_cdnctl_takes_its_tls_files_from_the_environment(fleet, pki):
    env = {"CDN_ADMIN": f"https://127.0.0.1:{fleet.edge.admin_port}", "CDN_ADMIN_CACERT": str(pki["ca"]),
           "CDN_ADMIN_CERT": str(pki["client"][0]), "CDN_ADMIN_KEY": str(pki["client"][1]), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([str(cdnctl_path()), "health"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["status"] == "ok"


@pytest.mark.parametrize("client, reason, advice", [
    (None, "upstream-rejected-certificate", "wants one (--cert and --client-key)"),
    ("rogue_client", "upstream-rejected-certificate", "refused our client certificate"),
])
def test_cdnctl_is_refused_without_the_right_client_certificate(fleet, pki, client, reason, advice):
    r = ctl(pki, fleet.edge, "purge", "http://127.0.0.1/vod/anything", client=client, check=False)
    assert r.returncode == 1, r
    assert r.stdout == ""
    assert "TLS handshake failed" in r.stderr and advice in r.stderr and reason in r.stderr, r.stderr


def test_cdnctl_says_so_when_plain_http_meets_a_tls_admin_listener(fleet):
    r = cdnctl("health", "--admin", f"http://127.0.0.1:{fleet.edge.admin_port}", check=False)
    assert r.returncode == 1, r
    assert "admin listener with admin.tls speaks only https://" in r.stderr, r.stderr


def test_cdnctl_refuses_an_admin_certificate_from_another_ca(fleet, pki, tmp_path):
    other = Pki(tmp_path)
    other_ca = other.ca("other-ca")[0]
    r = cdnctl("health", "--admin", f"https://127.0.0.1:{fleet.edge.admin_port}", "--cacert", other_ca,
               "--cert", pki["client"][0], "--client-key", pki["client"][1], check=False)
    assert r.returncode == 1, r
    assert "not signed by a CA we trust (--cacert)" in r.stderr and "upstream-certificate-untrusted" in r.stderr, r


def test_a_purge_forwarded_with_a_wrong_certificate_is_not_confirmed_until_sighup_loads_the_right_one(
        tiers, fleet, pki, tmp_path):
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    shutil.copy(pki["rogue_client"][0], cert)
    shutil.copy(pki["rogue_client"][1], key)
    purge = {"upstream_admins": [f"https://127.0.0.1:{fleet.shield.admin_port}"],
             "admin_client": {"ca": str(pki["ca"]), "cert": str(cert), "key": str(key)}}
    edge = tiers("edge", edge_config([fleet.shield.port()], extra={"purge": purge}), name="rotating-edge").start()
    r = edge.purge_url("http://127.0.0.1/vod/none")
    assert r.status == 502, r
    upstream = json.loads(r.body)["upstreams"][0]
    assert upstream["status"] == 0
    assert upstream["error"] == "tls-handshake-failed (upstream-rejected-certificate)", upstream
    assert edge.metric("cdn_tls_handshake_failures_total", reason="upstream-rejected-certificate") >= 1

    # The operator puts the right certificate in place and reloads: new connections show it.
    shutil.copy(pki["client"][0], cert)
    shutil.copy(pki["client"][1], key)
    edge.signal(signal.SIGHUP)
    r = wait_until(lambda: (a := edge.purge_url("http://127.0.0.1/vod/none")).status == 200 and a,
                   what="the purge to be confirmed after SIGHUP")
    assert json.loads(r.body)["upstreams"][0]["status"] == 200, r


def check_config(kind, tmp_path, cfg):
    t = Tier(kind, tmp_path, cfg)
    return t, subprocess.run([str(program_path(kind)), "--config", str(t.config_path), "--check-config"],
                             capture_output=True, text=True, timeout=30)


def test_admin_client_files_are_checked_at_check_config(tmp_path, pki):
    # A client key that is not the certificate's: readable files, refused when loaded.
    mismatched = {"ca": str(pki["ca"]), "cert": str(pki["client"][0]), "key": str(pki["rogue_client"][1])}
    edge = type("E", (), {"admin_port": 1})
    geo, r = check_config("geo", tmp_path, geo_config(edge, mismatched))
    assert r.returncode == 2, r
    assert any(line.startswith(f"{geo.config_path}:") and "geo.admin_client" in line
               for line in r.stderr.splitlines()), r.stderr

    purge = {"upstream_admins": ["https://127.0.0.1:1", "ftp://127.0.0.1:2"], "admin_client": mismatched}
    t, r = check_config("edge", tmp_path, edge_config([free_port()], extra={"purge": purge}))
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert all(line.startswith(f"{t.config_path}:") for line in lines), r.stderr
    assert any("purge.admin_client" in line for line in lines), r.stderr
    assert any("purge.upstream_admins" in line and "ftp://" in line for line in lines), r.stderr
