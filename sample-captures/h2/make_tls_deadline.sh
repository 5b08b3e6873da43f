#!/usr/bin/env bash
# Makes two HTTP/2 samples with real tools, inside a network namespace
# made for the run (its own loopback; nothing leaves it), as root:
#   h2-tls.pcap (+ h2-tls.keys.txt, the key log of this run's throwaway
#     keys): curl --http2 over TLS (ALPN h2) against nghttpd with a
#     self-signed certificate for tracedeck.test: /, a 70 kB body, a 404.
#   grpc-deadline.pcap: grpcio (grpc_deadline.py), a call within its
#     deadline and one the server answers 1 s late for a 500 ms deadline.
# Then tshark's answers (*.truth.json, truth.py).
# Re-run: sudo ./make_tls_deadline.sh  (needs iproute2, tcpdump, tshark,
# openssl, curl with HTTP/2, nghttp2-server, python3 with grpcio)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
if [ -z "${TD_IN_NETNS:-}" ]; then
  ns=tdh2samples$$
  ip netns add "$ns"
  trap 'ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$ns"' EXIT
  ip -n "$ns" link set lo up
  TD_IN_NETNS=1 ip netns exec "$ns" "$0" "$@"
  exit
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
py=python3
$py -c 'import grpc' 2>/dev/null || py=/usr/bin/python3
host=tracedeck.test

start_capture() { # file filter...
  local file=$1; shift
  tcpdump -i lo -s 0 -U -w "$file" "$@" 2>/dev/null &
  cap_pid=$!
  sleep 1.5
}
stop_capture() { sleep 1; kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; }
listening() { for _ in $(seq 100); do ss -ltn | grep -q ":$1 " && return; sleep 0.1; done; }

# 1. h2 over TLS: curl and nghttpd, one connection, three streams.
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$host/O=tracedeck samples" \
  -addext "subjectAltName=DNS:$host" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
mkdir -p "$tmp/www"
echo '<h1>index</h1>' > "$tmp/www/index.html"
head -c 70000 /dev/zero | tr '\0' 'x' > "$tmp/www/big.txt"
nghttpd -d "$tmp/www" 18490 "$tmp/key.pem" "$tmp/cert.pem" >/dev/null 2>&1 &
listening 18490
rm -f "$here/h2-tls.keys.txt"
start_capture "$here/h2-tls.pcap" port 18490
SSLKEYLOGFILE="$here/h2-tls.keys.txt" curl -s -k --http2 --resolve "$host:18490:127.0.0.1" \
  -o /dev/null "https://$host:18490/index.html" \
  -o /dev/null "https://$host:18490/big.txt" \
  -o /dev/null "https://$host:18490/missing"
stop_capture

# 2. A gRPC deadline exceeded.
$py "$here/grpc_deadline.py" serve 18495 &
listening 18495
start_capture "$here/grpc-deadline.pcap" port 18495
$py "$here/grpc_deadline.py" call 18495
stop_capture

$py "$here/truth.py" "$here/h2-tls.pcap" 18490 tls "$here/h2-tls.keys.txt" > "$here/h2-tls.pcap.truth.json"
$py "$here/truth.py" "$here/grpc-deadline.pcap" 18495 > "$here/grpc-deadline.pcap.truth.json"
