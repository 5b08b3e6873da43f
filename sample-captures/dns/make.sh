#!/usr/bin/env bash
# Makes the DNS sample captures with real tools on loopback only, as root:
# dig asks dnsmasq (127.0.0.53:53, no cache) which forwards to upstream.py
# (127.0.0.54:5300), a server with a slow, a failing, a silent and a
# truncating name. tcpdump records both hops. Then tshark's view of each
# capture is stored beside it (NAME.tshark.tsv) for tests/dns.rs.
# Re-run: sudo ./make.sh   (needs tcpdump, dnsmasq, dig, tshark, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

python3 upstream.py 127.0.0.54 5300 &
dnsmasq --keep-in-foreground --no-resolv --no-hosts --cache-size=0 \
  --listen-address=127.0.0.53 --bind-interfaces --port=53 \
  --server=127.0.0.54#5300 --pid-file= --log-facility=/dev/null &
sleep 1

tcpdump -i lo -s 0 -U -w "$here/lookups.pcap" 'host 127.0.0.53 or host 127.0.0.54' 2>/dev/null &
cap=$!
sleep 1.5
ask() { dig @127.0.0.53 "$@" >/dev/null || true; }
ask ok.test A
ask ok.test AAAA
ask nx.test A
ask fail.test A
ask +tries=1 +timeout=1 slow.test A     # dnsmasq retransmits upstream while waiting
ask +tries=2 +timeout=1 drop.test A     # never answered: dig and dnsmasq retransmit
ask big.test A                          # TC over UDP, dig retries over TCP
ask +tcp ok.test A
ask +ignore big.test A                  # TC answer taken as is
sleep 2
kill -INT "$cap"; wait "$cap" 2>/dev/null || true

# tshark's answers: one line per DNS message.
for f in lookups; do
  tshark -r "$f.pcap" -Y dns -T fields -E separator=/t -E occurrence=f \
    -e frame.number -e udp.stream -e tcp.stream -e dns.id -e dns.flags.response \
    -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.count.answers \
    -e dns.time -e dns.retransmission -e dns.flags.truncated > "$f.tshark.tsv"
done
