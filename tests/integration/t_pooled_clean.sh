#!/usr/bin/env bash
# t_pooled_clean: the same 1000-port lab and the same 1000 req/s that exhaust the ports in churn mode
# (t_churn_exhausts), carried by a pool of 32 keep-alive connections: 32 handshakes in all, every one of
# the 3000 requests answered, no EADDRNOTAVAIL, and no TIME-WAIT while the pool runs (nothing is closed).
source "$(dirname "$0")/lib.sh"
export PORT_RANGE="40000 40999"
lab_start
conns=32 rate=1000 dur=3

start_server
start_client --mode pool -c $conns -R $rate -d $dur
# Mid-run: the pool is up and busy, and no connection has been closed yet. Waited for (all 32 connected),
# not slept for; the sample then falls well inside the 3 s run.
pool_up() { [ "$(ip netns exec "$LAB_CLI" ss -H -tn state established dst "$LAB_SRV_IP" | wc -l)" -eq $conns ]; }
wait_until 10 "pool of $conns established" pool_up
kill -0 "$CLI_PID" 2>/dev/null || fail "churn-client ended before the mid-run sample (a ${dur} s run)"
tw_mid=$(tw_count "$LAB_CLI")
est_mid=$(ip netns exec "$LAB_CLI" ss -H -tn state established dst "$LAB_SRV_IP" | wc -l)
wait_client
tw_cli=$(tw_count "$LAB_CLI")
opens=$(nstat_get "$LAB_CLI" TcpActiveOpens)
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
assert_eq "client-host TIME-WAIT mid-run (ss)" "$tw_mid" 0
assert_eq "client-host ESTABLISHED to the server mid-run (ss)" "$est_mid" $conns
assert_eq "errors (client JSON)" "$(json_get "$j" errors)" "{}"
assert_eq "handshakes" "$(json_get "$j" handshakes)" $conns
assert_eq "client TcpActiveOpens (nstat)" "$opens" $conns
assert_eq "requests_scheduled ($rate/s x ${dur} s)" "$(json_get "$j" requests_scheduled)" $((rate * dur))
assert_eq "requests_ok" "$(json_get "$j" requests_ok)" $((rate * dur))
assert_eq "server accepted" "$(json_get "$s" accepted)" $conns
assert_eq "server requests" "$(json_get "$s" requests)" $((rate * dur))
# At exit the pool closes its own connections first: at most one TIME-WAIT each.
assert_le "client-host TIME-WAIT after exit (ss)" "$tw_cli" $conns
