"""Low-latency players in headless Chromium through the real chain (issue 14): cdn-origin packaging
a channel fed by ffmpeg in real time as classic HLS, LL-HLS (333 ms parts, PART-HOLD-BACK 1 s) and
low-latency DASH (SegmentTemplate@duration, segments sent as written) from one ingest, like
./cdn demo's, then cdn-shield, then cdn-edge over HTTPS with ALPN h2.

- Two pages of one browser at once (tests/browser/play_lowlatency.mjs): hls.js in low-latency mode
  on the fMP4 master playlist and dash.js (low-latency mode, from the MPD) on the channel's MPD,
  each watched for a minute. Each player's own live latency must stay under 3 s (median of one
  sample a second) and neither player may stall.
- ./cdn demo's player page (scripts/demo_player.html with hls.js and dash.js beside it, served by a
  static file server as the demo does) plays classic HLS, LL-HLS and DASH side by side, each with
  a live latency shown (tests/browser/demo_page.mjs); its screenshot is $CDN_BUILD_DIR/demo-player.png."""
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from browser_support import BROWSER_DIR, browser_or_skip
from conftest import Tier, build_dir, edge_config, free_port, make_cert, shield_config, wait_until
from live_support import STREAM_KEY, ffmpeg_live_push, live_origin_config, need_ffmpeg

WATCH_SECONDS = 60
TIMEOUTS = {"upstream_connect": "2s", "upstream_first_byte": "5s", "upstream_blocking_reload": "10s",
            "header_read": "5s"}
DEMO_PAGE = Path(__file__).resolve().parents[2] / "scripts" / "demo_player.html"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CDN_SANITIZER")),
    reason="a minute of real-time playback with a latency bound: under a sanitizer the programs are "
           "several times slower, so latency and stalls would measure the sanitizer, not the chain")


class Chain:
    def __init__(self, origin, shield, edge, workdir):
        self.origin, self.shield, self.edge, self.dir = origin, shield, edge, workdir

    def base(self):
        return f"https://127.0.0.1:{self.edge.port(tls=True)}"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    need_ffmpeg()
    browser_or_skip()
    if not (BROWSER_DIR / "node_modules" / "dashjs").exists():
        pytest.fail("dashjs missing: run npm ci --prefix tests/browser", pytrace=False)
    d = tmp_path_factory.mktemp("llhls-browser")
    (d / "www").mkdir()
    # The demo's channel: TS for classic players beside LL-HLS and low-latency DASH, 2 s segments.
    cfg = live_origin_config(str(d / "www"), d / "store", target="2s", window=6, gap="3s", channels=[
        {"name": "demo", "stream_key": STREAM_KEY, "formats": ["ts", "llhls", "lldash"],
         "renditions": [{"name": "720p"}]}])
    cfg["live"]["part_target"] = "333ms"
    made, encoder = [], None
    try:
        origin = Tier("origin", d, cfg, name="origin")
        made.append(origin.start())
        shield = Tier("shield", d, shield_config([origin.port()], extra={"timeouts": dict(TIMEOUTS)}), name="shield")
        made.append(shield.start())
        cert = make_cert(d / "certs", "localhost")
        edge = Tier("edge", d, edge_config([shield.port()], certs=[cert], extra={
            "http2": {"enabled": True}, "timeouts": dict(TIMEOUTS)}), name="edge")
        made.append(edge.start())
        encoder = ffmpeg_live_push(origin.port(), 240, gop=50)  # one keyframe a segment; killed at the end
        pl = "/live/demo/720p/index-fmp4.m3u8"
        wait_until(lambda: (lambda r: r.status == 200 and r.body.count(b"#EXTINF") >= 2
                            and b"#EXT-X-PRELOAD-HINT" in r.body)(edge.get(pl)),
                   timeout=30, what="two LL-HLS segments through the edge")
        text = edge.get(pl).body.decode()
        assert "#EXT-X-PART-INF:PART-TARGET=0.333" in text and "PART-HOLD-BACK=0.999" in text, text
        wait_until(lambda: edge.get("/live/demo/manifest.mpd").status == 200, timeout=10, what="the MPD")
        # Low-latency DASH with @duration addressing (the 2 s GOP is the segment), through the chain.
        mpd = edge.get("/live/demo/manifest.mpd").body.decode()
        assert 'duration="180000"' in mpd and "<SegmentTimeline>" not in mpd, mpd
        assert 'availabilityTimeComplete="false"' in mpd and '<Latency target="1500"' in mpd, mpd
        yield Chain(origin, shield, edge, d)
    finally:
        if encoder is not None:
            encoder.kill()
            encoder.wait()
        for t in reversed(made):
            t.kill()


class SourcePace:
    """How much media the origin has published, sampled four times a second from its own LL-HLS
    playlist while the players play: the durations of every segment seen plus the open segment's
    parts. A player can advance no faster than this; an encoder starved of CPU on a busy machine
    advances it slower than the wall clock."""

    def __init__(self, origin, path):
        self.origin, self.path = origin, path
        self.segments = {}  # msn -> duration
        self.samples = []  # (epoch s, media seconds published)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        while not self._stop.is_set():
            r = self.origin.get(self.path)
            if r.status == 200:
                msn, open_parts, duration = None, 0.0, None
                for line in r.body.decode().splitlines():
                    if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                        msn = int(line.split(":")[1])
                    elif line.startswith("#EXTINF:"):
                        duration = float(line.split(":")[1].split(",")[0])
                    elif line.startswith("#EXT-X-PART:"):
                        open_parts += float(line.split("DURATION=")[1].split(",")[0])
                    elif line and not line.startswith("#"):
                        self.segments[msn], msn, open_parts = duration, msn + 1, 0.0
                self.samples.append((time.time(), sum(self.segments.values()) + open_parts))
            self._stop.wait(0.25)

    def published(self, epoch):
        """Media published by `epoch` (the last sample at or before it)."""
        return max((m for t, m in self.samples if t <= epoch), default=0.0)

    def between(self, epoch_from, epoch_to):
        return self.published(epoch_to) - self.published(epoch_from)


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def node_json(args, timeout):
    r = subprocess.run(["node", *map(str, args)], capture_output=True, timeout=timeout)
    lines = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
    assert lines, (r.returncode, r.stdout, r.stderr.decode(errors="replace"))
    return r, lines


def test_hls_js_low_latency_and_dash_js_play_a_minute_through_the_edge_over_h2(chain, tmp_path):
    base = f"{chain.base()}/live/demo"
    with SourcePace(chain.origin, "/live/demo/720p/index-fmp4.m3u8") as source:
        r, lines = node_json([BROWSER_DIR / "play_lowlatency.mjs", "--insecure-tls", WATCH_SECONDS, tmp_path / "play",
                              f"llhls={base}/master-fmp4.m3u8", f"dash={base}/manifest.mpd"], timeout=WATCH_SECONDS + 90)
    (tmp_path / "players.json").write_text(json.dumps(lines, indent=1))  # every request, for a failure's reader
    results = {res["kind"]: res for res in lines}
    assert set(results) == {"llhls", "dash"}, lines
    for res in results.values():
        res["published"] = round(source.between(res["watchFrom"] / 1000, res["watchTo"] / 1000), 2)
    summary = {k: {f: v[f] for f in ("watched", "published", "advanced", "medianLatency", "stalls", "fatal",
                                     "problems")} for k, v in results.items()}
    print("players:", json.dumps(summary))
    ll, dash = results["llhls"], results["dash"]
    for res in (ll, dash):
        assert res["fatal"] == [] and res["problems"] == [], res
        # A stall comes with the requests that took longest (page seconds) to say where it was.
        slow = sorted(res["requests"], key=lambda q: -q["duration"])[:8]
        assert res["stalls"] == [], (res["kind"], res["stalls"], res["errors"], slow)
        assert res["watched"] >= WATCH_SECONDS, res
        # The video moved with the live edge: at least 90 % of what was published while it was
        # watched, or of the wall time if more was published (an encoder catching up after a lag
        # publishes faster than a player at 1x plays; the rest is the media clock of a headless
        # browser short of CPU). The encoder itself must have run near real time, or a frozen
        # source would make "no stall" say nothing.
        assert res["published"] >= 0.75 * res["watched"], f"the encoder fell behind real time: {summary}"
        assert res["advanced"] >= 0.9 * min(res["published"], res["watched"]), (res["kind"], summary)
        assert (res["width"], res["height"]) == (320, 240), res
        assert all(q["protocol"] == "h2" for q in res["requests"]), res["requests"]
    # hls.js played it as LL-HLS: it asked for parts and used blocking playlist reloads.
    paths = [q["path"] for q in ll["requests"]]
    assert any("/part-" in p for p in paths), paths
    assert any("_HLS_msn=" in p for p in paths), paths
    assert len(ll["latencies"]) >= WATCH_SECONDS // 2, ll["latencies"]
    assert ll["medianLatency"] < 3.0, ll["latencies"]
    assert any(p.endswith(".m4s") for p in (q["path"] for q in dash["requests"])), dash["requests"]
    # dash.js in low-latency mode (from the MPD) held the live edge: it fetched each segment while
    # it was written, or it could not be under a 2 s segment's length behind.
    assert len(dash["latencies"]) >= WATCH_SECONDS // 2, dash["latencies"]
    assert dash["medianLatency"] < 3.0, dash["latencies"]
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def test_the_demo_player_page_plays_classic_hls_ll_hls_and_dash_side_by_side(chain, tmp_path):
    # Laid out as ./cdn demo lays it out: the page and the two players from the npm install.
    site = tmp_path / "player"
    site.mkdir()
    shutil.copy(DEMO_PAGE, site / "index.html")
    shutil.copy(BROWSER_DIR / "node_modules/hls.js/dist/hls.min.js", site)
    shutil.copy(BROWSER_DIR / "node_modules/dashjs/dist/modern/umd/dash.all.min.js", site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(QuietFiles, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = f"http://127.0.0.1:{server.server_address[1]}/?edge={chain.base()}"
        shot = build_dir() / "demo-player.png"  # kept for a person to look at, like ./cdn demo --check's
        shot.unlink(missing_ok=True)
        r, (res,) = node_json([BROWSER_DIR / "demo_page.mjs", "--insecure-tls", 3, page, shot], timeout=90)
    finally:
        server.shutdown()
        server.server_close()
    print("demo page:", res["summary"], "screenshot", shot)
    assert res["problems"] == [], res
    for kind in ("classic", "llhls", "dash"):
        p = res["players"][kind]
        assert p["errors"] == [] and p["started"] and p["played"] >= 3, (kind, p)
        assert p["latency"] is not None and 0 < p["latency"] < 30, (kind, p)
    assert res["ok"] and r.returncode == 0, res
    assert shot.stat().st_size > 10000
