"""Viewer access at the edge: token gate and rejection reasons, CORS, token propagation into HLS
(with a real player: ffprobe), RFC 9246 renewal, and tokens never reaching the cache key or the
shield. Real origin -> shield -> edge processes on loopback; keys and tokens from `cdnctl token`."""
import base64
import json
import shutil
import signal
import subprocess
import time

import pytest

from access_support import (Keys, access_section, get, jwt_claims, make_hls_with_master, rejection,
                            uri_lines)
from conftest import Tier, edge_config, origin_config, shield_config, wait_until


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def chain(tmp_path_factory, content, keys):
    d = tmp_path_factory.mktemp("access")
    origin = Tier("origin", d, origin_config(content.root)).start()
    shield = Tier("shield", d, shield_config([origin.port()])).start()
    edge = Tier("edge", d, edge_config([shield.port()], extra={
        "access": access_section(keys, renewal_key=str(keys.renewal)), "http2": {"h2c": True}})).start()

    class C:
        pass
    c = C()
    c.origin, c.shield, c.edge, c.dir = origin, shield, edge, d
    yield c
    for t in (edge, shield, origin):
        t.kill()


@pytest.fixture(scope="module")
def vod(content):
    return make_hls_with_master(content.root, "pl")


def seg_path(content, suffix=".ts"):
    path, _ = content.new_file(3000, suffix=suffix, subdir="acc")
    return path


def test_no_token_is_401_with_reason_and_cors(chain, content):
    path = seg_path(content)
    before = chain.edge.metric("cdn_token_rejections_total", reason="token-required")
    r = get(chain.edge, path, headers={"Origin": "https://player.example"})
    assert r.status == 401
    assert b"token-required" in r.body
    assert r.header("X-Error-Reason") == "token-required"
    assert rejection(r) == "token-required"
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert chain.edge.metric("cdn_token_rejections_total", reason="token-required") == before + 1


def test_valid_token_by_query_cookie_and_bearer(chain, content, keys):
    path = seg_path(content)
    for kid in ("es-1", "ed-1", "hs-1"):
        tok = keys.sign(kid, aud="cdn", path="/vod/")
        assert get(chain.edge, path, token=tok).status == 200, kid
        assert get(chain.edge, path, cookie=tok).status == 200, kid
        assert get(chain.edge, path, bearer=tok).status == 200, kid
        assert get(chain.edge, path + "?URISigningPackage=" + tok).status == 200, kid


def test_every_path_needs_a_token_by_default(chain):
    for path in ("/elsewhere/x.ts", "/", "/healthz", "/vodx/a.ts"):
        r = get(chain.edge, path)
        assert r.status == 401 and rejection(r) == "token-required", path


def test_public_prefixes_match_at_a_segment_boundary(tmp_path, tiers, content, keys):
    from access_support import Chain
    c = Chain(tiers, content.root, [access_section(keys, public_prefixes=["/vod/acc", "/open/"])])
    public = seg_path(content)  # /vod/acc/<name>.ts
    r = get(c.edge, public)
    assert r.status == 200 and rejection(r) is None
    for path in ("/vod/accx/a.ts", "/vod/ac", "/open", "/elsewhere/x.ts", "/vod/other.ts"):
        r = get(c.edge, path)
        assert r.status == 401 and rejection(r) == "token-required", path
    r = get(c.edge, "/open/nothing-here.ts")
    assert r.status != 401 and rejection(r) is None
    # Dot segments (plain or encoded) never make a protected file public, normalized or not.
    protected, _ = content.new_file(1000, suffix=".ts", subdir="sec")
    for path in ("/open/.." + protected, "/open/%2e%2e" + protected, "/open/.%2E" + protected,
                 "/vod/acc/.." + protected[len("/vod"):]):
        r = get(c.edge, path)
        assert r.status == 401 and rejection(r) == "token-required", path


def _alg_none(keys):
    tok = keys.sign(aud="cdn")
    h = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return h + "." + tok.split(".")[1] + "."


def _tampered(keys):
    h, p, s = keys.sign(aud="cdn", path="/vod/private/").split(".")
    claims = jwt_claims(f"{h}.{p}.{s}")
    claims["path"] = "/vod/"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{h}.{p2}.{s}"


def _hs256_with_es256_public_key(keys):
    """RFC 8725 §2.1 algorithm confusion: HMAC keyed with the ES256 key's public JWK."""
    import hashlib
    import hmac
    pub = json.dumps(json.loads(keys.jwks.read_text())["keys"][0]).encode()
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    h = enc(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "es-1"}).encode())
    p = keys.sign(aud="cdn").split(".")[1]
    return f"{h}.{p}." + enc(hmac.new(pub, f"{h}.{p}".encode(), hashlib.sha256).digest())


def _unknown_kid(keys):
    from access_support import cdnctl
    k = keys.dir / "stranger.jwk"
    if not k.exists():
        k.write_text(cdnctl("token", "keygen", "--alg", "EdDSA", "--kid", "stranger").stdout)
    return cdnctl("token", "sign", "--key", k, "--sub", "x", "--aud", "cdn").stdout.strip()


HOSTILE = [
    ("hs256-with-es256-public-key", _hs256_with_es256_public_key, "alg-mismatch"),
    ("unknown-kid", _unknown_kid, "unknown-kid"),
    ("expired", lambda k: k.sign(aud="cdn", exp_in="-1h"), "expired"),
    ("not-yet-valid", lambda k: k.sign(aud="cdn", nbf_in="1h"), "not-yet-valid"),
    ("bad-signature", lambda k: k.sign("rogue", aud="cdn"), "bad-signature"),
    ("tampered", _tampered, "bad-signature"),
    ("wrong-audience", lambda k: k.sign(aud="other"), "wrong-audience"),
    ("scope-prefix", lambda k: k.sign(aud="cdn", path="/vod/other/"), "scope"),
    ("scope-regex", lambda k: k.sign(aud="cdn", regex="/live/.*"), "scope"),
    ("client-address", lambda k: k.sign(aud="cdn", cip="203.0.113.7"), "client-address"),
    ("alg-none", _alg_none, "alg-none"),
    ("truncated", lambda k: k.sign(aud="cdn")[:-20], ("bad-signature", "bad-base64")),
    ("cut-in-two", lambda k: k.sign(aud="cdn").rsplit(".", 1)[0], ("malformed", "bad-base64")),
    ("garbage", lambda k: "not.a.token", None),
    ("oversized", lambda k: "a" * 5000 + "." + "b" * 10 + ".c", "too-large"),
]


@pytest.mark.parametrize("proto", ["h1", "h2c"])
@pytest.mark.parametrize("name,make,reason", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_rejections_are_403_with_reason_counter_and_cors(chain, content, keys, name, make, reason, proto):
    path = seg_path(content)
    tok = make(keys)
    r = get(chain.edge, path, token=tok, headers={"Origin": "https://player.example"}, proto=proto)
    assert r.status == 403, r
    got = rejection(r)
    assert got and r.header("X-Error-Reason") == got
    if reason:
        assert got in ((reason,) if isinstance(reason, str) else reason), (name, r.body)
    assert got.encode() in r.body
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert chain.edge.metric("cdn_token_rejections_total", reason=got) >= 1
    # the reason reaches the access log too (written by a background thread: poll)
    wait_until(lambda: f'"reason":"{got}"' in (chain.dir / "edge-access.log").read_text(), timeout=10,
               interval=0.1, what="the rejection reason in the access log")


def test_regex_scope_with_backtracking_input_is_bounded(chain, keys):
    tok = keys.sign(aud="cdn", regex="/vod/(a+)+b")
    t0 = time.monotonic()
    r = get(chain.edge, "/vod/" + "a" * 4000 + "c", token=tok)
    assert r.status == 403 and rejection(r) == "scope"
    assert time.monotonic() - t0 < 2.0


def test_cdnctl_verify_explains_a_refusal(keys):
    r = keys.verify(keys.sign(aud="cdn", exp_in="-1h"))
    assert r.returncode == 1 and r.stdout.startswith("REJECTED expired")
    r = keys.verify(keys.sign(aud="cdn", path="/vod/a/"), "--aud", "cdn", "--path", "/vod/b/x.ts")
    assert r.returncode == 1 and "scope" in r.stdout
    r = keys.verify(keys.sign(aud="cdn", sub="alice"), "--aud", "cdn")
    assert r.returncode == 0 and r.stdout.startswith("OK") and '"sub":"alice"' in r.stdout


def test_preflight_without_token_and_credentials_with_cookie(chain, content, keys):
    path = seg_path(content)
    r = get(chain.edge, path, headers={"Origin": "https://p.example", "Access-Control-Request-Method": "GET",
                                       "Access-Control-Request-Headers": "authorization, range"}, method="OPTIONS")
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == "https://p.example"
    assert "GET" in r.header("Access-Control-Allow-Methods")
    assert "authorization" in r.header("Access-Control-Allow-Headers").lower()
    tok = keys.sign(aud="cdn")
    r = get(chain.edge, path, cookie=tok, headers={"Origin": "https://p.example"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "https://p.example"
    assert r.header("Access-Control-Allow-Credentials") == "true"
    r = get(chain.edge, path, token=tok, headers={"Origin": "https://p.example"})
    assert r.header("Access-Control-Allow-Origin") == "*"


def test_token_never_reaches_upstream_nor_the_cache_key(chain, content, keys):
    path = seg_path(content)
    t1, t2 = keys.sign(aud="cdn", sub="v1"), keys.sign(aud="cdn", sub="v2")
    r1 = get(chain.edge, path, token=t1)
    r2 = get(chain.edge, path, token=t2)
    r3 = get(chain.edge, path, cookie=t2)
    assert (r1.status, r2.status, r3.status) == (200, 200, 200)
    assert r1.header("X-Cache") == "MISS"
    assert r2.header("X-Cache") == "HIT" and r3.header("X-Cache") == "HIT"
    assert r1.body == r2.body
    # other query parameters still count (and reach the shield), the token does not
    r4 = get(chain.edge, path + "?v=2", token=t1)
    assert r4.status == 200 and r4.header("X-Cache") == "MISS"

    def logged():
        text = (chain.dir / "shield-access.log").read_text()
        return text if path in text else None
    text = wait_until(logged, what="shield access log")
    for t in (t1, t2):
        assert t not in text and t.split(".")[2] not in text


@pytest.mark.parametrize("proto", ["h1", "h2c"])
def test_playlist_propagation_master_and_media(chain, vod, keys, proto):
    tok = keys.sign(aud="cdn", path="/vod/pl/")
    r = get(chain.edge, "/vod/pl/master.m3u8", token=tok, proto=proto)
    assert r.status == 200, r
    uris = uri_lines(r.body.decode())
    assert uris and all(u.endswith("?token=" + tok) for u in uris), r.body
    assert "public" not in (r.header("Cache-Control") or "")
    media = get(chain.edge, "/vod/pl/" + uris[0].split("?")[0], token=tok, proto=proto)
    assert media.status == 200
    segs = uri_lines(media.body.decode())
    assert len(segs) >= 3 and all(s.endswith("?token=" + tok) for s in segs)
    # the cached object stays the original: another viewer's token, another rewrite
    tok2 = keys.sign(aud="cdn", path="/vod/pl/", sub="other")
    r2 = get(chain.edge, "/vod/pl/master.m3u8", token=tok2, proto=proto)
    assert r2.header("X-Cache") == "HIT"
    assert all(u.endswith("?token=" + tok2) for u in uri_lines(r2.body.decode()))
    # a cookie or bearer token needs no propagation: the playlist is served as cached
    r3 = get(chain.edge, "/vod/pl/master.m3u8", bearer=tok, proto=proto)
    assert r3.body == (vod / "master.m3u8").read_bytes()


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="ffprobe is not installed")
def test_player_plays_only_thanks_to_propagation(chain, vod, keys):
    tok = keys.sign(aud="cdn", path="/vod/pl/", sub="player")
    port = chain.edge.port()
    url = f"http://127.0.0.1:{port}/vod/pl/master.m3u8?token={tok}"
    r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "4", "-f", "null", "-"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", url],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    kinds = {s["codec_type"] for s in json.loads(p.stdout)["streams"]}
    assert "video" in kinds
    log = (chain.dir / "edge-access.log").read_text()
    assert '/vod/pl/v0/seg000.ts' in log
    # without propagation the player's next request (a segment without the token) is refused
    assert get(chain.edge, "/vod/pl/v0/seg001.ts").status == 401
    assert get(chain.edge, "/vod/pl/v0/seg001.ts", token=tok).status == 200


def test_renewal_in_query_string_rewrites_playlists_with_a_later_exp(chain, vod, keys):
    tok = keys.sign(aud="cdn", path="/vod/pl/", exp_in="20s", cdniets=300, cdnistt=2, sub="renew-q")
    r = get(chain.edge, "/vod/pl/v0/index.m3u8", token=tok)
    assert r.status == 200
    segs = uri_lines(r.body.decode())
    renewed = {s.split("token=")[1] for s in segs}
    assert len(renewed) == 1
    new = renewed.pop()
    assert new != tok
    assert jwt_claims(new)["exp"] > jwt_claims(tok)["exp"] + 200
    assert jwt_claims(new)["sub"] == "renew-q" and jwt_claims(new)["sid"]
    v = keys.verify(new, "--aud", "cdn", "--path", "/vod/pl/v0/seg000.ts")
    assert v.returncode == 0, v.stdout
    assert get(chain.edge, "/vod/pl/v0/" + segs[0]).status == 200
    # the renewed token renews itself in turn
    r2 = get(chain.edge, "/vod/pl/v0/index.m3u8", token=new)
    assert r2.status == 200 and "token=" in r2.body.decode()


def test_renewal_by_cookie(chain, content, keys):
    path = seg_path(content)
    tok = keys.sign(aud="cdn", exp_in="20s", cdniets=300, cdnistt=1, sub="renew-c")
    r = get(chain.edge, path, token=tok)
    assert r.status == 200
    cookies = [c for c in r.header_all("Set-Cookie") if c.startswith("cdn_token=")]
    assert cookies, r.headers
    new = cookies[0].split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in cookies[0] and "Max-Age=300" in cookies[0]
    assert jwt_claims(new)["exp"] > jwt_claims(tok)["exp"] + 200
    assert keys.verify(new, "--aud", "cdn").returncode == 0
    assert get(chain.edge, path, cookie=new).status == 200
    # no renewal offered without cdniets
    r = get(chain.edge, path, token=keys.sign(aud="cdn"))
    assert not r.header_all("Set-Cookie")


def test_jwks_reload_on_sighup(tmp_path, tiers, content, keys):
    from access_support import cdnctl
    jwks = tmp_path / "reload.jwks"
    jwks.write_text(keys.jwks.read_text())
    origin = tiers("origin", origin_config(content.root)).start()
    edge = tiers("edge", edge_config([origin.port()], extra={
        "access": access_section(keys, jwks=str(jwks))})).start()
    path = seg_path(content)
    new_key = tmp_path / "new.jwk"
    new_key.write_text(cdnctl("token", "keygen", "--alg", "EdDSA", "--kid", "ed-2").stdout)
    tok = cdnctl("token", "sign", "--key", new_key, "--sub", "x", "--aud", "cdn").stdout.strip()
    r = get(edge, path, token=tok)
    assert r.status == 403 and rejection(r) == "unknown-kid"
    doc = json.loads(jwks.read_text())
    doc["keys"].append(json.loads(cdnctl("token", "keygen", "--public", new_key).stdout)["keys"][0])
    jwks.write_text(json.dumps(doc))
    edge.signal(signal.SIGHUP)
    wait_until(lambda: get(edge, path, token=tok).status == 200, what="the new key after SIGHUP")
    jwks.write_text("{broken")
    edge.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert get(edge, path, token=tok).status == 200  # a broken file keeps the old keys


def test_bad_access_config_names_file_and_line(tmp_path, keys):
    from conftest import program_path, to_yaml
    cfg = edge_config([12345], extra={"access": access_section(keys, sesions={"store": "memory"})})
    p = tmp_path / "bad.yaml"
    p.write_text(to_yaml(cfg) + "\n")
    r = subprocess.run([str(program_path("edge")), "--config", str(p), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "bad.yaml:" in r.stderr and "sesions" in r.stderr
    cfg = edge_config([12345], extra={"access": access_section(keys, jwks=str(tmp_path / "missing.jwks"))})
    p.write_text(to_yaml(cfg) + "\n")
    r = subprocess.run([str(program_path("edge")), "--config", str(p), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "jwks" in r.stderr
    # The old opt-in list would silently leave new paths open: refused, pointing to its replacement.
    cfg = edge_config([12345], extra={"access": access_section(keys, protected_prefixes=["/vod/"])})
    p.write_text(to_yaml(cfg) + "\n")
    r = subprocess.run([str(program_path("edge")), "--config", str(p), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "bad.yaml:" in r.stderr and "protected_prefixes" in r.stderr and "public_prefixes" in r.stderr
    for bad in ("vod/", "/vod//x", "/vod/../x", "/%76od/", "/vod/?x"):
        cfg = edge_config([12345], extra={"access": access_section(keys, public_prefixes=[bad])})
        p.write_text(to_yaml(cfg) + "\n")
        r = subprocess.run([str(program_path("edge")), "--config", str(p), "--check-config"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "bad.yaml:" in r.stderr and "public_prefixes" in r.stderr, bad
