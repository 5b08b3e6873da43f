#!/bin/bash
# Regenerates the strace sample logs next to this script by running real
# strace (6.1 here) on real programs. Everything runs on loopback.
# Logs: NAME.txt; for -o runs captured with -C, strace's own `-c` table is
# at the end of the log and also copied to NAME.c.txt (same run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=/tmp/tracedeck-strace-work
rm -rf "$work" && mkdir -p "$work/conf" "$work/dir"
cd "$work"
printf '<app><port>8080</port></app>\n' >conf/app.xml
printf '<child><level>debug</level></child>\n' >conf/child.xml
touch dir/a.txt dir/b.conf dir/c
gcc -O1 -o app "$here/src/app.c"
py=/usr/bin/python3

table() { sed -n '/^% time/,$p' "$1" >"${1%.txt}.c.txt"; }

# 1. ls, single process, every useful option.
strace -f -C -tt -T -y -o "$here/ls.txt" ls dir >/dev/null
table "$here/ls.txt"

# 2. a program that reads conf/app.xml and starts a child that opens conf/child.xml.
strace -f -C -tt -T -y -o "$here/app.txt" ./app >/dev/null
table "$here/app.txt"

# 3. a bash loop of curl against a server that sleeps 2 s per request.
$py "$here/src/slow_server.py" "$work/port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
loop="for i in 1 2; do curl -s http://127.0.0.1:$port/ >/dev/null; done"
strace -f -C -tt -T -y -o "$here/curl_loop.txt" bash -c "$loop"
table "$here/curl_loop.txt"

# 4. the same with -ff (one file per process; -C cannot be combined with
#    -ff, so the per-syscall counts of this run are taken with awk).
rm -rf "$here/curl_ff" && mkdir -p "$here/curl_ff"
strace -ff -tt -T -y -o "$here/curl_ff/out" bash -c "$loop"
cat "$here"/curl_ff/out.* | awk '
  { sub(/^[0-9:.]+ /, "") }
  /^<\.\.\. / { next }
  /^[a-z_0-9]+\(/ { n = $0; sub(/\(.*/, "", n); c[n]++ }
  END { for (k in c) print k, c[k] }' | sort >"$here/curl_ff.counts.txt"
kill $server; wait $server 2>/dev/null || true; trap - EXIT

# 5. plain strace, no options at all (stderr, no -f: the child is not followed).
strace sh -c 'ls dir; ls dir' >/dev/null 2>"$here/plain.txt"

# 6. a child killed by a signal; the parent exits 3.
strace -f -C -tt -T -y -o "$here/killed.txt" \
    sh -c 'sleep 5 & p=$!; sleep 0.2; kill -TERM $p; wait $p; exit 3' || true
table "$here/killed.txt"

ls -l "$here"
