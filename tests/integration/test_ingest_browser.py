"""hls.js in headless Chromium (tests/browser/play_live.mjs, Debian's chromium) plays two live
channels through origin -> shield -> edge while their encoders publish: one fed by ffmpeg over
SRT, one over RTMP. Both pages play at once; each must advance its video's currentTime with no
fatal hls.js error."""
import json
import subprocess
from pathlib import Path

from browser_support import BROWSER_DIR, browser_or_skip
from conftest import edge_config, free_port, shield_config
from live_support import live_origin_config, need_ffmpeg, wait_playlist
from test_ingest import KEY, rtmp_push, srt_push

PLAY_SECONDS = 3


def test_hls_js_plays_srt_and_rtmp_channels_through_the_edge(tiers, content, tmp_path):
    need_ffmpeg()
    browser_or_skip()
    srt_port, rtmp_port = free_port(), free_port()
    cfg = live_origin_config(content.root, tmp_path / "store", target="1s", window=6, gap="3s",
                             channels=[{"name": n, "stream_key": KEY, "renditions": [{"name": "720p"}]}
                                       for n in ("bsrt", "brtmp")])
    cfg["live"]["srt"] = {"listen": f"127.0.0.1:{srt_port}", "latency": "120ms"}
    cfg["live"]["rtmp"] = {"listen": f"127.0.0.1:{rtmp_port}"}
    origin = tiers("origin", cfg).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    edge = tiers("edge", edge_config([shield.port()])).start()
    # Long enough for the player to join and watch PLAY_SECONDS; stopped once it has.
    encoders = [srt_push(srt_port, 40, "bsrt"), rtmp_push(rtmp_port, 40, "brtmp")]
    try:
        for ch in ("bsrt", "brtmp"):
            wait_playlist(edge, f"/live/{ch}/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=30,
                          what=f"{ch}: two segments through the edge")
        urls = [f"http://127.0.0.1:{edge.port()}/live/{ch}/master.m3u8" for ch in ("bsrt", "brtmp")]
        r = subprocess.run(["node", str(BROWSER_DIR / "play_live.mjs"), str(PLAY_SECONDS), str(tmp_path / "play"),
                            *urls], capture_output=True, timeout=120)
        results = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
        assert len(results) == 2, (r.stdout, r.stderr.decode(errors="replace"))
        for res in results:
            assert res["fatal"] == [] and res["problems"] == [], res
            assert res["advanced"] >= PLAY_SECONDS, res
            assert (res["width"], res["height"]) == (320, 240), res
            assert res["level"] == "live", res
            assert Path(res["screenshot"]).stat().st_size > 0
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        for ch in ("bsrt", "brtmp"):
            assert edge.metric("cdn_requests_total", status="200") > 0
            assert origin.metric("cdn_live_ingest_bytes_total", channel=ch) > 0
    finally:
        for ff in encoders:
            ff.kill()
            ff.wait()
