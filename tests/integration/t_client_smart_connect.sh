#!/usr/bin/env bash
# t_client_smart_connect: churn-client's --smart-connect and --close, seen on the wire and in the kernel's
# socket tables. Three bounded churn runs (-n 20 -c 1: 20 connections, one at a time), each captured on the
# client host's veth by `churn-pcap capture` and read back with tshark:
#   - default (--smart-connect on): TCP_QUICKACK 0 before connect() (loop/socket.cc, delay_handshake_ack),
#     so after the SYN-ACK the client's first segment IS the request, carrying the handshake's ACK:
#     SYN, SYN-ACK, request. No bare ACK (relative seq 1, ack 1, no payload) in any of the 20 connections;
#   - --smart-connect off: SYN, SYN-ACK, bare ACK, request in every connection. The same checks must see
#     the difference, or they could not fail;
#   - --close client (default): the client closes first, TIME-WAIT on the client host only; --close server:
#     the requests say "Connection: close", the server closes first, TIME-WAIT on the server host only.
#     Counted per run by churn-probe (sock_diag) and cross-checked with ss. Each run has its own server port,
#     so one run's TIME-WAIT (60 s) does not count in the next.
# All exact: one connection at a time on a quiet veth, nothing here depends on timing.
source "$(dirname "$0")/lib.sh"
PCAP=$BIN/churn-pcap PROBE=$BIN/churn-probe
for b in "$PCAP" "$PROBE"; do [ -x "$b" ] || fail "$b is not built (make build)"; done
command -v tshark > /dev/null || lab/deps.sh pcap > /dev/null || skip "tshark missing and lab/deps.sh pcap could not install it"
lab_start
n=20

# tw NS FILTER...: TIME-WAIT sockets in NS matching churn-probe's kernel-side filter (0 when none).
tw() {
  local ns=$1 f=$LAB_TMP/probe.$RANDOM.json; shift
  "$PROBE" states --netns "$ns" --state time-wait --json "$@" > "$f" || fail "churn-probe states --netns $ns $* failed"
  json_num "$f" states.TIME-WAIT 0
}
# tw_ss NS SS-FILTER: the same count from ss, the cross-check.
tw_ss() { ip netns exec "$1" ss -H -tan state time-wait "$2" | wc -l; }

# run NAME PORT CLIENT-ARGS...: churn-server on PORT, churn-client -n 20 -c 1 with ARGS under capture.
# Leaves $LAB_TMP/NAME.pcap and NAME.json; asserts every request answered and no error.
run() {
  local name=$1; PORT=$2; shift 2
  local f=$LAB_TMP/$name.pcap
  start_server
  : > "$LAB_TMP/cap.log"
  # --snaplen 512 (every segment here is smaller): with the default 262144 the 8 MiB ring's slots are
  # sized for big packets and it held 128 of them; a capturer descheduled by a busy host drops the rest
  # (measured: 32 of 160 dropped with the capturer SIGSTOPped for a run; 23 and 32 also seen unprovoked).
  # At 512 it holds thousands: 0 dropped with the capturer stopped for the whole run.
  "$PCAP" capture --netns "$LAB_CLI" -i "cl${RUNID}c" -w "$f" --snaplen 512 --seconds 30 --json "$LAB_TMP/$name.cap.json" \
    2> "$LAB_TMP/cap.log" &
  local cap=$!
  for _ in $(seq 1 50); do grep -q "capturing on" "$LAB_TMP/cap.log" && break; sleep 0.1; done
  grep -q "capturing on" "$LAB_TMP/cap.log" || fail "churn-pcap capture did not start: $(cat "$LAB_TMP/cap.log")"
  run_client --mode churn -n $n -c 1 "$@"
  # Both hosts done with every connection (each one gone or in TIME-WAIT): the last FIN and its ACK are
  # in the capture, and the TIME-WAIT counts below are final.
  wait_until 5 "$name: every connection closed on both hosts" eval 'wire_quiet "$LAB_CLI" && wire_quiet "$LAB_SRV"'
  kill -INT $cap
  wait $cap || fail "churn-pcap capture exited $?: $(cat "$LAB_TMP/cap.log")"
  stop_server
  cp "$LAB_TMP/client.json" "$LAB_TMP/$name.json"
  local j=$LAB_TMP/$name.json
  assert_eq "$name: requests_ok" "$(json_get "$j" requests_ok)" $n
  assert_eq "$name: handshakes (one connection per request)" "$(json_get "$j" handshakes)" $n
  assert_eq "$name: errors" "$(json_get "$j" errors)" "{}"
  assert_eq "$name: capture dropped" "$(json_get "$LAB_TMP/$name.cap.json" dropped)" 0
}

# first_after_synack NAME: per connection (tcp.stream), what the client sent first after the SYN-ACK:
# "data" (the request, carrying the ACK) or "bare" (an ACK without payload). Prints "STREAMS DATA BARE".
# tshark 4.0 prints flags as 1/0, later versions as True/False: both are read.
first_after_synack() {
  tshark -r "$LAB_TMP/$1.pcap" -T fields -E separator=' ' \
    -e tcp.stream -e ip.src -e tcp.flags.syn -e tcp.flags.ack -e tcp.len 2> /dev/null |
    awk -v cli="$LAB_CLI_IP" '
      function on(v) { return v == "1" || v == "True" }
      { s = $1; seen[s] = 1 }
      on($3) && on($4) && $2 != cli { synack[s] = 1; next }
      synack[s] && !(s in first) && $2 == cli { first[s] = ($5 > 0 ? "data" : "bare") }
      END { for (s in seen) { n++; if (first[s] == "data") d++; else if (first[s] == "bare") b++ }
            printf "%d %d %d\n", n, d, b }'
}
# tshark_count NAME FILTER: frames of the capture matching a display filter.
tshark_count() { tshark -r "$LAB_TMP/$1.pcap" -Y "$2" 2> /dev/null | wc -l; }
# fin_first NAME IP: connections whose first FIN came from IP (who closed first).
fin_first() {
  tshark -r "$LAB_TMP/$1.pcap" -Y 'tcp.flags.fin == 1' -T fields -e tcp.stream -e ip.src 2> /dev/null |
    awk -v ip="$2" '!seen[$1]++ && $2 == ip' | wc -l
}
# The handshake's bare ACK: from the client, no SYN/FIN, no payload, relative seq 1 and ack 1 (after the
# request the client's seq is past 1, so a later pure ACK cannot match).
BARE="ip.src == $LAB_CLI_IP && tcp.flags.syn == 0 && tcp.flags.fin == 0 && tcp.flags.reset == 0 && tcp.len == 0 && tcp.seq == 1 && tcp.ack == 1"
# The request: the client's first payload, relative seq 1, acknowledging the SYN-ACK (ack 1).
REQ="ip.src == $LAB_CLI_IP && tcp.len > 0 && tcp.seq == 1 && tcp.ack == 1"
SYN="ip.src == $LAB_CLI_IP && tcp.flags.syn == 1 && tcp.flags.ack == 0 && !tcp.analysis.retransmission"

# ---- 1. the defaults: --smart-connect on, --close client -----------------------------------------------------
run smart 8080
j=$LAB_TMP/smart.json
assert_eq "smart: JSON smart_connect" "$(json_get "$j" smart_connect)" true
assert_eq "smart: JSON close_first" "$(json_get "$j" close_first)" client
read -r streams data bare < <(first_after_synack smart)
assert_eq "smart: connections in the capture" "$streams" $n
assert_eq "smart: connections whose first segment after the SYN-ACK is the request" "$data" $n
assert_eq "smart: connections with a bare ACK after the SYN-ACK" "$bare" 0
assert_eq "smart: tshark SYNs" "$(tshark_count smart "$SYN")" $n
assert_eq "smart: tshark requests at seq 1 ack 1" "$(tshark_count smart "$REQ")" $n
assert_eq "smart: tshark bare handshake ACKs (client, seq 1, ack 1, no payload)" "$(tshark_count smart "$BARE")" 0
assert_eq "smart: connections the client FINs first (tshark)" "$(fin_first smart "$LAB_CLI_IP")" $n
assert_eq "smart: client-host TIME-WAIT (churn-probe, dport 8080)" "$(tw "$LAB_CLI" --dport 8080)" $n
assert_eq "smart: client-host TIME-WAIT (ss)" "$(tw_ss "$LAB_CLI" "( dport = :8080 )")" $n
assert_eq "smart: server-host TIME-WAIT (churn-probe, sport 8080)" "$(tw "$LAB_SRV" --sport 8080)" 0
assert_eq "smart: server-host TIME-WAIT (ss)" "$(tw_ss "$LAB_SRV" "( sport = :8080 )")" 0

# ---- 2. --smart-connect off: the bare ACK is back, in every connection -------------------------------------
run plain 8081 --smart-connect off
j=$LAB_TMP/plain.json
assert_eq "off: JSON smart_connect" "$(json_get "$j" smart_connect)" false
assert_eq "off: JSON close_first" "$(json_get "$j" close_first)" client
read -r streams data bare < <(first_after_synack plain)
assert_eq "off: connections in the capture" "$streams" $n
assert_eq "off: connections with a bare ACK after the SYN-ACK" "$bare" $n
assert_eq "off: connections whose first segment after the SYN-ACK is the request" "$data" 0
assert_eq "off: tshark bare handshake ACKs" "$(tshark_count plain "$BARE")" $n
assert_eq "off: tshark requests at seq 1 ack 1" "$(tshark_count plain "$REQ")" $n
# Packets per run, for the log only. Measured (kernel 6.18, veth): smart 160, off 200, i.e. 8 and 10 a
# connection, two fewer, not one: the socket stays in delayed-ACK ("pingpong") mode after the handshake,
# so the response's ACK also waits and rides on the client's FIN a few us later. That second saving holds
# only while the client closes within the delayed-ACK timeout (>= 40 ms), so it is timing, not asserted;
# the handshake's bare ACK (counted exactly above) is not.
note "packets captured: smart $(json_get "$LAB_TMP/smart.cap.json" packets), off $(json_get "$LAB_TMP/plain.cap.json" packets) (20 connections each)"

# ---- 3. --close server: TIME-WAIT moves to the server host ---------------------------------------------------
run srvclose 8082 --close server
j=$LAB_TMP/srvclose.json
assert_eq "close server: JSON close_first" "$(json_get "$j" close_first)" server
assert_eq "close server: JSON smart_connect" "$(json_get "$j" smart_connect)" true
assert_eq "close server: client closes_by_server" "$(json_get "$j" closes_by_server)" $n
assert_eq "close server: server closes.server (it closed first)" "$(json_get "$LAB_TMP/server.json" closes.server)" $n
assert_eq "close server: tshark requests with Connection: close" \
  "$(tshark_count srvclose "ip.src == $LAB_CLI_IP && http.connection == \"close\"")" $n
assert_eq "close server: connections the server FINs first (tshark)" "$(fin_first srvclose "$LAB_SRV_IP")" $n
read -r streams data bare < <(first_after_synack srvclose)
assert_eq "close server: connections whose first segment after the SYN-ACK is the request" "$data" $n
assert_eq "close server: server-host TIME-WAIT (churn-probe, sport 8082)" "$(tw "$LAB_SRV" --sport 8082)" $n
assert_eq "close server: server-host TIME-WAIT (ss)" "$(tw_ss "$LAB_SRV" "( sport = :8082 )")" $n
assert_eq "close server: client-host TIME-WAIT (churn-probe, dport 8082)" "$(tw "$LAB_CLI" --dport 8082)" 0
assert_eq "close server: client-host TIME-WAIT (ss)" "$(tw_ss "$LAB_CLI" "( dport = :8082 )")" 0
