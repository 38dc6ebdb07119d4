"""cdn-geo's fleet page at / on the admin listener, over real processes (cdn-geo polling two real
cdn-edge processes, as in test_geo.py): the page and its own script and style are served under a
strict Content-Security-Policy, the script's data source /state is reachable, and in Debian's
chromium (driven by playwright-core from tests/browser) every edge renders with its state and a
killed edge's row turns "down" within a few of the page's 2 s polls. Every program's /healthz
carries cumulative counters (requests, 5xx, cache lookups and hits, stream sessions, live
channels); cdn-geo turns them into rates in /state and a bounded history in /history, which the
page draws as small SVG plots. Origins listed in geo.origins are polled the same way (never steered
to): /state and the page's "Origins" section show their health and live channels."""
import json
import re
import select
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, RawConn, http_request, to_yaml, wait_until
from geo_support import SITES, GeoEnv, origin_entries
from live_support import STREAM_KEY, live_origin_config
from test_geo import env, keys  # noqa: F401 (the same fixtures: fra-1, ams-1 and cdn-geo)

BROWSER_DIR = REPO / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
PAGE_POLL_S = 2.0


def test_page_script_and_style_are_served_self_contained_under_a_strict_csp(env):
    page = env.geo.admin_get("/")
    assert page.status == 200, page
    assert page.header("Content-Type").startswith("text/html")
    csp = page.header("Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    for d in ("script-src", "style-src", "connect-src"):
        assert directives[d] == "'self'", csp  # no 'unsafe-inline', no other origin
    assert directives["frame-ancestors"] == "'none'"
    html = page.body.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert (scripts, styles) == (["/fleet.js"], ["/fleet.css"])
    assert not re.search(r"<script>|<style|\sstyle=|\son\w+=", html)  # nothing inline for the CSP to refuse
    js = env.geo.admin_get("/fleet.js")
    css = env.geo.admin_get("/fleet.css")
    assert js.status == 200 and js.header("Content-Type").startswith("text/javascript")
    assert css.status == 200 and css.header("Content-Type").startswith("text/css")
    for r in (page, js, css):
        assert r.header("X-Content-Type-Options") == "nosniff"
        # The SVG namespace is a name for createElementNS, never fetched; any other URL would be.
        body = r.body.replace(b"'http://www.w3.org/2000/svg'", b"")
        assert not re.search(rb"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", body), "external asset"
    # The script's data source is /state on the same listener, polled every 2 s.
    assert "fetch('/state'" in js.body.decode() and "POLL_MS = 2000" in js.body.decode()
    assert env.geo.admin_get("/no-such-page").status == 404


def test_state_behind_the_page_shows_a_killed_edge_down(env):
    st = env.state()
    assert set(st) == {name for name, *_ in SITES}
    assert all(e["health"] == "up" and e["available"] for e in st.values()), st
    for e in st.values():  # what the page draws its bars and last-change column from
        assert e["capacity_connections"] > 0 and e["capacity_egress_bps"] > 0 and e["last_change_ms"] > 0
    env.edges["ams-1"].kill()
    wait_until(lambda: env.state()["ams-1"]["health"] == "down", timeout=10, what="ams-1 down in /state")
    st = env.state()
    assert not st["ams-1"]["available"] and st["ams-1"]["reason"].startswith("down: ")
    assert st["fra-1"]["health"] == "up"


def fetch_twice_through_fra(env, content, keys, tmp_path):
    """One MISS then one HIT on fra-1 (the tests' own address is in fra's coverage zone)."""
    path, data = content.new_file(3000, subdir="geo")
    token = keys.sign(aud="cdn", path="/vod/")
    for _ in range(2):
        code, url, _ = env.curl_follow(f"{path}?token={token}", tmp_path / "body")
        assert code == 200 and url.startswith("https://fra-1."), url
        assert (tmp_path / "body").read_bytes() == data


def test_healthz_counters_become_rates_in_state_and_buckets_in_history(env, content, keys, tmp_path, tiers):
    fra = env.edges["fra-1"]
    status, before = fra.healthz()
    assert status == 200
    for key in ("status", "draining", "drain_phase", "active_connections", "egress_bytes_per_s", "capacity"):
        assert key in before, before  # what cdn-geo's poller and bench/geo/healthz.py already read
    assert before["stream_sessions"] >= 0  # the edge has an access: section
    fetch_twice_through_fra(env, content, keys, tmp_path)
    _, after = fra.healthz()
    assert after["cache_lookups_total"] - before["cache_lookups_total"] == 2, (before, after)
    assert after["cache_hits_total"] - before["cache_hits_total"] == 1, (before, after)
    assert after["requests_total"] - before["requests_total"] >= 2
    assert after["egress_bytes_total"] - before["egress_bytes_total"] >= 6000
    assert after["responses_5xx_total"] == before["responses_5xx_total"] == 0
    # cdn-geo: the hit ratio over its recent window, and a request rate.
    wait_until(lambda: env.state()["fra-1"]["hit_ratio"] == 0.5, timeout=10, what="fra-1 hit ratio 0.5 in /state")
    st = env.state()
    assert st["fra-1"]["requests_per_s"] > 0 and st["fra-1"]["errors_5xx_per_s"] == 0, st
    assert st["ams-1"]["hit_ratio"] is None, st  # no lookups yet: not measured, not 0
    assert st["fra-1"]["draining"] is False and st["fra-1"]["stream_sessions"] >= 0
    r = env.geo.admin_get("/history")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    h = json.loads(r.body)
    assert h["bucket_ms"] == 10_000 and h["columns"][:5] == ["start_ms", "up", "connections", "egress_bps", "hit_ratio"]
    rows = h["edges"]["fra-1"]
    assert 1 <= len(rows) <= 360 and all(row[0] % 10_000 == 0 for row in rows), rows
    assert rows[-1][1] == 1 and sum(row[4] is not None for row in rows) >= 1, rows
    # A killed edge: its newest bucket has polls that found it down.
    env.edges["ams-1"].kill()
    wait_until(lambda: env.state()["ams-1"]["health"] == "down", timeout=10, what="ams-1 down")
    last = json.loads(env.geo.admin_get("/history").body)["edges"]["ams-1"][-1]
    assert last[1] < 1, last


def live_origin(tiers, content, directory, names):
    """A cdn-origin with these live channels configured and nothing pushed to them."""
    channels = [{"name": n, "stream_key": STREAM_KEY, "renditions": [{"name": "720p"}]} for n in names]
    return tiers("origin", live_origin_config(content.root, directory / "live-store", channels=channels),
                 name="live-origin").start()


def test_a_watched_origin_shows_in_state_with_its_live_channels_and_goes_down_when_killed(env, tiers, content,
                                                                                        tmp_path):
    origin = live_origin(tiers, content, tmp_path, ("demo", "news"))
    status, o = origin.healthz()
    # A configured channel counts before anything is pushed to it.
    assert status == 200 and o["tier"] == "origin" and o["live_channels"] == 2, o
    assert "cache_lookups_total" not in o and "stream_sessions" not in o, o
    assert env.geo.admin_get("/state").status == 200 and env.origins_state() == {}
    # Watched from the next reload on.
    cfg = env.geo.config
    cfg["geo"]["origins"] = origin_entries({"origin-1": origin})
    env.geo.config_path.write_text(to_yaml(cfg) + "\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: env.origins_state().get("origin-1", {}).get("health") == "up", timeout=10,
               what="origin-1 up in /state")
    st = env.origins_state()["origin-1"]
    assert st["live_channels"] == 2 and st["draining"] is False and st["last_change_ms"] > 0, st
    assert st["admin"] == f"127.0.0.1:{origin.admin_port}" and st["reason"] == "ok", st
    # Its request rate comes from the deltas of its requests_total, as an edge's does.
    path, _ = content.new_file(1000, subdir="geo-origin")
    assert http_request(origin.port(), path).status == 200
    wait_until(lambda: (env.origins_state()["origin-1"]["requests_per_s"] or 0) > 0, timeout=10,
               what="origin-1 requests_per_s in /state")
    assert env.origins_state()["origin-1"]["errors_5xx_per_s"] == 0
    assert set(env.state()) == {name for name, *_ in SITES}  # never an edge, never steered to
    origin.kill()
    wait_until(lambda: env.origins_state()["origin-1"]["health"] == "down", timeout=10, what="origin-1 down")
    st = env.origins_state()["origin-1"]
    assert st["reason"].startswith("down: ") and st["live_channels"] == 2, st  # the last known count
    assert env.geo.metric("cdn_geo_origin_health_transitions_total", origin="origin-1", to="down") == 1
    assert env.geo.metric("cdn_geo_health_transitions_total", edge="origin-1") == 0
    assert all(e["health"] == "up" and e["available"] for e in env.state().values())


def test_history_survives_a_reload_for_the_edges_that_stay(env):
    def history():
        return json.loads(env.geo.admin_get("/history").body)["edges"]

    wait_until(lambda: {"fra-1", "ams-1"} <= set(history()), timeout=10, what="both edges in /history")
    first = history()["fra-1"][0][0]
    # The same file without ams-1: fra-1 keeps its buckets, ams-1's go with it.
    cfg = env.geo.config
    cfg["geo"]["edges"] = [e for e in cfg["geo"]["edges"] if e["name"] == "fra-1"]
    env.geo.config_path.write_text(to_yaml(cfg) + "\n")
    env.geo.signal(signal.SIGHUP)
    wait_until(lambda: "ams-1" not in history(), timeout=10, what="ams-1 gone from /history")
    assert history()["fra-1"][0][0] == first
    assert set(env.state()) == {"fra-1"}


class Browser:
    """tests/browser/fleet_page.mjs: one JSON event per stdout line, commands on stdin."""

    def __init__(self, url, png):
        self.proc = subprocess.Popen(["node", str(BROWSER_DIR / "fleet_page.mjs"), url, str(png)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=BROWSER_DIR)

    def event(self, timeout=60.0):
        # One event answers each command, so nothing sits in the reader's buffer unseen by select.
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()
            raise AssertionError(f"browser script silent for {timeout}s: {self.proc.stderr.read()}")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(30)
            raise AssertionError(f"browser script ended (rc {self.proc.returncode}): {self.proc.stderr.read()}")
        return json.loads(line)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.event()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def browser_or_skip():
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").exists():
        pytest.fail("playwright-core missing: run npm ci --prefix tests/browser", pytrace=False)


def test_browser_renders_every_edge_then_one_over_its_load_share_and_one_killed(tiers, tmp_path, stack, keys,
                                                                             content):
    browser_or_skip()
    origin = live_origin(tiers, content, tmp_path, ("demo",))
    # Capacity 4 at a 0.5 share: three held connections put fra-1 over its share (as in test_geo.py).
    env = GeoEnv(tiers, tmp_path, stack.shield.port(), keys, capacity_connections=4, load_share=0.5,
                 origins={"origin-1": origin})
    fetch_twice_through_fra(env, content, keys, tmp_path)
    png = tmp_path / "fleet-page.png"
    b = Browser(f"http://127.0.0.1:{env.geo.admin_port}/", png)
    conns = []
    try:
        first = b.event()
        assert first["event"] == "rendered" and first["status"] == 200, first
        assert first["title"] == "cdn-geo fleet"
        assert set(first["edges"]) == {name for name, *_ in SITES}, first
        for name, row in first["edges"].items():
            assert (row["health"], row["steering"], row["reason"]) == ("up", "available", "serving"), first
        assert first["counts"]["Edges"] == str(len(SITES)) and first["counts"]["Down"] == "0", first
        # The origin, above the sites, with its one configured channel.
        assert first["sections"][1:] == ["Origins"] + [site for _, site, *_ in SITES], first
        up = b.command(f"wait {int((2 * PAGE_POLL_S + 2) * 1000)} origin-1 health up")
        assert up["ok"] and up["origins"]["origin-1"]["liveChannels"] == "1", up
        assert up["origins"]["origin-1"]["reason"] == "serving", up
        assert b.command(f"screenshot {tmp_path / 'fleet-page-origin-up.png'}")["problems"] == []
        # The hit ratio the page shows is cdn-geo's: one HIT of two lookups on fra-1.
        hit = b.command(f"wait {int((2 * PAGE_POLL_S + 2) * 1000)} fra-1 hit-ratio 50.0 %")
        assert hit["ok"], hit
        assert hit["edges"]["ams-1"]["hitRatio"] == "—", hit
        # Plots from /history: every line has a point per bucket drawn, the health strip is green.
        for name, row in hit["edges"].items():
            assert row["plot"]["lines"]["conn"] >= 1 and row["plot"]["lines"]["egress"] >= 1, hit
            assert min(row["plot"]["points"][:2]) >= 2, hit
            assert row["plot"]["health"] and set(row["plot"]["health"]) == {"up"}, hit
        assert hit["edges"]["fra-1"]["plot"]["lines"]["hit"] >= 1, hit
        assert hit["edges"]["fra-1"]["plot"]["span"] == "last 1 min", hit
        fra = env.edges["fra-1"]
        conns = [RawConn(fra.port(), host=fra.address) for _ in range(3)]
        busy = b.command(f"wait {int((3 * PAGE_POLL_S + 2) * 1000)} fra-1 reason over load share")
        assert busy["ok"], busy
        assert busy["edges"]["fra-1"]["health"] == "up" and busy["edges"]["fra-1"]["steering"] == "unavailable"
        assert busy["edges"]["fra-1"]["connections"].startswith("3 / 4 (75%)"), busy
        assert busy["edges"]["fra-1"]["connectionsBar"] == {"width": "75%", "high": True}, busy
        assert busy["edges"]["ams-1"]["connectionsBar"]["high"] is False, busy
        env.edges["ams-1"].kill()
        origin.kill()
        # K failed health polls (200 ms each) plus at most a few of the page's own 2 s polls.
        down = b.command(f"wait {int((3 * PAGE_POLL_S + 2) * 1000)} ams-1 health down")
        assert down["ok"], down
        assert down["polls"] <= 4, down
        origin_down = b.command(f"wait {int((3 * PAGE_POLL_S + 2) * 1000)} origin-1 health down")
        assert origin_down["ok"] and origin_down["polls"] <= 4, origin_down
        assert origin_down["origins"]["origin-1"]["liveChannels"] == "1", origin_down  # last known
        assert down["edges"]["ams-1"]["steering"] == "unavailable"
        assert down["edges"]["ams-1"]["reason"].startswith("down after failed polls"), down
        # The plot follows within one /history refresh (every third poll): the newest bucket of
        # the health strip holds failed polls.
        plotted = b.command(f"wait {int((3 * PAGE_POLL_S + 2) * 1000)} ams-1 plot down|partial")
        assert plotted["ok"], plotted
        assert plotted["edges"]["fra-1"]["plot"]["health"][-1] == "up", plotted
        shot = b.command("screenshot")
        assert shot["event"] == "screenshot" and png.stat().st_size > 10_000
        # The strict CSP refused nothing the page needs, and no script error happened.
        assert shot["problems"] == [], shot["problems"]
    finally:
        for c in conns:
            c.close()
        b.close()
