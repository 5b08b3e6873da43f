#!/usr/bin/env bash
# Makes tls10-11.pcap: TLS 1.0 and TLS 1.1 sessions on loopback between
# curl / openssl s_client and python3's ssl (https_server.py in legacy mode,
# keep-alive HTTP/1.1), AES-CBC with SHA-1 (TLS 1.0's IV is the previous
# record's last block, 1.1's is sent in each record; with encrypt-then-MAC,
# and without it from s_client -no_etm), and its key log tls10-11.keys.txt
# (SSLKEYLOGFILE, throwaway keys of this run). OpenSSL 3 speaks TLS < 1.2
# only at security level 0. Re-run: sudo ./make_legacy.sh
# (needs tcpdump, curl, openssl, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
host=tracedeck.test
openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj "/CN=$host/O=tracedeck samples" \
  -addext "subjectAltName=DNS:$host" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
python3 "$here/https_server.py" 8447 "$tmp/cert.pem" "$tmp/key.pem" legacy 2>/dev/null &
for _ in $(seq 50); do
  openssl s_client -connect 127.0.0.1:8447 </dev/null >/dev/null 2>&1 && break
  sleep 0.1
done
export SSLKEYLOGFILE="$here/tls10-11.keys.txt"
rm -f "$SSLKEYLOGFILE"
tcpdump -i lo -s 0 -U -w "$here/tls10-11.pcap" port 8447 2>/dev/null &
cap=$!
sleep 1.5
for v in "1.0 ECDHE-RSA-AES128-SHA" "1.0 AES256-SHA" "1.1 ECDHE-RSA-AES256-SHA" "1.1 AES128-SHA"; do
  set -- $v
  # Two requests on one connection (the second a 404).
  curl -s -k --resolve $host:8447:127.0.0.1 --tlsv$1 --tls-max $1 --ciphers "$2:@SECLEVEL=0" \
    -o /dev/null -o /dev/null https://$host:8447/tls$1/$2 https://$host:8447/tls$1/missing
done
# MAC before encryption (no encrypt-then-MAC), TLS 1.0.
printf 'GET /no-etm HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' $host |
  openssl s_client -quiet -tls1 -no_etm -cipher 'AES128-SHA:@SECLEVEL=0' -servername $host \
    -connect 127.0.0.1:8447 -keylogfile "$SSLKEYLOGFILE" >/dev/null 2>&1 || true
sleep 1; kill -INT $cap; wait $cap 2>/dev/null || true
