"""Fleet-wide purges through Redis (issue 16): one origin, two shields, four edges and a real
redis-server on loopback. A purge accepted by any node reaches every node; by URL, prefix or
surrogate key; hard or soft; a node cut off from Redis revalidates instead of serving what it could
not hear about and replays the purges it missed; a shield applies the purge a refill names before it
answers it."""
import json
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from access_support import RedisServer, admin_get_with_token, cdnctl
from conftest import (ADMIN_TOKEN, Tier, _new_sanitizer_reports, edge_config, free_port, origin_config, shield_config,
                      under_sanitizer, wait_until)

NODE_TIMEOUT_S = 1.0


class TcpCut:
    """A loopback TCP relay to Redis that the test can cut (every connection closed, new ones
    refused) and restore: one node's view of a network partition."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = free_port()
        self.open = True
        self.conns = []
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.open = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def restore(self):
        self.open = True


def redis_cli(redis, *args):
    r = subprocess.run(["redis-cli", "-p", str(redis.port), *map(str, args)], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def fleet_purge_section(redis_port):
    return {"redis": {"address": f"127.0.0.1:{redis_port}", "wait": "3s", "heartbeat": "100ms",
                      "node_timeout": f"{int(NODE_TIMEOUT_S * 1000)}ms", "barrier_timeout": "3s"}}


class Fleet:
    def __init__(self, tiers, root, tmp_path):
        self.redis = RedisServer(tmp_path / "redis").start()
        self.root = root
        self.origin = tiers("origin", origin_config(root)).start()
        self.cuts = {}
        cache = {"stale_if_error": "60s"}

        def purge(name):
            port = self.redis.port
            if name == "edge4":  # the node a test cuts off from Redis
                self.cuts[name] = TcpCut(self.redis.port)
                port = self.cuts[name].port
            return fleet_purge_section(port)

        self.shields = [tiers("shield", shield_config([self.origin.port()], extra={
            "node_name": f"shield{i}", "purge": purge(f"shield{i}"), "cache": dict(cache)}), name=f"shield{i}")
            for i in (1, 2)]
        for s in self.shields:
            s.start()
        self.edges = []
        for i in (1, 2, 3, 4):
            cfg = edge_config([s.port() for s in self.shields], disk_path=tmp_path / f"edge{i}-db",
                              extra={"node_name": f"edge{i}", "purge": purge(f"edge{i}")})
            cfg["cache"].update(cache)
            self.edges.append(tiers("edge", cfg, name=f"edge{i}").start())
        self.nodes = self.shields + self.edges
        wait_until(lambda: len(redis_cli(self.redis, "HKEYS", "cdn:purge:nodes").split()) == 6,
                   what="every node to say it is alive in redis")

    def replace(self, path, data):
        (self.root / path.removeprefix("/vod/")).write_bytes(data)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, content):
    made = []

    def tiers(kind, config, name=None):
        t = Tier(kind, tmp_path_factory.mktemp(name or kind), config, name=name)
        made.append(t)
        return t

    f = Fleet(tiers, content.root, tmp_path_factory.mktemp("fleet"))
    yield f
    for t in reversed(made):
        t.stop()
    f.redis.kill()
    # The tiers outlive each test's own check: what they report at exit (LSan) is checked here.
    if under_sanitizer():
        reports = [r for r in (_new_sanitizer_reports(t) for t in made) if r]
        assert not reports, "sanitizer reports in the fleet's logs:\n" + "\n".join(reports)


def admin_url(node):
    return f"http://127.0.0.1:{node.admin_port}"


def cache_everywhere(fleet, path):
    for e in fleet.edges:
        assert e.get(path).header("X-Cache") == "MISS"
        assert e.get(path).header("X-Cache") == "HIT"


def purge_answer(r):
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def test_one_cdnctl_fleet_call_clears_every_edge(fleet, content):
    path, _ = content.new_file(3000, subdir="fleet")
    cache_everywhere(fleet, path)
    new = b"fresh-bytes" * 300
    fleet.replace(path, new)
    answer = purge_answer(cdnctl("purge", "--fleet", f"http://127.0.0.1{path}", "--admin", admin_url(fleet.edges[0]),
                                 "--token", ADMIN_TOKEN))
    assert sorted(a["node"] for a in answer["applied"]) == sorted(n.name for n in fleet.nodes)
    assert answer["pending"] == []
    for e in fleet.edges:
        r = e.get(path)
        assert r.header("X-Cache") == "MISS" and r.body == new, e.name
    # Any node reports who applied it and when.
    r = admin_get_with_token(fleet.shields[1], f"/admin/purges/{answer['id']}", ADMIN_TOKEN)
    assert r.status == 200 and len(json.loads(r.body)["applied"]) == 6, r
    assert fleet.edges[0].metric("cdn_purges_total", kind="url", scope="fleet") == 1
    assert fleet.edges[2].metric("cdn_purge_apply_seconds_count") >= 1
    assert fleet.edges[0].metric("cdn_purge_forwards_total") == 0  # Redis replaces forwarding


def test_a_purge_by_key_removes_exactly_the_tagged_objects(fleet, content):
    tagged_dir, other_dir = f"tag{free_port()}", f"tag{free_port()}"
    tagged = [content.new_file(1200, subdir=tagged_dir)[0] for _ in range(2)]
    other = content.new_file(1200, subdir=other_dir)[0]
    for p in tagged + [other]:
        cache_everywhere(fleet, p)
    # Accepted by a shield this time: any node takes fleet purges.
    answer = purge_answer(cdnctl("purge", "--fleet", "--key", f"vod/{tagged_dir}", "--admin",
                                 admin_url(fleet.shields[0]), "--token", ADMIN_TOKEN))
    assert len(answer["applied"]) == 6
    for e in fleet.edges:
        for p in tagged:
            assert e.get(p).header("X-Cache") == "MISS", (e.name, p)
        assert e.get(other).header("X-Cache") == "HIT", e.name
        assert e.get(other).header("Surrogate-Key") is None


def test_a_shield_applies_the_purge_a_refill_names_before_answering(fleet, content):
    """A purge the shield never heard of (in the stream, but its message lost): a refill that names
    it waits at the shield until the shield has applied it from the stream."""
    path, old = content.new_file(2000, subdir="barrier")
    shield = fleet.shields[0]
    assert shield.get(path).header("X-Cache") == "MISS"
    assert shield.get(path).header("X-Cache") == "HIT"
    new = b"after-barrier" * 100
    fleet.replace(path, new)
    spec = "url=" + urllib.parse.quote(f"http://127.0.0.1{path}", safe="")
    n = int(redis_cli(fleet.redis, "INCR", "cdn:purge:seq"))
    redis_cli(fleet.redis, "XADD", "cdn:purge:stream", "*", "n", n, "at", int(time.time() * 1000), "node", "test",
              "spec", spec)
    replays = shield.metric("cdn_purge_replays_total")
    r = shield.get(path, headers={"X-Purge-Seq": str(n)})
    assert r.body == new and r.header("X-Cache") == "MISS", r
    assert shield.metric("cdn_purge_replays_total") == replays + 1


def test_an_edge_cut_off_from_redis_revalidates_and_replays_what_it_missed(fleet, content):
    edge4 = fleet.edges[3]
    path, old = content.new_file(2500, subdir="cut")
    cache_everywhere(fleet, path)
    new = b"while-cut" * 300
    fleet.replace(path, new)
    fleet.cuts["edge4"].cut()
    started = time.monotonic()
    answer = purge_answer(cdnctl("purge", "--fleet", f"http://127.0.0.1{path}", "--admin", admin_url(fleet.edges[0]),
                                 "--token", ADMIN_TOKEN))
    # The call waited for edge4 until it stopped counting as alive, then went on without it.
    assert "edge4" not in [a["node"] for a in answer["applied"]] and len(answer["applied"]) == 5
    assert time.monotonic() - started < NODE_TIMEOUT_S + 2
    # Out of touch, edge4 revalidates with its shield rather than serve its copy.
    wait_until(lambda: edge4.metric("cdn_purge_fleet_out_of_touch") == 1, what="edge4 to know it is out of touch")
    r = edge4.get(path)
    assert r.body == new, "edge4 served the purged version while cut off from the purge feed"
    replays = edge4.metric("cdn_purge_replays_total")
    fleet.cuts["edge4"].restore()
    wait_until(lambda: b"edge4" in admin_get_with_token(fleet.edges[0], f"/admin/purges/{answer['id']}",
                                                         ADMIN_TOKEN).body,
               what="edge4 to replay the purge it missed")
    assert edge4.metric("cdn_purge_replays_total") >= replays + 1
    assert edge4.get(path).body == new
    wait_until(lambda: edge4.metric("cdn_purge_fleet_out_of_touch") == 0, what="edge4 back in touch")
    assert edge4.metric("cdn_purge_fleet_applied") == int(answer["id"])


def test_purges_trimmed_from_the_stream_while_cut_off_make_older_objects_stale(fleet, content):
    edge4 = fleet.edges[3]
    path, old = content.new_file(2200, subdir="trim")
    cache_everywhere(fleet, path)
    new = b"after-trim" * 200
    fleet.replace(path, new)
    missed = edge4.metric("cdn_purge_missed_total")
    replays = edge4.metric("cdn_purge_replays_total")
    fleet.cuts["edge4"].cut()
    answer = purge_answer(cdnctl("purge", "--fleet", f"http://127.0.0.1{path}", "--admin", admin_url(fleet.edges[1]),
                                 "--token", ADMIN_TOKEN))
    assert len(answer["applied"]) == 5
    redis_cli(fleet.redis, "XTRIM", "cdn:purge:stream", "MAXLEN", "0")  # the stream forgot it
    fleet.cuts["edge4"].restore()
    wait_until(lambda: edge4.metric("cdn_purge_missed_total") == missed + 1,
               what="edge4 to find that the purges it missed were trimmed")
    assert edge4.metric("cdn_purge_replays_total") == replays  # nothing left to replay
    # Its copy predates the cutoff: revalidated with the shield, which has the new version.
    assert edge4.get(path).body == new


def test_a_soft_purge_revalidates_and_serves_stale_when_the_origin_is_down(fleet, content):
    path, data = content.new_file(1800, subdir="soft")
    cache_everywhere(fleet, path)
    edge = fleet.edges[1]
    r = edge.admin_post("/admin/purge?fleet=1&soft=1&url=" + urllib.parse.quote(f"http://127.0.0.1{path}"))
    assert r.status == 200, r
    r = edge.get(path)
    assert r.header("X-Cache") == "REVALIDATED" and r.body == data, r
    assert edge.get(path).header("X-Cache") == "HIT"

    r = edge.admin_post("/admin/purge?fleet=1&soft=1&url=" + urllib.parse.quote(f"http://127.0.0.1{path}"))
    assert r.status == 200, r
    fleet.origin.stop()
    try:
        r = edge.get(path)
        assert r.status == 200 and r.body == data, r
        shield_answers = [s.get(path).header("X-Cache") for s in fleet.shields]
        assert "STALE" in shield_answers, shield_answers
    finally:
        fleet.origin.start()


def test_fleet_purges_authenticate_to_redis(tiers, tmp_path):
    """A Redis with requirepass: the node with the password purges through it; one with a wrong
    password cannot, and says so rather than purging alone."""
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--requirepass", "s3cret", "--dir", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: redis_cli_auth(port, "PING") == "PONG", what="redis-server with a password")

        def edge(name, password):
            section = fleet_purge_section(port)
            section["redis"]["password"] = password
            return tiers("edge", edge_config([free_port()], extra={"node_name": name, "purge": section}),
                         name=name).start()
        good, bad = edge("auth-good", "s3cret"), edge("auth-bad", "wrong")
        wait_until(lambda: "auth-good" in redis_cli_auth(port, "HKEYS", "cdn:purge:nodes"),
                   what="the node with the password to say it is alive")
        r = good.admin_post("/admin/purge?fleet=1&key=anything")
        assert r.status == 200 and [a["node"] for a in json.loads(r.body)["applied"]] == ["auth-good"], r
        r = bad.admin_post("/admin/purge?fleet=1&key=anything")
        assert r.status == 503 and r.header("X-Error-Reason") == "purge-redis-unavailable", r
        assert "auth-bad" not in redis_cli_auth(port, "HKEYS", "cdn:purge:nodes")
    finally:
        redis.kill()
        redis.wait(10)


def redis_cli_auth(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), "--no-auth-warning", "-a", "s3cret", *map(str, args)],
                       capture_output=True, text=True, timeout=10)
    return r.stdout.strip()
