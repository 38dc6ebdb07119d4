#!/usr/bin/env python3
"""Fleet purge latency: N cdn-edge processes (one worker, memory cache, upstream = one cdn-origin)
share a redis-server on loopback; PURGES purges by URL are sent one after another to the first
edge's admin API. For each, the latency is from just before the admin call to the moment the last
node recorded applying it (the applied:<n> hash in Redis: each node writes its own unix ms, so the
resolution is 1 ms).
Prints one JSON line: nodes, purges, p50/p99/max in ms, and the admin call's own p50/p99.

usage: fleet_latency.py BUILD_DIR WORK_DIR NODES PURGES FIRST_PORT"""
import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

TOKEN = "bench-secret"


def wait_port(port, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} did not open")


def redis_cmd(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, check=True)
    return out.stdout


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    build, work, nodes, purges, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "vod").mkdir()
    procs = []
    try:
        redis_port, origin_port, origin_admin = port, port + 1, port + 2
        procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL))
        wait_port(redis_port)
        (work / "origin.yaml").write_text(
            f'tier: origin\nworkers: 1\nlisten:\n  - address: "127.0.0.1:{origin_port}"\n'
            f'admin:\n  listen: "127.0.0.1:{origin_admin}"\n  token: {TOKEN}\norigin:\n  root: {work / "vod"}\n')
        procs.append(subprocess.Popen([str(build / "origin-shield/origin/cdn-origin"), "--config", str(work / "origin.yaml")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(origin_port)
        admins = []
        for i in range(nodes):
            listen, admin = port + 10 + 2 * i, port + 11 + 2 * i
            cfg = work / f"edge{i}.yaml"
            cfg.write_text(
                f'tier: edge\nnode_name: edge{i}\nworkers: 1\nlisten:\n  - address: "127.0.0.1:{listen}"\n'
                f'upstream:\n  servers:\n    - address: "127.0.0.1:{origin_port}"\n'
                f'admin:\n  listen: "127.0.0.1:{admin}"\n  token: {TOKEN}\n'
                f'cache:\n  memory: 16MB\n'
                f'purge:\n  redis:\n    address: "127.0.0.1:{redis_port}"\n    wait: 5s\n')
            procs.append(subprocess.Popen([str(build / "edge/cdn-edge"), "--config", str(cfg)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            admins.append(admin)
        for a in admins:
            wait_port(a)
        end = time.time() + 20
        while len(redis_cmd(redis_port, "HKEYS", "cdn:purge:nodes").split()) < nodes:
            if time.time() > end:
                raise SystemExit("not every node registered in redis")
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", admins[0], timeout=10)
        last, call = [], []
        for i in range(purges):
            t0 = time.time()
            conn.request("POST", f"/admin/purge?url=127.0.0.1/vod/bench/{i}.ts",
                         headers={"Authorization": f"Bearer {TOKEN}", "Content-Length": "0"})
            r = conn.getresponse()
            body = r.read()
            t1 = time.time()
            if r.status != 200:
                raise SystemExit(f"purge {i}: {r.status} {body!r}")
            answer = json.loads(body)
            applied = [a["at_ms"] for a in answer["applied"]]
            if len(applied) != nodes:
                raise SystemExit(f"purge {i}: applied by {len(applied)} of {nodes}")
            # Nodes record whole unix ms: t0 is floored the same way, so a figure is never below
            # the truth and at most 1 ms above it.
            last.append(max(applied) - math.floor(t0 * 1000.0))
            call.append((t1 - t0) * 1000.0)
        print(json.dumps({"nodes": nodes, "purges": purges,
                          "last_applied_ms": {"p50": round(pct(last, 50), 2), "p99": round(pct(last, 99), 2),
                                              "max": round(max(last), 2)},
                          "admin_call_ms": {"p50": round(pct(call, 50), 2), "p99": round(pct(call, 99), 2)}}))
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
