"""Packaged VOD as CMAF: `cdn-origin package --formats ts,fmp4,dash` and `POST /admin/package` with
formats= write fMP4 HLS (init + media segments, a VOD playlist) and a static DASH MPD beside (or
instead of) TS. A real ffmpeg-made TS file (H.264 + AAC, 2 s GOPs), a real origin -> shield -> edge
chain; ffprobe reads the fMP4 playlist and the MPD through the edge, every media segment is walked
box by box (test_cmaf_origin.py's parser), and a restarted origin serves the same bytes."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from browser_support import BROWSER_DIR, browser_or_skip
from conftest import ADMIN_TOKEN, edge_config, http_request, program_path, shield_config, wait_until
from live_support import encode_ts, live_origin_config, need_ffmpeg
from test_cmaf_origin import boxes, fragments

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
SECONDS, GOP_S = 10, 2  # 25 fps, GOP 50: five 2 s segments


def package(*args):
    return subprocess.run([str(program_path("origin")), "package", *map(str, args)], capture_output=True,
                          timeout=120, text=True)


def input_duration(path):
    """The input's video stream duration (s), by ffprobe."""
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration",
                        "-of", "csv=p=0", str(path)], capture_output=True, timeout=30, text=True)
    assert r.returncode == 0, r.stderr
    return float(r.stdout.split()[0])  # one line per program the TS lists


def probe(url):
    """(stream kinds, duration) of what ffprobe reads at url."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of", "json",
                        url], capture_output=True, timeout=60, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    return sorted(s["codec_name"] for s in doc["streams"]), float(doc["format"].get("duration", 0))


def media_uris(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def check_muxed_segments(tier, base, text):
    """Every fMP4 HLS segment: video starts with a keyframe, each track's decode times run on across
    segments without a gap. Returns {track: seconds from its first decode time to its last end}."""
    expect, start = {}, {}
    for uri in media_uris(text):
        r = tier.get(base + uri)
        assert r.status == 200, uri
        assert boxes(r.body)[0]["type"] == b"styp"
        frags = fragments(r.body)
        first = {tr["track"]: tr for tr in frags[0][1]}
        assert first[1]["sync"][0], f"{uri} does not start with a keyframe"
        for _, trafs in frags:
            for tr in trafs:
                start.setdefault(tr["track"], tr["tfdt"])
                if tr["track"] in expect:
                    assert tr["tfdt"] == expect[tr["track"]], (uri, tr["track"], tr["tfdt"], expect[tr["track"]])
                expect[tr["track"]] = tr["tfdt"] + sum(tr["durations"])
    return {track: (end - start[track]) / 90000 for track, end in expect.items()}


def mpd_tracks(tier, mpd_path, body):
    """Walks each Representation's timeline through `tier`: every segment's tfdt is its S@t and the
    video fragments fill S@d exactly, starting with a keyframe. Returns {kind: (timeline, bytes)}."""
    root = ET.fromstring(body)
    base = mpd_path.rsplit("/", 1)[0] + "/"
    out = {}
    for aset in root.findall("d:Period/d:AdaptationSet", NS):
        kind = aset.get("contentType")
        tmpl = aset.find("d:Representation/d:SegmentTemplate", NS)
        number, t_next, timeline, whole = int(tmpl.get("startNumber")), None, [], bytearray()
        init = tier.get(base + tmpl.get("initialization"))
        assert init.status == 200
        whole += init.body
        for s in tmpl.findall("d:SegmentTimeline/d:S", NS):
            assert s.get("r") is None
            t = int(s.get("t")) if s.get("t") is not None else t_next
            d = int(s.get("d"))
            seg = tier.get(base + tmpl.get("media").replace("$Number$", str(number)))
            assert seg.status == 200, (kind, number)
            frags = fragments(seg.body)
            assert all(len(trafs) == 1 for _, trafs in frags)  # one track per file
            assert frags[0][1][0]["tfdt"] == t, (kind, number)
            if kind == "video":
                assert frags[0][1][0]["sync"][0], number
                assert sum(sum(tr["durations"]) for _, trs in frags for tr in trs) == d
            timeline.append((t, d))
            whole += seg.body
            t_next, number = t + d, number + 1
        out[kind] = (timeline, bytes(whole))
    return out


def test_package_ts_fmp4_and_dash_served_through_the_edge_and_after_a_restart(tiers, content, tmp_path):
    need_ffmpeg()
    clip = encode_ts(tmp_path, SECONDS, gop=25 * GOP_S)
    store = tmp_path / "store"
    r = package(clip, "--channel", "movie", "--store", store, "--formats", "ts,fmp4,dash")
    assert r.returncode == 0, r.stderr
    assert "in ts,fmp4,dash" in r.stderr and r.stdout.strip() == "/live/movie/master.m3u8"
    origin = tiers("origin", live_origin_config(content.root, store)).start()
    shield = tiers("shield", shield_config([origin.port()]))
    shield.start()
    edge = tiers("edge", edge_config([shield.port()]))
    edge.start()
    want = input_duration(clip)

    # TS HLS as before.
    ts_pl = edge.get("/live/movie/vod/index.m3u8").body.decode()
    assert "#EXT-X-ENDLIST" in ts_pl and len(media_uris(ts_pl)) == SECONDS // GOP_S
    assert edge.get("/live/movie/vod/0.ts").body[:1] == b"\x47"

    # fMP4 HLS: a VOD playlist of every segment, whole segments (no parts), one init segment.
    master = edge.get("/live/movie/master-fmp4.m3u8")
    assert master.status == 200 and "vod/index-fmp4.m3u8" in master.body.decode()
    pl = edge.get("/live/movie/vod/index-fmp4.m3u8")
    assert pl.status == 200
    text = pl.body.decode()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert '#EXT-X-MAP:URI="init-0.mp4"' in text and "#EXT-X-PART" not in text and "PRELOAD-HINT" not in text
    assert media_uris(text) == [f"{n}.m4s" for n in range(SECONDS // GOP_S)]
    codecs, duration = probe(f"http://127.0.0.1:{edge.port()}/live/movie/vod/index-fmp4.m3u8")
    assert codecs == ["aac", "h264"] and abs(duration - want) <= GOP_S, duration
    init = edge.get("/live/movie/vod/init-0.mp4")
    assert init.status == 200 and [b["type"] for b in boxes(init.body)] == [b"ftyp", b"moov"]
    spans = check_muxed_segments(edge, "/live/movie/vod/", text)
    assert abs(spans[1] - want) < 0.05 and abs(spans[2] - want) < 0.1, spans  # video, audio: all of the input

    # DASH: a static MPD listing every segment; its durations sum to the input's.
    mpd = edge.get("/live/movie/manifest.mpd")
    assert mpd.status == 200 and mpd.header("Content-Type") == "application/dash+xml"
    root = ET.fromstring(mpd.body)
    assert root.get("type") == "static" and root.get("minimumUpdatePeriod") is None
    assert root.get("availabilityStartTime") is None
    tracks = mpd_tracks(edge, "/live/movie/manifest.mpd", mpd.body)
    assert set(tracks) == {"video", "audio"}
    video = tracks["video"][0]
    assert len(video) == SECONDS // GOP_S
    total = sum(d for _, d in video) / 90000
    assert root.get("mediaPresentationDuration") == f"PT{total:.3f}S"
    assert abs(total - want) < 0.05, (total, want)
    audio_total = sum(d for _, d in tracks["audio"][0]) / 90000
    assert abs(audio_total - want) < 0.1, audio_total
    codecs, _ = probe(f"http://127.0.0.1:{edge.port()}/live/movie/manifest.mpd")
    assert codecs == ["aac", "h264"]
    for kind, (_, whole) in tracks.items():  # init + every segment: one playable file per track
        path = tmp_path / f"{kind}.mp4"
        path.write_bytes(whole)
        out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                              "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(path)],
                             capture_output=True, timeout=60, text=True)
        assert out.returncode == 0, out.stderr
        if kind == "video":
            assert out.stdout.strip() == f"h264,{25 * SECONDS}"

    # A restarted origin serves the same playlist, MPD and bytes from the store.
    files = ["init-0.mp4", "v-init-0.mp4", "a-init-0.mp4"] + media_uris(text) + \
        ["v-" + u for u in media_uris(text)] + ["a-" + u for u in media_uris(text)]
    before = {f: origin.get("/live/movie/vod/" + f).body for f in files}
    assert all(before.values())
    assert origin.stop() == 0
    origin.start()
    assert origin.get("/live/movie/vod/index-fmp4.m3u8").body == pl.body
    assert origin.get("/live/movie/manifest.mpd").body == mpd.body
    for f, body in before.items():
        got = origin.get("/live/movie/vod/" + f)
        assert got.status == 200 and got.body == body, f


def admin(origin, method, path):
    return http_request(origin.admin_port, path, method=method,
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Length": "0"})


def test_admin_package_with_formats_dash_and_refused_formats(tiers, content, tmp_path):
    need_ffmpeg()
    clip = encode_ts(tmp_path, 6, gop=50)
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store")).start()
    r = admin(origin, "POST", f"/admin/package?input={quote(str(clip))}&channel=movie&formats=dash")
    assert r.status == 202, r
    started = json.loads(r.body)
    assert started["formats"] == "fmp4,dash" and started["manifest"] == "/live/movie/manifest.mpd"

    def job():
        return {j["job"]: j for j in json.loads(admin(origin, "GET", "/admin/package").body)["jobs"]}[started["job"]]

    wait_until(lambda: job()["state"] == "done", timeout=30, what="the package job")
    assert job()["segments"] == 3 and job()["formats"] == "fmp4,dash"
    mpd = origin.get(started["manifest"])
    assert mpd.status == 200
    root = ET.fromstring(mpd.body)
    assert root.get("type") == "static"
    tracks = mpd_tracks(origin, started["manifest"], mpd.body)
    assert len(tracks["video"][0]) == 3
    assert abs(sum(d for _, d in tracks["video"][0]) / 90000 - input_duration(clip)) < 0.05
    # No ts asked for: index.m3u8 is the fMP4 playlist and there are no TS segments.
    pl = origin.get("/live/movie/vod/index.m3u8")
    assert pl.status == 200 and b"#EXT-X-MAP" in pl.body and b"#EXT-X-PLAYLIST-TYPE:VOD" in pl.body
    assert origin.get("/live/movie/vod/0.ts").status == 404
    assert origin.get("/live/movie/vod/event.m3u8").status == 404  # it would list .ts files
    check_muxed_segments(origin, "/live/movie/vod/", pl.body.decode())

    # Packaged again as TS only: the fMP4 output goes (nothing stale is served).
    r = admin(origin, "POST", f"/admin/package?input={quote(str(clip))}&channel=movie&formats=ts")
    assert r.status == 202
    again = json.loads(r.body)["job"]
    wait_until(lambda: {j["job"]: j for j in json.loads(admin(origin, "GET", "/admin/package").body)["jobs"]}[again]
               ["state"] == "done", timeout=30, what="the second job")
    assert origin.get("/live/movie/manifest.mpd").status == 404
    assert origin.get("/live/movie/vod/0.m4s").status == 404
    assert origin.get("/live/movie/vod/0.ts").body[:1] == b"\x47"

    for formats, reason in [("llhls", "format-not-for-vod"), ("ts,lldash", "format-not-for-vod"),
                            ("webm", "unknown-format"), ("", "formats-empty")]:
        r = admin(origin, "POST", f"/admin/package?input={quote(str(clip))}&channel=m2&formats={formats}")
        assert (r.status, r.header("X-Error-Reason")) == (400, reason), (formats, r.status, r.body)
    metrics = http_request(origin.admin_port, "/metrics").body.decode()
    assert 'cdn_live_admin_errors_total{reason="format-not-for-vod"} 2' in metrics
    # The command line refuses them the same way, before touching the store.
    r = package(clip, "--channel", "m3", "--store", tmp_path / "other", "--formats", "fmp4,llhls")
    assert r.returncode == 2 and "format-not-for-vod" in r.stderr
    assert not (tmp_path / "other").exists()
    # fMP4 asked for an input the CMAF packager cannot take (AC-3): an error, not a TS-only package.
    ac3 = tmp_path / "ac3.ts"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440",
                    "-t", "6", "-c:a", "ac3", "-f", "mpegts", str(ac3)], check=True, timeout=60)
    r = package(ac3, "--channel", "m3", "--store", tmp_path / "other", "--formats", "ts,dash")
    assert r.returncode == 1 and "no fMP4 segments" in r.stderr, r.stderr
    assert package(ac3, "--channel", "m3", "--store", tmp_path / "other", "--formats", "ts").returncode == 0


def test_package_defaults_to_the_configured_channels_formats(tiers, content, tmp_path):
    """Without --formats, a channel configured with formats gets them as VOD (llhls as fmp4)."""
    need_ffmpeg()
    clip = encode_ts(tmp_path, 4, gop=50)
    store = tmp_path / "store"
    cfg = live_origin_config(content.root, store, channels=[
        {"name": "movie", "stream_key": "k" * 16, "formats": ["llhls", "dash"], "renditions": [{"name": "720p"}]}])
    origin = tiers("origin", cfg)  # only its config file, for the command line
    r = package(clip, "--channel", "movie", "--config", origin.config_path)
    assert r.returncode == 0, r.stderr
    assert "in fmp4,dash" in r.stderr


@pytest.mark.skipif(bool(os.environ.get("CDN_SANITIZER")),
                    reason="real-time playback: under a sanitizer it would measure the sanitizer")
def test_dash_js_plays_the_packaged_vod_mpd_in_chromium_through_the_edge(tiers, content, tmp_path):
    """dash.js (tests/browser/play_lowlatency.mjs, kind dash) plays the static MPD of a packaged
    20 s file through origin -> shield -> edge: the video moves for WATCH_S seconds without a stall
    or an error, at the input's size, from .m4s segments."""
    need_ffmpeg()
    browser_or_skip()
    if not (BROWSER_DIR / "node_modules" / "dashjs").exists():
        pytest.fail("dashjs missing: run npm ci --prefix tests/browser", pytrace=False)
    watch_s = 12
    clip = encode_ts(tmp_path, 20, gop=50)
    store = tmp_path / "store"
    assert package(clip, "--channel", "movie", "--store", store, "--formats", "dash").returncode == 0
    origin = tiers("origin", live_origin_config(content.root, store)).start()
    shield = tiers("shield", shield_config([origin.port()]))
    shield.start()
    edge = tiers("edge", edge_config([shield.port()]))
    edge.start()
    url = f"http://127.0.0.1:{edge.port()}/live/movie/manifest.mpd"
    r = subprocess.run(["node", str(BROWSER_DIR / "play_lowlatency.mjs"), str(watch_s), str(tmp_path / "play"),
                        f"dash={url}"], capture_output=True, timeout=watch_s + 90)
    lines = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
    assert len(lines) == 1, (r.returncode, r.stdout, r.stderr.decode(errors="replace"))
    res = lines[0]
    print("dash.js:", json.dumps({k: res[k] for k in ("watched", "advanced", "stalls", "fatal", "errors")}))
    assert res["fatal"] == [] and res["problems"] == [] and res["stalls"] == [], res
    assert res["watched"] >= watch_s and res["advanced"] >= 0.9 * watch_s, res
    assert (res["width"], res["height"]) == (320, 240), res
    assert any(q["path"].endswith(".m4s") for q in res["requests"]), res["requests"]
    assert r.returncode == 0, r.stderr.decode(errors="replace")
