#!/usr/bin/env bash
# Makes baseline.pcap and incident.pcap: curl against server.py on
# loopback, recorded by tcpdump -i lo (as root). The same requests both
# times; in the incident GET /api/orders/{id} is slow and answers 503 for
# a quarter of the orders, /health is not asked for (vanished), POST /api/checkout is
# new, and two connections to a port nobody listens on are refused.
# Re-run: sudo ./make.sh   (needs tcpdump, curl, python3)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
port=8471     # the API server
closed=8472   # nobody listens here: connections are refused
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

wait_port() { for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

record() { # mode
  local mode=$1
  python3 "$here/server.py" $port "$mode" &
  local server=$!
  wait_port $port
  tcpdump -i lo -s 0 -U -w "$here/$mode.pcap" "tcp port $port or tcp port $closed" 2>/dev/null &
  local cap=$!
  sleep 1.5
  for id in $(seq 1 20); do curl -s -o /dev/null "http://127.0.0.1:$port/api/orders/$id"; done
  for id in $(seq 101 110); do curl -s -o /dev/null "http://127.0.0.1:$port/api/users/$id"; done
  if [ "$mode" = baseline ]; then
    for _ in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:$port/health"; done
  fi
  if [ "$mode" = incident ]; then
    for _ in 1 2 3; do curl -s -o /dev/null -X POST --data-binary '{"cart":7}' "http://127.0.0.1:$port/api/checkout"; done
    for _ in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$closed/api/orders/1" || true; done
  fi
  sleep 1
  kill -INT $cap; wait $cap 2>/dev/null || true
  kill $server; wait $server 2>/dev/null || true
}

record baseline
record incident
