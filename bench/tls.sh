#!/usr/bin/env bash
# TLS bench (README, "TLS"): makes two captures of about SIZE_MB each
# (default 300) at bench time, the same traffic over HTTPS (TLS 1.3, key
# log kept) and over plain HTTP (the twin): curl downloading ten 1 MB
# responses per keep-alive connection from
# sample-captures/tls/https_server.py. They are made inside a network
# namespace made for the bench whose loopback has a 1500-byte MTU with GSO
# off (gso_max_segs 1), so the capture holds the segments of a real
# network, not 64 kB loopback ones; nothing leaves the namespace. Then, on
# those files, RUNS times (default 5) interleaved, medians:
#   instructions (perf stat, user space): analyze --json on the plain twin
#     and on the TLS capture without a key log: what TLS metadata costs
#     (goal: at most +5%);
#   CPU seconds and wall time: analyze --keylog --http --limit 0 against
#     tshark -o tls.keylog_file:KEYS -q -z http,tree (goal: 20x or more).
# OLD_BINARY (e.g. main's), when given, gets the instruction counts too.
#
#   sudo bench/tls.sh NEW_BINARY [OLD_BINARY] [SIZE_MB]
#
# Needs root (ip netns), dumpcap, curl, openssl, python3, tshark, and perf
# (or valgrind).
# The captures are kept under ${BENCH_DIR:-/tmp/tracedeck-bench} and reused
# (MAKE_ONLY=1: only make them).
set -euo pipefail
new=${1:?usage: tls.sh NEW_BINARY [OLD_BINARY] [SIZE_MB]}
old=${2:-}
size_mb=${3:-300}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tracedeck-bench}
tls="$dir/tls-${size_mb}MB.pcap"
keys="$dir/tls-${size_mb}MB.keys.txt"
plain="$dir/plain-${size_mb}MB.pcap"
mkdir -p "$dir"

# make_capture tls|plain OUT: the traffic of one kind, captured.
make_capture() {
  local kind=$1 out=$2 ns=tdtlsbench$$ tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; \
        ip netns del $ns 2>/dev/null || true; rm -rf '$tmp'" EXIT
  ip netns add "$ns"
  ip -n "$ns" link set lo mtu 1500 gso_max_segs 1 gso_max_size 1500 up
  # At most 1 Gbit/s, so the capture keeps every packet on a busy machine.
  ip netns exec "$ns" tc qdisc add dev lo root tbf rate "${RATE:-1gbit}" burst 256kb latency 100ms
  local scheme=https cert=- key=-
  if [ "$kind" = tls ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench.test" \
      -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
    cert="$tmp/cert.pem" key="$tmp/key.pem"
  else
    scheme=http
  fi
  ip netns exec "$ns" python3 "$here/sample-captures/tls/https_server.py" 9443 "$cert" "$key" &
  for _ in $(seq 50); do
    ip netns exec "$ns" curl -sk -o /dev/null "$scheme://127.0.0.1:9443/" && break
    sleep 0.1
  done
  ip netns exec "$ns" dumpcap -q -P -s 0 -B 128 -i lo -f "tcp port 9443" -w "$out.part" \
    2>"$tmp/dumpcap.txt" &
  local cap=$!
  sleep 2
  rm -f "$keys.part"
  for _ in $(seq $((size_mb / 10))); do
    # Ten 1 MB responses on one connection.
    local args=()
    for i in $(seq 10); do args+=(-o /dev/null "$scheme://127.0.0.1:9443/bytes/1000000?$i"); done
    if [ "$kind" = tls ]; then
      ip netns exec "$ns" env SSLKEYLOGFILE="$keys.part" curl -sk --tlsv1.3 "${args[@]}"
    else
      ip netns exec "$ns" curl -s "${args[@]}"
    fi
  done
  sleep 1
  kill -INT "$cap"
  wait "$cap" 2>/dev/null || true
  grep -i drop "$tmp/dumpcap.txt" || true
  mv "$out.part" "$out"
  if [ "$kind" = tls ]; then mv "$keys.part" "$keys"; fi
  ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
  ip netns del "$ns"
  rm -rf "$tmp"
  trap - EXIT
}
[ -s "$tls" ] && [ -s "$keys" ] || make_capture tls "$tls"
[ -s "$plain" ] || make_capture plain "$plain"
for f in "$plain" "$tls"; do
  echo "$(basename "$f"): $(($(stat -c %s "$f") / 1000000)) MB, $(tshark -r "$f" -T fields -e frame.len 2>/dev/null | awk '{n++; if ($1 > 1514) big++} END {print n " packets, " big+0 " over 1514 bytes"}')"
done
[ -z "${MAKE_ONLY:-}" ] || exit 0

# User-space instructions of one run (all threads): perf's counter, or
# where the machine has none (a VM), valgrind's count (cachegrind, slower;
# it counts a `rep movsb` copy per byte moved).
if perf stat -x, -e instructions:u -- true 2>&1 | grep -q '^[0-9]'; then
  instr() { perf stat -x, -e instructions:u -- "$@" 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}'; }
else
  echo "instructions: perf has no counter here, valgrind --tool=cachegrind counts them"
  instr() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      awk '/I *refs/ {gsub(",", "", $NF); print $NF}'
  }
fi
# CPU seconds (user + sys) and wall seconds of one run.
cpu() { local TIMEFORMAT='%U %S %R'; { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2, $3}'; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
t="$dir/times.$$"
mkdir -p "$t"
for _ in $(seq "$runs"); do
  instr "$new" analyze "$plain" --json >>"$t/i_plain"
  instr "$new" analyze "$tls" --json >>"$t/i_tls"
  if [ -n "$old" ]; then
    instr "$old" analyze "$plain" --json >>"$t/i_old_plain"
    instr "$old" analyze "$tls" --json >>"$t/i_old_tls"
  fi
  cpu "$new" analyze "$tls" --keylog "$keys" --http --limit 0 >>"$t/ours"
  cpu tshark -n -o "tls.keylog_file:$keys" -r "$tls" -q -z http,tree >>"$t/theirs"
done
exchanges=$("$new" analyze "$tls" --keylog "$keys" --http --limit 1 | head -1)
theirs_n=$(tshark -n -o "tls.keylog_file:$keys" -r "$tls" -q -z http,tree | awk '/Total HTTP Packets|HTTP Requests by HTTP Host/ {print; exit}')
col() { awk -v c="$1" '{print $c}'; }
ip=$(median <"$t/i_plain"); it=$(median <"$t/i_tls")
echo "medians of $runs interleaved runs:"
echo "instructions, analyze --json: plain twin $ip, TLS without a key log $it: $(echo "scale=1; ($it - $ip) * 100 / $ip" | bc)% (goal: at most +5%)"
if [ -n "$old" ]; then
  op=$(median <"$t/i_old_plain"); ot=$(median <"$t/i_old_tls")
  echo "OLD_BINARY: plain twin $op, TLS without a key log $ot: $(echo "scale=1; ($ot - $op) * 100 / $op" | bc)%"
fi
oc=$(col 1 <"$t/ours" | median); ow=$(col 2 <"$t/ours" | median)
tc=$(col 1 <"$t/theirs" | median); tw=$(col 2 <"$t/theirs" | median)
echo "analyze --keylog --http: CPU ${oc}s, wall ${ow}s ($exchanges)"
echo "tshark -z http,tree with the key log: CPU ${tc}s, wall ${tw}s ($theirs_n)"
echo "ratio: CPU $(echo "scale=1; $tc / $oc" | bc)x, wall $(echo "scale=1; $tw / $ow" | bc)x (goal: 20x or more)"
echo "runs (CPU wall): ours $(tr '\n' ' ' <"$t/ours")| tshark $(tr '\n' ' ' <"$t/theirs")"
rm -rf "$t"
