"""One cache-tests run: the suite's origin server, the cache under test in front of it (`edge`: an
edge -> shield chain with default configs; `nginx`: nginx with the suite's reference config,
docker/nginx/nginx.conf), then the suite's client. Prints the results file's path last.

    python3 run.py edge|nginx SUITE_DIR OUT_DIR
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from conftest import Tier, edge_config, free_port, shield_config  # noqa: E402

NGINX_CONF = """
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{}}
http {{
  access_log off;
  client_body_temp_path {d}/nginx-cache/body;
  fastcgi_temp_path {d}/nginx-cache/fcgi;
  uwsgi_temp_path {d}/nginx-cache/uwsgi;
  scgi_temp_path {d}/nginx-cache/scgi;
  proxy_cache_path {d}/nginx-cache levels=1:2 keys_zone=my-cache:8m max_size=1000m inactive=600m;
  proxy_temp_path {d}/nginx-cache/tmp;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{origin};
      proxy_cache my-cache;
      proxy_cache_revalidate on;
      proxy_http_version 1.1;
    }}
  }}
}}
"""


def wait_listening(port, timeout=15):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def main():
    mode, suite, out = sys.argv[1], sys.argv[2], sys.argv[3]
    d = os.path.join(out, f"{mode}-{time.strftime('%Y%m%dT%H%M%S')}")
    os.makedirs(d, exist_ok=True)
    origin_port = free_port()
    env = dict(os.environ, npm_package_config_port=str(origin_port), npm_package_config_protocol="http",
               npm_package_config_pidfile=os.path.join(d, "server.pid"))
    procs, tiers = [], []
    try:
        procs.append(subprocess.Popen(["node", "test-engine/server/server.mjs"], cwd=suite, env=env,
                                      stdout=open(os.path.join(d, "server.log"), "w"), stderr=subprocess.STDOUT))
        wait_listening(origin_port)
        if mode == "edge":
            shield = Tier("shield", d, shield_config([origin_port])).start()
            tiers.append(shield)
            edge = Tier("edge", d, edge_config([shield.port()])).start()
            tiers.append(edge)
            base = f"http://127.0.0.1:{edge.port()}"
        elif mode == "nginx":
            port = free_port()
            os.makedirs(os.path.join(d, "nginx-cache", "tmp"), exist_ok=True)
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(d=d, port=port, origin=origin_port))
            procs.append(subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"],
                                          stdout=open(os.path.join(d, "nginx.log"), "w"), stderr=subprocess.STDOUT))
            wait_listening(port)
            base = f"http://127.0.0.1:{port}"
        else:
            raise SystemExit(f"unknown cache {mode!r}: edge or nginx")
        client_env = dict(os.environ, npm_config_base=base, npm_package_config_base=base,
                          npm_config_id="", npm_package_config_id="")
        results = os.path.join(d, "results.json")
        with open(results, "wb") as f:
            subprocess.run(["node", "--no-warnings", "test-engine/cli.mjs"], cwd=suite, env=client_env,
                           stdout=f, timeout=1800, check=True)
    finally:
        for t in reversed(tiers):
            t.kill()
        for p in procs:
            p.kill()
    print(results)


if __name__ == "__main__":
    main()
