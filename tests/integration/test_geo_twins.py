"""Two cdn-geo instances run from one rendered config (only their ports differ) in front of the same
real edges, each polling the edges itself with nothing shared: they must give the same DNS answers
(addresses and ECS scope), the same /steer decisions and the same 302 Location, before and after an
edge dies, so a zone's NS records can list both (issue 10). Two edges per site, so rendezvous hashing
inside a site decides too, not only the site."""
import copy
import time

import pytest

from access_support import Keys
from conftest import free_port
from geo_support import HOST, ZONE, GeoEnv, edge_tier

# A second edge per site on its own loopback address: (edge, site, address).
EXTRA_EDGES = [("fra-2", "fra", "127.0.0.4"), ("ams-2", "ams", "127.0.0.5")]
# ECS subnets for dig: coverage zones (81.1/16 fra, 81/8 ams), MaxMind cities over IPv4 and IPv6,
# country-only and over-the-radius misses (default site), source prefix 0, and no ECS at all.
SUBNETS = ["81.1.7.0/24", "81.2.7.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8:1::/56",
           "2001:db8:2::/56", "192.0.2.0/24", "203.0.113.128/25", "0.0.0.0/0", None]
VIEWERS = ["81.1.2.3", "81.2.0.1", "198.51.100.7", "203.0.113.9", "2001:db8:1::5", "2001:db8:2::5",
           "192.0.2.1", "203.0.113.200"]
PATHS = [f"/vod/seg{i}.ts?token=t{i}" for i in range(8)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("geo-twin-keys"))


def instance(env, tier, dns_port):
    """A GeoEnv view whose helpers (dig, steer, redirect, state) talk to `tier`."""
    view = copy.copy(env)
    view.geo, view.dns_port = tier, dns_port
    return view


@pytest.fixture
def twins(tiers, tmp_path, stack, keys):
    env = GeoEnv(tiers, tmp_path, stack.shield.port(), keys, dns=True)
    rendered = copy.deepcopy(env.geo.config["geo"])
    template = rendered["edges"][0]
    for name, site, address in EXTRA_EDGES:
        e = edge_tier(tiers, tmp_path, name, address, stack.shield.port(), keys).start()
        env.edges[name] = e
        rendered["edges"].append({**copy.deepcopy(template), "name": name, "site": site, "ipv4": [address],
                                  "admin": f"http://127.0.0.1:{e.admin_port}", "https_port": e.port(tls=True)})
    env.geo.kill()  # the fixture's own instance knows only two edges; the twins replace it
    views = []
    for name in ("geo-a", "geo-b"):
        dns_port = free_port()
        geo = {**copy.deepcopy(rendered), "dns_listen": [f"127.0.0.1:{dns_port}"]}
        tier = tiers("geo", {"tier": "geo", "workers": 1, "listen": [{"address": f"127.0.0.1:{free_port()}"}],
                             "geo": geo}, name=name).start()
        views.append(instance(env, tier, dns_port))
    a, b = views
    # Same rendered config: only the listeners differ.
    strip = lambda g: {k: v for k, v in g.items() if k != "dns_listen"}  # noqa: E731
    assert strip(a.geo.config["geo"]) == strip(b.geo.config["geo"]) == strip(rendered)
    assert a.geo.admin_port != b.geo.admin_port and a.dns_port != b.dns_port and a.geo.port() != b.geo.port()
    for v in views:
        v.wait_all_available()
        assert set(v.state()) == {"fra-1", "ams-1", "fra-2", "ams-2"}
    return env, a, b


def answers(view):
    """Everything a viewer or resolver can learn from one instance, keyed by the question."""
    out = {}
    for subnet in SUBNETS:
        out[("dig", subnet)] = view.dig(HOST, subnet=subnet)
    for ip in VIEWERS:
        out[("steer", ip, None)] = view.steer(ip)
        for path in PATHS:
            out[("steer", ip, path)] = view.steer(ip, path)
    for path in PATHS:
        out[("302", path)] = view.redirect(path)
    return out


def names_edge(answer, edge, env):
    """Whether one answer (dig, /steer decision or 302) points at `edge`."""
    address = env.edges[edge].address
    if isinstance(answer, dict):  # /steer
        return edge in answer["edges"] or f"//{edge}.{ZONE}:" in answer.get("redirect", "")
    first, second = answer
    if isinstance(first, list):  # dig: (addresses, scope)
        return address in first
    return second is not None and f"//{edge}.{ZONE}:" in second  # 302: (status, Location)


def served_by(snapshot, env):
    return {e for e in env.edges if any(names_edge(ans, e, env) for ans in snapshot.values())}


def wait_down(views, edge, timeout):
    """Seconds until each instance's /state shows `edge` down (both polled in one loop)."""
    start = time.monotonic()
    took = {}
    while time.monotonic() - start < timeout and len(took) < len(views):
        for i, v in enumerate(views):
            if i not in took and v.state()[edge]["health"] == "down":
                took[i] = time.monotonic() - start
        time.sleep(0.02)
    assert len(took) == len(views), f"{edge} not down on every instance within {timeout}s: {took}"
    return [took[i] for i in range(len(views))]


def test_twin_instances_answer_identically_and_converge_after_an_edge_dies(twins):
    env, a, b = twins
    before_a, before_b = answers(a), answers(b)
    assert before_a == before_b
    # The questions exercise both sites and the hashing inside each: every edge gets some answer.
    assert served_by(before_a, env) == set(env.edges)
    assert all(ans[0] == 302 for k, ans in before_a.items() if k[0] == "302")
    assert {ans[1] for k, ans in before_a.items() if k[0] == "dig"} >= {16, 8, 24, 0, None}

    dead = "fra-1"
    assert any(names_edge(ans, dead, env) for ans in before_a.values())
    env.edges[dead].kill()
    # connect refused fails each poll at once: K polls plus one interval of phase, plus scheduling slack
    for took in wait_down([a, b], dead, timeout=10):
        assert took < (env.down_after + 1) * env.interval_s + 1.5, took

    after_a, after_b = answers(a), answers(b)
    assert after_a == after_b
    assert not [k for k, ans in after_a.items() if names_edge(ans, dead, env)]
    assert served_by(after_a, env) == set(env.edges) - {dead}
    # Rendezvous hashing: only the dead edge's viewers moved.
    for k, ans in before_a.items():
        if not names_edge(ans, dead, env):
            assert after_a[k] == ans, k
