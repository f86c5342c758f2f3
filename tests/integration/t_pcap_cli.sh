#!/usr/bin/env bash
# t_pcap_cli: churn-pcap's exit statuses and one-line errors, no lab needed.
#   decode/annotate: 0 on every capture in tests/pcap/ (also the broken ones in tests/pcap/fuzz/), 2 with
#   one line on stderr for a missing file, a text file, pcapng, or a flow that does not exist;
#   capture: 2 with one line naming the call for an interface or a namespace that does not exist (neither
#   opens a capture on any interface of the host: bad input, as the README says), 2 for an option out of range.
source "$(dirname "$0")/lib.sh"
PCAP=$BIN/churn-pcap
[ -x "$PCAP" ] || fail "$PCAP is not built (make build/bin/churn-pcap)"
tmp=$(mktemp -d /tmp/churn-pcap-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS PATTERN CMD...: CMD exits STATUS and its stderr is one line matching PATTERN.
expect() {
  local want=$1 pattern=$2; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  [ $rc -eq "$want" ] || fail "$*: exit $rc, expected $want ($(head -c 300 "$tmp/err"))"
  if [ -n "$pattern" ]; then
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$*: expected one line on stderr, got: $(cat "$tmp/err")"
    grep -qE "$pattern" "$tmp/err" || fail "$*: stderr '$(cat "$tmp/err")' does not match '$pattern'"
  fi
  note "ok exit $rc: $* ${pattern:+($(cat "$tmp/err"))}"
}

for f in tests/pcap/*.pcap tests/pcap/fuzz/*; do
  expect 0 "" "$PCAP" decode "$f"
  expect 0 "" "$PCAP" decode --json "$f"
  expect 0 "" "$PCAP" annotate "$f" --limit 5
done
printf 'GET / HTTP/1.1\r\n\r\n' > "$tmp/text.pcap"
printf '\x0a\x0d\x0d\x0a\x1c\x00\x00\x00' > "$tmp/ng.pcapng"
: > "$tmp/empty.pcap"
expect 2 "open.*/nonexistent.pcap.*ENOENT" "$PCAP" decode /nonexistent.pcap
expect 2 "not a pcap file \(magic 0x" "$PCAP" decode "$tmp/text.pcap"
expect 2 "pcapng" "$PCAP" decode --json "$tmp/ng.pcapng"
expect 2 "empty file" "$PCAP" annotate "$tmp/empty.pcap"
expect 2 "no flow 99 in .* it has 3 TCP flows \(0-2\)" "$PCAP" annotate tests/pcap/churn_en10mb.pcap --flow 99
expect 2 "" "$PCAP" decode
expect 2 "" "$PCAP" frobnicate

# The JSON names every undecodable record by kind: a file cut in its last record.
head -c -5 tests/pcap/churn_en10mb.pcap > "$tmp/cut.pcap"
"$PCAP" decode --json "$tmp/cut.pcap" > "$tmp/cut.json" || fail "decode of a cut file exited $?"
assert_eq "cut file: undecodable.truncated_record" "$(json_get "$tmp/cut.json" undecodable.truncated_record)" 1
assert_eq "cut file: handshakes still counted" "$(json_get "$tmp/cut.json" totals.handshakes)" 3

need_root
expect 2 "pcap_activate\(nosuchif0\)" "$PCAP" capture -i nosuchif0 -w "$tmp/x.pcap" --seconds 1
expect 2 "open.*/run/netns/churnlab-nosuch.*ENOENT" "$PCAP" capture --netns churnlab-nosuch -i lo -w "$tmp/x.pcap"
expect 2 "snaplen" "$PCAP" capture -i lo --snaplen 10 -w "$tmp/x.pcap"
