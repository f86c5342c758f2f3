#!/usr/bin/env bash
# t_pcap_tshark: churn-pcap against tshark on the same capture. A 2 s churn run at 200 connections/s is
# captured on the client host's veth by `churn-pcap capture --netns`, then:
#   - tcpdump and tshark open the file (it is standard pcap, nanosecond magic);
#   - the capture lost nothing (kernel drop counters 0) and saw every handshake the client made;
#   - decode's handshake count = tshark's count of streams with an initial RTT, and its SYN count = tshark's
#     count of non-retransmitted SYNs;
#   - decode's irtt_us = tshark's tcp.analysis.initial_rtt for EVERY flow, to the µs (both rounded from ns).
source "$(dirname "$0")/lib.sh"
PCAP=$BIN/churn-pcap
[ -x "$PCAP" ] || fail "$PCAP is not built (make build/bin/churn-pcap)"
command -v tshark > /dev/null && command -v tcpdump > /dev/null || lab/deps.sh pcap > /dev/null ||
  skip "tshark/tcpdump missing and lab/deps.sh pcap could not install them"
lab_start
rate=200 dur=2
f=$LAB_TMP/churn.pcap

start_server
: > "$LAB_TMP/cap.log"
"$PCAP" capture --netns "$LAB_CLI" -i "cl${RUNID}c" -w "$f" --seconds 30 --json "$LAB_TMP/cap.json" \
  2> "$LAB_TMP/cap.log" &
cap_pid=$!
for _ in $(seq 1 50); do grep -q "capturing on" "$LAB_TMP/cap.log" && break; sleep 0.1; done
grep -q "capturing on" "$LAB_TMP/cap.log" || fail "churn-pcap capture did not start: $(cat "$LAB_TMP/cap.log")"
run_client --mode churn -R $rate -d $dur
wait_until 5 "the last FIN/ACK exchange on the wire" wire_quiet "$LAB_CLI"
kill -INT $cap_pid
wait $cap_pid || fail "churn-pcap capture exited $?: $(cat "$LAB_TMP/cap.log")"
note "$(cat "$LAB_TMP/cap.log")"
stop_server

c=$LAB_TMP/cap.json
assert_eq "capture stopped by" "$(json_get "$c" stopped_by)" SIGINT
assert_eq "capture dropped (ring full)" "$(json_get "$c" dropped)" 0
assert_eq "capture precision" "$(json_get "$c" precision)" ns
packets=$(json_get "$c" packets)
# 8 per connection: SYN, SYN-ACK, the request carrying the handshake's last ACK (--smart-connect, the
# default), the response, and the two FIN/ACK pairs of the close.
assert_ge "packets captured" "$packets" $((rate * dur * 8))
assert_eq "tcpdump -r reads every packet" "$(tcpdump -r "$f" -nn 2> /dev/null | wc -l)" "$packets"

d=$LAB_TMP/decode.json
"$PCAP" decode --json "$f" > "$d" || fail "churn-pcap decode exited $?"
handshakes=$(json_get "$d" totals.handshakes)
assert_eq "decode handshakes = client's handshakes" "$handshakes" "$(json_get "$LAB_TMP/client.json" handshakes)"
assert_eq "decode connections" "$(json_get "$d" totals.connections)" "$handshakes"
assert_eq "decode reused_requests (churn: none)" "$(json_get "$d" totals.reused_requests)" 0
assert_eq "decode closed_by_client" "$(json_get "$d" totals.closed_by_client)" "$handshakes"
assert_eq "decode undecodable" "$(json_get "$d" undecodable)" "{}"

# tshark: the first initial_rtt shown in each stream (it is shown on every packet after the handshake),
# seconds with 9 decimals turned into ns and rounded to µs exactly as churn-pcap does: (ns + 500) / 1000.
tshark -r "$f" -Y tcp.analysis.initial_rtt -T fields -e tcp.stream -e tcp.analysis.initial_rtt 2> /dev/null |
  awk '!seen[$1]++ { split($2, p, "."); ns = p[1] * 1000000000 + substr(p[2] "000000000", 1, 9);
                     printf "%d %d\n", $1, int((ns + 500) / 1000) }' > "$LAB_TMP/tshark.irtt"
json_flat "$d" | awk -F'\t' '$1 ~ /^flows\.[0-9]+\.irtt_us$/ && $2 != "null" { split($1, k, "."); print k[2], $2 }' \
  > "$LAB_TMP/decode.irtt"
assert_eq "tshark streams with an initial RTT = decode handshakes" "$(wc -l < "$LAB_TMP/tshark.irtt")" "$handshakes"
tsyn=$(tshark -r "$f" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && !tcp.analysis.retransmission' 2> /dev/null | wc -l)
assert_eq "tshark SYNs = decode connections with a SYN" "$tsyn" \
  "$(( $(json_get "$d" totals.connections) - $(json_get "$d" totals.already_open) ))"
if ! diff -q "$LAB_TMP/tshark.irtt" "$LAB_TMP/decode.irtt" > /dev/null; then
  diff "$LAB_TMP/tshark.irtt" "$LAB_TMP/decode.irtt" | head -5 >&2
  fail "iRTT per flow differs from tshark's (first differences above: < tshark, > churn-pcap)"
fi
note "ok iRTT of all $handshakes flows equal to tshark's, to the µs (p50 $(json_get "$d" totals.irtt_us.p50) µs)"
