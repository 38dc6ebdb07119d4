"""Links between tiers secured (issue 9): edge -> shield -> origin over mutual TLS, refusals of a
wrong client certificate and of an upstream signed by another CA (both counted), the admin
listener over TLS with client certificates, and the session store's Redis behind a password."""
import http.client
import shutil
import signal
import socket
import ssl
import subprocess
import threading

import pytest

from access_support import Chain, Keys, RedisServer, access_section, get, rejection
from conftest import (ADMIN_TOKEN, Tier, edge_config, free_port, http_request, origin_config, program_path,
                      shield_config, wait_until)

# TLS between tiers and the upstream client's handshake path: part of the ASan+UBSan subset.
pytestmark = pytest.mark.sanitize


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


class TlsChain:
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
    yield TlsChain(origin, shield, edge)
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
    # ... on connections kept open: at most one per edge worker (2) reached the shield, and they
    # are still there (a connection per request would have closed each after its answer).
    assert 1 <= chain.shield.metric("cdn_connections_active") <= 2
    assert chain.shield.metric("cdn_upstream_requests_total", status="200") == 4
    assert chain.edge.metric("cdn_upstream_requests_total", status="200") == 4


def https_edge(chain, pki, server_name):
    """An edge whose upstream is an https:// address verified as `server_name`."""
    address = f"https://127.0.0.1:{chain.shield.port(tls=True)}"
    cfg = edge_upstream_config(chain.shield, {"tls": upstream_tls(pki)}, address=address)
    cfg["upstream"]["servers"][0]["server_name"] = server_name
    return cfg


def test_a_new_upstream_connection_resumes_the_tls_session(tiers, chain, content, pki):
    """After the pooled connection idled out, the next miss resumes instead of a full handshake."""
    cfg = edge_upstream_config(chain.shield, {"tls": upstream_tls(pki)})
    cfg["workers"] = 1
    cfg["timeouts"]["upstream_idle"] = "300ms"
    edge = tiers("edge", cfg).start()
    path, data = content.new_file(1000)
    assert edge.get(path).body == data
    wait_until(lambda: edge.metric("cdn_upstream_tls_handshakes_total", resumed="false") == 1, what="first handshake")
    # the edge closes its idle pooled connection after upstream_idle; the shield sees it go
    before = chain.shield.metric("cdn_connections_active")
    wait_until(lambda: chain.shield.metric("cdn_connections_active") == before - 1, what="idle connection closed")
    path, data = content.new_file(1000)
    assert edge.get(path).body == data
    assert edge.metric("cdn_upstream_tls_handshakes_total", resumed="true") == 1
    assert edge.metric("cdn_upstream_tls_handshakes_total", resumed="false") == 1


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


class SilentTlsServer:
    """Accepts TCP connections, reads the ClientHello and never answers: a stalled handshake."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_stalled_handshake_does_not_block_the_edge_worker(tiers, chain, content, pki):
    """One worker; its primary upstream never finishes the handshake. The request waiting on it
    gives up after upstream_connect and falls back, and a cache hit on the same loop is served
    meanwhile."""
    silent = SilentTlsServer()
    try:
        cfg = edge_upstream_config(chain.shield, {"tls": upstream_tls(pki), "policy": "failover"})
        cfg["workers"] = 1
        cfg["upstream"]["servers"] = [{"address": f"127.0.0.1:{silent.port}"},
                                      {"address": f"127.0.0.1:{chain.shield.port(tls=True)}", "backup": True}]
        cfg["timeouts"]["upstream_connect"] = "2s"
        edge = tiers("edge", cfg).start()
        hit_path, hit_data = content.new_file(1000)
        assert edge.get(hit_path).body == hit_data  # after the stalled primary's timeout, via the backup
        slow_path, slow_data = content.new_file(1000)
        result = {}
        waiter = threading.Thread(target=lambda: result.update(r=edge.get(slow_path)))
        waiter.start()
        wait_until(lambda: len(silent.conns) >= 2, what="the second stalled handshake")
        r = edge.get(hit_path)
        assert r.status == 200 and r.header("X-Cache") == "HIT"
        assert waiter.is_alive()  # served while the other request's handshake still hangs
        waiter.join(30)
        assert result["r"].status == 200 and result["r"].body == slow_data
        assert edge.metric("cdn_upstream_requests_total", status="connect-timeout") == 2
    finally:
        silent.close()


def test_sighup_reloads_the_upstream_client_certificate(tiers, chain, content, pki, tmp_path):
    """A rotated client certificate is used by new upstream connections after SIGHUP."""
    cert, key = tmp_path / "edge-client.pem", tmp_path / "edge-client.key"
    for dst, src in zip((cert, key), pki["rogue_client"]):
        shutil.copy(src, dst)
    tls = {"ca": str(pki["ca"]), "cert": str(cert), "key": str(key)}
    edge = tiers("edge", edge_upstream_config(chain.shield, {"tls": tls})).start()
    path, data = content.new_file(1000)
    assert edge.get(path).status == 502
    for dst, src in zip((cert, key), pki["client"]):
        shutil.copy(src, dst)
    edge.signal(signal.SIGHUP)
    wait_until(lambda: edge.get(path).status == 200, what="the new client certificate to be used")
    assert edge.get(path).body == data


def test_check_config_names_file_and_line_of_tls_and_redis_keys(tmp_path, pki):
    cert, key = pki["client"]
    p = tmp_path / "edge.yaml"
    p.write_text("\n".join([
        "tier: edge",                                               # 1
        "listen: [{address: 127.0.0.1:8080}]",                      # 2
        "upstream:",                                                # 3
        "  tls:",                                                   # 4
        f"    ca: {tmp_path}/missing-ca.pem",                        # 5
        f"    key: {key}",                                          # 6
        "  servers:",                                               # 7
        "    - address: https://127.0.0.1:8443",                    # 8
        "      server_name: shield.test",                           # 9
        "admin:",                                                   # 10
        "  tls:",                                                   # 11
        f"    cert: {cert}",                                        # 12
        "access:",                                                  # 13
        f"  jwks: {cert}",                                          # 14
        "  sessions:",                                              # 15
        "    store: redis",                                         # 16
        "    redis: {address: 127.0.0.1:6379, username: cdn-edge}",  # 17
    ]) + "\n")
    r = subprocess.run([str(program_path("edge")), "--check-config", "--config", str(p)], capture_output=True,
                       timeout=60, text=True)
    assert r.returncode != 0
    for line, what in ((5, "upstream.tls.ca"), (6, "upstream.tls.key: a client key needs its certificate"),
                       (12, "admin.tls.key: required key is missing"), (17, "an ACL user needs its password")):
        assert any(l.startswith(f"{p}:{line}:") and what in l for l in r.stderr.splitlines()), (line, r.stderr)


# ----------------------------------------------------------------------------------------------
# Admin listener over TLS

def tls_client(pki, client="client"):
    ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    if client:
        ctx.load_cert_chain(*(str(x) for x in pki[client]))
    return ctx


class AdminTlsTier(Tier):
    """A tier whose admin listener speaks TLS and wants the tier CA's client certificate."""

    def __init__(self, kind, workdir, config, pki):
        self.pki = pki
        super().__init__(kind, workdir, config)

    def admin_get(self, path, timeout=10.0, client="client"):
        return http_request(self.admin_port, path, timeout=timeout, tls_context=tls_client(self.pki, client))


def test_admin_over_tls_needs_a_client_certificate(tmp_path, content, pki):
    cert, key = pki["server"]
    cfg = origin_config(content.root)
    cfg["admin"] = {"listen": f"127.0.0.1:{free_port()}", "token": ADMIN_TOKEN,
                    "tls": {"cert": str(cert), "key": str(key), "client_ca": str(pki["ca"])}}
    origin = AdminTlsTier("origin", tmp_path, cfg, pki).start()  # start() polls /healthz over mTLS
    try:
        r = origin.admin_get("/healthz")
        assert r.status == 200 and b'"status"' in r.body
        for client, reason in (("rogue_client", "client-certificate-untrusted"), (None, "client-certificate-missing")):
            with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
                origin.admin_get("/healthz", client=client)
            assert failures(origin, reason) == 1
        with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
            http_request(origin.admin_port, "/healthz", timeout=5)  # plain HTTP on the TLS port
        assert origin.get("/vod/none").status == 404  # the viewer listener stays plain
    finally:
        origin.kill()


# ----------------------------------------------------------------------------------------------
# The session store's Redis with a password (requirepass) and an ACL user

def redis_command(port, *args, auth=()):
    """One command over RESP on a fresh connection (after AUTH *auth when given); the raw reply."""
    def encode(parts):
        out = f"*{len(parts)}\r\n".encode()
        for p in parts:
            b = str(p).encode()
            out += f"${len(b)}\r\n".encode() + b + b"\r\n"
        return out
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        wire = (encode(["AUTH", *auth]) if auth else b"") + encode(list(args))
        s.sendall(wire)
        data = b""
        while data.count(b"\r\n") < (2 if auth else 1):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[1] if auth else data


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def locked_redis(tmp_path):
    """redis-server with an ACL user cdn-edge (password edge-pass) and requirepass for the default
    user (default-pass)."""
    r = RedisServer(tmp_path / "redis").start()
    assert redis_command(r.port, "ACL", "SETUSER", "cdn-edge", "on", ">edge-pass", "~*", "+@all").startswith(b"+OK")
    assert redis_command(r.port, "CONFIG", "SET", "requirepass", "default-pass").startswith(b"+OK")
    yield r
    r.kill()


def test_redis_session_store_with_acl_user_and_password(tiers, content, keys, locked_redis):
    def redis_edge(when_down, **auth):
        return access_section(keys, sessions={"store": "redis", "redis": dict(
            address=locked_redis.address, command_timeout="500ms", when_down=when_down, key_prefix="tt:", **auth)})
    c = Chain(tiers, content.root, [
        redis_edge("fail-closed", username="cdn-edge", password="edge-pass"),
        redis_edge("fail-closed", password="default-pass"),   # requirepass: AUTH <password>
        redis_edge("fail-closed", username="cdn-edge", password="wrong"),
        redis_edge("fail-open", username="cdn-edge", password="wrong"),
    ])
    acl_edge, requirepass_edge, closed_edge, open_edge = c.edges
    path, _ = content.new_file(1000)

    def play(edge, sid):
        return get(edge, path, token=keys.sign(aud="cdn", sub="tls-viewer", sid=sid, climit=5))

    def health(edge, field):
        return edge.healthz()[1].get(field)
    for edge in (closed_edge, open_edge):  # every worker loop's connection is refused at AUTH
        wait_until(lambda: health(edge, "session_store_auth_refused") == 3, what="AUTH refusal on /healthz")
        assert health(edge, "session_store_down") == 3
    for edge in (acl_edge, requirepass_edge):
        wait_until(lambda: health(edge, "session_store_down") == 0, what="Redis up on /healthz")
        assert health(edge, "session_store_auth_refused") == 0
    assert play(acl_edge, "a").status == 200 and play(requirepass_edge, "b").status == 200
    # the sessions really are in Redis: both edges wrote the viewer's live set there
    assert b"tt:" in redis_command(locked_redis.port, "KEYS", "tt:*", auth=("cdn-edge", "edge-pass"))
    r = play(closed_edge, "c")
    assert r.status == 503 and rejection(r) == "session-store-unavailable"
    assert play(open_edge, "d").status == 200  # fail-open: local limits until Redis takes the password
    assert "AUTH refused" in closed_edge.stderr_path.read_text()
