#!/usr/bin/env python3
"""A stand-in for 64 idle edges' /healthz during the DNS benchmark: every edge's admin URL points
here. http.server's default listen backlog (5) drops most of the poller's 64 concurrent connects,
hence the larger queue. Usage: healthz.py PORT"""
import http.server
import sys

BODY = (b'{"status":"ok","tier":"edge","draining":false,'
        b'"active_connections":0,"egress_bytes_per_s":0}\n')


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        ok = self.path == "/healthz"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY) if ok else 0))
        self.end_headers()
        if ok:
            self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Healthz).serve_forever()
