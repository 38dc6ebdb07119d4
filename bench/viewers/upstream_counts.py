"""Requests that reached a tier, read from its JSON access log: how many times each segment was
asked for. A shield's log holds what the edge fetched from it, an origin's what the shield fetched,
so `requests_per_segment` 1.0 with `max_per_segment` 1 is "one upstream request per segment per
tier". Used by bench/viewers/run.sh and tests/integration/test_viewer_sim.py.

    python3 upstream_counts.py NAME=LOG[:BYTE_OFFSET] ...   -> {"NAME": counts, ...} as JSON
(an offset counts only the lines written after it, e.g. during one phase of a run)
"""
import json
import sys
from collections import Counter

SEGMENT_SUFFIXES = (".ts", ".m4s", ".aac", ".mp4")


def segment_counts(log_path, since=0):
    per_segment, playlists, other = Counter(), 0, 0
    with open(log_path, "rb") as f:
        f.seek(since)
        for raw in f:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            path = rec.get("path", "").split("?")[0]
            if rec.get("method") != "GET" or rec.get("status") != 200:
                other += 1
            elif path.endswith(SEGMENT_SUFFIXES):
                per_segment[path] += 1
            elif path.endswith(".m3u8"):
                playlists += 1
            else:
                other += 1
    n = len(per_segment)
    total = sum(per_segment.values())
    return {"segments": n, "segment_requests": total,
            "requests_per_segment": round(total / n, 3) if n else 0.0,
            "max_per_segment": max(per_segment.values(), default=0),
            "playlist_requests": playlists, "other_requests": other}


if __name__ == "__main__":
    out = {}
    for arg in sys.argv[1:]:
        name, _, rest = arg.partition("=")
        path, _, since = rest.partition(":")
        out[name] = segment_counts(path, int(since or 0))
    print(json.dumps(out))
