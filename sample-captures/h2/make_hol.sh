#!/usr/bin/env bash
# Makes h2c-hol.pcap: head-of-line blocking behind one lost segment.
#
# Three network namespaces made for it: a server, a router and a client,
# joined by veth pairs with a 1500-byte MTU and GSO off (real segments).
# nghttp (client) fetches eight 300-byte files from nghttpd (server) over
# one h2c connection, eight streams at once. The router's nftables drops
# one of the server's segments once: the 4th packet of the server's side
# of the connection (SYN-ACK, ACK, SETTINGS, then the one with the
# responses' HEADERS and first DATA frames), counted by conntrack before
# the drop, so its retransmission passes. A drop on the path, not on the
# sender (a local drop is retried at once). The server recovers by its
# retransmission timeout (SACK, RACK and the tail loss probe off in its
# namespace, and one segment after the hole: no fast retransmit).
# tcpdump on the client's interface sees what the receiver sees: the
# segment after the hole, then the retransmission that fills it, about
# 200 ms later; the frames of every stream in them wait for it. Then
# tshark's answers (h2c-hol.pcap.truth.json, truth.py).
#
# TLS=1 makes h2-tls-hol.pcap instead: the same over TLS (nghttpd with a
# throw-away self-signed certificate, curl --http2 with eight parallel
# transfers multiplexed on one connection, its key log written to
# h2-tls-hol.keys.txt); DROP picks the server's segment that carries the
# responses (the handshake's flight comes first).
#
#   sudo ./make_hol.sh   (needs ip, nft, tcpdump, nghttp2-client,
#                         nghttp2-server, tshark; TLS=1: openssl, curl)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
ns=tdh2hol$$
srv=$ns-srv rtr=$ns-rtr cli=$ns-cli
tmp=$(mktemp -d)
cleanup() {
  # Only what runs in this script's own namespaces.
  for n in "$srv" "$rtr" "$cli"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
for n in "$srv" "$rtr" "$cli"; do
  ip netns add "$n"
  ip -n "$n" link set lo up
done
ip link add hols type veth peer name holr1
ip link set hols netns "$srv"
ip link set holr1 netns "$rtr"
ip link add holc type veth peer name holr2
ip link set holc netns "$cli"
ip link set holr2 netns "$rtr"
link() { # namespace device address
  ip -n "$1" link set "$2" mtu 1500 gso_max_segs 1 gso_max_size 1500 up
  ip -n "$1" addr add "$3" dev "$2"
}
link "$srv" hols 10.77.1.2/24
link "$rtr" holr1 10.77.1.1/24
link "$rtr" holr2 10.77.2.1/24
link "$cli" holc 10.77.2.2/24
ip -n "$srv" route add default via 10.77.1.1
ip -n "$cli" route add default via 10.77.2.1
ip netns exec "$rtr" sysctl -qw net.ipv4.ip_forward=1
for s in tcp_sack=0 tcp_recovery=0 tcp_early_retrans=0; do
  ip netns exec "$srv" sysctl -qw "net.ipv4.$s"
done
# The segment with the responses: after SYN-ACK, ACK and SETTINGS in h2c;
# after SYN-ACK and the handshake flight (two segments) and more over TLS.
drop=4
[ "${TLS:-0}" = 1 ] && drop=5
ip netns exec "$rtr" nft -f - <<NFT
table inet hol {
  chain forward {
    type filter hook forward priority 0;
    tcp sport 8080 ct reply packets ${DROP:-$drop} drop
  }
}
NFT
mkdir "$tmp/www"
for n in 1 2 3 4 5 6 7 8; do head -c 300 /dev/zero | tr '\0' "$n" > "$tmp/www/f$n"; done
if [ "${TLS:-0}" = 1 ]; then
  out=h2-tls-hol
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 -subj /CN=hol.test 2>/dev/null
  ip netns exec "$srv" nghttpd -d "$tmp/www" 8080 "$tmp/key.pem" "$tmp/cert.pem" >/dev/null 2>&1 &
  rm -f "$here/$out.keys.txt"
  fetch() {
    ip netns exec "$cli" env SSLKEYLOGFILE="$here/$out.keys.txt" curl -sk --http2 -Z \
      -o /dev/null $(for n in 1 2 3 4 5 6 7 8; do echo "-o /dev/null https://10.77.1.2:8080/f$n"; done)
  }
else
  out=h2c-hol
  ip netns exec "$srv" nghttpd --no-tls -d "$tmp/www" 8080 >/dev/null 2>&1 &
  fetch() {
    ip netns exec "$cli" nghttp -n $(for n in 1 2 3 4 5 6 7 8; do echo "http://10.77.1.2:8080/f$n"; done)
  }
fi
sleep 1
ip netns exec "$cli" tcpdump -i holc -s 0 -U -w "$here/$out.pcap" tcp port 8080 2>/dev/null &
cap=$! # ip netns exec execs the command: this is tcpdump
sleep 1.5
fetch
sleep 1
kill -INT "$cap"
wait "$cap" 2>/dev/null || true
if [ "${TLS:-0}" = 1 ]; then
  python3 "$here/truth.py" "$here/$out.pcap" 8080 tls "$here/$out.keys.txt" > "$here/$out.pcap.truth.json"
else
  python3 "$here/truth.py" "$here/$out.pcap" 8080 > "$here/$out.pcap.truth.json"
fi
