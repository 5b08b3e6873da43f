#!/usr/bin/env bash
# Checks that two tracedeck builds print byte-identical `analyze` output
# (--json, the conversation table and --http) on every sample capture, every
# capture of ../shared/corpus when it is there, and any extra files given.
# Used to prove a refactor changed no result:
#
#   bench/same_output.sh OLD_BINARY NEW_BINARY [EXTRA_CAPTURE...]
#
# Exit 0 when every output is identical, 1 (listing the differences) if not.
set -uo pipefail
old=${1:?usage: same_output.sh OLD_BINARY NEW_BINARY [CAPTURE...]}
new=${2:?usage: same_output.sh OLD_BINARY NEW_BINARY [CAPTURE...]}
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
files=()
while IFS= read -r f; do files+=("$f"); done < <(
  find "$here/sample-captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.bin' \) | sort
  if [ -d "$here/../shared/corpus/captures" ]; then
    find "$here/../shared/corpus/captures" -type f ! -name '*.json' | sort
  fi
)
files+=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
differ=0
checked=0
for f in "${files[@]}"; do
  for args in "--json" "" "--http --limit 0" "--limit 0 --sort bytes"; do
    # shellcheck disable=SC2086
    "$old" analyze "$f" $args >"$tmp/old.out" 2>"$tmp/old.err"; o=$?
    # shellcheck disable=SC2086
    "$new" analyze "$f" $args >"$tmp/new.out" 2>"$tmp/new.err"; n=$?
    checked=$((checked + 1))
    if [ $o != $n ] || ! cmp -s "$tmp/old.out" "$tmp/new.out" || ! cmp -s "$tmp/old.err" "$tmp/new.err"; then
      echo "DIFFERS: $f analyze $args (exit $o vs $n)"
      diff <(head -c 2000 "$tmp/old.out"; head -c 500 "$tmp/old.err") <(head -c 2000 "$tmp/new.out"; head -c 500 "$tmp/new.err") | head -20
      differ=$((differ + 1))
    fi
  done
done
echo "same_output: $checked runs over ${#files[@]} files, $differ differ"
[ $differ = 0 ]
