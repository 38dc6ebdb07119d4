"""A small HTTP/2 client built from raw frames (RFC 9113) with Python's hpack, for the HTTP/2
tests: it can play a well-behaved client (many concurrent streams, window updates) and the
attacks (frames a real client never sends). Debian's python3-h2 brings hpack."""
import socket
import ssl
import struct
import time

from hpack import Decoder, Encoder

from conftest import Response

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
# Error codes
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 7, 8, 9, 11
SETTINGS_HEADER_TABLE_SIZE, SETTINGS_INITIAL_WINDOW_SIZE = 0x1, 0x4


def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream_id) + payload


def settings(**entries):
    ids = {"header_table_size": 1, "enable_push": 2, "max_concurrent_streams": 3, "initial_window_size": 4,
           "max_frame_size": 5, "max_header_list_size": 6}
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", ids[k], v) for k, v in entries.items()))


def window_update(stream_id, n):
    return frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", n))


def rst_stream(stream_id, code=CANCEL):
    return frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))


class Stream:
    def __init__(self):
        self.headers = []
        self.body = bytearray()
        self.ended = False
        self.reset = None  # error code of a RST_STREAM from the server

    def response(self):
        status = int(dict(self.headers).get(":status", "0"))
        return Response(status, "", [(k, v) for k, v in self.headers if not k.startswith(":")], bytes(self.body))


class H2Conn:
    """One connection. `window`: the initial stream window we announce (0 = never opened)."""

    def __init__(self, port, tls=False, sni="a.test", timeout=10.0, window=None, authority=None, rcvbuf=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so the window the kernel announces stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=sni)
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        self.authority = authority or f"127.0.0.1:{port}"
        self.scheme = "https" if tls else "http"
        self.enc, self.dec = Encoder(), Decoder()
        self.buf = b""
        self.streams = {}
        self.next_id = 1
        self.goaway = None  # (last_stream_id, error_code)
        self.closed = False
        self.send_failed = False
        self.auto_window = window is None
        self.server_settings = {}
        init = {} if window is None else {"initial_window_size": window}
        self.send(PREFACE + settings(**init))
        if window == 0:
            pass  # the connection window stays at the default; streams get nothing
        elif window is None:
            self.send(window_update(0, 16 * 1024 * 1024))

    def send(self, data):
        """Sends unless the server has closed (an attack goes on sending after the GOAWAY); what it
        said before closing is still read by pump()."""
        if self.send_failed:
            return
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.send_failed = True

    def header_block(self, path, method="GET", headers=None):
        fields = [(":method", method), (":scheme", self.scheme), (":authority", self.authority), (":path", path)]
        fields += [(k.lower(), v) for k, v in (headers or {}).items()]
        return self.enc.encode(fields)

    def request(self, path, method="GET", headers=None, end_stream=True):
        sid = self.next_id
        self.next_id += 2
        self.streams[sid] = Stream()
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        self.send(frame(HEADERS, flags, sid, self.header_block(path, method, headers)))
        return sid

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 20)
        except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def _frames(self):
        while len(self.buf) >= 9:
            n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
            if len(self.buf) < 9 + n:
                return
            ftype, flags = self.buf[3], self.buf[4]
            sid = struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
            payload, self.buf = self.buf[9:9 + n], self.buf[9 + n:]
            yield ftype, flags, sid, payload

    def _handle(self, ftype, flags, sid, payload):
        st = self.streams.get(sid)
        if ftype == SETTINGS and not flags & ACK:
            for i in range(0, len(payload), 6):
                k, v = struct.unpack(">HI", payload[i:i + 6])
                self.server_settings[k] = v
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            self.goaway = struct.unpack(">II", payload[:8])
            self.goaway = (self.goaway[0] & 0x7FFFFFFF, self.goaway[1])
        elif ftype == HEADERS and st is not None:
            st.headers += [(k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
                           for k, v in self.dec.decode(payload)]
            st.ended = st.ended or bool(flags & END_STREAM)
        elif ftype == DATA and st is not None:
            st.body += payload
            st.ended = st.ended or bool(flags & END_STREAM)
            if self.auto_window and payload:
                self.send(window_update(0, len(payload)) + window_update(sid, len(payload)))
        elif ftype == RST_STREAM and st is not None:
            st.reset = struct.unpack(">I", payload)[0]
            st.ended = True

    def pump(self, until, timeout=10.0):
        """Reads frames until until() is true, the connection closes or the time is up."""
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                return until()
            if self._recv(min(left, 0.5)):
                try:
                    for f in self._frames():
                        self._handle(*f)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.closed = True
        return True

    def wait_streams(self, ids, timeout=10.0):
        assert self.pump(lambda: all(self.streams[i].ended for i in ids), timeout), \
            f"streams not ended: {[i for i in ids if not self.streams[i].ended]}, goaway={self.goaway}"
        return [self.streams[i] for i in ids]

    def wait_goaway(self, timeout=10.0):
        self.pump(lambda: self.goaway is not None or self.closed, timeout)
        return self.goaway

    def get(self, path, headers=None, method="GET", timeout=10.0):
        sid = self.request(path, method=method, headers=headers)
        return self.wait_streams([sid], timeout)[0].response()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def h2_request(port, path, method="GET", headers=None, host="127.0.0.1", tls=False, timeout=10.0):
    """One request on a fresh HTTP/2 connection, like conftest.http_request; returns Response."""
    hdrs = dict(headers or {})
    with H2Conn(port, tls=tls, authority=host if host != "127.0.0.1" else None, timeout=timeout) as c:
        return c.get(path, headers=hdrs, method=method, timeout=timeout)
