"""The Debian package (packaging/): its contents and dependencies, the systemd units (verified and
scored by systemd-analyze against the package unpacked into a directory), the example configs, and
cdn-service running the package's cdn-edge from its unit file where systemd is not PID 1: start,
reload, stop with the two-phase drain.

The .deb is $CDN_DEB when set, else built by cpack from the build directory's CPackConfig.cmake
(the programs must be built). Nothing is installed on the machine: the package is unpacked with
dpkg -x, and cdn-service runs under CDN_SERVICE_ROOT as user nobody.
"""
import http.client
import json
import os
import pwd
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import build_dir, free_port, http_request, make_cert, refuses_connections, wait_until

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CDN_SANITIZER")),
    reason="packages the release programs (stripped, installed paths); nothing here runs the sanitizer build")

PROGRAMS = ("cdn-origin", "cdn-shield", "cdn-edge", "cdn-geo")
EXAMPLES = {"cdn-origin": "origin", "cdn-shield": "shield", "cdn-edge": "edge", "cdn-geo": "geo"}
# The libraries the programs link (readelf NEEDED) come from these packages; Depends must name them.
EXPECTED_DEPENDS = ("libuv1", "libssl3", "librocksdb7.8", "libyaml-cpp0.7", "libmaxminddb0", "libknot13",
                    "libxxhash0", "libre2-9", "libhiredis0.14", "adduser", "util-linux")
SECURITY_THRESHOLD = 3.0  # systemd-analyze's "OK" band ends at 4.9; ours scored 1.6


def run(cmd, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    given = os.environ.get("CDN_DEB")
    if given:
        return Path(given)
    config = build_dir() / "CPackConfig.cmake"
    if not config.exists():
        pytest.fail(f"{config} does not exist: configure the build directory with this tree's CMakeLists "
                    f"(packaging/ is included unless a sanitizer or fuzz build), or set CDN_DEB", pytrace=False)
    out = tmp_path_factory.mktemp("deb")
    r = run(["cpack", "-G", "DEB", "--config", str(config), "-B", str(out)], cwd=build_dir(), timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = list(out.glob("cdn_*.deb"))
    assert len(debs) == 1, list(out.iterdir())
    return debs[0]


@pytest.fixture(scope="module")
def root():
    """The package unpacked into a directory standing for / (readable by user nobody), with the
    host's systemd targets and kill, so systemd-analyze --root can resolve what the units name."""
    d = Path(tempfile.mkdtemp(prefix="cdn-pkg-root-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def unpacked(deb, root):
    r = run(["dpkg-deb", "-x", str(deb), str(root)])
    assert r.returncode == 0, r.stderr
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    for pattern in ("*.target", "*.slice"):
        for f in Path("/lib/systemd/system").glob(pattern):
            if f.is_file():
                shutil.copy(f, units / f.name)
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy("/bin/kill", root / "bin/kill")
    return root


def control_field(deb, field):
    r = run(["dpkg-deb", "-f", str(deb), field])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_deb_holds_programs_units_examples_and_cdn_service(deb):
    assert re.fullmatch(r"cdn_\d+\.\d+\.\d+_[a-z0-9]+\.deb", deb.name), deb.name
    r = run(["dpkg-deb", "-c", str(deb)])
    assert r.returncode == 0, r.stderr
    listed = {line.split()[-1].lstrip(".") for line in r.stdout.splitlines()}
    expected = {"/usr/bin/cdnctl", "/usr/sbin/cdn-service"}
    for p in PROGRAMS:
        expected |= {f"/usr/bin/{p}", f"/lib/systemd/system/{p}@.service",
                     f"/usr/share/cdn/examples/{EXAMPLES[p]}.yaml"}
    assert expected <= listed, sorted(expected - listed)
    r = run(["dpkg-deb", "-I", str(deb)])
    for script in ("postinst", "prerm", "postrm"):
        assert re.search(rf"\b{script}\b", r.stdout), r.stdout
    assert control_field(deb, "Package") == "cdn"
    assert deb.name == f"cdn_{control_field(deb, 'Version')}_{control_field(deb, 'Architecture')}.deb"


def test_deb_depends_on_every_library_the_programs_link(deb, unpacked):
    depends = {d.strip().split()[0] for d in control_field(deb, "Depends").split(",")}
    missing = [p for p in EXPECTED_DEPENDS if p not in depends]
    assert not missing, (missing, depends)
    # And nothing the binaries link is left out: each NEEDED library's Debian package is in Depends.
    needed = set()
    for binary in [*PROGRAMS, "cdnctl"]:
        r = run(["readelf", "-d", str(unpacked / "usr/bin" / binary)])
        assert r.returncode == 0, r.stderr
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout))
    known = {}
    for line in run(["ldconfig", "-p"]).stdout.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "x86-64" in m.group(2):
            known.setdefault(m.group(1), m.group(3))
    assert needed <= set(known), f"ldconfig does not know {needed - set(known)}"

    def spellings(path):  # dpkg knows a file by the path its package ships (merged /usr or not)
        real = os.path.realpath(path)
        forms = {path, real}
        for f in (path, real):
            forms.add(f[4:] if f.startswith("/usr/lib/") else "/usr" + f)
        return forms

    candidates = {lib: spellings(known[lib]) for lib in needed}
    r = run(["dpkg", "-S", *sorted(set().union(*candidates.values()))])
    owner_of = {}
    for line in r.stdout.splitlines():
        pkgs, _, path = line.partition(": ")
        owner_of[path] = pkgs.split(",")[0].split(":")[0].strip()
    owners = set()
    for lib, forms in candidates.items():
        found = [owner_of[f] for f in forms if f in owner_of]
        assert found, f"no Debian package ships {lib} ({forms})"
        owners.add(found[0])
    assert owners - depends == set(), f"linked but not in Depends: {owners - depends}"


def test_maintainer_scripts_are_valid_sh_and_create_the_cdn_user(deb, tmp_path):
    r = run(["dpkg-deb", "-e", str(deb), str(tmp_path / "control")])
    assert r.returncode == 0, r.stderr
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / "control" / script
        assert os.access(path, os.X_OK), script
        r = run(["sh", "-n", str(path)])
        assert r.returncode == 0, (script, r.stderr)
        # Every systemctl call tolerates a host without systemd as PID 1.
        for line in path.read_text().splitlines():
            if "systemctl" in line and not line.strip().startswith("#"):
                assert "|| true" in line or line.rstrip().endswith("\\"), (script, line)
    assert "adduser --system --group" in (tmp_path / "control/postinst").read_text()


def unit_settings(unit_path):
    settings = {}
    for line in Path(unit_path).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, v = line.split("=", 1)
            settings.setdefault(k, []).append(v)
    return settings


@pytest.mark.parametrize("program", PROGRAMS)
def test_unit_verifies_and_is_hardened(unpacked, program):
    unit = f"/lib/systemd/system/{program}@main.service"
    r = run(["systemd-analyze", "verify", f"--root={unpacked}", unit])
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr

    r = run(["systemd-analyze", "security", "--offline=true", f"--root={unpacked}", unit])
    m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    score = float(m.group(1))
    print(f"systemd-analyze security {program}@main.service: {score} {m.group(2)}")
    assert score <= SECURITY_THRESHOLD, r.stdout

    s = unit_settings(unpacked / f"lib/systemd/system/{program}@.service")
    config = f"/etc/cdn/{program}-%i.yaml"
    assert s["User"] == ["cdn"] and s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
    assert s["ExecStartPre"] == [f"/usr/bin/{program} --config {config} --check-config"]
    assert s["ExecStart"] == [f"/usr/bin/{program} --config {config}"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"] and s["KillSignal"] == ["SIGTERM"]
    assert s["StateDirectory"] == [f"cdn/{program}-%i"] and s["LogsDirectory"] == [f"cdn/{program}-%i"]
    assert s["AmbientCapabilities"] == s["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    nofile = int(s["LimitNOFILE"][0])
    assert nofile <= resource.getrlimit(resource.RLIMIT_NOFILE)[1], "LimitNOFILE above the host's hard limit"
    # The example config's drain (grace + open requests) ends before systemd would SIGKILL.
    example = (unpacked / f"usr/share/cdn/examples/{EXAMPLES[program]}.yaml").read_text()
    grace = re.search(r"^\s+drain_grace: (\d+)s", example, re.M)
    drain = re.search(r"^\s+drain: (\d+)s", example, re.M)
    assert grace and drain, example
    assert int(s["TimeoutStopSec"][0]) > int(grace.group(1)) + int(drain.group(1))
    max_conns = re.search(r"max_connections: (\d+)", example)
    if max_conns:
        assert int(max_conns.group(1)) < nofile


@pytest.mark.parametrize("program", PROGRAMS)
def test_example_config_passes_check_config_once_its_files_exist(unpacked, program, tmp_path):
    text = (unpacked / f"usr/share/cdn/examples/{EXAMPLES[program]}.yaml").read_text()
    for d in ("/etc/cdn", "/var/lib/cdn", "/var/log/cdn"):
        text = text.replace(d + "/", f"{tmp_path}{d}/")
    (tmp_path / "etc/cdn").mkdir(parents=True)
    if program == "cdn-edge":
        make_cert(tmp_path / "etc/cdn", "edge.example", name="edge")
        (tmp_path / "etc/cdn/edge.crt").rename(tmp_path / "etc/cdn/edge.pem")
    if program == "cdn-origin":
        (tmp_path / "var/lib/cdn/cdn-origin-main/vod").mkdir(parents=True)
    config = tmp_path / "etc/cdn" / f"{program}-main.yaml"
    config.write_text(text)
    r = run([str(unpacked / "usr/bin" / program), "--config", str(config), "--check-config"])
    assert r.returncode == 0, r.stdout + r.stderr


# ----------------------------------------------------------------------------------------------
# cdn-service: the unit's settings without systemd

def service(root, action, unit="cdn-edge@t1", timeout=60):
    env = dict(os.environ, CDN_SERVICE_ROOT=str(root), CDN_SERVICE_USER="nobody")
    return run([str(root / "usr/sbin/cdn-service"), action, unit], env=env, timeout=timeout)


def proc_status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.split()
    return fields


def healthz(admin_port):
    return json.loads(http_request(admin_port, "/healthz").body)


def write_edge_unit_config(root, instance, upstream_port=9, extra=""):
    """ROOT/etc/cdn/cdn-edge-<instance>.yaml on loopback (admin token "secret"); returns (port, admin)."""
    port, admin = free_port(), free_port()
    (root / "etc/cdn").mkdir(parents=True, exist_ok=True)
    (root / f"etc/cdn/cdn-edge-{instance}.yaml").write_text(
        f"tier: edge\nworkers: 1\nlisten: [{{address: 127.0.0.1:{port}}}]\n"
        f"admin: {{listen: 127.0.0.1:{admin}, token: secret}}\n"
        f"upstream: {{servers: [{{address: 127.0.0.1:{upstream_port}}}]}}\n" + extra)
    return port, admin


def answers(admin_port):
    try:
        return http_request(admin_port, "/healthz").status == 200
    except OSError:  # not listening yet
        return False


def get(port, path):
    r = http_request(port, path)
    return r.status, r.body


@pytest.mark.skipif(os.geteuid() != 0, reason="cdn-service switches to the unit's user: needs root")
def test_cdn_service_starts_reloads_and_stops_the_unit_with_a_drain(unpacked, slow_origin):
    root = unpacked
    state, logs = root / "var/lib/cdn/cdn-edge-t1", root / "var/log/cdn/cdn-edge-t1"
    port, admin = write_edge_unit_config(root, "t1", slow_origin.port, (
        f"cache: {{memory: 64MiB, disk_path: {state}/cache}}\n"
        f"timeouts: {{drain_grace: 1500ms, drain: 20s}}\n"
        f"access_log: {logs}/access.log\n"))
    body = b"b" * 300_000
    release = threading.Event()
    slow_origin.add("/vod/slow.ts", body, split=100_000, release=release)
    slow_origin.add("/vod/small.ts", b"s" * 500)

    r = service(root, "start")
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        st = service(root, "status")
        assert st.returncode == 0, st.stdout
        pid = int((root / "run/cdn/cdn-edge-t1.pid").read_text())
        assert f"(pid {pid})" in st.stdout
        # The unit's user, capabilities, no_new_privs and LimitNOFILE.
        nobody = pwd.getpwnam("nobody")
        status = proc_status(pid)
        assert status["Uid"] == [str(nobody.pw_uid)] * 4 and status["Gid"][0] == str(nobody.pw_gid)
        assert int(status["CapEff"][0], 16) == 1 << 10 == int(status["CapBnd"][0], 16)  # CAP_NET_BIND_SERVICE
        assert status["NoNewPrivs"] == ["1"]
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(r"^Max open files\s+20000\s+20000\s", limits, re.M), limits
        # The unit's directories, owned like systemd makes them; the check-config ran first.
        assert state.stat().st_uid == nobody.pw_uid and logs.stat().st_uid == nobody.pw_uid
        assert (state / "cache").is_dir()
        wait_until(lambda: "configuration ok" in (logs / "stderr.log").read_text(), what="check-config in stderr.log")
        wait_until(lambda: '"started"' in (logs / "stderr.log").read_text(), what="started in stderr.log")
        assert get(port, "/vod/small.ts") == (200, b"s" * 500)

        assert service(root, "reload").returncode == 0
        wait_until(lambda: '"reloading"' in (logs / "stderr.log").read_text(), what="reload logged")
        assert service(root, "status").returncode == 0

        # stop = SIGTERM: phase 1 serves new connections, phase 2 refuses them, the open download ends.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/vod/slow.ts", headers={"Host": "127.0.0.1"})
        resp = conn.getresponse()
        first = resp.read1(65536)
        stopped = {}
        stopper = threading.Thread(target=lambda: stopped.update(r=service(root, "stop")))
        t0 = time.monotonic()
        stopper.start()
        try:
            wait_until(lambda: healthz(admin)["drain_phase"] == 1, timeout=10, what="drain phase 1")
            assert get(port, "/vod/small.ts") == (200, b"s" * 500)
            wait_until(lambda: refuses_connections(port), timeout=15, what="connections refused in phase 2")
            assert time.monotonic() - t0 >= 1.5
            assert healthz(admin)["drain_phase"] == 2
            assert stopper.is_alive(), "cdn-service stop returned while a download was open"
        finally:
            release.set()
        assert first + resp.read() == body
        conn.close()
        stopper.join(60)
        assert stopped["r"].returncode == 0, stopped["r"].stdout + stopped["r"].stderr
        assert not Path(f"/proc/{pid}").exists() or proc_status(pid)["State"][0] == "Z"
        assert service(root, "status").returncode == 3
        assert not (root / "run/cdn/cdn-edge-t1.pid").exists()
    finally:
        release.set()
        service(root, "stop")


@pytest.mark.skipif(os.geteuid() != 0, reason="cdn-service switches to the unit's user: needs root")
def test_cdn_service_refuses_to_start_a_bad_config(unpacked):
    root = unpacked
    write_edge_unit_config(root, "bad", extra="colour: blue\n")
    r = service(root, "start", unit="cdn-edge@bad")
    assert r.returncode != 0
    assert "ExecStartPre failed" in r.stderr and "colour" in r.stderr, r.stderr
    assert service(root, "status", unit="cdn-edge@bad").returncode == 3
    assert not (root / "run/cdn/cdn-edge-bad.pid").exists()


# ----------------------------------------------------------------------------------------------
# apt-get install, upgrade and purge on a throwaway copy of this host (package_sandbox.sh)

def upgrade_deb(deb, directory, version):
    """The same package with a higher Version: what an upgrade's maintainer scripts see."""
    tree = directory / "tree"
    assert run(["dpkg-deb", "-R", str(deb), str(tree)]).returncode == 0
    control = tree / "DEBIAN/control"
    control.write_text(re.sub(r"^Version: .*$", f"Version: {version}", control.read_text(), flags=re.M))
    out = directory / f"cdn_{version}_{control_field(deb, 'Architecture')}.deb"
    r = run(["dpkg-deb", "-Zgzip", "-b", str(tree), str(out)])
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare for the sandbox")
def test_apt_install_upgrade_and_purge_in_a_sandbox(deb, tmp_path):
    newer = upgrade_deb(deb, tmp_path, "99.0.0")
    work = Path(tempfile.mkdtemp(prefix="cdn-pkg-sandbox-", dir="/tmp"))
    try:
        r = run(["unshare", "--mount", "--propagation", "private", "--fork",
                 str(Path(__file__).with_name("package_sandbox.sh")), str(deb), str(newer),
                 str(free_port()), str(free_port()), str(work)], timeout=300)
        if r.returncode == 77:
            pytest.skip(f"no overlay sandbox here: {r.stderr.strip()}")
        assert r.returncode == 0, r.stdout + r.stderr
        facts = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        assert facts["user_before"] == "", facts
        assert facts["install"] == "ok" and facts["version"] == control_field(deb, "Version"), facts
        assert facts["user"] == "cdn:/usr/sbin/nologin" and int(facts["user_uid"]) < 1000, facts
        assert facts["var_lib_owner"] == facts["var_log_owner"] == "cdn", facts
        assert facts["start"] == "ok" and facts["start_uid"] == facts["user_uid"], facts
        assert facts["state_owner"] == "cdn" and facts["healthz"] == "200", facts
        assert facts["upgrade"] == "ok" and facts["upgraded_version"] == "99.0.0", facts
        assert facts["pid_after_upgrade_same"] == "yes", "the upgrade restarted the instance behind the operator's back"
        assert facts["restart"] == "ok" and facts["restarted_new_pid"] == "yes", facts
        assert facts["healthz_after_restart"] == "200", facts
        assert facts["purge"] == "ok" and facts["instance_after_purge"] == "gone", facts
        assert facts["var_lib_after_purge"] == "gone" and facts["binary_after_purge"] == "gone", facts
        assert facts["config_after_purge"] == "kept" and facts["user_after_purge"] == "cdn", facts
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="cdn-service switches to the unit's user: needs root")
def test_cdn_service_applies_the_units_drop_ins(unpacked):
    root = unpacked
    write_edge_unit_config(root, "dropin")
    dropins = root / "etc/systemd/system/cdn-edge@dropin.service.d"
    dropins.mkdir(parents=True)
    (dropins / "limits.conf").write_text("[Service]\nLimitNOFILE=4096\n")
    try:
        r = service(root, "start", unit="cdn-edge@dropin")
        assert r.returncode == 0, r.stdout + r.stderr
        pid = int((root / "run/cdn/cdn-edge-dropin.pid").read_text())
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(r"^Max open files\s+4096\s+4096\s", limits, re.M), limits
    finally:
        assert service(root, "stop", unit="cdn-edge@dropin").returncode == 0
        shutil.rmtree(root / "etc/systemd", ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="cdn-service switches to the unit's user: needs root")
def test_cdn_service_restarts_a_program_that_dies_but_not_one_that_drained(unpacked):
    root = unpacked
    _, admin = write_edge_unit_config(root, "crash")
    pidfile = root / "run/cdn/cdn-edge-crash.pid"
    try:
        assert service(root, "start", unit="cdn-edge@crash").returncode == 0
        first = int(pidfile.read_text())
        # Past the start check (a program that dies within it is reported, not restarted).
        wait_until(lambda: '"started"' in (root / "var/log/cdn/cdn-edge-crash/stderr.log").read_text(),
                   what="started")
        # Not a wait for a condition: the supervisor treats a death in the first 2 s after a start as
        # a failed start (reported, not restarted), by design; this crash must come after that.
        time.sleep(2.5)
        os.kill(first, 9)
        # Restart=on-failure, RestartSec=2s: a new process, serving again.
        second = wait_until(lambda: (pidfile.exists() and pidfile.read_text().strip() not in ("", str(first))
                                     and int(pidfile.read_text())), timeout=15, what="a restarted program")
        wait_until(lambda: answers(admin), timeout=10, what="healthz after restart")
        assert service(root, "status", unit="cdn-edge@crash").returncode == 0
        log = (root / "var/log/cdn/cdn-edge-crash/stderr.log").read_text()
        assert "exited with status 137, restarting in 2s (Restart=on-failure)" in log, log
        # A drain ends the program with status 0: on-failure leaves it stopped.
        r = http_request(admin, "/admin/drain", method="POST",
                         headers={"Authorization": "Bearer secret", "Content-Length": "0"})
        assert r.status == 202
        wait_until(lambda: service(root, "status", unit="cdn-edge@crash").returncode == 3, timeout=15,
                   what="stopped after the drain")
        assert not Path(f"/proc/{second}").exists()
        assert not pidfile.exists() and not (root / "run/cdn/cdn-edge-crash.supervisor").exists()
    finally:
        service(root, "stop", unit="cdn-edge@crash")
