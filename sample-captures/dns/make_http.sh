#!/usr/bin/env bash
# Makes dns-then-http.pcap with real tools on loopback only, as root: dig
# asks dnsmasq (127.0.0.63:53, no cache), which forwards to upstream.py
# (127.0.0.64:5300, ok.test answers after 30 ms); then curl connects to the
# name at once (--resolve with dig's answer) and sends two requests on one
# connection to a small HTTP/1.1 server on 127.0.0.65:8080. The first
# exchange's verdict gives the DNS time before connecting (tests/dns.rs).
# Re-run: sudo ./make_http.sh   (needs tcpdump, dnsmasq, dig, curl, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

python3 upstream.py 127.0.0.64 5300 &
dnsmasq --keep-in-foreground --no-resolv --no-hosts --cache-size=0 \
  --listen-address=127.0.0.63 --bind-interfaces --port=53 \
  --server=127.0.0.64#5300 --pid-file= --log-facility=/dev/null &
python3 - <<'PY' &
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.65", 8080), H).serve_forever()
PY
sleep 1

tcpdump -i lo -s 0 -U -w "$here/dns-then-http.pcap" \
  'host 127.0.0.63 or host 127.0.0.64 or host 127.0.0.65' 2>/dev/null &
cap=$!
sleep 1.5
addr=$(dig +short @127.0.0.63 ok.test A)
[ "$addr" = 192.0.2.1 ]
# The answer names 192.0.2.1; the server listens on loopback, so curl is
# pointed there (the Host header still names ok.test).
curl -s -o /dev/null -o /dev/null --resolve ok.test:8080:127.0.0.65 \
  http://ok.test:8080/first http://ok.test:8080/second
sleep 1
kill -INT "$cap"; wait "$cap" 2>/dev/null || true
