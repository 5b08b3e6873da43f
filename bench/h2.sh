#!/usr/bin/env bash
# HTTP/2 speed bench (README, "HTTP/2 and gRPC"): makes an h2c capture of
# about SIZE_MB (default 300) at bench time, then times on that file, in
# the same run and interleaved:
#   tracedeck analyze --json   (every stream an exchange, verdicts)
#   tshark -q -z http2,tree    (tshark's HTTP/2 statistic: frames by type;
#                               it dissects every frame, HPACK included)
# and prints the medians and their ratio (the goal: 20x tshark or more).
#
# The traffic: h2load (nghttp2-client) against nghttpd (nghttp2-server)
# over h2c with prior knowledge, CLIENTS connections with up to 20 streams
# at once each, cycling through responses of 600 B, 8 kB, 48 kB and
# 200 kB (DATA frames, WINDOW_UPDATEs, a header block per stream). It
# runs inside a network namespace made for the bench whose loopback has a
# 1500-byte MTU with GSO off (gso_max_segs 1, as bench/tls.sh), so the
# capture holds the segments of a real network, not 64 kB loopback ones
# (with the MTU alone, segmentation offload still hands tcpdump 20 kB
# "packets"); nothing leaves the namespace. The script prints how many
# packets are over 1514 bytes (0 expected).
#
#   sudo bench/h2.sh BINARY [SIZE_MB] [RUNS]
#
# Needs root (ip netns, tcpdump), nghttp2-client, nghttp2-server, tshark.
# The capture is kept under ${BENCH_DIR:-/tmp/tracedeck-bench} and reused.
set -euo pipefail
bin=${1:?usage: h2.sh BINARY [SIZE_MB] [RUNS]}
size_mb=${2:-300}
runs=${3:-5}
clients=${CLIENTS:-8}
dir=${BENCH_DIR:-/tmp/tracedeck-bench}
cap="$dir/h2c-${size_mb}MB-mtu1500.pcap"
mkdir -p "$dir"

if [ ! -s "$cap" ]; then
  ns=tdh2bench$$
  tmp=$(mktemp -d)
  cleanup() {
    # Only what runs inside the bench's own namespace (nghttpd).
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  ip netns add "$ns"
  ip -n "$ns" link set lo mtu 1500 gso_max_segs 1 gso_max_size 1500 up
  # At most 200 Mbit/s, so tcpdump keeps every one of the 1500-byte packets
  # on a busy machine (at 1 Gbit/s it dropped some here).
  ip netns exec "$ns" tc qdisc add dev lo root tbf rate "${RATE:-200mbit}" burst 256kb latency 100ms
  mkdir "$tmp/www"
  sizes=(600 8000 48000 200000)
  for s in "${sizes[@]}"; do head -c "$s" /dev/urandom > "$tmp/www/r$s"; done
  ip netns exec "$ns" nghttpd --no-tls -d "$tmp/www" 8080 >/dev/null 2>&1 &
  ip netns exec "$ns" tcpdump -i lo -s 0 -B 131072 -w "$cap.part" tcp port 8080 2>"$tmp/tcpdump.txt" &
  tcpdump_pid=$! # ip netns exec execs the command: this is tcpdump
  sleep 1.5
  # Bytes per round of the four URIs, headers and framing aside.
  per_round=$(( (600 + 8000 + 48000 + 200000) / 4 ))
  requests=$(( size_mb * 1000000 / per_round / 100 * 100 ))
  uris=(); for s in "${sizes[@]}"; do uris+=("http://127.0.0.1:8080/r$s"); done
  ip netns exec "$ns" h2load -n "$requests" -c "$clients" -m 20 "${uris[@]}" > "$tmp/h2load.txt"
  grep -E '^(finished in|requests:|status codes:|traffic:)' "$tmp/h2load.txt"
  sleep 1
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" 2>/dev/null || true
  # A capture with holes would time the gap handling, not the analyzer.
  if ! grep -q '^0 packets dropped by kernel' "$tmp/tcpdump.txt"; then
    cat "$tmp/tcpdump.txt" >&2
    echo "tcpdump dropped packets: try a lower RATE (now ${RATE:-200mbit})" >&2
    rm -f "$cap.part"
    exit 1
  fi
  mv "$cap.part" "$cap"
fi

bytes=$(stat -c %s "$cap")
echo "$(basename "$cap"): $((bytes / 1000000)) MB, $(tshark -r "$cap" -T fields -e frame.len 2>/dev/null | awk '{n++; if ($1 > 1514) big++} END {print n " packets, " big+0 " over 1514 bytes"}')"
cat "$cap" >/dev/null # page cache: both read from memory

python3 - "$cap" "$bin" "$bytes" "$runs" <<'PY'
import json, resource, statistics, subprocess, sys, time
cap, ours_bin, size, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cmds = {
    "tracedeck analyze --json": [ours_bin, "analyze", cap, "--json"],
    "tshark -q -z http2,tree": ["tshark", "-n", "-r", cap, "-d", "tcp.port==8080,http2",
                                 "-q", "-z", "http2,tree"],
}

def timed(cmd, out=subprocess.DEVNULL):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done

# What each side found, so a broken analyzer cannot look fast.
_, _, ours = timed(cmds["tracedeck analyze --json"], subprocess.PIPE)
doc = json.loads(ours.stdout)
h2 = [e for e in doc["http"] if e.get("http_version") == 2]
_, _, theirs = timed(cmds["tshark -q -z http2,tree"], subprocess.PIPE)
print(f"capture: {size/1e6:.0f} MB; tracedeck: {len(doc['http'])} exchanges, {len(h2)} HTTP/2 streams")
print("tshark's statistic:\n" + "\n".join(
    "  " + " ".join(l.split()[:2]) for l in theirs.stdout.decode().splitlines()
    if l.startswith("HTTP2 ") or l.strip().startswith(("HEADERS ", "DATA "))))

seen = {k: ([], []) for k in cmds}
# Interleaved (these machines are shared and noisy): one round runs each
# command once; the medians compare the same moments.
for _ in range(runs):
    for name, cmd in cmds.items():
        wall, cpu, _ = timed(cmd)
        seen[name][0].append(wall)
        seen[name][1].append(cpu)
med = {k: (statistics.median(w), statistics.median(c)) for k, (w, c) in seen.items()}
(ow, oc), (tw, tc) = med["tracedeck analyze --json"], med["tshark -q -z http2,tree"]
for name, (w, c) in med.items():
    print(f"{name}: wall {w:.3f} s, CPU {c:.3f} s, {size/1e6/w:.0f} MB/s (median of {runs})")
print(f"ratio: wall {tw/ow:.1f}x, CPU {tc/oc:.1f}x (goal: 20x)")
PY
