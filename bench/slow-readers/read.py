#!/usr/bin/env python3
"""Holds N TLS viewers of one object, each reading it at a fixed rate, for a fixed time, and
reports the server's RSS then (and its growth over the RSS before the viewers came) as JSON.

The connections are opened with bench/memory/hold.py's Opener (loopback sources spread, TLS
without verification); one thread reads every socket a tick at a time, at most rate * tick bytes
per viewer per tick, so each viewer is a slow client the server must pace, not buffer for.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "memory"))
from hold import Opener, close_hard, established, rss_kib, settled_rss_kib  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--path", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--rate", type=int, default=10_000, help="bytes per second per viewer")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rcvbuf", type=int, default=16 * 1024)
    p.add_argument("--sources", type=int, default=16)
    p.add_argument("--threads", type=int, default=16)
    args = p.parse_args()
    args.tls, args.mode = True, "stall"  # Opener: TLS, send the request and return the socket

    base = rss_kib(args.pid)
    opener = Opener(args)
    t0 = time.monotonic()
    socks, errors = [], []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for fut in [pool.submit(opener.open, i) for i in range(args.n)]:
            try:
                socks.append(fut.result())
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(repr(e))
    opened_s = time.monotonic() - t0
    got = {s: 0 for s in socks}
    for s in socks:
        s.setblocking(False)
    tick = 0.1
    start = next_tick = time.monotonic()
    last_report = start
    while time.monotonic() - start < args.seconds:
        for s in socks:
            budget = int(args.rate * tick)
            while budget > 0:
                try:
                    chunk = s.recv(budget)
                except (ssl.SSLWantReadError, BlockingIOError):
                    break
                except OSError:
                    break
                if not chunk:
                    break
                got[s] += len(chunk)
                budget -= len(chunk)
        now = time.monotonic()
        if now - last_report >= 10:
            last_report = now
            print(f"  {now - start:5.1f} s: read {sum(got.values()) / 1048576:.1f} MiB, "
                  f"server RSS {rss_kib(args.pid) / 1024:.1f} MiB", file=sys.stderr, flush=True)
        next_tick += tick
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - start
    rss_after = rss_kib(args.pid)
    alive = sum(1 for s in socks if established(s))
    reads = sorted(got.values())
    for s in socks:
        close_hard(s)
    settled, _ = settled_rss_kib([args.pid], 1.0, 10)
    print(json.dumps({
        "n": args.n, "held": len(socks), "alive": alive, "errors": len(errors),
        "first_error": errors[0] if errors else None, "open_seconds": round(opened_s, 1),
        "seconds": round(elapsed, 1), "rate": args.rate,
        "read_mib": round(sum(reads) / 1048576, 1),
        "min_read_kib": round(reads[0] / 1024) if reads else 0,
        "median_read_kib": round(reads[len(reads) // 2] / 1024) if reads else 0,
        "rss_before_kib": base, "rss_after_kib": rss_after, "rss_after_close_kib": settled,
    }))
    return 0 if len(socks) == args.n and alive == len(socks) else 1


if __name__ == "__main__":
    sys.exit(main())
