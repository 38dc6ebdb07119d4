"""The caching path through origin -> shield -> edge: coalescing, read-while-writer, ranges,
purge, conditionals, the disk tier across a restart, stale-if-error."""
import hashlib
import http.client
import threading
import time

import pytest

from conftest import (Tier, edge_config, http_request, origin_config, sha256, shield_config, wait_fills_done,
                      wait_until)


def origin_requests(stack):
    return stack.origin.metric("cdn_requests_total")


def test_miss_then_hit_with_cache_headers(stack, content):
    path, data = content.new_file(1024)
    r1 = stack.edge.get(path)
    assert r1.status == 200
    assert r1.body == data
    assert r1.header("X-Cache") == "MISS"
    assert r1.header("Content-Type") == "video/mp2t"
    assert "immutable" in r1.header("Cache-Control", "")
    assert r1.header("ETag")
    assert r1.header("Last-Modified")
    assert r1.header("Age") is not None
    via = r1.header("Via", "")
    assert "cdn-shield" in via and "cdn-edge" in via, via
    r2 = stack.edge.get(path)
    assert r2.status == 200 and r2.body == data
    assert r2.header("X-Cache") == "HIT"
    assert int(r2.header("Age")) >= 0
    assert r2.header("ETag") == r1.header("ETag")


@pytest.mark.concurrency
def test_200_concurrent_cold_requests_cause_one_origin_request(stack, content):
    path, data = content.new_file(2 * 1024 * 1024)
    want = sha256(data)
    n = 200
    origin_before = origin_requests(stack)
    shield_up_before = stack.shield.metric("cdn_upstream_requests_total")
    edge_up_before = stack.edge.metric("cdn_upstream_requests_total")

    barrier = threading.Barrier(n)
    results = [None] * n

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", stack.edge.port(), timeout=60)
        try:
            conn.connect()
            barrier.wait(60)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            r = conn.getresponse()
            h = hashlib.sha256()
            size = 0
            while True:
                chunk = r.read(256 * 1024)
                if not chunk:
                    break
                h.update(chunk)
                size += len(chunk)
            results[i] = (r.status, size, h.hexdigest(), r.getheader("X-Cache"))
        except Exception as e:  # reported below with the others
            results[i] = ("error", repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    bad = [(i, r) for i, r in enumerate(results) if r is None or r[0] != 200 or r[1] != len(data) or r[2] != want]
    assert not bad, f"{len(bad)} of {n} clients did not get the exact bytes, e.g. {bad[:5]}"
    # Every client answered, so the single fill is complete everywhere.
    assert origin_requests(stack) - origin_before == 1
    assert stack.shield.metric("cdn_upstream_requests_total") - shield_up_before == 1
    assert stack.edge.metric("cdn_upstream_requests_total") - edge_up_before == 1


def _open_stream(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": "127.0.0.1"})
    return conn, conn.getresponse()


@pytest.mark.concurrency
def test_waiters_get_bytes_before_upstream_finishes(tiers, tmp_path, slow_origin):
    body = bytes(range(256)) * 1024  # 256 KiB
    release = threading.Event()
    slow_origin.add("/vod/slow.ts", body, split=len(body) // 2, release=release)
    shield = tiers("shield", shield_config([slow_origin.port])).start()
    edge = tiers("edge", edge_config([shield.port()])).start()
    try:
        c1, r1 = _open_stream(edge.port(), "/vod/slow.ts")
        assert r1.status == 200
        assert int(r1.getheader("Content-Length")) == len(body)
        first1 = r1.read1(65536)
        assert len(first1) >= 1, "first client got no body byte while the origin holds the second half"
        c2, r2 = _open_stream(edge.port(), "/vod/slow.ts")
        assert r2.status == 200
        first2 = r2.read1(65536)
        assert len(first2) >= 1, "second client got no body byte while the origin holds the second half"
        assert not release.is_set()
    finally:
        release.set()
    rest1 = r1.read()
    rest2 = r2.read()
    c1.close()
    c2.close()
    assert first1 + rest1 == body
    assert first2 + rest2 == body
    assert slow_origin.count("/vod/slow.ts") == 1
    r3 = edge.get("/vod/slow.ts")
    assert r3.status == 200 and r3.body == body and r3.header("X-Cache") == "HIT"
    assert slow_origin.count("/vod/slow.ts") == 1


def test_restarted_edge_serves_hit_from_disk(tiers, tmp_path, content):
    path, data = content.new_file(300 * 1024)
    origin = tiers("origin", origin_config(content.root)).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    ecfg = edge_config([shield.port()], disk_path=tmp_path / "edge-db")
    edge = tiers("edge", ecfg).start()
    r = edge.get(path)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "MISS"
    assert edge.stop() == 0
    assert shield.stop() == 0
    edge2 = tiers("edge", ecfg, name="edge-restarted").start()
    r = edge2.get(path)
    assert r.status == 200
    assert r.header("X-Cache") == "HIT"
    assert r.body == data
    assert edge2.metric("cdn_upstream_requests_total") == 0
    # a second request comes from memory (promoted) and is still right
    r = edge2.get(path)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "HIT"


def test_stale_if_error_and_502_without_shield(tiers, tmp_path, content):
    path, data = content.new_file(0, suffix=".m3u8", subdir="pl",
                                  data=b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                                       b"#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n" + str(time.time()).encode() + b"\n")
    origin = tiers("origin", origin_config(content.root, playlist_max_age="1s")).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    edge = tiers("edge", edge_config([shield.port()])).start()
    r = edge.get(path)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "MISS"
    assert r.header("Content-Type") == "application/vnd.apple.mpegurl"
    assert "max-age=1" in r.header("Cache-Control")
    assert shield.stop() == 0

    def not_fresh():
        r = edge.get(path)
        return r if r.header("X-Cache") != "HIT" else None

    r = wait_until(not_fresh, timeout=10, interval=0.2, what="the playlist to go stale")
    assert r.status == 200, r
    assert r.header("X-Cache") == "STALE"
    assert r.body == data
    never, _ = content.new_file(100)
    r = edge.get(never)
    assert r.status == 502, r
    assert r.header("X-Error-Reason") == "upstream-unavailable"
    assert r.body.decode().startswith("502")


def test_range_requests(stack, content):
    path, data = content.new_file(100_000)
    size = len(data)
    before = origin_requests(stack)
    r = stack.edge.get(path, headers={"Range": "bytes=100-199"})
    assert r.status == 206, r
    assert r.header("Content-Range") == f"bytes 100-199/{size}"
    assert r.body == data[100:200]
    assert int(r.header("Content-Length")) == 100
    assert origin_requests(stack) - before == 1
    # the whole object was fetched once and stored
    r = stack.edge.get(path, headers={"Range": "bytes=-50"})
    assert r.status == 206 and r.body == data[-50:]
    assert r.header("Content-Range") == f"bytes {size - 50}-{size - 1}/{size}"
    r = stack.edge.get(path, headers={"Range": f"bytes={size - 10}-"})
    assert r.status == 206 and r.body == data[-10:]
    r = stack.edge.get(path, headers={"Range": f"bytes=0-{size + 1000}"})
    assert r.status == 206 and r.body == data
    r = stack.edge.get(path, headers={"Range": f"bytes={size}-"})
    assert r.status == 416, r
    assert r.header("Content-Range") == f"bytes */{size}"
    r = stack.edge.get(path)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "HIT"
    assert origin_requests(stack) - before == 1


@pytest.mark.concurrency
def test_range_on_a_cold_object_from_many_clients(stack, content):
    path, data = content.new_file(500_000)
    before = origin_requests(stack)
    results = {}

    def client(i):
        start = i * 1000
        r = stack.edge.get(path, headers={"Range": f"bytes={start}-{start + 999}"})
        results[i] = (r.status, r.body == data[start:start + 1000])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(v == (206, True) for v in results.values()) and len(results) == 10, results
    assert origin_requests(stack) - before == 1


def test_purge_by_url_and_prefix(stack, content):
    edge = stack.edge
    path, data = content.new_file(2048)
    assert edge.get(path).header("X-Cache") == "MISS"
    assert edge.get(path).header("X-Cache") == "HIT"
    r = edge.purge_url(f"http://127.0.0.1{path}")
    assert r.status == 200, r
    assert '"purged"' in r.body.decode()
    r = edge.get(path)
    assert r.status == 200 and r.body == data
    assert r.header("X-Cache") == "MISS"
    assert edge.get(path).header("X-Cache") == "HIT"

    # prefix: two objects under one folder; one outside it stays cached
    sub = f"p{time.monotonic_ns()}"
    a, da = content.new_file(100, subdir=sub)
    b, db = content.new_file(100, subdir=sub)
    other, _ = content.new_file(100)
    for p in (a, b, other):
        edge.get(p)
        assert edge.get(p).header("X-Cache") == "HIT"
    r = edge.purge_prefix(f"127.0.0.1/vod/{sub}/")
    assert r.status == 200, r
    ra, rb = edge.get(a), edge.get(b)
    assert (ra.header("X-Cache"), rb.header("X-Cache")) == ("MISS", "MISS")
    assert ra.body == da and rb.body == db
    assert edge.get(other).header("X-Cache") == "HIT"

    # the key ignores the Host's case and port
    path2, _ = content.new_file(100)
    edge.get(path2, host="LocalHost:1234")
    assert edge.get(path2, host="localhost").header("X-Cache") == "HIT"
    assert edge.purge_url(f"http://localhost{path2}").status == 200
    assert edge.get(path2, host="localhost").header("X-Cache") == "MISS"

    # the purge URL is normalized as a request target is: `//x/./y` and `%76` purge `/x/y` and `v`
    path3, _ = content.new_file(100)
    edge.get(path3)
    assert edge.get(path3).header("X-Cache") == "HIT"
    odd = "/" + path3.replace("/vod/", "/%76od/./", 1)
    r = edge.purge_url(f"http://127.0.0.1{odd}")
    assert r.status == 200 and '"purged":0' not in r.body.decode(), r.body
    assert edge.get(path3).header("X-Cache") == "MISS"


def test_purge_needs_the_admin_token(stack, content):
    edge = stack.edge
    path, _ = content.new_file(100)
    edge.get(path)
    r = edge.purge_url(f"http://127.0.0.1{path}", token=None)
    assert r.status == 401, r
    r = edge.purge_url(f"http://127.0.0.1{path}", token="wrong")
    assert r.status == 401, r
    assert edge.get(path).header("X-Cache") == "HIT"
    r = edge.admin_post("/admin/purge")  # neither url nor prefix
    assert r.status == 400, r


def test_conditional_requests_get_304_on_a_hit(stack, content):
    path, data = content.new_file(4096)
    r = stack.edge.get(path)
    etag, lm = r.header("ETag"), r.header("Last-Modified")
    assert etag and lm
    r = stack.edge.get(path, headers={"If-None-Match": etag})
    assert r.status == 304, r
    assert r.body == b""
    assert r.header("X-Cache") == "HIT"
    assert r.header("ETag") == etag
    r = stack.edge.get(path, headers={"If-None-Match": '"something-else"'})
    assert r.status == 200 and r.body == data
    r = stack.edge.get(path, headers={"If-Modified-Since": lm})
    assert r.status == 304, r
    r = stack.edge.get(path, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    assert r.status == 200 and r.body == data


def test_hls_vod_over_https(stack, hls, certs):
    from conftest import client_tls_context
    ctx = client_tls_context()
    port = stack.edge.port(tls=True)
    r = http_request(port, "/vod/hls/index.m3u8", tls_context=ctx, server_hostname="a.test", host="a.test")
    assert r.status == 200, r
    assert r.body == (hls / "index.m3u8").read_bytes()
    assert r.header("Content-Type") == "application/vnd.apple.mpegurl"
    segments = [line for line in r.body.decode().splitlines() if line and not line.startswith("#")]
    assert len(segments) >= 4
    for s in segments:
        r = http_request(port, f"/vod/hls/{s}", tls_context=ctx, server_hostname="a.test", host="a.test")
        assert r.status == 200, r
        assert r.header("Content-Type") == "video/mp2t"
        assert r.body == (hls / s).read_bytes()
        assert len(r.body) % 188 == 0 and r.body[0] == 0x47 and r.body[188] == 0x47


def test_purge_reaches_the_disk_tier(tiers, tmp_path, content):
    """A purged object must not come back from RocksDB after a restart."""
    by_url, data = content.new_file(50_000)
    sub = f"pp{time.monotonic_ns()}"
    by_prefix, pdata = content.new_file(50_000, subdir=sub)
    kept, kdata = content.new_file(50_000)
    origin = tiers("origin", origin_config(content.root)).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    ecfg = edge_config([shield.port()], disk_path=tmp_path / "edge-db")
    edge = tiers("edge", ecfg).start()
    for p in (by_url, by_prefix, kept):
        assert edge.get(p).header("X-Cache") == "MISS"
    wait_fills_done(edge)  # the disk writes have landed before the purge
    assert edge.purge_url(f"http://127.0.0.1{by_url}").status == 200
    assert edge.purge_prefix(f"127.0.0.1/vod/{sub}/").status == 200
    assert edge.stop() == 0
    edge2 = tiers("edge", ecfg, name="edge-restarted").start()
    assert edge2.get(kept).header("X-Cache") == "HIT"
    r = edge2.get(by_url)
    assert r.body == data and r.header("X-Cache") == "MISS"
    r = edge2.get(by_prefix)
    assert r.body == pdata and r.header("X-Cache") == "MISS"


def test_disk_tier_survives_sigkill(tiers, tmp_path, content):
    """Objects written to RocksDB before a crash are served after it, with the exact bytes."""
    objs = [content.new_file(100_000 + i) for i in range(5)]
    origin = tiers("origin", origin_config(content.root)).start()
    shield = tiers("shield", shield_config([origin.port()])).start()
    ecfg = edge_config([shield.port()], disk_path=tmp_path / "edge-db")
    edge = tiers("edge", ecfg).start()
    for p, d in objs:
        assert edge.get(p).body == d
    wait_until(lambda: edge.metric("cdn_cache_disk_writes") >= len(objs), timeout=10, what="disk writes")
    wait_fills_done(edge)
    edge.kill()  # SIGKILL: no drain, no flush
    assert shield.stop() == 0
    edge2 = tiers("edge", ecfg, name="edge-after-crash").start()
    for p, d in objs:
        r = edge2.get(p)
        assert r.status == 200 and r.header("X-Cache") == "HIT" and r.body == d, r


@pytest.mark.concurrency
def test_only_client_aborting_does_not_leave_a_truncated_object(tiers, slow_origin):
    body = bytes(range(256)) * 800
    release = threading.Event()
    slow_origin.add("/vod/solo.ts", body, split=20_000, release=release)
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    conn = http.client.HTTPConnection("127.0.0.1", edge.port(), timeout=20)
    try:
        conn.request("GET", "/vod/solo.ts", headers={"Host": "127.0.0.1"})
        r = conn.getresponse()
        assert r.read1(1000)
        conn.sock.shutdown(2)
        conn.close()
        wait_until(lambda: edge.healthz()[1]["active_connections"] == 0, timeout=10,
                   what="the edge to see its only client go")
    finally:
        release.set()
    wait_fills_done(edge)
    for _ in range(2):
        r = edge.get("/vod/solo.ts")
        assert r.status == 200 and r.body == body


def test_age_includes_the_shields_age(stack, content):
    path, data = content.new_file(1000)
    r = stack.shield.get(path)
    assert r.status == 200 and r.header("X-Cache") == "MISS"
    r = wait_until(lambda: (lambda r: r if int(r.header("Age") or 0) >= 2 else None)(stack.shield.get(path)),
                   timeout=10, interval=0.2, what="the shield's copy to be 2 s old")
    assert r.header("X-Cache") == "HIT"
    miss = stack.edge.get(path)
    assert miss.status == 200 and miss.body == data and miss.header("X-Cache") == "MISS"
    hit = stack.edge.get(path)
    assert hit.header("X-Cache") == "HIT"
    ages = {"miss": int(miss.header("Age")), "hit": int(hit.header("Age"))}
    assert min(ages.values()) >= 2, f"the edge dropped the Age its shield reported: {ages}"


def test_purge_right_after_a_fill_is_not_undone_by_its_disk_write(tiers, tmp_path, content):
    """The disk write of a fill is asynchronous; a purge that arrives before it lands must still
    win (no object coming back from RocksDB afterwards)."""
    origin = tiers("origin", origin_config(content.root)).start()
    edge = tiers("edge", edge_config([origin.port()], disk_path=tmp_path / "edge-db")).start()
    resurrected = []
    for size in (20 * 1024 * 1024, 4 * 1024 * 1024, 4 * 1024 * 1024):
        path, data = content.new_file(size)
        assert edge.get(path, timeout=60).header("X-Cache") == "MISS"
        assert edge.purge_url(f"http://127.0.0.1{path}").status == 200
        wait_fills_done(edge)  # every queued disk write has landed
        r = edge.get(path, timeout=60)
        assert r.body == data
        if r.header("X-Cache") != "MISS":
            resurrected.append((size, r.header("X-Cache")))
    assert not resurrected, f"purged objects came back: {resurrected}"
