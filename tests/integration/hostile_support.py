"""Helpers for the cross-tier hostile-input table (test_hostile.py): one raw connection type for plain
and TLS listeners, a listener description (tier, port, a known object), a process's resident memory
and a sender that streams an endless request head as fast as the socket takes it."""
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from conftest import RawConn, client_tls_context

MIB = 1 << 20
# A server that refuses an oversized head may close while bytes are in flight; the client then sees
# a reset or, over TLS, an unexpected EOF. All of these mean "closed" here.
CLOSED_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError, EOFError)


class HostileConn(RawConn):
    """RawConn over plain TCP or TLS (SNI a.test, no verification: the table tests input, not PKI)."""

    def __init__(self, port, tls=False, timeout=10.0):
        super().__init__(port, timeout=timeout)
        if tls:
            self.sock = client_tls_context().wrap_socket(self.sock, server_hostname="a.test")

    def read_to_close(self, timeout=10.0):
        try:
            return super().read_to_close(timeout)
        except CLOSED_ERRORS:
            return self.buf, True

    def response_or_none(self):
        """The first response, or None when the peer closed (or reset) without one."""
        try:
            return self.read_response()
        except CLOSED_ERRORS:
            return None


@dataclass
class Listener:
    """One listener under attack and an object it serves normally (body None: compare status only)."""
    name: str
    tier: object  # conftest.Tier
    port: int
    tls: bool
    path: str
    body: bytes = None

    def get_known(self, timeout=10.0):
        with HostileConn(self.port, self.tls, timeout) as c:
            c.send(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % self.path.encode())
            return c.read_response()

    def assert_serves_known(self, timeout=10.0):
        r = self.get_known(timeout)
        assert r.status == 200, f"{self.name}: a normal request for {self.path} got {r}"
        if self.body is not None:
            assert r.body == self.body, f"{self.name}: wrong bytes for {self.path}"

    def limit(self, section, key, default):
        return self.tier.config.get(section, {}).get(key, default)


def parse_duration_s(text):
    m = re.fullmatch(r"(\d+)(ms|s)", str(text))
    assert m, f"unexpected duration {text!r}"
    return int(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


class RssPeak:
    """Samples a process's VmRSS from a thread while the `with` block runs; `peak` is the largest
    sample, taken during the attack (a freed buffer would hide growth from an 'after' reading alone)."""

    def __init__(self, pid, interval=0.005):
        self.pid, self.interval = pid, interval
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, AssertionError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


class Prober:
    """Requests the listener's known object on fresh connections: once on demand (`probe`) and then
    over and over from a thread between `start` and `stop`, so that requests are made while an attack
    runs; every answer must be the normal one."""

    def __init__(self, listener):
        self.listener = listener
        self.served, self.failures = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def probe(self):
        try:
            self.listener.assert_serves_known()
            self.served += 1
        except (AssertionError, OSError, EOFError) as e:
            self.failures.append(repr(e))

    def _run(self):
        while not self._stop.is_set():
            self.probe()
            self._stop.wait(0.02)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@dataclass
class AttackResult:
    sent: int           # bytes of the request written before the peer stopped taking them
    seconds: float      # from the first streamed byte until the connection was seen closed
    closed: bool        # the peer closed (or reset) before the deadline
    response: bytes     # what the peer wrote back, if anything


def stream_head(conn, prefix, filler, total, deadline_s, on_started=None):
    """Sends `prefix`, then `filler` bytes (1 MiB writes) up to `total`, never ending the head.
    `on_started()` runs once the prefix and a first small piece are on the wire (the attack is open).
    Returns when the peer closes or `deadline_s` after the stream started, whichever is first."""
    chunk = filler * (MIB // len(filler))
    conn.send(prefix + chunk[:1024])
    if on_started:
        on_started()
    start = time.monotonic()
    sent, closed = len(prefix) + 1024, False
    try:
        while sent < total:
            remaining = deadline_s - (time.monotonic() - start)
            if remaining <= 0:
                break
            conn.sock.settimeout(remaining)
            conn.sock.sendall(chunk)
            sent += len(chunk)
    except (socket.timeout, TimeoutError):
        pass
    except CLOSED_ERRORS:
        closed = True
    if not closed:
        remaining = max(0.05, deadline_s - (time.monotonic() - start))
        _, closed = conn.read_to_close(remaining)
    seconds = time.monotonic() - start
    if closed:
        conn.read_to_close(1.0)  # a response written before the close may still be readable
    return AttackResult(sent, seconds, closed, conn.buf)
