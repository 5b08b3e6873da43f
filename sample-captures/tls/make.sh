#!/usr/bin/env bash
# Makes the TLS sample captures with real tools on loopback only, as root:
# tcpdump records while curl and openssl s_client talk to python3's ssl
# (https_server.py, keep-alive HTTP/1.1) and openssl s_server. Each
# capture's key log (SSLKEYLOGFILE, throwaway keys of this run) is kept
# next to it as NAME.keys.txt. Re-run: sudo ./make.sh
# (needs tcpdump, curl, openssl, python3, editcap)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
host=tracedeck.test
resolve() { echo "--resolve $host:$1:127.0.0.1"; }

# A self-signed certificate for tracedeck.test that expires in 10 days
# (so the summary flags it "expiring").
openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj "/CN=$host/O=tracedeck samples" \
  -addext "subjectAltName=DNS:$host,DNS:www.$host,IP:127.0.0.1" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

wait_tls() { for _ in $(seq 50); do openssl s_client -connect "127.0.0.1:$1" </dev/null >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
start_capture() { # file filter...
  local file=$1; shift
  tcpdump -i lo -s 0 -U -w "$file" "$@" 2>/dev/null &
  cap_pid=$!
  sleep 1.5
}
stop_capture() { sleep 1; kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; }

python3 "$here/https_server.py" 8443 "$tmp/cert.pem" "$tmp/key.pem" &
wait_tls 8443
# s_server: one that only speaks P-256 (a HelloRetryRequest for curl's
# X25519 share), one that only knows a suite curl will not offer.
openssl s_server -quiet -www -accept 8444 -cert "$tmp/cert.pem" -key "$tmp/key.pem" -groups P-256 >/dev/null 2>&1 &
openssl s_server -quiet -www -accept 8445 -cert "$tmp/cert.pem" -key "$tmp/key.pem" -tls1_2 -cipher AES256-SHA >/dev/null 2>&1 &
openssl s_server -quiet -www -accept 8446 -cert "$tmp/cert.pem" -key "$tmp/key.pem" >/dev/null 2>&1 &
wait_tls 8444; wait_tls 8446; sleep 0.5

keys() { rm -f "$here/$1.keys.txt"; export SSLKEYLOGFILE="$here/$1.keys.txt"; }

# 1. TLS 1.3, keep-alive: three requests on one connection (one 404).
keys tls13-keepalive
start_capture "$here/tls13-keepalive.pcap" port 8443
curl -s -k $(resolve 8443) -o /dev/null -o /dev/null -o /dev/null \
  https://$host:8443/ https://$host:8443/a https://$host:8443/missing
stop_capture

# 2. TLS 1.2: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, AES-CBC-SHA1
#    and AES-CBC-SHA256 (encrypt-then-MAC), one connection each.
keys tls12-suites
start_capture "$here/tls12-suites.pcap" port 8443
for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305 \
         ECDHE-RSA-AES128-SHA ECDHE-RSA-AES128-SHA256; do
  curl -s -k $(resolve 8443) --tls-max 1.2 --ciphers "$c" -o /dev/null https://$host:8443/$c
done
# AES-256-CBC-SHA1 without encrypt-then-MAC (MAC before encryption).
printf 'GET /no-etm HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' $host |
  openssl s_client -quiet -tls1_2 -no_etm -cipher ECDHE-RSA-AES256-SHA -servername $host \
    -connect 127.0.0.1:8443 -keylogfile "$SSLKEYLOGFILE" >/dev/null 2>&1 || true
stop_capture

# 3. Resumed sessions: TLS 1.2 by session ID, TLS 1.3 by PSK (openssl
#    s_client keeps the session in a file between two connections).
keys tls-resumed
start_capture "$here/tls-resumed.pcap" port 8446
# (-no_ticket: TLS 1.2 resumes by session ID; TLS 1.3 needs the ticket.)
for v in "tls1_2 -no_ticket" tls1_3; do
  printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet -$v -servername $host \
    -connect 127.0.0.1:8446 -sess_out "$tmp/${v%% *}.sess" -keylogfile "$SSLKEYLOGFILE" >/dev/null 2>&1 || true
  printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet -${v%% *} -servername $host \
    -connect 127.0.0.1:8446 -sess_in "$tmp/${v%% *}.sess" -keylogfile "$SSLKEYLOGFILE" >/dev/null 2>&1 || true
done
stop_capture

# 4. HelloRetryRequest: curl offers an X25519 share, the server wants P-256.
keys tls13-hrr
start_capture "$here/tls13-hrr.pcap" port 8444
curl -s -k $(resolve 8444) --curves X25519:P-256 -o /dev/null https://$host:8444/
stop_capture

# 5. Failures: no common suite (the server's handshake_failure), and a
#    client that does not trust the certificate (its unknown_ca, in clear
#    in TLS 1.2).
keys tls-failures
start_capture "$here/tls-failures.pcap" port 8445 or port 8443
curl -s -k $(resolve 8445) --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 https://$host:8445/ || true
curl -s $(resolve 8443) --tls-max 1.2 https://$host:8443/ || true
stop_capture
unset SSLKEYLOGFILE

# 6. The key log inside the capture: a pcapng Decryption Secrets Block.
editcap --inject-secrets "tls,$here/tls13-keepalive.keys.txt" \
  "$here/tls13-keepalive.pcap" "$here/tls13-keepalive-dsb.pcapng"

# 7. TLS 1.0 and 1.1 (tls10-11.pcap): curl and openssl s_client against
#    https_server.py in legacy mode (OpenSSL 3 speaks TLS < 1.2 only at
#    security level 0), AES-CBC with SHA-1: 1.0's IV is the previous
#    record's last block, 1.1's is sent in each record; encrypt-then-MAC,
#    and without it from s_client -no_etm. Two requests per connection.
python3 "$here/https_server.py" 8447 "$tmp/cert.pem" "$tmp/key.pem" legacy 2>/dev/null &
wait_tls 8447
keys tls10-11
start_capture "$here/tls10-11.pcap" port 8447
for v in "1.0 ECDHE-RSA-AES128-SHA" "1.0 AES256-SHA" "1.1 ECDHE-RSA-AES256-SHA" "1.1 AES128-SHA"; do
  set -- $v
  curl -s -k $(resolve 8447) --tlsv$1 --tls-max $1 --ciphers "$2:@SECLEVEL=0" \
    -o /dev/null -o /dev/null https://$host:8447/tls$1/$2 https://$host:8447/tls$1/missing
done
printf 'GET /no-etm HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' $host |
  openssl s_client -quiet -tls1 -no_etm -cipher 'AES128-SHA:@SECLEVEL=0' -servername $host \
    -connect 127.0.0.1:8447 -keylogfile "$SSLKEYLOGFILE" >/dev/null 2>&1 || true
stop_capture

# 8. A capture gap: the keep-alive capture without frames 15 and 16 (the
#    request for /a and the head of its response); its key log is
#    tls13-keepalive.keys.txt.
editcap "$here/tls13-keepalive.pcap" "$here/tls13-gap.pcap" 15 16
ls -l "$here"
