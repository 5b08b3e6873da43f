#!/usr/bin/env bash
# Makes the sample captures with real tools on loopback only, as root:
# tcpdump/dumpcap record while curl talks to python3's http.server, our
# own server.py (every HTTP framing case), and a Flask app that sleeps.
# Re-run: sudo ./make.sh   (needs tcpdump, dumpcap, curl, python3, flask)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

wait_port() { for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }
start_capture() { # tool file filter...
  local tool=$1 file=$2; shift 2
  case $tool in
    tcpdump) tcpdump -i lo -s 0 -U -w "$file" "$@" 2>/dev/null & ;;
    tcpdump-any) tcpdump -i any -y LINUX_SLL -s 0 -U -w "$file" "$@" 2>/dev/null & ;;
    tcpdump-any2) tcpdump -i any -y LINUX_SLL2 -s 0 -U -w "$file" "$@" 2>/dev/null & ;;
    tcpdump-nano) tcpdump -i lo -s 0 -U --time-stamp-precision=nano -w "$file" "$@" 2>/dev/null & ;;
    dumpcap) dumpcap -q -i lo -w "$file" -f "$*" 2>/dev/null & ;;
  esac
  cap_pid=$!
  sleep 1.5
}
stop_capture() { sleep 1; kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; }

# 1. The classic demo: python3 -m http.server, curl / and /404.
(cd "$tmp" && echo '<h1>index</h1>' > index.html && exec python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1) &
wait_port 8080
start_capture tcpdump "$here/http-server-404.pcap" port 8080
curl -s -o /dev/null http://127.0.0.1:8080/
curl -s -o /dev/null http://127.0.0.1:8080/404
stop_capture

# 2. Same demo through `tcpdump -i any` (Linux cooked v1 and v2), nanosecond pcap, pcapng.
start_capture tcpdump-any "$here/any-sll.pcap" port 8080
curl -s -o /dev/null http://127.0.0.1:8080/404
stop_capture
start_capture tcpdump-any2 "$here/any-sll2.pcap" port 8080
curl -s -o /dev/null http://127.0.0.1:8080/404
stop_capture
start_capture tcpdump-nano "$here/nano.pcap" port 8080
curl -s -o /dev/null http://127.0.0.1:8080/
stop_capture
start_capture dumpcap "$here/dumpcap.pcapng" port 8080
curl -s -o /dev/null http://127.0.0.1:8080/
curl -s -o /dev/null http://127.0.0.1:8080/missing
stop_capture

# 3. Every framing case on one keep-alive connection, plus HTTP/1.0 and a reset.
python3 "$here/server.py" 8081 2>/dev/null &
wait_port 8081
start_capture tcpdump "$here/keepalive-mixed.pcap" port 8081
curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  http://127.0.0.1:8081/ http://127.0.0.1:8081/moved http://127.0.0.1:8081/nope http://127.0.0.1:8081/error \
  --next -s -o /dev/null -X POST --data-binary 'name=tracedeck&kind=sample' http://127.0.0.1:8081/items \
  --next -s -o /dev/null -I http://127.0.0.1:8081/ \
  --next -s -o /dev/null -H 'If-None-Match: "v1"' http://127.0.0.1:8081/cached \
  --next -s -o /dev/null http://127.0.0.1:8081/chunked
curl -s -o /dev/null --http1.0 http://127.0.0.1:8081/http10
python3 "$here/reset_client.py" 8081
stop_capture

# 4. The slow Flask app, hit by a bash loop of curls: ~2 s of server time each.
python3 "$here/flask_slow.py" 5000 >/dev/null 2>&1 &
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5000/hello -m 0.1 2>/dev/null && break; sleep 0.2; done || true
sleep 2.5
start_capture tcpdump "$here/flask-slow.pcap" port 5000
for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:5000/hello; done
stop_capture

# 5. A gzip-compressed copy (tracedeck detects it by magic bytes).
gzip -9 -c "$here/http-server-404.pcap" > "$here/http-server-404.pcap.gz"

# 6. Broken inputs: a capture cut mid-record, garbage, text, an empty file.
mkdir -p "$here/broken"
head -c "$(( $(stat -c %s "$here/keepalive-mixed.pcap") - 7 ))" "$here/keepalive-mixed.pcap" > "$here/broken/cut-mid-record.pcap"
head -c 4096 /dev/urandom > "$here/broken/garbage.bin"
printf 'execve("/bin/ls", ["ls"], 0x7ffd /* 20 vars */) = 0\n' > "$here/broken/strace.txt"
: > "$here/broken/empty.pcap"
python3 - "$here/broken/huge-record.pcap" <<'PY'
import struct, sys
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
rec = struct.pack("<IIII", 0, 0, 0xfffffff0, 60)
open(sys.argv[1], "wb").write(hdr + rec + b"\0" * 64)
PY
ls -la "$here" "$here/broken"
python3 "$here/truth.py" "$here"/*.pcap "$here"/*.pcapng "$here"/*.pcap.gz
