"""Live channels managed on a running origin: the admin API (/admin/channels), `cdnctl channel`,
the live: section reloaded on SIGHUP, and API changes persisted across a restart. Real cdn-origin
processes, HTTP-push ingest of pre-encoded clips at about real time (see live_support.py)."""
import json
import re
import signal
from urllib.parse import quote

import pytest

from access_support import cdnctl
from conftest import ADMIN_TOKEN, free_port, http_request, time_bound, to_yaml, wait_until
from live_support import (STREAM_KEY, MediaPlaylist, Pusher, encode_ts, get_playlist, live_origin_config, push,
                          udp_push, wait_playlist)

# Channel changes cross threads (admin loop, job threads, ingest workers): the ASan and the TSan
# stages run these too (TSan found a table released under a housekeeping loop here).
pytestmark = [pytest.mark.sanitize, pytest.mark.concurrency]


def channel(name, key=STREAM_KEY, renditions=("720p",)):
    return {"name": name, "stream_key": key, "renditions": [{"name": r} for r in renditions]}


def admin(origin, method, path, body=None, token=ADMIN_TOKEN):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    headers["Content-Length"] = str(len(body or b""))
    return http_request(origin.admin_port, path, method=method, headers=headers, body=body)


def ctl(origin, *args, check=True):
    return cdnctl("channel", *args, "--admin", f"http://127.0.0.1:{origin.admin_port}", "--token", ADMIN_TOKEN,
                  check=check)


def listed(origin):
    r = admin(origin, "GET", "/admin/channels")
    assert r.status == 200, r
    return {c["name"]: c for c in json.loads(r.body)["channels"]}


def printed_key(out):
    m = re.search(r"^stream key: (\S+)$", out, re.M)
    assert m, out
    return m.group(1)


def event(origin, name):
    r = origin.get(f"/live/{name}/720p/event.m3u8")
    return MediaPlaylist(r.body.decode()) if r.status == 200 else None


def test_add_rotate_remove_while_two_channels_keep_streaming(tiers, content, tmp_path):
    clip = encode_ts(tmp_path, 12, gop=25).read_bytes()
    rate = len(clip) / 12  # about real time
    cfg = live_origin_config(content.root, tmp_path / "store", channels=[channel("a"), channel("b")],
                             target="1s", gap="3s")
    cfg["workers"] = 2
    origin = tiers("origin", cfg).start()

    added = ctl(origin, "add", "cam", "--rendition", "720p")
    key = printed_key(added.stdout)
    assert "cam: added" in added.stdout
    assert listed(origin)["cam"]["source"] == "api"

    steady = [Pusher(origin.port(), clip, channel=n, rate=rate).start() for n in ("a", "b")]
    cam = Pusher(origin.port(), clip, channel="cam", key=key, rate=rate).start()
    for n in ("a", "b", "cam"):
        wait_playlist(origin, f"/live/{n}/720p/index.m3u8", lambda p: len(p.segments) >= 2, timeout=15)
    assert {c["name"]: c["state"] for c in listed(origin).values()} == {"a": "live", "b": "live", "cam": "live"}
    before = {n: len(event(origin, n).segments) for n in ("a", "b")}

    # Rotation: the running push with the old key is cut, the old key refused, the new one taken.
    fingerprint = listed(origin)["cam"]["key_fingerprint"]
    rotated = ctl(origin, "rotate-key", "cam")
    new_key = printed_key(rotated.stdout)
    assert new_key != key
    assert cam.join(time_bound(10)) == 403
    assert push(origin.port(), clip[:188 * 100], channel="cam", key=key) == 403
    cam_before = event(origin, "cam")
    cam2 = Pusher(origin.port(), clip, channel="cam", key=new_key, rate=rate).start()
    wait_playlist(origin, "/live/cam/720p/event.m3u8",
                  lambda p: len(p.segments) > len(cam_before.segments) and not p.endlist, timeout=15,
                  what="segments pushed with the new key")
    assert listed(origin)["cam"]["key_fingerprint"] not in (fingerprint, None)

    # Removal: its push is cut, its playlists end, ingest is refused; the stored segments stay.
    removed = ctl(origin, "remove", "cam")
    assert removed.stdout.strip() == "removed cam"
    assert cam2.join(time_bound(10)) == 403
    ended = wait_playlist(origin, "/live/cam/720p/index.m3u8", lambda p: p.endlist, timeout=5)
    assert origin.get(f"/live/cam/720p/{ended.segments[-1]['uri']}").status == 200
    assert push(origin.port(), clip[:188 * 100], channel="cam", key=new_key) == 404
    assert listed(origin)["cam"]["state"] == "read-only"
    out = ctl(origin, "list").stdout
    assert re.search(r"^a  live  source=config  key=sha256:[0-9a-f]{16}$", out, re.M), out
    assert re.search(r"^cam  read-only  source=store$", out, re.M), out

    # All the while a and b kept going: every segment in order, no discontinuity, no end.
    assert [p.join(time_bound(30)) for p in steady] == [204, 204]
    for n in ("a", "b"):
        pl = event(origin, n)
        assert len(pl.segments) > before[n] and len(pl.segments) >= 11, pl.text
        assert pl.seqs() == list(range(len(pl.segments)))
        assert not any(s["discontinuity"] for s in pl.segments), pl.text
        assert origin.metric("cdn_live_discontinuities_total", channel=n) == 0
        assert origin.metric("cdn_live_input_switches_total", channel=n) == 1
    assert origin.metric("cdn_live_errors_total", reason="stream-key-changed") == 1
    assert origin.metric("cdn_live_errors_total", reason="channel-removed") == 1


def test_api_channels_survive_a_restart_and_sighup_reloads_the_file(tiers, content, tmp_path):
    clip = encode_ts(tmp_path, 4, gop=25).read_bytes()
    cfg = live_origin_config(content.root, tmp_path / "store", channels=[channel("a"), channel("b")],
                             target="1s", gap="1s")
    origin = tiers("origin", cfg).start()
    udp = f"127.0.0.1:{free_port()}"
    assert admin(origin, "POST", "/admin/channels",
                 {"name": "x", "stream_key": "x-key", "renditions": [{"name": "720p", "udp": udp}]}).status == 201
    r = admin(origin, "POST", "/admin/channels/a/rotate-key", {"stream_key": "a-api-key"})
    assert r.status == 200 and "stream_key" not in json.loads(r.body)  # given, so not echoed

    assert origin.stop() == 0
    origin.start()
    channels = listed(origin)
    assert sorted(channels) == ["a", "b", "x"]
    assert (channels["a"]["source"], channels["x"]["source"], channels["b"]["source"]) == ("api", "api", "config")
    assert push(origin.port(), clip, channel="x", key="x-key") == 204
    assert push(origin.port(), clip, channel="a", key=STREAM_KEY) == 403
    assert push(origin.port(), clip, channel="a", key="a-api-key") == 204

    # SIGHUP with a changed live: section: a's definition changed in the file (the file is now the
    # later change and wins over the API's key), b is gone, n is new; x (API) stays.
    cfg["live"]["channels"] = [channel("a", key="a-file-key"), channel("n", key="n-key")]
    origin.config_path.write_text(to_yaml(cfg) + "\n")
    origin.signal(signal.SIGHUP)
    wait_until(lambda: origin.metric("cdn_live_config_reloads_total", result="ok") == 1, timeout=10,
               what="the reload")
    channels = listed(origin)
    assert channels["a"]["source"] == "config" and channels["b"]["state"] == "read-only"
    assert channels["n"]["state"] == "idle" and channels["x"]["source"] == "api"
    assert push(origin.port(), clip, channel="a", key="a-api-key") == 403
    assert push(origin.port(), clip, channel="a", key="a-file-key") == 204
    assert push(origin.port(), clip, channel="n", key="n-key") == 204
    assert push(origin.port(), clip, channel="b") == 404
    wait_playlist(origin, "/live/n/720p/index.m3u8", lambda p: len(p.segments) == 4, timeout=10)

    # A bad file on SIGHUP keeps the running channels.
    origin.config_path.write_text(to_yaml(cfg) + "\n  bogus_key: 1\n")
    origin.signal(signal.SIGHUP)
    wait_until(lambda: origin.metric("cdn_live_config_reloads_total", result="error") == 1, timeout=10,
               what="the refused reload")
    # ... and so does a change that needs a restart, or one that clashes with an API channel.
    clash = {"name": "y", "stream_key": "k", "renditions": [{"name": "r", "udp": udp}]}
    for change in ({"target_duration": "2s"}, {"channels": cfg["live"]["channels"] + [clash]}):
        bad = json.loads(json.dumps(cfg))
        bad["live"].update(change)
        origin.config_path.write_text(to_yaml(bad) + "\n")
        errors = origin.metric("cdn_live_config_reloads_total", result="error")
        origin.signal(signal.SIGHUP)
        wait_until(lambda: origin.metric("cdn_live_config_reloads_total", result="error") == errors + 1,
                   timeout=10, what="the refused reload")
    assert sorted(listed(origin)) == ["a", "b", "n", "x"]
    assert push(origin.port(), clip, channel="x", key="x-key") == 204
    assert push(origin.port(), clip, channel="n", key="n-key") == 204


def test_udp_input_of_an_api_channel(tiers, content, tmp_path):
    clip = encode_ts(tmp_path, 4, gop=25).read_bytes()
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", target="1s", gap="1s")).start()
    udp = free_port()
    ctl(origin, "add", "cam", "--rendition", f"720p,udp=127.0.0.1:{udp}", "--key", "cam-key")
    assert listed(origin)["cam"]["renditions"][0]["udp"] == f"127.0.0.1:{udp}"
    wait_until(lambda: "live udp input" in origin.log_tail(200), timeout=5, what="the UDP input bound")
    udp_push(udp, clip, rate=len(clip) / 2)
    pl = wait_playlist(origin, "/live/cam/720p/index.m3u8", lambda p: p.endlist, timeout=15)
    assert len(pl.segments) == 4


def test_bad_channel_requests_get_specific_reasons(tiers, content, tmp_path):
    udp = free_port()
    channels = [{"name": "a", "stream_key": STREAM_KEY, "renditions": [{"name": "r", "udp": f"127.0.0.1:{udp}"}]}]
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store", channels=channels)).start()
    ok = {"name": "c", "stream_key": "k", "renditions": [{"name": "r"}]}
    cases = [
        ("{", "bad-json"),
        ([], "channel-not-an-object"),
        (dict(ok, name="a/b"), "bad-channel-name"),
        (dict(ok, name=""), "bad-channel-name"),
        (dict(ok, stream_key="has space"), "bad-stream-key"),
        (dict(ok, stream_key=7), "bad-stream-key"),
        (dict(ok, renditions=[]), "renditions-required"),
        ({"name": "c", "stream_key": "k"}, "renditions-required"),
        (dict(ok, renditions=[{"name": "r"}, {"name": "r"}]), "duplicate-rendition"),
        (dict(ok, renditions=[{"name": ".."}]), "bad-rendition-name"),
        (dict(ok, renditions=[{"name": "r", "udp": "nowhere"}]), "bad-udp-address"),
        (dict(ok, renditions=[{"name": "r", "udp": f"127.0.0.1:{udp}"}]), "udp-address-in-use"),
        (dict(ok, extra=1), "unknown-field"),
        (dict(ok, renditions=[{"name": "r", "udp_primary": "127.0.0.1:1"}]), "unknown-field"),
    ]
    for body, reason in cases:
        r = admin(origin, "POST", "/admin/channels", body)
        assert (r.status, r.header("X-Error-Reason")) == (400, reason), (body, r.status, r.body)
        assert origin.metric("cdn_live_admin_errors_total", reason=reason) >= 1
    r = admin(origin, "POST", "/admin/channels", dict(ok, name="a"))
    assert (r.status, r.header("X-Error-Reason")) == (409, "channel-exists")
    assert admin(origin, "POST", "/admin/channels", "x" * 70000).status == 413
    assert admin(origin, "DELETE", "/admin/channels/nope").header("X-Error-Reason") == "no-such-channel"
    assert admin(origin, "POST", "/admin/channels/nope/rotate-key").status == 404
    r = admin(origin, "POST", "/admin/channels/a/rotate-key", {"stream_key": STREAM_KEY})
    assert (r.status, r.header("X-Error-Reason")) == (400, "same-stream-key")
    r = admin(origin, "POST", "/admin/channels/a/rotate-key", {"key": "x"})
    assert (r.status, r.header("X-Error-Reason")) == (400, "unknown-field")
    assert admin(origin, "GET", "/admin/channels/a").status == 405
    assert admin(origin, "POST", "/admin/channels", ok, token=None).status == 401
    assert admin(origin, "GET", "/admin/channels", token="wrong").status == 401
    # Nothing changed; the list shows a fingerprint, never a key.
    r = admin(origin, "GET", "/admin/channels")
    assert [c["name"] for c in json.loads(r.body)["channels"]] == ["a"]
    assert STREAM_KEY.encode() not in r.body
    assert ctl(origin, "remove", "nope", check=False).returncode == 1


def test_package_through_the_admin_api_while_the_origin_runs(tiers, content, tmp_path):
    clip = encode_ts(tmp_path, 6)
    origin = tiers("origin", live_origin_config(content.root, tmp_path / "store")).start()

    def jobs():
        r = admin(origin, "GET", "/admin/package")
        assert r.status == 200, r
        return {j["job"]: j for j in json.loads(r.body)["jobs"]}

    r = admin(origin, "POST", f"/admin/package?input={quote(str(clip))}&channel=movie")
    assert r.status == 202, r
    job = json.loads(r.body)["job"]
    wait_until(lambda: jobs()[job]["state"] == "done", timeout=20, what="the package job")
    done = jobs()[job]
    assert done["bytes_done"] == done["bytes_total"] == clip.stat().st_size and done["segments"] == 3
    pl = get_playlist(origin, "/live/movie/vod/index.m3u8")
    assert pl.endlist and pl.seqs() == [0, 1, 2]
    assert origin.get("/live/movie/vod/2.ts").body[:1] == b"\x47"
    assert origin.get("/live/movie/master.m3u8").status == 200
    assert listed(origin)["movie"]["state"] == "read-only"
    # Live ingest went on being answered meanwhile, and still is.
    assert push(origin.port(), clip.read_bytes()) == 204

    r = admin(origin, "POST", f"/admin/package?input={quote(str(tmp_path / 'missing.ts'))}&channel=other")
    assert r.status == 202
    failed = json.loads(r.body)["job"]
    wait_until(lambda: jobs()[failed]["state"] == "failed", timeout=10, what="the failed job")
    assert "missing.ts" in jobs()[failed]["error"]
    for query, status, reason in [
        (f"input={quote(str(clip))}&channel=demo&rendition=720p", 409, "live-rendition"),
        ("input=relative.ts&channel=m", 400, "input-path-required"),
        (f"input={quote(str(clip))}&channel=a%2Fb", 400, "bad-channel-name"),
        (f"input={quote(str(clip))}&channel=m&target_duration=0.1", 400, "bad-target-duration"),
    ]:
        r = admin(origin, "POST", "/admin/package?" + query)
        assert (r.status, r.header("X-Error-Reason")) == (status, reason), (query, r.status, r.body)
    assert admin(origin, "POST", f"/admin/package?input={quote(str(clip))}&channel=m", token=None).status == 401
