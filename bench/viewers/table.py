"""The table of a `./cdn bench viewers` run: one row per phase from <phase>.json and
<phase>-upstream.json, the edge-vs-nginx ratios, and issue 12's criteria checked.

    python3 table.py RUN_DIR PHASE...
"""
import json
import sys
from pathlib import Path


def load(run, phase):
    rep = json.loads((run / f"{phase}.json").read_text())
    up_path = run / f"{phase}-upstream.json"
    up = json.loads(up_path.read_text()) if up_path.exists() else {}
    return rep, up


def per_segment(up, tier):
    c = up.get("from_access_logs", {}).get(tier, {})
    return f"{c.get('requests_per_segment', 0):.2f} (max {c.get('max_per_segment', 0)})" if c else "-"


def criteria(r, up):
    """Issue 12's flash-crowd criteria for one tokens phase: [(name, met)]."""
    shield = up.get("from_access_logs", {}).get("shield", {})
    origin = up.get("from_access_logs", {}).get("origin", {})
    checks = [("zero errors", r["errors"]["total"] == 0)]
    if not r.get("session_mean_s"):  # without churn every viewer stays to the end
        checks.append(("every viewer held to the end", r["final_playing"] == r["viewers"]))
    checks += [
        ("rebuffer ratio < 0.1 %", r["rebuffer_ratio"] < 0.001),
        ("startup p99 < 2 s (flash crowd)", r["startup_ms"]["p99"] < 2000),
        ("one upstream request per segment at the shield", shield.get("max_per_segment") == 1),
        ("one upstream request per segment at the origin", origin.get("max_per_segment") == 1),
    ]
    return checks


def cost_cells(r):
    """Edge and simulator CPU per join (flash crowd) and per segment (steady), from the report's cost."""
    c = r.get("cost", {})
    f, s = c.get("flash_crowd", {}), c.get("steady", {})
    def num(d, k, fmt):
        return format(d[k], fmt) if k in d else "-"
    return [f"{num(f, 'edge_cpu_ms_per_join', '.2f')} ({num(f, 'edge_cpu_ms_per_join_less_segments', '.2f')}) / "
            f"{num(f, 'simulator_cpu_ms_per_join', '.2f')} ({num(f, 'simulator_cpu_ms_per_join_less_segments', '.2f')})",
            f"{num(s, 'edge_cpu_us_per_segment', '.0f')} / {num(s, 'simulator_cpu_us_per_segment', '.0f')}"]


def search_table(rows):
    """One row per size of a VIEWERS_SEARCH run and the largest size that met every criterion."""
    sizes = sorted(((int(p.split("-", 1)[1]), p) for p in rows if p.startswith("search-")))
    if not sizes:
        return
    print("\n| flash crowd (viewers) | errors | startup p50 / p99 (ms) | rebuffer ratio | segment p99 (ms) "
          "| edge busy / waiting | CPU ms per join (less its segments): edge / simulator | CPU µs per segment: edge / simulator "
          "| meets issue 12 |")
    print("| ---: | ---: | --- | ---: | ---: | --- | --- | --- | --- |")
    best = None
    for n, p in sizes:
        r, up = rows[p]
        failed = [name for name, ok in criteria(r, up) if not ok]
        if not failed:
            best = n
        e = r.get("edge", {})
        print(f"| {n} | {r['errors']['total']} | {r['startup_ms']['p50']:.0f} / {r['startup_ms']['p99']:.0f} "
              f"| {r['rebuffer_ratio']:.5f} | {r['segment_ms']['p99']:.1f} "
              f"| {e.get('cpu_share_of_one_core', 0):.0%} / {e.get('runqueue_wait_share', 0):.0%} "
              f"| {' | '.join(cost_cells(r))} | {'yes' if not failed else 'no: ' + ', '.join(failed)} |")
    print(f"\nlargest flash crowd meeting issue 12's criteria: {best if best else 'none of the sizes tried'}")


def main():
    run, phases = Path(sys.argv[1]), sys.argv[2:]
    rows = {p: load(run, p) for p in phases if (run / f"{p}.json").exists()}
    print("| phase | viewers (peak playing) | errors | rebuffer ratio | startup p50 / p99 (ms) "
          "| segment p50 / p99 / max (ms) | egress (Mbit/s) | edge CPU s per 1000 viewers | edge RSS peak (MiB) "
          "| RSS per 1000 viewers (MiB) | edge busy / waiting for a CPU | upstream req. per segment: shield / origin |")
    print("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- |")
    for p, (r, up) in rows.items():
        e = r.get("edge", {})
        print(f"| {p} | {r['viewers']} ({r['peak_playing']}) | {r['errors']['total']} | {r['rebuffer_ratio']:.5f} "
              f"| {r['startup_ms']['p50']:.0f} / {r['startup_ms']['p99']:.0f} "
              f"| {r['segment_ms']['p50']:.1f} / {r['segment_ms']['p99']:.1f} / {r['segment_ms']['max']:.0f} "
              f"| {r['egress_mbit_s_mean']:.1f} | {e.get('cpu_s_per_1000_viewers', 0):.2f} "
              f"| {e.get('rss_mib_peak', 0):.0f} | {e.get('rss_mib_per_1000_viewers', 0):.1f} "
              f"| {e.get('cpu_share_of_one_core', 0):.0%} / {e.get('runqueue_wait_share', 0):.0%} "
              f"| {per_segment(up, 'shield')} / {per_segment(up, 'origin')} |")
    sim = ", ".join(f"{p} {r['simulator_cpu_s'] / r['duration_s']:.0%}" for p, (r, _) in rows.items()
                    if r.get("simulator_cpu_s") is not None and r.get("duration_s"))
    if sim:
        print(f"\nsimulator CPU (share of one core over the run): {sim}")
    errors = {p: r["errors"] for p, (r, _) in rows.items() if r["errors"]["total"]}
    if errors:
        print("\nerrors by phase: " + json.dumps(errors))
    if "edge" in rows and "nginx" in rows:
        a, b = rows["edge"][0], rows["nginx"][0]
        ea, eb = a.get("edge", {}), b.get("edge", {})
        cpu = ea.get("cpu_s", 0) / eb["cpu_s"] if eb.get("cpu_s") else float("nan")
        rss = ea.get("rss_mib_peak", 0) / eb["rss_mib_peak"] if eb.get("rss_mib_peak") else float("nan")
        print(f"\ncdn-edge / nginx (tokens off, one worker each, same audience): CPU {cpu:.2f}x "
              f"(target <= 0.67x), RSS {rss:.2f}x, rebuffer ratio {a['rebuffer_ratio']:.5f} vs {b['rebuffer_ratio']:.5f}")
    costs = [f"{p} {' and '.join(cost_cells(r))}" for p, (r, _) in rows.items() if r.get("cost")]
    if costs:
        print("\nCPU ms per join in the flash crowd (in brackets: less its segments at the steady rate), edge / "
              "simulator, and CPU µs per segment after it: " + "; ".join(costs))
    if "edge-tokens" in rows:
        checks = criteria(*rows["edge-tokens"])
        print("\nissue 12 criteria (edge-tokens): " + ", ".join(f"{n}: {'yes' if ok else 'NO'}" for n, ok in checks))
    search_table(rows)


if __name__ == "__main__":
    main()
