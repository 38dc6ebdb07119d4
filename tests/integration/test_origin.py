"""cdn-origin on its own: VOD files with content types, Cache-Control, validators, CORS."""
from conftest import RawConn


def test_origin_serves_vod_with_headers(stack, hls):
    o = stack.origin
    r = o.get("/vod/hls/index.m3u8")
    assert r.status == 200 and r.body == (hls / "index.m3u8").read_bytes()
    assert r.header("Content-Type") == "application/vnd.apple.mpegurl"
    assert r.header("Cache-Control") == "public, max-age=2"
    seg = sorted(hls.glob("*.ts"))[0]
    r = o.get(f"/vod/hls/{seg.name}")
    assert r.status == 200 and r.body == seg.read_bytes()
    assert r.header("Content-Type") == "video/mp2t"
    assert r.header("Cache-Control") == "public, max-age=86400, immutable"
    etag, lm = r.header("ETag"), r.header("Last-Modified")
    assert etag and lm
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert o.get(f"/vod/hls/{seg.name}", headers={"If-None-Match": etag}).status == 304
    assert o.get(f"/vod/hls/{seg.name}", headers={"If-Modified-Since": lm}).status == 304
    assert o.get(f"/vod/hls/{seg.name}", headers={"If-None-Match": '"other"'}).status == 200
    h = o.get(f"/vod/hls/{seg.name}", method="HEAD")
    assert h.status == 200 and h.body == b"" and int(h.header("Content-Length")) == seg.stat().st_size


def test_origin_errors(stack):
    o = stack.origin
    r = o.get("/vod/hls/nope.ts")
    assert r.status == 404 and r.header("X-Error-Reason") == "not-found"
    r = o.get("/vod/hls/")  # a directory
    assert r.status in (400, 403, 404)
    r = o.get("/vod/hls/index.m3u8", method="POST", headers={"Content-Length": "0"})
    assert r.status == 405
    r = o.get("/vod/hls/index.m3u8", method="OPTIONS")
    assert r.status == 204 and r.header("Access-Control-Allow-Origin") == "*"
    for target in (b"/vod/../conftest.py", b"/vod/%2e%2e/%2e%2e/etc/passwd", b"/vod/a/..%2F..%2F..%2Fetc%2Fpasswd"):
        with RawConn(o.port()) as c:
            c.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                r = c.read_response()
            except EOFError:
                continue
        assert r.status in (400, 404) and b"root:" not in r.body, (target, r)


def test_origin_serves_a_player_page_with_web_content_types(stack, content):
    # A player page and its scripts beside the media are served as the browser needs them
    # (a page sent as application/octet-stream is downloaded, not shown).
    page = content.root / "page"
    page.mkdir(parents=True, exist_ok=True)
    files = {"index.html": "text/html; charset=utf-8", "player.js": "text/javascript",
             "style.css": "text/css", "manifest.mpd": "application/dash+xml", "blob.bin": "application/octet-stream"}
    for name in files:
        (page / name).write_bytes(b"x" + name.encode())
    for name, ctype in files.items():
        r = stack.origin.get(f"/vod/page/{name}")
        assert r.status == 200 and r.body == b"x" + name.encode()
        assert r.header("Content-Type") == ctype, name
