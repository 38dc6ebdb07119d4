"""Helpers for the live-origin integration tests (test_live*.py): configs, encoding test streams
with ffmpeg, pushing MPEG-TS to /ingest/ (paced or at full speed, over HTTP or UDP), parsing media
playlists and TS segments, and building SCTE-35 splice_insert sections.

Most tests push pre-encoded files at full speed: the segmenter cuts by timestamps, not by the wall
clock, so a 20 s stream is segmented in a fraction of a second. Only the end-to-end test runs
ffmpeg live (-re) against the origin.
"""
import http.client
import json
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port, origin_config

STREAM_KEY = "secret-key"
FRAME_S = 1 / 25  # every test stream is 25 fps


def need_ffmpeg():
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        pytest.skip("ffmpeg/ffprobe are not installed")


def live_origin_config(root, store, channels=None, target="2s", window=6, dvr="1m", gap="1500ms",
                       **origin_kw):
    cfg = origin_config(root, **origin_kw)
    cfg["live"] = {
        "store_path": str(store),
        "target_duration": target,
        "window_segments": window,
        "dvr_window": dvr,
        "input_gap": gap,
        "channels": channels or [{"name": "demo", "stream_key": STREAM_KEY, "renditions": [{"name": "720p"}]}],
    }
    return cfg


# ----------------------------------------------------------------------------------------------
# Test streams

_encoded = {}
_encode_lock = threading.Lock()


def encode_ts(directory, seconds, gop=50, size="320x240", name=None):
    """testsrc + sine, libx264 with a fixed GOP (frames at 25 fps) + AAC, as an MPEG-TS file."""
    need_ffmpeg()
    key = (str(directory), seconds, gop, size, name)
    with _encode_lock:
        if key in _encoded:
            return _encoded[key]
        out = Path(directory) / (name or f"test-{seconds}s-g{gop}-{size}.ts")
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
               "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-c:a", "aac", "-f", "mpegts", str(out)]
        r = subprocess.run(cmd, capture_output=True, timeout=180)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        _encoded[key] = out
        return out


def ffmpeg_live_push(port, seconds, channel="demo", rendition="720p", key=STREAM_KEY, gop=50, role=None):
    """ffmpeg encoding in real time (-re) and pushing with HTTP PUT, as an encoder would."""
    need_ffmpeg()
    url = f"http://127.0.0.1:{port}/ingest/{channel}/{rendition}?key={key}"
    if role:
        url += f"&role={role}"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-c:a", "aac",
           "-f", "mpegts", "-method", "PUT", url]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Pusher:
    """Pushes bytes to /ingest/ with a chunked PUT from a thread; `rate` in bytes/s (None = as fast
    as possible). abort() drops the connection like a crashed encoder; join() waits for the answer."""

    def __init__(self, port, data, channel="demo", rendition="720p", key=STREAM_KEY, role=None, rate=None,
                 chunk=7 * 188 * 8, headers=None):
        self.port, self.data, self.rate, self.chunk = port, data, rate, chunk
        self.path = f"/ingest/{channel}/{rendition}"
        q = []
        if key is not None:
            q.append(f"key={key}")
        if role:
            q.append(f"role={role}")
        if q:
            self.path += "?" + "&".join(q)
        self.headers = dict(headers or {})
        self.status = None
        self.error = None
        self.sent = 0
        self._stop = threading.Event()
        self._sock = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self._sock = s
            head = f"PUT {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            s.sendall((head + "\r\n").encode())
            t0 = time.monotonic()
            for off in range(0, len(self.data), self.chunk):
                if self._stop.is_set():
                    return
                part = self.data[off:off + self.chunk]
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                self.sent += len(part)
                if self.rate:
                    ahead = self.sent / self.rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            s.sendall(b"0\r\n\r\n")
            resp = b""
            while b"\r\n" not in resp:
                more = s.recv(4096)
                if not more:
                    break
                resp += more
            m = re.match(rb"HTTP/1\.1 (\d+)", resp)
            self.status = int(m.group(1)) if m else None
            s.close()
        except OSError as e:
            self.error = e
            if self._sock is not None:
                # An early answer (403) may be waiting even though the send failed.
                try:
                    resp = self._sock.recv(4096)
                    m = re.match(rb"HTTP/1\.1 (\d+)", resp)
                    if m:
                        self.status = int(m.group(1))
                except OSError:
                    pass

    def abort(self):
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        self.thread.join(10)

    def join(self, timeout=60):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "push did not finish"
        return self.status


def push(port, data, **kw):
    """A whole body at full speed; returns the HTTP status."""
    return Pusher(port, data, **kw).start().join()


def udp_push(port, data, rate=None, datagram=7 * 188):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        t0 = time.monotonic()
        sent = 0
        for off in range(0, len(data), datagram):
            s.sendto(data[off:off + datagram], ("127.0.0.1", port))
            sent += datagram
            if rate:
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            elif (off // datagram) % 64 == 63:
                time.sleep(0.002)  # let the socket buffer drain


# ----------------------------------------------------------------------------------------------
# Playlists

class MediaPlaylist:
    def __init__(self, text):
        self.text = text
        self.target_duration = None
        self.media_sequence = 0
        self.discontinuity_sequence = 0
        self.endlist = False
        self.type = None
        self.segments = []  # dicts: seq, uri, duration, discontinuity, tags (lines before EXTINF)
        pending = []
        seq = None
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("#EXT-X-TARGETDURATION:"):
                self.target_duration = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                self.media_sequence = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
                self.discontinuity_sequence = int(line.split(":", 1)[1])
            elif line == "#EXT-X-ENDLIST":
                self.endlist = True
            elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
                self.type = line.split(":", 1)[1]
            elif line.startswith("#"):
                pending.append(line)
            else:
                if seq is None:
                    seq = self.media_sequence
                extinf = [t for t in pending if t.startswith("#EXTINF:")]
                dur = float(extinf[0][8:].split(",")[0]) if extinf else None
                self.segments.append({"seq": seq, "uri": line, "duration": dur,
                                      "discontinuity": "#EXT-X-DISCONTINUITY" in pending, "tags": pending})
                pending = []
                seq += 1

    def seqs(self):
        return [s["seq"] for s in self.segments]


def get_playlist(tier, path, **kw):
    r = tier.get(path, **kw)
    assert r.status == 200, (path, r.status, r.body[:200])
    return MediaPlaylist(r.body.decode())


def wait_playlist(tier, path, pred, timeout=30.0, what="playlist"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = tier.get(path)
        if r.status == 200:
            last = MediaPlaylist(r.body.decode())
            if pred(last):
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} at {path}; last:\n{last.text if last else None}")


# ----------------------------------------------------------------------------------------------
# MPEG-TS

def ts_packets(data):
    assert len(data) % 188 == 0, f"segment length {len(data)} is not a multiple of 188"
    for off in range(0, len(data), 188):
        p = data[off:off + 188]
        assert p[0] == 0x47, f"lost sync at byte {off}"
        yield p


def _payload(p):
    afc = (p[3] >> 4) & 3
    if afc in (0, 2):
        return b""
    if afc == 3:
        return p[5 + p[4]:]
    return p[4:]


def parse_pat(section_payload):
    # pointer field, then the section
    sec = section_payload[1 + section_payload[0]:]
    length = ((sec[1] & 0x0F) << 8) | sec[2]
    progs = sec[8:3 + length - 4]
    for i in range(0, len(progs), 4):
        num = (progs[i] << 8) | progs[i + 1]
        pid = ((progs[i + 2] & 0x1F) << 8) | progs[i + 3]
        if num != 0:
            return pid
    return None


def parse_pmt(section_payload):
    """{pid: stream_type}"""
    sec = section_payload[1 + section_payload[0]:]
    length = ((sec[1] & 0x0F) << 8) | sec[2]
    pinfo = ((sec[10] & 0x0F) << 8) | sec[11]
    i = 12 + pinfo
    end = 3 + length - 4
    out = {}
    while i + 5 <= end:
        st = sec[i]
        pid = ((sec[i + 1] & 0x1F) << 8) | sec[i + 2]
        esl = ((sec[i + 3] & 0x0F) << 8) | sec[i + 4]
        out[pid] = st
        i += 5 + esl
    return out


def _pes_pts(payload):
    if payload[:3] != b"\x00\x00\x01" or not (payload[7] & 0x80):
        return None, None
    b = payload[9:14]
    pts = ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
    return pts, 9 + payload[8]


def _nal_types(es):
    types = []
    i = 0
    while True:
        j = es.find(b"\x00\x00\x01", i)
        if j < 0 or j + 3 >= len(es):
            return types
        types.append(es[j + 3] & 0x1F)
        i = j + 3


def inspect_segment(data):
    """Checks the structure of one segment and returns facts about it:
    first_pids (PIDs of the first two packets), pmt_pid, streams {pid: type}, video_pid,
    video_pts (all PES PTS of the video PID, 90 kHz), first_nal_types (of the first video PES)."""
    pkts = list(ts_packets(data))
    facts = {"first_pids": [((p[1] & 0x1F) << 8) | p[2] for p in pkts[:2]]}
    pmt_pid = streams = None
    video_pid = None
    video_pts = []
    first_es = None
    collecting = False
    for p in pkts:
        pid = ((p[1] & 0x1F) << 8) | p[2]
        pusi = bool(p[1] & 0x40)
        pl = _payload(p)
        if pid == 0 and pusi and pmt_pid is None:
            pmt_pid = parse_pat(pl)
        elif pid == pmt_pid and pusi and streams is None:
            streams = parse_pmt(pl)
            video_pid = next((k for k, v in streams.items() if v in (0x1B, 0x24)), None)
        elif pid == video_pid:
            if pusi:
                pts, hdr = _pes_pts(pl)
                if pts is not None:
                    video_pts.append(pts)
                if first_es is None:
                    first_es = bytearray(pl[hdr:] if hdr else b"")
                    collecting = True
                else:
                    collecting = False
            elif collecting:
                first_es += pl
    facts.update(pmt_pid=pmt_pid, streams=streams or {}, video_pid=video_pid, video_pts=video_pts,
                 first_nal_types=_nal_types(bytes(first_es or b"")))
    return facts


def ffprobe_first_frame_is_key(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_frames", "-read_intervals", "%+#1",
                        "-show_entries", "frame=key_frame,pict_type", "-of", "json", str(path)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    frames = json.loads(r.stdout)["frames"]
    return bool(frames) and frames[0].get("key_frame") == 1


def ffprobe_streams(url, timeout=60):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height",
                        "-of", "json", url], capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return json.loads(r.stdout).get("streams", [])


# ----------------------------------------------------------------------------------------------
# SCTE-35: a splice_insert placed in an existing single-program TS

def crc32_mpeg2(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def splice_insert_section(event_id, pts, duration_s=None, out=True):
    cmd = struct.pack(">I", event_id) + bytes([0x7F])  # not cancelled
    flags = (0x80 if out else 0) | 0x40 | (0x20 if duration_s else 0) | 0x0F  # program splice, timed
    cmd += bytes([flags])
    cmd += bytes([0xFE | ((pts >> 32) & 1)]) + struct.pack(">I", pts & 0xFFFFFFFF)  # time_specified
    if duration_s:
        d = int(duration_s * 90000)
        cmd += bytes([0x80 | 0x7E | ((d >> 32) & 1)]) + struct.pack(">I", d & 0xFFFFFFFF)  # auto_return
    cmd += struct.pack(">HBB", 1, 0, 0)  # unique_program_id, avail_num, avails_expected
    body = bytes([0x00])  # protocol_version
    body += bytes([0x00]) + struct.pack(">I", 0)  # not encrypted, pts_adjustment 0
    body += bytes([0x00])  # cw_index
    body += bytes([0xFF, 0xF0 | (len(cmd) >> 8), len(cmd) & 0xFF])  # tier 0xFFF, command length
    body += bytes([0x05]) + cmd  # splice_insert
    body += struct.pack(">H", 0)  # descriptor_loop_length
    length = len(body) + 4
    head = bytes([0xFC, 0x30 | (length >> 8), length & 0xFF])
    sec = head + body
    return sec + struct.pack(">I", crc32_mpeg2(sec))


def _section_packet(pid, section, cc):
    payload = b"\x00" + section
    assert len(payload) <= 184
    return bytes([0x47, 0x40 | (pid >> 8), pid & 0xFF, 0x10 | (cc & 0x0F)]) + payload + b"\xff" * (184 - len(payload))


def add_scte35(data, splices, scte_pid=0x1F0):
    """Adds an SCTE-35 stream (type 0x86) to every PMT and inserts each (section, at_video_pts)
    splice right before the first video PES whose PTS reaches at_video_pts."""
    out = bytearray()
    pmt_pid = video_pid = None
    cc = 0
    pending = sorted(splices, key=lambda s: s[1])
    for p in ts_packets(data):
        pid = ((p[1] & 0x1F) << 8) | p[2]
        pusi = bool(p[1] & 0x40)
        if pid == 0 and pusi and pmt_pid is None:
            pmt_pid = parse_pat(_payload(p))
        elif pid == pmt_pid and pusi:
            pl = _payload(p)
            sec = pl[1 + pl[0]:]
            length = ((sec[1] & 0x0F) << 8) | sec[2]
            sec = bytearray(sec[:3 + length - 4])
            if video_pid is None:
                streams = parse_pmt(bytes([0]) + bytes(sec) + b"\0\0\0\0")
                video_pid = next(k for k, v in streams.items() if v in (0x1B, 0x24))
            sec += bytes([0x86, 0xE0 | (scte_pid >> 8), scte_pid & 0xFF, 0xF0, 0x00])
            new_len = len(sec) - 3 + 4
            sec[1] = (sec[1] & 0xF0) | (new_len >> 8)
            sec[2] = new_len & 0xFF
            sec = bytes(sec) + struct.pack(">I", crc32_mpeg2(bytes(sec)))
            out += p[:3] + bytes([(p[3] & 0x0F) | 0x10]) + (b"\x00" + sec).ljust(184, b"\xff")
            continue
        elif pid == video_pid and pusi and pending:
            pts, _ = _pes_pts(_payload(p))
            while pending and pts is not None and pts >= pending[0][1]:
                out += _section_packet(scte_pid, pending.pop(0)[0], cc)
                cc += 1
        out += p
    assert not pending, "splice points beyond the stream"
    return bytes(out)


def first_video_pts(data):
    return inspect_segment(data)["video_pts"][0]
