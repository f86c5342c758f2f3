#!/usr/bin/env bash
# t_client_sources: churn-client --source (run-levers row 8). A 500-port range and churn at 1000 req/s, the
# client closing first, so every port it uses stays in TIME-WAIT for 60 s. With one source address the
# client gets exactly 500 connections, then EADDRNOTAVAIL; with two addresses on the same host, each bound
# with IP_BIND_ADDRESS_NO_PORT, it gets exactly 1000: the ports are counted per 4-tuple, and the second
# address brings 500 tuples of its own towards the same server address and port. `ss` on the client
# host agrees, address by address: 500 TIME-WAIT from each. And one address towards two server ports gets
# 500 to each, which only holds because bind() took no port (IP_BIND_ADDRESS_NO_PORT).
source "$(dirname "$0")/lib.sh"
export PORT_RANGE="40000 40499"   # applied inside the lab namespaces only (lab/netns.sh)
lab_start
ports=500 rate=1000 dur=2
A=$LAB_CLI_IP B=198.18.0.3

# The second address on the client's veth (the server's /24 route already covers it).
add_second_address() { ip -n "$LAB_CLI" addr add "$B/24" dev "cl${RUNID}c" || fail "ip addr add $B failed"; }
# tw_from NS ADDR: TIME-WAIT sockets whose local address is ADDR (field 3 is Local, see tw_ports).
tw_from() { ip netns exec "$1" ss -H -tan state time-wait | awk -v a="$2" '{ n = split($3, x, ":"); if (x[1] == a) c++ } END { print c + 0 }'; }

add_second_address
assert_eq "client ip_local_port_range" "$(ns_sysctl "$LAB_CLI" net.ipv4.ip_local_port_range)" "40000 40499"

# ---- one source: the ceiling is the range ----
start_server
run_client --mode churn -R $rate -d $dur -c 32 --source "$A"
tw_a=$(tw_from "$LAB_CLI" "$A") tw_b=$(tw_from "$LAB_CLI" "$B")
stop_server
j=$LAB_TMP/client.json
assert_eq "one source: sources.0.addr" "$(json_get "$j" sources.0.addr)" "$A"
assert_eq "one source: handshakes (every port used once)" "$(json_get "$j" handshakes)" $ports
assert_eq "one source: sources.0.connects" "$(json_get "$j" sources.0.connects)" $ports
assert_gt "one source: errors.EADDRNOTAVAIL" "$(json_num "$j" errors.EADDRNOTAVAIL 0)" 0
# The port search ran out in connect(), not in bind(): a bind() that took a port itself (no
# IP_BIND_ADDRESS_NO_PORT) fails with EADDRINUSE once the range is used up, and no EADDRNOTAVAIL.
assert_eq "one source: errors.EADDRINUSE (bind took no port)" "$(json_num "$j" errors.EADDRINUSE 0)" 0
assert_eq "one source: client-host TIME-WAIT from $A (ss)" "$tw_a" $ports
assert_eq "one source: client-host TIME-WAIT from $B (ss)" "$tw_b" 0
assert_eq "one source: server accepted" "$(json_get "$LAB_TMP/server.json" accepted)" $ports

# ---- two sources, a fresh lab (the first run's ports sit in TIME-WAIT for 60 s) ----
lab_restart
add_second_address
start_server
run_client --mode churn -R $rate -d $dur -c 32 --source "$A,$B"
tw_a=$(tw_from "$LAB_CLI" "$A") tw_b=$(tw_from "$LAB_CLI" "$B") tw_all=$(tw_count "$LAB_CLI")
stop_server
j=$LAB_TMP/client.json
assert_eq "two sources: sources.0.addr" "$(json_get "$j" sources.0.addr)" "$A"
assert_eq "two sources: sources.1.addr" "$(json_get "$j" sources.1.addr)" "$B"
assert_eq "two sources: handshakes (the ceiling doubles)" "$(json_get "$j" handshakes)" $((2 * ports))
assert_eq "two sources: sources.0.connects" "$(json_get "$j" sources.0.connects)" $ports
assert_eq "two sources: sources.1.connects" "$(json_get "$j" sources.1.connects)" $ports
# Both ran out, each on its own turns: the rotation spreads connections evenly, so they run out together.
assert_gt "two sources: sources.0.errors.EADDRNOTAVAIL" "$(json_num "$j" sources.0.errors.EADDRNOTAVAIL 0)" 0
assert_gt "two sources: sources.1.errors.EADDRNOTAVAIL" "$(json_num "$j" sources.1.errors.EADDRNOTAVAIL 0)" 0
assert_eq "two sources: client-host TIME-WAIT from $A (ss)" "$tw_a" $ports
assert_eq "two sources: client-host TIME-WAIT from $B (ss)" "$tw_b" $ports
assert_eq "two sources: client-host TIME-WAIT in all (ss)" "$tw_all" $((2 * ports))
assert_eq "two sources: server accepted" "$(json_get "$LAB_TMP/server.json" accepted)" $((2 * ports))

# ---- one source, two destinations: what IP_BIND_ADDRESS_NO_PORT is for ----
# The limit is per 4-tuple, so one source address has the whole range again towards each server port.
# Two clients at once from $A, one to :$PORT and one to :$PORT2, get 500 each. A bind() that took the port
# itself (no IP_BIND_ADDRESS_NO_PORT) would reserve it from $A for every destination: 500 between them.
lab_restart
PORT2=$((PORT + 1))
start_server
ip netns exec "$LAB_SRV" "$SERVER" --listen "$LAB_SRV_IP:$PORT2" --json "$LAB_TMP/server2.json" \
  > "$LAB_TMP/server2.log" 2>&1 &
SRV2_PID=$!
wait_listening "$LAB_TMP/server2.log" "$SRV2_PID" "churn-server :$PORT2"
ip netns exec "$LAB_CLI" "$CLIENT" -q --json "$LAB_TMP/client2.json" --mode churn -R $rate -d $dur -c 32 \
  --source "$A" "http://$LAB_SRV_IP:$PORT2/" > "$LAB_TMP/client2.log" 2>&1 &
CLI2_PID=$!
run_client --mode churn -R $rate -d $dur -c 32 --source "$A"
wait "$CLI2_PID" || fail "the second churn-client exited $?: $(tail -c 300 "$LAB_TMP/client2.log")"
tw_a=$(tw_from "$LAB_CLI" "$A")
kill -TERM "$SRV2_PID"; wait "$SRV2_PID"
stop_server
assert_eq "two destinations: handshakes to :$PORT" "$(json_get "$LAB_TMP/client.json" handshakes)" $ports
assert_eq "two destinations: handshakes to :$PORT2" "$(json_get "$LAB_TMP/client2.json" handshakes)" $ports
assert_eq "two destinations: client-host TIME-WAIT from $A (ss)" "$tw_a" $((2 * ports))

# ---- an address this host does not have: refused at startup, not counted as churn errors ----
out=$(ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -d 0.1 --source "$A,198.18.0.9" "http://$LAB_SRV_IP:$PORT/" 2>&1)
rc=$?
assert_eq "unconfigured --source: exit status" "$rc" 2
assert_eq "unconfigured --source: one line naming it" "$(printf '%s\n' "$out" | grep -c '^churn-client: --source 198.18.0.9: bind(198.18.0.9:0): EADDRNOTAVAIL')" 1
