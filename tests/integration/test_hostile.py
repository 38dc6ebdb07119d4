"""The hostile-input table (issue 7): each row is what a hostile client sends and what it must get,
run against every listener of the session stack: the edge's viewer listener (plain and TLS), the
shield, the origin and the edge's admin listener. A row's request is built around the listener's
known object (a VOD file on the data listeners, /healthz on the admin one), so a hostile request
that is wrongly accepted shows up as that object being served.

Memory rows stream a request head that never ends (64 MiB of one header value or name) and assert
that the connection is refused or closed quickly, that the process's resident memory stays within its
configured head limit plus a fixed margin, and that other connections are served while it runs."""
import re

import pytest

from hostile_support import MIB, HostileConn, Listener, Prober, RssPeak, parse_duration_s, rss_bytes, stream_head
from test_http_input import BAD_INPUT

LEAD = b"\r\n\r\n"  # empty lines before the request line (RFC 9112 §2.2 lets a server skip them)
HOST = b"Host: 127.0.0.1\r\n"

# Every row is a parser or Host row, so every row also runs on the admin listener.
LISTENERS = ("edge", "edge-tls", "shield", "origin", "edge-admin")


def get(target, headers=HOST, lead=b"", end=b"\r\n"):
    return lead + b"GET " + target + b" HTTP/1.1\r\n" + headers + end


def splice(path, piece):
    """`piece` inside the path's last segment, before its last three bytes (`/vod/bin/f.ts` →
    `/vod/bin/f<piece>.ts`, `/healthz` → `/heal<piece>thz`)."""
    return path[:-3] + piece + path[-3:]


def after_first_segment(path, piece):
    """`piece` after the path's first segment: `/vod/bin/f.ts` → `/vod<piece>/bin/f.ts`; a path of
    one segment gets it in front: `/healthz` → `<piece>/healthz`."""
    cut = path.find(b"/", 1)
    return piece + path if cut < 0 else path[:cut] + piece + path[cut:]


def refuse(status, *reasons):
    """Refused with `status` and one of `reasons` (more than one only where two rules of the contract
    both name the input)."""
    return ("refuse", status, reasons)


NORMAL = ("normal",)  # served exactly as the plain request for the known object

# (id, request built from the known object's path, expectation)
ROWS = [
    # Issue 7, item 1: leading empty lines are skipped, never taken for the end of the head.
    ("lead-crlf-then-valid", lambda p: get(p, lead=LEAD), NORMAL),
    ("many-lead-crlf-then-valid", lambda p: get(p, lead=b"\r\n" * 8), NORMAL),
    ("lead-crlf-obs-fold", lambda p: get(p, HOST + b"X-A: a\r\n b\r\n", lead=LEAD), refuse(400, "obs-fold")),
    ("lead-crlf-head-ends-bare-lf", lambda p: get(p, HOST, lead=LEAD, end=b"\n"), refuse(400, "bare-lf")),
    # Item 2: Host is RFC 3986 host [":" port]: nothing a cache key could run into a path with.
    *[(f"host-{name}", lambda p, h=host: get(p, b"Host: " + h + b"\r\n"), refuse(400, "bad-host"))
      for name, host in [("with-path", b"127.0.0.1/vod/premium"), ("space", b"a b"), ("at", b"a@b"),
                         ("question", b"a?b"), ("hash", b"a#b")]],
    # A control byte is both a bad host and a bad field value; either reason is specific.
    ("host-control-byte", lambda p: get(p, b"Host: a\x01b\r\n"), refuse(400, "bad-host", "bad-header-value")),
    # Item 3: request targets and fields checked against RFC 9110's grammar.
    *[(f"target-{name}", lambda p, b=byte: get(splice(p, b)), refuse(400, "bad-request-target"))
      for name, byte in [("tab", b"\t"), ("0xff", b"\xff"), ("space", b" "), ("backslash", b"\\")]],
    ("target-pct00", lambda p: get(p + b"%00"), refuse(400, "encoded-nul")),
    *[(f"target-{name}", lambda p, e=esc: get(splice(p, e)), refuse(400, "encoded-slash"))
      for name, esc in [("pct2F", b"%2F"), ("pct2f", b"%2f"), ("pct5C", b"%5C")]],
    ("target-dotdot-pct2f", lambda p: get(after_first_segment(p, b"/..%2f..")), refuse(400, "encoded-slash")),
    ("empty-header-name", lambda p: get(p, HOST + b": v\r\n"), refuse(400, "bad-header-name")),
    ("nul-in-header-value", lambda p: get(p, HOST + b"X-A: a\x00b\r\n"), refuse(400, "bad-header-value")),
    ("del-in-header-value", lambda p: get(p, HOST + b"X-A: a\x7fb\r\n"), refuse(400, "bad-header-value")),
    # Item 3, one normalized target (RFC 3986 §6.2.2): these name the known object.
    ("target-pct-unreserved", lambda p: get(p[:1] + b"%%%02x" % p[1] + p[2:]), NORMAL),
    ("target-double-slash", lambda p: get(b"/" + p), NORMAL),
    ("target-dot-segment", lambda p: get(after_first_segment(p, b"/.")), NORMAL),
    ("target-dotdot-segment", lambda p: get(after_first_segment(p, b"/a/..")), NORMAL),
]

# The smuggling shapes of test_http_input.py, on every listener (their bytes do not use the path).
SMUGGLING = {"cl-and-te": None, "te-and-cl": None, "duplicate-content-length": None,
             "te-gzip": "unsupported-transfer-encoding", "bare-lf": None, "bare-lf-in-header": None,
             "obs-fold": None}
SMUGGLING_ROWS = [(f"smuggling-{name}", lambda p, r=raw: r, refuse(status, SMUGGLING[name] or reason))
                  for name, raw, status, reason in BAD_INPUT if name in SMUGGLING]
assert len(SMUGGLING_ROWS) == len(SMUGGLING), "a smuggling shape was renamed or removed in test_http_input.py"
ROWS += SMUGGLING_ROWS

CASES = [pytest.param(lname, row, id=f"{lname}-{row[0]}") for row in ROWS for lname in LISTENERS]


@pytest.fixture(scope="module")
def listeners(stack, content):
    path, data = content.new_file(10_000)
    r = stack.edge.get(path)  # cached on edge and shield before any row runs
    assert r.status == 200 and r.body == data
    data_listener = {
        "edge": (stack.edge, stack.edge.port(), False),
        "edge-tls": (stack.edge, stack.edge.port(tls=True), True),
        "shield": (stack.shield, stack.shield.port(), False),
        "origin": (stack.origin, stack.origin.port(), False),
    }
    out = {name: Listener(name, tier, port, tls, path, data) for name, (tier, port, tls) in data_listener.items()}
    out["edge-admin"] = Listener("edge-admin", stack.edge, stack.edge.admin_port, False, "/healthz")
    return out


def refused_count(tier, status, reasons):
    return sum(tier.metric("cdn_http_refused_total", status=status, reason=r) for r in reasons)


@pytest.mark.parametrize("lname,row", CASES)
def test_hostile_row(listeners, lname, row):
    _, build, expect = row
    listener = listeners[lname]
    request = build(listener.path.encode())
    if expect[0] == "refuse":
        before = refused_count(listener.tier, expect[1], expect[2])
    with HostileConn(listener.port, listener.tls) as c:
        c.send(request)
        r = c.response_or_none()
    if expect == NORMAL:
        assert r is not None, f"{request[:120]!r}: closed without a response"
        assert r.status == 200, f"{request[:120]!r} was not served like {listener.path}: {r} {r.body[:120]!r}"
        if listener.body is not None:
            assert r.body == listener.body, f"{request[:120]!r}: other bytes than {listener.path}"
    else:
        _, status, reasons = expect
        assert r is not None, f"{request[:120]!r}: closed without a response, want {status} {' or '.join(reasons)}"
        reason = r.header("X-Error-Reason")
        assert r.status == status and reason in reasons, f"{request[:120]!r}: {r} {r.body[:120]!r}"
        assert r.body.decode(errors="replace").startswith(f"{status} {reason}"), r.body[:120]
        assert refused_count(listener.tier, status, reasons) > before
    assert listener.tier.running()
    listener.assert_serves_known()


# (id, leading bytes, what opens the field that never ends, the byte it repeats)
MEMORY_ROWS = [
    ("huge-header-value", b"", b"X-Huge: ", b"a"),
    ("lead-crlf-huge-header-value", LEAD, b"X-Huge: ", b"a"),
    ("lead-crlf-huge-header-name", LEAD, b"", b"N"),
]
ATTACK_BYTES = 64 * MIB
RSS_MARGIN = 8 * MIB


@pytest.mark.parametrize("row", MEMORY_ROWS, ids=[r[0] for r in MEMORY_ROWS])
@pytest.mark.parametrize("lname", LISTENERS)
def test_endless_head_is_cut_off_within_its_limit(listeners, lname, row):
    name, lead, field, filler = row
    listener = listeners[lname]
    pid = listener.tier.proc.pid
    head_limit = listener.limit("limits", "max_header_bytes", 16384)
    header_read = parse_duration_s(listener.limit("timeouts", "header_read", "10s"))
    listener.assert_serves_known()
    too_large = ("header-too-large", "field-too-large")
    refused_before = refused_count(listener.tier, 431, too_large)
    rss_before = rss_bytes(pid)
    prober = Prober(listener)

    def attack_is_open():
        prober.probe()  # made while the attack's head is open, before it grows
        prober.start()

    prefix = get(listener.path.encode(), HOST + field, lead=lead, end=b"")
    try:
        with RssPeak(pid) as rss, HostileConn(listener.port, listener.tls) as c:
            res = stream_head(c, prefix, filler, ATTACK_BYTES, header_read / 2, on_started=attack_is_open)
    finally:
        prober.stop()
    growth = rss.peak - rss_before
    taken = f"{res.sent / MIB:.1f} MiB taken"
    print(f"{name} on {lname}: {taken}, ended after {res.seconds:.3f}s, RSS peak +{growth / MIB:.2f} MiB, "
          f"{prober.served} other requests served, answer {res.response[:12]!r}")
    problems = []  # every broken bound at once: memory and time tell apart different faults
    if not res.closed or res.seconds >= header_read / 2:
        state = "closed" if res.closed else "still open"
        problems.append(f"not ended within header_read/2 = {header_read / 2}s ({state} {res.seconds:.2f}s after "
                        f"the head began, {taken})")
    if res.response and not re.match(rb"HTTP/1\.1 431 .*\r\nX-Error-Reason: (header|field)-too-large\r\n",
                                      res.response, re.S | re.I):
        problems.append(f"answered {res.response[:200]!r}, want 431 header-too-large or field-too-large")
    elif res.response and refused_count(listener.tier, 431, too_large) <= refused_before:
        problems.append("answered 431 but cdn_http_refused_total did not count it")
    if growth > head_limit + RSS_MARGIN:
        problems.append(f"RSS grew {growth / MIB:.1f} MiB (bound: max_header_bytes {head_limit} B + "
                        f"{RSS_MARGIN // MIB} MiB), {taken}")
    if prober.failures or prober.served < 1:
        problems.append(f"other connections during the attack: {prober.served} served, {prober.failures[:3]}")
    assert not problems, f"{name} on {lname}: " + "; ".join(problems)
    assert listener.tier.running()
    listener.assert_serves_known()
