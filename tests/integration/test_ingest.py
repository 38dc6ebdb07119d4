"""SRT and RTMP ingest with real encoders: ffmpeg publishing over SRT (libsrt listener) and RTMP
into the live origin, played back through shield and edge. One origin -> shield -> edge chain for
the module; each test uses channels of its own. Streams are 3-8 s of ffmpeg's real-time encoding;
HEVC over Enhanced RTMP, which ffmpeg 5.1 cannot send, comes from rtmp_client.py."""
import json
import subprocess
import time
import urllib.parse

import pytest

import rtmp_client
from conftest import (ADMIN_TOKEN, Tier, edge_config, free_port, http_request, make_cert, program_path, shield_config,
                      wait_until)
from live_support import (encode_ts, ffprobe_first_frame_is_key, inspect_segment, live_origin_config, need_ffmpeg, push,
                          ts_packets, wait_playlist)

KEY = "ingest-key-0123"
CHANNELS = ["tsonce", "srt", "srtbad", "srtbackup", "rtmp", "rtmpbad", "rtmpobs", "rtmpidle", "rtmpflv1", "hevc", "rtmps", "rtmpsbad"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory, content):
    need_ffmpeg()
    d = tmp_path_factory.mktemp("ingest")
    srt_port, rtmp_port, rtmps_port = free_port(), free_port(), free_port()
    cert, key = make_cert(d / "certs", "ingest.test")
    cfg = live_origin_config(content.root, d / "store", target="1s", window=6, gap="1500ms",
                             channels=[{"name": n, "stream_key": KEY, "renditions": [{"name": "720p"}]}
                                       for n in CHANNELS])
    cfg["live"]["srt"] = {"listen": f"127.0.0.1:{srt_port}", "latency": "120ms"}
    cfg["live"]["rtmp"] = {"listen": f"127.0.0.1:{rtmp_port}", "handshake_timeout": "2s", "idle_timeout": "3s",
                           "tls_listen": f"127.0.0.1:{rtmps_port}", "certificate": str(cert), "private_key": str(key)}
    origin = Tier("origin", d, cfg).start()
    shield = Tier("shield", d, shield_config([origin.port()])).start()
    edge = Tier("edge", d, edge_config([shield.port()])).start()
    origin.srt_port, origin.rtmp_port, origin.rtmps_port = srt_port, rtmp_port, rtmps_port
    yield origin, shield, edge
    # SIGTERM, not SIGKILL: the origin's shutdown closes the SRT and RTMP listeners, and a
    # sanitizer build reports leaks only at a normal exit.
    for t in (edge, shield, origin):
        assert t.stop() == 0, t.log_tail()


def encode_args(seconds, gop=25, x264_params=None):
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    if x264_params:
        args += ["-x264-params", x264_params]
    return args + ["-c:a", "aac"]


def srt_push(port, seconds, channel, key=KEY, role=None, passphrase=None, access_control=False):
    """ffmpeg publishing over SRT; the streamid in its simple form (percent-encoded as a whole: ffmpeg
    5.1 passes it on verbatim) or in SRT's access-control syntax."""
    if access_control:
        sid = f"#!::r={channel}/720p,s={key},m=publish" + (f",role={role}" if role else "")
    else:
        sid = urllib.parse.quote(f"{channel}/720p?key={key}" + (f"&role={role}" if role else ""), safe="")
    url = f"srt://127.0.0.1:{port}?latency=120000&streamid={sid}"
    if passphrase:
        url += f"&passphrase={passphrase}"
    return subprocess.Popen(encode_args(seconds) + ["-f", "mpegts", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def rtmp_push(port, seconds, channel, key=KEY, obs_style=False, scheme="rtmp"):
    """ffmpeg publishing FLV over RTMP: rtmp://host/live/<channel>/<rendition>?key=..., or as OBS
    does it (app "live", the stream key holding the rest, passed with -rtmp_app/-rtmp_playpath)."""
    if obs_style:
        out = ["-rtmp_app", "live", "-rtmp_playpath", f"{channel}/720p?key={key}", f"{scheme}://127.0.0.1:{port}"]
    else:
        out = [f"{scheme}://127.0.0.1:{port}/live/{channel}/720p?key={key}"]
    return subprocess.Popen(encode_args(seconds) + ["-f", "flv"] + out,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(ff, timeout=60):
    try:
        return ff.wait(timeout), ff.stderr.read().decode(errors="replace")
    finally:
        if ff.poll() is None:
            ff.kill()


def play_4s_stream(origin, edge, channel, ff, tmp_path):
    """A 4 s publish: the edge serves its live playlist while it runs, then every segment of the
    ended stream starts with a decodable key frame and the segments add up to most of the 4 s."""
    live = wait_playlist(edge, f"/live/{channel}/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=30,
                         what=f"{channel}: the live playlist through the edge")
    assert not live.endlist
    code, err = finish(ff)
    assert code == 0, err
    pl = check_playable_through_edge(origin, edge, channel, tmp_path, min_segments=3)
    # ffmpeg's last packets may be lost when it closes the connection: most of 4 s arrived.
    assert 3.0 <= sum(s["duration"] for s in pl.segments) <= 4.05
    return pl


def check_playable_through_edge(origin, edge, channel, tmp_path, min_segments=2, h264=True):
    """The stream ended; every segment the edge serves starts with a decodable key frame."""
    pl = wait_playlist(origin, f"/live/{channel}/720p/event.m3u8", lambda p: p.endlist and len(p.segments) >= min_segments,
                       timeout=30, what=f"{channel}: an ended stream of {min_segments}+ segments")
    for s in pl.segments:
        r = edge.get(f"/live/{channel}/720p/{s['seq']}.ts")
        assert r.status == 200, (channel, s, r.status)
        if h264:
            f = inspect_segment(r.body)
            assert 5 in f["first_nal_types"], (channel, s["seq"], f["first_nal_types"])
        path = tmp_path / f"{channel}-{s['seq']}.ts"
        path.write_bytes(r.body)
        assert ffprobe_first_frame_is_key(path), (channel, s["seq"])
    return pl


def parameter_sets_only_once(ts):
    """An encoder that sends SPS/PPS with its first keyframe only: in every later video PES they
    become filler data (NAL type 12) of the same length, so the packets stay as they were."""
    data = bytearray(ts)
    video_pid, pes = None, []  # pes: for each video PES, the file offsets of its payload bytes
    for i, p in enumerate(ts_packets(ts)):
        pid, afc = ((p[1] & 0x1F) << 8) | p[2], (p[3] >> 4) & 3
        if video_pid is None and pid not in (0, 0x11) and p[1] & 0x40 and (afc & 1):
            pl = p[5 + p[4]:] if afc == 3 else p[4:]
            if pl[:3] == b"\x00\x00\x01" and 0xE0 <= pl[3] <= 0xEF:
                video_pid = pid
        if pid != video_pid or not (afc & 1):
            continue
        start = i * 188 + (5 + p[4] if afc == 3 else 4)
        if p[1] & 0x40:
            pes.append([])
            start += 9 + data[start + 8]
        pes[-1].extend(range(start, (i + 1) * 188))
    removed = 0
    for offsets in pes[1:]:
        es = bytes(data[o] for o in offsets)
        at = es.find(b"\x00\x00\x01")
        while at >= 0:
            end = es.find(b"\x00\x00\x01", at + 3)
            end = len(es) if end < 0 else end
            if es[at + 3] & 0x1F in (7, 8):
                data[offsets[at + 3]] = 0x0C
                for k in range(at + 4, end):
                    data[offsets[k]] = 0xFF
                data[offsets[end - 1 - (1 if end < len(es) and es[end - 1] == 0 else 0)]] = 0x80
                removed += 1
            if es[at + 3] & 0x1F in (1, 5):
                break
            at = es.find(b"\x00\x00\x01", at + 3)
    return bytes(data), removed


def test_parameter_sets_sent_once_still_start_every_segment(chain, tmp_path):
    origin, _, edge = chain
    ts, removed = parameter_sets_only_once(encode_ts(tmp_path, 6, gop=25).read_bytes())
    assert removed >= 10  # SPS and PPS of the 5 later keyframes
    assert push(origin.port(), ts, channel="tsonce", key=KEY) in (200, 204)
    pl = wait_playlist(origin, "/live/tsonce/720p/event.m3u8", lambda p: p.endlist and len(p.segments) >= 5,
                       timeout=30, what="tsonce: an ended stream of 5+ segments")
    for s in pl.segments:
        types = inspect_segment(edge.get(f"/live/tsonce/720p/{s['seq']}.ts").body)["first_nal_types"]
        assert types[:4] == [9, 7, 8, 5] or types[:3] == [9, 7, 8], (s["seq"], types)
    # A middle segment alone, as a player joining there gets it, decodes from its first frame.
    middle = pl.segments[len(pl.segments) // 2]
    path = tmp_path / "middle.ts"
    path.write_bytes(edge.get(f"/live/tsonce/720p/{middle['seq']}.ts").body)
    assert ffprobe_first_frame_is_key(path)
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-count_frames", "-show_entries",
                        "stream=nb_read_frames", "-of", "json", str(path)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert int(json.loads(r.stdout)["streams"][0]["nb_read_frames"]) == 25  # the whole 1 s GOP
    assert not r.stderr.strip(), r.stderr.decode(errors="replace")
    # 6 keyframes, the first with its own parameter sets: the other 5 got them.
    assert origin.metric("cdn_live_parameter_sets_repeated_total", channel="tsonce") == 5


def test_srt_publish_played_through_edge(chain, tmp_path):
    origin, _, edge = chain
    play_4s_stream(origin, edge, "srt", srt_push(origin.srt_port, 4, "srt"), tmp_path)
    assert origin.metric("cdn_live_ingest_bytes_total", channel="srt") > 0


def test_srt_wrong_key_refused_at_handshake(chain):
    origin, _, _ = chain
    before = origin.metric("cdn_live_errors_total", reason="bad-stream-key")
    code, err = finish(srt_push(origin.srt_port, 4, "srtbad", key="wrong-key-0123"), timeout=30)
    assert code != 0
    assert "reject" in err.lower() or "connection" in err.lower(), err
    assert origin.metric("cdn_live_errors_total", reason="bad-stream-key") == before + 1
    assert origin.metric("cdn_live_ingest_bytes_total", channel="srtbad") == 0
    code, _ = finish(srt_push(origin.srt_port, 4, "nosuch"), timeout=30)
    assert code != 0
    assert origin.metric("cdn_live_errors_total", reason="unknown-channel") >= 1
    assert origin.get("/live/srtbad/720p/index.m3u8").status == 404


def test_srt_backup_takes_over_after_the_gap(chain):
    origin, _, _ = chain
    event = "/live/srtbackup/720p/event.m3u8"
    primary = srt_push(origin.srt_port, 8, "srtbackup")
    wait_until(lambda: origin.metric("cdn_live_ingest_bytes_total", channel="srtbackup") > 0, timeout=15,
               what="the primary to be ingesting")
    backup = srt_push(origin.srt_port, 8, "srtbackup", role="backup", access_control=True)
    try:
        wait_playlist(origin, event, lambda p: len(p.segments) >= 2, timeout=20)
        wait_until(lambda: origin.metric("cdn_live_ingest_dropped_bytes_total", channel="srtbackup") > 0,
                   timeout=10, what="the backup's bytes to be dropped while the primary runs")
        primary.kill()  # the primary encoder dies
        t0 = time.monotonic()
        pl = wait_playlist(origin, event,
                           lambda p: any(s["discontinuity"] for s in p.segments) and not p.segments[-1]["discontinuity"],
                           timeout=20, what="backup segments after a discontinuity")
        assert time.monotonic() - t0 >= 1.0  # not before the input gap
        assert pl.seqs() == list(range(len(pl.segments)))
        assert origin.metric("cdn_live_input_switches_total", channel="srtbackup") >= 2
    finally:
        for ff in (primary, backup):
            if ff.poll() is None:
                ff.kill()
            ff.wait()


def test_rtmp_publish_played_through_edge(chain, tmp_path):
    """FLV's H.264 carries SPS/PPS once, in the sequence header: every segment, the later ones
    included, must still start with them (the origin re-inserts them before each keyframe)."""
    origin, _, edge = chain
    pl = play_4s_stream(origin, edge, "rtmp", rtmp_push(origin.rtmp_port, 4, "rtmp"), tmp_path)
    later = edge.get(f"/live/rtmp/720p/{pl.segments[-2]['seq']}.ts").body
    facts = inspect_segment(later)
    nals = facts["first_nal_types"]
    assert nals[:4] == [9, 7, 8, 5] or nals[:3] == [9, 7, 8], nals  # AUD, SPS, PPS, then the IDR
    assert set(facts["streams"].values()) == {0x1B, 0x0F}, facts["streams"]  # H.264 + AAC in the PMT
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
                              "-of", "csv=p=0", "-"], input=later, capture_output=True, timeout=30)
    assert streams.returncode == 0 and b"aac,44100,1" in streams.stdout, streams


def test_rtmp_obs_style_stream_key(chain):
    origin, _, _ = chain
    ff = rtmp_push(origin.rtmp_port, 3, "rtmpobs", obs_style=True)
    wait_playlist(origin, "/live/rtmpobs/720p/index.m3u8", lambda p: len(p.segments) >= 1, timeout=30)
    code, err = finish(ff)
    assert code == 0, err


def test_rtmp_wrong_key_refused(chain):
    origin, _, _ = chain
    before = origin.metric("cdn_live_errors_total", reason="bad-stream-key")
    code, err = finish(rtmp_push(origin.rtmp_port, 4, "rtmpbad", key="wrong"), timeout=30)
    assert code != 0
    assert "NetStream.Publish.BadName" in err or "bad-stream-key" in err, err
    assert origin.metric("cdn_live_errors_total", reason="bad-stream-key") == before + 1
    assert origin.metric("cdn_live_ingest_bytes_total", channel="rtmpbad") == 0
    assert origin.get("/live/rtmpbad/720p/index.m3u8").status == 404


def test_rtmp_every_phase_has_a_deadline(chain):
    """handshake_timeout 2s: a client that connects and says nothing is closed; idle_timeout 3s: a
    publisher that stops sending media (but stays connected) is closed and its input ends."""
    origin, _, _ = chain
    silent = rtmp_client.Publisher(origin.rtmp_port)
    idle = rtmp_client.Publisher(origin.rtmp_port)
    try:
        idle.publish("live", f"rtmpidle/720p?key={KEY}")
        t0 = time.monotonic()
        _, closed = silent.replies(timeout=6)
        assert closed and 1.5 <= time.monotonic() - t0 <= 5.5
        assert origin.metric("cdn_live_errors_total", reason="rtmp-handshake-timeout") == 1
        replies, closed = idle.replies(timeout=6)
        assert b"NetStream.Publish.Start" in replies
        assert closed and time.monotonic() - t0 >= 2.5
        assert origin.metric("cdn_live_errors_total", reason="rtmp-idle-timeout") == 1
    finally:
        silent.close()
        idle.close()


def test_rtmps_publish_played_through_edge(chain, tmp_path):
    """ffmpeg's rtmps:// (TLS, as OBS offers it) to live.rtmp.tls_listen, as OBS sends it."""
    origin, _, edge = chain
    ff = rtmp_push(origin.rtmps_port, 4, "rtmps", obs_style=True, scheme="rtmps")
    play_4s_stream(origin, edge, "rtmps", ff, tmp_path)
    assert origin.metric("cdn_live_ingest_bytes_total", channel="rtmps") > 0


def test_rtmps_refuses_a_wrong_key_and_plain_rtmp(chain):
    origin, _, _ = chain
    before = origin.metric("cdn_live_errors_total", reason="bad-stream-key")
    code, err = finish(rtmp_push(origin.rtmps_port, 3, "rtmpsbad", key="wrong-key", scheme="rtmps"), timeout=30)
    assert code != 0, err
    assert origin.metric("cdn_live_errors_total", reason="bad-stream-key") == before + 1
    # Plain RTMP to the TLS port: its handshake is no TLS record; refused and counted.
    before = origin.metric("cdn_live_errors_total", reason="rtmps-tls-error")
    code, _ = finish(rtmp_push(origin.rtmps_port, 3, "rtmpsbad"), timeout=30)
    assert code != 0
    wait_until(lambda: origin.metric("cdn_live_errors_total", reason="rtmps-tls-error") == before + 1, timeout=10,
               what="the plain RTMP attempt counted as a TLS error")
    assert origin.metric("cdn_live_ingest_bytes_total", channel="rtmpsbad") == 0


def test_rtmp_unsupported_codec_is_refused_and_counted(chain):
    origin, _, _ = chain
    ff = subprocess.Popen(encode_args(4)[:-2] + ["-c:v", "flv1", "-an", "-f", "flv",
                                                  f"rtmp://127.0.0.1:{origin.rtmp_port}/live/rtmpflv1/720p?key={KEY}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    code, _ = finish(ff, timeout=30)
    assert code != 0  # the origin closed the connection under it
    assert origin.metric("cdn_live_errors_total", reason="unsupported-codec") >= 1
    assert origin.metric("cdn_live_ingest_bytes_total", channel="rtmpflv1") == 0


def test_rtmp_hevc_over_enhanced_rtmp(chain, tmp_path):
    """Debian's ffmpeg 5.1 cannot publish HEVC over RTMP: the tags are crafted from a real x265
    encode (FourCC hvc1, SequenceStart + CodedFramesX) and sent by a minimal publisher."""
    origin, _, edge = chain
    hevc = tmp_path / "in.hevc"
    r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                        "-t", "4", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                        "aud=1:keyint=25:min-keyint=25:scenecut=0:bframes=0:log-level=error", "-f", "hevc", str(hevc)],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    units = rtmp_client.hevc_access_units(hevc.read_bytes())
    assert len(units) == 100 and units[0][1]
    params = {(n[0] >> 1) & 0x3F: n for n in units[0][0]}
    pub = rtmp_client.Publisher(origin.rtmp_port)
    try:
        pub.publish("live", f"hevc/720p?key={KEY}")
        pub.video(0, rtmp_client.hevc_sequence_start(params[32], params[33], params[34]))
        for i, (nals, key) in enumerate(units):
            pub.video(i * 40, rtmp_client.hevc_coded_frame(nals, key))
        pub.invoke("deleteStream", 4, None, 1)
        replies, closed = pub.replies(timeout=10)
        assert b"NetStream.Publish.Start" in replies and closed
    finally:
        pub.close()
    pl = check_playable_through_edge(origin, edge, "hevc", tmp_path, min_segments=3, h264=False)
    seg = edge.get(f"/live/hevc/720p/{pl.segments[1]['seq']}.ts").body
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
                            "-"], input=seg, capture_output=True, timeout=30)
    assert probe.returncode == 0 and probe.stdout.split()[0] == b"hevc,320,240", probe
    assert "hvc1." in origin.get("/live/hevc/master.m3u8").body.decode()


def test_srt_encryption_with_the_stream_key_as_passphrase(tiers, content, tmp_path):
    srt_port = free_port()
    cfg = live_origin_config(content.root, tmp_path / "store", target="1s", gap="1500ms",
                             channels=[{"name": "crypt", "stream_key": KEY, "renditions": [{"name": "720p"}]}])
    cfg["live"]["srt"] = {"listen": f"127.0.0.1:{srt_port}", "encrypt": True}
    origin = tiers("origin", cfg).start()
    code, _ = finish(srt_push(srt_port, 4, "crypt"), timeout=30)  # right key, no passphrase
    assert code != 0
    assert origin.metric("cdn_live_ingest_bytes_total", channel="crypt") == 0
    ff = srt_push(srt_port, 3, "crypt", passphrase=KEY)
    wait_playlist(origin, "/live/crypt/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=30)
    code, err = finish(ff)
    assert code == 0, err


def test_ingest_config_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tier: origin\nlisten:\n  - address: 127.0.0.1:1\norigin:\n  root: /tmp\nlive:\n"
                   "  store_path: /tmp/x\n  channels:\n    - name: a\n      stream_key: short\n"
                   "      renditions:\n        - name: r\n  srt:\n    listen: 127.0.0.1:9000\n"
                   "    latency: 5ms\n    encrypt: true\n  rtmp:\n    listen: nowhere\n    idle_timout: 5s\n"
                   "    tls_listen: 127.0.0.1:9001\n    certificate: /nonexistent.crt\n")
    r = subprocess.run([str(program_path("origin")), "--config", str(bad), "--check-config"],
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    err = r.stderr.decode()
    # latency below 20ms, a passphrase too short, no port, a typo, an unreadable certificate
    for line in (15, 16, 18, 19, 21):
        assert f"{bad}:{line}:" in err, (line, err)
    assert "private_key" in err, err  # tls_listen needs both files


def test_srt_pull_from_an_encoder_in_listener_mode(tiers, content, tmp_path):
    """Caller mode: the origin connects to ffmpeg listening for SRT, retrying until it answers."""
    port = free_port()
    channels = [{"name": "pull", "stream_key": KEY,
                 "renditions": [{"name": "720p", "srt_pull": f"srt://127.0.0.1:{port}?latency=120ms"}]}]
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", target="1s", gap="1500ms",
                                                channels=channels)).start()
    wait_until(lambda: origin.metric("cdn_live_errors_total", reason="srt-pull-failed") == 1, timeout=10,
               what="the first attempt, with nobody listening, to fail")
    ff = subprocess.Popen(encode_args(4) + ["-f", "mpegts", f"srt://127.0.0.1:{port}?mode=listener&latency=120000"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_playlist(origin, "/live/pull/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=30)
    code, err = finish(ff)
    assert code == 0, err
    pl = wait_playlist(origin, "/live/pull/720p/event.m3u8", lambda p: p.endlist, timeout=20)
    seg = origin.get(f"/live/pull/720p/{pl.segments[-1]['seq']}.ts")
    path = tmp_path / "last.ts"
    path.write_bytes(seg.body)
    assert ffprobe_first_frame_is_key(path)


def test_key_rotation_and_channel_removal_cut_rtmp_and_srt_publishers(tiers, content, tmp_path):
    """SRT and RTMP publishers follow the channel table like HTTP pushes: rotating the key (admin
    API) cuts both, and reconnecting with the old key is refused; removing the channel cuts the
    ones publishing with the new key. RTMP hears why (onStatus error), SRT's socket is closed."""
    srt_port, rtmp_port = free_port(), free_port()
    channels = [{"name": "cut", "stream_key": KEY, "renditions": [{"name": "720p"}, {"name": "rtmp"}]}]
    cfg = live_origin_config(content.root, tmp_path / "store", target="1s", gap="1500ms", channels=channels)
    cfg["live"]["srt"] = {"listen": f"127.0.0.1:{srt_port}"}
    cfg["live"]["rtmp"] = {"listen": f"127.0.0.1:{rtmp_port}", "idle_timeout": "60s"}
    origin = tiers("origin", cfg).start()
    new_key = "rotated-key-4567"

    def admin(method, path, body=b""):
        return http_request(origin.admin_port, path, method=method, body=body,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Length": str(len(body))})

    def publishers(key):
        """An RTMP publisher on cut/rtmp (no media needed) and ffmpeg over SRT on cut/720p, both in."""
        rtmp = rtmp_client.Publisher(rtmp_port)
        rtmp.publish("live", f"cut/rtmp?key={key}")
        assert rtmp.wait_for(b"NetStream.Publish.Start"), rtmp.received
        before = origin.metric("cdn_live_ingest_bytes_total", channel="cut")
        srt = srt_push(srt_port, 60, "cut", key=key)
        wait_until(lambda: origin.metric("cdn_live_ingest_bytes_total", channel="cut") > before, timeout=15,
                   what="the SRT publisher to be ingesting")
        return rtmp, srt

    def assert_cut(rtmp, srt, reason):
        replies, closed = rtmp.replies(timeout=10)
        assert closed and b"NetStream.Publish.BadName" in replies and reason.encode() in replies, replies
        code, _ = finish(srt, timeout=15)  # the origin closed its socket: ffmpeg's writes fail
        assert code != 0
        assert origin.metric("cdn_live_errors_total", reason=reason) == 2

    rtmp, srt = publishers(KEY)
    try:
        r = admin("POST", "/admin/channels/cut/rotate-key", json.dumps({"stream_key": new_key}).encode())
        assert r.status == 200, r
        assert_cut(rtmp, srt, "stream-key-changed")
    finally:
        rtmp.close()
        if srt.poll() is None:
            srt.kill()

    # Reconnecting with the old key: both refused at once.
    refused = origin.metric("cdn_live_errors_total", reason="bad-stream-key")
    old = rtmp_client.Publisher(rtmp_port)
    try:
        old.publish("live", f"cut/rtmp?key={KEY}")
        replies, closed = old.replies(timeout=10)
        assert closed and b"NetStream.Publish.BadName" in replies and b"bad-stream-key" in replies, replies
    finally:
        old.close()
    code, _ = finish(srt_push(srt_port, 4, "cut"), timeout=30)
    assert code != 0
    assert origin.metric("cdn_live_errors_total", reason="bad-stream-key") == refused + 2

    rtmp, srt = publishers(new_key)
    try:
        assert admin("DELETE", "/admin/channels/cut").status == 200
        assert_cut(rtmp, srt, "channel-removed")
    finally:
        rtmp.close()
        if srt.poll() is None:
            srt.kill()
    assert origin.metric("cdn_live_errors_total", reason="unknown-channel") == 0


def test_srt_pulls_follow_the_channel_table(tiers, content, tmp_path):
    """A channel added through the admin API with an srt_pull starts pulling at once; removing it
    stops the pull (the encoder in listener mode loses its caller and ends early)."""
    port = free_port()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", target="1s", gap="1500ms",
                                                channels=[{"name": "a", "stream_key": KEY,
                                                           "renditions": [{"name": "720p"}]}])).start()
    ff = subprocess.Popen(encode_args(30) + ["-f", "mpegts", f"srt://127.0.0.1:{port}?mode=listener&latency=120000"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        body = json.dumps({"name": "pulled", "stream_key": KEY,
                           "renditions": [{"name": "720p", "srt_pull": f"srt://127.0.0.1:{port}?latency=120ms"}]})
        r = http_request(origin.admin_port, "/admin/channels", method="POST", body=body.encode(),
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Length": str(len(body))})
        assert r.status == 201, r
        wait_playlist(origin, "/live/pulled/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=30)
        t0 = time.monotonic()
        r = http_request(origin.admin_port, "/admin/channels/pulled", method="DELETE",
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Length": "0"})
        assert r.status == 200, r
        wait_playlist(origin, "/live/pulled/720p/index.m3u8", lambda p: p.endlist, timeout=10)
        ff.wait(timeout=20)  # its caller, the origin, went away: well before its 30 s
        assert time.monotonic() - t0 < 20
    finally:
        if ff.poll() is None:
            ff.kill()
        ff.wait()
