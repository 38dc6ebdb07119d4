"""Helpers for the viewer-access tests (test_access*.py): keys and tokens minted with the real
`cdnctl token`, an origin -> shield -> edge chain with `access:` on, a throwaway redis-server, and
HLS VOD content with a master playlist."""
import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (Tier, build_dir, edge_config, free_port, http_request, origin_config, shield_config,
                      wait_until)


def cdnctl_path():
    p = build_dir() / "cdnctl" / "cdnctl"
    if not p.exists():
        pytest.fail(f"{p} does not exist: build cdnctl first (or set CDN_BUILD_DIR)", pytrace=False)
    return p


def cdnctl(*args, check=True, timeout=30):
    """Runs cdnctl; returns CompletedProcess (text)."""
    r = subprocess.run([str(cdnctl_path()), *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"cdnctl {' '.join(map(str, args))} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


class Keys:
    """Signing keys made with `cdnctl token keygen`, and the JWKS the edges verify with: ES256
    (es-1), EdDSA (ed-1), HS256 (hs-1) and the renewal key (renew-1, ES256). `rogue` has the kid
    es-1 but is not in the JWKS (a forged signature)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.private = {}
        for kid, alg in (("es-1", "ES256"), ("ed-1", "EdDSA"), ("hs-1", "HS256"), ("renew-1", "ES256")):
            self.private[kid] = self._keygen(alg, kid, kid)
        self.private["rogue"] = self._keygen("ES256", "es-1", "rogue")
        pub = [json.loads(cdnctl("token", "keygen", "--public", self.private[k]).stdout)["keys"][0]
               for k in ("es-1", "ed-1", "hs-1", "renew-1")]
        self.jwks = self.dir / "keys.jwks"
        self.jwks.write_text(json.dumps({"keys": pub}))
        self.renewal = self.private["renew-1"]

    def _keygen(self, alg, kid, name):
        p = self.dir / f"{name}.jwk"
        p.write_text(cdnctl("token", "keygen", "--alg", alg, "--kid", kid).stdout)
        return p

    def sign(self, kid="es-1", **claims):
        """cdnctl token sign --key <kid> --sub ... ; keyword names use '_' for '-' (exp_in)."""
        claims.setdefault("sub", "viewer")
        args = ["token", "sign", "--key", self.private[kid]]
        for k, v in claims.items():
            if v is not None:
                args += ["--" + k.replace("_", "-"), str(v)]
        return cdnctl(*args).stdout.strip()

    def verify(self, token, *extra):
        return cdnctl("token", "verify", "--jwks", self.jwks, *extra, token, check=False)


def jwt_claims(token):
    import base64
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def access_section(keys, **over):
    a = {"enabled": True, "jwks": str(keys.jwks), "issuer": "", "audience": "cdn", "leeway": "5s",
         "cors_origins": ["*"]}
    a.update(over)
    return a


def tokq(token):
    return "?token=" + token


class Chain:
    """origin -> shield -> edge(s); every edge with its own access section."""

    def __init__(self, tiers, content_root, access_sections, shield_extra=None, workdir=None):
        self.origin = tiers("origin", origin_config(content_root), name="origin").start()
        self.shield = tiers("shield", shield_config([self.origin.port()], extra=shield_extra),
                            name="shield").start()
        self.edges = []
        for i, a in enumerate(access_sections):
            e = tiers("edge", edge_config([self.shield.port()], extra={"access": a}), name=f"edge{i}")
            self.edges.append(e.start())

    @property
    def edge(self):
        return self.edges[0]


def get(edge, path, token=None, cookie=None, bearer=None, headers=None, proto="h1", **kw):
    """proto: "h1" (HTTP/1.1) or "h2c" (HTTP/2 with prior knowledge; the edge needs http2.h2c)."""
    h = dict(headers or {})
    if token is not None:
        path += ("&" if "?" in path else "?") + "token=" + token
    if cookie is not None:
        h["Cookie"] = f"cdn_token={cookie}"
    if bearer is not None:
        h["Authorization"] = f"Bearer {bearer}"
    if proto == "h2c":
        from h2_support import h2_request
        return h2_request(edge.port(), path, headers=h, **kw)
    return http_request(edge.port(), path, headers=h, **kw)


def get_from(edge, source_ip, path, token):
    """GET with the client socket bound to `source_ip` (any of 127.0.0.0/8 on Linux) before connect,
    so the edge sees that address as the viewer's."""
    import http.client
    from conftest import Response

    conn = http.client.HTTPConnection("127.0.0.1", edge.port(), timeout=20, source_address=(source_ip, 0))
    try:
        conn.request("GET", path + ("&" if "?" in path else "?") + "token=" + token)
        r = conn.getresponse()
        return Response(r.status, r.reason, r.getheaders(), r.read())
    finally:
        conn.close()


def admin_get_with_token(tier, path, token):
    """GET on the admin listener with `Authorization: Bearer <token>` (None: no header)."""
    return http_request(tier.admin_port, path, headers={"Authorization": f"Bearer {token}"} if token else {})


def rejection(r):
    return r.header("X-Token-Rejection")


class RedisServer:
    """A redis-server on a free loopback port, no persistence; restartable on the same port."""

    def __init__(self, directory):
        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False
        wait_until(up, timeout=10, what="redis-server to answer PING")
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def make_hls_with_master(root, name="pl"):
    """ffmpeg test pattern as an 8 s HLS VOD (2 s segments) under /vod/<name>/: master.m3u8 with one
    variant v0/index.m3u8. Returns the directory."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    out = Path(root) / name
    (out / "v0").mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
           "-c:v", "libx264", "-g", "50", "-c:a", "aac", "-t", "8",
           "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
           "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0",
           "-hls_segment_filename", str(out / "v%v" / "seg%03d.ts"), str(out / "v%v" / "index.m3u8")]
    r = subprocess.run(cmd, capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert (out / "master.m3u8").exists(), list(out.iterdir())
    return out


def uri_lines(playlist_text):
    """URI lines and URI="..." attributes of a playlist."""
    import re
    out = []
    for line in playlist_text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            out += re.findall(r'URI="([^"]*)"', line)
        else:
            out.append(line)
    return out


def wait_for(fn, timeout=15.0, interval=0.1, what="condition"):
    return wait_until(fn, timeout=timeout, interval=interval, what=what)


def now():
    return time.time()
