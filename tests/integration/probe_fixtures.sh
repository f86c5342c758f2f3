# probe_fixtures.sh: sockets in known states inside a lab, for the t_probe_* tests. Sourced after lib.sh
# and lab_start. No helper binary: bash itself opens TCP connections (exec {fd}<>/dev/tcp/ADDR/PORT, a
# blocking connect()), and closing such an fd sends FIN.
#
#   ESTAB        hold_conns NS ADDR PORT N          N connections held open by one bash
#   FIN-WAIT-2   hold_conns ... close               opened, then closed by us, to a server that never
#   CLOSE-WAIT                                      closes (churn-server --leak-close-wait): our side
#                                                   waits in FIN-WAIT-2, the server's in CLOSE-WAIT
#   TIME-WAIT    churn-client --mode churn -n N     the client reads the answer and closes first
#   SYN-SENT     blackhole_synack + syn_sent N      the server's SYN-ACKs go to a MAC nobody has, so
#   SYN-RECV                                        the client stays in SYN-SENT and the server keeps a
#                                                   request sock in SYN-RECV, retransmitting
#   LISTEN       churn-server
# A churn-server on [::1] inside the server host adds IPv6 ESTAB pairs and a listener.

PROBE=$BIN/churn-probe
HOLD_PIDS=()

need_probe() {
  local i
  for i in $(seq 1 20); do [ -x "$PROBE" ] && return 0; sleep 0.5; done
  fail "$PROBE is not built (make build/bin/churn-probe)"
}

# start_named_server NAME ARGS...: another churn-server on the server host; its pid in SRV_PIDS[NAME].
declare -A SRV_PIDS
start_named_server() {
  local name=$1; shift
  ip netns exec "$LAB_SRV" "$SERVER" --quiet "$@" > "$LAB_TMP/$name.log" 2>&1 &
  SRV_PIDS[$name]=$!
  wait_listening "$LAB_TMP/$name.log" "${SRV_PIDS[$name]}" "churn-server $name"
}

# hold_conns NS ADDR PORT N [close]: one bash in NS opens N connections and keeps them (or closes them
# at once with `close`), then sleeps until killed at teardown. Waits until all N connect()s returned.
hold_conns() {
  local ns=$1 addr=$2 port=$3 n=$4 mode=${5:-keep}
  local ready=$LAB_TMP/hold.$RANDOM
  ip netns exec "$ns" bash -c '
    fds=()
    for i in $(seq 1 "$3"); do exec {fd}<>"/dev/tcp/$1/$2" || { echo "connect $i failed" >&2; exit 1; }; fds+=("$fd"); done
    if [ "$4" = close ]; then for fd in "${fds[@]}"; do exec {fd}>&-; done; fi
    echo ready > "$5"
    exec sleep 120' _ "$addr" "$port" "$n" "$mode" "$ready" &
  HOLD_PIDS+=($!)
  local i
  for i in $(seq 1 100); do [ -s "$ready" ] && return 0; sleep 0.05; done
  fail "hold_conns $addr:$port x$n did not finish connecting"
}

# blackhole_synack ADDR_CLI ADDR_SRV: the client host gets a second address ADDR_CLI, used as the source
# for ADDR_SRV (a second address on the server host). The server host's neighbour entry for ADDR_CLI is a
# MAC no one has, so every SYN-ACK it sends there is dropped by the client's veth (not for us).
blackhole_synack() {
  local ac=$1 as=$2
  ip -n "$LAB_SRV" addr add "$as/32" dev "cl${RUNID}s" || fail "addr add $as"
  ip -n "$LAB_CLI" addr add "$ac/32" dev "cl${RUNID}c" || fail "addr add $ac"
  ip -n "$LAB_CLI" route add "$as/32" dev "cl${RUNID}c" src "$ac" || fail "route add $as src $ac"
  ip -n "$LAB_SRV" neigh replace "$ac" lladdr 02:00:00:00:00:01 dev "cl${RUNID}s" nud permanent || fail "neigh replace $ac"
}

# syn_sent NS ADDR PORT N: N connect()s that will never complete, each in its own background bash.
syn_sent() {
  local ns=$1 addr=$2 port=$3 n=$4 i
  for i in $(seq 1 "$n"); do
    ip netns exec "$ns" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$addr" "$port" 2>/dev/null &
    HOLD_PIDS+=($!)
  done
}

# ss_states NS [FILTER...]: "STATE count" lines from ss -tan (every state, IPv4 and IPv6).
ss_states() {
  local ns=$1; shift
  ip netns exec "$ns" ss -H -tan "$@" | awk '{ c[$1]++ } END { for (s in c) print s, c[s] }' | sort
}
# probe_states NS [ARGS...]: the same from churn-probe states --json (only non-zero states).
probe_states() {
  local ns=$1; shift
  local f=$LAB_TMP/probe.$RANDOM.json
  "$PROBE" states --netns "$ns" --json "$@" > "$f" || fail "churn-probe states --netns $ns $* failed"
  json_flat "$f" | awk -F'\t' 'index($1, "states.") == 1 && $2 != 0 { print substr($1, 8), $2 }' | sort
}

# wait_ss NS STATE N: until ss shows exactly N sockets in STATE (5 s at most).
wait_ss() {
  local ns=$1 st=$2 want=$3 got i
  for i in $(seq 1 50); do
    got=$(ss_states "$ns" | awk -v s="$st" '$1 == s { print $2 }')
    [ "${got:-0}" = "$want" ] && return 0
    sleep 0.1
  done
  fail "$ns: waited 5 s for $want $st sockets, ss shows ${got:-0}"
}

# Stop the bash holders before the lab goes down, so their sleeps do not outlive it.
kill_holders() { [ ${#HOLD_PIDS[@]} -eq 0 ] || kill "${HOLD_PIDS[@]}" 2>/dev/null; HOLD_PIDS=(); }
