"""The origin's CMAF output: fMP4 HLS beside TS from one ingest, LL-HLS parts, blocking playlist
reload, preload-hinted parts streamed when written, and an encoder stopping mid-part. A real
cdn-origin fed by pre-encoded ffmpeg streams (at full speed, or paced at real time for the
low-latency checks); ffprobe reads the fMP4 playlist, and every init and media segment is walked
box by box here."""
import http.client
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import time_bound, wait_until
from live_support import (Pusher, STREAM_KEY, add_scte35, encode_ts, first_video_pts, get_playlist, live_origin_config,
                          need_ffmpeg, push, splice_insert_section)

BASE = "/live/demo/720p/"
LL = BASE + "index-fmp4.m3u8"


def cmaf_config(content, tmp_path, formats, part="333ms", target="1s", gap="1500ms"):
    cfg = live_origin_config(content.root, tmp_path / "store", target=target, gap=gap, channels=[
        {"name": "demo", "stream_key": STREAM_KEY, "formats": formats,
         "renditions": [{"name": "720p"}, {"name": "360p"}]}])
    cfg["live"]["part_target"] = part
    return cfg


# ----------------------------------------------------------------------------------------------
# ISO BMFF, independently of the origin's own parser

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"dinf"}


def boxes(data, start=0, end=None):
    end = len(data) if end is None else end
    out, pos = [], start
    while pos < end:
        assert end - pos >= 8, f"truncated box header at {pos}"
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        assert 8 <= size <= end - pos, f"box {kind} at {pos} has size {size}, {end - pos} left"
        children = boxes(data, pos + 8, pos + size) if kind in CONTAINERS else []
        out.append({"type": kind, "at": pos, "size": size, "body": data[pos + 8:pos + size], "children": children})
        pos += size
    return out


def find(bs, path):
    head, _, rest = path.partition("/")
    for b in bs:
        if b["type"] == head.encode():
            return b if not rest else find(b["children"], rest)
    return None


def fragments(data):
    """[(moof box, [traf facts])] of a segment or part: track id, tfdt, sample durations/flags."""
    out = []
    top = boxes(data)
    for i, b in enumerate(top):
        if b["type"] != b"moof":
            continue
        assert top[i + 1]["type"] == b"mdat", "moof without its mdat"
        trafs = []
        for t in b["children"]:
            if t["type"] != b"traf":
                continue
            track = struct.unpack(">I", find(t["children"], "tfhd")["body"][4:8])[0]
            tfdt_body = find(t["children"], "tfdt")["body"]
            tfdt = struct.unpack(">Q", tfdt_body[4:12])[0] if tfdt_body[0] == 1 else struct.unpack(">I", tfdt_body[4:8])[0]
            trun = find(t["children"], "trun")["body"]
            flags = struct.unpack(">I", trun[:4])[0] & 0xFFFFFF
            count, offset = struct.unpack(">Ii", trun[4:12])
            assert flags == 0xF01, hex(flags)
            samples = [struct.unpack(">IIIi", trun[12 + 16 * k:28 + 16 * k]) for k in range(count)]
            size = sum(s[1] for s in samples)
            mdat = top[i + 1]
            # The samples lie inside the mdat that follows (offsets count from the moof).
            assert mdat["at"] + 8 <= b["at"] + offset and b["at"] + offset + size <= mdat["at"] + mdat["size"]
            trafs.append({"track": track, "tfdt": tfdt, "durations": [s[0] for s in samples],
                          "sync": [not (s[2] & 0x10000) for s in samples]})
        out.append((b, trafs))
    return out


def playlist_parts(text):
    """[(msn, [part dicts])] for segments with EXT-X-PART lines, plus the hint URI."""
    msn = None
    segs, parts, hint = [], [], None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            msn = int(line.split(":")[1])
        elif line.startswith("#EXT-X-PART:"):
            attrs = dict(a.split("=", 1) for a in line.split(":", 1)[1].split(","))
            parts.append({"uri": attrs["URI"].strip('"'), "duration": float(attrs["DURATION"]),
                          "independent": attrs.get("INDEPENDENT") == "YES"})
        elif line.startswith("#EXT-X-PRELOAD-HINT:"):
            hint = line.split('URI="')[1].split('"')[0]
        elif line and not line.startswith("#"):
            segs.append((msn, parts))
            parts = []
            msn += 1
    return segs, (msn, parts), hint


def pushed_6s(tiers, content, tmp_path, formats):
    """An origin with `formats` that got 6 s (1 s GOP) at once: (origin, ts, ended fMP4 playlist)."""
    need_ffmpeg()
    ts = encode_ts(tmp_path, 6, gop=25).read_bytes()
    origin = tiers("origin", cmaf_config(content, tmp_path, formats)).start()
    assert push(origin.port(), ts) == 204
    pl = wait_until(lambda: (lambda r: r.status == 200 and b"#EXT-X-ENDLIST" in r.body and r)(origin.get(LL)),
                    timeout=10, what="ended fMP4 playlist")
    return origin, ts, pl


def test_fmp4_hls_beside_ts_read_by_ffprobe_box_by_box(tiers, content, tmp_path):
    origin, ts, pl = pushed_6s(tiers, content, tmp_path, ["ts", "llhls"])
    text = pl.body.decode()
    assert "#EXT-X-MAP:URI=\"init-0.mp4\"" in text and "#EXT-X-PART-INF:PART-TARGET=0.333" in text
    assert "CAN-BLOCK-RELOAD=YES" in text and "PART-HOLD-BACK=0.999" in text
    # TS goes on beside it, from the same ingest.
    ts_pl = get_playlist(origin, BASE + "index.m3u8")
    assert ts_pl.segments and ts_pl.segments[0]["uri"].endswith(".ts")
    master = origin.get("/live/demo/master-fmp4.m3u8").body.decode()
    assert "720p/index-fmp4.m3u8" in master and ".ts" not in master, master
    segs = [l for l in text.splitlines() if l.endswith(".m4s") and not l.startswith("#")]
    assert len(segs) == 6, text
    init = origin.get(BASE + "init-0.mp4")
    assert init.status == 200 and init.header("Content-Type") == "video/mp4"
    ib = boxes(init.body)
    assert [b["type"] for b in ib] == [b"ftyp", b"moov"]
    moov = ib[1]["children"]
    assert find(moov, "trak/mdia/minf/stbl") is not None
    stsd = find(moov, "trak/mdia/minf/stbl/stsd")["body"]
    assert b"avc1" in stsd and b"avcC" in stsd
    assert any(b"mp4a" in find(t["children"], "mdia/minf/stbl/stsd")["body"] and
               b"esds" in find(t["children"], "mdia/minf/stbl/stsd")["body"]
               for t in moov if t["type"] == b"trak")
    assert len(find(moov, "mvex")["children"]) == 2  # a trex per track

    ends = {}
    listed, _, _ = playlist_parts(text)
    for (msn, parts), uri in zip(listed, segs):
        r = origin.get(BASE + uri)
        assert r.status == 200, uri
        assert boxes(r.body)[0]["type"] == b"styp"
        frags = fragments(r.body)
        assert frags[0][1][0]["track"] == 1 and frags[0][1][0]["sync"][0], f"{uri} starts without a keyframe"
        for _, trafs in frags:
            for t in trafs:
                if t["track"] in ends:
                    assert t["tfdt"] == ends[t["track"]], (uri, t["track"], t["tfdt"], ends[t["track"]])
                ends[t["track"]] = t["tfdt"] + sum(t["durations"])
        if parts:  # the parts listed are this segment's fragments, byte for byte
            assert parts[0]["independent"]
            body = b"".join(origin.get(BASE + p["uri"]).body for p in parts)
            assert body == r.body[boxes(r.body)[0]["size"]:], uri
    assert set(ends) == {1, 2}

    # ffprobe reads the fMP4 HLS over HTTP and decodes every frame the origin listed.
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_name,nb_read_frames", "-of", "csv=p=0",
                          f"http://127.0.0.1:{origin.port()}{LL}"], capture_output=True, timeout=60, text=True)
    assert out.returncode == 0, out.stderr
    streams = set(out.stdout.split())  # HLS programs list their streams again
    assert "h264,149" in streams, streams  # 6 s at 25 fps; the last frame is held back at the end
    assert any(s.startswith("aac,") and int(s[4:]) > 250 for s in streams), streams


class TimedGet:
    """A GET on its own connection from a thread, timing the head and the end of the body. A chunked
    body that stops before its last chunk is reported as incomplete, never as a shorter body."""

    def __init__(self, port, path):
        self.port, self.path = port, path
        self.status = self.head_at = self.first_at = self.done_at = None
        self.body, self.complete = b"", False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def _run(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        s.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                more = s.recv(65536)
                if not more:
                    return
                buf += more
            self.head_at = time.monotonic()
            head, buf = buf.split(b"\r\n\r\n", 1)
            self.status = int(head.split()[1])
            headers = head.decode().lower()
            if "transfer-encoding: chunked" not in headers:
                length = int(headers.split("content-length:")[1].split("\r\n")[0])
                while len(buf) < length:
                    more = s.recv(65536)
                    if not more:
                        return
                    buf += more
                self.body, self.complete = buf[:length], True
                return
            while True:
                while b"\r\n" not in buf:
                    more = s.recv(65536)
                    if not more:
                        return
                    buf += more
                line, buf = buf.split(b"\r\n", 1)
                n = int(line, 16)
                while len(buf) < n + 2:
                    more = s.recv(65536)
                    if not more:
                        return
                    buf += more
                if n == 0:
                    self.complete = True
                    return
                if self.first_at is None:
                    self.first_at = time.monotonic()
                self.body += buf[:n]
                buf = buf[n + 2:]
        except OSError:
            return
        finally:
            self.done_at = time.monotonic()
            s.close()

    def join(self, timeout=15):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.path} still waiting"
        return self


def ffmpeg_live(port, seconds, rendition="720p"):
    """ffmpeg encoding in real time (1 s GOP) and pushing to the origin, each frame sent when made."""
    need_ffmpeg()
    url = f"http://127.0.0.1:{port}/ingest/demo/{rendition}?key={STREAM_KEY}"
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
         "-pix_fmt", "yuv420p", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-c:a", "aac",
         "-flush_packets", "1", "-f", "mpegts", "-method", "PUT", url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_blocking_reload_preload_hint_and_encoder_stopping_mid_part(tiers, content, tmp_path):
    origin = tiers("origin", cmaf_config(content, tmp_path, ["llhls"])).start()
    port = origin.port()
    ff = ffmpeg_live(port, 40)
    try:
        def live_edge():
            r = origin.get(BASE + "index.m3u8")  # fMP4 only: index.m3u8 is the fMP4 playlist
            if r.status != 200:
                return None
            segs, current, hint = playlist_parts(r.body.decode())
            return (segs, current, hint) if len(segs) >= 2 and current[1] else None
        segs, (msn, parts), hint = wait_until(live_edge, timeout=30, what="two fMP4 segments and a part")
        part = len(parts)

        # The hinted part and the blocking reload for it, both asked before the part exists.
        hinted = TimedGet(port, BASE + hint)
        blocking = TimedGet(port, f"{LL}?_HLS_msn={msn}&_HLS_part={part}")
        hinted.join()
        blocking.join()
        assert hinted.status == 200 and hinted.complete
        # Answered at once: the head left long before the part existed, and its first chunks (one
        # moof/mdat fragment each) while the rest of it was still being encoded.
        assert hinted.head_at - hinted.started < time_bound(0.25)
        assert hinted.done_at - hinted.head_at > 0.05
        assert hinted.done_at - hinted.first_at > 0.1, (hinted.first_at - hinted.head_at, hinted.done_at - hinted.first_at)
        frags = fragments(hinted.body)
        assert len(frags) >= 2 and {t["track"] for f in frags for t in f[1]} == {1, 2}
        assert origin.get(BASE + hint).body == hinted.body  # what was streamed is the part, whole
        # The blocking reload ends with the part's publication (seen as the hinted part's body).
        assert blocking.status == 200
        assert abs(blocking.done_at - hinted.done_at) < time_bound(0.333), (blocking.done_at - hinted.done_at)
        assert blocking.done_at - blocking.started < time_bound(2 * 0.333 + 0.2)
        after, (m2, p2), _ = playlist_parts(blocking.body.decode())
        listed = [p["uri"] for _, ps in after for p in ps] + [p["uri"] for p in p2]
        assert hint in listed, blocking.body.decode()

        # Too far ahead, malformed, and a delta update.
        assert origin.get(f"{LL}?_HLS_msn={msn + 10}").status == 400
        assert origin.get(f"{LL}?_HLS_msn=x").status == 400
        delta = origin.get(f"{LL}?_HLS_skip=YES").body.decode()
        full = origin.get(LL).body.decode()
        assert "#EXT-X-VERSION:9" in delta and "#EXT-X-SKIP:SKIPPED-SEGMENTS=" in delta
        skipped = int(delta.split("#EXT-X-SKIP:SKIPPED-SEGMENTS=")[1].split()[0])
        count = lambda t: sum(1 for l in t.splitlines() if l.startswith("#EXTINF"))
        assert skipped + count(delta) in (count(full), count(full) - 1)  # a segment may end between

        # The encoder dies mid-part. What it had sent is packaged (whole frames only); the part then
        # hinted never comes, so its held request ends without the last chunk, and a blocking
        # reload for the next segment is answered with the ended playlist.
        ff.kill()
        ff.wait(10)
        def hint_after_kill():
            segs2, current2, hint2 = playlist_parts(origin.get(LL).body.decode())
            return hint2 if hint2 and current2[0] is not None else None
        time.sleep(0.2)  # a moment for the origin to see the connection close
        hint2 = hint_after_kill()
        segs2, (msn2, _), _ = playlist_parts(origin.get(LL).body.decode())
        orphan = TimedGet(port, BASE + hint2)
        waiting = TimedGet(port, f"{LL}?_HLS_msn={msn2 + 1}")
        orphan.join(10)
        waiting.join(10)
        assert orphan.status == 200 and not orphan.complete, (orphan.complete, len(orphan.body))
        assert waiting.status == 200 and "#EXT-X-ENDLIST" in waiting.body.decode()
        assert waiting.done_at - waiting.started < time_bound(1.5 + 1.0)  # input_gap, then the end
        assert origin.get(BASE + hint2).status == 404
        # Every held request was let go, and each counted by how it ended.
        assert origin.metric("cdn_live_held_requests") == 0
        assert origin.metric("cdn_live_held_requests_total", result="ready") >= 2
        assert origin.metric("cdn_live_held_requests_total", result="ended") >= 2
        assert origin.metric("cdn_live_errors_total", reason="part-not-written") >= 1
    finally:
        ff.kill()
        ff.wait(10)


def test_dash_mpd_over_per_track_cmaf_segments(tiers, content, tmp_path):
    import xml.etree.ElementTree as ET
    need_ffmpeg()
    ts = encode_ts(tmp_path, 6, gop=25).read_bytes()
    origin = tiers("origin", cmaf_config(content, tmp_path, ["dash"])).start()
    assert push(origin.port(), ts) == 204
    r = wait_until(lambda: (lambda r: r.status == 200 and b"#EXT-X-ENDLIST" in r.body and r)(origin.get(BASE + "index.m3u8")),
                   timeout=10, what="ended fMP4 playlist")
    assert r.header("Content-Type") == "application/vnd.apple.mpegurl"
    mpd = origin.get("/live/demo/manifest.mpd")
    assert mpd.status == 200 and mpd.header("Content-Type") == "application/dash+xml"
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    root = ET.fromstring(mpd.body)
    # The stream ended and every segment from its first is still held: a static MPD of the whole
    # presentation (a live one is dynamic: see the low-latency test), starting at time 0.
    assert root.get("type") == "static" and root.get("minimumUpdatePeriod") is None
    assert root.get("mediaPresentationDuration") == "PT5.960S", root.attrib  # 6 s but the last frame
    timing = root.find("d:UTCTiming", ns)
    assert timing.get("schemeIdUri") == "urn:mpeg:dash:utc:http-iso:2014"
    clock = origin.get(timing.get("value"))
    assert clock.status == 200 and clock.header("Cache-Control") == "no-store" and clock.body.endswith(b"Z")
    # ffmpeg's DASH demuxer reads the static MPD and finds both tracks.
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            f"http://127.0.0.1:{origin.port()}/live/demo/manifest.mpd"],
                           capture_output=True, timeout=30, text=True)
    assert probe.returncode == 0 and {"h264", "aac"} <= set(probe.stdout.split()), probe
    sets = root.findall("d:Period/d:AdaptationSet", ns)
    assert [s.get("contentType") for s in sets] == ["video", "audio"]
    for aset, track_kind in zip(sets, ("h264", "aac")):
        rep = aset.find("d:Representation", ns)
        assert rep.get("codecs").startswith("avc1." if track_kind == "h264" else "mp4a.40.")
        tmpl = rep.find("d:SegmentTemplate", ns)
        number = int(tmpl.get("startNumber"))
        # One offset for both tracks: the video's first decode time is presentation time 0.
        pto = int(tmpl.get("presentationTimeOffset"))
        assert number == 0 and pto == int(sets[0].find("d:Representation/d:SegmentTemplate/d:SegmentTimeline/d:S", ns).get("t"))
        init = origin.get("/live/demo/" + tmpl.get("initialization"))
        assert init.status == 200
        traks = [b for b in boxes(init.body)[1]["children"] if b["type"] == b"trak"]
        assert len(traks) == 1  # one track per file
        t_next, whole = None, bytearray(init.body)
        for s in tmpl.findall("d:SegmentTimeline/d:S", ns):
            t = int(s.get("t")) if s.get("t") is not None else t_next
            d = int(s.get("d"))
            seg = origin.get("/live/demo/" + tmpl.get("media").replace("$Number$", str(number)))
            assert seg.status == 200, number
            frags = fragments(seg.body)
            assert all(len(trafs) == 1 for _, trafs in frags)
            assert frags[0][1][0]["tfdt"] == t, (number, frags[0][1][0]["tfdt"], t)
            if track_kind == "h264":  # the timeline is the video's: its fragments fill it exactly
                assert frags[0][1][0]["sync"][0]
                assert sum(sum(tr["durations"]) for _, ts_ in frags for tr in ts_) == d
            whole += seg.body
            t_next, number = t + d, number + 1
        path = tmp_path / f"{track_kind}.mp4"
        path.write_bytes(whole)
        out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                              "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(path)],
                             capture_output=True, timeout=60, text=True)
        assert out.returncode == 0 and out.stdout.startswith(track_kind + ","), out
        if track_kind == "h264":
            assert out.stdout.strip() == "h264,149"


def test_blocking_reload_gives_up_after_three_target_durations(tiers, content, tmp_path):
    need_ffmpeg()
    ts = encode_ts(tmp_path, 6, gop=25).read_bytes()
    origin = tiers("origin", cmaf_config(content, tmp_path, ["llhls"], gap="30s")).start()
    # An encoder that sent 6 s at once and then stalls with its connection open: the stream is
    # live (no ENDLIST), and no new part comes.
    s = socket.create_connection(("127.0.0.1", origin.port()), timeout=20)
    try:
        s.sendall(f"PUT /ingest/demo/720p?key={STREAM_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode() + b"%x\r\n" % len(ts) + ts + b"\r\n")
        segs, (msn, parts), hint = wait_until(
            lambda: (lambda r: r.status == 200 and len(playlist_parts(r.body.decode())[0]) >= 4
                     and playlist_parts(r.body.decode()))(origin.get(LL)), timeout=10, what="four segments")
        held = TimedGet(origin.port(), f"{LL}?_HLS_msn={msn + 1}")
        held.join(time_bound(3.0) + 5)
        assert held.status == 503 and held.complete
        assert held.done_at - held.started >= 2.9  # 3 × the 1 s target duration
        assert origin.metric("cdn_live_held_requests_total", result="timeout") == 1
        assert origin.metric("cdn_live_errors_total", reason="blocking-reload-timeout") == 1
    finally:
        s.close()


def test_stalled_encoder_cuts_the_streamed_part_and_low_latency_dash(tiers, content, tmp_path):
    """Parts and DASH segments are streamed chunk by chunk while written. An encoder that stalls
    mid-part with its connection open (input_gap far away) leaves the part unfinished: its streamed
    response ends without the last chunk when the hold times out (3 target durations), never as a
    shorter part that looks whole."""
    import signal
    import xml.etree.ElementTree as ET
    origin = tiers("origin", cmaf_config(content, tmp_path, ["llhls", "lldash"], gap="30s")).start()
    port = origin.port()
    ff = ffmpeg_live(port, 40)
    try:
        def live_edge():
            r = origin.get(BASE + "index.m3u8")
            if r.status != 200:
                return None
            segs, current, hint = playlist_parts(r.body.decode())
            return (segs, current, hint) if len(segs) >= 2 and current[1] else None
        segs, (msn, parts), hint = wait_until(live_edge, timeout=30, what="two fMP4 segments and a part")

        # Low-latency DASH: the encoder's GOP is the segment, so the MPD addresses segments by
        # SegmentTemplate@duration: a player finds the segment in progress from the clock, may
        # ask for it a part after it starts, and gets it as it is written, chunk by chunk.
        ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
        now = iso_ms(origin.get("/live/time").body.decode())
        root = ET.fromstring(origin.get("/live/demo/manifest.mpd").body)
        assert root.get("type") == "dynamic" and root.get("availabilityStartTime", "").endswith("Z")
        for tmpl in root.findall("d:Period/d:AdaptationSet/d:Representation/d:SegmentTemplate", ns):
            assert tmpl.find("d:SegmentTimeline", ns) is None
            assert int(tmpl.get("timescale")) == 90000 and int(tmpl.get("duration")) == 90000  # 1 s GOP
            assert tmpl.get("availabilityTimeComplete") == "false"
            assert abs(float(tmpl.get("availabilityTimeOffset")) - (1 - 0.333)) < 0.002  # segment − part
        tmpl = root.find("d:Period/d:AdaptationSet/d:Representation/d:SegmentTemplate", ns)
        start, pto = int(tmpl.get("startNumber")), int(tmpl.get("presentationTimeOffset"))
        assert start <= segs[0][0], (start, segs)
        # The numbers are the stored segments': v-<n>.m4s starts where the template puts n.
        for n, _ in segs:
            frags = fragments(origin.get(f"{BASE}v-{n}.m4s").body)
            assert abs(frags[0][1][0]["tfdt"] - (pto + (n - start) * 90000)) <= 9000, (n, frags[0][1][0]["tfdt"], pto)
        # The clock: availabilityStartTime + (n − startNumber) s is when segment n began to
        # arrive, so the segment in progress is the one the wall clock points at.
        began = iso_ms(root.get("availabilityStartTime")) + (msn - start) * 1000
        assert -300 <= now - began <= 1500, (now - began, msn, start)
        latency = root.find("d:ServiceDescription/d:Latency", ns)
        assert latency is not None and int(latency.get("target")) == 1500, latency
        early = TimedGet(port, f"{BASE}v-{msn}.m4s")  # msn: the segment in progress
        early.join()
        assert early.status == 200 and early.complete
        whole = origin.get(f"{BASE}v-{msn}.m4s")
        assert whole.status == 200 and whole.header("Content-Length") is not None
        assert early.body == whole.body
        assert early.done_at - early.first_at > 0.2, (early.first_at - early.head_at, early.done_at - early.first_at)
        assert boxes(early.body)[0]["type"] == b"styp" and len(fragments(early.body)) >= 4

        # A hinted part whose first chunk arrived, then the encoder stalls (stopped, its
        # connection open): curl reports a partial transfer (no terminating chunk).
        hint = wait_until(lambda: live_edge() and live_edge()[2], timeout=10, what="a hint")
        out = tmp_path / "part.m4s"
        started = time.monotonic()
        curl = subprocess.Popen(["curl", "-sS", "-N", "-o", str(out), f"http://127.0.0.1:{port}{BASE}{hint}"],
                                stderr=subprocess.PIPE)
        wait_until(lambda: out.exists() and out.stat().st_size > 0, timeout=5, interval=0.005,
                   what="the hinted part's first chunk")
        ff.send_signal(signal.SIGSTOP)
        rc = curl.wait(timeout=time_bound(3.0) + 5)
        elapsed = time.monotonic() - started
        assert rc == 18, (rc, curl.stderr.read())  # CURLE_PARTIAL_FILE
        assert 2.5 <= elapsed <= time_bound(3.0) + 1.5, elapsed  # the hold's deadline: 3 × 1 s
        got = out.read_bytes()
        assert got and fragments(got)  # whole chunks were sent, the part never finished
        assert origin.metric("cdn_live_errors_total", reason="part-wait-timeout") == 1
        assert origin.metric("cdn_live_held_requests_total", result="timeout") == 1
    finally:
        ff.send_signal(signal.SIGCONT) if ff.poll() is None else None
        ff.kill()
        ff.wait(10)


def iso_ms(text):
    """Unix ms of an ISO 8601 UTC time such as 2026-12-01T10:20:30.123Z."""
    from datetime import datetime, timezone
    return round(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_low_latency_dash_keeps_the_timeline_when_segments_do_not_keep_one_duration(tiers, content, tmp_path):
    """720p with a 1 s GOP gets SegmentTemplate@duration. Then 360p with keyframes off any one grid
    (forced at 0, 1, 2.6, 3.6, 4.6, 5.6 s): a template would put its segments where they are not,
    and one template serves every rendition, so the MPD goes back to the exact SegmentTimeline and
    a latency target it can reach (two segments and a part)."""
    import xml.etree.ElementTree as ET
    need_ffmpeg()
    regular = encode_ts(tmp_path, 7, gop=25).read_bytes()
    irregular_path = tmp_path / "irregular.ts"
    r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                        "-f", "lavfi", "-i", "sine=frequency=440", "-t", "7", "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-g", "250", "-sc_threshold", "0", "-force_key_frames", "0,1,2.6,3.6,4.6,5.6",
                        "-c:a", "aac", "-f", "mpegts", str(irregular_path)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    origin = tiers("origin", cmaf_config(content, tmp_path, ["llhls", "lldash"], gap="30s")).start()
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}

    def open_push(rendition, ts):
        """Sent at once with the connection left open: the stream stays live (a dynamic MPD)."""
        s = socket.create_connection(("127.0.0.1", origin.port()), timeout=20)
        s.sendall(f"PUT /ingest/demo/{rendition}?key={STREAM_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode() + b"%x\r\n" % len(ts) + ts + b"\r\n")
        playlist = f"/live/demo/{rendition}/index.m3u8"
        wait_until(lambda: len(playlist_parts(origin.get(playlist).body.decode())[0]) >= 5, timeout=10,
                   what=f"five {rendition} segments")
        return s

    def mpd():
        root = ET.fromstring(origin.get("/live/demo/manifest.mpd").body)
        assert root.get("type") == "dynamic"
        reps = {rep.get("id"): rep.find("d:SegmentTemplate", ns) for rep in root.iter(f"{{{ns['d']}}}Representation")}
        return root, reps

    sockets = [open_push("720p", regular)]
    try:
        root, reps = mpd()
        assert reps["720p"].get("duration") == "90000" and reps["720p"].find("d:SegmentTimeline", ns) is None
        assert root.find("d:ServiceDescription/d:Latency", ns).get("target") == "1500"
        sockets.append(open_push("360p", irregular_path.read_bytes()))
        root, reps = mpd()
        assert set(reps) >= {"720p", "360p"}, reps
        for rep_id, tmpl in reps.items():
            assert tmpl.get("duration") is None and tmpl.get("availabilityTimeComplete") == "false", rep_id
            assert tmpl.find("d:SegmentTimeline", ns) is not None, rep_id
        ds = [int(x.get("d")) for x in reps["360p"].findall("d:SegmentTimeline/d:S", ns)]
        assert ds[:3] == [90000, 144000, 90000], ds  # 1 s, 1.6 s, 1 s
        target = int(root.find("d:ServiceDescription/d:Latency", ns).get("target"))
        assert abs(target - 1000 * (2 * max(ds) / 90000 + 0.333)) <= 3, (target, ds)
    finally:
        for s in sockets:
            s.close()


def test_scte35_as_daterange_in_fmp4_hls_and_event_stream_in_dash(tiers, content, tmp_path):
    """The SCTE-35 ingest input of test_live.py: a splice_insert (event 77, 4 s break) for a
    keyframe 2 s in, sent a second ahead. The fMP4 segments are cut there, and the splice is an
    EXT-X-DATERANGE on that segment (as in the TS playlist) and a DASH Event of the Period."""
    import base64
    import xml.etree.ElementTree as ET
    data = encode_ts(tmp_path, 6, gop=25).read_bytes()
    p0 = first_video_pts(data)
    splice = p0 + 2 * 90000
    section = splice_insert_section(event_id=77, pts=splice, duration_s=4.0)
    data = add_scte35(data, [(section, splice - 90000)])
    origin = tiers("origin", cmaf_config(content, tmp_path, ["llhls", "dash"])).start()
    assert push(origin.port(), data) == 204
    pl = wait_until(lambda: (lambda r: r.status == 200 and b"#EXT-X-ENDLIST" in r.body and r)(origin.get(BASE + "index.m3u8")),
                    timeout=10, what="ended fMP4 playlist")
    lines = pl.body.decode().splitlines()
    at = [i for i, l in enumerate(lines) if l.startswith("#EXT-X-DATERANGE:")]
    assert len(at) == 1, pl.body.decode()
    tag = lines[at[0]]
    assert 'ID="splice-77"' in tag and "PLANNED-DURATION=4" in tag, tag
    assert "SCTE35-OUT=0x" + section.hex().upper() in tag, tag
    assert lines[at[0] - 1].startswith("#EXT-X-PROGRAM-DATE-TIME:")  # its START-DATE
    assert tag.split('START-DATE="')[1].split('"')[0] == lines[at[0] - 1].split(":", 1)[1]
    assert any(l.startswith("#EXT-X-CUE-OUT:4") for l in lines[at[0]:at[0] + 2])
    uri = next(l for l in lines[at[0]:] if l.endswith(".m4s") and not l.startswith("#"))
    assert uri == "2.m4s", pl.body.decode()  # segments 0 and 1 (1 s each), then the break's
    # The cut is on the splice's keyframe: the segment's first video sample is presented then.
    seg = origin.get(BASE + uri).body
    first = fragments(seg)[0][1][0]
    assert first["track"] == 1 and first["sync"][0]

    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    root = ET.fromstring(origin.get("/live/demo/manifest.mpd").body)
    stream = root.find("d:Period/d:EventStream", ns)
    assert stream is not None and stream.get("schemeIdUri") == "urn:scte:scte35:2013:bin"
    assert stream.get("timescale") == "90000"
    events = stream.findall("d:Event", ns)
    assert len(events) == 1 and events[0].get("id") == "77" and events[0].get("duration") == "360000"
    assert base64.b64decode(events[0].text) == section
    tmpl = root.find("d:Period/d:AdaptationSet/d:Representation/d:SegmentTemplate", ns)
    number, t = int(tmpl.get("startNumber")), None
    starts = {}
    for s_ in tmpl.findall("d:SegmentTimeline/d:S", ns):
        t = int(s_.get("t")) if s_.get("t") is not None else t
        starts[number] = t
        t, number = t + int(s_.get("d")), number + 1
    assert int(events[0].get("presentationTime")) == starts[2]


def test_fmp4_output_survives_an_origin_restart(tiers, content, tmp_path):
    """Init and media segments (muxed and per track) and the fMP4 playlist are in the store: a
    restarted origin serves the same playlist, the same bytes and the DASH MPD, and a new encoder
    continues the media sequence."""
    import xml.etree.ElementTree as ET
    origin, ts, pl = pushed_6s(tiers, content, tmp_path, ["llhls", "dash"])
    text = pl.body.decode()
    segs = [l for l in text.splitlines() if l.endswith(".m4s") and not l.startswith("#")]
    assert len(segs) == 6
    files = ["init-0.mp4", "v-init-0.mp4", "a-init-0.mp4"] + segs + ["v-" + s for s in segs] + ["a-" + s for s in segs]
    before = {f: origin.get(BASE + f).body for f in files}
    assert all(before.values())
    mpd_before = ET.fromstring(origin.get("/live/demo/manifest.mpd").body)
    assert origin.stop() == 0
    origin.start()
    after = origin.get(LL)
    assert after.status == 200
    assert [l for l in after.body.decode().splitlines() if not l.startswith("#EXT-X-PROGRAM-DATE-TIME")] == \
        [l for l in text.splitlines() if not l.startswith("#EXT-X-PROGRAM-DATE-TIME") and not l.startswith("#EXT-X-PART:")]
    for f, body in before.items():  # now from RocksDB
        r = origin.get(BASE + f)
        assert r.status == 200 and r.body == body, f
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    mpd = origin.get("/live/demo/manifest.mpd")
    assert mpd.status == 200
    timeline = lambda root: [(s.get("t"), s.get("d")) for s in root.findall(".//d:SegmentTimeline/d:S", ns)]
    assert timeline(ET.fromstring(mpd.body)) == timeline(mpd_before)
    # A new encoder: the sequence goes on after the restored segments.
    assert push(origin.port(), ts) == 204
    wait_until(lambda: b"11.m4s" in origin.get(LL).body, timeout=10, what="segments 6-11")
    assert origin.get(BASE + "11.m4s").status == 200
