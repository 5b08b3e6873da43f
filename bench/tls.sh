#!/usr/bin/env bash
# TLS bench: makes a TLS capture of about SIZE_MB (default 300) at bench
# time (curl downloading over one keep-alive TLS 1.3 connection per 10 MB
# from sample-captures/tls/https_server.py on loopback, SSLKEYLOGFILE
# set), then times (CPU seconds, RUNS=3 interleaved runs each, medians), on
# the same file in the same run:
#   tracedeck analyze --keylog (decrypting: HTTP exchanges)
#   tshark -o tls.keylog_file:... -q -z http,tree
#   tracedeck analyze without a key log, and OLD_BINARY (main) the same,
#   for what TLS metadata costs when nothing is decrypted.
# Needs root (tcpdump), curl, openssl, python3, tshark.
#   sudo bench/tls.sh NEW_BINARY [OLD_BINARY] [SIZE_MB]
set -euo pipefail
new=${1:?usage: tls.sh NEW_BINARY [OLD_BINARY] [SIZE_MB]}
old=${2:-}
size_mb=${3:-300}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench.test" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
python3 "$here/sample-captures/tls/https_server.py" 9443 "$tmp/cert.pem" "$tmp/key.pem" &
for _ in $(seq 50); do curl -sk -o /dev/null https://127.0.0.1:9443/ && break; sleep 0.1; done
tcpdump -i lo -s 0 -U -B 65536 -w "$tmp/tls.pcap" port 9443 2>/dev/null &
cap=$!
sleep 1.5
export SSLKEYLOGFILE="$tmp/keys.txt"
for _ in $(seq $((size_mb / 10))); do
  # Ten 1 MB responses on one connection.
  args=(); for i in $(seq 10); do args+=(-o /dev/null "https://127.0.0.1:9443/bytes/1000000?$i"); done
  curl -sk --tlsv1.3 "${args[@]}"
done
unset SSLKEYLOGFILE
sleep 1; kill -INT $cap; wait $cap 2>/dev/null || true
bytes=$(stat -c %s "$tmp/tls.pcap")
echo "capture: $((bytes / 1000000)) MB, $(wc -l < "$tmp/keys.txt") key log lines"
# CPU seconds (user + sys) of one run: steadier than wall time on a
# shared machine. Each tool runs RUNS times (default 3), interleaved, and
# the medians are compared.
cpu() { local TIMEFORMAT='%U %S'; { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}'; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
runs=${RUNS:-3}
exchanges=$("$new" analyze "$tmp/tls.pcap" --keylog "$tmp/keys.txt" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["http"]))')
for _ in $(seq "$runs"); do
  cpu "$new" analyze "$tmp/tls.pcap" --keylog "$tmp/keys.txt" --http --limit 0 >>"$tmp/ours"
  cpu tshark -n -o "tls.keylog_file:$tmp/keys.txt" -r "$tmp/tls.pcap" -q -z http,tree >>"$tmp/theirs"
  cpu "$new" analyze "$tmp/tls.pcap" --json >>"$tmp/plain"
  if [ -n "$old" ]; then cpu "$old" analyze "$tmp/tls.pcap" --json >>"$tmp/base"; fi
done
ours=$(median <"$tmp/ours"); theirs=$(median <"$tmp/theirs"); plain=$(median <"$tmp/plain")
echo "medians of $runs interleaved runs, CPU seconds (user + sys):"
echo "tracedeck analyze --keylog: ${ours}s ($exchanges HTTPS exchanges, $(echo "$bytes / $ours / 1000000" | bc) MB/s) [runs: $(tr '\n' ' ' <"$tmp/ours")]"
echo "tshark -z http,tree with the key log: ${theirs}s (ratio $(echo "scale=1; $theirs / $ours" | bc)x) [runs: $(tr '\n' ' ' <"$tmp/theirs")]"
echo "tracedeck analyze without a key log: ${plain}s [runs: $(tr '\n' ' ' <"$tmp/plain")]"
# What decrypting costs over reading the same records without keys: an
# upper bound of AES-GCM's share (framing and HTTP parsing are in it too).
extra=$(echo "$ours - $plain" | bc)
if [ "$(echo "$extra > 0" | bc)" = 1 ]; then
  echo "decrypting and parsing the plaintext: ${extra}s, $(echo "scale=2; $bytes / $extra / 1000000000" | bc) GB/s of capture"
fi
if [ -n "$old" ]; then
  base=$(median <"$tmp/base")
  echo "OLD_BINARY analyze without a key log: ${base}s [runs: $(tr '\n' ' ' <"$tmp/base")]"
fi
