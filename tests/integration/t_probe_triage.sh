#!/usr/bin/env bash
# t_probe_triage: churn-probe triage on both lab hosts.
#   server host: churn-server --leak-close-wait holds C sockets in CLOSE-WAIT; triage must name its pid
#                (and comm), count them all, and give their age since the peer's FIN.
#   client host: a churn run through a 1000-port range (10000-10999) leaves N TIME-WAIT sockets to 198.18.0.2:8080;
#                triage must see that this host closes first, as a client, put that endpoint on top with
#                N/1000 of the range, and climb the ladder: pool, then (--tried pool) tcp_tw_reuse.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_fixtures.sh"
PORT_RANGE="10000 10999" lab_start
need_probe
C=30 N=900

start_named_server plain --listen "$LAB_SRV_IP:8080"
start_named_server leak --listen "$LAB_SRV_IP:8081" --leak-close-wait
leak_pid=${SRV_PIDS[leak]}

ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 1000 -n $C -d 3 "http://$LAB_SRV_IP:8081/" > "$LAB_TMP/leak.log" 2>&1 ||
  fail "churn-client (leak): $(tail -c 300 "$LAB_TMP/leak.log")"
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 3000 -n $N -d 3 "http://$LAB_SRV_IP:8080/" > "$LAB_TMP/churn.log" 2>&1 ||
  fail "churn-client (churn): $(tail -c 300 "$LAB_TMP/churn.log")"
wait_ss "$LAB_SRV" CLOSE-WAIT $C
wait_ss "$LAB_CLI" TIME-WAIT $N

# ---- server host: the leak ----
s=$LAB_TMP/server.json
"$PROBE" triage --netns "$LAB_SRV" --json > "$s" || fail "triage --json on the server host failed"
assert_eq "server host: CLOSE-WAIT counted" "$(json_get "$s" close_wait.count)" $C
assert_eq "server host: oldest owner is churn-server --leak-close-wait's pid" "$(json_get "$s" close_wait.owners.0.pid)" "$leak_pid"
assert_eq "server host: owner's comm" "$(json_get "$s" close_wait.owners.0.comm)" churn-server
assert_eq "server host: it holds all of them" "$(json_get "$s" close_wait.owners.0.count)" $C
assert_eq "server host: no other owner" "$(json_len "$s" close_wait.owners)" 1
assert_gt "server host: age of the oldest (ms since the peer's FIN)" "$(json_get "$s" close_wait.owners.0.oldest_idle_ms)" 0
assert_eq "server host: TIME-WAIT (the client closed first)" "$(json_get "$s" time_wait.count)" 0
"$PROBE" triage --netns "$LAB_SRV" > "$LAB_TMP/server.txt" || fail "triage (text) on the server host failed"
grep -q "pid $leak_pid *churn-server" "$LAB_TMP/server.txt" || fail "triage text does not name pid $leak_pid: $(head -c 400 "$LAB_TMP/server.txt")"
note "ok triage text names pid $leak_pid"

# ---- client host: TIME-WAIT and the ladder ----
# (10000-10999: the kernel refuses a range that starts below ip_unprivileged_port_start, 1024.)
c=$LAB_TMP/client.json
"$PROBE" triage --netns "$LAB_CLI" --json > "$c" || fail "triage --json on the client host failed"
assert_eq "client host: TIME-WAIT" "$(json_get "$c" time_wait.count)" $N
assert_eq "client host: closes first as" "$(json_get "$c" time_wait.closes_first_as)" client
assert_eq "client host: ports in range (PORT_RANGE override)" "$(json_get "$c" time_wait.ports)" 1000
assert_eq "client host: busiest endpoint" "$(json_get "$c" time_wait.top_remote.0.remote)" "$LAB_SRV_IP:8080"
assert_between "client host: its share of the range" "$(json_get "$c" time_wait.busiest_fraction)" 0.899 0.901
assert_between "client host: implied rate (TIME-WAIT / 60 s)" "$(json_get "$c" time_wait.implied_rate_per_s)" 14.99 15.01
assert_eq "client host: next rung" "$(json_get "$c" next.rung)" pool
"$PROBE" triage --netns "$LAB_CLI" --json --tried pool > "$c" || fail "triage --tried pool failed"
assert_eq "client host: next rung after pool" "$(json_get "$c" next.rung)" tw_reuse
# The client host's CLOSE-WAIT side of the leak: its sockets wait in FIN-WAIT-2.
assert_eq "client host: FIN-WAIT-2 (the leak's other end)" "$(json_get "$c" states.FIN-WAIT-2)" $C
kill_holders
