#!/usr/bin/env bash
# hosts.pcap: one URL template on two hosts and without a host, for the
# endpoint links (tests/endpoints.rs): GET /items/{id} with Host a.example
# (twice), Host b.example (once), no Host header (HTTP/1.0, twice) and an
# empty Host header (once; an endpoint's host is none for both). Real
# tools on loopback only, as root: tcpdump records while curl talks to
# python3's http.server. Re-run: sudo ./make.sh   (needs tcpdump, curl, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
port=8093
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/items"
for n in 1 2 3 4 5 6; do echo "item $n" > "$tmp/items/$n"; done
(cd "$tmp" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

tcpdump -i lo -s 0 -U -w "$here/hosts.pcap" tcp port "$port" 2>/dev/null &
cap_pid=$!
sleep 1.5
url=http://127.0.0.1:$port/items
curl -s -o /dev/null -H 'Host: a.example' "$url/1"
curl -s -o /dev/null -H 'Host: a.example' "$url/2"
curl -s -o /dev/null -H 'Host: b.example' "$url/3"
# `Host:` with nothing after it: curl sends no Host header at all.
curl -s -o /dev/null --http1.0 -H 'Host:' "$url/4"
curl -s -o /dev/null --http1.0 -H 'Host:' "$url/5"
# `Host;`: an empty Host header.
curl -s -o /dev/null -H 'Host;' "$url/6"
sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" 2>/dev/null || true
