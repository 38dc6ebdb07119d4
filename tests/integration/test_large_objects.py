"""Objects of any size: a sparse VOD file larger than 4 GiB whose bytes encode their own offsets
(each little-endian 8-byte word holds its offset), ranges across the 2^32 boundary at the origin
and through origin -> shield -> edge, the origin's memory while it serves such a file, If-Range,
and a range on a cold object answered before the object has been fetched."""
import os
import socket
import threading
import time
from array import array
from email.utils import formatdate

import pytest

from conftest import build_dir, edge_config, http_request, origin_config, rss_bytes, shield_config, wait_until

GiB = 1 << 30
MiB = 1 << 20
TWO32 = 1 << 32
SIZE = TWO32 + 3 * MiB + 12345  # not a multiple of the word size or of any chunk size
# The only regions the tests read; the rest of the file is a hole (zeros) that costs no disk.
REGIONS = [(0, MiB), (TWO32 - 2 * MiB, 4 * MiB), (SIZE - MiB, MiB)]


def words(start, end):
    """The file's bytes [start, end) where it was written: 8-byte words holding their offsets."""
    base = start & ~7
    data = array("Q", range(base, end + 8, 8))
    if data.itemsize != 8 or array("H", [1]).tobytes() != b"\x01\x00":
        pytest.skip("needs a little-endian host with 8-byte array('Q')")
    return data.tobytes()[start - base:end - base]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("large")
    d = root / "big"
    d.mkdir()
    path = d / "movie.mp4"
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for start, length in REGIONS:
            end = min(start + length, SIZE)
            f.seek(start)
            f.write(words(start, end))
    return root, "/vod/big/movie.mp4"


def sanitized_build():
    """ASan keeps freed memory in quarantine, so RSS bounds hold in the release build only; the
    sanitizer builds still run every functional assertion."""
    cache = build_dir() / "CMakeCache.txt"
    return cache.exists() and "CDN_SANITIZE:BOOL=ON" in cache.read_text(errors="replace")


def check_range(port, path, first, last):
    r = http_request(port, path, headers={"Range": f"bytes={first}-{last}"}, timeout=300)
    assert r.status == 206, r
    assert r.header("Content-Range") == f"bytes {first}-{last}/{SIZE}"
    assert int(r.header("Content-Length")) == last - first + 1
    assert r.body == words(first, last + 1), f"bytes {first}-{last} differ"
    return r


def test_origin_ranges_across_the_4gib_boundary(tiers, big_file):
    root, path = big_file
    origin = tiers("origin", origin_config(root)).start()
    port = origin.port()
    check_range(port, path, TWO32 - 1003, TWO32 + 1004)  # unaligned on both sides
    check_range(port, path, TWO32 - 8, TWO32 - 1)
    check_range(port, path, TWO32, TWO32 + 7)
    check_range(port, path, 3, 4097)
    r = http_request(port, path, headers={"Range": "bytes=-777"})
    assert r.status == 206 and r.body == words(SIZE - 777, SIZE)
    assert r.header("Content-Range") == f"bytes {SIZE - 777}-{SIZE - 1}/{SIZE}"
    r = http_request(port, path, headers={"Range": f"bytes={SIZE}-"})
    assert r.status == 416 and r.header("Content-Range") == f"bytes */{SIZE}"
    r = http_request(port, path, method="HEAD")
    assert r.status == 200 and int(r.header("Content-Length")) == SIZE and r.body == b""


def test_origin_memory_stays_bounded_while_serving_a_large_file(tiers, big_file):
    root, path = big_file
    origin = tiers("origin", origin_config(root)).start()
    base = rss_bytes(origin)
    # One client reads 256 MiB as fast as it can, one asks for the whole file and stops reading.
    s = socket.create_connection(("127.0.0.1", origin.port()), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {SIZE}".encode() in head
    peak = 0
    fast = socket.create_connection(("127.0.0.1", origin.port()), timeout=60)
    fast.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-{256 * MiB - 1}\r\n\r\n".encode())
    got = 0
    while got < 256 * MiB:
        b = fast.recv(1 << 20)
        assert b, "connection closed early"
        got += len(b)
        if got % (32 * MiB) < len(b):
            peak = max(peak, rss_bytes(origin))
    fast.close()
    peak = max(peak, rss_bytes(origin))
    s.close()
    if sanitized_build():
        return
    # Blocks of 256 KiB, read only while the socket keeps up: a few MiB, never the file.
    assert peak - base < 48 * MiB, f"origin RSS grew by {(peak - base) / MiB:.1f} MiB"


def test_origin_file_that_shrinks_mid_response_gives_a_truncated_looking_body(tiers, tmp_path):
    (tmp_path / "vod").mkdir()
    f = tmp_path / "vod" / "shrinks.mp4"
    f.write_bytes(os.urandom(64 * MiB))
    origin = tiers("origin", origin_config(tmp_path / "vod")).start()
    s = socket.create_connection(("127.0.0.1", origin.port()), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(b"GET /vod/shrinks.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
    got = bytearray(s.recv(65536))
    assert got.startswith(b"HTTP/1.1 200") and f"Content-Length: {64 * MiB}".encode() in got
    os.truncate(f, 8 * MiB)  # the origin has read at most a few blocks so far
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    s.close()
    body = got.partition(b"\r\n\r\n")[2]
    # The connection closes short of Content-Length: no client takes it for a complete body.
    assert len(body) < 64 * MiB


def test_ranges_across_the_4gib_boundary_through_shield_and_edge(tiers, big_file, tmp_path):
    root, path = big_file
    origin = tiers("origin", origin_config(root)).start()
    shield = tiers("shield", shield_config([origin.port()], disk_path=tmp_path / "shield-db")).start()
    edge = tiers("edge", edge_config([shield.port()], disk_path=tmp_path / "edge-db")).start()
    # The object is above cache.max_object_size (1 GiB): each proxy tier passes it through in a
    # paced fill, reading its upstream only as fast as its slowest waiter. A range joins that fill
    # only when its first byte is within a window of what the fill holds; the two far ranges ask
    # the tier above for their own bytes (a Range header), so nobody reads 4 GiB to reach them.
    ranges = [(TWO32 - 1003, TWO32 + 1004), (3, 4097), (SIZE - 5000, SIZE - 1)]
    results = {}

    def client(first, last):
        try:
            results[first] = check_range(edge.port(), path, first, last)
        except AssertionError as e:  # reported below, from the test's own thread
            results[first] = e

    threads = [threading.Thread(target=client, args=r) for r in ranges]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    for first, _ in ranges:
        assert not isinstance(results.get(first), (AssertionError, type(None))), results.get(first)
    # One whole fetch per proxy tier at most (it may be started again by a far range that found
    # none running; such a fetch is cancelled once its head shows it will not be stored) ...
    assert 1 <= origin.metric("cdn_requests_total", status=200) <= len(ranges)
    # ... and each far range reached the origin as a range of its own.
    wait_until(lambda: origin.metric("cdn_requests_total", status=206) >= 2, what="the ranged requests")
    assert origin.metric("cdn_requests_total", status=206) == 2
    # Bytes the origin's sockets took: a few MiB of the whole fetches (paced, then cancelled),
    # never the 4 GiB in front of the far ranges.
    sent = origin.metric("cdn_bytes_sent_total")
    assert sent < 256 * MiB, f"the origin sent {sent / MiB:.0f} MiB for three small ranges"
    if not sanitized_build():
        # Flow control: neither proxy tier ever held more than a small part of the 4 GiB body.
        for tier in (shield, edge):
            peak = rss_bytes(tier, "VmHWM")
            assert peak < 512 * MiB, f"{tier.name} peaked at {peak >> 20} MiB"


def test_if_range_with_a_stale_validator_gets_the_whole_object(stack, content):
    path, data = content.new_file(50_000)
    # An mtime well in the past makes Last-Modified a strong validator (RFC 9110 §8.8.2.2).
    old = time.time() - 3600
    os.utime(content.root / path[len("/vod/"):], (old, old))
    edge = stack.edge
    for attempt in ("miss", "hit"):  # streamed from the fill, then served from the cache
        first = edge.get(path, headers={"Range": "bytes=0-0"}) if attempt == "miss" else edge.get(path)
        etag, lm = first.header("ETag"), first.header("Last-Modified")
        assert etag and lm, first
        stale = edge.get(path, headers={"Range": "bytes=10-19", "If-Range": '"not-the-etag"'})
        assert stale.status == 200 and stale.body == data, (attempt, stale)
        current = edge.get(path, headers={"Range": "bytes=10-19", "If-Range": etag})
        assert current.status == 206 and current.body == data[10:20], (attempt, current)
        weak = edge.get(path, headers={"Range": "bytes=10-19", "If-Range": "W/" + etag})
        assert weak.status == 200 and weak.body == data, (attempt, weak)
        by_date = edge.get(path, headers={"Range": "bytes=10-19", "If-Range": lm})
        assert by_date.status == 206 and by_date.body == data[10:20], (attempt, by_date)
        earlier = formatdate(old - 60, usegmt=True)
        by_old_date = edge.get(path, headers={"Range": "bytes=10-19", "If-Range": earlier})
        assert by_old_date.status == 200 and by_old_date.body == data, (attempt, by_old_date)
    # The origin applies the same rule.
    o = stack.origin
    assert o.get(path, headers={"Range": "bytes=10-19", "If-Range": '"nope"'}).status == 200
    r = o.get(path, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert r.status == 206 and r.body == data[10:20]


def test_range_on_a_cold_object_answers_before_the_object_is_fetched(tiers, slow_origin):
    body = bytes(range(256)) * (64 * 4096)  # 64 MiB
    release = threading.Event()
    slow_origin.add("/vod/cold.mp4", body, split=4 * MiB, release=release)
    # range_reach 0: every range joins the fill, however far ahead (the far-range case is below).
    edge = tiers("edge", edge_config([slow_origin.port], extra={"cache": {"range_reach": 0}})).start()
    try:
        t0 = time.monotonic()
        r = edge.get("/vod/cold.mp4", headers={"Range": "bytes=1000-1999"}, timeout=30)
        assert r.status == 206 and r.body == body[1000:2000], r
        assert r.header("Content-Range") == f"bytes 1000-1999/{len(body)}"
        # The origin is still holding back 60 MiB: the answer came from the first bytes.
        assert not release.is_set() and time.monotonic() - t0 < 30
        late = {}

        def tail_client():
            late["r"] = edge.get("/vod/cold.mp4", headers={"Range": f"bytes={len(body) - 10}-"}, timeout=60)

        # On the same running fill, If-Range decides: the current ETag gets its range at once...
        r = edge.get("/vod/cold.mp4", headers={"Range": "bytes=0-9", "If-Range": '"slow-1"'}, timeout=30)
        assert r.status == 206 and r.body == body[:10], r
        assert not release.is_set()

        def stale_client():
            late["stale"] = edge.get("/vod/cold.mp4", headers={"Range": "bytes=0-9", "If-Range": '"old"'},
                                     timeout=60)

        # ...a stale one the whole object, and a range beyond what has arrived waits for its bytes.
        t = threading.Thread(target=tail_client)
        t.start()
        t2 = threading.Thread(target=stale_client)
        t2.start()
    finally:
        release.set()
    t.join(60)
    t2.join(60)
    assert late["r"].status == 206 and late["r"].body == body[-10:]
    assert late["stale"].status == 200 and late["stale"].body == body
    wait_until(lambda: slow_origin.count("/vod/cold.mp4") >= 1, what="origin request")
    assert slow_origin.count("/vod/cold.mp4") == 1


def test_object_too_large_for_memory_is_streamed_from_disk_by_chunk(tiers, content, tmp_path):
    """A 40 MiB object is above a memory shard's share, so after its fill it lives on disk only;
    a range then reads only the chunks that hold it, and a reader that stops reading stops the
    disk reads."""
    chunk = 256 * 1024
    path, data = content.new_file(40 * MiB, suffix=".mp4")
    origin = tiers("origin", origin_config(content.root)).start()
    edge = tiers("edge", edge_config([origin.port()], disk_path=tmp_path / "edge-db")).start()
    r = edge.get(path, timeout=60)
    assert r.status == 200 and r.body == data and r.header("X-Cache") == "MISS"
    wait_until(lambda: edge.metric("cdn_cache_disk_writes") >= 1, what="the disk write")

    reads = edge.metric("cdn_cache_disk_chunk_reads")
    first = 20 * MiB - 100
    r = edge.get(path, headers={"Range": f"bytes={first}-{first + 199}"})
    assert r.status == 206 and r.body == data[first:first + 200], r
    assert r.header("X-Cache") == "HIT"
    assert edge.metric("cdn_cache_disk_chunk_reads") - reads == 2  # the range straddles two chunks

    reads = edge.metric("cdn_cache_disk_chunk_reads")
    s = socket.create_connection(("127.0.0.1", edge.port()), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    wait_until(lambda: edge.metric("cdn_cache_disk_chunk_reads") > reads, what="disk reads to start")
    last = [None]

    def settled():
        now = edge.metric("cdn_cache_disk_chunk_reads")
        done, last[0] = now == last[0], now
        return done

    wait_until(settled, interval=0.3, what="disk reads to stop while the client does not read")
    stalled_reads = last[0] - reads
    assert stalled_reads * chunk < 16 * MiB, f"read {stalled_reads} chunks for a client that reads nothing"
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(65536)
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"X-Cache: HIT" in head, head
    body = bytearray(rest)
    while len(body) < len(data):
        b = s.recv(1 << 20)
        assert b, "connection closed early"
        body += b
    s.close()
    assert bytes(body) == data
    assert edge.metric("cdn_cache_disk_chunk_reads") - reads == len(data) // chunk


@pytest.mark.concurrency
def test_concurrent_ranges_of_a_paced_object_share_one_upstream_fetch(tiers, slow_origin):
    """Ranges of an object that is not stored (no-store) while one paced fill of it runs: those
    whose first byte is within a window of the fill join it, one far beyond fetches only its own
    bytes with a Range header, and nothing fetches the whole object for it."""
    body = bytes(range(256)) * (32 * 1024)  # 8 MiB
    release = threading.Event()
    path = "/vod/paced.mp4"
    slow_origin.add(path, body, split=100_000, release=release, headers={"Cache-Control": "no-store"}, ranges=True)
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    near = [(100_000 + i * 10_000, 100_000 + i * 10_000 + 999) for i in range(10)]  # within 256 KiB
    far = (6 * MiB, 6 * MiB + 4095)
    results = {}

    def client(first, last):
        results[first] = edge.get(path, headers={"Range": f"bytes={first}-{last}"}, timeout=60)

    threads = [threading.Thread(target=client, args=near[0])]
    threads[0].start()
    try:
        assert slow_origin.first_half_sent.wait(30), "the fill never started"
        threads += [threading.Thread(target=client, args=r) for r in near[1:]]
        for t in threads[1:]:
            t.start()
        # The far range is answered while the shared fill still waits for its upstream.
        client(*far)
        assert not release.is_set()
    finally:
        release.set()
    for t in threads:
        t.join(60)
    for first, last in near + [far]:
        r = results.get(first)
        assert r is not None and r.status == 206 and r.body == body[first:last + 1], (first, r)
        assert r.header("Content-Range") == f"bytes {first}-{last}/{len(body)}"
    with slow_origin.lock:
        heads = [h for p, h in slow_origin.requests if p == path]
    ranged = [h for h in heads if "\nrange:" in h.lower()]
    assert len(heads) == 2, heads
    assert len(ranged) == 1 and f"Range: bytes={far[0]}-{far[1]}" in ranged[0], heads


def test_far_range_on_a_cold_stored_object_fetches_only_its_own_bytes(tiers, slow_origin):
    """A seek to the end of a cold object that will be stored: the range does not wait for the
    fill to reach it (cache.range_reach, 8 MiB by default) but fetches its own bytes with Range,
    a near range joins the fill, and the fill still stores the whole object once."""
    body = bytes(range(256)) * (48 * 1024)  # 12 MiB: fits one memory shard (256 MiB / 16)
    release = threading.Event()
    path = "/vod/seek.mp4"
    slow_origin.add(path, body, split=MiB, release=release, headers={"Cache-Control": "max-age=600"}, ranges=True)
    edge = tiers("edge", edge_config([slow_origin.port])).start()
    far = (10 * MiB, 10 * MiB + 65535)
    near = (100_000, 100_999)
    results = {}

    def client(name, first, last):
        results[name] = edge.get(path, headers={"Range": f"bytes={first}-{last}"}, timeout=60)

    whole = threading.Thread(target=lambda: results.update(whole=edge.get(path, timeout=60)))
    whole.start()
    try:
        assert slow_origin.first_half_sent.wait(30), "the fill never started"
        client("near", *near)  # within what the fill has received: joins it
        client("far", *far)    # 9 MiB beyond it: its own fetch, while the fill is held back
        assert not release.is_set()
    finally:
        release.set()
    whole.join(60)
    for name, (first, last) in (("near", near), ("far", far)):
        r = results[name]
        assert r.status == 206 and r.body == body[first:last + 1], (name, r)
        assert r.header("Content-Range") == f"bytes {first}-{last}/{len(body)}"
    assert results["whole"].status == 200 and results["whole"].body == body
    with slow_origin.lock:
        heads = [h for p, h in slow_origin.requests if p == path]
    ranged = [h for h in heads if "\nrange:" in h.lower()]
    assert len(heads) == 2 and len(ranged) == 1 and f"Range: bytes={far[0]}-{far[1]}" in ranged[0], heads
    # The fill stored the object: the same far range is now a hit, with no new upstream request.
    again = edge.get(path, headers={"Range": f"bytes={far[0]}-{far[1]}"})
    assert again.status == 206 and again.body == body[far[0]:far[1] + 1]
    assert again.header("X-Cache") == "HIT"
    with slow_origin.lock:
        assert len([1 for p, _ in slow_origin.requests if p == path]) == 2
