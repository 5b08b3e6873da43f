#!/usr/bin/env bash
# TLS bench: makes a TLS capture of about SIZE_MB (default 300) at bench
# time (curl downloading over one keep-alive TLS 1.3 connection per 10 MB
# from sample-captures/tls/https_server.py on loopback, SSLKEYLOGFILE
# set), then times, on the same file in the same run:
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
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
ours=$(secs "$new" analyze "$tmp/tls.pcap" --keylog "$tmp/keys.txt" --http --limit 0)
exchanges=$("$new" analyze "$tmp/tls.pcap" --keylog "$tmp/keys.txt" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["http"]))')
theirs=$(secs tshark -n -o "tls.keylog_file:$tmp/keys.txt" -r "$tmp/tls.pcap" -q -z http,tree)
plain=$(secs "$new" analyze "$tmp/tls.pcap" --json)
echo "tracedeck analyze --keylog: ${ours}s ($exchanges HTTPS exchanges, $(echo "$bytes / $ours / 1000000" | bc) MB/s)"
echo "tshark -z http,tree with the key log: ${theirs}s (ratio $(echo "scale=1; $theirs / $ours" | bc)x)"
echo "tracedeck analyze without a key log: ${plain}s"
if [ -n "$old" ]; then
  base=$(secs "$old" analyze "$tmp/tls.pcap" --json)
  echo "main's tracedeck analyze (no TLS analyzer): ${base}s"
fi
