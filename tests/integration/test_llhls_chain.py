"""The real origin's LL-HLS through the tiers (issue 14): cdn-origin packaging an ffmpeg encoder's
real-time stream as LL-HLS (333 ms parts) -> cdn-shield -> cdn-edge.

- 500 viewers send the blocking playlist reload for a part still to come (`_HLS_msn`/`_HLS_part`)
  to the edge at once (one asyncio loop, a connection each): one request reaches the shield and one
  the origin (their access logs), and every viewer gets the same playlist, which lists that part;
- the encoder is killed mid-part while viewers wait on the edge for the hinted part and for the
  next segment's playlist: every one of them ends within the origin's input gap and a bound (no
  hang), a part is either whole (its moof/mdat walk clean) or cut short without its last chunk,
  never a truncated part that looks whole, and the playlist waiters get the ended playlist or an
  error status."""
import json
import threading
import time

import pytest

from conftest import Tier, edge_config, shield_config, time_bound, wait_until
from live_support import STREAM_KEY, ffmpeg_live_push, live_origin_config, need_ffmpeg
from many_requests import get_many
from test_cmaf_origin import fragments, playlist_parts

VIEWERS = 500
PLAYLIST = "/live/demo/720p/index.m3u8"  # fMP4 only: index.m3u8 is the LL-HLS playlist
RENDITION = "/live/demo/720p/"
TIMEOUTS = {"upstream_connect": "2s", "upstream_first_byte": "5s", "upstream_blocking_reload": "10s",
            "header_read": "5s"}
LIMITS = {"max_connections": 4000, "max_connections_per_client": 0}


def access_log(tier):
    """The tier's access log entries so far (JSON lines: path without the query, status, cache)."""
    return [json.loads(line) for line in (tier.dir / f"{tier.name}-access.log").read_text().splitlines() if line]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    need_ffmpeg()
    d = tmp_path_factory.mktemp("llhls-chain")
    cfg = live_origin_config(str(d / "www"), d / "store", target="1s", window=6, gap="1500ms", channels=[
        {"name": "demo", "stream_key": STREAM_KEY, "formats": ["llhls"], "renditions": [{"name": "720p"}]}])
    cfg["live"]["part_target"] = "333ms"
    (d / "www").mkdir()
    origin = Tier("origin", d, cfg, name="origin")
    shield = edge = encoder = None
    try:
        origin.start()
        shield = Tier("shield", d, shield_config([origin.port()], extra={"timeouts": dict(TIMEOUTS),
                                                                          "limits": dict(LIMITS)}), name="shield")
        shield.start()
        edge = Tier("edge", d, edge_config([shield.port()], extra={"timeouts": dict(TIMEOUTS),
                                                                    "limits": dict(LIMITS)}), name="edge")
        edge.start()
        encoder = ffmpeg_live_push(origin.port(), 60, gop=25)  # 1 s GOP: a keyframe each segment
        yield origin, shield, edge, encoder
    finally:
        if encoder is not None:
            encoder.kill()
            encoder.wait()
        for t in (edge, shield, origin):
            if t is not None:
                t.kill()


def live_edge(origin):
    """(msn, index of the next part in it, hint URI) from the origin's own playlist, once two
    segments and a part of the third exist."""
    r = origin.get(PLAYLIST)
    if r.status != 200:
        return None
    segs, (msn, parts), hint = playlist_parts(r.body.decode())
    return (msn, len(parts), hint) if len(segs) >= 2 and parts and hint else None


def test_500_blocking_reloads_through_the_edge_cost_one_request_per_tier(chain):
    origin, shield, edge, _ = chain
    msn, part, _ = wait_until(lambda: live_edge(origin), timeout=30, what="two LL-HLS segments at the origin")
    # The part after the hinted one, about two part durations away (time for 500 connections). A
    # 1 s segment has three parts of 320 ms and a last one of 40 ms (parts end on a frame, none
    # longer than the target), so from its third part on, the second part of the next segment.
    target = (msn, part + 1) if part + 1 <= 2 else (msn + 1, 1)
    query = f"_HLS_msn={target[0]}&_HLS_part={target[1]}"
    edge_before = edge.metric("cdn_upstream_requests_total")
    shield_before = shield.metric("cdn_upstream_requests_total")
    edge_log, shield_log = len(access_log(edge)), len(access_log(shield))
    started = time.monotonic()
    results = get_many(edge.port(), [f"{PLAYLIST}?{query}"] * VIEWERS, timeout=time_bound(10.0))
    bad = [r for r in results if not (r.status == 200 and r.complete)]
    assert not bad, (len(bad), bad[:3])
    bodies = {r.body for r in results}
    assert len(bodies) == 1, f"{len(bodies)} different playlists"
    text = bodies.pop().decode()
    segs, current, _ = playlist_parts(text)
    listed = {(m, i) for m, ps in segs + [current] for i in range(len(ps))}
    assert target in listed, text
    # One request per tier: the edge sent one to the shield (the only client of the shield here,
    # so its access log grew by one), the shield one to the origin.
    assert edge.metric("cdn_upstream_requests_total") - edge_before == 1
    assert shield.metric("cdn_upstream_requests_total") - shield_before == 1
    wait_until(lambda: len(access_log(edge)) - edge_log == VIEWERS, what="every viewer in the edge's access log")
    assert [(e["path"], e["status"]) for e in access_log(shield)[shield_log:]] == [(PLAYLIST, 200)]
    # Most joined the fill; any that came after the answer was stored got it from the cache.
    assert {e["cache"] for e in access_log(edge)[edge_log:]} <= {"MISS", "HIT"}
    released = sorted(r.first_byte_at for r in results)
    print(f"500 blocking reloads: answered {released[-1] - started:.2f}s after the first was sent, "
          f"first to last viewer's first byte {1000 * (released[-1] - released[0]):.0f} ms")
    assert edge.metric("cdn_blocking_reloads_waiting") == 0


def whole_part(body):
    """A whole CMAF part: moof/mdat pairs (the origin's chunks) that walk to the end, each with
    samples of a known track. A chunk may hold one track only (a quarter part of video before the
    next audio frame), so whole is the walk, not both tracks in every chunk."""
    try:
        frags = fragments(body)
    except (AssertionError, IndexError, KeyError, TypeError):
        return False
    return bool(frags) and all(trafs and {t["track"] for t in trafs} <= {1, 2} for _, trafs in frags)


def test_an_encoder_killed_mid_part_ends_every_waiter_cleanly(chain):
    origin, _, edge, encoder = chain
    msn, _, hint = wait_until(lambda: live_edge(origin), timeout=30, what="the live edge")
    box = {}

    def wait_on_edge(name, paths):
        box[name] = get_many(edge.port(), paths, timeout=time_bound(12.0))

    before = [threading.Thread(target=wait_on_edge, args=("before", [RENDITION + hint] * 50 +
                                                        [f"{PLAYLIST}?_HLS_msn={msn + 1}"] * 50))]
    before[0].start()
    wait_until(lambda: edge.metric("cdn_blocking_reloads_waiting") >= 50, what="50 blocking reloads parked")
    encoder.kill()  # mid-part: whatever the origin has of the part then is never completed
    encoder.wait()
    killed = time.monotonic()
    # The part the origin hints once it saw the input close is never written: viewers wait for it
    # too.
    wait_until(lambda: "live ingest closed" in origin.stderr_path.read_text(), what="the origin to see the close")
    orphan = wait_until(lambda: playlist_parts(origin.get(PLAYLIST).body.decode())[2], what="the hint after the kill")
    after = threading.Thread(target=wait_on_edge, args=("after", [RENDITION + orphan] * 20))
    after.start()
    for t in before + [after]:
        t.join(time_bound(15.0))
        assert not t.is_alive(), "waiters still held after the encoder stopped"
    results = box["before"] + box["after"]
    assert not [r for r in results if r.error == "still-waiting"], "a waiter hung"
    assert max(r.done_at for r in results) - killed < time_bound(1.5 + 3.0)  # the input gap, then the end
    parts, playlists, orphans = box["before"][:50], box["before"][50:], box["after"]
    outcome = lambda rs: sorted({(r.status, r.complete) for r in rs}, key=str)
    print(f"after the kill (status, complete): hinted part {outcome(parts)}, next segment's playlist "
          f"{outcome(playlists)}, part hinted after the kill {outcome(orphans)}")
    for r in parts + orphans:
        # Finished before the kill, then whole and the origin's part byte for byte; or cut short
        # (no last chunk, or refused): never a complete response with a truncated part inside.
        if r.status == 200 and r.complete:
            assert whole_part(r.body) and r.body == origin.get(r.path).body, r
        else:
            assert r.status in (None, 200, 404, 502, 503, 504), r
    assert not [r for r in orphans if r.status == 200 and r.complete], orphans[:3]
    for r in playlists:
        assert r.complete, r
        if r.status == 200:
            text = r.body.decode()
            segs, current, _ = playlist_parts(text)
            assert "#EXT-X-ENDLIST" in text or msn + 1 in [m for m, _ in segs] + [current[0]], text
        else:
            assert r.status in (502, 503, 504), r
    # Nothing of the part never written was stored on the way: the edge answers the origin's 404.
    wait_until(lambda: "#EXT-X-ENDLIST" in origin.get(PLAYLIST).body.decode(), what="the ended playlist")
    assert edge.get(RENDITION + orphan).status == 404
