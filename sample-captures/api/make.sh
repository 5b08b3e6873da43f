#!/bin/sh
# Makes http-loopback.pcap: HTTP/1.1 exchanges on loopback between curl and
# python's http.server (200s, 404s, a 501), captured with tcpdump.
# Run as root from this directory. Only loopback traffic is involved.
set -eu
PORT=18931
DIR=$(mktemp -d)
echo "hello from tracedeck" > "$DIR/index.html"
head -c 20000 /dev/zero | tr '\0' 'x' > "$DIR/big.txt"
(cd "$DIR" && python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
SERVER=$!
sleep 1
tcpdump -i lo -w http-loopback.pcap -U "tcp port $PORT" 2>/dev/null &
DUMP=$!
sleep 1
curl -s -o /dev/null "http://127.0.0.1:$PORT/index.html"
curl -s -o /dev/null "http://127.0.0.1:$PORT/missing"
curl -s -o /dev/null "http://127.0.0.1:$PORT/big.txt"
curl -s -o /dev/null "http://127.0.0.1:$PORT/also-missing"
curl -s -o /dev/null -X DELETE "http://127.0.0.1:$PORT/index.html"
sleep 1
kill "$DUMP"
wait "$DUMP" 2>/dev/null || true
kill "$SERVER"
rm -rf "$DIR"
gzip -9 -k -c http-loopback.pcap > http-loopback.pcap.gz
