#!/usr/bin/env python3
"""Dev aid: compare the HTTP parser (over bench/http_events.py's naive
reassembly) with tshark's exchanges in ../shared/corpus truth files.

usage: bench/http_truth_compare.py EXAMPLE_BIN CAPTURE...
Prints per capture: exchanges matched on (stream, method, uri, status),
and how many of those agree on the four frames.
"""
import json
import subprocess
import sys
from collections import Counter

here = sys.path[0]
binary = sys.argv[1]
total = Counter()
for cap in sys.argv[2:]:
    truth = json.load(open(cap + ".truth.json"))
    events = subprocess.run([sys.executable, here + "/http_events.py", cap],
                            capture_output=True, check=False).stdout
    out = subprocess.run([binary], input=events, capture_output=True, check=False).stdout
    ours = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    def key_t(e):
        r, s = e["request"] or {}, e["response"] or {}
        return (e["tcp_stream"], r.get("method"), r.get("uri"), s.get("code"))
    def key_o(e):
        return (e["tcp_stream"], e["method"], e["uri"], e["status"])
    t = Counter(key_t(e) for e in truth["http_exchanges"])
    o = Counter(key_o(e) for e in ours)
    both = sum((t & o).values())
    frames_ok = 0
    by_key = {}
    for e in ours:
        by_key.setdefault(key_o(e), []).append(e)
    for e in truth["http_exchanges"]:
        cands = by_key.get(key_t(e)) or []
        if not cands:
            continue
        x = cands.pop(0)
        r, s = e["request"] or {}, e["response"] or {}
        want = (r.get("first_segment_frame"), r.get("frame"), s.get("first_segment_frame"), s.get("frame"))
        inc = lambda v: None if v is None else v + 1
        got = (inc(x["request_first_frame"]), inc(x["request_last_frame"]),
               inc(x["response_first_frame"]), inc(x["response_last_frame"]))
        if want == got:
            frames_ok += 1
        elif "-v" in sys.argv[0:1] or len(sys.argv) == 3:
            print("   frames", key_t(e), "tshark", want, "ours", got)
    name = cap.rsplit("/", 1)[-1]
    print(f"{name}: tshark {sum(t.values())} ours {sum(o.values())} matched {both} frames-equal {frames_ok}")
    if len(sys.argv) == 3:
        for k in (t - o):
            print("   only tshark", k)
        for k in (o - t):
            print("   only ours  ", k)
    total.update(tshark=sum(t.values()), ours=sum(o.values()), matched=both, frames=frames_ok)
print("TOTAL", dict(total))
