#!/usr/bin/env python3
"""Load bench of `tracedeck serve` (issue 19), loopback only, bounded:
20 parallel uploads and 200 concurrent readers of the conversations and
HTTP APIs of a capture with ~1 M conversations and ~1 M exchanges.

    bench/load.py BIN FILL_DIR [SECONDS] [READERS] [UPLOADS] [THINK]

FILL_DIR is a data directory made by `cargo run --release --example
fill_store -- FILL_DIR sample-captures/api/http-loopback.pcap 1000000`
(it holds the big capture; its id is the one capture listed). For SECONDS
(default 30) the readers ask in a loop for sorted, filtered and deep pages
(half the time the next page of the one before, by its `next` cursor) while the uploaders send the sample captures, wait for each analysis and
check its conversations and exchanges against `BIN analyze --json`.
Each reader waits THINK seconds (default 1; 0: back to back) between its
requests, as a person reading the pages would. Prints reader latency
p50/p99/max in all and per request kind (list, filtered list, page after a
cursor, upload POST), requests and errors, the server's peak
RSS, and the uploads that matched. Goals: p99 < 200 ms, RSS < 300 MB, no
errors, every analysis equal.
"""
import glob
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time

binary, fill = sys.argv[1], sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 30
readers = int(sys.argv[4]) if len(sys.argv) > 4 else 200
uploads = int(sys.argv[5]) if len(sys.argv) > 5 else 20
think = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
samples = sorted(p for p in glob.glob(os.path.join(root, "sample-captures", "*.pcap*"))
                 if not p.endswith(".json"))

server = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", fill,
                           # 200 readers from one address: above the default per-client cap.
                           "--max-connections-per-client", "1000"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = None
for line in server.stdout:
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if m:
        port = int(m.group(1))
        break
if port is None:
    sys.exit("serve did not start")


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def connect():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


c = connect()
big = next(m["id"] for m in json.loads(get(c, "/api/captures?limit=1000")[1])["items"]
           if m["name"].startswith("synthetic-"))
c.close()

# What each upload must come to, computed before the clock starts: 20
# `analyze` processes at once would load the machine, not the server.
expected = {}
for n in range(uploads):
    path = samples[n % len(samples)]
    if path not in expected:
        expected[path] = json.loads(subprocess.run([binary, "analyze", path, "--json"],
                                                   capture_output=True, check=True).stdout)


started = time.time()
t_zero = time.perf_counter()
stop_at = started + seconds
latencies, errors, lock = [], [], threading.Lock()
# (start, latency) of every reader request: the start-up burst apart.
timeline = []
# Latencies by request kind: list, filtered list, page, upload (the POST).
by_kind = {}


def reader(seed):
    rnd = random.Random(seed)
    conn = connect()
    conv, http = f"/api/captures/{big}/conversations", f"/api/captures/{big}/http"
    # Deep pages as a reader reaches them: a counted offset within the
    # first 100 000 rows, then the `next` cursor of the page before.
    # Each path with its kind: a list (sorted, maybe at a counted offset),
    # a filtered list, or a page after a cursor.
    paths = [
        ("list", lambda: f"{conv}?sort=duration&order=desc&limit=50"),
        ("list", lambda: f"{conv}?sort=bytes&limit=50&offset={rnd.randrange(0, 100_000)}"),
        ("page", lambda: f"{conv}?sort=id&limit=1000&after={rnd.randrange(0, 999_000)}"),
        ("filtered list", lambda: f"{http}?status=5xx&limit=50"),
        ("filtered list", lambda: f"{http}?status=5xx&sort=total_time&limit=50"),
        ("filtered list", lambda: f"{http}?status=404,5xx,none&limit=50"),
        ("filtered list", lambda: f"{http}?status=2xx&sort=total_time&limit=50"),
        ("list", lambda: f"{http}?limit=100&offset={rnd.randrange(0, 100_000)}"),
    ]
    following = None
    while time.time() < stop_at:
        if following:
            kind, path = "page", following
        else:
            kind, make = rnd.choice(paths)
            path = make()
        following = None
        t0 = time.perf_counter()
        try:
            status, body = get(conn, path)
        except Exception as e:  # a refused or reset connection counts as an error
            status, body = repr(e), b""
            conn.close()
            conn = connect()
        took = time.perf_counter() - t0
        with lock:
            latencies.append(took)
            timeline.append((t0 - t_zero, took))
            by_kind.setdefault(kind, []).append(took)
            if status != 200:
                errors.append((path, status))
        if status == 200 and rnd.random() < 0.5:
            after = json.loads(body).get("next")
            if after:
                following = re.sub(r"&(offset|after)=[^&]*", "", path) + f"&after={after}"
        time.sleep(think * rnd.uniform(0.5, 1.5))


def rows_of(conn, cid, table):
    items, after = [], ""
    while True:
        status, body = get(conn, f"/api/captures/{cid}/{table}?limit=10000{after}")
        if status != 200:
            raise RuntimeError(f"{table} of {cid}: {status}")
        page = json.loads(body)
        items += page["items"]
        if not page.get("next"):
            return items
        after = f"&after={page['next']}"


def canonical(rows):
    return sorted(json.dumps({k: v for k, v in r.items() if k != "id" or "proto" in r},
                             sort_keys=True) for r in rows)


upload_results = []


def uploader(n):
    path = samples[n % len(samples)]
    want = expected[path]
    conn = connect()
    with open(path, "rb") as f:
        data = f.read()
    t0 = time.perf_counter()
    conn.request("POST", f"/api/captures?name={os.path.basename(path)}", body=data,
                 headers={"Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    body = r.read()
    with lock:
        by_kind.setdefault("upload", []).append(time.perf_counter() - t0)
    if r.status not in (200, 201):
        upload_results.append((path, f"upload answered {r.status}: {body[:200]!r}"))
        return
    cid = json.loads(body)["id"]
    while True:
        meta = json.loads(get(conn, f"/api/captures/{cid}")[1])
        if meta["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    took = time.perf_counter() - t0
    if meta["status"] != "done":
        upload_results.append((path, f"analysis failed: {meta.get('error')}"))
        return
    same = (canonical(rows_of(conn, cid, "conversations")) == canonical(want["conversations"])
            and canonical(rows_of(conn, cid, "http")) == canonical(want["http"]))
    upload_results.append((path, f"equal to analyze --json, done in {took:.2f} s" if same
                           else "DIFFERS from analyze --json"))
    conn.request("DELETE", f"/api/captures/{cid}")
    conn.getresponse().read()


peak = [0]


def sampler():
    while time.time() < stop_at + 5 and server.poll() is None:
        try:
            with open(f"/proc/{server.pid}/status") as f:
                rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            peak[0] = max(peak[0], rss)
        except (OSError, AttributeError):
            pass
        time.sleep(0.1)


try:
    threads = [threading.Thread(target=sampler)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    threads += [threading.Thread(target=uploader, args=(i,)) for i in range(uploads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
finally:
    server.terminate()
    server.wait()

def quantile(sorted_lat, p):
    return sorted_lat[min(len(sorted_lat) - 1, int(p * len(sorted_lat)))] * 1000


lat = sorted(latencies) or [0.0]
q = lambda p: quantile(lat, p)
print(f"readers: {readers} (think {think} s), {len(latencies)} requests in {seconds:.0f} s; "
      f"latency p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {lat[-1] * 1000:.0f} ms; "
      f"errors {len(errors)}")
for kind in ("list", "filtered list", "page", "upload"):
    got = sorted(by_kind.get(kind, []))
    if got:
        print(f"  {kind}: {len(got)} requests, p50 {quantile(got, 0.5):.1f} ms, "
              f"p99 {quantile(got, 0.99):.1f} ms, max {got[-1] * 1000:.1f} ms")
# Requests sent in the first 2 s (every reader's first, all at once) and after.
for name, part in (("first 2 s", [t for s, t in timeline if s < 2]),
                   ("after 2 s", [t for s, t in timeline if s >= 2])):
    got = sorted(part)
    if got:
        print(f"  {name}: {len(got)} requests, p50 {quantile(got, 0.5):.1f} ms, "
              f"p99 {quantile(got, 0.99):.1f} ms, max {got[-1] * 1000:.1f} ms")
for path, status in errors[:5]:
    print(f"  error: {status} for {path}")
print(f"server peak RSS {peak[0] / 1024:.0f} MB")
ok = sum(1 for _, r in upload_results if r.startswith("equal"))
print(f"uploads: {ok} of {uploads} analysed and equal to analyze --json")
for path, r in upload_results:
    if not r.startswith("equal"):
        print(f"  {os.path.basename(path)}: {r}")
