#!/usr/bin/env bash
# Makes the nginx samples with a real nginx (nginx-light) in a network
# namespace of its own, recorded by tcpdump on that namespace's loopback:
#   nginx.pcap         curl: a plain page, a gzip'd text (nginx compresses
#                      on the fly: chunked), a 404
#   nginx-http09.pcap  an HTTP/0.9 request (`GET /`, no version) and
#                      nginx's bare reply (no status line, no headers)
# then nginx.pcap.truth.json with ../truth.py (tshark's answers).
# Re-run: sudo ./make.sh   (needs ip, nginx, tcpdump, curl, python3, tshark)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
ns=tracedeck-nginx-$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
cap_pid=
cleanup() {
  [ -n "$cap_pid" ] && kill -INT "$cap_pid" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$tmp/www" "$tmp/logs"
printf '<h1>plain</h1>\n' > "$tmp/www/index.html"
python3 -c "print('\n'.join('line %d of a text that compresses well' % i for i in range(2000)))" > "$tmp/www/big.txt"
cat > "$tmp/nginx.conf" <<CONF
daemon on;
user root;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  types { text/html html; text/plain txt; }
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  gzip on;
  gzip_types text/plain;
  gzip_min_length 100;
  server { listen 127.0.0.1:8080; root $tmp/www; }
}
CONF
in_ns nginx -c "$tmp/nginx.conf" -p "$tmp"
for _ in $(seq 50); do in_ns curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done

capture() { # file (ip netns exec becomes tcpdump: $! is tcpdump's pid)
  ip netns exec "$ns" tcpdump -i lo -s 0 -U -w "$1" port 8080 2>/dev/null &
  cap_pid=$!
  sleep 1.5
}
stop() { sleep 1; kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; cap_pid=; }

capture "$here/nginx.pcap"
in_ns curl -s -o /dev/null http://127.0.0.1:8080/
in_ns curl -s -o /dev/null -H 'Accept-Encoding: gzip' http://127.0.0.1:8080/big.txt
in_ns curl -s -o /dev/null http://127.0.0.1:8080/missing
stop

capture "$here/nginx-http09.pcap"
in_ns python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 8080))
s.sendall(b"GET /\r\n")
while s.recv(4096):
    pass
s.close()
'
stop

python3 ../truth.py nginx.pcap
