#!/usr/bin/env bash
# Benchmark of `tracedeck capture` against `tcpdump -w` on the same traffic.
#
# A UDP blaster of ours (bench/blaster.rs) sends fixed-size datagrams over
# loopback at fixed rates inside a private network namespace; tcpdump and
# tracedeck capture the same lo at the same time, with the same ring
# memory (tcpdump -B 4096 KiB; tracedeck's ring is 8 x 512 KiB) and the
# default snaplen. For each tool it prints packets captured and written,
# packets/s, kernel drops and CPU time per packet (/proc/PID/schedstat,
# else utime+stime from /proc/PID/stat), and the ratio tracedeck/tcpdump.
#
# Usage (as root): bench/capture.sh [RATE_PPS ...]   (default: 50000 200000)
# Env: SECS (default 3), PAYLOAD (default 100 bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/capture.sh needs root" >&2; exit 1; }
RATES=("${@:-50000 200000}"); RATES=(${RATES[@]})
SECS=${SECS:-3}
PAYLOAD=${PAYLOAD:-100}

cargo build --release --quiet
mkdir -p target/bench
rustc -O --edition 2021 bench/blaster.rs -o target/bench/blaster
BIN=$PWD/target/release/tracedeck
BLASTER=$PWD/target/bench/blaster
WORK=$(mktemp -d /tmp/tracedeck-bench.XXXXXX)
NS=tdbench-$$
ip netns add "$NS"
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ip netns exec "$NS" ip link set lo up
TCK=$(getconf CLK_TCK)

cpu_secs() { # CPU time of a live single-threaded process, in seconds (ns precision from schedstat)
  if [ -r "/proc/$1/schedstat" ]; then
    awk '{ printf "%.4f", $1 / 1e9 }' "/proc/$1/schedstat"
  else
    awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"
  fi
}
wait_for() { # file, text
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "not ready: $1" >&2; cat "$1" >&2; exit 1
}

printf "%-9s %-10s %9s %10s %10s %9s %8s %10s %9s\n" rate tool sent captured in_file pkts/s drops cpu_s us/pkt
for RATE in "${RATES[@]}"; do
  rm -f "$WORK"/*.pcap "$WORK"/*.err
  ip netns exec "$NS" "$BIN" capture -i lo -w "$WORK/ours.pcap" --max-size 4GB 2>"$WORK/ours.err" &
  OURS=$!
  ip netns exec "$NS" tcpdump -i lo -n -B 4096 -Z root -w "$WORK/tcpdump.pcap" 2>"$WORK/tcpdump.err" &
  TD=$!
  wait_for "$WORK/ours.err" "capturing on"
  wait_for "$WORK/tcpdump.err" "listening on"
  read -r SENT TOOK < <(ip netns exec "$NS" "$BLASTER" "$RATE" "$SECS" "$PAYLOAD")
  sleep 1.5 # tcpdump hands a ring block over after 1 s
  OURS_CPU=$(cpu_secs $OURS); TD_CPU=$(cpu_secs $TD)
  kill -INT $OURS $TD; wait $OURS $TD || true

  OURS_CAP=$(sed -n 's/^tracedeck: \([0-9]*\) packets captured.*/\1/p' "$WORK/ours.err")
  OURS_DROP=$(sed -n 's/.* \([0-9]*\) dropped by the kernel.*/\1/p' "$WORK/ours.err")
  TD_CAP=$(sed -n 's/^\([0-9]*\) packets captured/\1/p' "$WORK/tcpdump.err")
  TD_DROP=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$WORK/tcpdump.err")
  OURS_FILE=$(capinfos -c -M "$WORK/ours.pcap" | awk '/Number of packets/ {print $NF}')
  TD_FILE=$(capinfos -c -M "$WORK/tcpdump.pcap" | awk '/Number of packets/ {print $NF}')
  for row in "tracedeck $OURS_CAP $OURS_FILE $OURS_DROP $OURS_CPU" "tcpdump $TD_CAP $TD_FILE $TD_DROP $TD_CPU"; do
    set -- $row
    awk -v rate="$RATE" -v tool="$1" -v sent="$SENT" -v cap="$2" -v file="$3" -v drop="$4" -v cpu="$5" -v took="$TOOK" \
      'BEGIN { printf "%-9s %-10s %9d %10d %10d %9.0f %8d %10.4f %9.3f\n", rate, tool, sent, cap, file, cap/took, drop, cpu, (cap ? cpu/cap*1e6 : 0) }'
  done
  awk -v a="$OURS_CPU" -v b="$TD_CPU" -v ca="$OURS_CAP" -v cb="$TD_CAP" -v da="$OURS_DROP" -v db="$TD_DROP" -v r="$RATE" \
    'BEGIN { printf "%-9s ratio tracedeck/tcpdump: CPU per packet %.2f, drops %d vs %d\n", r, (ca && cb && b > 0) ? (a/ca)/(b/cb) : 0, da, db }'
done
