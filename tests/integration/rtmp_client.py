"""A minimal RTMP publisher for the ingest tests: what ffmpeg 5.1 cannot send (HEVC over Enhanced
RTMP) or will not do (stop sending media while staying connected). Simple handshake, AMF0
commands, one chunk stream per message kind, chunk size 4096 after connect."""
import re
import socket
import struct

CHUNK = 4096


def amf(v):
    if v is None:
        return b"\x05"
    if isinstance(v, bool):
        return b"\x01" + bytes([v])
    if isinstance(v, (int, float)):
        return b"\x00" + struct.pack(">d", v)
    if isinstance(v, str):
        return b"\x02" + struct.pack(">H", len(v)) + v.encode()
    if isinstance(v, dict):
        body = b"".join(struct.pack(">H", len(k)) + k.encode() + amf(x) for k, x in v.items())
        return b"\x03" + body + b"\x00\x00\x09"
    raise TypeError(v)


def message(csid, typ, stream, ts, payload, chunk):
    """Type-0 header, then type-3 continuation chunks (extended timestamps not needed here)."""
    out = bytes([csid]) + ts.to_bytes(3, "big") + len(payload).to_bytes(3, "big") + bytes([typ])
    out += stream.to_bytes(4, "little")
    for i in range(0, max(len(payload), 1), chunk):
        if i:
            out += bytes([0xC0 | csid])
        out += payload[i:i + chunk]
    return out


class Publisher:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.chunk = 128
        self.received = b""

    def handshake(self):
        self.sock.sendall(b"\x03" + bytes(1536))
        self._read(1 + 2 * 1536)
        self.sock.sendall(bytes(1536))

    def _read(self, n):
        data = b""
        while len(data) < n:
            part = self.sock.recv(n - len(data))
            if not part:
                raise ConnectionError("closed by the server")
            data += part
        return data

    def invoke(self, *values, stream=0):
        self.sock.sendall(message(3, 20, stream, 0, b"".join(amf(v) for v in values), self.chunk))

    def publish(self, app, name):
        self.handshake()
        self.invoke("connect", 1, {"app": app, "tcUrl": f"rtmp://127.0.0.1/{app}"})
        self.invoke("createStream", 2, None)
        self.invoke("publish", 3, None, name, "live", stream=1)
        self.sock.sendall(message(2, 1, 0, 0, struct.pack(">I", CHUNK), self.chunk))
        self.chunk = CHUNK

    def video(self, ts, tag):
        self.sock.sendall(message(6, 9, 1, ts, tag, self.chunk))

    def replies(self, timeout=5):
        """Everything the server sends until it closes (or `timeout` of silence)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                part = self.sock.recv(65536)
                if not part:
                    return self.received, True
                self.received += part
        except socket.timeout:
            return self.received, False

    def wait_for(self, marker, timeout=10):
        """Reads what the server sends until `marker` is among it; False if it closes or times out first."""
        self.sock.settimeout(timeout)
        try:
            while marker not in self.received:
                part = self.sock.recv(65536)
                if not part:
                    return False
                self.received += part
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def hevc_access_units(annexb):
    """Annex B HEVC (with AUDs, as x265 writes with aud=1) -> [(nal units, is_irap)]."""
    nals = [n for n in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", annexb) if n]
    units, cur = [], []
    for n in nals:
        if (n[0] >> 1) & 0x3F == 35 and cur:  # an AUD starts the next access unit
            units.append(cur)
            cur = []
        cur.append(n)
    if cur:
        units.append(cur)
    return [(u, any(16 <= (n[0] >> 1) & 0x3F <= 21 for n in u)) for u in units]


def hevc_sequence_start(vps, sps, pps):
    rec = bytes([1] + [0] * 20 + [0x0F, 3])  # lengthSizeMinusOne 3, three arrays
    for typ, nal in ((32, vps), (33, sps), (34, pps)):
        rec += bytes([0x80 | typ]) + struct.pack(">HH", 1, len(nal)) + nal
    return b"\x90hvc1" + rec  # IsExHeader | keyframe | SequenceStart


def hevc_coded_frame(nals, key):
    body = b"".join(struct.pack(">I", len(n)) + n for n in nals if (n[0] >> 1) & 0x3F not in (32, 33, 34, 35))
    return bytes([0x80 | ((1 if key else 2) << 4) | 3]) + b"hvc1" + body  # CodedFramesX
