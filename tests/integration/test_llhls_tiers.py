"""LL-HLS and DASH through shield and edge (issue 14): a scriptable LL-HLS origin in Python
(llhls_origin.py) -> cdn-shield -> cdn-edge with viewer tokens and h2c.

- blocking playlist reloads: 200 viewers waiting for the next part cost one upstream request per
  tier, are all released with the same playlist when it is published, and latecomers get it from
  the cache; a blocking request (and a viewer queued behind it) may wait longer than
  timeouts.upstream_first_byte and cache_lock (the rule timeouts.upstream_blocking_reload), an
  ordinary one may not; the directives stay in the key even when listed in ignore_query_params;
- preload hints: the hinted part streams to every viewer while the origin writes it; an origin
  that stops mid-part aborts every viewer's response (no last chunk / RST_STREAM; curl exits
  with an error), nothing is stored and the next request refetches;
- token propagation on every URI kind of an LL-HLS playlist and of a DASH MPD, over HTTP/1.1 and
  HTTP/2."""
import os
import re
import select
import socket
import subprocess
import threading
import time

import pytest

from access_support import Keys, access_section
from conftest import Tier, edge_config, http_request, shield_config, time_bound, wait_until
from h2_support import H2Conn
from llhls_origin import BASE, LLHLSOrigin, part_body

PLAYLIST = f"{BASE}/v0/index.m3u8"
# An operator who lists the LL-HLS directives here must not merge viewers waiting for different
# parts (blocking_reload.h: they always stay in the key).
CACHE = {"ignore_query_params": ["_HLS_msn", "_HLS_part", "_HLS_skip", "sid"]}
TIMEOUTS = {"upstream_connect": "2s", "upstream_first_byte": "1s", "cache_lock": "1s",
            "upstream_blocking_reload": "10s", "header_read": "5s"}


class Chain:
    def __init__(self, origin, shield, edge, token):
        self.origin, self.shield, self.edge, self.token = origin, shield, edge, token


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("llhls")
    keys = Keys(d / "keys")
    origin = LLHLSOrigin()
    shield = Tier("shield", d, shield_config([origin.port], extra={"timeouts": dict(TIMEOUTS), "cache": dict(CACHE)}),
                  name="shield")
    edge = Tier("edge", d, edge_config([shield.port()], extra={
        "timeouts": dict(TIMEOUTS), "cache": dict(CACHE), "access": access_section(keys), "http2": {"h2c": True}}),
        name="edge")
    try:
        shield.start()
        edge.start()
        yield Chain(origin, shield, edge, keys.sign(aud="cdn", path=f"{BASE}/"))
    finally:
        edge.kill()
        shield.kill()
        origin.close()


def get(chain, path, **kw):
    sep = "&" if "?" in path else "?"
    return http_request(chain.edge.port(), f"{path}{sep}token={chain.token}", **kw)


def advance_to_mid_segment(origin):
    """Publishes until the hint is part 1 or 2 of a segment (so the next part stays in it)."""
    while origin.hint()[1] not in (1, 2):
        origin.publish()
    return origin.hint()


def test_blocking_reload_fan_out_is_one_upstream_request_per_tier(chain):
    o = chain.origin
    msn, part = advance_to_mid_segment(o)
    n, over_h2 = 200, 50  # 150 HTTP/1.1 connections and 50 streams of one HTTP/2 connection
    queries = [f"_HLS_msn={msn}&_HLS_part={part}", f"_HLS_part={part}&_HLS_msn={msn}"]  # order must not split
    results = [None] * n

    def viewer(i):
        try:
            results[i] = get(chain, f"{PLAYLIST}?{queries[i % 2]}", timeout=30)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[i] = e

    def h2_viewers():
        try:
            with H2Conn(chain.edge.port(), timeout=30) as h2:
                sids = [h2.request(f"{PLAYLIST}?{queries[i % 2]}&token={chain.token}") for i in range(over_h2)]
                for i, st in enumerate(h2.wait_streams(sids, timeout=30)):
                    results[n - over_h2 + i] = st.response()
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[n - over_h2] = e

    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(n - over_h2)]
    threads.append(threading.Thread(target=h2_viewers))
    for t in threads:
        t.start()
    # Every viewer parked on the edge, the edge's one request parked on the shield, the shield's
    # one request held by the origin: only then does the part appear.
    wait_until(lambda: chain.edge.metric("cdn_blocking_reloads_waiting") == n, what="200 viewers parked at the edge")
    wait_until(lambda: chain.shield.metric("cdn_blocking_reloads_waiting") == 1, what="one request parked at the shield")
    upstream = f"{PLAYLIST}?_HLS_msn={msn}&_HLS_part={part}"
    wait_until(lambda: o.count(upstream) == 1, what="the shield's request at the origin")
    published = time.monotonic()
    o.publish()
    for t in threads:
        t.join(30)
    released = time.monotonic() - published
    bad = [r for r in results if not (hasattr(r, "status") and r.status == 200)]
    assert not bad, bad[:3]
    bodies = {r.body for r in results}
    assert len(bodies) == 1, "every viewer gets the same playlist"
    body = bodies.pop().decode()
    assert f'URI="seg{msn}.part{part}.m4s?token={chain.token}"' in body
    assert o.count(upstream) == 1
    assert {r.header("X-Cache") for r in results} == {"MISS"}, "all joined the one fill"
    assert released < time_bound(5.0), f"last viewer released {released:.2f}s after publication"
    assert chain.edge.metric("cdn_blocking_reloads_waiting") == 0
    # The answer for this msn/part is stored (the origin says max-age=6): a latecomer is a hit.
    late = get(chain, f"{PLAYLIST}?_HLS_msn={msn}&_HLS_part={part}")
    assert late.status == 200 and late.header("X-Cache") == "HIT" and late.body.decode() == body
    assert o.count(upstream) == 1
    # The token is for the viewer, never for the key nor the upstream.
    assert not [p for p in o.requests_for(PLAYLIST) if "token" in p]


def test_blocking_reload_may_wait_past_the_first_byte_timeout_and_nothing_else_may(chain):
    o = chain.origin
    msn, part = advance_to_mid_segment(o)
    results = [None, None]

    def viewer(i):
        results[i] = get(chain, f"{PLAYLIST}?_HLS_msn={msn}&_HLS_part={part}", timeout=30)

    # The second viewer queues behind the first one's fill (its wait is the cache lock's).
    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    upstream = f"{PLAYLIST}?_HLS_msn={msn}&_HLS_part={part}"
    wait_until(lambda: o.count(upstream) == 1, what="the blocking request at the origin")
    wait_until(lambda: chain.edge.metric("cdn_blocking_reloads_waiting") == 2, what="both viewers parked")
    held_since = time.monotonic()
    # Held for more than timeouts.upstream_first_byte and cache_lock (1s) on both tiers before
    # the part exists.
    wait_until(lambda: time.monotonic() - held_since > 1.5, interval=0.1, what="1.5s of holding")
    assert all(t.is_alive() for t in threads), results
    o.publish()
    for t in threads:
        t.join(10)
    for r in results:
        assert r.status == 200, r
        assert f"seg{msn}.part{part}.m4s" in r.body.decode()
    assert o.count(upstream) == 1
    # An ordinary request held as long is a 504: the raise is a rule for blocking reloads, not a
    # global one. A blocking request too far ahead is refused by the origin (400), passed on.
    r = get(chain, f"{BASE}/slow")
    assert r.status == 504, r
    r = get(chain, f"{PLAYLIST}?_HLS_msn={o.hint()[0] + 5}")
    assert r.status == 400, r


class ChunkedClient:
    """An HTTP/1.1 GET on a raw socket that reads a chunked body as it arrives."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.raw = b""
        self.head = None
        self.body = b""
        self.ended = False   # the last chunk arrived
        self.closed = False  # EOF (or reset) from the server

    def pump(self, until, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not until() and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            self.raw += data
            self._parse()
        return until()

    def _parse(self):
        if self.head is None:
            if b"\r\n\r\n" not in self.raw:
                return
            self.head, self.raw = self.raw.split(b"\r\n\r\n", 1)
            assert b"transfer-encoding: chunked" in self.head.lower(), self.head
        while b"\r\n" in self.raw and not self.ended:
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.ended = True
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]

    def status(self):
        return int(self.head.split(b" ")[1]) if self.head else None

    def close(self):
        self.sock.close()


def read_at_least(pipe, n, timeout=10.0):
    """Reads a pipe until it gave n bytes (or EOF, or the time is up)."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        data = os.read(pipe.fileno(), n - len(got))
        if not data:
            break
        got += data
    return got


def hinted_part_path(chain):
    msn, part = chain.origin.hint()
    return f"{BASE}/v0/seg{msn}.part{part}.m4s", (msn, part)


def test_preload_hint_streams_to_every_viewer_before_the_part_is_complete(chain):
    o = chain.origin
    path, key = hinted_part_path(chain)
    tok = f"{path}?token={chain.token}"
    first = ChunkedClient(chain.edge.port(), tok)
    wait_until(lambda: o.count(path) == 1, what="the hinted part requested at the origin")
    whole = part_body(*key, size=24000)
    o.write_chunk(whole[:8000])
    assert first.pump(lambda: len(first.body) >= 8000), (first.head, len(first.body))
    assert first.status() == 200 and not first.ended, "streamed before the part is complete"
    # Viewers that join mid-part, over HTTP/1.1 and HTTP/2, get the same fill from byte 0.
    second = ChunkedClient(chain.edge.port(), tok)
    with H2Conn(chain.edge.port()) as h2:
        sid = h2.request(tok)
        assert second.pump(lambda: len(second.body) >= 8000)
        assert h2.pump(lambda: len(h2.streams[sid].body) >= 8000)
        o.write_chunk(whole[8000:16000])
        assert first.pump(lambda: len(first.body) >= 16000) and not first.ended
        o.write_chunk(whole[16000:])
        o.publish()
        for c in (first, second):
            assert c.pump(lambda c=c: c.ended), (len(c.body), c.closed)
            assert c.body == whole
            c.close()
        st = h2.wait_streams([sid])[0]
        assert st.reset is None and bytes(st.body) == whole
    assert o.count(path) == 1, "one upstream request for every viewer of the hinted part"
    # Stored whole: the next viewer is a hit with a length.
    r = get(chain, path)
    assert r.status == 200 and r.body == whole and r.header("X-Cache") == "HIT"


def test_an_aborted_part_aborts_every_viewer_and_is_fetched_again(chain):
    o = chain.origin
    path, key = hinted_part_path(chain)
    tok = f"{path}?token={chain.token}"
    viewers = [ChunkedClient(chain.edge.port(), tok) for _ in range(3)]
    url = f"http://127.0.0.1:{chain.edge.port()}{tok}"
    curls = {proto: subprocess.Popen(["curl", "-sSN", proto, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for proto in ("--http1.1", "--http2-prior-knowledge")}
    with H2Conn(chain.edge.port()) as h2:
        sid = h2.request(tok)
        wait_until(lambda: o.count(path) == 1, what="the hinted part requested at the origin")
        o.write_chunk(b"x" * 5000)
        for v in viewers:
            assert v.pump(lambda v=v: len(v.body) >= 5000)
        assert h2.pump(lambda: len(h2.streams[sid].body) >= 5000)
        for c in curls.values():
            assert read_at_least(c.stdout, 5000) == b"x" * 5000
        o.abort()  # the encoder stopped: the origin cuts the part short
        for v in viewers:
            assert v.pump(lambda: False, timeout=time_bound(5.0)) is False
            assert v.closed and not v.ended, "cut short, never ended as if whole"
            assert v.body == b"x" * 5000
            v.close()
        st = h2.wait_streams([sid], timeout=time_bound(5.0))[0]
        assert st.reset is not None, "the HTTP/2 stream is reset, not ended"
    # curl says so too: 18 (HTTP/1.1 body cut short), 92 (HTTP/2 stream not closed cleanly).
    for proto, c in curls.items():
        _, err = c.communicate(timeout=time_bound(10.0))
        assert c.returncode in (18, 92), (proto, c.returncode, err)
    # Nothing was stored on either tier: the next request goes to the origin again.
    retry = ChunkedClient(chain.edge.port(), tok)
    wait_until(lambda: o.count(path) == 2, what="the part fetched again after the abort")
    whole = part_body(*key, size=7000)
    o.write_chunk(whole)
    o.publish()
    assert retry.pump(lambda: retry.ended) and retry.body == whole
    retry.close()


def token_uris(text):
    """Every URI of a playlist: URI lines and URI="..." attributes."""
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    return lines + re.findall(r'URI="([^"]*)"', text)


@pytest.mark.parametrize("proto", ["h1", "h2c"])
def test_playlists_and_manifests_carry_the_token_on_every_uri_kind(chain, proto):
    o = chain.origin
    while o.hint()[0] < 2:  # at least one whole segment before the parts
        o.publish()
    o.publish()

    def fetch(path):
        full = f"{path}?token={chain.token}"
        if proto == "h2c":
            with H2Conn(chain.edge.port()) as h2:
                return h2.get(full)
        return http_request(chain.edge.port(), full)

    r = fetch(PLAYLIST)
    assert r.status == 200, r
    text = r.body.decode()
    # The plain playlist lives as long as the origin says (max-age=1), not like a blocking
    # answer: a part published after it was cached shows up in it.
    new = o.publish()
    wait_until(lambda: f"seg{new[0]}.part{new[1]}.m4s" in fetch(PLAYLIST).body.decode(), timeout=5,
               interval=0.2, what="the plain playlist to show the new part")
    for tag in ("#EXT-X-MAP:", "#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:", "#EXT-X-RENDITION-REPORT:"):
        assert tag in text, tag
    uris = token_uris(text)
    assert len(uris) >= 6 and all(u.endswith(f"?token={chain.token}") for u in uris), text
    assert "private" in r.header("Cache-Control")
    # Each of them is fetchable with what the playlist gave the player.
    for u in (uris[0], re.search(r'#EXT-X-MAP:URI="([^"]*)"', text).group(1)):
        assert http_request(chain.edge.port(), f"{BASE}/v0/{u}").status == 200, u
    m = fetch(f"{BASE}/manifest.mpd")
    assert m.status == 200, m
    mpd = m.body.decode()
    assert f'initialization="v0/init.mp4?token={chain.token}"' in mpd
    assert f'media="v0/seg$Number$.m4s?token={chain.token}"' in mpd
    assert f"<BaseURL>{BASE}/?token={chain.token}</BaseURL>" in mpd
    assert "private" in m.header("Cache-Control")
