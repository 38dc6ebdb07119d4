"""The HTTP caching conformance table (issue 17): one row per rule of RFC 9110/9111/9213 (and RFC
5861, 7239), driven against the real edge -> shield chain in front of a scriptable origin
(rfc_origin.py) that records every request it receives.

A row names its RFC section and rule, what the origin answers (one answer per upstream request,
the last repeats), what the client sends (steps), what must come back at each step, and what must
(not) reach the origin. Rows for behaviour not built yet are strict xfail: a row that starts
passing turns red until it is un-marked.

Rows that need time to pass (expiry, Age) are primed together once per module (their first step
runs before any row), so the whole table waits for one expiry, not one per row.
"""
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest

from conftest import RawConn, Tier, edge_config, http_request, shield_config, wait_until
from rfc_origin import Answer, RfcOrigin, http_date

# Waiting this long after a max-age=1 response was stored makes it stale on both tiers: Date has
# whole seconds, so a response can be up to 1 s old on arrival.
EXPIRE_S = 2.2


@dataclass
class Step:
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: bytes = None
    path: str = None      # default: the row's path
    after: float = 0.0    # wait until this many seconds after the row's first step
    raw: bool = False     # read interim (1xx) heads too: the step's result is [interim..., final]
    chunked: object = False  # send the body chunked (raw); "open": without its last chunk
    expect: dict = field(default_factory=dict)  # status, cache, body, headers {name: value|None|callable}


@dataclass
class Row:
    id: str
    sec: str
    rule: str
    answers: list
    steps: list
    upstream: object = None  # int (requests for the row's path) or {path suffix: int}
    up: list = field(default_factory=list)  # [(request index, {header: value|None|callable})]
    up_method: str = None    # method every recorded request for the row's path must have
    up_body: bytes = None    # body the last recorded request must carry
    scripts: dict = field(default_factory=dict)  # other paths the row's steps use: {path: [Answer]}
    xfail: str = None


def get(**kw):
    return Step("GET", **kw)


def cc(value, **more):
    h = {"Cache-Control": value}
    h.update(more)
    return h


def body(row_id, n=1):
    return f"{row_id} body v{n}\n".encode()


def ok(row_id, headers, n=1, **kw):
    return Answer(200, headers, body(row_id, n), **kw)


def hit(**more):
    return dict(status=200, cache="HIT", **more)


def miss(**more):
    return dict(status=200, cache="MISS", **more)


def contains(s):
    return lambda v: v is not None and s.lower() in v.lower()


def at_least(n):
    return lambda v: v is not None and v.isdigit() and int(v) >= n


LONG_AGO = http_date(time.time() - 10 * 86400)
FUTURE = http_date(time.time() + 3600)
PAST = http_date(time.time() - 3600)



def R(id, sec, rule, answers, steps, **kw):
    return Row(id, sec, rule, answers if isinstance(answers, list) else [answers], steps, **kw)


ROWS = [
    # ---------------------------------------------------------------- freshness: Cache-Control
    R("max-age", "9111 §5.2.2.1", "max-age makes a response fresh: reused without the origin",
      ok("max-age", cc("max-age=60")), [get(expect=miss()), get(expect=hit(body=body("max-age")))], upstream=1),
    R("s-maxage", "9111 §5.2.2.10", "s-maxage overrides max-age in a shared cache",
      ok("s-maxage", cc("max-age=0, s-maxage=60")), [get(), get(expect=hit())], upstream=1),
    R("no-store", "9111 §5.2.2.5", "no-store: never stored",
      ok("no-store", cc("no-store, max-age=60")), [get(expect=dict(status=200)), get(expect=dict(cache="MISS"))],
      upstream=2),
    R("private", "9111 §5.2.2.7", "private: a shared cache does not store it",
      ok("private", cc("private, max-age=60")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("no-cache", "9111 §5.2.2.4", "no-cache: stored, but validated with the origin before every reuse",
      [ok("no-cache", cc("no-cache, max-age=60", ETag='"nc1"')), Answer(304, cc("no-cache, max-age=60", ETag='"nc1"'))],
      [get(), get(expect=dict(status=200, cache="REVALIDATED", body=body("no-cache")))],
      upstream=2, up=[(1, {"If-None-Match": '"nc1"'})]),
    R("max-age-zero", "9111 §5.2.2.1", "max-age=0 without a validator: not reused",
      ok("max-age-zero", cc("max-age=0")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("public-no-freshness", "9111 §5.2.2.9", "public alone gives no freshness: heuristics need Last-Modified",
      ok("public-no-freshness", cc("public")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    # ---------------------------------------------------------------- freshness: Expires, heuristics
    R("expires", "9111 §5.3", "Expires in the future makes a response fresh",
      ok("expires", {"Expires": FUTURE}), [get(), get(expect=hit())], upstream=1),
    R("expires-invalid", "9111 §5.3", "an invalid Expires (\"0\") means already expired",
      ok("expires-invalid", {"Expires": "0"}), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("expires-past", "9111 §5.3", "Expires in the past: stale at once",
      ok("expires-past", {"Expires": PAST}), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("max-age-over-expires", "9111 §5.3", "max-age takes precedence over Expires",
      ok("max-age-over-expires", cc("max-age=60", Expires=PAST)), [get(), get(expect=hit())], upstream=1),
    R("heuristic", "9111 §4.2.2", "Last-Modified without explicit freshness: heuristic lifetime (10% of age)",
      ok("heuristic", {"Last-Modified": LONG_AGO}), [get(), get(expect=hit())], upstream=1),
    R("heuristic-status", "9111 §4.2.2", "no heuristic freshness for a status not cacheable by default (302)",
      Answer(302, {"Location": "/elsewhere", "Last-Modified": LONG_AGO}, b"moved"),
      [get(expect=dict(status=302)), get(expect=dict(status=302, cache="MISS"))], upstream=2),
    R("no-freshness", "9111 §4.2.2", "neither explicit freshness nor Last-Modified: not reused",
      ok("no-freshness", {}), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("negative-404", "9111 §4.2.2", "404 is heuristically cacheable (the negative TTL)",
      Answer(404, {}, b"gone"), [get(expect=dict(status=404)), get(expect=dict(status=404, cache="HIT"))],
      upstream=1),
    R("status-500", "9111 §3", "500 without freshness is not stored",
      Answer(500, {}, b"boom"), [get(expect=dict(status=500)), get(expect=dict(status=500))], upstream=2),
    R("status-301", "9111 §3", "301 with max-age is stored",
      Answer(301, cc("max-age=60", Location="/x"), b"moved"),
      [get(expect=dict(status=301)), get(expect=dict(status=301, cache="HIT"))], upstream=1),
    # ---------------------------------------------------------------- Age
    R("age-passed-on", "9111 §5.1", "Age from upstream is passed on (MISS) and grows (HIT)",
      ok("age-passed-on", cc("max-age=3600", Age="30")),
      [get(expect=dict(headers={"Age": at_least(30)})), get(expect=hit(headers={"Age": at_least(30)}))],
      upstream=1),
    R("age-over-max-age", "9111 §4.2.3", "Age beyond max-age: stale on arrival",
      ok("age-over-max-age", cc("max-age=10", Age="20")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("age-response-delay", "9111 §4.2.3", "corrected_age_value adds the response delay to Age",
      ok("age-response-delay", cc("max-age=3600", Age="5"), delay=1.3),
      [get(expect=dict(headers={"Age": at_least(6)})), get(expect=hit(headers={"Age": at_least(6)}))],
      upstream=1),
    R("age-list", "9111 §5.1", "an Age sent as a list counts its first member (7200): stale on arrival",
      ok("age-list", cc("max-age=3600", Age="7200, 0")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    # ---------------------------------------------------------------- expiry and validation
    R("expiry", "9111 §4.2", "a response past max-age is not reused without the origin",
      [ok("expiry", cc("max-age=1")), ok("expiry", cc("max-age=60"), 2)],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, body=body("expiry", 2)))], upstream=2),
    R("revalidate-etag", "9111 §4.3.1", "a stale response with ETag is validated with If-None-Match; 304 refreshes it",
      [ok("revalidate-etag", cc("max-age=1", ETag='"re1"')), Answer(304, cc("max-age=60", ETag='"re1"'))],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, cache="REVALIDATED", body=body("revalidate-etag"))),
       get(after=EXPIRE_S, expect=hit(body=body("revalidate-etag")))],
      upstream=2, up=[(1, {"If-None-Match": '"re1"'})]),
    R("revalidate-lm", "9111 §4.3.1", "a stale response with only Last-Modified is validated with If-Modified-Since",
      [ok("revalidate-lm", cc("max-age=1", **{"Last-Modified": LONG_AGO})),
       Answer(304, cc("max-age=60", **{"Last-Modified": LONG_AGO}))],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, cache="REVALIDATED"))],
      upstream=2, up=[(1, {"If-Modified-Since": LONG_AGO})]),
    R("304-content-length", "9110 §6.4.1", "a 304 carrying Content-Length has no body: the validation completes at once",
      [ok("304-content-length", cc("max-age=1", ETag='"cl"')),
       Answer(304, cc("max-age=60", ETag='"cl"', **{"Content-Length": "10"}))],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, cache="REVALIDATED", body=body("304-content-length"),
                                             headers={"Age": lambda v: v is not None and int(v) < 5})),
       get(after=EXPIRE_S, expect=hit(body=body("304-content-length")))], upstream=2),
    R("304-updates", "9111 §4.3.4", "a 304 updates the stored headers it carries",
      [ok("304-updates", cc("max-age=1", ETag='"up1"', **{"X-Version": "1"})),
       Answer(304, cc("max-age=60", ETag='"up1"', **{"X-Version": "2"}))],
      [get(), get(after=EXPIRE_S, expect=dict(headers={"X-Version": "2"})),
       get(after=EXPIRE_S, expect=hit(headers={"X-Version": "2"}))], upstream=2),
    R("revalidate-200", "9111 §4.3.3", "a 200 to a validation replaces the stored response",
      [ok("revalidate-200", cc("max-age=1", ETag='"a"')), ok("revalidate-200", cc("max-age=60", ETag='"b"'), 2)],
      [get(), get(after=EXPIRE_S, expect=dict(body=body("revalidate-200", 2))),
       get(after=EXPIRE_S, expect=hit(body=body("revalidate-200", 2)))], upstream=2),
    R("must-revalidate", "9111 §5.2.2.2", "must-revalidate: never served stale, even when the origin fails",
      [ok("must-revalidate", cc("max-age=1, must-revalidate, stale-if-error=60")), Answer(500, {}, b"down")],
      [get(), get(after=EXPIRE_S, expect=dict(status=lambda s: s >= 500))], upstream=2),
    R("proxy-revalidate", "9111 §5.2.2.8", "proxy-revalidate: a shared cache never serves it stale, even when the origin fails",
      [ok("proxy-revalidate", cc("max-age=1, proxy-revalidate, stale-if-error=60")), Answer(500, {}, b"down")],
      [get(), get(after=EXPIRE_S, expect=dict(status=lambda s: s >= 500))], upstream=2),
    R("s-maxage-no-stale", "9111 §5.2.2.10", "s-maxage implies proxy-revalidate: not served stale when the origin fails",
      [ok("s-maxage-no-stale", cc("s-maxage=1")), Answer(500, {}, b"down")],
      [get(), get(after=EXPIRE_S, expect=dict(status=lambda s: s >= 500))], upstream=2),
    R("no-cache-fields", "9111 §5.2.2.4", "no-cache=\"field\": reused without the listed field",
      ok("no-cache-fields", cc('max-age=60, no-cache="X-Private"', **{"X-Private": "secret", "X-Public": "1"})),
      [get(expect=dict(headers={"X-Private": "secret"})), get(expect=hit(headers={"X-Private": None, "X-Public": "1"}))],
      upstream=1),
    R("stale-if-error-5xx", "5861 §4", "stale-if-error: a stale copy answers an origin 5xx",
      [ok("stale-if-error-5xx", cc("max-age=1, stale-if-error=60")), Answer(500, {}, b"down")],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, body=body("stale-if-error-5xx")))], upstream=2),
    R("stale-if-error-close", "5861 §4", "stale-if-error: a stale copy answers an upstream that closes unanswered",
      [ok("stale-if-error-close", cc("max-age=1, stale-if-error=60")), Answer(close=True)],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, body=body("stale-if-error-close")))],
      up=[(1, {})]),  # the upstream client may retry a dropped reused connection once
    R("stale-while-revalidate", "5861 §3", "stale-while-revalidate: served stale at once, refreshed behind",
      [ok("stale-while-revalidate", cc("max-age=1, stale-while-revalidate=60")),
       ok("stale-while-revalidate", cc("max-age=60"), 2)],
      [get(), get(after=EXPIRE_S, expect=dict(status=200, cache="STALE", body=body("stale-while-revalidate")))],
      upstream=2),
    # ---------------------------------------------------------------- parse edge cases
    R("cc-two-lines", "9110 §5.3", "Cache-Control split over two field lines is one list",
      ok("cc-two-lines", [("Cache-Control", "public"), ("Cache-Control", "max-age=60")]),
      [get(), get(expect=hit())], upstream=1),
    R("cc-case", "9111 §5.2", "directive names are case-insensitive",
      ok("cc-case", cc("MAX-AGE=60")), [get(), get(expect=hit())], upstream=1),
    R("cc-quoted", "9111 §5.2", "a quoted delta-seconds value is accepted",
      ok("cc-quoted", cc('max-age="60"')), [get(), get(expect=hit())], upstream=1),
    R("cc-duplicate", "9111 §4.2.1", "a duplicated directive: the first occurrence is used",
      ok("cc-duplicate", cc("max-age=60, max-age=0")), [get(), get(expect=hit())], upstream=1),
    R("cc-negative", "9111 §1.2.2", "max-age=-1 is invalid: treated as stale",
      ok("cc-negative", cc("max-age=-1")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("cc-spaces", "9111 §5.2", "\"max-age = 60\" is malformed (no spaces around '='): invalid, treated as stale",
      ok("cc-spaces", cc("max-age = 60")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("cc-no-store-later", "9111 §5.2.2.5", "no-store anywhere in the list wins",
      ok("cc-no-store-later", cc("max-age=60, public, no-store")), [get(), get(expect=dict(cache="MISS"))],
      upstream=2),
    R("cc-unknown", "9111 §5.2.3", "unknown directives are ignored",
      ok("cc-unknown", cc('foo="bar, baz", max-age=60, x-y')), [get(), get(expect=hit())], upstream=1),
    # ---------------------------------------------------------------- client conditionals
    R("inm-strong", "9110 §13.1.2", "If-None-Match matching the stored ETag: 304 from the cache",
      ok("inm-strong", cc("max-age=60", ETag='"s1"')),
      [get(), get(headers={"If-None-Match": '"s1"'}, expect=dict(status=304, cache="HIT"))], upstream=1),
    R("inm-weak", "9110 §13.1.2", "If-None-Match uses weak comparison: W/\"w1\" matches \"w1\"",
      ok("inm-weak", cc("max-age=60", ETag='W/"w1"')),
      [get(), get(headers={"If-None-Match": '"w1"'}, expect=dict(status=304)),
       get(headers={"If-None-Match": 'W/"w1"'}, expect=dict(status=304))], upstream=1),
    R("inm-list", "9110 §13.1.2", "If-None-Match list: any member matches",
      ok("inm-list", cc("max-age=60", ETag='"l2"')),
      [get(), get(headers={"If-None-Match": '"l1", "l2"'}, expect=dict(status=304))], upstream=1),
    R("inm-comma-in-tag", "9110 §8.8.3", "a ',' inside a quoted entity-tag does not split the list",
      ok("inm-comma-in-tag", cc("max-age=60", ETag='"a,b"')),
      [get(), get(headers={"If-None-Match": '"a", "b"'}, expect=dict(status=200)),
       get(headers={"If-None-Match": '"a,b"'}, expect=dict(status=304))], upstream=1),
    R("inm-no-match", "9110 §13.1.2", "If-None-Match not matching: the full 200",
      ok("inm-no-match", cc("max-age=60", ETag='"n1"')),
      [get(), get(headers={"If-None-Match": '"other"'}, expect=hit())], upstream=1),
    R("inm-star", "9110 §13.1.2", "If-None-Match: * matches any stored representation",
      ok("inm-star", cc("max-age=60", ETag='"st"')), [get(), get(headers={"If-None-Match": "*"}, expect=dict(status=304))],
      upstream=1),
    R("inm-unquoted-stored", "9110 §8.8.3", "an unquoted (invalid) ETag from the origin never matches",
      ok("inm-unquoted-stored", cc("max-age=60", ETag="u1")),
      [get(), get(headers={"If-None-Match": '"u1"'}, expect=dict(status=200)),
       get(headers={"If-None-Match": 'u1'}, expect=dict(status=200))], upstream=1),
    R("inm-unquoted-request", "9110 §8.8.3", "an unquoted (invalid) If-None-Match member never matches",
      ok("inm-unquoted-request", cc("max-age=60", ETag='"u2"')),
      [get(), get(headers={"If-None-Match": 'u2'}, expect=dict(status=200))], upstream=1),
    R("inm-weak-lowercase", "9110 §8.8.3", "the weak indicator is case-sensitive: w/\"x\" is not a weak tag",
      ok("inm-weak-lowercase", cc("max-age=60", ETag='"wl"')),
      [get(), get(headers={"If-None-Match": 'w/"wl"'}, expect=dict(status=200))], upstream=1),
    R("ims", "9110 §13.1.3", "If-Modified-Since not before Last-Modified: 304",
      ok("ims", cc("max-age=60", **{"Last-Modified": LONG_AGO})),
      [get(), get(headers={"If-Modified-Since": http_date()}, expect=dict(status=304))], upstream=1),
    R("ims-older", "9110 §13.1.3", "If-Modified-Since before Last-Modified: 200",
      ok("ims-older", cc("max-age=60", **{"Last-Modified": LONG_AGO})),
      [get(), get(headers={"If-Modified-Since": http_date(time.time() - 20 * 86400)}, expect=dict(status=200))],
      upstream=1),
    R("inm-over-ims", "9110 §13.1.3", "If-None-Match present: If-Modified-Since is ignored",
      ok("inm-over-ims", cc("max-age=60", ETag='"p1"', **{"Last-Modified": LONG_AGO})),
      [get(), get(headers={"If-None-Match": '"zz"', "If-Modified-Since": http_date()}, expect=dict(status=200))],
      upstream=1),
    R("range", "9110 §14.2", "Range on a stored response: 206 from the cache",
      ok("range", cc("max-age=60", ETag='"r1"')),
      [get(), get(headers={"Range": "bytes=0-4"}, expect=dict(status=206, body=body("range")[:5]))], upstream=1),
    R("if-range-match", "9110 §13.1.5", "If-Range with the current ETag: the range",
      ok("if-range-match", cc("max-age=60", ETag='"ir1"')),
      [get(), get(headers={"Range": "bytes=0-4", "If-Range": '"ir1"'}, expect=dict(status=206))], upstream=1),
    R("if-range-other", "9110 §13.1.5", "If-Range with another ETag: the whole 200",
      ok("if-range-other", cc("max-age=60", ETag='"ir2"')),
      [get(), get(headers={"Range": "bytes=0-4", "If-Range": '"old"'},
                  expect=dict(status=200, body=body("if-range-other")))], upstream=1),
    R("if-range-weak", "9110 §13.1.5", "If-Range with a weak ETag never matches: the whole 200",
      ok("if-range-weak", cc("max-age=60", ETag='W/"ir3"')),
      [get(), get(headers={"Range": "bytes=0-4", "If-Range": 'W/"ir3"'},
                  expect=dict(status=200, body=body("if-range-weak")))], upstream=1),
    R("if-range-date", "9110 §13.1.5", "If-Range with the Last-Modified date (a strong one): the range",
      ok("if-range-date", cc("max-age=60", **{"Last-Modified": LONG_AGO})),
      [get(), get(headers={"Range": "bytes=0-4", "If-Range": LONG_AGO},
                  expect=dict(status=206, body=body("if-range-date")[:5]))], upstream=1),
    R("if-range-date-other", "9110 §13.1.5", "If-Range with another date: the whole 200",
      ok("if-range-date-other", cc("max-age=60", **{"Last-Modified": LONG_AGO})),
      [get(), get(headers={"Range": "bytes=0-4", "If-Range": PAST},
                  expect=dict(status=200, body=body("if-range-date-other")))], upstream=1),
    R("head-from-get", "9110 §9.3.2", "HEAD is answered from a stored GET response",
      ok("head-from-get", cc("max-age=60")),
      [get(), Step("HEAD", expect=dict(status=200, cache="HIT", body=b""))], upstream=1),
    # ---------------------------------------------------------------- Vary
    R("vary-differs", "9111 §4.1", "Vary: a request with another value of the field is not served the stored variant",
      [ok("vary-differs", cc("max-age=60", Vary="Accept-Language"), 1),
       ok("vary-differs", cc("max-age=60", Vary="Accept-Language"), 2)],
      [get(headers={"Accept-Language": "en"}, expect=dict(body=body("vary-differs", 1))),
       get(headers={"Accept-Language": "fr"}, expect=dict(cache="MISS", body=body("vary-differs", 2))),
       get(headers={"Accept-Language": "en"}, expect=hit(body=body("vary-differs", 1))),
       get(headers={"Accept-Language": "fr"}, expect=hit(body=body("vary-differs", 2)))],
      upstream=2, up=[(1, {"Accept-Language": "fr"})]),
    R("vary-same", "9111 §4.1", "Vary: the same value of the field reuses the stored variant",
      ok("vary-same", cc("max-age=60", Vary="Accept-Language")),
      [get(headers={"Accept-Language": "en"}), get(headers={"Accept-Language": "en"}, expect=hit())], upstream=1),
    R("vary-absent", "9111 §4.1", "Vary: a field absent at store time does not match one present",
      [ok("vary-absent", cc("max-age=60", Vary="Accept-Language"), 1),
       ok("vary-absent", cc("max-age=60", Vary="Accept-Language"), 2)],
      [get(), get(headers={"Accept-Language": "de"}, expect=dict(cache="MISS", body=body("vary-absent", 2)))],
      upstream=2),
    R("vary-cap", "9111 §4.1", "variants beyond cache.max_variants (2 here) pass through unstored",
      [ok("vary-cap", cc("max-age=60", Vary="Accept-Language"), n) for n in (1, 2, 3, 4)],
      [get(headers={"Accept-Language": "a"}), get(headers={"Accept-Language": "b"}),
       get(headers={"Accept-Language": "c"}, expect=dict(cache="MISS", body=body("vary-cap", 3))),
       get(headers={"Accept-Language": "c"}, expect=dict(cache="MISS", body=body("vary-cap", 4))),
       get(headers={"Accept-Language": "a"}, expect=hit(body=body("vary-cap", 1)))], upstream=4),
    R("vary-star", "9111 §4.1", "Vary: * never matches: not reused",
      ok("vary-star", cc("max-age=60", Vary="*")), [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("vary-accept-encoding", "9111 §4.1", "Vary: Accept-Encoding compares the normalised value",
      [ok("vary-accept-encoding", cc("max-age=60", Vary="Accept-Encoding"), 1),
       ok("vary-accept-encoding", cc("max-age=60", Vary="Accept-Encoding"), 2)],
      [get(headers={"Accept-Encoding": "gzip, br"}),
       get(headers={"Accept-Encoding": "br,gzip"}, expect=hit(body=body("vary-accept-encoding", 1))),
       get(headers={"Accept-Encoding": "identity"}, expect=dict(cache="MISS", body=body("vary-accept-encoding", 2)))],
      upstream=2),
    # ---------------------------------------------------------------- methods and invalidation
    R("post-pass", "9110 §9.3.3", "POST is passed through with its body and not stored",
      Answer(201, cc("max-age=60"), b"created"),
      [Step("POST", body=b"payload-1", expect=dict(status=201, body=b"created")),
       Step("POST", body=b"payload-2", expect=dict(status=201))],
      upstream=2, up_method="POST", up_body=b"payload-2"),
    R("put-invalidates", "9111 §4.4", "a successful PUT invalidates the stored response for its target",
      [ok("put-invalidates", cc("max-age=60"), 1), Answer(204, {}, b""), ok("put-invalidates", cc("max-age=60"), 2)],
      [get(), Step("PUT", body=b"new", expect=dict(status=204)),
       get(expect=dict(cache="MISS", body=body("put-invalidates", 2)))], upstream=3),
    R("delete-pass", "9110 §9.3.5", "DELETE is passed through",
      Answer(204, {}, b""), [Step("DELETE", expect=dict(status=204))], upstream=1, up_method="DELETE"),
    R("options-pass", "9110 §9.3.7", "OPTIONS (no CORS preflight) is passed through",
      Answer(200, {"Allow": "GET, POST"}, b""), [Step("OPTIONS", expect=dict(status=200, headers={"Allow": "GET, POST"}))],
      upstream=1, up_method="OPTIONS"),
    R("post-error-keeps", "9111 §4.4", "an unsafe request that fails (5xx) does not invalidate",
      [ok("post-error-keeps", cc("max-age=60")), Answer(500, {}, b"no")],
      [get(), Step("POST", body=b"x", expect=dict(status=500)), get(expect=hit())], upstream=2),
    R("post-location", "9111 §4.4", "a successful POST invalidates a same-host Location target",
      [Answer(201, {"Location": "http://127.0.0.1/rfc/post-location-target"}, b"made")],
      [get(path="/rfc/post-location-target", expect=dict(status=200)),
       get(path="/rfc/post-location-target", expect=hit()),
       Step("POST", body=b"x", expect=dict(status=201)),
       get(path="/rfc/post-location-target", expect=dict(cache="MISS", body=body("post-location-target", 2)))],
      upstream=1, scripts={"/rfc/post-location-target": [ok("post-location-target", cc("max-age=60"), 1),
                                                          ok("post-location-target", cc("max-age=60"), 2)]}),
    R("read-only-path", "9110 §15.5.6", "a path proxy.methods keeps read-only answers other methods 405 with Allow",
      ok("read-only-path", cc("max-age=60")),
      [Step("POST", body=b"x", expect=dict(status=405, headers={"Allow": "GET, HEAD"}))], upstream=0),
    R("post-only-path", "9110 §15.5.6", "a path allowing POST only passes POST",
      Answer(200, {}, b"posted"),
      [Step("DELETE", expect=dict(status=405, headers={"Allow": "GET, HEAD, POST"})),
       Step("POST", body=b"x", expect=dict(status=200, body=b"posted"))], upstream=1, up_method="POST"),
    R("post-too-large", "issue 17", "a passed request body over limits.max_body_bytes is refused: 413",
      Answer(200, {}, b"never"), [Step("POST", body=b"x" * 70000, expect=dict(status=413))], upstream=0),
    R("post-chunked-too-large", "9110 §15.5.14", "a chunked body found over limits.max_body_bytes while streamed: "
      "413, and the upstream request is cut (no complete request reaches the origin)",
      Answer(200, {}, b"never"),
      [Step("POST", body=b"x" * 65537, chunked="open",
            expect=dict(status=413, headers={"X-Error-Reason": "body-too-large"}))], upstream=0),
    R("post-chunked", "9110 §6.4", "a chunked request body reaches the origin whole, re-chunked (its length is "
      "unknown when the head goes upstream)",
      Answer(201, {}, b"made"),
      [Step("PATCH", body=b"0123456789" * 5000, chunked=True, expect=dict(status=201, body=b"made"))],
      upstream=1, up_method="PATCH", up_body=b"0123456789" * 5000,
      up=[(0, {"Transfer-Encoding": contains("chunked"), "Content-Length": None})]),
    R("post-length", "9110 §8.6", "a Content-Length request body goes upstream with that length",
      Answer(200, {}, b"ok"), [Step("PUT", body=b"y" * 40000, expect=dict(status=200))],
      upstream=1, up_body=b"y" * 40000, up=[(0, {"Content-Length": "40000", "Transfer-Encoding": None})]),
    R("post-not-resent", "9110 §9.2.2", "a POST whose connection drops without an answer is not sent again: 502",
      [Answer(200, {}, b"first"), Answer(close=True)],
      [Step("POST", body=b"a", expect=dict(status=200)), Step("POST", body=b"b", expect=dict(status=502))],
      upstream=2, up_method="POST"),
    # ---------------------------------------------------------------- request directives (default: ignored)
    R("only-if-cached-miss", "9111 §5.2.1.7", "only-if-cached on a miss: 504, nothing sent upstream",
      ok("only-if-cached-miss", cc("max-age=60")),
      [get(headers={"Cache-Control": "only-if-cached"}, expect=dict(status=504))], upstream=0),
    R("only-if-cached-stale", "9111 §5.2.1.7", "only-if-cached with only a stale response stored: 504",
      ok("only-if-cached-stale", cc("max-age=1")),
      [get(), get(after=EXPIRE_S, headers={"Cache-Control": "only-if-cached"}, expect=dict(status=504))], upstream=1),
    R("only-if-cached-hit", "9111 §5.2.1.7", "only-if-cached on a stored response: served",
      ok("only-if-cached-hit", cc("max-age=60")),
      [get(), get(headers={"Cache-Control": "only-if-cached"}, expect=hit())], upstream=1),
    R("req-no-cache-ignored", "9111 §5.2.1.4", "request no-cache is ignored by default (one object leaves the origin once)",
      ok("req-no-cache-ignored", cc("max-age=60")),
      [get(), get(headers={"Cache-Control": "no-cache"}, expect=hit()), get(headers={"Pragma": "no-cache"}, expect=hit())],
      upstream=1),
    R("req-max-age-ignored", "9111 §5.2.1.1", "request max-age=0 is ignored by default",
      ok("req-max-age-ignored", cc("max-age=60")),
      [get(), get(headers={"Cache-Control": "max-age=0"}, expect=hit())], upstream=1),
    R("req-min-fresh-ignored", "9111 §5.2.1.3", "request min-fresh beyond the freshness left is ignored by default",
      ok("req-min-fresh-ignored", cc("max-age=60")),
      [get(), get(headers={"Cache-Control": "min-fresh=3600"}, expect=hit())], upstream=1),
    R("req-no-store-ignored", "9111 §5.2.1.5", "request no-store is ignored by default: the miss is stored and served",
      ok("req-no-store-ignored", cc("max-age=60")),
      [get(headers={"Cache-Control": "no-store"}), get(expect=hit())], upstream=1),
    R("req-max-stale-ignored", "9111 §5.2.1.2", "request max-stale does not make a stale response servable",
      [ok("req-max-stale-ignored", cc("max-age=1"), 1), ok("req-max-stale-ignored", cc("max-age=60"), 2)],
      [get(), get(after=EXPIRE_S, headers={"Cache-Control": "max-stale=3600"},
                  expect=dict(body=body("req-max-stale-ignored", 2)))], upstream=2),
    # ---------------------------------------------------------------- targeted fields (RFC 9213)
    R("cdn-cc-stores", "9213 §2.1", "CDN-Cache-Control max-age overrides Cache-Control no-store for the CDN",
      ok("cdn-cc-stores", cc("no-store", **{"CDN-Cache-Control": "max-age=60"})),
      [get(), get(expect=hit(headers={"Cache-Control": "no-store"}))], upstream=1),
    R("cdn-cc-no-store", "9213 §2.1", "CDN-Cache-Control no-store overrides Cache-Control max-age",
      ok("cdn-cc-no-store", cc("max-age=60", **{"CDN-Cache-Control": "no-store"})),
      [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("cdn-cc-ignores-expires", "9213 §2.1", "a valid targeted field makes Expires irrelevant",
      ok("cdn-cc-ignores-expires", {"CDN-Cache-Control": "max-age=60", "Expires": "0"}),
      [get(), get(expect=hit())], upstream=1),
    R("cdn-cc-invalid", "9213 §2.2", "an unparseable targeted field is ignored: Cache-Control decides",
      ok("cdn-cc-invalid", cc("no-store", **{"CDN-Cache-Control": "max-age = 60"})),
      [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("cdn-cc-over-cc-max-age", "9213 §2.1", "CDN-Cache-Control max-age replaces Cache-Control max-age here",
      [ok("cdn-cc-over-cc-max-age", {"Cache-Control": "max-age=3600", "CDN-Cache-Control": "max-age=1"}, 1),
       ok("cdn-cc-over-cc-max-age", cc("max-age=60"), 2)],
      [get(), get(after=EXPIRE_S, expect=dict(body=body("cdn-cc-over-cc-max-age", 2)))], upstream=2),
    R("cdn-cc-sf-string", "9213 §2.2", "a directive value of the wrong type is ignored, not the field",
      ok("cdn-cc-sf-string", {"Cache-Control": "max-age=60", "CDN-Cache-Control": 'max-age="60", no-store'}),
      [get(), get(expect=dict(cache="MISS"))], upstream=2),
    R("edge-cc-precedence", "9213 §2.1", "the configured targeted field (Edge-Cache-Control) comes before CDN-Cache-Control",
      ok("edge-cc-precedence", cc("max-age=60", **{"CDN-Cache-Control": "max-age=60", "Edge-Cache-Control": "no-store"})),
      [get(), get(expect=dict(cache="MISS"))], upstream=2),
    # ---------------------------------------------------------------- Authorization (§3.5)
    R("auth-not-shared", "9111 §3.5", "a response to an Authorization request is not reused without public/s-maxage/must-revalidate",
      ok("auth-not-shared", cc("max-age=60")),
      [get(headers={"Authorization": "Basic dTpw"}), get(expect=dict(cache="MISS"))],
      upstream=2, up=[(0, {"Authorization": "Basic dTpw"})]),
    R("auth-public", "9111 §3.5", "public makes a response to an Authorization request shareable",
      ok("auth-public", cc("public, max-age=60")),
      [get(headers={"Authorization": "Basic dTpw"}), get(expect=hit())],
      upstream=1, up=[(0, {"Authorization": "Basic dTpw"})]),
    R("auth-s-maxage", "9111 §3.5", "s-maxage makes a response to an Authorization request shareable",
      ok("auth-s-maxage", cc("s-maxage=60")),
      [get(headers={"Authorization": "Basic dTpw"}), get(expect=hit())],
      upstream=1, up=[(0, {"Authorization": "Basic dTpw"})]),
    # ---------------------------------------------------------------- request header forwarding
    R("fwd-end-to-end", "9110 §7.6.1", "end-to-end request fields reach the origin",
      ok("fwd-end-to-end", cc("max-age=60")),
      [get(headers={"Accept-Language": "sv", "User-Agent": "conformance/1", "X-Custom": "yes",
                    "Accept-Encoding": "gzip"})],
      upstream=1, up=[(0, {"Accept-Language": "sv", "User-Agent": "conformance/1", "X-Custom": "yes",
                           "Accept-Encoding": "gzip"})]),
    R("fwd-hop-by-hop", "9110 §7.6.1", "hop-by-hop fields (and those Connection names) do not reach the origin",
      ok("fwd-hop-by-hop", cc("max-age=60")),
      [get(headers={"Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=5", "TE": "trailers",
                    "Proxy-Authorization": "Basic eDp5"})],
      upstream=1, up=[(0, {"X-Hop": None, "Keep-Alive": None, "TE": None, "Proxy-Authorization": None})]),
    R("fwd-forwarded", "7239 §4", "Forwarded (for, proto) and X-Forwarded-Proto are added",
      ok("fwd-forwarded", cc("max-age=60")), [get()],
      upstream=1, up=[(0, {"Forwarded": contains("for=127.0.0.1"), "X-Forwarded-Proto": "http"})]),
    R("fwd-strip-list", "issue 17", "fields on proxy.strip_request_headers do not reach the origin",
      ok("fwd-strip-list", cc("max-age=60")), [get(headers={"X-Internal-Secret": "1", "X-Kept": "2"})],
      upstream=1, up=[(0, {"X-Internal-Secret": None, "X-Kept": "2"})]),
    R("fwd-via", "9110 §7.6.3", "Via names each tier",
      ok("fwd-via", cc("max-age=60")), [get(expect=dict(headers={"Via": contains("1.1")}))],
      upstream=1, up=[(0, {"Via": contains("1.1")})]),
    R("fwd-token-removed", "issue 17", "the viewer token (query and cookie) is removed before the origin",
      ok("fwd-token-removed", cc("max-age=60")),
      [get(path="/rfc/fwd-token-removed?a=1&token=secret", headers={"Cookie": "cdn_token=secret; lang=sv"})],
      upstream=1, up=[(0, {"Cookie": "lang=sv"})]),
    # ---------------------------------------------------------------- responses and interim responses
    R("resp-hop-by-hop", "9110 §7.6.1", "hop-by-hop response fields do not reach the client",
      ok("resp-hop-by-hop", cc("max-age=60", Connection="X-Resp-Hop", **{"X-Resp-Hop": "1"})),
      [get(expect=dict(headers={"X-Resp-Hop": None})), get(expect=hit(headers={"X-Resp-Hop": None}))], upstream=1),
    R("interim-103", "9110 §15.2", "1xx interim responses (103 Early Hints) are passed on before the final one",
      ok("interim-103", cc("max-age=60"), interim=[(103, [("Link", "</style.css>; rel=preload")])]),
      [get(raw=True, expect=dict(interim=[103], status=200, body=body("interim-103"))),
       get(raw=True, expect=dict(interim=[], status=200, cache="HIT"))],  # interim responses are not stored
      upstream=1),
]


# ------------------------------------------------------------------------------------------------
# Driving a row

def row_path(row, step=None):
    p = step.path if step and step.path else f"/rfc/{row.id}"
    return p


def chunks(body, open_end=False, size=16384):
    """`body` in the chunked transfer coding (RFC 9112 §7.1); open_end: without the last chunk."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out if open_end else out + b"0\r\n\r\n"


def raw_request(port, method, path, headers, body=None, chunked=False):
    """[interim responses..., final response] read off a raw socket."""
    with RawConn(port, timeout=20) as c:
        h = {"Host": "127.0.0.1", **headers}
        if chunked:
            h["Transfer-Encoding"] = "chunked"
            body = chunks(body, open_end=chunked == "open")
        elif body is not None:
            h["Content-Length"] = str(len(body))
        c.send((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode()
               + (body or b""))
        out = []
        while True:
            r = c.read_response(method)
            out.append(r)
            if not 100 <= r.status < 200:
                return out


def run_step(edge, row, step):
    path = row_path(row, step)
    if step.raw or step.chunked:
        return raw_request(edge.port(), step.method, path, step.headers, step.body, step.chunked)
    h = dict(step.headers)
    if step.body is not None:
        h["Content-Length"] = str(len(step.body))
    return http_request(edge.port(), path, method=step.method, headers=h, body=step.body)


def check_response(row, i, step, got):
    e = step.expect
    interim = []
    if isinstance(got, list):
        interim, got = got[:-1], got[-1]
    where = f"[{row.sec}] {row.rule}: step {i} ({step.method} {row_path(row, step)} {step.headers})"
    if "interim" in e:
        assert [r.status for r in interim] == e["interim"], f"{where}: interim responses {interim}"
    if "status" in e:
        want = e["status"]
        good = want(got.status) if callable(want) else got.status == want
        assert good, f"{where}: status {got.status}, expected {want}: {got!r} {got.body[:200]!r}"
    if "cache" in e:
        assert got.header("X-Cache") == e["cache"], f"{where}: X-Cache {got.header('X-Cache')}, expected {e['cache']}"
    if "body" in e:
        assert got.body == e["body"], f"{where}: body {got.body[:200]!r}, expected {e['body'][:200]!r}"
    check_fields(where, got, e.get("headers", {}))


def check_fields(where, message, checks):
    """checks: {name: value (equal), None (absent) or a predicate over the value}."""
    for name, want in checks.items():
        have = message.header(name)
        if want is None:
            assert have is None, f"{where}: {name}: {have!r} should not be there: {message!r}"
        elif callable(want):
            assert want(have), f"{where}: {name}: {have!r} is not as expected: {message!r}"
        else:
            assert have == want, f"{where}: {name}: {have!r}, expected {want!r}: {message!r}"


def check_upstream(origin, row):
    path = f"/rfc/{row.id}"
    if row.upstream is not None:
        want = row.upstream
        if want:
            wait_until(lambda: origin.count(path) >= want, timeout=5, what=f"{want} upstream requests for {path}")
        got = origin.requests(path)
        assert len(got) == want, f"[{row.sec}] {row.rule}: {len(got)} upstream requests, expected {want}: {got}"
    got = origin.requests(path)
    for idx, checks in row.up:
        assert idx < len(got), f"[{row.sec}] {row.rule}: no upstream request #{idx}: {got}"
        check_fields(f"[{row.sec}] {row.rule}: upstream request #{idx}", got[idx], checks)
    if row.up_method:
        assert got and all(r.method == row.up_method for r in got), f"[{row.sec}] {row.rule}: methods {got}"
    if row.up_body is not None:
        assert got and got[-1].body == row.up_body, f"[{row.sec}] {row.rule}: body {got[-1].body!r}"


# ------------------------------------------------------------------------------------------------
# One chain per module

class Chain:
    def __init__(self, origin, shield, edge):
        self.origin, self.shield, self.edge = origin, shield, edge
        self.primed = {}  # row id -> (first step result or exception, time)


def start_chain(d, rows, proxy_extra=None):
    """A scriptable origin -> shield -> edge for `rows` (both tiers configured alike); the rows that
    need time to pass have their first step run at once. Returns a Chain (stop_chain ends it)."""
    origin = RfcOrigin()
    c = Chain(origin, None, None)
    c.tiers = []
    try:
        proxy = {"strip_request_headers": ["X-Internal-Secret"],
                 "methods": [{"match": "/rfc/read-only-path", "allow": []},
                             {"match": "/rfc/post-only-path", "allow": ["POST"]}], **(proxy_extra or {})}

        def cache(name):
            return {"disk_path": str(d / name), "max_variants": 2, "targeted_field": "Edge-Cache-Control"}
        c.shield = Tier("shield", d, shield_config([origin.port], extra={
            "upstream": {"policy": "failover", "retries": 0, "servers": [{"address": f"127.0.0.1:{origin.port}"}]},
            "proxy": proxy, "cache": cache("shield-db")}))
        c.tiers.append(c.shield.start())
        c.edge = Tier("edge", d, edge_config([c.shield.port()], extra={
            "proxy": proxy, "limits": {"max_body_bytes": 65536}, "cache": cache("edge-db")}))
        c.tiers.append(c.edge.start())
        for row in rows:
            origin.script(f"/rfc/{row.id}", *row.answers)
            for path, answers in row.scripts.items():
                origin.script(path, *answers)
        for row in [r for r in rows if any(s.after for s in r.steps)]:  # clocks start together
            try:
                res = run_step(c.edge, row, row.steps[0])
            except Exception as e:  # re-raised by the row's own test
                res = e
            c.primed[row.id] = (res, time.monotonic())
    except BaseException:
        stop_chain(c)
        raise
    return c


def stop_chain(c):
    for t in reversed(c.tiers):
        t.kill()
    c.origin.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = start_chain(tmp_path_factory.mktemp("rfc9111"), ROWS)
    yield c
    stop_chain(c)


def _param(row):
    marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_rule(chain, row):
    run_row(chain, row)


def test_interim_reaches_every_request_joined_to_a_fill(chain):
    """RFC 9110 §15.2: a 103 the origin sends for a coalesced GET reaches every waiting client, not
    only the one whose request started the fill."""
    path = "/rfc/interim-joined"
    hint = [("Link", "</style.css>; rel=preload")]
    # The delay keeps the fill open while the second request joins it.
    chain.origin.script(path, Answer(200, cc("max-age=60"), b"joined", delay=1.0, interim=[(103, hint)]))
    out = [None, None]

    def fetch(i):
        out[i] = raw_request(chain.edge.port(), "GET", path, {})
    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert chain.origin.count(path) == 1, "the two requests were not coalesced"
    for got in out:
        assert got is not None
        assert [r.status for r in got] == [103, 200], got
        assert got[0].header("Link") == hint[0][1] and got[-1].body == b"joined"


def run_row(chain, row):
    t0 = None
    for i, step in enumerate(row.steps):
        if i == 0 and row.id in chain.primed:
            got, t0 = chain.primed[row.id]
            if isinstance(got, Exception):
                raise got
        else:
            if step.after:
                delay = t0 + step.after - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the time a max-age=1 response needs to become stale
            got = run_step(chain.edge, row, step)
        if t0 is None:
            t0 = time.monotonic()
        check_response(row, i, step, got)
    check_upstream(chain.origin, row)


def test_variants_are_found_on_disk_after_a_restart(chain):
    """RFC 9111 §4.1: variants and the URL's index live on the disk tier too (run last: it
    restarts the edge, whose memory tier starts empty)."""
    path = "/rfc/vary-disk"
    chain.origin.script(path, *[ok("vary-disk", cc("max-age=60", Vary="Accept-Language"), n) for n in (1, 2)])
    for lang, n in (("en", 1), ("fr", 2)):
        r = http_request(chain.edge.port(), path, headers={"Accept-Language": lang})
        assert r.status == 200 and r.body == body("vary-disk", n), r
    wait_until(lambda: chain.edge.metric("cdn_fills_inflight") == 0, what="the edge's disk writes")
    chain.edge.stop()
    chain.edge.start()
    for lang, n in (("fr", 2), ("en", 1)):
        r = http_request(chain.edge.port(), path, headers={"Accept-Language": lang})
        assert r.status == 200 and r.body == body("vary-disk", n) and r.header("X-Cache") == "HIT", r
    assert chain.origin.count(path) == 2
