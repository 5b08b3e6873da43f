#!/bin/sh
# Makes the filter test captures: loopback traffic only (127.0.0.1, ::1).
#   lo.pcap        -i lo          (Ethernet, 14-byte zero header)
#   any.pcap       -i any -y LINUX_SLL (Linux cooked v1, DLT 113)
#   any-sll2.pcap  -i any -y LINUX_SLL2 (DLT 276)
#   lo-snap80.pcap -i lo -s 80    (snaplen-truncated packets)
# Traffic: HTTP (python3 -m http.server) over IPv4 and IPv6 with 200 and 404
# answers, UDP messages through nc -u on both, ping and ping -6.
# Run as root from this directory: sh make.sh
set -eu
cd "$(dirname "$0")"
PORT=18080
UPORT=15353
python3 -m http.server --bind :: "$PORT" >/dev/null 2>&1 &
HTTPD=$!
sleep 1
tcpdump -i lo -w lo.pcap "port $PORT or portrange $UPORT-$((UPORT + 1)) or icmp or icmp6" >/dev/null 2>&1 &
T1=$!
tcpdump -i any -y LINUX_SLL -w any.pcap "port $PORT or portrange $UPORT-$((UPORT + 1)) or icmp or icmp6" >/dev/null 2>&1 &
T2=$!
tcpdump -i any -y LINUX_SLL2 -w any-sll2.pcap "port $PORT or portrange $UPORT-$((UPORT + 1)) or icmp or icmp6" >/dev/null 2>&1 &
T3=$!
tcpdump -i lo -s 80 -w lo-snap80.pcap "port $PORT or portrange $UPORT-$((UPORT + 1))" >/dev/null 2>&1 &
T4=$!
sleep 2
for host in 127.0.0.1 '[::1]'; do
    curl -s -o /dev/null "http://$host:$PORT/" || true
    curl -s -o /dev/null "http://$host:$PORT/missing" || true
    curl -s -o /dev/null -H 'Connection: close' "http://$host:$PORT/make.sh" || true
done
nc -u -l 127.0.0.1 "$UPORT" >/dev/null 2>&1 &
N1=$!
nc -u -l ::1 "$((UPORT + 1))" >/dev/null 2>&1 &
N2=$!
sleep 0.5
for i in 1 2 3; do
    echo "hello over udp $i" | nc -u -w 1 127.0.0.1 "$UPORT" || true
    echo "hello over udp6 $i" | nc -u -w 1 ::1 "$((UPORT + 1))" || true
done
ping -c 2 -i 0.2 127.0.0.1 >/dev/null || true
ping -6 -c 2 -i 0.2 ::1 >/dev/null || true
sleep 2
kill "$T1" "$T2" "$T3" "$T4" "$N1" "$N2" "$HTTPD" 2>/dev/null || true
wait 2>/dev/null || true
ls -l ./*.pcap
