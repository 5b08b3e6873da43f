#!/usr/bin/env python3
"""Single-query latency of `tracedeck serve` list APIs, two builds side by
side (issue 19): each binary serves its own copy of a data directory made
by `cargo run --release --example fill_store -- FILL_DIR
sample-captures/api/http-loopback.pcap 1000000`, the queries are asked
in turns (A, B, A, B ...) on keep-alive connections after a warm-up
(the row counts are made once and kept), and the median of each is printed.

    bench/query_times.py FILL_DIR BIN_A BIN_B [REPS]
"""
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

fill, bins = sys.argv[1], sys.argv[2:4]
reps = int(sys.argv[4]) if len(sys.argv) > 4 else 40
QUERIES = [
    "http?status=2xx&sort=total_time&limit=50",
    "http?status=404,5xx,none&limit=50",
    "http?status=5xx&limit=50",
    "http?limit=50",
    "conversations?sort=id&offset=90000&limit=50",
    "conversations?offset=90000&limit=50",
]


def start(binary, data):
    p = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return p, int(m.group(1))
    sys.exit(f"{binary} did not start")


def get(conn, path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    took = time.perf_counter() - t0
    if r.status != 200:
        sys.exit(f"{path}: {r.status} {body[:200]!r}")
    return took, body


servers, conns, dirs = [], [], []
try:
    for b in bins:
        d = tempfile.mkdtemp(prefix="tracedeck-qt-")
        shutil.rmtree(d)
        shutil.copytree(fill, d)
        dirs.append(d)
        p, port = start(b, d)
        servers.append(p)
        conns.append(http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    items = json.loads(get(conns[0], "/api/captures?limit=1000")[1])["items"]
    big = next(m["id"] for m in items if m["name"].startswith("synthetic-"))
    times = {(q, i): [] for q in QUERIES for i in range(len(bins))}
    answers = {}
    for q in QUERIES:
        for i, c in enumerate(conns):
            answers[(q, i)] = json.loads(get(c, f"/api/captures/{big}/{q}")[1])  # warm-up
        same = answers[(q, 0)] == answers[(q, 1)]
        print(f"{q}: total {answers[(q, 0)]['total']}, answers {'equal' if same else 'DIFFER'}")
    for _ in range(reps):
        for q in QUERIES:
            for i, c in enumerate(conns):
                times[(q, i)].append(get(c, f"/api/captures/{big}/{q}")[0])
    print(f"median of {reps}, ms: A = {bins[0]}, B = {bins[1]}")
    for q in QUERIES:
        a, b = (statistics.median(times[(q, i)]) * 1000 for i in range(2))
        print(f"  {q:48} A {a:8.2f}  B {b:8.2f}")
finally:
    for p in servers:
        p.terminate()
        p.wait()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
