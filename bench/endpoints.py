#!/usr/bin/env python3
"""Endpoints' cost (README, "Endpoints"): `analyze --http --limit 1` (the
same analysis, every exchange made into a row) against `analyze
--endpoints --limit 1` (the same, plus the endpoints), interleaved runs,
medians; then, with --serve, the page and API latency after an upload.

    bench/endpoints.py [--size 1G] [--runs 5] [--many] [--serve] [--capture FILE]...

--size: the gencap capture (README "Benchmarks"; reused under
$BENCH_DIR, default /tmp/tracedeck-bench). --many: also a capture of many
short exchanges (gencap --requests-per-conn 200). Build first:
cargo build --release --bin tracedeck --example gencap.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time, urllib.request

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
    """Wall seconds and CPU seconds (user + sys) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


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
        while json.load(urllib.request.urlopen(f"{base}/api/captures/{cid}"))["status"] not in ("done", "failed"):
            time.sleep(0.5)
        for path in [f"/c/{cid}/endpoints", f"/api/captures/{cid}/endpoints",
                     f"/c/{cid}/endpoints?sort=total_p99", f"/c/{cid}/http"]:
            urllib.request.urlopen(base + path).read()
            t = []
            for _ in range(runs):
                t0 = time.perf_counter()
                urllib.request.urlopen(base + path).read()
                t.append(time.perf_counter() - t0)
            print(f"  GET {path.replace(cid, 'ID')}: median {1000 * statistics.median(t):.1f} ms")
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
    a = ap.parse_args()
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
