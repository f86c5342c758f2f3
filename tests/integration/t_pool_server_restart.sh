#!/usr/bin/env bash
# t_pool_server_restart: the pool survives its server going away. A keep-alive pool of 4 at 100 req/s;
# once the pool is up the server stops (every idle pooled connection sees the server's FIN), and once
# every slot has seen that FIN it comes back. Each slot must reconnect exactly once and carry requests
# again: a slot that was left listed as free while reconnecting would be handed two requests at once, or
# one before its handshake.
source "$(dirname "$0")/lib.sh"
lab_start
rate=100 dur=4 conns=4

# Connections to the server's port in a state, counted with ss on one host.
conns_in() {  # NS STATE sport|dport
  ip netns exec "$1" ss -H -tn state "$2" "$3" = ":$PORT" | wc -l
}
pool_up() { [ "$(conns_in "$LAB_SRV" established sport)" -eq $conns ]; }
all_slots_saw_fin() {  # none of the client's connections is still established or waiting to close
  [ "$(conns_in "$LAB_CLI" established dport)" -eq 0 ] && [ "$(conns_in "$LAB_CLI" close-wait dport)" -eq 0 ]
}

attempt() {
  [ "$TIMING_ATTEMPT" -eq 1 ] || lab_restart
  start_server
  start_client --mode pool -R $rate -d $dur -c $conns --retry-delay 50
  # Conditions, not sleeps: the whole pool is connected before the server goes (so every slot gets a
  # FIN), and every slot has handled its FIN before the server returns (so each reconnects once).
  wait_until 5 "pool of $conns established (server host)" pool_up
  stop_server
  mv "$LAB_TMP/server.json" "$LAB_TMP/server1.json"
  wait_until 5 "every pooled connection closed after the server's FIN (client host)" all_slots_saw_fin
  start_server
  wait_client
  stop_server

  local j=$LAB_TMP/client.json i
  note "client errors: $(json_flat "$j" | grep -E "^errors\." | tr '\t\n' '= ')"
  # Exact, every attempt.
  assert_eq "bad responses (a request sent on a slot that was not idle)" "$(json_num "$j" protocol_errors.bad_response 0)" 0
  # A request can be on the wire when the server goes away. On a connection that has served before,
  # the client sends it again (the server may have closed an idle keep-alive connection just as it went
  # out); on a connection's first request it is counted failed, as Go's and curl's clients do, since a
  # server that kills fresh connections is a failure to report. So: at most one failed request per slot,
  # each explained by how the server closed (ECONNRESET, EPIPE or closed before any response byte), and
  # every scheduled request either answered or failed, none left behind.
  local failed ok explained
  failed=$(json_get "$j" requests_failed) ok=$(json_get "$j" requests_ok)
  explained=$(( $(json_num "$j" errors.ECONNRESET 0) + $(json_num "$j" errors.EPIPE 0) +
                $(json_num "$j" protocol_errors.closed_before_response 0) ))
  assert_le "requests failed (at most one in flight per slot when the server went)" "$failed" $conns
  assert_le "requests failed, each explained by the server's close ($explained)" "$failed" "$explained"
  assert_eq "requests answered + failed (all $((rate * dur)) scheduled, none unfinished)" $((ok + failed)) $((rate * dur))
  assert_eq "requests unfinished" "$(json_get "$j" requests_unfinished)" 0
  # Every slot ends its first connection through the server: as a clean close (its FIN on an idle
  # pooled connection) or, when a request was on the wire as the server went, as an error explained by
  # that close (counted above). A slot that saw neither was never told its server had gone.
  local closes
  closes=$(json_get "$j" closes_by_server)
  assert_le "closes by the server (its FIN on an idle pooled connection)" "$closes" $conns
  assert_ge "closes by the server + requests cut by its going ($explained)" $((closes + explained)) $conns
  # The pool's first connections plus one reconnect per slot. Refused attempts during the outage are
  # errors, not handshakes.
  assert_eq "handshakes (first pool + one reconnect per slot)" "$(json_get "$j" handshakes)" $((2 * conns))
  assert_eq "second server accepted" "$(json_get "$LAB_TMP/server.json" accepted)" $conns
  # The pool carries the offered rate again once the server is back (well before second 3): each second
  # gets its 100 scheduled requests, give or take what a host stall of S s moves into the next second
  # (100 x S): >= 90 holds for stalls under 100 ms; a longer one is the host's (re-measured).
  for i in 2 3; do
    check_ge "timeline second $((i + 1)) requests" "$(json_get "$j" timeline.$i.requests)" $((rate * 9 / 10)) || return 1
  done
}
timing_attempts 3 attempt
