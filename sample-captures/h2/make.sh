#!/usr/bin/env bash
# Makes the HTTP/2 sample captures with real tools on loopback only, as
# root: tcpdump records while nghttp, curl and grpcio talk to nghttpd and
# a Python gRPC server; then tshark's answers (*.truth.json).
# Re-run: sudo ./make.sh   (needs tcpdump, tshark, nghttp2-client,
# nghttp2-server, curl with HTTP/2, python3-grpcio)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

start_capture() { # file filter...
  local file=$1; shift
  tcpdump -i lo -s 0 -U -w "$file" "$@" 2>/dev/null &
  cap_pid=$!
  sleep 1.5
}
stop_capture() { sleep 1; kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; }

mkdir -p "$tmp/www"
echo '<h1>index</h1>' > "$tmp/www/index.html"
head -c 70000 /dev/zero | tr '\0' 'x' > "$tmp/www/big.txt"
nghttpd --no-tls -d "$tmp/www" 18443 >/dev/null 2>&1 &
sleep 1

# 1. h2c with prior knowledge: nghttp (three concurrent streams, one 404,
#    a 70 kB body) and curl.
start_capture "$here/h2c-prior.pcap" port 18443
nghttp -n http://127.0.0.1:18443/ http://127.0.0.1:18443/big.txt http://127.0.0.1:18443/missing
curl -s -o /dev/null --http2-prior-knowledge http://127.0.0.1:18443/index.html
stop_capture

# 2. Large request headers: HEADERS + CONTINUATION.
start_capture "$here/h2c-continuation.pcap" port 18443
nghttp -n -H "x-big: $(head -c 40000 /dev/zero | tr '\0' 'y')" http://127.0.0.1:18443/index.html
stop_capture

# 3. A GOAWAY PROTOCOL_ERROR: a peer that sends RST_STREAM on stream 0.
start_capture "$here/h2c-goaway.pcap" port 18443
python3 "$here/bad_peer.py" 18443
stop_capture

# 4. gRPC: unary, UNAVAILABLE, DEADLINE_EXCEEDED (RST_STREAM CANCEL from
#    the client), server streaming.
python3 "$here/grpc_demo.py" serve 18450 &
sleep 1.5
start_capture "$here/grpc.pcap" port 18450
python3 "$here/grpc_demo.py" call 18450
sleep 1
stop_capture

# 5. An HTTP/1.1 request upgraded to h2c (101): curl --http2 against a
#    minimal h2c server (nghttpd does not answer Upgrade: h2c).
python3 "$here/h2c_upgrade_server.py" 18460 &
sleep 0.5
start_capture "$here/h2c-upgrade.pcap" port 18460
curl -s -o /dev/null --http2 http://127.0.0.1:18460/hello
stop_capture
python3 "$here/truth.py" "$here/h2c-upgrade.pcap" 18460 http > "$here/h2c-upgrade.pcap.truth.json"

# 6. Flow-control stalls: a client that reads slowly, first on its stream
#    window (16384: four 0.3 s stalls), then on the connection window.
nghttpd --no-tls -d "$tmp/www" 18470 >/dev/null 2>&1 &
sleep 1
start_capture "$here/h2c-stall.pcap" port 18470
python3 "$here/slow_reader.py" 18470 stream
python3 "$here/slow_reader.py" 18470 connection
stop_capture
python3 "$here/truth.py" "$here/h2c-stall.pcap" 18470 > "$here/h2c-stall.pcap.truth.json"

for f in h2c-prior h2c-continuation h2c-goaway; do
  python3 "$here/truth.py" "$here/$f.pcap" 18443 > "$here/$f.pcap.truth.json"
done
python3 "$here/truth.py" "$here/grpc.pcap" 18450 > "$here/grpc.pcap.truth.json"

# 7. Upload stalls: curl POSTs 100 kB to a receiver that gives it a
#    16384-byte stream window and refills it only after 0.3 s (six
#    stalls on the server's window); then a receiver that never refills
#    it, the capture stopping while the client is still blocked.
head -c 100000 /dev/zero | tr '\0' 'u' > "$tmp/upload.bin"
start_capture "$here/h2c-upload-stall.pcap" port 18480
listening() { for _ in $(seq 100); do ss -ltn | grep -q ":$1 " && return; sleep 0.1; done; }
python3 "$here/slow_upload_server.py" 18480 slow &
listening 18480
curl -s -o /dev/null --http2-prior-knowledge --data-binary @"$tmp/upload.bin" http://127.0.0.1:18480/upload
wait $!
python3 "$here/slow_upload_server.py" 18480 never &
never=$!
listening 18480
curl -s -o /dev/null --max-time 4 --http2-prior-knowledge --data-binary @"$tmp/upload.bin" http://127.0.0.1:18480/upload &
blocked=$!
sleep 1.5
kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true
wait "$blocked" || true
kill "$never" 2>/dev/null || true
python3 "$here/truth.py" "$here/h2c-upload-stall.pcap" 18480 > "$here/h2c-upload-stall.pcap.truth.json"
