"""Request cache directives honoured (proxy.request_directives: honour, RFC 9111 §5.2.1): the
conformance table's rows for that switch, on a chain of its own (test_rfc9111.py has the rows
for the default, which ignores them, and the machinery)."""
import pytest

from test_rfc9111 import Answer, _param, body, cc, get, hit, ok, R, run_row, start_chain, stop_chain

# The chain's proxy.revalidate_interval is 1 s: the rows validate once it has passed since the store.
AFTER_INTERVAL = 1.2

ROWS = [
    R("honour-no-cache", "9111 §5.2.1.4", "no-cache validates the stored response, at most once per revalidate_interval",
      [ok("honour-no-cache", cc("max-age=60", ETag='"hn"')), Answer(304, cc("max-age=60", ETag='"hn"'))],
      [get(), get(after=AFTER_INTERVAL, headers={"Cache-Control": "no-cache"}, expect=dict(status=200, cache="REVALIDATED")),
       get(headers={"Cache-Control": "no-cache"}, expect=hit(body=body("honour-no-cache")))],  # within the interval
      upstream=2, up=[(1, {"If-None-Match": '"hn"'})]),
    R("honour-pragma", "9111 §5.4", "Pragma: no-cache without Cache-Control is no-cache",
      [ok("honour-pragma", cc("max-age=60", ETag='"hp"')), Answer(304, cc("max-age=60", ETag='"hp"'))],
      [get(), get(after=AFTER_INTERVAL, headers={"Pragma": "no-cache"}, expect=dict(status=200, cache="REVALIDATED"))], upstream=2),
    R("honour-max-age", "9111 §5.2.1.1", "a response older than the request's max-age is validated",
      [ok("honour-max-age", cc("max-age=3600", ETag='"hm"', Age="30")), Answer(304, cc("max-age=3600", ETag='"hm"'))],
      [get(), get(after=AFTER_INTERVAL, headers={"Cache-Control": "max-age=10"}, expect=dict(cache="REVALIDATED"))], upstream=2),
    R("honour-max-age-young", "9111 §5.2.1.1", "a response younger than the request's max-age is served",
      ok("honour-max-age-young", cc("max-age=3600")),
      [get(), get(headers={"Cache-Control": "max-age=600"}, expect=hit())], upstream=1),
    R("honour-min-fresh", "9111 §5.2.1.3", "a response fresh for less than min-fresh is validated",
      [ok("honour-min-fresh", cc("max-age=60", ETag='"mf"')), Answer(304, cc("max-age=60", ETag='"mf"'))],
      [get(), get(after=AFTER_INTERVAL, headers={"Cache-Control": "min-fresh=120"}, expect=dict(cache="REVALIDATED"))], upstream=2),
    R("honour-no-store", "9111 §5.2.1.5", "no-store on a miss: the response is not stored",
      [ok("honour-no-store", cc("max-age=60"), 1), ok("honour-no-store", cc("max-age=60"), 2)],
      [get(headers={"Cache-Control": "no-store"}), get(expect=dict(cache="MISS", body=body("honour-no-store", 2)))],
      upstream=2),
    R("honour-only-if-cached", "9111 §5.2.1.7", "only-if-cached on a miss: 504 (as without the switch)",
      ok("honour-only-if-cached", cc("max-age=60")),
      [get(headers={"Cache-Control": "only-if-cached"}, expect=dict(status=504))], upstream=0),
]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = start_chain(tmp_path_factory.mktemp("rfc9111-honour"), ROWS,
                    {"request_directives": "honour", "revalidate_interval": "1s"})
    yield c
    stop_chain(c)


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_honoured_rule(chain, row):
    run_row(chain, row)
