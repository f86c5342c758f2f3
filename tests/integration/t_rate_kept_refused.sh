#!/usr/bin/env bash
# t_rate_kept_refused: the client keeps its offered rate through failed connects. Churn at 500 req/s for
# 4 s with NO server listening: every SYN draws an RST (ECONNREFUSED). The server starts 1.5 s in. A client
# that dropped a slot per failed connect (wrk does) would have nothing left by then and show 0 req/s; ours
# puts each failed request back on the schedule, so the last 2 seconds run at the offered rate again.
source "$(dirname "$0")/lib.sh"
lab_start
rate=500 dur=4 conns=32

start_client --mode churn -R $rate -d $dur -c $conns
sleep 1.5
refused_before=$(nstat_get "$LAB_SRV" TcpOutRsts)   # the server host's RSTs to the early SYNs
start_server
wait_client
rst_srv=$(nstat_get "$LAB_SRV" TcpOutRsts) attempt_fails=$(nstat_get "$LAB_CLI" TcpAttemptFails)
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
assert_gt "errors.ECONNREFUSED" "$(json_num "$j" errors.ECONNREFUSED 0)" 0
assert_gt "server-host TcpOutRsts before the server started (nstat: the kernel refused SYNs)" "$refused_before" 0
# One refused SYN = one RST from the server host = one SYN-SENT socket failed on the client host (its
# TcpAttemptFails) = one ECONNREFUSED counted by the client. Once the server listens, no more RSTs.
refused=$(json_num "$j" errors.ECONNREFUSED 0)
assert_eq "server-host TcpOutRsts (nstat) vs client ECONNREFUSED" "$rst_srv" "$refused"
assert_eq "client-host TcpAttemptFails (nstat) vs client ECONNREFUSED" "$attempt_fails" "$refused"
assert_eq "timeline seconds" "$(json_len "$j" timeline)" $dur
for i in $((dur - 2)) $((dur - 1)); do
  assert_ge "timeline second $((i + 1)) requests (offered $rate/s, server up since 1.5 s)" \
    "$(json_get "$j" timeline.$i.requests)" $((rate * 9 / 10))
done
ok=$(json_get "$j" requests_ok) failed=$(json_get "$j" requests_failed) unf=$(json_get "$j" requests_unfinished)
sched=$(json_get "$j" requests_scheduled)
assert_eq "requests_scheduled ($rate/s x ${dur} s)" "$sched" $((rate * dur))
assert_eq "requests_ok + requests_failed + requests_unfinished ($ok + $failed + $unf) vs scheduled" \
  $((ok + failed + unf)) "$sched"
assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$(json_get "$j" handshakes)"
