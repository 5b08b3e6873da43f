#!/usr/bin/env python3
"""Endpoints' cost (README, "Endpoints"): `analyze --http --limit 1` (the
same analysis, every exchange made into a row) against `analyze
--endpoints --limit 1` (the same, plus the endpoints), interleaved runs,
medians; then, with --serve, the page and API latency after an upload.

    bench/endpoints.py [--size 1G] [--runs 5] [--many] [--serve] [--capture FILE]...
    bench/endpoints.py --generated 5000000 [--runs 3] [--serve]   (--runs 0: the check only)

--generated N: instead, a capture of N exchanges over ~500 endpoints with
known latency distributions (bench/endpoints_gen.rs, built here with
rustc); prints peak RSS too, and checks every endpoint's count and
percentiles against the values drawn (exact up to a million exchanges per
endpoint, within 1% beyond, where the output must say "sketch").

--size: the gencap capture (README "Benchmarks"; reused under
$BENCH_DIR, default /tmp/tracedeck-bench). --many: also a capture of many
short exchanges (gencap --requests-per-conn 200). Build first:
cargo build --release --bin tracedeck --example gencap.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time, urllib.parse, urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_ = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release")
ours = os.path.join(bin_, "tracedeck")
gencap = os.path.join(bin_, "examples", "gencap")
bench_dir = os.environ.get("BENCH_DIR", "/tmp/tracedeck-bench")


def capture(name, args):
    os.makedirs(bench_dir, exist_ok=True)
    path = os.path.join(bench_dir, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        subprocess.run([gencap, path] + args, check=True, stdout=subprocess.DEVNULL)
    return path


def timed(cmd):
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one run."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def generated(n):
    """The capture of n exchanges with known distributions, and its sidecar."""
    os.makedirs(bench_dir, exist_ok=True)
    gen = os.path.join(bench_dir, "endpoints_gen")
    subprocess.run(["rustc", "-O", "--edition", "2021", os.path.join(root, "bench", "endpoints_gen.rs"),
                    "-o", gen], check=True)
    path = os.path.join(bench_dir, f"ep-{n}.pcap")
    if not os.path.exists(path + ".expect.tsv"):
        subprocess.run([gen, path, str(n)], check=True)
    return path


def check_percentiles(cap):
    """Every endpoint of `analyze --endpoints --json` against the drawn values."""
    out = subprocess.run([ours, "analyze", cap, "--endpoints", "--json", "--limit", "100000"],
                         capture_output=True, text=True, check=True).stdout
    rows = {(r["method"], r["host"], r["template"]): r for r in json.loads(out)["endpoints"]}
    bad, sketched, worst = [], 0, 0.0
    with open(cap + ".expect.tsv") as f:
        for line in f:
            method, host, template, count, *want = line.rstrip("\n").split("\t")
            r = rows.pop((method, host, template), None)
            if r is None:
                bad.append(f"missing {method} {host} {template}")
                continue
            if r["count"] != int(count):
                bad.append(f"{template}: count {r['count']} != {count}")
            sketch = int(count) > 1_000_000
            sketched += sketch
            if r["percentiles"] != ("sketch ±1%" if sketch else "exact"):
                bad.append(f"{template}: percentiles {r['percentiles']!r} with {count} values")
            for name, w in zip(["total_p50", "total_p90", "total_p99", "total_max"], map(int, want)):
                got = round(r[name] * 1e9) if isinstance(r[name], float) else r[name]
                err = abs(got - w) / w
                worst = max(worst, err) if sketch else worst
                if (err > 0.01) if sketch else (got != w):
                    bad.append(f"{template}: {name} {got} != {w} ({100 * err:.2f}%)")
    bad += [f"unexpected endpoint {k}" for k in rows]
    print(f"  percentiles: {len(bad)} mismatches; {sketched} endpoint(s) past a million values"
          f" (sketch, worst error {100 * worst:.2f}%)")
    for b in bad[:10]:
        print("   ", b)
    return not bad


def compare(cap, runs):
    with open(cap, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    base = [ours, "analyze", cap, "--http", "--limit", "1"]
    with_ep = [ours, "analyze", cap, "--endpoints", "--limit", "1"]
    timed(base), timed(with_ep)  # warm-up, untimed
    a, b = [], []
    for _ in range(runs):  # interleaved: drift hits both alike
        a.append(timed(base))
        b.append(timed(with_ep))
    out = subprocess.run(with_ep, capture_output=True, text=True, check=True).stdout
    head = out.splitlines()[0] if out else ""
    print(f"{os.path.basename(cap)}: {head.split(': ', 1)[-1]}")
    for i, what in [(0, "wall"), (1, "CPU")]:
        ma = statistics.median(x[i] for x in a)
        mb = statistics.median(x[i] for x in b)
        print(f"  {what:4} analyze --http {ma:.3f} s, --endpoints {mb:.3f} s (medians of {runs}):"
              f" endpoints add {100 * (mb - ma) / ma:+.1f}%")
    print(f"  peak RSS analyze --http {max(x[2] for x in a):.0f} MiB,"
          f" --endpoints {max(x[2] for x in b):.0f} MiB")


def peak_rss(pid):
    """VmHWM of a running process, MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def serve(cap, runs):
    data = os.path.join(bench_dir, "serve-data")
    subprocess.run(["rm", "-rf", data], check=True)
    p = subprocess.Popen([ours, "serve", "--addr", "127.0.0.1:0", "--data-dir", data],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = "http://" + p.stdout.readline().split("http://")[1].split("/")[0]
        with open(cap, "rb") as f:
            req = urllib.request.Request(base + "/api/captures?name=bench.pcap", data=f, method="POST",
                                         headers={"Content-Length": str(os.path.getsize(cap))})
            cid = json.load(urllib.request.urlopen(req))["id"]
        t0 = time.perf_counter()
        while json.load(urllib.request.urlopen(f"{base}/api/captures/{cid}"))["status"] not in ("done", "failed"):
            time.sleep(0.5)
        print(f"  upload and analysis: {time.perf_counter() - t0:.1f} s;"
              f" server peak RSS {peak_rss(p.pid):.0f} MiB")
        # The least busy endpoint's own view: its line is made from its
        # exchanges (only the busiest endpoints' lines are stored).
        rows = json.load(urllib.request.urlopen(f"{base}/api/captures/{cid}/endpoints?limit=1000"))["items"]
        last = rows[-1] if rows else {}
        one = urllib.parse.urlencode([(k, last[k]) for k in ("method", "host", "template") if last.get(k)])
        for path in [f"/c/{cid}/endpoints", f"/api/captures/{cid}/endpoints",
                     f"/c/{cid}/endpoints?sort=total_p99", f"/c/{cid}/endpoints?{one}",
                     f"/api/captures/{cid}/endpoints?{one}", f"/c/{cid}/http"]:
            urllib.request.urlopen(base + path).read()
            t = []
            for _ in range(runs):
                t0 = time.perf_counter()
                urllib.request.urlopen(base + path).read()
                t.append(time.perf_counter() - t0)
            print(f"  GET {path.replace(cid, 'ID')}: median {1000 * statistics.median(t):.1f} ms"
                  f" (of {runs})")
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1G")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--many", action="store_true")
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--capture", action="append", default=[],
                    help="an existing capture to use instead of generating one")
    ap.add_argument("--generated", type=int, metavar="N",
                    help="a capture of N exchanges with known latency distributions")
    a = ap.parse_args()
    if a.generated:
        cap = generated(a.generated)
        ok = check_percentiles(cap)
        if a.runs:
            compare(cap, a.runs)
        if a.serve:
            serve(cap, a.runs)
        return 0 if ok else 1
    caps = a.capture or [capture(f"gen-{a.size}.pcap", ["--bytes", a.size])]
    if a.many:
        caps.append(capture("gen-many-exchanges.pcap",
                            ["--bytes", "200M", "--requests-per-conn", "200"]))
    for cap in caps:
        compare(cap, a.runs)
        if a.serve:
            serve(cap, a.runs)


if __name__ == "__main__":
    sys.exit(main())
