"""A scriptable LL-HLS origin for the tier tests (test_llhls_tiers.py) and the fan-out bench
(bench/llhls): a real HTTP/1.1 server on loopback, one thread per connection, that

- publishes parts when told to (publish()), or on a timer (start_timer());
- holds blocking playlist reloads (_HLS_msn / _HLS_part) until that part exists, answers 400 for
  one too far ahead and 503 after three target durations, as RFC 8216bis §6.2.5.2 says;
- answers a request for the preload-hinted part at once and streams it chunked while it is being
  "written" (write_chunk()), ending it with its last chunk on publish(), or cutting the
  connection without it on abort() (an encoder that stopped mid-part);
- records every request it receives (path with query, monotonic arrival time);
- answers /live/ll/slow after SLOW_SECONDS (an ordinary request that is slow to start).

One rendition v0 with PARTS parts per segment (sequence numbers from 0), a rendition report for
a1, an init segment and a live MPD for the DASH rewrite."""
import socket
import threading
import time
import urllib.parse

PARTS = 4
PART_SECONDS = 0.25
TARGET = 1  # target duration, seconds
BASE = "/live/ll"
SLOW_SECONDS = 2.5


def part_body(msn, i, size=3000):
    unit = f"[part {msn}.{i}]".encode()
    return (unit * (size // len(unit) + 1))[:size]


class LLHLSOrigin:
    def __init__(self, port=0, hold_limit=3 * TARGET):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.cv = threading.Condition()
        self.msn, self.parts = 0, 0  # the segment being cut and how many of its parts exist
        self.bodies = {}             # (msn, i) -> bytes of every published part
        self.writing = []            # chunks of the hinted part written so far
        self.epoch = 0               # bumped by abort(): streams of the aborted attempt end
        self.log = []                # (path with query, arrival time)
        self.published_at = {}       # (msn, i) -> monotonic time of its publication
        self.closed = False
        self.hold_limit = hold_limit  # seconds a blocking reload is held before 503
        self._timer = None
        threading.Thread(target=self._accept, daemon=True).start()

    # ---- what a test drives -------------------------------------------------------------------

    def hint(self):
        return (self.msn, self.parts)

    def write_chunk(self, data):
        """Part of the hinted part's bytes: streamed to whoever requested it."""
        with self.cv:
            self.writing.append(bytes(data))
            self.cv.notify_all()

    def publish(self, body=None):
        """Completes the hinted part (with what was written, or `body`); the next one is hinted."""
        with self.cv:
            key = (self.msn, self.parts)
            if body is None:
                body = b"".join(self.writing) if self.writing else part_body(*key)
            self.bodies[key] = body
            self.published_at[key] = time.monotonic()
            self.writing = []
            self.parts += 1
            if self.parts == PARTS:
                self.msn, self.parts = self.msn + 1, 0
            self.cv.notify_all()
            return key

    def abort(self):
        """The encoder stopped mid-part: every stream of the hinted part is cut short; the next
        request for it starts a new attempt."""
        with self.cv:
            self.writing = []
            self.epoch += 1
            self.cv.notify_all()

    def start_timer(self, interval=PART_SECONDS):
        def run():
            while not self.closed:
                time.sleep(interval)
                if not self.closed:
                    self.publish()
        self._timer = threading.Thread(target=run, daemon=True)
        self._timer.start()

    def count(self, path_with_query):
        """Requests for this path with these query parameters, in any order."""
        def norm(target):
            u = urllib.parse.urlsplit(target)
            return u.path, sorted(urllib.parse.parse_qsl(u.query))
        want = norm(path_with_query)
        with self.cv:
            return sum(1 for p, _ in self.log if norm(p) == want)

    def requests_for(self, prefix):
        with self.cv:
            return [p for p, _ in self.log if p.startswith(prefix)]

    def close(self):
        self.closed = True
        with self.cv:
            self.cv.notify_all()
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- the server ---------------------------------------------------------------------------

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        try:
            while not self.closed:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                with self.cv:
                    self.log.append((target, time.monotonic()))
                if not self._answer(conn, target):
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def _send(self, conn, status, ctype, body, cache_control):
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 503: "Service Unavailable"}[status]
        conn.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                     f"Cache-Control: {cache_control}\r\n\r\n".encode() + body)
        return True

    def _answer(self, conn, target):
        u = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        if path == f"{BASE}/v0/index.m3u8":
            return self._playlist(conn, q)
        if path == f"{BASE}/manifest.mpd":
            return self._send(conn, 200, "application/dash+xml", MPD.encode(), "max-age=1")
        if path == f"{BASE}/v0/init.mp4":
            return self._send(conn, 200, "video/mp4", b"ftyp-moov" * 10, "max-age=3600")
        if path == f"{BASE}/slow":  # an ordinary response that takes its time
            time.sleep(SLOW_SECONDS)
            return self._send(conn, 200, "text/plain", b"slow", "max-age=1")
        name = path.rsplit("/", 1)[-1]
        if path.startswith(f"{BASE}/v0/seg") and ".part" in name:
            msn, i = name[3:].split(".m4s")[0].split(".part")
            return self._part(conn, int(msn), int(i))
        if path.startswith(f"{BASE}/v0/seg") and name.endswith(".m4s"):
            msn = int(name[3:-4])
            with self.cv:
                parts = [self.bodies.get((msn, i)) for i in range(PARTS)]
            if all(p is not None for p in parts):
                return self._send(conn, 200, "video/mp4", b"".join(parts), "max-age=60")
        return self._send(conn, 404, "text/plain", b"not found", "max-age=1")

    def _exists(self, msn, part):
        # A part exists once published; a whole segment once all its parts are.
        if part is None:
            return self.msn > msn
        return self.msn > msn or (self.msn == msn and self.parts > part)

    def _playlist(self, conn, q):
        blocking = "_HLS_msn" in q
        with self.cv:
            if blocking:
                msn = int(q["_HLS_msn"])
                part = int(q["_HLS_part"]) if "_HLS_part" in q else None
                if msn > self.msn + 2:
                    return self._send(conn, 400, "text/plain", b"too far ahead", "no-store")
                deadline = time.monotonic() + self.hold_limit
                while not self._exists(msn, part) and not self.closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return self._send(conn, 503, "text/plain", b"not yet", "no-store")
                    self.cv.wait(left)
            text = self._render()
        # The answer for a given msn/part never changes: cacheable, briefly (the spec's advice).
        return self._send(conn, 200, "application/vnd.apple.mpegurl", text.encode(),
                          "public, max-age=6" if blocking else "max-age=1")

    def _render(self):
        lines = ["#EXTM3U", "#EXT-X-VERSION:9", f"#EXT-X-TARGETDURATION:{TARGET}",
                 f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={3 * PART_SECONDS:.3f},"
                 f"CAN-SKIP-UNTIL={6 * TARGET}",
                 f"#EXT-X-PART-INF:PART-TARGET={PART_SECONDS}", "#EXT-X-MEDIA-SEQUENCE:0",
                 '#EXT-X-MAP:URI="init.mp4"']
        for m in range(self.msn + 1):
            n = PARTS if m < self.msn else self.parts
            for i in range(n):
                ind = ",INDEPENDENT=YES" if i == 0 else ""
                lines.append(f'#EXT-X-PART:DURATION={PART_SECONDS},URI="seg{m}.part{i}.m4s"{ind}')
            if m < self.msn:
                lines += [f"#EXTINF:{PARTS * PART_SECONDS:.3f},", f"seg{m}.m4s"]
        lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg{self.msn}.part{self.parts}.m4s"')
        last_part = self.parts - 1 if self.parts else PARTS - 1
        last_msn = self.msn if self.parts else self.msn - 1
        lines.append(f'#EXT-X-RENDITION-REPORT:URI="../a1/index.m3u8",LAST-MSN={last_msn},LAST-PART={last_part}')
        return "\n".join(lines) + "\n"

    def _part(self, conn, msn, i):
        with self.cv:
            if (msn, i) in self.bodies:
                return self._send(conn, 200, "video/mp4", self.bodies[(msn, i)], "max-age=60")
            if (msn, i) != (self.msn, self.parts):
                return self._send(conn, 404, "text/plain", b"no such part", "max-age=1")
            epoch = self.epoch
        # The hinted part: answered now, its bytes streamed as they are written.
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nTransfer-Encoding: chunked\r\n"
                     b"Cache-Control: max-age=60\r\n\r\n")
        sent_chunks = sent_bytes = 0
        while True:
            with self.cv:
                while (self.epoch == epoch and (msn, i) not in self.bodies and len(self.writing) == sent_chunks
                       and not self.closed):
                    self.cv.wait(1.0)
                if self.epoch != epoch or self.closed:
                    return False  # aborted: the connection closes without the last chunk
                if (msn, i) in self.bodies:
                    rest = self.bodies[(msn, i)][sent_bytes:]
                    chunks, done = ([rest] if rest else []), True
                else:
                    chunks, done = self.writing[sent_chunks:], False
                    sent_chunks = len(self.writing)
                sent_bytes += sum(len(c) for c in chunks)
            for c in chunks:
                conn.sendall(f"{len(c):x}\r\n".encode() + c + b"\r\n")
            if done:
                conn.sendall(b"0\r\n\r\n")
                return True


MPD = f"""<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     availabilityStartTime="2026-01-01T00:00:00Z" minimumUpdatePeriod="PT2S">
  <BaseURL>{BASE}/</BaseURL>
  <Period id="0" start="PT0S">
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="1000" duration="1000" startNumber="0" availabilityTimeOffset="0.75"
          initialization="v0/init.mp4" media="v0/seg$Number$.m4s"/>
      <Representation id="v0" bandwidth="800000" codecs="avc1.64001f"/>
    </AdaptationSet>
  </Period>
</MPD>
"""
