#!/usr/bin/env bash
# t_pcap_cli: churn-pcap's answers, exit statuses and one-line errors, no lab needed.
#   decode: on the real captures in tests/pcap/, the known answers (handshakes, who closed, each flow's
#   iRTT: checked against tshark when the files were made, frozen in tests/unit/test_pcap_files.cc),
#   in the JSON and in the text table alike; annotate explains the churn handshake;
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
# known FILE "KEY=VALUE ..." IRTTS: decode --json gives those totals, and each flow's iRTT in µs in flow
# order ("-" for a flow without a handshake); the text table gives the same connection and handshake counts.
known() {
  local f=tests/pcap/$1 kv i=0 irtt
  "$PCAP" decode --json "$f" > "$tmp/k.json" || fail "decode --json $f exited $?"
  for kv in $2; do
    assert_eq "$1: totals.${kv%%=*}" "$(json_get "$tmp/k.json" "totals.${kv%%=*}")" "${kv#*=}"
  done
  for irtt in $3; do
    [ "$irtt" = - ] && irtt=null
    assert_eq "$1: flow $i iRTT (µs)" "$(json_get "$tmp/k.json" "flows.$i.irtt_us")" "$irtt"
    i=$((i + 1))
  done
  assert_eq "$1: flows" "$(json_len "$tmp/k.json" flows)" "$i"
  "$PCAP" decode "$f" > "$tmp/k.txt" || fail "decode $f exited $?"
  grep -qE "connections +$(json_get "$tmp/k.json" totals.connections): $(json_get "$tmp/k.json" totals.handshakes) handshakes" "$tmp/k.txt" ||
    fail "$1: the text table disagrees with the JSON: $(grep connections "$tmp/k.txt")"
}
known churn_en10mb.pcap  "connections=3 handshakes=3 closed_by_client=3 closed_by_server=0 reused_requests=0 irtt_us.p50=37" "33 37 45"
known churn_sll.pcap     "handshakes=2 closed_by_client=2" "42 34"
known churn_sll2.pcap    "handshakes=2 closed_by_client=2" "48 45"
known churn_ipv6.pcap    "handshakes=2" "34 47"
known server_close.pcap  "handshakes=2 closed_by_server=2 closed_by_client=0" "42 43"
known pooled_en10mb.pcap "connections=1 handshakes=0 already_open=1 requests=10 reused_requests=10" "-"
known tun_raw_syn.pcap   "connections=2 handshakes=0 syn_without_handshake=2 syn_retransmits=5" "- -"
"$PCAP" annotate tests/pcap/churn_en10mb.pcap --flow 0 > "$tmp/a.txt" || fail "annotate exited $?"
grep -q "SYN: the client asks to connect, offering MSS 1460, wscale 10, SACK, timestamps" "$tmp/a.txt" ||
  fail "annotate churn_en10mb.pcap --flow 0 does not explain the SYN: $(head -3 "$tmp/a.txt")"
note "ok annotate explains the SYN"

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
