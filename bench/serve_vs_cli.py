#!/usr/bin/env python3
"""serve's analysis time against the CLI's, interleaved, medians.

    bench/serve_vs_cli.py ROUNDS BIN[,BIN...] FILE [FILE ...]

Starts `BIN serve --workers 1` on 127.0.0.1 (data under a temporary
directory), then for each round and each FILE runs `BIN analyze FILE --json`
and uploads FILE to serve, in turn, so the machine's noise falls on both
alike. serve's time is from the worker's own log line ("read and analyzed
in X s, results stored in Y s": X + Y), i.e. the analysis and the results
commit, not the upload, until the capture is shown as done; the page
indexes built after that, in the background, are waited for and reported
apart. Each capture is deleted after its run. Prints per
file the medians and their ratio (issue 19's goal: at most 1.5x), and the
CPU medians (CLI user + sys; serve's worker and results writer threads,
from its log), steadier than wall time on a shared machine. Several
builds, comma-separated, are run in turn within each round (an A/B of
serve's analysis on a noisy machine).
Only 127.0.0.1 is contacted.
"""
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

rounds, binaries, files = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]


class Serve:
    """One build's server and its runs."""

    def __init__(self, binary):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="tracedeck-serve-bench-")
        self.log = open(os.path.join(self.data, "serve.log"), "w+")
        self.server = subprocess.Popen(
            [binary, "serve", "--addr", "127.0.0.1:0", "--data-dir",
             os.path.join(self.data, "d"), "--workers", "1"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.base = None
        for line in self.server.stdout:
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if m:
                self.base = m.group(1)
                break
        if self.base is None:
            sys.exit("serve did not start")
        self.seen = {f: ([], [], [], 0) for f in files}
        self.indexes = {f: [] for f in files}
        self.cpu = {f: ([], []) for f in files}

    def run(self, path):
        base, log, data = self.base, self.log, self.data
        with open(path, "rb") as f:
            req = urllib.request.Request(
                f"{base}/api/captures?name={os.path.basename(path)}", data=f, method="POST",
                headers={"Content-Type": "application/octet-stream",
                         "Content-Length": str(os.path.getsize(path))})
            cid = json.load(urllib.request.urlopen(req))["id"]
        pattern = re.compile(rf"capture {cid}: read and analyzed in ([0-9.]+) s, results stored in ([0-9.]+) s, "
                             r"worker CPU ([0-9.]+) s")
        writer = re.compile(rf"capture {cid}: results writer CPU ([0-9.]+) s")
        indexed = re.compile(rf"capture {cid}: (\d+) indexes made in ([0-9.]+) s")
        while True:
            st = json.load(urllib.request.urlopen(f"{base}/api/captures/{cid}"))["status"]
            if st == "failed":
                sys.exit(f"analysis of {path} failed")
            if st == "done":
                break
            time.sleep(0.02)
        for _ in range(100):
            log.seek(0)
            text = log.read()
            m, w = pattern.search(text), writer.search(text)
            if m and w:
                break
            time.sleep(0.02)
        else:
            sys.exit("no timing line in serve's log")
        # The page indexes are built after the capture is shown, in the
        # background: waited for, so they never run beside the next run
        # (a build that makes them before, all there at once, says 0 s).
        results = os.path.join(data, "d", "captures", cid, "results.db")
        all_in = 0
        for _ in range(6000):
            log.seek(0)
            i = indexed.search(log.read())
            # The log line follows the last index by a moment.
            all_in += all_indexes_in(results)
            if i or all_in > 50:
                break
            time.sleep(0.02)
        else:
            sys.exit("no index line in serve's log")
        size = os.path.getsize(os.path.join(data, "d", "captures", cid, "results.db"))
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/captures/{cid}", method="DELETE"))
        cpu = float(m.group(3)) + float(w.group(1))
        return float(m.group(1)), float(m.group(2)), size, cpu, float(i.group(2)) if i else 0.0

    def stop(self):
        self.server.terminate()
        self.server.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def all_indexes_in(results):
    """Whether the results file has its last index (builds before the
    background indexer made them all before the capture was done)."""
    conn = sqlite3.connect(f"file:{results}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                            "AND name = 'endpoint_groups_by_template'").fetchone()[0] == 1
    finally:
        conn.close()


def cli_run(binary, path):
    """Wall seconds and CPU seconds (user + sys) of one `analyze --json`."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run([binary, "analyze", path, "--json"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - t0, cpu


servers = []
try:
    servers = [Serve(b) for b in binaries]
    for _ in range(rounds):
        for f in files:
            for sv in servers:
                subprocess.run(["cat", f], stdout=subprocess.DEVNULL)  # page cache for both
                cli, cli_cpu = cli_run(sv.binary, f)
                analyzed, stored, size, cpu, indexes = sv.run(f)
                sv.indexes[f].append(indexes)
                sv.cpu[f][0].append(cli_cpu)
                sv.cpu[f][1].append(cpu)
                c, a, st, _ = sv.seen[f]
                c.append(cli)
                a.append(analyzed)
                st.append(stored)
                sv.seen[f] = (c, a, st, size)
    for sv in servers:
        for f, (c, a, st, size) in sv.seen.items():
            total = statistics.median(x + y for x, y in zip(a, st))
            cli = statistics.median(c)
            print(f"{sv.binary}: {os.path.basename(f)}: CLI median {cli:.3f} s; serve median {total:.3f} s "
                  f"(analysis {statistics.median(a):.3f} s + commit {statistics.median(st):.3f} s), "
                  f"ratio {total / cli:.2f}x; results.db {size / 1e6:.0f} MB; {rounds} rounds")
            paired = statistics.median((x + y) / z for x, y, z in zip(a, st, c))
            print(f"    median of each round's ratio (serve / the CLI run just before it): "
                  f"{paired:.2f}x")
            print(f"    then the page indexes, in the background: median "
                  f"{statistics.median(sv.indexes[f]):.3f} s")
            cli_cpu, serve_cpu = (statistics.median(x) for x in sv.cpu[f])
            print(f"    CPU: CLI user+sys median {cli_cpu:.3f} s; serve worker + results writer "
                  f"median {serve_cpu:.3f} s, ratio {serve_cpu / cli_cpu:.2f}x")
finally:
    for sv in servers:
        sv.stop()
