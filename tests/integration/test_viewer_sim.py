"""cdn-viewers (bench/viewers/, issue 12) against the real chain, short: 50 TLS players with their
own tokens join a live channel fed at real time and play it for ~12 s. The long version, with
thousands of players and nginx beside the edge, is `./cdn bench viewers`."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from access_support import cdnctl
from conftest import REPO, build_dir, edge_config, make_cert, shield_config, under_sanitizer, wait_until
from live_support import STREAM_KEY, encode_ts, live_origin_config, need_ffmpeg

sys.path.insert(0, str(REPO / "bench" / "viewers"))
from upstream_counts import segment_counts  # noqa: E402

VIEWERS = 50
SECONDS = 12


def simulator():
    p = build_dir() / "bench" / "viewers" / "cdn-viewers"
    if not p.exists():
        pytest.fail(f"{p} does not exist: build cdn-viewers first (or set CDN_BUILD_DIR)", pytrace=False)
    return p


def feed_live(port, source):
    """ffmpeg -re -c copy from a pre-encoded file: real time, as an encoder would push."""
    url = f"http://127.0.0.1:{port}/ingest/demo/720p?key={STREAM_KEY}"
    return subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", str(source), "-c", "copy",
                             "-f", "mpegts", "-method", "PUT", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.skipif(bool(under_sanitizer()), reason="cdn-viewers is a benchmark program, not built in sanitizer builds")
def test_fifty_viewers_play_a_live_channel_through_the_chain(tiers, content, tmp_path):
    need_ffmpeg()
    sim = simulator()
    source = encode_ts(tmp_path, SECONDS + 20, gop=25)  # 1 s GOPs: 1 s segments
    key = tmp_path / "es.jwk"
    key.write_text(cdnctl("token", "keygen", "--alg", "ES256", "--kid", "es-1").stdout)
    jwks = tmp_path / "keys.jwks"
    jwks.write_text(cdnctl("token", "keygen", "--public", key).stdout)
    cert, cert_key = make_cert(tmp_path / "tls", "localhost")

    origin_cfg = live_origin_config(content.root, tmp_path / "store", target="1s", window=6)
    origin_cfg["access_log"] = str(tmp_path / "origin-access.log")
    origin = tiers("origin", origin_cfg).start()
    shield = tiers("shield", shield_config([origin.port()],
                                           extra={"access_log": str(tmp_path / "shield-access.log")})).start()
    edge = tiers("edge", edge_config([shield.port()], certs=[(cert, cert_key)], extra={
        "access": {"enabled": True, "jwks": str(jwks), "audience": "cdn"}, "access_log": "off"})).start()
    ff = feed_live(origin.port(), source)
    try:
        wait_until(lambda: origin.get("/live/demo/720p/index.m3u8").body.count(b"#EXTINF") >= 3, timeout=20,
                   what="three live segments")
        out = tmp_path / "viewers.json"
        r = subprocess.run([str(sim), "--url", f"https://127.0.0.1:{edge.port(tls=True)}/live/demo/master.m3u8",
                            "--host", "localhost", "--cacert", str(cert), "--viewers", str(VIEWERS),
                            "--ramp", "2", "--duration", str(SECONDS), "--procs", "2",
                            "--token-key", str(key), "--token-aud", "cdn",
                            "--edge-pid", str(edge.proc.pid), "--healthz", f"http://127.0.0.1:{edge.admin_port}/healthz",
                            "--out", str(out), "--series", str(tmp_path / "series.tsv"), "--quiet"],
                           capture_output=True, text=True, timeout=SECONDS + 30)
        assert r.returncode == 0, r.stderr
    finally:
        ff.kill()
        ff.wait(10)
    rep = json.loads(out.read_text())
    assert rep["all_processes_reported"] and rep["tls"] and rep["tokens"]
    assert rep["errors"]["total"] == 0, rep["errors"]
    assert rep["joins"] == VIEWERS and rep["peak_playing"] == VIEWERS, rep
    assert rep["connects"] >= VIEWERS  # one keep-alive connection per player
    assert rep["connects"] <= 2 * VIEWERS, rep["connects"]
    # Each player fetched its start segments (3) and then about one a second.
    assert rep["segments"] >= VIEWERS * (3 + (SECONDS - 6)), rep["segments"]
    assert rep["segment_bytes"] > rep["segments"] * 1000
    assert 0 < rep["startup_ms"]["p50"] <= rep["startup_ms"]["p99"] <= rep["startup_ms"]["max"]
    assert rep["startup_ms"]["count"] == VIEWERS
    assert 0 < rep["segment_ms"]["p50"] <= rep["segment_ms"]["p99"] <= rep["segment_ms"]["max"]
    assert rep["segment_ms"]["count"] == rep["segments"]
    assert rep["played_s"] > VIEWERS * (SECONDS - 6), rep["played_s"]
    assert rep["rebuffer_ratio"] == pytest.approx(rep["stalled_s"] / rep["played_s"])
    assert rep["edge"]["cpu_s"] > 0 and rep["edge"]["rss_mib_peak"] > 0
    assert rep["edge"]["healthz"]["tier"] == "edge"
    series = (tmp_path / "series.tsv").read_text().splitlines()
    assert series[0].startswith("t\tplaying") and len(series) >= SECONDS
    # The crowd cost one request per segment on each tier above the edge.
    for log in ("shield-access.log", "origin-access.log"):
        counts = segment_counts(tmp_path / log)
        assert counts["segments"] >= 3 and counts["max_per_segment"] == 1, (log, counts)


class BlockingReloadOrigin:
    """A live playlist server with EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES (the project's origin
    does not offer it): a 1 s segment appears every second, and a request with _HLS_msn=N is held
    until segment N exists. Records every request target."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        self.targets, self.t0 = [], time.monotonic()
        self.cond = threading.Condition()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                origin.targets.append(self.path)
                url = urlsplit(self.path)
                if url.path.endswith("master.m3u8"):
                    return self.reply(b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=150000\nlow/index.m3u8\n")
                if url.path.endswith(".ts"):
                    return self.reply(b"\x47" * 1880)
                msn = parse_qs(url.query).get("_HLS_msn")
                with origin.cond:
                    if msn and not origin.cond.wait_for(lambda: origin.last() >= int(msn[0]), timeout=3):
                        return self.reply(b"not yet", status=503)
                    last = origin.last()
                first = max(0, last - 3)
                body = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n"
                body += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n"
                body += f"#EXT-X-MEDIA-SEQUENCE:{first}\n"
                body += "".join(f"#EXTINF:1.000,\n{n}.ts\n" for n in range(first, last + 1))
                self.reply(body.encode())

            def reply(self, body, status=200):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.running = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._tick, daemon=True).start()

    def last(self):
        return 3 + int(time.monotonic() - self.t0)  # four segments exist at the start

    def _tick(self):
        while self.running:
            time.sleep(0.05)
            with self.cond:
                self.cond.notify_all()

    def close(self):
        self.running = False
        self.server.shutdown()


@pytest.mark.skipif(bool(under_sanitizer()), reason="cdn-viewers is a benchmark program, not built in sanitizer builds")
def test_players_use_blocking_reload_where_the_playlist_offers_it(tmp_path):
    sim = simulator()
    origin = BlockingReloadOrigin()
    try:
        out = tmp_path / "viewers.json"
        r = subprocess.run([str(sim), "--url", f"http://127.0.0.1:{origin.port}/live/x/master.m3u8",
                            "--viewers", "3", "--ramp", "0.5", "--duration", "5", "--start-back", "2",
                            "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    finally:
        origin.close()
    rep = json.loads(out.read_text())
    assert rep["errors"]["total"] == 0, rep["errors"]
    assert rep["blocking_reloads"] >= 3 * 3, rep
    reloads = [t for t in origin.targets if "_HLS_msn=" in t]
    # Each player asks for the segment after the last it knows, so the numbers climb.
    msns = sorted(int(t.split("_HLS_msn=")[1]) for t in reloads)
    assert msns and msns[-1] - msns[0] >= 3, reloads
    assert all(t.startswith("/live/x/low/index.m3u8?_HLS_msn=") for t in reloads), reloads
    # Segments the players knew went out before their next held reload, so none was missed and
    # playback never stalled; the server saw exactly the segment requests the report counts, and
    # no player fetched one twice (3 players, distinct segments each at most 3 times).
    segs = [t for t in origin.targets if t.endswith(".ts")]
    assert len(segs) == rep["segments"] and rep["missed_segments"] == 0
    assert max(segs.count(s) for s in segs) <= 3, segs
    assert rep["stalls"] == 0 and rep["rebuffer_ratio"] == 0
