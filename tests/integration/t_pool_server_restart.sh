#!/usr/bin/env bash
# t_pool_server_restart: the pool survives its server going away. A keep-alive pool of 4 at 100 req/s;
# the server stops 1.5 s in (every idle pooled connection sees the server's FIN) and comes back 0.5 s
# later. Each slot must reconnect exactly once and carry requests again: a slot that was left listed as
# free while reconnecting would be handed two requests at once, or one before its handshake.
source "$(dirname "$0")/lib.sh"
lab_start
rate=100 dur=4 conns=4

start_server
start_client --mode pool -R $rate -d $dur -c $conns --retry-delay 50
sleep 1.5
stop_server
mv "$LAB_TMP/server.json" "$LAB_TMP/server1.json"
sleep 0.5
start_server
wait_client
stop_server

j=$LAB_TMP/client.json
note "client errors: $(json_flat "$j" | grep -E "^errors\." | tr '\t\n' '= ')"
assert_eq "bad responses (a request sent on a slot that was not idle)" "$(json_num "$j" protocol_errors.bad_response 0)" 0
assert_eq "requests failed" "$(json_get "$j" requests_failed)" 0
assert_eq "requests_ok (every request, outage included, answered after the restart)" \
  "$(json_get "$j" requests_ok)" $((rate * dur))
assert_eq "closes by the server (its FIN on every idle pooled connection)" "$(json_get "$j" closes_by_server)" $conns
# The pool's first connections plus one reconnect per slot. Refused attempts during the outage are
# errors, not handshakes.
assert_eq "handshakes (first pool + one reconnect per slot)" "$(json_get "$j" handshakes)" $((2 * conns))
assert_eq "second server accepted" "$(json_get "$LAB_TMP/server.json" accepted)" $conns
for i in 2 3; do
  assert_ge "timeline second $((i + 1)) requests" "$(json_get "$j" timeline.$i.requests)" $((rate * 9 / 10))
done
