#!/usr/bin/env python3
"""Holds N client connections to one server and reports how much the server's RSS grew per
connection.

  idle:  every connection makes one keep-alive request, reads the whole response and then sits
         idle (what a server pays per idle keep-alive viewer);
  stall: every connection (SO_RCVBUF set small before connect) sends one request for a large
         object and never reads (what a server pays per viewer whose link stopped draining).

The server's RSS is read from /proc/PID/status before the first connection and, once all are
held, after it has stopped changing, so the figure does not depend on a guessed sleep.
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def total_rss_kib(pids):
    return sum(rss_kib(p) for p in pids)


def settled_rss_kib(pids, quiet_s, timeout_s):
    """RSS once it has not changed by more than 0.5% for quiet_s (or at timeout_s)."""
    deadline = time.monotonic() + timeout_s
    last = total_rss_kib(pids)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = total_rss_kib(pids)
        if abs(now - last) > max(64, last // 200):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now, True
    return total_rss_kib(pids), False


def read_response(sock, buf=b""):
    """Reads one response with Content-Length; returns (status, body length)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    got = len(body)
    while got < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        got += len(chunk)
    return status, got


class Opener:
    def __init__(self, args):
        self.args = args
        self.ctx = None
        if args.tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.ctx.check_hostname = False
            self.ctx.verify_mode = ssl.CERT_NONE
        self.request = (f"GET {args.path} HTTP/1.1\r\nHost: localhost\r\n"
                        f"User-Agent: cdn-bench-memory\r\n\r\n").encode()

    def open(self, i):
        a = self.args
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Spread the sockets over several loopback sources so no (source, destination) pair runs
        # out of ephemeral ports, and let connect() pick the port.
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((f"127.0.0.{2 + i % a.sources}", 0))
        if a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        s.settimeout(30)
        s.connect((a.host, a.port))
        if self.ctx:
            s = self.ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(self.request)
        if a.mode == "idle":
            status, _ = read_response(s)
            if status != 200:
                raise RuntimeError(f"status {status}")
        return s


TCP_ESTABLISHED = 1


def established(sock):
    """True while the server has not closed its side (the client's TCP state would be CLOSE_WAIT)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return info[0] == TCP_ESTABLISHED


def close_hard(sock):
    """Closes with RST, so thousands of closes leave no TIME_WAIT behind."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pid", type=int, action="append", required=True,
                   help="server process whose RSS is measured (repeat to sum several)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--path", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--mode", choices=["idle", "stall"], default="idle")
    p.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF before connect (stall mode)")
    p.add_argument("--sources", type=int, default=16, help="loopback source addresses to use")
    p.add_argument("--threads", type=int, default=16, help="connections opened in parallel")
    p.add_argument("--quiet", type=float, default=2.0, help="seconds RSS must be steady")
    p.add_argument("--settle-timeout", type=float, default=30.0)
    args = p.parse_args()

    before, _ = settled_rss_kib(args.pid, args.quiet, args.settle_timeout)
    opener = Opener(args)
    t0 = time.monotonic()
    socks, errors = [], []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for fut in [pool.submit(opener.open, i) for i in range(args.n)]:
            try:
                socks.append(fut.result())
            except Exception as e:  # noqa: BLE001 - counted and reported, never hidden
                errors.append(repr(e))
    opened_s = time.monotonic() - t0
    after, settled = settled_rss_kib(args.pid, args.quiet, args.settle_timeout)
    # The connections must still be open at the time of the measurement: a server that closed
    # them would look cheap.
    alive = sum(1 for s in socks if established(s))
    for s in socks:
        close_hard(s)
    held = len(socks)
    result = {
        "mode": args.mode, "tls": args.tls, "n": args.n, "held": held, "alive": alive,
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "rss_before_kib": before, "rss_after_kib": after, "settled": settled,
        "bytes_per_conn": round((after - before) * 1024 / held) if held else None,
        "open_seconds": round(opened_s, 2),
    }
    print(json.dumps(result))
    return 0 if held == args.n and alive == held else 1


if __name__ == "__main__":
    sys.exit(main())
