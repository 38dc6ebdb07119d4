"""Fixtures and helpers for the integration tests: they start the real cdn-origin, cdn-shield and
cdn-edge programs on loopback and talk to them over sockets.

The programs come from $CDN_BUILD_DIR, else the first of build/ and build-it/ (in the repository)
that holds them. Python standard library only, plus pytest.
"""
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "secret"

PROGRAMS = {
    "origin": "origin-shield/origin/cdn-origin",
    "shield": "origin-shield/shield/cdn-shield",
    "edge": "edge/cdn-edge",
    "geo": "geo/cdn-geo",
}


def build_dir():
    env = os.environ.get("CDN_BUILD_DIR")
    if env:
        return Path(env)
    candidates = [REPO / "build", REPO / "build-it"]
    for c in candidates:  # prefer a build that really holds the programs
        if all((c / p).exists() for p in PROGRAMS.values()):
            return c
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def program_path(tier):
    p = build_dir() / PROGRAMS[tier]
    if not p.exists():
        pytest.fail(f"{p} does not exist: build cdn-origin, cdn-shield and cdn-edge first "
                    f"(or set CDN_BUILD_DIR)", pytrace=False)
    return p


# ----------------------------------------------------------------------------------------------
# Ports

_ports_given = set()
_ports_lock = threading.Lock()


def free_port():
    """A loopback TCP port that is free now, below the usual ephemeral range (so outgoing
    connections do not take it meanwhile), never handed out twice in this session."""
    with _ports_lock:
        for _ in range(2000):
            port = random.randint(20000, 32000)
            if port in _ports_given:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port")


# ----------------------------------------------------------------------------------------------
# YAML (a small block-style writer is enough for our configs)

def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s == "" or re.search(r"[:#\[\]{},&*!|>'\"%@`]|^\s|\s$", s):
        return json.dumps(s)
    return s


def to_yaml(obj, indent=0):
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 1))
            elif isinstance(v, (dict, list)):
                out.append(f"{pad}{k}: {'{}' if isinstance(v, dict) else '[]'}")
            else:
                out.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                sub = to_yaml(item, indent + 1).split("\n")
                sub[0] = f"{pad}- " + sub[0].lstrip()
                out.append("\n".join(sub))
            else:
                out.append(f"{pad}- {_scalar(item)}")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Metrics

_METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text -> list of (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_RE.match(line)
        if not m:
            continue
        labels = dict(_LABEL_RE.findall(m.group(3) or ""))
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def metric_sum(samples, name, **labels):
    """Sum of every sample of `name` whose labels include `labels`."""
    total = 0.0
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(want) for k, want in labels.items()):
            total += v
    return total


# ----------------------------------------------------------------------------------------------
# HTTP helpers

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {self.headers} body={len(self.body)}B>"


def http_request(port, path, method="GET", headers=None, host="127.0.0.1", timeout=20.0, tls_context=None,
                 server_hostname=None, body=None):
    """One request on a fresh connection (http.client); returns Response."""
    hdrs = {"Host": host}
    hdrs.update(headers or {})
    if tls_context is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context)
        if server_hostname:
            # http.client takes SNI from the connect host; wrap the socket ourselves instead.
            conn = _SNIHTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context,
                                       sni=server_hostname)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


class _SNIHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *a, sni=None, **kw):
        super().__init__(*a, **kw)
        self._sni = sni

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)


def client_tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawConn:
    """A raw socket with a response reader that understands Content-Length, chunked and
    read-until-close bodies, for pipelining and malformed input."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    @classmethod
    def over(cls, sock):
        """A reader over a socket that is already connected (e.g. TLS-wrapped)."""
        conn = cls.__new__(cls)
        conn.sock, conn.buf = sock, b""
        return conn

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, method="GET"):
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers.append((k.strip(), v.strip()))
        resp = Response(status, reason, headers, b"")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size_line = self._read_until(b"\r\n").split(b";")[0].strip()
                size = int(size_line, 16)
                if size == 0:
                    self._read_until(b"\r\n")  # trailers end (no trailers expected)
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def read_to_close(self, timeout=10.0):
        """Everything until the peer closes (or timeout): returns (bytes, closed)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return self.buf, True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return self.buf, False
        except ConnectionResetError:
            return self.buf, True
        return self.buf, False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def refuses_connections(port, host="127.0.0.1"):
    """True when a connect to the port is refused (nothing listens there any more)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def raw_exchange(port, data, timeout=10.0):
    """Sends `data`, reads to close. Returns (status or None, raw bytes, closed)."""
    with RawConn(port, timeout=timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw, closed = c.read_to_close(timeout)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return (int(m.group(1)) if m else None), raw, closed


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def under_sanitizer():
    """The sanitizer the programs were built with ("asan", "tsan"), or None. Under a sanitizer the
    programs are several times slower and larger: RSS and timing assertions hold only in the
    release build, the functional ones everywhere."""
    return os.environ.get("CDN_SANITIZER") or None


def rss_bytes(tier, field="VmRSS"):
    """Resident memory of a running tier's process (field="VmHWM": its peak so far)."""
    with open(f"/proc/{tier.proc.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


def time_bound(seconds):
    """A timing assertion's bound: as given in the release build; under a sanitizer three times
    it, so the assertion still catches a hang but not the sanitizer's slowdown."""
    return seconds * 3 if under_sanitizer() else seconds


def wait_until(fn, timeout=15.0, interval=0.05, what="condition"):
    if under_sanitizer():
        timeout *= 3  # a deadline for a condition, not a timing assertion
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_fills_done(tier, timeout=15.0):
    """Until no fill runs on `tier`: a fill ends only after its disk write has landed."""
    wait_until(lambda: tier.metric("cdn_fills_inflight") == 0, timeout=timeout, what=f"{tier.name}'s fills to end")


# ----------------------------------------------------------------------------------------------
# Program wrapper

_live_tiers = []
_all_tiers = []  # every Tier started and not yet checked for sanitizer reports after its end


class Tier:
    """One cdn-origin / cdn-shield / cdn-edge process with its config in a temp dir."""

    def __init__(self, kind, workdir, config, name=None):
        self.kind = kind
        self.name = name or kind
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = dict(config)
        self.config.setdefault("tier", kind)
        self.config.setdefault("workers", 2 if kind != "origin" else 1)
        self.config.setdefault("admin", {"listen": f"127.0.0.1:{free_port()}", "token": ADMIN_TOKEN})
        self.config.setdefault("access_log", str(self.dir / f"{self.name}-access.log"))
        self.config.setdefault("node_name", self.name)
        self.admin_port = int(self.config["admin"]["listen"].rsplit(":", 1)[1])
        self.config_path = self.dir / f"{self.name}.yaml"
        self.config_path.write_text(to_yaml(self.config) + "\n")
        self.proc = None
        self.stderr_path = self.dir / f"{self.name}.stderr"
        self.stdout_path = self.dir / f"{self.name}.stdout"
        self.returncode = None

    # ports of the listeners
    def port(self, tls=False):
        for l in self.config["listen"]:
            if bool(l.get("tls", False)) == tls:
                return int(l["address"].rsplit(":", 1)[1])
        raise KeyError("no such listener")

    def start(self, timeout=30.0):
        self.returncode = None
        self._err = open(self.stderr_path, "ab")
        self._out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen([str(program_path(self.kind)), "--config", str(self.config_path)],
                                     stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL)
        _live_tiers.append(self)
        if self not in _all_tiers:
            _all_tiers.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} at start:\n{self.log_tail()}")
            try:
                r = self.admin_get("/healthz", timeout=2.0)
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not become healthy in {timeout}s:\n{self.log_tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=40.0):
        """SIGTERM (drain) and wait; returns the exit code."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not exit {timeout}s after SIGTERM:\n{self.log_tail()}")
        finally:
            self._close_files()
        return self.returncode

    def wait_exit(self, timeout=40.0):
        self.returncode = self.proc.wait(timeout)
        self._close_files()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (getattr(self, "_err", None), getattr(self, "_out", None)):
            if f and not f.closed:
                f.close()

    def log_tail(self, n=40):
        try:
            lines = self.stderr_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    # admin API
    def admin_get(self, path, timeout=10.0):
        return http_request(self.admin_port, path, timeout=timeout)

    def admin_post(self, path, token=ADMIN_TOKEN, timeout=10.0):
        h = {"Content-Length": "0"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return http_request(self.admin_port, path, method="POST", headers=h, timeout=timeout)

    def metrics(self):
        r = self.admin_get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    def metric(self, name, **labels):
        return metric_sum(self.metrics(), name, **labels)

    def healthz(self):
        r = self.admin_get("/healthz")
        return r.status, json.loads(r.body.decode())

    def purge_url(self, url, token=ADMIN_TOKEN):
        return self.admin_post("/admin/purge?url=" + urllib.parse.quote(url, safe=""), token=token)

    def purge_prefix(self, prefix, token=ADMIN_TOKEN):
        return self.admin_post("/admin/purge?prefix=" + urllib.parse.quote(prefix, safe=""), token=token)

    # the data listeners
    def get(self, path, **kw):
        return http_request(self.port(False), path, **kw)


# ----------------------------------------------------------------------------------------------
# Config builders

def origin_config(root, playlist_max_age="2s", segment_max_age="1d"):
    return {
        "tier": "origin",
        "workers": 1,
        "listen": [{"address": f"127.0.0.1:{free_port()}"}],
        "origin": {"root": str(root), "playlist_max_age": playlist_max_age, "segment_max_age": segment_max_age},
    }


def shield_config(upstream_ports, disk_path=None, extra=None):
    cfg = {
        "tier": "shield",
        "workers": 2,
        "listen": [{"address": f"127.0.0.1:{free_port()}"}],
        "upstream": {"policy": "failover", "servers": [{"address": f"127.0.0.1:{p}"} for p in upstream_ports]},
        "timeouts": {"upstream_connect": "2s", "upstream_first_byte": "10s", "header_read": "2s"},
    }
    if disk_path:
        cfg["cache"] = {"disk_path": str(disk_path)}
    cfg.update(extra or {})
    return cfg


def edge_config(upstream_ports, certs=None, disk_path=None, extra=None):
    listen = [{"address": f"127.0.0.1:{free_port()}"}]
    cfg = {
        "tier": "edge",
        "workers": 2,
        "listen": listen,
        "upstream": {"servers": [{"address": f"127.0.0.1:{p}"} for p in upstream_ports]},
        "timeouts": {"upstream_connect": "2s", "upstream_first_byte": "10s", "header_read": "2s"},
    }
    if certs:
        listen.insert(0, {"address": f"127.0.0.1:{free_port()}", "tls": True})
        cfg["tls"] = {"certificates": [{"cert": str(c), "key": str(k)} for c, k in certs]}
    if disk_path:
        cfg["cache"] = {"disk_path": str(disk_path)}
    cfg.update(extra or {})
    return cfg


# ----------------------------------------------------------------------------------------------
# Content

class Content:
    """The origin's document root. New files get unique names so every test starts cold."""

    def __init__(self, root):
        self.root = Path(root)
        self.vod = self.root
        self._n = 0
        self._lock = threading.Lock()

    def new_file(self, size, suffix=".ts", subdir="bin", data=None):
        with self._lock:
            self._n += 1
            n = self._n
        name = f"f{n}-{random.getrandbits(40):010x}{suffix}"
        d = self.root / subdir
        d.mkdir(parents=True, exist_ok=True)
        if data is None:
            data = os.urandom(size)
        (d / name).write_bytes(data)
        return f"/vod/{subdir}/{name}", data


def make_cert(directory, cn, name=None):
    """Self-signed EC certificate for `cn` (CN and SAN); returns (cert_path, key_path)."""
    name = name or cn
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = d / f"{name}.crt", d / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", f"subjectAltName=DNS:{cn}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def cert_der(cert_path):
    return ssl.PEM_cert_to_DER_cert(Path(cert_path).read_text())


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cdn")


@pytest.fixture(scope="session")
def content(session_dir):
    c = Content(session_dir / "vod")
    c.root.mkdir(parents=True, exist_ok=True)
    return c


@pytest.fixture(scope="session")
def hls(content):
    """ffmpeg's test pattern as a 10 s HLS VOD (2 s segments) under /vod/hls/."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    out = content.root / "hls"
    out.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
           "-c:v", "libx264", "-g", "50", "-c:a", "aac", "-t", "10",
           "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
           "-hls_segment_filename", str(out / "seg%03d.ts"), str(out / "index.m3u8")]
    r = subprocess.run(cmd, capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return out


@pytest.fixture(scope="session")
def certs(session_dir):
    d = session_dir / "certs"
    return {"a": make_cert(d, "a.test"), "b": make_cert(d, "b.test")}


class Stack:
    def __init__(self, origin, shield, edge):
        self.origin, self.shield, self.edge = origin, shield, edge


@pytest.fixture(scope="session")
def stack(session_dir, content, certs):
    """One origin -> shield -> edge chain shared by the tests that do not stop anything."""
    d = session_dir / "stack"
    origin = Tier("origin", d, origin_config(content.root)).start()
    shield = Tier("shield", d, shield_config([origin.port()], disk_path=d / "shield-db")).start()
    edge = Tier("edge", d, edge_config([shield.port()], certs=[certs["a"], certs["b"]],
                                        disk_path=d / "edge-db")).start()
    yield Stack(origin, shield, edge)
    for t in (edge, shield, origin):
        t.kill()


@pytest.fixture
def tiers(tmp_path):
    """Factory for processes owned by one test; all are killed at its end."""
    made = []

    def make(kind, config, name=None):
        t = Tier(kind, tmp_path, config, name=name)
        made.append(t)
        return t

    yield make
    for t in reversed(made):
        t.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for t in _live_tiers:
            tail = t.log_tail(30)
            if tail:
                rep.sections.append((f"{t.name} stderr ({t.dir})", tail))


@pytest.fixture(autouse=True)
def _forget_dead_tiers():
    yield
    _live_tiers[:] = [t for t in _live_tiers if t.running()]


# ----------------------------------------------------------------------------------------------
# Sanitizer reports: a program built with a sanitizer reports on its stderr (TSan and LSan do not
# stop it, and a test may pass anyway), so every test fails that leaves a report in a tier's log.

_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                      ": runtime error: ")
_stderr_checked = {}  # stderr path -> bytes already checked


def _new_sanitizer_reports(tier):
    try:
        data = tier.stderr_path.read_bytes()
    except OSError:
        return None
    start = _stderr_checked.get(tier.stderr_path, 0)
    _stderr_checked[tier.stderr_path] = len(data)
    text = data[start:].decode(errors="replace")
    at = min((i for i in (text.find(m) for m in _SANITIZER_MARKERS) if i >= 0), default=-1)
    if at < 0:
        return None
    return f"{tier.name} ({tier.stderr_path}):\n" + text[max(0, at - 200):at + 6000]


@pytest.fixture(autouse=True)
def _no_sanitizer_reports():
    yield  # set up before, torn down after the fixtures that stop this test's tiers
    if not under_sanitizer():
        _all_tiers.clear()
        return
    reports = [r for r in (_new_sanitizer_reports(t) for t in _all_tiers) if r]
    _all_tiers[:] = [t for t in _all_tiers if t.running()]
    if reports:
        pytest.fail("sanitizer reports in the programs' logs:\n" + "\n".join(reports), pytrace=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "concurrency: coalescing and cross-thread paths, run in the TSan stage")
    config.addinivalue_line("markers", "sanitize: the subset of the suite the ASan+UBSan stage runs")


# The ASan+UBSan stage's subset (`-m sanitize`, with CDN_ASAN_SUBSET=1; by default it runs every
# test), by module: the proxy core (caching, upstreams, robustness, lifecycle and shutdown), TLS,
# live and access. A test elsewhere can opt in with @pytest.mark.sanitize.
SANITIZE_MODULES = {"test_caching", "test_upstream", "test_robustness", "test_lifecycle", "test_tls", "test_live",
                    "test_access", "test_origin"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__ in SANITIZE_MODULES:
            item.add_marker(pytest.mark.sanitize)


# ----------------------------------------------------------------------------------------------
# A scriptable origin in Python, for timing-sensitive tests

class SlowOrigin:
    """HTTP/1.1 origin on a raw socket. For a registered path it sends the head (with
    Content-Length) and the first `split` bytes of the body, then waits for `release` before
    the rest. Counts every request it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.objects = {}  # path -> (body, split, event)
        self.requests = []  # (path, head text)
        self.lock = threading.Lock()
        self.first_half_sent = threading.Event()
        self.closed = False
        self.stopped = threading.Event()
        self.default_status = 404  # for paths not registered; 5xx to play a failing origin
        self.threads = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()

    def add(self, path, body, split=None, release=None, headers=None, status=200, truncate=False, hang=False,
            chunked=False, close_after=False, no_length=False, ranges=False):
        """Registers `path`. split/release: send the body up to `split`, wait for `release`, then the
        rest. truncate: close the connection after `split` bytes instead (after `release` if given). hang: read the request and
        never answer. chunked: chunked transfer coding. close_after: close the connection after the
        response without saying so (a keep-alive connection the peer drops). no_length: neither
        Content-Length nor chunked; the body ends when the connection closes. ranges: a request
        with `Range: bytes=first-last` gets that slice as a 206 at once."""
        self.objects[path] = dict(body=body, split=len(body) // 2 if split is None else split, release=release,
                                  headers=headers or {}, status=status, truncate=truncate, hang=hang,
                                  chunked=chunked, close_after=close_after, no_length=no_length,
                                  ranges=ranges)

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                text = head.decode("latin-1")
                path = text.split(" ")[1] if " " in text else ""
                with self.lock:
                    self.requests.append((path, text))
                obj = self.objects.get(path.split("?")[0])
                if obj is None:
                    st = self.default_status
                    msg = f"{st} from the test origin".encode()
                    c.sendall(f"HTTP/1.1 {st} X\r\nContent-Length: {len(msg)}\r\nCache-Control: no-store\r\n\r\n"
                              .encode() + msg)
                    continue
                if obj["hang"]:
                    self.stopped.wait(60)
                    return
                body, split = obj["body"], obj["split"]
                wanted = re.search(r"(?im)^range: *bytes=(\d+)-(\d+)\s*$", text) if obj["ranges"] else None
                h = {"Content-Type": "video/mp2t", "Cache-Control": "public, max-age=3600", "ETag": '"slow-1"'}
                if obj["chunked"]:
                    h["Transfer-Encoding"] = "chunked"
                elif obj["no_length"]:
                    h["Connection"] = "close"
                else:
                    h["Content-Length"] = str(len(body))
                h.update(obj["headers"])
                h = {k: v for k, v in h.items() if v is not None}  # None removes a default header
                if wanted:
                    first, last = int(wanted[1]), min(int(wanted[2]), len(body) - 1)
                    h["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
                    h["Content-Length"] = str(last - first + 1)
                    c.sendall((f"HTTP/1.1 206 Partial Content\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
                               + "\r\n").encode() + body[first:last + 1])
                    continue
                reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}
                head = (f"HTTP/1.1 {obj['status']} {reason.get(obj['status'], 'X')}\r\n"
                        + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode()

                def enc(b):
                    if not obj["chunked"] or not b:
                        return b
                    return b"%x\r\n" % len(b) + b + b"\r\n"

                c.sendall(head + enc(body[:split]))
                self.first_half_sent.set()
                if obj["truncate"]:
                    if obj["release"] is not None:
                        obj["release"].wait(120)
                    return
                if obj["release"] is not None:
                    obj["release"].wait(120)
                c.sendall(enc(body[split:]) + (b"0\r\n\r\n" if obj["chunked"] else b""))
                if obj["close_after"] or obj["no_length"]:
                    return
        except OSError:
            return
        finally:
            c.close()

    def count(self, path=None):
        with self.lock:
            return len([p for p, _ in self.requests if path is None or p.split("?")[0] == path])

    def close(self):
        self.closed = True
        self.stopped.set()
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture
def slow_origin():
    o = SlowOrigin()
    yield o
    o.close()
