#!/usr/bin/env bash
# t_pcap_stall: churn-pcap finds the Nagle + delayed-ACK stall in a fresh tcpdump capture of programs that
# are not churnlab's (tests/pcap/wwr.py: a python3 write-write-read client, 40 + 8 bytes, and a server that
# answers only the whole message), made as tests/pcap/make-nagle-captures.sh makes the fixtures:
#   - Nagle on: decode counts >= 1 stall; every stall's ACK is a pure ACK from the server that tshark sees
#     at the same time (frame.time_relative) and whose tcp.analysis.ack_rtt is the stall's gap, to the µs;
#     churn-pcap never counts more stalls than tshark sees such held ACKs; annotate names the stall;
#   - TCP_NODELAY: 0 stalls, exactly (head and body leave together: the server answers, no ACK is held);
#   - timing (soft, re-measured on a noisy host): the median hold is Linux's delayed ACK, 36-100 ms.
source "$(dirname "$0")/lib.sh"
PCAP=$BIN/churn-pcap
[ -x "$PCAP" ] || fail "$PCAP is not built (make build/bin/churn-pcap)"
command -v tshark > /dev/null && command -v tcpdump > /dev/null || lab/deps.sh pcap > /dev/null ||
  skip "tshark/tcpdump missing and lab/deps.sh pcap could not install them"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY"
WWR=$ROOT/tests/pcap/wwr.py
SPORT=9000
lab_start

ip netns exec "$LAB_SRV" "$PY" "$WWR" server "$LAB_SRV_IP" $SPORT > "$LAB_TMP/wwr-srv.log" 2>&1 &
lab_track $!
wait_listening "$LAB_TMP/wwr-srv.log" $! "wwr.py server"

# capture NODELAY FILE: one 8-exchange connection, recorded by tcpdump on the client's veth.
capture() {
  local log=$LAB_TMP/td.log td
  : > "$log"
  ip netns exec "$LAB_CLI" tcpdump -n -U --immediate-mode -s 128 -i "cl${RUNID}c" -w "$2" "tcp port $SPORT" 2> "$log" &
  td=$!
  wait_until 5 "tcpdump listening" grep -q "listening on" "$log"
  ip netns exec "$LAB_CLI" timeout 20 "$PY" "$WWR" client "$LAB_SRV_IP" $SPORT --nodelay "$1" --count 8 \
    > "$LAB_TMP/wwr-$1.log" 2>&1 || fail "wwr.py client (nodelay $1) failed: $(cat "$LAB_TMP/wwr-$1.log")"
  note "client, nodelay $1: $(tr '\n' ' ' < "$LAB_TMP/wwr-$1.log")"
  wait_until 5 "the connection closed on the wire" wire_quiet_port
  kill -INT $td; wait $td
}
wire_quiet_port() {
  [ "$(ip netns exec "$LAB_CLI" ss -H -tn state connected exclude time-wait "( dport = :$SPORT )" | wc -l)" -eq 0 ]
}

# held_acks FILE: "time_relative_us ack_rtt_us" of every pure ACK from the server >= 30 ms after the segment
# it acknowledges (tshark's own sequence analysis), both rounded from ns to µs as churn-pcap does.
held_acks() {
  tshark -r "$1" -o tcp.calculate_timestamps:TRUE -Y "tcp.srcport == $SPORT && tcp.len == 0 && tcp.flags.fin == 0 && tcp.analysis.ack_rtt >= 0.030" \
    -T fields -e frame.time_relative -e tcp.analysis.ack_rtt 2> /dev/null |
    awk '{ for (i = 1; i <= 2; i++) { split($i, p, "."); ns = p[1] * 1000000000 + substr(p[2] "000000000", 1, 9);
           printf "%d%s", int((ns + 500) / 1000), i == 1 ? " " : "\n" } }'
}

# ---- Nagle on: the stall is there, and tshark sees the same held ACKs ----
measure_nagle() {
  [ "$TIMING_ATTEMPT" -gt 1 ] && { capture_nagle || return 1; }
  local d=$LAB_TMP/nagle.json
  "$PCAP" decode --json "$LAB_TMP/nagle.pcap" > "$d" || fail "churn-pcap decode exited $?"
  local stalls; stalls=$(json_get "$d" totals.stalls)
  assert_ge "Nagle on: stalls (of 8 exchanges; the first may not stall: quick-ACK mode)" "$stalls" 1
  assert_eq "Nagle on: flows.0.stalls = totals.stalls" "$(json_get "$d" flows.0.stalls)" "$stalls"
  held_acks "$LAB_TMP/nagle.pcap" > "$LAB_TMP/tshark.held"
  json_flat "$d" | awk -F'\t' '$1 ~ /^flows\.0\.stall_acks\.[0-9]+\.(ack_us|gap_us)$/ { v[++n] = $2 }
    END { for (i = 1; i < n; i += 2) print v[i], v[i + 1] }' > "$LAB_TMP/pcap.held"
  assert_eq "stall_acks listed" "$(wc -l < "$LAB_TMP/pcap.held")" "$stalls"
  local miss; miss=$(grep -vxFf "$LAB_TMP/tshark.held" "$LAB_TMP/pcap.held")
  [ -z "$miss" ] || fail "stalls whose ACK tshark does not see at that time with that ack_rtt (ack_us gap_us): $miss; tshark's: $(tr '\n' ';' < "$LAB_TMP/tshark.held")"
  assert_ge "tshark's held server ACKs >= churn-pcap's stalls" "$(wc -l < "$LAB_TMP/tshark.held")" "$stalls"
  note "ok each stall's ACK = a tshark pure ACK, time and ack_rtt to the µs: $(tr '\n' ';' < "$LAB_TMP/pcap.held")"
  "$PCAP" annotate "$LAB_TMP/nagle.pcap" > "$LAB_TMP/nagle.txt" || fail "annotate exited $?"
  grep -q "Nagle + delayed ACK (stall 1): the ACK was held" "$LAB_TMP/nagle.txt" ||
    fail "annotate does not name the stall: $(grep -m3 stall "$LAB_TMP/nagle.txt")"
  local hold; hold=$(json_flat "$d" | awk -F'\t' '$1 ~ /^flows\.0\.stall_acks\.[0-9]+\.hold_us$/ { print $2 }' | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] / 1000 }')
  check_between "median ACK hold (ms): Linux's delayed ACK, TCP_DELACK_MIN 40 ms" "$hold" 36 100
}
capture_nagle() { capture off "$LAB_TMP/nagle.pcap"; }
capture_nagle
timing_attempts 3 measure_nagle

# ---- TCP_NODELAY: nothing held, nothing found ----
capture on "$LAB_TMP/nodelay.pcap"
d=$LAB_TMP/nodelay.json
"$PCAP" decode --json "$LAB_TMP/nodelay.pcap" > "$d" || fail "churn-pcap decode exited $?"
assert_ge "TCP_NODELAY: requests decoded" "$(json_get "$d" totals.requests)" 1
assert_eq "TCP_NODELAY: stalls" "$(json_get "$d" totals.stalls)" 0
assert_eq "TCP_NODELAY: tshark's held server ACKs" "$(held_acks "$LAB_TMP/nodelay.pcap" | wc -l)" 0
"$PCAP" decode "$LAB_TMP/nodelay.pcap" | grep -q "Nagle stalls  0 in 0 flows" || fail "decode's text has no 'Nagle stalls  0' line"

# ---- bad input: a one-line error naming the option, exit 2 ----
"$PCAP" decode --stall-ms 0 "$LAB_TMP/nodelay.pcap" > /dev/null 2> "$LAB_TMP/err" && fail "--stall-ms 0 accepted"
[ $? -eq 2 ] && grep -q -- "--stall-ms" "$LAB_TMP/err" || fail "--stall-ms 0: not exit 2 naming the option: $(cat "$LAB_TMP/err")"
echo "Nagle: $(json_get "$LAB_TMP/nagle.json" totals.stalls) stalls = tshark's held ACKs; TCP_NODELAY: 0" > "$TEST_RESULT"
