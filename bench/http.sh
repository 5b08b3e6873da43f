#!/bin/sh
# HTTP parser throughput against tshark on the same conversation.
# Builds the keep-alive bench input (benches/http.rs), writes it as a pcap,
# prints our MB/s, then times `tshark -q -z http,tree` on that pcap.
# usage: bench/http.sh [EXCHANGES]   (default 100000)
set -e
cd "$(dirname "$0")/.."
n=${1:-100000}
out=${TMPDIR:-/tmp}/tracedeck-http-bench.pcap
TRACEDECK_BENCH_EXCHANGES=$n TRACEDECK_BENCH_PCAP=$out cargo bench --bench http 2>/dev/null | grep 'http parser'
start=$(date +%s.%N)
tshark -r "$out" -q -z http,tree | grep -E 'HTTP Request Packets|HTTP Response Packets'
end=$(date +%s.%N)
echo "tshark -q -z http,tree: $(echo "$end - $start" | bc) s for the same $n exchanges ($(du -m "$out" | cut -f1) MB pcap)"
rm -f "$out"
