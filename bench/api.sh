#!/usr/bin/env bash
# Benchmarks `tracedeck serve` over loopback and prints:
#  1. upload throughput of a generated ~1 GB capture (curl --data-binary),
#     with the server's peak RSS during the upload;
#  2. time from upload complete to `done`, against `tracedeck analyze --json`
#     on the same file in the same run (goal: within 1.5x);
#  3. latency of the first page of conversations sorted by duration and of
#     http?status=5xx on a capture with 1 M conversations and 1 M exchanges
#     (goal: under 50 ms each), median of 20 requests after one warm-up.
#
#   bench/api.sh [SIZE] [CONVERSATIONS]     defaults: 1G, 1000000
#
# Files go under ${BENCH_DIR:-/tmp/tracedeck-bench}; the capture is reused
# when present. Only 127.0.0.1 is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
nconv=${2:-1000000}
dir=${BENCH_DIR:-/tmp/tracedeck-bench}
mkdir -p "$dir"
cap="$dir/gen-$size.pcap"
cargo build --release --quiet --bin tracedeck --example gencap --example fill_store
bin=./target/release/tracedeck
[ -s "$cap" ] || ./target/release/examples/gencap "$cap" --bytes "$size"
bytes=$(stat -c %s "$cap")

server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

start_server() { # data-dir log-name -> sets server_pid, base
  local out="$dir/$2.out"
  : >"$out"
  "$bin" serve --addr 127.0.0.1:0 --data-dir "$1" --workers 1 >"$out" 2>"$dir/$2.err" &
  server_pid=$!
  for _ in $(seq 100); do
    base=$(sed -n 's|.*\(http://[0-9.:]*\)/.*|\1|p' "$out")
    [ -n "$base" ] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; exit 1
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- 1 and 2: upload, then analysis -----------------------------------------
data="$dir/api-upload-data"
rm -rf "$data"
start_server "$data" serve-upload
cat "$cap" >/dev/null # page cache, for both sides of the comparison
peak_file="$dir/peak_rss"
echo 0 >"$peak_file"
( peak=0; while kill -0 "$server_pid" 2>/dev/null; do
    r=$(rss_kb "$server_pid"); [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$peak_file"
    sleep 0.05; done ) &
sampler=$!
resp=$(curl -s -w '\n%{time_total}' -X POST -T "$cap" -H 'Content-Type: application/octet-stream' "$base/api/captures?name=gen.pcap")
upload_done=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true
upload_s=$(echo "$resp" | tail -1)
id=$(echo "$resp" | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
upload_rss=$(cat "$peak_file")
while :; do
  st=$(curl -s "$base/api/captures/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$st" = done ] || [ "$st" = failed ] && break
  sleep 0.05
done
done_at=$(date +%s.%N)
[ "$st" = done ] || { echo "analysis failed: $(curl -s "$base/api/captures/$id")"; exit 1; }
results_bytes=$(stat -c %s "$data/captures/$id/results.db")
worker_s=$(sed -n 's/.*: analyzed in \([0-9.]*\) s.*/\1/p' "$dir/serve-upload.err" | tail -1)
worker_cpu=$(sed -n 's/.*worker CPU \([0-9.]*\) s.*/\1/p' "$dir/serve-upload.err" | tail -1)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
# Best of three: the machine is shared, the fastest run is the least disturbed.
analyze_s=999; analyze_rss=0
for _ in 1 2 3; do
  /usr/bin/time -o "$dir/time.txt" -f '%e %M %U %S' "$bin" analyze "$cap" --json >/dev/null
  read -r s rss u k <"$dir/time.txt"
  if python3 -c "import sys; sys.exit(0 if $s < $analyze_s else 1)"; then
    analyze_s=$s; analyze_rss=$rss; analyze_cpu=$(python3 -c "print($u + $k)")
  fi
done

# --- 3: query latency on 1 M conversations --------------------------------
fill="$dir/api-fill-$nconv"
if [ ! -s "$fill/id" ]; then
  rm -rf "$fill"
  ./target/release/examples/fill_store "$fill" sample-captures/api/http-loopback.pcap "$nconv" >"$dir/fill.id"
  mv "$dir/fill.id" "$fill/id"
fi
fid=$(cat "$fill/id")
start_server "$fill" serve-fill
latency() { # path -> median ms of 20
  curl -s -o /dev/null "$base$1"
  for _ in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' "$base$1"; done |
    sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'
}
conv_ms=$(latency "/api/captures/$fid/conversations?sort=duration&order=desc&limit=50")
http_ms=$(latency "/api/captures/$fid/http?status=5xx&limit=50")
http_tt_ms=$(latency "/api/captures/$fid/http?status=5xx&sort=total_time&limit=50")
deep_ms=$(latency "/api/captures/$fid/conversations?sort=duration&limit=50&offset=500000")

python3 - "$bytes" "$upload_s" "$upload_rss" "$upload_done" "$done_at" "$analyze_s" "$analyze_rss" \
  "$results_bytes" "$worker_s" "$worker_cpu" "$analyze_cpu" "$nconv" "$conv_ms" "$http_ms" "$http_tt_ms" "$deep_ms" <<'PY'
import sys
(b, up, up_rss, up_done, done_at, an, an_rss, res, worker, wcpu, acpu, n, conv, http, http_tt, deep) = sys.argv[1:]
b = int(b); up = float(up); an = float(an)
to_done = float(done_at) - float(up_done)
print(f"capture: {b/1e6:.0f} MB")
print(f"upload over loopback: {up:.2f} s, {b/1e6/up:.0f} MB/s, server peak RSS during upload {int(up_rss)/1024:.0f} MB")
print(f"upload complete -> done seen by polling: {to_done:.2f} s; worker's own time {float(worker):.2f} s (results database {int(res)/1e6:.0f} MB)")
print(f"tracedeck analyze --json on the same file (best of 3): {an:.2f} s, CPU {float(acpu):.2f} s, peak RSS {int(an_rss)/1024:.0f} MB")
print(f"serve's worker CPU for the analysis: {float(wcpu):.2f} s ({float(wcpu)/float(acpu):.2f}x analyze's CPU)")
print(f"ratio: serve's analysis takes {to_done/an:.2f}x analyze's time by polling, {float(worker)/an:.2f}x by the worker's clock (goal <= 1.5x)")
print(f"{int(n):,} conversations: first page sorted by duration {conv} ms, "
      f"http?status=5xx {http} ms, 5xx by total_time {http_tt} ms, "
      f"page at offset 500000 {deep} ms (goal < 50 ms)")
PY
