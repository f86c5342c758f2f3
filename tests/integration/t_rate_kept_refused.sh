#!/usr/bin/env bash
# t_rate_kept_refused: the client keeps its offered rate through failed connects. Churn at 500 req/s for
# 4 s with NO server listening: every SYN draws an RST (ECONNREFUSED). The server starts once the client
# has been refused 4 times more often than it has connection slots. A client that dropped a slot per
# failed connect (wrk does) would have nothing left by then and show 0 req/s; ours puts each failed
# request back on the schedule, so the last 2 seconds run at the offered rate again.
source "$(dirname "$0")/lib.sh"
lab_start
rate=500 dur=4 conns=32

refused_enough() { [ "$(nstat_get "$LAB_CLI" TcpAttemptFails)" -ge $((4 * conns)) ]; }

attempt() {
  [ "$TIMING_ATTEMPT" -eq 1 ] || lab_restart   # fresh counters: nstat -a counts since the namespace began
  start_client --mode churn -R $rate -d $dur -c $conns
  # A condition, not a sleep: 4 x 32 refusals (~0.26 s at 500/s) would have used up every slot of a
  # client that loses one per failure. Bounded: the client must be refused at all.
  wait_until 3 "client refused $((4 * conns)) times (TcpAttemptFails)" refused_enough
  local refused_before rst_srv attempt_fails j s refused i ok failed unf sched
  refused_before=$(nstat_get "$LAB_SRV" TcpOutRsts)   # the server host's RSTs to the early SYNs
  start_server
  wait_client
  rst_srv=$(nstat_get "$LAB_SRV" TcpOutRsts) attempt_fails=$(nstat_get "$LAB_CLI" TcpAttemptFails)
  stop_server

  j=$LAB_TMP/client.json s=$LAB_TMP/server.json
  # Exact, every attempt.
  assert_gt "errors.ECONNREFUSED" "$(json_num "$j" errors.ECONNREFUSED 0)" 0
  assert_gt "server-host TcpOutRsts before the server started (nstat: the kernel refused SYNs)" "$refused_before" 0
  # One refused SYN = one RST from the server host = one SYN-SENT socket failed on the client host (its
  # TcpAttemptFails) = one ECONNREFUSED counted by the client. Once the server listens, no more RSTs.
  refused=$(json_num "$j" errors.ECONNREFUSED 0)
  assert_eq "server-host TcpOutRsts (nstat) vs client ECONNREFUSED" "$rst_srv" "$refused"
  assert_eq "client-host TcpAttemptFails (nstat) vs client ECONNREFUSED" "$attempt_fails" "$refused"
  assert_eq "timeline seconds" "$(json_len "$j" timeline)" $dur
  ok=$(json_get "$j" requests_ok) failed=$(json_get "$j" requests_failed) unf=$(json_get "$j" requests_unfinished)
  sched=$(json_get "$j" requests_scheduled)
  assert_eq "requests_scheduled ($rate/s x ${dur} s)" "$sched" $((rate * dur))
  assert_eq "requests_ok + requests_failed + requests_unfinished ($ok + $failed + $unf) vs scheduled" \
    $((ok + failed + unf)) "$sched"
  assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$(json_get "$j" handshakes)"
  # The rate, once the server is up (well before second 3): each second gets its 500 scheduled requests,
  # give or take what a host stall of S s moves into the next second (500 x S): >= 90 % holds for
  # stalls under 100 ms; a longer one is the host's (re-measured).
  for i in $((dur - 2)) $((dur - 1)); do
    check_ge "timeline second $((i + 1)) requests (offered $rate/s, server up)" \
      "$(json_get "$j" timeline.$i.requests)" $((rate * 9 / 10)) || return 1
  done
}
timing_attempts 3 attempt
