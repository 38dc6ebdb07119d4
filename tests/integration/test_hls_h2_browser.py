"""hls.js in headless Chromium (tests/browser/play_live.mjs, Debian's chromium) plays a live
channel like the demo's through origin -> shield -> edge over HTTP/2: HTTPS on the edge with
ALPN h2, a signed viewer token on the master playlist that the edge carries into the variant
playlist and segment URLs, ffmpeg encoding in real time. The browser's own protocol information
(Resource Timing nextHopProtocol) must say "h2" for every playlist and segment it fetched."""
import json
import subprocess

from access_support import Keys, access_section
from browser_support import BROWSER_DIR, browser_or_skip
from conftest import edge_config, make_cert, shield_config
from live_support import ffmpeg_live_push, live_origin_config, need_ffmpeg, wait_playlist

PLAY_SECONDS = 3


def test_hls_js_plays_the_live_channel_through_the_edge_over_h2(tiers, content, tmp_path):
    need_ffmpeg()
    browser_or_skip()
    keys = Keys(tmp_path / "keys")
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", target="1s", window=6,
                                                gap="3s")).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    cert = make_cert(tmp_path / "certs", "localhost")
    edge = tiers("edge", edge_config([shield.port()], certs=[cert], extra={
        "http2": {"enabled": True},
        "access": access_section(keys, sessions={"store": "memory", "lease": "30s"})})).start()
    encoder = ffmpeg_live_push(origin.port(), 40)  # stopped as soon as the player has watched
    try:
        token = keys.sign(aud="cdn", exp_in="10m")
        wait_playlist(edge, f"/live/demo/720p/index.m3u8?token={token}", lambda p: len(p.segments) >= 2,
                      timeout=30, what="two segments through the edge")
        h2_before = edge.metric("cdn_requests_total", protocol="HTTP/2", status="200")
        url = f"https://127.0.0.1:{edge.port(tls=True)}/live/demo/master.m3u8?token={token}"
        r = subprocess.run(["node", str(BROWSER_DIR / "play_live.mjs"), "--insecure-tls", str(PLAY_SECONDS),
                            str(tmp_path / "play"), url], capture_output=True, timeout=120)
        results = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
        assert len(results) == 1, (r.stdout, r.stderr.decode(errors="replace"))
        res = results[0]
        assert res["fatal"] == [] and res["problems"] == [], res
        assert res["advanced"] >= PLAY_SECONDS, res
        assert (res["width"], res["height"]) == (320, 240) and res["level"] == "live", res
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        requests = res["requests"]
        paths = [q["path"].split("?")[0] for q in requests]
        assert "/live/demo/master.m3u8" in paths and "/live/demo/720p/index.m3u8" in paths, requests
        assert any(p.endswith(".ts") for p in paths), requests
        assert all(q["protocol"] == "h2" for q in requests), requests
        # The playlists the edge rewrote carried the token to every request the player made.
        assert all(f"token={token}" in q["path"] for q in requests), requests
        assert edge.metric("cdn_requests_total", protocol="HTTP/2", status="200") - h2_before >= len(requests)
    finally:
        encoder.kill()
        encoder.wait()
