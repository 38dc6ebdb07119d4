"""Helpers for test_geo.py: two sites (fra, ams), each with one real cdn-edge on its own loopback
address (127.0.0.2, 127.0.0.3) behind the session stack's shield, tokens on, and cdn-geo in front
of them with a coverage-zone file and a MaxMind database built by MaxMind's Perl writer from
tests/unit/geo/fixtures/cities.txt."""
import json
import re
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from access_support import access_section
from conftest import REPO, Tier, free_port, http_request, make_cert

ZONE = "cdn.test"
HOST = "video.cdn.test"
# (edge, site, viewer address, lat, lon)
SITES = [("fra-1", "fra", "127.0.0.2", 50.11, 8.68), ("ams-1", "ams", "127.0.0.3", 52.37, 4.90)]
# 127.0.0.1 (the tests' own curl) and 81.1/16 are fra's viewers, the rest of 81/8 is ams's (public
# space: the DNS side ignores private ECS addresses).
COVERAGE = "127.0.0.1/32 fra\n81.0.0.0/8 ams\n81.1.0.0/16 fra   # more specific wins\n"


def build_mmdb(directory):
    fixtures = REPO / "tests" / "unit" / "geo" / "fixtures"
    out = Path(directory) / "cities.mmdb"
    subprocess.run(["perl", str(fixtures / "make_mmdb.pl"), str(fixtures / "cities.txt"), str(out)],
                   check=True, capture_output=True, timeout=60)
    return out


def edge_tier(tiers, directory, name, address, shield_port, keys):
    cert, key = make_cert(Path(directory) / "certs", f"{name}.{ZONE}")
    cfg = {
        "tier": "edge",
        "workers": 1,
        "listen": [{"address": f"{address}:{free_port()}", "tls": True}, {"address": f"{address}:{free_port()}"}],
        "tls": {"certificates": [{"cert": str(cert), "key": str(key)}]},
        "upstream": {"servers": [{"address": f"127.0.0.1:{shield_port}"}]},
        # A half-sent request keeps a draining edge alive (draining, not gone) for the drain test.
        "timeouts": {"upstream_connect": "2s", "upstream_first_byte": "10s", "header_read": "20s"},
        "access": access_section(keys),
    }
    t = tiers("edge", cfg, name=name)
    t.cert = cert
    t.address = address
    return t


def origin_entries(origins):
    """geo.origins for {name: origin tier}."""
    return [{"name": name, "admin": f"http://127.0.0.1:{o.admin_port}"} for name, o in origins.items()]


class GeoEnv:
    """fra-1 and ams-1 started, then cdn-geo polling them (and `origins`, {name: started origin tier},
    which it only watches) every `interval`."""

    def __init__(self, tiers, directory, shield_port, keys, capacity_connections=1000, load_share=0.9,
                 interval="200ms", down_after=2, up_after=2, dns=False, origins=None):
        self.dir = Path(directory)
        self.down_after, self.up_after = down_after, up_after
        self.interval_s = float(interval.rstrip("ms")) / 1000
        self.edges = {}
        for name, _, address, _, _ in SITES:
            self.edges[name] = edge_tier(tiers, directory, name, address, shield_port, keys).start()
        self.coverage = self.dir / "coverage.txt"
        self.coverage.write_text(COVERAGE)
        geo = {
            "zone": {"name": ZONE, "ns": [{"name": f"ns1.{ZONE}", "address": "127.0.0.1"}]},
            "delivery_hosts": [{"name": HOST, "use_ecs": True}],
            "sites": [{"name": site, "lat": lat, "lon": lon} for _, site, _, lat, lon in SITES],
            "edges": [{"name": name, "site": site, "ipv4": [address],
                       "admin": f"http://127.0.0.1:{self.edges[name].admin_port}",
                       "https_port": self.edges[name].port(tls=True),
                       "capacity": {"connections": capacity_connections, "egress": 1_000_000_000}}
                      for name, site, address, _, _ in SITES],
            "coverage_zones": str(self.coverage),
            "maxmind": str(build_mmdb(self.dir)),
            "default_site": "ams",
            "max_accuracy_radius": 200,
            "health": {"interval": interval, "timeout": "150ms", "down_after": down_after, "up_after": up_after,
                       "load_share": load_share},
        }
        if origins:
            geo["origins"] = origin_entries(origins)
        if dns:
            self.dns_port = free_port()
            geo["dns_listen"] = [f"127.0.0.1:{self.dns_port}"]
        self.geo = tiers("geo", {"tier": "geo", "workers": 1, "listen": [{"address": f"127.0.0.1:{free_port()}"}],
                                 "geo": geo}, name="geo")
        try:
            self.geo.start()
        except AssertionError as e:
            if "built without its DNS server" in str(e):
                pytest.skip("cdn-geo was built without geo/dns")
            raise
        self.wait_all_available()

    def dig(self, name, qtype="A", subnet=None):
        """dig against cdn-geo's DNS listener: (answers, ECS scope or None)."""
        cmd = ["dig", "@127.0.0.1", "-p", str(self.dns_port), name, qtype, "+norecurse", "+time=2", "+tries=1"]
        if subnet:
            cmd.append(f"+subnet={subnet}")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout
        answers = [line.split()[-1] for line in out.splitlines()
                   if line and not line.startswith(";") and line.split()[3:4] == [qtype]]
        scope = re.search(r"CLIENT-SUBNET: \S+/(\d+)/(\d+)", out)
        return answers, (int(scope.group(2)) if scope else None)

    def steer(self, ip, path=None):
        q = "ip=" + urllib.parse.quote(ip, safe="")
        if path is not None:
            q += "&path=" + urllib.parse.quote(path, safe="")
        r = self.geo.admin_get("/steer?" + q)
        assert r.status == 200, r
        return json.loads(r.body)

    def origins_state(self):
        r = self.geo.admin_get("/state")
        assert r.status == 200, r
        return {o["name"]: o for o in json.loads(r.body)["origins"]}

    def state(self):
        r = self.geo.admin_get("/state")
        assert r.status == 200, r
        return {e["name"]: e for s in json.loads(r.body)["sites"] for e in s["edges"]}

    def wait_all_available(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(e["available"] for e in self.state().values()):
                return
            time.sleep(0.05)
        raise AssertionError(f"edges not all available: {self.state()}")

    def wait_steered(self, ip, want_edge, timeout):
        """Seconds until /steer for `ip` names `want_edge` first (polled; fails after timeout)."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            last = self.steer(ip)
            if last["edges"][:1] == [want_edge]:
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(f"{ip} not steered to {want_edge} within {timeout}s: {last}\nstate: {self.state()}")

    def redirect(self, path, source_port=None):
        """GET on the delivery host from the tests' own address (127.0.0.1): (status, Location)."""
        r = http_request(self.geo.port(), path, host=HOST)
        return r.status, r.header("Location")

    def curl_follow(self, path, out):
        """curl -L from the delivery host to the edge over HTTPS, resolving every name to its loopback
        address and trusting each edge's self-signed certificate; returns (http_code, url, body)."""
        bundle = self.dir / "edges-ca.pem"
        bundle.write_text("".join(Path(e.cert).read_text() for e in self.edges.values()))
        cmd = ["curl", "-sS", "-L", "--max-redirs", "2", "--cacert", str(bundle), "-o", str(out),
               "-w", "%{http_code} %{url_effective} %{num_redirects}",
               "--resolve", f"{HOST}:{self.geo.port()}:127.0.0.1"]
        for name, e in self.edges.items():
            cmd += ["--resolve", f"{name}.{ZONE}:{e.port(tls=True)}:{e.address}"]
        cmd.append(f"http://{HOST}:{self.geo.port()}{path}")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        code, url, redirects = r.stdout.split()
        return int(code), url, int(redirects)
