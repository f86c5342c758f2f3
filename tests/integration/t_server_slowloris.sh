#!/usr/bin/env bash
# t_server_slowloris: churn-server --max-conns 200 under 300 slowloris connections (each sends one more
# byte of a request head every 2 s and never ends it). With eviction (the default) a normal client is
# served at once, long before the 30 s header timeout could free a slot, and the server counts the
# connections it evicted for it. With --evict off the same client is refused: that is what the test
# would see if eviction broke.
#
# The slowloris is bash's /dev/tcp in the client namespace: one process holding 300 sockets, no python3
# or nc needed (a fresh Debian 12 has neither). A connection the server closes (refused or evicted) is
# opened again at the next tick, the way a real slowloris keeps its pressure up.
source "$(dirname "$0")/lib.sh"
lab_start
slots=200 attackers=300 period=2

# slowloris N HOST PORT PERIOD SECONDS: runs inside the client namespace (declare -f passes it there).
slowloris() {
  local n=$1 host=$2 port=$3 period=$4 secs=$5 i fd k=0 opened=0 reopened=0 c
  local -a fds
  trap '' PIPE  # a write to a socket the server closed must fail (EPIPE), not kill us
  local head=$'GET / HTTP/1.1\r\n' h
  for h in $(seq 1 40); do head+=$'X-Slow: 1\r\n'; done  # never the empty line that ends a head
  for ((i = 0; i < n; i++)); do
    { exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null && fds[i]=$fd && opened=$((opened + 1))
  done
  echo "opened $opened"
  local end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    sleep "$period"
    c=${head:k % ${#head}:1}
    k=$((k + 1))
    for ((i = 0; i < n; i++)); do
      [ -n "${fds[i]:-}" ] && { printf '%s' "$c" >&"${fds[i]}"; } 2>/dev/null && continue
      # Closed by the server (the first write after its FIN draws an RST, the next one fails): reopen.
      if [ -n "${fds[i]:-}" ]; then fd=${fds[i]}; exec {fd}>&-; fi
      fds[i]=""
      { exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null && fds[i]=$fd && reopened=$((reopened + 1))
    done
    echo "tick $k reopened $reopened"
  done
}

# attack EVICT: a server with --evict EVICT and the slowloris holding its slots; returns once the server
# holds all $slots connections and the oldest are past the 1 s eviction grace.
attack() {
  start_server --max-conns $slots --header-timeout 30s --evict "$1"
  # Empty the log here, in this shell: the `>` below truncates it only once the background child runs,
  # and until then the wait loop would find the previous attack's "opened" line and move on.
  : > "$LAB_TMP/slowloris.log"
  ip netns exec "$LAB_CLI" bash -c "$(declare -f slowloris); slowloris \"\$@\"" slowloris \
    $attackers "$LAB_SRV_IP" "$PORT" $period 60 > "$LAB_TMP/slowloris.log" 2>&1 &
  SLOW_PID=$!
  local i est=0
  for i in $(seq 1 300); do  # 30 s at most: 300 connects from bash on a busy host
    grep -q '^opened' "$LAB_TMP/slowloris.log" && break
    kill -0 "$SLOW_PID" 2>/dev/null || fail "the slowloris driver died: $(tail -c 300 "$LAB_TMP/slowloris.log")"
    sleep 0.1
  done
  note "slowloris: $(head -1 "$LAB_TMP/slowloris.log")"
  grep -q "^opened $attackers\$" "$LAB_TMP/slowloris.log" ||
    fail "slowloris opened $(head -1 "$LAB_TMP/slowloris.log"), expected $attackers"
  # The server side of the slots: established sockets on the server's port, in its namespace.
  for i in $(seq 1 50); do
    est=$(ip netns exec "$LAB_SRV" ss -H -tn state established "( sport = :$PORT )" | wc -l)
    [ "$est" -ge $slots ] && break
    sleep 0.1
  done
  assert_ge "server-side established connections under attack (ss)" "$est" $slots
  sleep 1.5  # past the eviction grace (1 s): the slowloris connections are now fair game
}
end_attack() {
  kill "$SLOW_PID" 2>/dev/null
  wait "$SLOW_PID" 2>/dev/null
  stop_server
}

# ---- eviction on (the default): served at once ----------------------------------------------------------
attack on
served=0  # over every timing attempt: the server counts them all
normal_client() {
  run_client --mode churn -c 1 -n 5 -d 10 --timeout 5000
  local j=$LAB_TMP/client.json
  served=$((served + $(json_get "$j" requests_ok)))
  assert_eq "normal client: requests_ok under attack" "$(json_get "$j" requests_ok)" 5
  assert_eq "normal client: requests_failed under attack" "$(json_get "$j" requests_failed)" 0
  # "At once": well under the 30 s header timeout (and the 10 s default) that would free a slot otherwise.
  check_le "normal client: slowest request, connect to response (us)" "$(json_get "$j" request_us.max)" 1000000
}
timing_attempts 3 normal_client
end_attack
s=$LAB_TMP/server.json
evicted=$(json_get "$s" evictions.no_head)
note "server: accepted $(json_get "$s" accepted), evictions.no_head $evicted, rejected $(json_get "$s" rejected)"
assert_ge "server evictions.no_head (at least one for our first request)" "$evicted" 1
assert_eq "server evictions.idle (the slowloris never completes a head)" "$(json_get "$s" evictions.idle)" 0
assert_eq "server requests: only the normal client's complete heads" "$(json_get "$s" requests)" "$served"
assert_eq "server max_concurrent never above --max-conns" "$(json_get "$s" max_concurrent)" $slots
assert_eq "server timeouts.header (30 s never passed)" "$(json_get "$s" timeouts.header)" 0

# ---- eviction off: the same client is refused ------------------------------------------------------------
attack off
start_client --mode churn -c 1 -n 5 -d 3 --timeout 2000
wait "$CLI_PID"
end_attack
j=$LAB_TMP/client.json
assert_eq "--evict off: normal client's requests_ok under attack" "$(json_get "$j" requests_ok)" 0
assert_ge "--evict off: server rejected (the normal client's connections)" "$(json_get "$s" rejected)" 1
assert_eq "--evict off: server evictions.no_head" "$(json_get "$s" evictions.no_head)" 0
