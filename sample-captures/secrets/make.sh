#!/usr/bin/env bash
# Makes the redaction sample with real tools on loopback, as root: tcpdump
# (pcap) and dumpcap (pcapng, then a capture comment added by editcap)
# record curl talking to server.py. Secrets on the wire: SECRET1 (a bearer
# token), SECRET2 (a session cookie, sent and set), SECRET3 (a password in
# a JSON body), SECRET4 (a query value), SECRET5 (a JSON response body),
# SECRET6 (the pcapng capture comment).
# Re-run: sudo ./make.sh   (needs tcpdump, dumpcap, editcap, curl, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
port=8093
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

python3 "$here/server.py" $port &
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

talk() {
  local url=http://127.0.0.1:$port
  curl -s -o /dev/null -H 'Authorization: Bearer SECRET1' -H 'Cookie: session=SECRET2' \
    "$url/account?token=SECRET4&view=full"
  curl -s -o /dev/null -H 'Content-Type: application/json' \
    --data-binary '{"user":"ann","password":"SECRET3"}' "$url/login"
  curl -s -o /dev/null -o /dev/null -H 'Cookie: session=SECRET2' "$url/logo.png" "$url/logo.png?size=2"
}

tcpdump -i lo -s 0 -U -w "$here/secrets.pcap" port $port 2>/dev/null &
cap=$!; sleep 1.5
talk
sleep 1; kill -INT $cap; wait $cap 2>/dev/null || true

dumpcap -q -i lo -w "$tmp/raw.pcapng" -f "port $port" 2>/dev/null &
cap=$!; sleep 1.5
talk
sleep 1; kill -INT $cap; wait $cap 2>/dev/null || true
editcap --capture-comment "incident 42, token SECRET6" "$tmp/raw.pcapng" "$here/secrets.pcapng"
