#!/usr/bin/env python3
"""A/B timing of `tracedeck analyze FILE --json` for two (or more) builds.

    bench/ab.py ROUNDS FILE BIN_A BIN_B [BIN ...]

Runs the binaries in turn, ROUNDS times each, interleaved so that the
machine's noise falls on all of them alike, and prints for each the median
and minimum wall time and the median CPU time (user + sys, all threads).
Copy a build aside (cp target/release/tracedeck /tmp/td-before) before
changing the code, then compare.
"""
import resource
import statistics
import subprocess
import sys
import time

rounds, path, binaries = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
seen = {b: ([], []) for b in binaries}
for _ in range(rounds):
    for b in binaries:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([b, "analyze", path, "--json"], stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        seen[b][0].append(wall)
        seen[b][1].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
for b, (walls, cpus) in seen.items():
    print(
        f"{b}: wall median {statistics.median(walls):.3f} s, min {min(walls):.3f} s; "
        f"CPU median {statistics.median(cpus):.3f} s"
    )
