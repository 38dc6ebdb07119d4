"""The Ansible roles against a real fleet on this machine: the .deb built from this tree, one
inventory host per node (ansible_connection=local, each on its own loopback address 127.0.1.x with
its own instance name, so its own config, state and log directories): origin, shield, two edges in
two sites, cdn-geo, Redis and Prometheus. Then DNS from cdn-geo, a segment over HTTPS with a viewer
token, every Prometheus target up, a second run that changes nothing, and upgrade-edges.yml to a
higher version while a client keeps fetching segments through cdn-geo's answers.

Needs root (it installs the package and runs the services as their users) and skips under a
sanitizer (it deploys the release package, not the sanitizer programs). Everything it starts is
stopped and the package removed at the end, also when a step fails."""
import glob
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from access_support import Keys
from conftest import REPO, build_dir, make_cert, under_sanitizer, wait_until
from geo_support import build_mmdb



def needs_fleet(test):
    for mark in (
        pytest.mark.skipif(bool(under_sanitizer()), reason="deploys the release .deb, not the sanitizer programs"),
        pytest.mark.skipif(os.geteuid() != 0, reason="installs a package and runs services as their users: needs root"),
        pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="ansible is not installed"),
    ):
        test = mark(test)
    return test


ANSIBLE = REPO / "ansible"
ZONE = "cdn.test"
DELIVERY = f"video.{ZONE}"
PREFIX = "ft-"  # instance names: cdn-edge@ft-fra-1 -> /etc/cdn/cdn-edge-ft-fra-1.yaml, ...
# host -> (group, address); every node listens on its own address, so the ports repeat.
HOSTS = {
    "origin-1": ("origin", "127.0.1.1"),
    "shield-1": ("shield", "127.0.1.2"),
    "fra-1": ("edge", "127.0.1.3"),
    "ams-1": ("edge", "127.0.1.4"),
    "geo-1": ("geo", "127.0.1.5"),
    "redis-1": ("redis", "127.0.1.6"),
    "mon-1": ("monitoring", "127.0.1.7"),
}
SITES = {"fra-1": ("fra", 50.11, 8.68), "ams-1": ("ams", 52.37, 4.90)}
PORTS = {  # group -> (cdn_port, cdn_admin_port)
    "origin": (18082, 19092), "shield": (18081, 19091), "edge": (18443, 19090), "geo": (18088, 19095),
    "monitoring": (19099, None),
}
DNS_PORT, REDIS_PORT, EXPORTER_PORT = 18053, 16379, 19121
PROGRAMS = {"origin": "cdn-origin", "shield": "cdn-shield", "edge": "cdn-edge", "geo": "cdn-geo"}
DRAIN_GRACE = "2s"  # > DNS TTL (1s) + one geo poll: resolvers and cdn-geo have moved on before refusing


def run(cmd, timeout=300, check=True, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} -> {r.returncode}\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}")
    return r


def deb_version(deb):
    return run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()


def package_deb():
    """The .deb of this tree: $CDN_DEB, else `cmake --build <build> --target package`."""
    if os.environ.get("CDN_DEB"):
        return Path(os.environ["CDN_DEB"])
    bd = build_dir()
    run(["cmake", "--build", bd, "--target", "package"], timeout=1200)
    debs = sorted(bd.glob("cdn_*.deb"), key=lambda p: p.stat().st_mtime)
    assert debs, f"no cdn_*.deb in {bd}"
    return debs[-1]


def higher_version_deb(deb, directory):
    """$CDN_DEB_NEXT, else the same programs repacked as version <v>+upgrade1 (dpkg orders it
    above <v>): the upgrade then replaces the package and restarts every edge on its files."""
    if os.environ.get("CDN_DEB_NEXT"):
        return Path(os.environ["CDN_DEB_NEXT"])
    tree = Path(directory) / "deb-next"
    run(["dpkg-deb", "-R", deb, tree])
    control = tree / "DEBIAN" / "control"
    version = deb_version(deb) + "+upgrade1"
    control.write_text(re.sub(r"(?m)^Version: .*$", f"Version: {version}", control.read_text()))
    out = Path(directory) / f"cdn_{version}_amd64.deb"
    run(["dpkg-deb", "--root-owner-group", "-b", tree, out])
    return out


def inventory(directory, deb, keys, certs, mmdb, admin_token):
    """hosts.yml (JSON is YAML) with every variable the roles read; the secrets are generated
    here, in a root-only temp directory, and never written to the repository."""
    groups = {g: {"hosts": {}} for g in ("origin", "shield", "edge", "geo", "redis", "monitoring")}
    for host, (group, address) in HOSTS.items():
        v = {"cdn_address": address}
        port, admin = PORTS.get(group, (None, None))
        if port:
            v["cdn_port"] = port
        if admin:
            v["cdn_admin_port"] = admin
        if group == "edge":
            site, lat, lon = SITES[host]
            cert, key = certs[host]
            v.update(edge_site=site, edge_latitude=lat, edge_longitude=lon,
                     edge_tls_cert=Path(cert).read_text(), edge_tls_key=Path(key).read_text())
        if group == "redis":
            v.update(redis_port=REDIS_PORT, redis_exporter_port=EXPORTER_PORT)
        groups[group]["hosts"][host] = v
    common = {
        "ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3",
        "cdn_package_deb": str(deb), "cdn_instance": PREFIX + "{{ inventory_hostname }}",
        "cdn_admin_address": "{{ cdn_address }}", "cdn_zone": ZONE, "cdn_delivery_hosts": [DELIVERY],
        "cdn_admin_token": admin_token, "cdn_viewer_jwks": Path(keys.jwks).read_text(), "cdn_viewer_audience": "cdn",
        # small and quick: one worker each, a fast health loop, a short drain
        "edge_workers": 1, "edge_cache_memory": "64MiB", "edge_capacity": {"connections": 1000, "egress": 1000000000},
        "edge_config_extra": {"timeouts": {"drain": "10s", "drain_grace": DRAIN_GRACE}},
        "edge_drain_wait_seconds": 30,
        "shield_workers": 1, "shield_cache_memory": "64MiB",
        "geo_dns_port": DNS_PORT, "geo_ttl": "1s", "geo_default_site": "ams",
        "geo_health": {"interval": "250ms", "timeout": "200ms", "down_after": 2, "up_after": 2, "load_share": 0.9},
        "geo_coverage_zones": "127.0.0.0/8 fra   # the test's own resolver address and viewers\n",
        "geo_maxmind_db": str(mmdb),
        "prometheus_scrape_interval": "1s", "prometheus_evaluation_interval": "1s",
    }
    inv = {"all": {"vars": common, "children": groups}}
    path = Path(directory) / "inventory" / "hosts.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(inv, indent=1))
    return path


def failures(out):
    """Every failed task of a playbook's output with what follows it (the tail alone can miss the
    first failure when retries fill it)."""
    lines = out.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith(("fatal:", "failed:")) or " fatal: " in line:
            picked += lines[max(0, i - 2):i + 25] + ["..."]
    return "\n".join(picked[:400])


def playbook(inv, name, *extra, timeout=240):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ANSIBLE / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")
    start = time.monotonic()
    r = subprocess.run(["ansible-playbook", "-i", str(inv), name, *extra], cwd=ANSIBLE, env=env,
                       capture_output=True, text=True, timeout=timeout)
    print(f"{name} {' '.join(extra)}: {time.monotonic() - start:.0f} s")  # shown with -s: where the time goes
    assert r.returncode == 0, f"{name} failed:\n{failures(r.stdout)}\n{r.stdout[-6000:]}\n{r.stderr[-4000:]}"
    return r.stdout


def recap(output):
    """PLAY RECAP -> {host: {ok, changed, failed, ...}}."""
    out = {}
    for line in output[output.rfind("PLAY RECAP"):].splitlines()[1:]:
        m = re.match(r"(\S+)\s+:\s+(.*)", line)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def dig(name):
    out = run(["dig", "@127.0.1.5", "-p", DNS_PORT, name, "A", "+norecurse", "+time=2", "+tries=1"], timeout=20).stdout
    return [line.split()[-1] for line in out.splitlines()
            if line and not line.startswith(";") and line.split()[3:4] == ["A"]]


def prometheus(path):
    with urllib.request.urlopen(f"http://127.0.1.7:{PORTS['monitoring'][0]}{path}", timeout=5) as r:
        return json.loads(r.read())["data"]


class Fleet:
    def __init__(self, directory, deb, deb_next, inv, tls, vod, token, first_run):
        self.dir, self.deb, self.deb_next, self.inv = directory, deb, deb_next, inv
        self.tls, self.vod, self.token, self.first_run = tls, vod, token, first_run

    def https_get(self, address, edge, path):
        """GET over HTTPS to `address` with SNI and Host <edge>.cdn.test, as a player sent there."""
        c = _EdgeConnection(address, f"{edge}.{ZONE}", self.tls)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()


class _EdgeConnection(http.client.HTTPSConnection):
    """http.client takes SNI from the host it connects to; this one connects to the address."""

    def __init__(self, address, name, context):
        super().__init__(name, PORTS["edge"][0], timeout=10, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def stop_everything():
    """Stops what the roles started (supervisor or systemd mode) and removes the package and every
    file of this test's instances."""
    systemd = Path("/run/systemd/system").is_dir()
    for host, (group, _) in HOSTS.items():
        inst = PREFIX + host
        if group in PROGRAMS:
            unit = f"{PROGRAMS[group]}@{inst}"
            cmd = ["systemctl", "stop", unit] if systemd else ["cdn-service", "stop", unit]
            if shutil.which(cmd[0]):
                subprocess.run(cmd, capture_output=True, timeout=150)
    for pid in Path("/run/cdn-fleet").glob(f"*@{PREFIX}*.pid"):
        subprocess.run(["start-stop-daemon", "--stop", "--pidfile", str(pid), "--remove-pidfile",
                        "--retry", "TERM/20/KILL/5"], capture_output=True, timeout=60)
    if systemd:
        subprocess.run(["systemctl", "stop", f"redis-server@{PREFIX}redis-1", "prometheus",
                        "prometheus-redis-exporter"], capture_output=True, timeout=60)
    subprocess.run(["dpkg", "--purge", "cdn"], capture_output=True, timeout=120)
    patterns = [f"/etc/cdn/cdn-*-{PREFIX}*", f"/var/lib/cdn/cdn-*-{PREFIX}*", f"/var/log/cdn/cdn-*-{PREFIX}*",
                f"/etc/redis/redis-{PREFIX}*", f"/var/lib/redis/{PREFIX}*", f"/var/log/redis/redis-server-{PREFIX}*",
                f"/etc/prometheus/cdn-{PREFIX}*", f"/var/lib/prometheus/cdn-{PREFIX}*",
                f"/var/log/prometheus/*-{PREFIX}*", "/var/cache/cdn-deploy/cdn_*.deb",
                "/etc/sysctl.d/60-cdn-edge.conf", "/etc/systemd/system/cdn-edge@.service.d/60-nofile.conf"]
    for pattern in patterns:
        for p in glob.glob(pattern):
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    for d in ("/run/cdn-fleet", "/etc/cdn", "/var/cache/cdn-deploy"):
        if os.path.isdir(d) and not os.listdir(d):
            os.rmdir(d)


def package_installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "cdn"], capture_output=True, text=True)
    return r.stdout.startswith("install ok")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    if glob.glob(f"/etc/cdn/cdn-*-{PREFIX}*"):
        stop_everything()  # leftovers of an interrupted run of this test
    elif package_installed():
        pytest.skip("the cdn package is installed on this machine: this test would replace and purge it")
    try:
        deb = package_deb()
        deb_next = higher_version_deb(deb, d)
        keys = Keys(d / "keys")
        certs = {e: make_cert(d / "certs", f"{e}.{ZONE}") for e in SITES}
        bundle = d / "edges-ca.pem"
        bundle.write_text("".join(Path(c).read_text() for c, _ in certs.values()))
        tls = ssl.create_default_context(cafile=str(bundle))
        inv = inventory(d, deb, keys, certs, build_mmdb(d), admin_token=os.urandom(16).hex())
        first = playbook(inv, "site.yml", "-e", "edge_batch=2")
        vod = Path(f"/var/lib/cdn/cdn-origin-{PREFIX}origin-1/vod/hls")
        make_hls(vod)
        yield Fleet(d, deb, deb_next, inv, tls, vod, keys.sign(aud="cdn", path="/vod/"), first)
    finally:
        stop_everything()


def make_hls(out):
    """6 s of ffmpeg's test pattern as HLS VOD (2 s segments), straight into the origin's root."""
    out.mkdir(parents=True, exist_ok=True)
    run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
         "-f", "lavfi", "-i", "sine", "-c:v", "libx264", "-g", "50", "-c:a", "aac", "-t", "6",
         "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
         "-hls_segment_filename", out / "seg%03d.ts", out / "index.m3u8"], timeout=120)
    for p in [out, *out.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.skipif(not shutil.which("ansible-lint"), reason="ansible-lint is not installed")
@pytest.mark.skipif(bool(under_sanitizer()), reason="no program involved: the release stage runs it")
def test_roles_pass_ansible_lint_production_profile():
    r = run(["ansible-lint", "--profile", "production", "--nocolor"], cwd=ANSIBLE, check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian's prometheus) is not installed")
def test_alert_rules_fire_on_what_they_name():
    """promtool checks the rules and runs their unit tests: each alert fires on its series (an
    edge down, 10% 5xx, the hit ratio halved, an origin's ingest stopped, Redis down) and not on
    the healthy neighbours."""
    files = ANSIBLE / "roles" / "monitoring" / "files"
    assert "SUCCESS: 5 rules found" in run(["promtool", "check", "rules", files / "cdn-alerts.yml"]).stdout
    run(["promtool", "test", "rules", files / "cdn-alerts.test.yml"])


@needs_fleet
def test_fleet_deploys_serves_and_upgrades_without_a_failed_request(fleet):
    # Edge tuning: skipped with its reason in a container, else applied.
    if "a container (" in fleet.first_run or "/proc/sys is read-only" in fleet.first_run:
        assert "edge_tuning skipped on fra-1" in fleet.first_run
    else:
        assert Path("/etc/sysctl.d/60-cdn-edge.conf").read_text().count("net.core.somaxconn") == 1

    # cdn-geo's DNS: the resolver (127.0.0.1) is in fra's coverage zone -> fra-1.
    assert dig(DELIVERY) == ["127.0.1.3"]
    assert dig(f"ams-1.{ZONE}") == ["127.0.1.4"]

    # cdn-geo also watches the inventory's origin (for the fleet page; never steered to).
    def geo_origins():
        with urllib.request.urlopen(f"http://127.0.1.5:{PORTS['geo'][1]}/state", timeout=5) as r:
            return {o["name"]: o for o in json.loads(r.read())["origins"]}
    wait_until(lambda: geo_origins().get("origin-1", {}).get("health") == "up", timeout=30,
               what="origin-1 up in cdn-geo's /state")
    assert geo_origins()["origin-1"]["admin"] == f"127.0.1.1:{PORTS['origin'][1]}"

    # Play: the playlist through fra-1 over HTTPS with the token, then its first segment with curl.
    status, body = fleet.https_get("127.0.1.3", "fra-1", f"/vod/hls/index.m3u8?token={fleet.token}")
    assert status == 200 and b"#EXTM3U" in body, (status, body[:200])
    segment = next(line for line in body.decode().splitlines() if line and not line.startswith("#"))
    assert "token=" in segment  # the edge carries the token into the playlist's URIs
    seg_out = fleet.dir / "seg.ts"
    r = run(["curl", "-sS", "--cacert", fleet.dir / "edges-ca.pem", "--resolve", f"fra-1.{ZONE}:18443:127.0.1.3",
             "-o", seg_out, "-w", "%{http_code}", f"https://fra-1.{ZONE}:18443/vod/hls/{segment}"])
    assert r.stdout == "200"
    assert seg_out.read_bytes() == (fleet.vod / "seg000.ts").read_bytes()
    status, _ = fleet.https_get("127.0.1.3", "fra-1", "/vod/hls/seg000.ts")
    assert status == 401  # no token, no segment

    # Prometheus scrapes every node of the inventory (and the Redis exporter), all up.
    def targets_up():
        try:
            active = prometheus("/api/v1/targets")["activeTargets"]
        except OSError as e:  # not listening yet
            return repr(e)
        return {t["labels"]["node"]: t["health"] for t in active}
    want = {h: "up" for h, (g, _) in HOSTS.items() if g != "monitoring"}
    wait_until(lambda: targets_up() == want, timeout=30, what="every Prometheus target up")
    run(["promtool", "check", "rules", f"/etc/prometheus/cdn-{PREFIX}mon-1-alerts.yml"])  # as deployed
    redis_ping = run(["redis-cli", "-h", "127.0.1.6", "-p", REDIS_PORT, "ping"]).stdout.strip()
    assert redis_ping == "PONG"

    # A second run finds nothing to change.
    second = recap(playbook(fleet.inv, "site.yml", "-e", "edge_batch=2"))
    assert set(second) == set(HOSTS)
    assert {h: r["changed"] for h, r in second.items()} == {h: 0 for h in HOSTS}, second

    # Rolling upgrade while a viewer keeps asking cdn-geo and fetching a segment from its answer.
    results, stop = [], threading.Event()
    names = {"127.0.1.3": "fra-1", "127.0.1.4": "ams-1"}

    def viewer():
        while not stop.is_set():
            address = None
            try:
                address = dig(DELIVERY)[0]
                status, data = fleet.https_get(address, names[address], f"/vod/hls/seg001.ts?token={fleet.token}")
                results.append((names[address], status, len(data)))
            except Exception as e:  # a refused connection or a failed lookup is a failed request
                results.append((names.get(address, address), repr(e), 0))

    t = threading.Thread(target=viewer)
    t.start()
    try:
        wait_until(lambda: len(results) >= 5, timeout=20, what="the viewer's first requests")
        out = playbook(fleet.inv, "upgrade-edges.yml", "-e", f"edge_upgrade_deb={fleet.deb_next}")
        n = len(results)
        wait_until(lambda: len(results) >= n + 5, timeout=20, what="requests after the upgrade")
    finally:
        stop.set()
        t.join(30)
    want_len = (fleet.vod / "seg001.ts").stat().st_size
    failed = [r for r in results if r[1] != 200 or r[2] != want_len]
    assert not failed, f"{len(failed)} of {len(results)} requests failed: {failed[:10]}"
    served = {name for name, _, _ in results}
    assert served == {"fra-1", "ams-1"}, served  # fra-1's viewers went to ams-1 while it drained
    assert run(["dpkg-query", "-W", "-f=${Version}", "cdn"]).stdout == deb_version(fleet.deb_next)
    upgraded = recap(out)
    assert set(upgraded) == {"fra-1", "ams-1"} and all(r["failed"] == 0 for r in upgraded.values()), upgraded

    # Each edge's drain is in its metrics as Prometheus scraped them (and each edge is back).
    for edge in SITES:
        q = urllib.request.quote(f'max_over_time(cdn_draining{{job="cdn-edge",node="{edge}"}}[10m])')
        res = prometheus(f"/api/v1/query?query={q}")["result"]
        assert res and float(res[0]["value"][1]) == 1.0, (edge, res)
    wait_until(lambda: dig(DELIVERY) == ["127.0.1.3"], timeout=20, what="fra-1 back in DNS rotation")
