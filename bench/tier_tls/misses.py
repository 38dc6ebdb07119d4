"""Cost of mutual TLS between tiers: sequential cache misses (each one edge -> shield -> origin)
through a plain chain and through an mTLS chain, interleaved rounds, medians. Also reports the
connections the shield and origin hold afterwards: keep-alive means no handshake per miss.

Uses the integration tests' helpers (tests/integration/conftest.py and the throwaway PKI of
test_tier_tls.py). Arguments: misses per round, rounds, object size in bytes."""
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from conftest import Content, Tier, edge_config, origin_config, shield_config  # noqa: E402
from test_tier_tls import Pki, tls_listener, upstream_tls  # noqa: E402


def start_chain(work, content, pki, tls):
    ocfg, scfg = origin_config(content.root), shield_config([])
    if tls:
        ocfg.update(tls_listener(pki))
        scfg.update(tls_listener(pki))
    origin = Tier("origin", work, ocfg).start()
    scfg["upstream"] = {"policy": "failover", "servers": [{"address": f"127.0.0.1:{origin.port(tls=tls)}"}]}
    ecfg = edge_config([])
    if tls:
        scfg["upstream"]["tls"] = upstream_tls(pki)
    shield = Tier("shield", work, scfg).start()
    ecfg["upstream"] = {"servers": [{"address": f"127.0.0.1:{shield.port(tls=tls)}"}]}
    if tls:
        ecfg["upstream"]["tls"] = upstream_tls(pki)
    return origin, shield, Tier("edge", work, ecfg).start()


def round_ms(tiers, content, n, size):
    paths = [content.new_file(size)[0] for _ in range(n)]
    start = time.monotonic()
    for p in paths:
        r = tiers[2].get(p)
        assert r.status == 200 and r.header("X-Cache") == "MISS", r
    return (time.monotonic() - start) * 1000 / n


def main():
    args = [int(a) for a in sys.argv[1:4]]
    n, rounds, size = args + [500, 5, 1000][len(args):]
    work = pathlib.Path(tempfile.mkdtemp(prefix="cdn-bench-tier-tls-"))
    (work / "content").mkdir()
    content = Content(work / "content")
    p = Pki(work / "pki")
    ca = p.ca("tier-ca")
    pki = {"ca": ca[0], "server": p.leaf("server", ca, "IP:127.0.0.1"), "client": p.leaf("client", ca, "DNS:edge")}
    chains = {tls: start_chain(work / ("tls" if tls else "plain"), content, pki, tls) for tls in (False, True)}
    try:
        for tls, tiers in chains.items():
            round_ms(tiers, content, 50, size)  # warm: pooled connections, page cache
        results = {False: [], True: []}
        for _ in range(rounds):
            for tls, tiers in chains.items():
                results[tls].append(round_ms(tiers, content, n, size))
        for tls, tiers in chains.items():
            print(f"{'mTLS ' if tls else 'plain'}  median {statistics.median(results[tls]):.3f} ms per miss "
                  f"(rounds: {', '.join(f'{x:.3f}' for x in results[tls])}); connections held by the shield "
                  f"{int(tiers[1].metric('cdn_connections_active'))}, origin {int(tiers[0].metric('cdn_connections_active'))}")
    finally:
        for tiers in chains.values():
            for t in tiers:
                t.kill()


if __name__ == "__main__":
    main()
