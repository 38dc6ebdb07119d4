"""Live origin end to end: ingest (HTTP push, UDP), segmenting, playlists, the RocksDB store and
serving through shield and edge. Real cdn-origin/cdn-shield/cdn-edge processes, real ffmpeg and
ffprobe. See live_support.py for the helpers."""
import hashlib
import os
import subprocess
import time

from conftest import Tier, edge_config, free_port, program_path, shield_config, time_bound, wait_until
from live_support import (FRAME_S, STREAM_KEY, MediaPlaylist, Pusher, add_scte35, encode_ts, ffmpeg_live_push,
                          ffprobe_first_frame_is_key, ffprobe_streams, first_video_pts, get_playlist,
                          inspect_segment, live_origin_config, need_ffmpeg, push, splice_insert_section,
                          udp_push, wait_playlist)

INDEX = "/live/demo/720p/index.m3u8"
EVENT = "/live/demo/720p/event.m3u8"
SEG = "/live/demo/720p/{}.ts"


def segment_bytes(tier, seq, seg=SEG):
    r = tier.get(seg.format(seq))
    assert r.status == 200, (seq, r.status, r.body[:100])
    return r.body


def check_segments(tier, playlist, tmp_path, seg=SEG):
    """Every segment starts with PAT, PMT and an IDR access unit; EXTINF matches the timestamps."""
    facts = []
    for s in playlist.segments:
        data = segment_bytes(tier, s["seq"], seg)
        f = inspect_segment(data)
        assert f["first_pids"] == [0, f["pmt_pid"]], (s["seq"], f["first_pids"])
        assert f["video_pid"] is not None and f["video_pts"], s["seq"]
        nals = f["first_nal_types"]
        assert 5 in nals, (s["seq"], nals)  # IDR
        assert 1 not in nals[:nals.index(5)], (s["seq"], nals)  # no non-IDR slice before it
        path = tmp_path / f"seg{s['seq']}.ts"
        path.write_bytes(data)
        assert ffprobe_first_frame_is_key(path), s["seq"]
        facts.append(f)
    for i, s in enumerate(playlist.segments):
        first = min(facts[i]["video_pts"])
        nxt = playlist.segments[i + 1] if i + 1 < len(playlist.segments) else None
        if nxt is not None and not nxt["discontinuity"]:
            measured = (min(facts[i + 1]["video_pts"]) - first) / 90000
        else:
            measured = (max(facts[i]["video_pts"]) - first) / 90000 + FRAME_S
        assert abs(s["duration"] - measured) <= FRAME_S + 1e-6, (s["seq"], s["duration"], measured)
    return facts


def test_ffmpeg_push_played_through_shield_and_edge(tiers, content, tmp_path):
    need_ffmpeg()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store")).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    edge = tiers("edge", edge_config([shield.port()])).start()
    ff = ffmpeg_live_push(origin.port(), 9)
    try:
        wait_playlist(origin, INDEX, lambda p: len(p.segments) >= 2, timeout=40, what="two live segments")
        # The master and the media playlist as the edge serves them, read by a real player library.
        streams = ffprobe_streams(f"http://127.0.0.1:{edge.port()}/live/demo/master.m3u8")
        kinds = {s["codec_type"] for s in streams}
        assert {"video", "audio"} <= kinds, streams
        video = next(s for s in streams if s["codec_type"] == "video")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)

        m = edge.get("/live/demo/master.m3u8")
        assert m.status == 200 and m.header("X-Cache") in ("HIT", "MISS", "STALE", "REVALIDATED")
        text = m.body.decode()
        assert "BANDWIDTH=" in text and "RESOLUTION=320x240" in text and 'CODECS="avc1.' in text, text
        assert "mp4a.40.2" in text and "720p/index.m3u8" in text

        r = origin.get(INDEX)
        assert r.header("Content-Type") == "application/vnd.apple.mpegurl"
        assert r.header("Access-Control-Allow-Origin") == "*"
        max_age = int(r.header("Cache-Control").split("max-age=")[1].split(",")[0])
        pl = MediaPlaylist(r.body.decode())
        assert 0 < max_age <= pl.target_duration / 2
        assert r.header("ETag") and r.header("Last-Modified")
        assert origin.get(INDEX, headers={"If-None-Match": r.header("ETag")}).status in (200, 304)
        assert all(any(t.startswith("#EXT-X-PROGRAM-DATE-TIME:") for t in s["tags"]) for s in pl.segments)

        seg = origin.get(SEG.format(pl.segments[0]["seq"]))
        assert seg.header("Content-Type") == "video/mp2t"
        assert "immutable" in seg.header("Cache-Control")
        assert seg.header("ETag") and seg.header("Last-Modified")
        assert origin.get(SEG.format(pl.segments[0]["seq"]),
                          headers={"If-None-Match": seg.header("ETag")}).status == 304
        assert ff.wait(60) == 0, ff.stderr.read().decode(errors="replace")
    finally:
        if ff.poll() is None:
            ff.kill()
    # The encoder is gone and there is no backup: after input_gap the stream ends.
    pl = wait_playlist(origin, INDEX, lambda p: p.endlist, timeout=20, what="EXT-X-ENDLIST")
    ev = get_playlist(origin, EVENT)
    assert ev.endlist and ev.type == "VOD" and ev.seqs()[0] == 0
    assert pl.target_duration == 2
    check_segments(origin, ev, tmp_path)
    # Through the chain as well: the edge serves the same bytes.
    last = ev.segments[-1]["seq"]
    assert edge.get(SEG.format(last)).body == segment_bytes(origin, last)
    assert origin.metric("cdn_live_segments_total", channel="demo", rendition="720p") == len(ev.segments)


def test_stream_key_checked_before_anything_is_stored(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 6).read_bytes()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store")).start()
    assert push(origin.port(), data, key="wrong") == 403
    assert push(origin.port(), data, key=None) == 403
    r = origin.get(INDEX)
    assert r.status == 404 and r.header("Access-Control-Allow-Origin") == "*"
    assert origin.get("/live/demo/master.m3u8").status == 404
    assert origin.get(SEG.format(0)).status == 404
    assert origin.metric("cdn_live_errors_total", reason="bad-stream-key") == 2
    assert origin.metric("cdn_live_ingest_bytes_total") == 0
    assert push(origin.port(), data, channel="nope") == 404
    assert push(origin.port(), data, rendition="nope") == 404
    # The key may also come as a bearer token.
    assert push(origin.port(), data, key=None, headers={"Authorization": f"Bearer {STREAM_KEY}"}) == 204
    pl = wait_playlist(origin, INDEX, lambda p: len(p.segments) == 3, timeout=10)
    assert pl.seqs() == [0, 1, 2]


def test_encoder_restart_is_a_discontinuity_and_the_sequence_continues(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 10).read_bytes()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", gap="3s")).start()
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, INDEX, lambda p: len(p.segments) == 5, timeout=10)
    assert pl.seqs() == [0, 1, 2, 3, 4] and not any(s["discontinuity"] for s in pl.segments)
    # The encoder restarts: its timestamps start over.
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, EVENT, lambda p: len(p.segments) == 10, timeout=10)
    assert pl.seqs() == list(range(10))
    assert [s["seq"] for s in pl.segments if s["discontinuity"]] == [5]
    assert push(origin.port(), data) == 204
    live = wait_playlist(origin, INDEX, lambda p: p.segments and p.segments[-1]["seq"] == 14, timeout=10)
    # The first discontinuity left the window: EXT-X-DISCONTINUITY-SEQUENCE counts it.
    assert live.media_sequence == 9 and live.seqs() == list(range(9, 15))
    assert live.discontinuity_sequence == 1
    assert [s["seq"] for s in live.segments if s["discontinuity"]] == [10]
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in live.text
    check_segments(origin, live, tmp_path)
    wait_playlist(origin, INDEX, lambda p: p.endlist, timeout=10, what="EXT-X-ENDLIST")


def test_origin_restart_keeps_the_media_sequence(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 10).read_bytes()
    cfg = live_origin_config(content.root, tmp_path / "store")
    origin = tiers("origin", cfg).start()
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, INDEX, lambda p: len(p.segments) == 5, timeout=10)
    before = {s["seq"]: hashlib.sha256(segment_bytes(origin, s["seq"])).hexdigest() for s in pl.segments}
    assert origin.stop() == 0
    origin.start()
    pl = get_playlist(origin, INDEX)
    assert pl.seqs() == [0, 1, 2, 3, 4]
    for seq, digest in before.items():  # now read from RocksDB, not memory
        assert hashlib.sha256(segment_bytes(origin, seq)).hexdigest() == digest
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, EVENT, lambda p: len(p.segments) == 10, timeout=10)
    assert pl.seqs() == list(range(10))
    assert pl.segments[5]["discontinuity"]
    assert origin.get("/live/demo/master.m3u8").status == 200
    # An encoder still pushing does not hold the shutdown: its push is answered 503 and closed.
    pusher = Pusher(origin.port(), data, rate=len(data) / 10).start()
    wait_until(lambda: pusher.sent > len(data) // 3, timeout=10, what="a third of the push")
    t0 = time.monotonic()
    assert origin.stop() == 0
    assert time.monotonic() - t0 < time_bound(10)
    pusher.join()
    origin.start()
    pl = get_playlist(origin, EVENT)
    assert pl.seqs() == list(range(len(pl.segments))) and len(pl.segments) >= 11


def test_channels_ingest_and_are_served_independently(tiers, content, tmp_path):
    """Two channels pushed at once into an origin with two workers, read all the while: each
    playlist only moves forward, every segment it lists is served, each channel counts only its own
    input and segments."""
    data = encode_ts(tmp_path, 10).read_bytes()
    names = ("demo", "news")
    channels = [{"name": n, "stream_key": STREAM_KEY, "renditions": [{"name": "720p"}]} for n in names]
    cfg = live_origin_config(content.root, tmp_path / "store", channels=channels, gap="3s")
    cfg["workers"] = 2
    origin = tiers("origin", cfg).start()
    # The 10 s clip in about 4 s each, so that the reads below overlap the ingest.
    pushers = [Pusher(origin.port(), data, channel=n, rate=len(data) / 4).start() for n in names]
    last = dict.fromkeys(names, -1)
    served = 0
    while any(p.thread.is_alive() for p in pushers):
        for n in names:
            r = origin.get(f"/live/{n}/720p/index.m3u8")
            if r.status == 404 and last[n] < 0:
                assert r.header("X-Error-Reason") == "no-segments-yet"
                continue
            assert r.status == 200, (n, r.status)
            pl = MediaPlaylist(r.body.decode())
            assert pl.segments and pl.segments[-1]["seq"] >= last[n], (n, last[n], pl.text)
            last[n] = pl.segments[-1]["seq"]
            for s in pl.segments:
                seg = origin.get(f"/live/{n}/720p/{s['uri']}")
                assert seg.status == 200 and seg.body[:1] == b"\x47", (n, s["uri"], seg.status)
                served += 1
    assert [p.join() for p in pushers] == [204, 204]
    assert served > 0
    for n in names:
        pl = wait_playlist(origin, f"/live/{n}/720p/index.m3u8", lambda p: len(p.segments) == 5, timeout=10)
        assert pl.seqs() == [0, 1, 2, 3, 4]
        assert origin.metric("cdn_live_segments_total", channel=n) == 5
        assert origin.metric("cdn_live_ingest_bytes_total", channel=n) == len(data)
        assert origin.get(f"/live/{n}/master.m3u8").status == 200


def test_backup_ingest_takes_over_after_the_gap(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 14).read_bytes()
    rate = len(data) / 14  # about real time
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", gap="1500ms")).start()
    primary = Pusher(origin.port(), data, rate=rate).start()
    wait_until(lambda: origin.metric("cdn_live_ingest_bytes_total") > 0, timeout=10,
               what="the primary to be ingesting")
    backup = Pusher(origin.port(), data, rate=rate, role="backup").start()
    try:
        wait_playlist(origin, INDEX, lambda p: len(p.segments) >= 2, timeout=20)
        assert origin.metric("cdn_live_ingest_dropped_bytes_total") > 0  # the backup stands by
        primary.abort()  # the primary encoder dies
        t0 = time.monotonic()
        pl = wait_playlist(origin, EVENT,
                           lambda p: any(s["discontinuity"] for s in p.segments) and not p.segments[-1]["discontinuity"],
                           timeout=20, what="backup segments after a discontinuity")
        assert time.monotonic() - t0 >= 1.0  # not before the gap
        assert pl.seqs() == list(range(len(pl.segments)))  # no reset, no gap in numbering
        assert not pl.endlist
        assert origin.metric("cdn_live_input_switches_total") >= 2
    finally:
        primary.abort()
        backup.abort()


def test_scte35_splice_insert_becomes_daterange_and_cue_out(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 8).read_bytes()
    p0 = first_video_pts(data)
    splice = p0 + 2 * 90000  # a keyframe (GOP 2 s)
    out = splice_insert_section(event_id=77, pts=splice, duration_s=4.0)
    data = add_scte35(data, [(out, splice - 90000)])  # sent a second before the splice point
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store")).start()
    # Close to real time: program date-times (and so the auto-return of the break) follow the
    # wall clock.
    assert Pusher(origin.port(), data, rate=len(data) / 6).start().join() == 204
    pl = wait_playlist(origin, EVENT, lambda p: len(p.segments) == 4, timeout=10)
    cued = [s for s in pl.segments if "#EXT-X-CUE-OUT" in " ".join(s["tags"])]
    assert len(cued) == 1, pl.text
    s = cued[0]
    assert s["seq"] == 1
    assert first_video_pts(segment_bytes(origin, s["seq"])) == splice  # the cue sits on the boundary
    daterange = next(t for t in s["tags"] if t.startswith("#EXT-X-DATERANGE:"))
    assert 'ID="splice-77"' in daterange and "SCTE35-OUT=0x" in daterange, daterange
    assert "PLANNED-DURATION=4" in daterange
    assert any(t.startswith("#EXT-X-CUE-OUT:") and "4" in t for t in s["tags"])
    assert origin.metric("cdn_live_segments_total") == 4
    # Auto-return: the break closes 4 s later.
    back = pl.segments[s["seq"] + 2]
    assert any(t.startswith("#EXT-X-CUE-IN") for t in back["tags"]), pl.text


def test_retention_after_leaving_the_window_then_deleted(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 16, gop=25).read_bytes()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", target="1s", dvr="0s",
                                                gap="30s")).start()
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, INDEX, lambda p: p.segments and p.segments[-1]["seq"] == 15, timeout=10)
    t0 = time.monotonic()
    assert pl.media_sequence == 10 and len(pl.segments) == 6
    # RFC 8216 §6.2.2: available for its duration plus the playlist's duration after leaving it.
    must_live = pl.segments[0]["duration"] + sum(s["duration"] for s in pl.segments)
    while time.monotonic() - t0 < must_live - 0.5:
        assert origin.get(SEG.format(0)).status == 200
        time.sleep(0.5)
    wait_until(lambda: origin.get(SEG.format(0)).status == 404, timeout=20, what="segment 0 deleted")
    assert origin.get(SEG.format(15)).status == 200
    # segment 0 goes first; the sweep that deletes the others may still be running
    wait_until(lambda: origin.metric("cdn_live_segments_expired_total") >= 10, timeout=10,
               what="segments 0-9 expired")


def test_garbage_ingest_never_hurts_stored_segments(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 8).read_bytes()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", gap="500ms")).start()
    assert push(origin.port(), data) == 204
    pl = wait_playlist(origin, INDEX, lambda p: p.endlist, timeout=10)
    digests = {s["seq"]: hashlib.sha256(segment_bytes(origin, s["seq"])).hexdigest() for s in pl.segments}
    rnd = os.urandom(1 << 20)
    fake_ts = b"".join(b"\x47" + os.urandom(187) for _ in range(4000))
    corrupted = bytearray(data)
    for i in range(1000, len(corrupted), 997):
        corrupted[i] ^= 0xFF
    for body in (rnd, fake_ts, data[1234:len(data) // 2 + 77], bytes(corrupted), b"\x47" * 5000):
        status = push(origin.port(), body)
        assert status in (204, None), status
        assert origin.running()
    wait_until(lambda: origin.get(INDEX).status == 200, timeout=5)
    for seq, digest in digests.items():
        assert hashlib.sha256(segment_bytes(origin, seq)).hexdigest() == digest
    status, health = origin.healthz()
    assert status == 200
    after = get_playlist(origin, EVENT)
    assert after.seqs()[:len(digests)] == sorted(digests)
    assert after.seqs() == list(range(len(after.segments)))


def test_udp_ingest(tiers, content, tmp_path):
    data = encode_ts(tmp_path, 8).read_bytes()
    udp = free_port()
    channels = [{"name": "demo", "stream_key": STREAM_KEY, "renditions": [{"name": "720p", "udp": f"127.0.0.1:{udp}"}]}]
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", channels=channels,
                                                gap="1s")).start()
    udp_push(udp, data, rate=len(data) / 4)
    pl = wait_playlist(origin, INDEX, lambda p: p.endlist, timeout=15, what="UDP stream ended")
    assert len(pl.segments) == 4
    check_segments(origin, pl, tmp_path)


def test_package_file_as_vod(tiers, content, tmp_path):
    data_path = encode_ts(tmp_path, 10)
    store = tmp_path / "store"
    r = subprocess.run([str(program_path("origin")), "package", str(data_path), "--channel", "movie",
                        "--store", str(store)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    err = r.stderr.decode()
    assert "package: 100%" in err and "\r" not in err  # plain progress lines when not a terminal
    assert r.stdout.decode().strip() == "/live/movie/master.m3u8"
    origin = tiers("origin", live_origin_config(content.root, store)).start()
    pl = get_playlist(origin, "/live/movie/vod/index.m3u8")
    assert pl.endlist and pl.seqs() == [0, 1, 2, 3, 4]
    assert get_playlist(origin, "/live/movie/vod/event.m3u8").type == "VOD"
    check_segments(origin, pl, tmp_path, seg="/live/movie/vod/{}.ts")
    m = origin.get("/live/movie/master.m3u8")
    assert m.status == 200 and "vod/index.m3u8" in m.body.decode()
    assert push(origin.port(), data_path.read_bytes(), channel="movie", rendition="vod") == 404


def test_live_config_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tier: origin\nlisten:\n  - address: 127.0.0.1:1\norigin:\n  root: /tmp\nlive:\n"
                   "  store_path: /tmp/x\n  window_segments: 3\n  channels:\n    - name: a/b\n"
                   "      stream_key: k\n      renditions:\n        - name: r\n          udpp: 1.2.3.4:5\n")
    r = subprocess.run([str(program_path("origin")), "--config", str(bad), "--check-config"],
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    err = r.stderr.decode()
    assert f"{bad}:8:" in err and f"{bad}:10:" in err and f"{bad}:14:" in err, err
