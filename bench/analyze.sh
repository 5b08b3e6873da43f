#!/usr/bin/env bash
# Times `tracedeck analyze --json` against tshark on the same generated
# capture, in the same run, and prints both, their ratio, throughput and
# our peak RSS.
#
#   bench/analyze.sh [SIZE]     SIZE of the generated capture, default 1G
#
# Needs tshark (apt-get install tshark). The capture is generated under
# ${BENCH_DIR:-/tmp/tracedeck-bench} and reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
dir=${BENCH_DIR:-/tmp/tracedeck-bench}
mkdir -p "$dir"
cap="$dir/gen-$size.pcap"
cargo build --release --quiet --bin tracedeck --example gencap
if [ ! -s "$cap" ]; then
  ./target/release/examples/gencap "$cap" --bytes "$size"
fi
bytes=$(stat -c %s "$cap")
packets=$(capinfos -c -M "$cap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')

measure() { # label cmd... -> prints seconds and max RSS KiB
  /usr/bin/time -o "$dir/time.txt" -f '%e %M %U %S' "$@" >/dev/null 2>&1
  tail -1 "$dir/time.txt"
}

# Warm the page cache so both read from memory.
cat "$cap" >/dev/null
read -r ours ours_rss ou os < <(measure ./target/release/tracedeck analyze "$cap" --json)
read -r filt filt_rss fu fs < <(measure ./target/release/tracedeck analyze "$cap" --json --filter "tcp port 8080")
read -r theirs theirs_rss tu ts < <(measure tshark -n -r "$cap" -q -z conv,tcp -z http,tree)

python3 - "$bytes" "$packets" "$ours" "$ours_rss" "$theirs" "$theirs_rss" "$ou" "$os" "$tu" "$ts" "$fu" "$fs" <<'PY'
import sys
b, p, ours, ours_rss, theirs, theirs_rss, ou, os_, tu, ts, fu, fs = sys.argv[1:]
filt_cpu = float(fu) + float(fs)
b, p = int(b), int(p)
ours, theirs = float(ours), float(theirs)
ours_cpu, theirs_cpu = float(ou) + float(os_), float(tu) + float(ts)
print(f"capture: {b/1e6:.0f} MB, {p} packets")
print(f"tracedeck analyze --json: {ours:.2f} s, {b/1e6/ours:.0f} MB/s, {p/ours/1e6:.2f} M packets/s, peak RSS {int(ours_rss)/1024:.0f} MB")
print(f"tshark -q -z conv,tcp -z http,tree: {theirs:.2f} s, {b/1e6/theirs:.0f} MB/s, peak RSS {int(theirs_rss)/1024:.0f} MB")
print(f"CPU time (user+sys): tracedeck {ours_cpu:.2f} s ({p/max(ours_cpu,1e-9)/1e6:.2f} M packets/s per core), tshark {theirs_cpu:.2f} s")
print(f"with --filter 'tcp port 8080': CPU {filt_cpu:.2f} s, {100*(filt_cpu/max(float(ou)+float(os_),1e-9)-1):+.0f}% over no filter")
print(f"ratio: tracedeck is {theirs/ours:.1f}x tshark's speed by wall clock, {theirs_cpu/max(ours_cpu,1e-9):.1f}x by CPU time")
PY
