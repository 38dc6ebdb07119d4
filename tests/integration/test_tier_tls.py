"""Links between tiers secured (issue 9): edge -> shield -> origin over mutual TLS, refusals of a
wrong client certificate and of an upstream signed by another CA (both counted), the admin
listener over TLS with client certificates, and the session store's Redis behind a password."""
import http.client
import ssl
import subprocess

import pytest

from conftest import ADMIN_TOKEN, Tier, edge_config, free_port, http_request, origin_config, shield_config


# ----------------------------------------------------------------------------------------------
# A throwaway PKI: the tier CA, an unrelated CA, and certificates each signed by one of them.

def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class Pki:
    def __init__(self, directory):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)

    def ca(self, name):
        key, cert = self.dir / f"{name}.key", self.dir / f"{name}.pem"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
        return cert, key

    def leaf(self, name, ca, san):
        """A certificate for `san` (e.g. "IP:127.0.0.1,DNS:shield.test") signed by `ca`."""
        key, csr, cert = self.dir / f"{name}.key", self.dir / f"{name}.csr", self.dir / f"{name}.pem"
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n")
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
                 "-out", str(cert), "-days", "2", "-extfile", str(ext))
        return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("tier-pki"))
    ca, rogue_ca = p.ca("tier-ca"), p.ca("rogue-ca")
    return {
        "ca": ca[0],
        "rogue_ca": rogue_ca[0],
        "server": p.leaf("server", ca, "IP:127.0.0.1,DNS:shield.test"),
        "client": p.leaf("client", ca, "DNS:edge.test"),
        "rogue_client": p.leaf("rogue-client", rogue_ca, "DNS:edge.test"),
    }


def tls_listener(pki):
    """A TLS-only listener demanding client certificates from the tier CA."""
    cert, key = pki["server"]
    return {"listen": [{"address": f"127.0.0.1:{free_port()}", "tls": True}],
            "tls": {"certificates": [{"cert": str(cert), "key": str(key)}], "client_ca": str(pki["ca"])}}


def upstream_tls(pki, ca=None, client="client"):
    t = {"ca": str(ca or pki["ca"])}
    if client:
        t["cert"], t["key"] = (str(x) for x in pki[client])
    return t


class Chain:
    def __init__(self, origin, shield, edge):
        self.origin, self.shield, self.edge = origin, shield, edge


@pytest.fixture(scope="module")
def chain(tmp_path_factory, content, pki):
    """origin <-mTLS- shield <-mTLS- edge; the origin and shield have no plain listener at all."""
    d = tmp_path_factory.mktemp("tier-tls")
    ocfg = origin_config(content.root)
    ocfg.update(tls_listener(pki))
    origin = Tier("origin", d, ocfg).start()
    scfg = shield_config([], extra=tls_listener(pki))
    scfg["upstream"] = {"policy": "failover", "tls": upstream_tls(pki),
                        "servers": [{"address": f"127.0.0.1:{origin.port(tls=True)}"}]}
    shield = Tier("shield", d, scfg).start()
    edge = Tier("edge", d, edge_upstream_config(shield, {"tls": upstream_tls(pki)})).start()
    yield Chain(origin, shield, edge)
    for t in (edge, shield, origin):
        t.kill()


def edge_upstream_config(shield, upstream, address=None):
    cfg = edge_config([])
    cfg["upstream"] = dict(upstream)
    cfg["upstream"]["servers"] = [{"address": address or f"127.0.0.1:{shield.port(tls=True)}"}]
    return cfg


def failures(tier, reason):
    return tier.metric("cdn_tls_handshake_failures_total", reason=reason)


def test_edge_shield_origin_over_mtls_serve_miss_then_hit(chain, content):
    path, data = content.new_file(300_000)
    first = chain.edge.get(path)
    assert first.status == 200 and first.body == data
    assert first.header("X-Cache") == "MISS"
    second = chain.edge.get(path)
    assert second.status == 200 and second.body == data and second.header("X-Cache") == "HIT"
    # Keep-alive: more misses ride the pooled TLS connections, and nothing failed on either link.
    for _ in range(3):
        p, d = content.new_file(1000)
        assert chain.edge.get(p).body == d
    for t in (chain.edge, chain.shield, chain.origin):
        assert t.metric("cdn_tls_handshake_failures_total") == 0, t.name
    assert chain.shield.metric("cdn_upstream_requests_total", status="200") == 4
    assert chain.edge.metric("cdn_upstream_requests_total", status="200") == 4


def https_edge(chain, pki, server_name):
    """An edge whose upstream is an https:// address verified as `server_name`."""
    address = f"https://127.0.0.1:{chain.shield.port(tls=True)}"
    cfg = edge_upstream_config(chain.shield, {"tls": upstream_tls(pki)}, address=address)
    cfg["upstream"]["servers"][0]["server_name"] = server_name
    return cfg


def test_https_address_and_server_name_checked_against_the_certificate(tiers, chain, content, pki):
    """server_name is sent as SNI and must be a name in the upstream's certificate."""
    named, wrong = https_edge(chain, pki, "shield.test"), https_edge(chain, pki, "other.test")
    good, bad = tiers("edge", named, name="edge-named").start(), tiers("edge", wrong, name="edge-wrong").start()
    path, data = content.new_file(2000)
    assert good.get(path).body == data
    r = bad.get(path)
    assert r.status == 502 and r.header("X-Error-Reason") == "upstream-tls-failed"
    assert failures(bad, "upstream-name-mismatch") >= 1


@pytest.mark.parametrize("client,edge_reason,shield_reason", [
    ("rogue_client", "upstream-rejected-certificate", "client-certificate-untrusted"),
    (None, "upstream-rejected-certificate", "client-certificate-missing"),
])
def test_wrong_or_missing_client_certificate_is_refused(tiers, chain, content, pki, client, edge_reason,
                                                        shield_reason):
    before = failures(chain.shield, shield_reason)
    edge = tiers("edge", edge_upstream_config(chain.shield, {"tls": upstream_tls(pki, client=client)})).start()
    path, _ = content.new_file(1000)
    r = edge.get(path)
    assert r.status == 502, r
    assert r.header("X-Error-Reason") == "upstream-tls-failed"
    assert failures(edge, edge_reason) >= 1
    assert edge.metric("cdn_upstream_requests_total", status="tls-handshake-failed") >= 1
    assert failures(chain.shield, shield_reason) > before
    assert chain.shield.metric("cdn_upstream_requests_total", status="200") >= 0  # the shield stays up
    assert chain.edge.get(path).status == 200  # the right certificate still gets through


def test_upstream_signed_by_another_ca_is_refused(tiers, chain, content, pki):
    edge = tiers("edge", edge_upstream_config(chain.shield, {"tls": upstream_tls(pki, ca=pki["rogue_ca"])})).start()
    path, _ = content.new_file(1000)
    r = edge.get(path)
    assert r.status == 502 and r.header("X-Error-Reason") == "upstream-tls-failed"
    assert failures(edge, "upstream-certificate-untrusted") >= 1
    # the shield saw the edge give up on its certificate
    assert failures(chain.shield, "peer-rejected-certificate") >= 1
