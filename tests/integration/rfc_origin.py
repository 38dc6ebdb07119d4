"""A scriptable HTTP/1.1 origin for the RFC 9111 conformance table (test_rfc9111.py).

Every request it receives is recorded (method, target, headers in order, body). What it answers is
scripted per path: a list of answers used one per request (the last one repeats), each with a
status, headers, body, an optional delay before the head, optional interim (1xx) heads, or
`close` to drop the connection without answering. Standard library only.
"""
import email.utils
import socket
import threading
import time

from conftest import Response


class Answer:
    def __init__(self, status=200, headers=None, body=b"", delay=0.0, interim=None, close=False, date=True):
        self.status = status
        self.headers = list((headers or {}).items()) if isinstance(headers, dict) else list(headers or [])
        self.body = body.encode() if isinstance(body, str) else body
        self.delay = delay
        self.interim = interim or []  # [(status, [(name, value)])] sent before the final head
        self.close = close
        self.date = date  # add Date: now unless the script sets one

    def __repr__(self):
        return f"<Answer {self.status} {self.headers} {len(self.body)}B{' close' if self.close else ''}>"


class Received(Response):
    """One request as the origin saw it (header lookup as a Response's)."""

    def __init__(self, method, target, headers, body):
        super().__init__(0, "", headers, body)
        self.method, self.target = method, target

    @property
    def path(self):
        return self.target.split("?")[0]

    def __repr__(self):
        return f"<{self.method} {self.target} {self.headers} body={len(self.body)}B>"


_REASONS = {100: "Continue", 103: "Early Hints", 200: "OK", 201: "Created", 204: "No Content",
            206: "Partial Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            404: "Not Found", 405: "Method Not Allowed", 410: "Gone", 500: "Internal Server Error",
            503: "Service Unavailable"}


def http_date(t=None):
    return email.utils.formatdate(time.time() if t is None else t, usegmt=True)


def read_request_head(c, buf):
    """(method, target, [(name, value)], bytes after the head) of the next request on socket `c`,
    `buf` holding what was read already; None when the peer closes first."""
    while b"\r\n\r\n" not in buf:
        chunk = c.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return method, target, headers, buf


class RfcOrigin:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.scripts = {}  # path -> [Answer]
        self.served = {}   # path -> how many answers were used
        self.received = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    # --- scripting and records
    def script(self, path, *answers):
        with self.lock:
            self.scripts[path] = list(answers)
            self.served[path] = 0

    def requests(self, path):
        with self.lock:
            return [r for r in self.received if r.path == path]

    def count(self, path):
        return len(self.requests(path))

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    # --- serving
    def _next_answer(self, path):
        with self.lock:
            answers = self.scripts.get(path)
            if not answers:
                return Answer(404, {"Cache-Control": "no-store"}, b"not scripted\n")
            i = min(self.served[path], len(answers) - 1)
            self.served[path] += 1
            return answers[i]

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _read_body(c, buf, headers):
        te = ",".join(v for k, v in headers if k.lower() == "transfer-encoding").lower()
        cl = next((v for k, v in headers if k.lower() == "content-length"), None)
        if "chunked" in te:
            body = b""
            while True:
                while b"\r\n" not in buf:
                    buf += c.recv(65536) or b""
                line, _, buf = buf.partition(b"\r\n")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                while len(buf) < size + 2:
                    more = c.recv(65536)
                    if not more:
                        raise OSError("closed mid-body")
                    buf += more
                if size == 0:
                    while b"\r\n" not in buf:  # no trailers expected: just the final CRLF
                        buf += c.recv(65536) or b""
                    buf = buf.partition(b"\r\n")[2]
                    return body, buf
                body += buf[:size]
                buf = buf[size + 2:]
        n = int(cl) if cl else 0
        while len(buf) < n:
            more = c.recv(65536)
            if not more:
                raise OSError("closed mid-body")
            buf += more
        return buf[:n], buf[n:]

    def _serve(self, c):
        buf = b""
        try:
            while not self.closed:
                got = read_request_head(c, buf)
                if got is None:
                    return
                method, target, headers, buf = got
                body, buf = self._read_body(c, buf, headers)
                rec = Received(method, target, headers, body)
                with self.lock:
                    self.received.append(rec)
                a = self._next_answer(rec.path)
                if a.delay:
                    time.sleep(a.delay)
                if a.close:
                    return
                out = b""
                for status, hs in a.interim:
                    out += (f"HTTP/1.1 {status} {_REASONS.get(status, 'X')}\r\n"
                            + "".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n").encode("latin-1")
                hs = list(a.headers)
                names = {k.lower() for k, _ in hs}
                if a.date and "date" not in names:
                    hs.append(("Date", http_date()))
                bodyless = method == "HEAD" or a.status in (204, 304)
                if "content-length" not in names and "transfer-encoding" not in names and a.status not in (204, 304):
                    hs.append(("Content-Length", str(len(a.body))))
                out += (f"HTTP/1.1 {a.status} {_REASONS.get(a.status, 'X')}\r\n"
                        + "".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n").encode("latin-1")
                if not bodyless:
                    out += a.body
                c.sendall(out)
        except (OSError, ValueError, IndexError):
            return
        finally:
            c.close()
