#!/usr/bin/env python3
"""Memory per connection: cdn-edge beside nginx, measured the same way in the same run.

Starts cdn-origin, cdn-edge (one worker, memory tier, TLS) and nginx (one worker process,
proxy_cache, the same certificate) in front of that origin, caches a 1 KB and a 2 MB object in
both, then for each server:
  idle plain  N keep-alive connections, each after one 1 KB hit, held open
  idle TLS    the same over TLS (handshake + one 1 KB hit)
  stalled TLS V TLS viewers with SO_RCVBUF 4 KiB that ask for the 2 MB object and read nothing
and reports the server's RSS growth divided by the connection count (nginx: its worker process).

Usage: bench/memory/run.py [--build DIR] [--idle N] [--stalled V]
Standard library only; needs nginx and openssl on PATH."""
import argparse
import os
import random
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KIB = 1024


def free_port():
    while True:
        p = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KIB
    raise RuntimeError("no VmRSS")


def children(pid):
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        out += [int(k) for k in kids]
    return out


def wait_http(url, timeout=20):
    ctx = ssl._create_unverified_context()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2, context=ctx) as r:
                return r.read(), dict(r.headers)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def wait_settled(pid, interval=0.5, timeout=60):
    """Waits until the process's RSS stops changing between two polls."""
    last = None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        now = rss(pid)
        if now == last:
            return now
        last = now
        time.sleep(interval)
    return last


def connect(port, tls, rcvbuf=0):
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(20)
    raw.connect(("127.0.0.1", port))
    if not tls:
        return raw
    ctx = ssl._create_unverified_context()
    return ctx.wrap_socket(raw, server_hostname="localhost")


def one_request(s, path):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    n = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
    while len(body) < n:
        body += s.recv(65536)


def measure_idle(pid, port, tls, n):
    before = wait_settled(pid)
    conns = []
    for _ in range(n):
        s = connect(port, tls)
        one_request(s, "/vod/bench/1k.bin")
        conns.append(s)
    after = wait_settled(pid)
    for s in conns:
        s.close()
    return (after - before) / n


def measure_stalled(pid, port, v):
    before = wait_settled(pid)
    conns = []
    for _ in range(v):
        s = connect(port, True, rcvbuf=4096)
        s.sendall(b"GET /vod/bench/2m.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        conns.append(s)
    after = wait_settled(pid)
    for s in conns:
        s.close()
    return (after - before) / v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--stalled", type=int, default=300)
    a = ap.parse_args()
    need = 2 * a.idle + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, need), hard), hard))
    work = Path(tempfile.mkdtemp(prefix="cdn-memory-"))
    (work / "vod/bench").mkdir(parents=True)
    (work / "vod/bench/1k.bin").write_bytes(os.urandom(1024))
    (work / "vod/bench/2m.bin").write_bytes(os.urandom(2 << 20))
    for d in ("nginx/cache", "nginx/tmp", "nginx/logs", "tls"):
        (work / d).mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(work / "tls/key.pem"), "-out", str(work / "tls/cert.pem")],
                   check=True, capture_output=True)
    p = {k: free_port() for k in ("origin", "origin_admin", "edge", "edge_tls", "edge_admin", "nginx", "nginx_tls")}
    (work / "origin.yaml").write_text(
        f"tier: origin\nworkers: 1\nlisten: [{{address: 127.0.0.1:{p['origin']}}}]\n"
        f"admin: {{listen: 127.0.0.1:{p['origin_admin']}, token: bench}}\n"
        f"origin: {{root: {work}/vod, segment_max_age: 7d}}\naccess_log: \"off\"\n")
    (work / "edge.yaml").write_text(
        f"tier: edge\nworkers: 1\nlisten: [{{address: 127.0.0.1:{p['edge_tls']}, tls: true}}, "
        f"{{address: 127.0.0.1:{p['edge']}}}]\nadmin: {{listen: 127.0.0.1:{p['edge_admin']}, token: bench}}\n"
        f"tls: {{certificates: [{{cert: {work}/tls/cert.pem, key: {work}/tls/key.pem}}]}}\n"
        f"upstream: {{servers: [{{address: 127.0.0.1:{p['origin']}}}]}}\n"
        f"limits: {{max_connections: {a.idle + 1000}}}\naccess_log: \"off\"\n")
    user = "user root root;" if os.getuid() == 0 else ""
    (work / "nginx/nginx.conf").write_text(f"""{user}
daemon off;
worker_processes 1;
pid {work}/nginx/nginx.pid;
error_log {work}/nginx/logs/error.log warn;
worker_rlimit_nofile {need};
events {{ worker_connections {a.idle + 1000}; }}
http {{
  access_log off;
  sendfile on;
  keepalive_timeout 600s;
  keepalive_requests 1000000;
  client_body_temp_path {work}/nginx/tmp/body;
  proxy_temp_path {work}/nginx/tmp/proxy;
  fastcgi_temp_path {work}/nginx/tmp/fastcgi;
  uwsgi_temp_path {work}/nginx/tmp/uwsgi;
  scgi_temp_path {work}/nginx/tmp/scgi;
  proxy_cache_path {work}/nginx/cache levels=1:2 keys_zone=edge:64m max_size=2g inactive=7d use_temp_path=off;
  server {{
    listen 127.0.0.1:{p['nginx']};
    listen 127.0.0.1:{p['nginx_tls']} ssl;
    ssl_certificate {work}/tls/cert.pem;
    ssl_certificate_key {work}/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:20m;
    location / {{
      proxy_pass http://127.0.0.1:{p['origin']};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_key $request_uri;
      add_header X-Cache-Status $upstream_cache_status;
    }}
  }}
}}
""")
    build = Path(a.build)
    procs = []
    try:
        def start(cmd):
            pr = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(work / "stderr.log", "ab"))
            procs.append(pr)
            return pr
        start([str(build / "origin-shield/origin/cdn-origin"), "--config", str(work / "origin.yaml")])
        wait_http(f"http://127.0.0.1:{p['origin_admin']}/healthz")
        results = {}
        # Fresh server processes for every case: memory freed by an earlier case stays in the
        # allocator and would hide the next case's cost.
        for case in ("idle plain", "idle TLS", "stalled TLS"):
            edge = start([str(build / "edge/cdn-edge"), "--config", str(work / "edge.yaml")])
            wait_http(f"http://127.0.0.1:{p['edge_admin']}/healthz")
            nginx = start(["nginx", "-p", str(work / "nginx"), "-c", str(work / "nginx/nginx.conf")])
            for port, tls in ((p["edge"], False), (p["edge_tls"], True), (p["nginx"], False), (p["nginx_tls"], True)):
                for obj in ("1k", "2m"):
                    for _ in range(2):  # the second answer comes from the cache
                        wait_http(f"{'https' if tls else 'http'}://127.0.0.1:{port}/vod/bench/{obj}.bin")
            nginx_worker = children(nginx.pid)[0]
            for name, pid, plain, tls in (("cdn-edge", edge.pid, p["edge"], p["edge_tls"]),
                                          ("nginx", nginx_worker, p["nginx"], p["nginx_tls"])):
                if case == "idle plain":
                    results[(name, case)] = measure_idle(pid, plain, False, a.idle)
                elif case == "idle TLS":
                    results[(name, case)] = measure_idle(pid, tls, True, a.idle)
                else:
                    results[(name, case)] = measure_stalled(pid, tls, a.stalled)
            for pr in (edge, nginx):  # nginx's master exits after its worker closed the listeners
                pr.terminate()
                pr.wait(20)
        rows = [(name, results[(name, "idle plain")], results[(name, "idle TLS")], results[(name, "stalled TLS")])
                for name in ("cdn-edge", "nginx")]
        print(f"idle connections: {a.idle}, stalled TLS viewers of a cached 2 MB object: {a.stalled}")
        print("| server | idle keep-alive plain | idle keep-alive TLS | stalled TLS viewer |")
        print("| --- | ---: | ---: | ---: |")
        for name, ip, it, st in rows:
            print(f"| {name} | {ip / KIB:.1f} KiB | {it / KIB:.1f} KiB | {st / KIB:.1f} KiB |")
        e, n = rows
        print(f"| cdn-edge / nginx | {e[1] / max(n[1], 1):.2f}x | {e[2] / max(n[2], 1):.2f}x | {e[3] / max(n[3], 1):.2f}x |")
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            try:
                pr.wait(10)
            except subprocess.TimeoutExpired:
                pr.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
