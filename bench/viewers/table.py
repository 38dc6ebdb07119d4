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
    if "edge-tokens" in rows:
        r, up = rows["edge-tokens"]
        shield = up.get("from_access_logs", {}).get("shield", {})
        origin = up.get("from_access_logs", {}).get("origin", {})
        checks = [
            ("zero errors", r["errors"]["total"] == 0),
        ]
        if not r.get("session_mean_s"):  # without churn every viewer stays to the end
            checks.append(("every viewer held to the end", r["final_playing"] == r["viewers"]))
        checks += [
            ("rebuffer ratio < 0.1 %", r["rebuffer_ratio"] < 0.001),
            ("startup p99 < 2 s (flash crowd)", r["startup_ms"]["p99"] < 2000),
            ("one upstream request per segment at the shield", shield.get("max_per_segment") == 1),
            ("one upstream request per segment at the origin", origin.get("max_per_segment") == 1),
        ]
        print("\nissue 12 criteria (edge-tokens): " + ", ".join(f"{n}: {'yes' if ok else 'NO'}" for n, ok in checks))


if __name__ == "__main__":
    main()
