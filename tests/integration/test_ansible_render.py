"""The Ansible roles' configs rendered from an inventory, with the admin listeners over plain HTTP
(the default) and over TLS with client certificates (cdn_admin_tls, cdn_admin_client_ca), each
accepted by its program's --check-config with the files the roles write next to it (admin
certificate and key, the admin CA, the fleet's admin client certificate, cdnctl.env). Renders
only: no package, no service (test_fleet_ansible.py deploys a fleet)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from access_support import Keys, cdnctl_path
from conftest import REPO, free_port, program_path, to_yaml, wait_until, under_sanitizer
from test_tier_tls import Pki

pytestmark = [
    pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="ansible is not installed"),
    pytest.mark.skipif(bool(under_sanitizer()), reason="renders YAML; the sanitizer programs add nothing"),
]

# host -> (group, program, viewer port, admin port)
HOSTS = {
    "origin-1": ("origin", "cdn-origin", free_port(), free_port()),
    "shield-1": ("shield", "cdn-shield", free_port(), free_port()),
    "edge-1": ("edge", "cdn-edge", free_port(), free_port()),
    "geo-1": ("geo", "cdn-geo", free_port(), free_port()),
    "mon-1": ("monitoring", None, free_port(), None),
}
ADMIN = {host: f"127.0.0.1:{v[3]}" for host, v in HOSTS.items()}
# What each role's render task writes: its config as the role builds it.
CONFIGS = {
    "origin": "_origin_config",
    "shield": "lookup('ansible.builtin.template', 'shield.yaml.j2') | from_yaml",
    "edge": "_edge_config",
    "geo": "_geo_config",
}
INSTANCE_VARS = {"origin": "origin_instance", "shield": "shield_instance", "edge": "edge_instance",
                 "geo": "geo_instance", "monitoring": "monitoring_instance"}


def render_tasks(group):
    """One task per host (a module run is the slow part): its config and the files the roles
    write into its instance directory, as JSON."""
    if group == "monitoring":
        what = "{'config': lookup('ansible.builtin.template', 'prometheus.yml.j2') | from_yaml, 'files': []}"
    else:
        what = "{'config': %s, 'dir': _cdn_dir, 'files': _cdn_admin_files + [_cdn_cdnctl_env]}" % CONFIGS[group]
    program = next((v[1] for v in HOSTS.values() if v[0] == group), None)
    instance = {"cdn_program": program, "cdn_unit_instance": "{{ %s }}" % INSTANCE_VARS[group]} if program else {}
    return [{"name": "Render", "ansible.builtin.copy": {
        "dest": "{{ render_dir }}/{{ inventory_hostname }}.json", "mode": "0600",
        "content": "{{ %s | to_json }}" % what}, "vars": instance}]


def roles_with_render_tasks(directory):
    """A copy of the roles, each with tasks/render.yml writing what the role would deploy."""
    roles = Path(directory) / "roles"
    shutil.copytree(REPO / "ansible" / "roles", roles)
    (roles / "common" / "tasks" / "render.yml").write_text(json.dumps([{"name": "Defaults", "ansible.builtin.meta": "noop"}]))
    for group in ("origin", "shield", "edge", "geo", "monitoring"):
        (roles / group / "tasks" / "render.yml").write_text(json.dumps(render_tasks(group)))
    return roles


def inventory(directory, keys, cert, key, admin_tls):
    etc = Path(directory) / "etc"
    groups = {g: {"hosts": {}} for g in ("origin", "shield", "edge", "geo", "monitoring")}
    for host, (group, _, port, admin) in HOSTS.items():
        v = {"cdn_address": "127.0.0.1", "cdn_port": port}
        if admin:
            v["cdn_admin_port"] = admin
        if group == "edge":
            v.update(edge_site="fra", edge_latitude=50.11, edge_longitude=8.68,
                     edge_capacity={"connections": 1000, "egress": 1000000000})
        groups[group]["hosts"][host] = v
    common = {
        "ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3",
        "render_dir": str(Path(directory) / "out"), "cdn_etc": str(etc),
        "cdn_state_root": str(Path(directory) / "state"), "cdn_log_root": str(Path(directory) / "log"),
        "cdn_admin_address": "{{ cdn_address }}", "cdn_zone": "cdn.test", "cdn_delivery_hosts": ["video.cdn.test"],
        "cdn_admin_token": "render-secret", "cdn_viewer_jwks": Path(keys.jwks).read_text(),
        "edge_sessions_store": "memory", "geo_dns_port": 18053,
    }
    common.update(admin_tls)
    path = Path(directory) / "hosts.yml"
    path.write_text(json.dumps({"all": {"vars": common, "children": groups}}))
    # The instance directories (the roles make them) and what the edge role writes besides the
    # admin files: its viewer certificate and JWKS.
    (Path(directory) / "out").mkdir()
    (Path(directory) / "state" / "cdn-origin-origin-1" / "vod").mkdir(parents=True)  # the VOD root
    (Path(directory) / "log" / "cdn-origin-origin-1").mkdir(parents=True)  # the package makes it
    for host, (_, program, _, _) in HOSTS.items():
        if program:
            (etc / f"{program}-{host}.d").mkdir(parents=True)
    edge_dir = etc / "cdn-edge-edge-1.d"
    shutil.copy(cert, edge_dir / "tls.crt")
    shutil.copy(key, edge_dir / "tls.key")
    shutil.copy(keys.jwks, edge_dir / "viewer.jwks")
    return path


def render(tmp_path, keys, pki, admin_tls):
    """Renders every host's config; returns ({host: config dict}, etc dir)."""
    roles = roles_with_render_tasks(tmp_path)
    inv = inventory(tmp_path, keys, *pki["server"], admin_tls)
    play = tmp_path / "render.yml"
    play.write_text(json.dumps([{"name": "Render", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "Common", "ansible.builtin.include_role": {"name": "common", "tasks_from": "render", "public": True}},
        {"name": "Role", "ansible.builtin.include_role": {"name": "{{ group_names[0] }}", "tasks_from": "render"}},
    ]}]))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=str(roles), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    r = subprocess.run(["ansible-playbook", "-i", str(inv), str(play)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    configs = {}
    for host in HOSTS:
        rendered = json.loads((tmp_path / "out" / f"{host}.json").read_text())
        configs[host] = rendered["config"]
        for f in rendered["files"]:  # as common/tasks/instance.yml writes them
            (Path(rendered["dir"]) / f["name"]).write_text(f["content"])
    return configs, tmp_path / "etc"


def check_config(tmp_path, host, config):
    """--check-config on the rendered config; returns its path."""
    group, program = HOSTS[host][:2]
    path = tmp_path / f"{host}.checked.yaml"
    path.write_text(to_yaml(config) + "\n")
    r = subprocess.run([str(program_path(group)), "--config", str(path), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (host, r.stderr, config)
    return path


def cdnctl_with_env(env_file, *args):
    """cdnctl with the settings of an instance's cdnctl.env, as an operator sources it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDN_ADMIN")}
    env.update(line.split("=", 1) for line in Path(env_file).read_text().splitlines())
    return subprocess.run([str(cdnctl_path()), *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("render-keys"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("render-pki"))
    ca = p.ca("admin-ca")
    return {"ca": ca[0], "server": p.leaf("admin", ca, "IP:127.0.0.1"),
            "client": p.leaf("fleet-client", ca, "DNS:fleet.cdn.test")}


def test_plain_admin_renders_as_before(tmp_path, keys, pki):
    configs, etc = render(tmp_path, keys, pki, {})
    for host in ("origin-1", "shield-1", "edge-1", "geo-1"):
        assert configs[host]["admin"] == {"listen": ADMIN[host], "token": "render-secret"}
        check_config(tmp_path, host, configs[host])
    assert configs["edge-1"]["purge"] == {"upstream_admins": [ADMIN["shield-1"]]}
    assert configs["shield-1"]["purge"] == {"upstream_admins": [ADMIN["origin-1"]]}
    assert configs["geo-1"]["geo"]["edges"][0]["admin"] == f"http://{ADMIN['edge-1']}"
    assert "admin_client" not in configs["geo-1"]["geo"]
    assert all("scheme" not in job for job in configs["mon-1"]["scrape_configs"])
    assert (etc / "cdn-edge-edge-1.d" / "cdnctl.env").read_text() == \
        f"CDN_ADMIN=http://{ADMIN['edge-1']}\nCDN_ADMIN_TOKEN=render-secret\n"
    assert not (etc / "cdn-edge-edge-1.d" / "admin.crt").exists()


def test_admin_over_tls_with_client_certificates(tmp_path, keys, pki):
    pem = {name: Path(f).read_text() for name, f in (
        ("ca", pki["ca"]), ("cert", pki["server"][0]), ("key", pki["server"][1]),
        ("client_cert", pki["client"][0]), ("client_key", pki["client"][1]))}
    configs, etc = render(tmp_path, keys, pki, {
        "cdn_admin_tls": True, "cdn_admin_tls_cert": pem["cert"], "cdn_admin_tls_key": pem["key"],
        "cdn_admin_ca": pem["ca"], "cdn_admin_client_ca": pem["ca"],
        "cdn_admin_client_cert": pem["client_cert"], "cdn_admin_client_key": pem["client_key"]})
    for host in ("origin-1", "shield-1", "edge-1", "geo-1"):
        d = etc / f"{HOSTS[host][1]}-{host}.d"
        assert configs[host]["admin"]["tls"] == {
            "cert": f"{d}/admin.crt", "key": f"{d}/admin.key", "client_ca": f"{d}/admin-client-ca.pem"}
        assert (d / "admin.key").read_text() == pem["key"]
        check_config(tmp_path, host, configs[host])  # loads every TLS file it names
    edge_dir, shield_dir, geo_dir = (etc / f"cdn-{h}-{h}-1.d" for h in ("edge", "shield", "geo"))
    assert configs["edge-1"]["purge"]["upstream_admins"] == [f"https://{ADMIN['shield-1']}"]
    assert configs["edge-1"]["purge"]["admin_client"] == {
        "ca": f"{edge_dir}/admin-ca.pem", "cert": f"{edge_dir}/admin-client.crt", "key": f"{edge_dir}/admin-client.key"}
    assert configs["shield-1"]["purge"]["upstream_admins"] == [f"https://{ADMIN['origin-1']}"]
    assert configs["shield-1"]["purge"]["admin_client"]["cert"] == f"{shield_dir}/admin-client.crt"
    geo = configs["geo-1"]["geo"]
    assert geo["edges"][0]["admin"] == f"https://{ADMIN['edge-1']}"
    assert geo["origins"][0]["admin"] == f"https://{ADMIN['origin-1']}"
    assert geo["admin_client"]["ca"] == f"{geo_dir}/admin-ca.pem"
    env = dict(line.split("=", 1) for line in (edge_dir / "cdnctl.env").read_text().splitlines())
    assert env == {"CDN_ADMIN": f"https://{ADMIN['edge-1']}", "CDN_ADMIN_TOKEN": "render-secret",
                   "CDN_ADMIN_CACERT": f"{edge_dir}/admin-ca.pem", "CDN_ADMIN_CERT": f"{edge_dir}/admin-client.crt",
                   "CDN_ADMIN_KEY": f"{edge_dir}/admin-client.key"}
    for job in configs["mon-1"]["scrape_configs"]:
        if job["job_name"].startswith("cdn-"):
            assert job["scheme"] == "https" and set(job["tls_config"]) == {"ca_file", "cert_file", "key_file"}, job

    # The origin runs its rendered config (the one with nothing upstream): cdnctl with the edge's
    # cdnctl.env, pointed at the origin's admin listener, gets through its TLS and client CA.
    with open(tmp_path / "origin.stderr", "w") as stderr:
        origin = subprocess.Popen([str(program_path("origin")), "--config", str(tmp_path / "origin-1.checked.yaml")],
                                  stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        origin_env = tmp_path / "origin-cdnctl.env"
        origin_env.write_text((edge_dir / "cdnctl.env").read_text().replace(ADMIN["edge-1"], ADMIN["origin-1"]))
        wait_until(lambda: cdnctl_with_env(origin_env, "metrics").returncode == 0, timeout=10,
                   what="cdnctl over the rendered admin TLS (see origin.stderr)")
        assert "cdn_" in cdnctl_with_env(origin_env, "metrics").stdout
        without_cert = origin_env.read_text().replace("CDN_ADMIN_CERT=", "UNUSED_CERT=").replace("CDN_ADMIN_KEY=", "UNUSED_KEY=")
        origin_env.write_text(without_cert)
        assert cdnctl_with_env(origin_env, "metrics").returncode != 0  # the client CA is demanded
    finally:
        origin.kill()
        origin.wait(10)
