#!/usr/bin/env bash
# t_server_response_split: the Nagle + delayed-ACK stall in the response direction. churn-server
# --response-pattern split --write each --nodelay off writes every answer as two small pieces, the head
# and then the body, one send() each. The head leaves at once; the body is held by the server's kernel
# (Nagle, RFC 896: a small segment waits while an earlier one is unacknowledged) until the client ACKs
# the head, and the client delays that ACK (>= 40 ms, TCP_DELACK_MIN) because it has nothing to send
# back: it is still waiting for the rest of the answer. A keep-alive client with one request at a time
# (churn-client --mode pool -c 1) then takes ~40 ms per request instead of ~0.1 ms.
# The same answers with TCP_NODELAY, with --write gather (head and body in one sendmsg()) or with --write
# cork (TCP_CORK around the two send()s) do not stall.
#
# Measured here (tcpdump on the server's veth, 5 requests): the first answer is not stalled, since a new
# connection's receiver ACKs its first segments at once (quickack mode at the start); from the second
# request on, the client has sent data right after receiving some, the kernel counts it interactive
# ("pingpong") and delays its ACKs: each head's pure ACK comes ~44 ms later, the 16-byte body ~20 us after
# it. p50 44-48 ms, p99 44-58 ms over 40 requests; TCP_NODELAY 8-9 us, gather 6 us, cork 6-12 us (one 103-byte
# segment per answer). churn-server --quickack changes nothing here (p50 48.0 ms): the ACK that is held
# is the client's.
#
# Exact: every request answered, and the number of send()/sendmsg() calls the mode promises (each: one per
# piece, 2 per answer; gather: 1 per answer). Timing (soft, re-measured on a noisy host): p50 >= 30 ms
# when stalled, <= 10 ms with either fix.
source "$(dirname "$0")/lib.sh"
lab_start
N=40        # requests per run, one at a time: ~2 s when each waits ~44 ms
SIZE=16     # body bytes: a small second piece, far below one MSS

# run_split LABEL SERVER-ARGS...: one server, one client run of N requests; leaves P50 (us) and CALLS.
run_split() {
  local label=$1; shift
  start_server --size $SIZE --response-pattern split "$@"
  run_client --mode pool -c 1 -n $N -d 20 --timeout 2000
  stop_server
  local j=$LAB_TMP/client.json s=$LAB_TMP/server.json
  assert_eq "$label: requests answered" "$(json_get "$j" requests_ok)" $N
  assert_eq "$label: server responses" "$(json_get "$s" responses)" $N
  assert_eq "$label: server options.response_pattern" "$(json_get "$s" options.response_pattern)" split
  P50=$(json_get "$j" latency_us.p50)
  CALLS=$(json_get "$s" write_calls)
  note "$label: p50 ${P50} us, p99 $(json_get "$j" latency_us.p99) us, write_calls $CALLS"
}

measure() {
  [ "$TIMING_ATTEMPT" -gt 1 ] && lab_restart
  run_split "nagle, each" --nodelay off --write each
  assert_eq "nagle, each: write_calls (one send() per piece: head + body per answer)" "$CALLS" $((2 * N))
  local stalled=$P50
  run_split "nodelay, each" --nodelay on --write each
  assert_eq "nodelay, each: write_calls" "$CALLS" $((2 * N))
  local nodelay=$P50
  run_split "nagle, gather" --nodelay off --write gather
  assert_eq "nagle, gather: write_calls (one sendmsg() per answer)" "$CALLS" $N
  local gather=$P50
  run_split "nagle, cork" --nodelay off --write cork
  assert_eq "nagle, cork: write_calls (one send() per piece, inside the cork)" "$CALLS" $((2 * N))
  local cork=$P50
  RESULT="p50 $stalled us stalled (Nagle on, each); $nodelay us with TCP_NODELAY, $gather us gather, $cork us cork"
  check_ge "latency p50 (us), Nagle on, head and body in two send()s" "$stalled" 30000 &&
    check_le "latency p50 (us), TCP_NODELAY, two send()s" "$nodelay" 10000 &&
    check_le "latency p50 (us), Nagle on, one sendmsg()" "$gather" 10000 &&
    check_le "latency p50 (us), Nagle on, two send()s inside TCP_CORK" "$cork" 10000
}
timing_attempts 3 measure
echo "$RESULT" > "$TEST_RESULT"
