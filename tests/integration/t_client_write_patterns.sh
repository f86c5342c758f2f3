#!/usr/bin/env bash
# t_client_write_patterns: churn-client's --pattern/--write/--nodelay over the lab's veth (issue 11), one
# seeded trace replayed by every variant over ONE keep-alive connection (-c 1).
#   - split + each, Nagle on (--nodelay off): the body waits in the client's kernel for the server's
#     delayed ACK of the head (>= 40 ms, TCP_DELACK_MIN): p50 >= 30 ms;
#   - the same with --nodelay on, with --write gather (one writev), with --write cork: p50 < 10 ms;
#   - --pattern pipeline: every response of every send read, the server counting the same requests;
#   - the trace is what was sent: lines, requests and bytes agree between client and server.
# The server runs with Nagle on too (--nodelay off), but writes each response in one piece: the stall
# measured here is the client's write pattern alone.
# test-timeout: 180
source "$(dirname "$0")/lib.sh"
lab_start
trace=$LAB_TMP/trace.txt
lines=30

# ---- the trace: seeded, reproducible ----
"$CLIENT" --make-trace "$trace" --seed 11 --count $lines -R 10 --head-range 100-140 --body-range 8-32 ||
  fail "churn-client --make-trace failed"
"$CLIENT" --make-trace - --seed 11 --count $lines -R 10 --head-range 100-140 --body-range 8-32 > "$LAB_TMP/again.txt"
assert_eq "the same seed, the same trace (cmp)" "$(cmp -s "$trace" "$LAB_TMP/again.txt" && echo same)" same
assert_eq "trace lines (not comments)" "$(grep -vc '^#' "$trace")" $lines

# A bad line is refused before anything runs: one line naming the file, the line and the field, exit 2.
printf '0 100 8\n# a comment\n5 abc 8\n' > "$LAB_TMP/bad.txt"
out=$(ip netns exec "$LAB_CLI" "$CLIENT" --trace "$LAB_TMP/bad.txt" "http://$LAB_SRV_IP:$PORT/" 2>&1)
assert_eq "bad trace: exit status" "$?" 2
assert_eq "bad trace: the message" "$out" "churn-client: --trace: $LAB_TMP/bad.txt:3: head_bytes 'abc' is not a whole number"

trace_s=$(awk '!/^#/ { t = $1 } END { printf "%.3f", t / 1e6 }' "$trace")  # the last request's time
start_server --nodelay off

# run_variant NAME ARGS...: the trace over one connection; the client's JSON kept as $LAB_TMP/NAME.json.
# The exact properties (every line sent and answered, the options echoed) are asserted here, every time.
replays=0  # trace replays so far, timing attempts included (the server counts them all)
run_variant() {
  local name=$1; shift
  replays=$((replays + 1))
  run_client --mode pool -c 1 --trace "$trace" "$@"
  cp "$LAB_TMP/client.json" "$LAB_TMP/$name.json"
  local j=$LAB_TMP/$name.json
  assert_eq "$name: requests_ok (every trace line)" "$(json_get "$j" requests_ok)" $lines
  assert_eq "$name: requests_failed" "$(json_get "$j" requests_failed)" 0
  assert_eq "$name: errors" "$(json_get "$j" errors)" "{}"
  assert_eq "$name: handshakes (-c 1: one connection carries the trace)" "$(json_get "$j" handshakes)" 1
  assert_eq "$name: trace.lines" "$(json_get "$j" trace.lines)" $lines
  assert_eq "$name: trace.path" "$(json_get "$j" trace.path)" "$trace"
  # -d defaults to the trace's length + 30 s, but the replay ends with its last answer (bound: generous).
  assert_le "$name: elapsed_s (ends at the last answer, trace $trace_s s)" "$(json_get "$j" elapsed_s)" \
    "$(awk -v t="$trace_s" 'BEGIN { print t + 15 }')"
}
p50_ms() { awk -v us="$(json_get "$LAB_TMP/$1.json" latency_us.p50)" 'BEGIN { printf "%.2f", us / 1000 }'; }

# ---- Nagle on, split, one write per piece: the stall ----
nagle() {
  run_variant nagle --pattern split --write each --nodelay off
  note "nagle p50 $(p50_ms nagle) ms"
  check_ge "nagle: latency p50 us (split + each, Nagle on)" "$(json_get "$LAB_TMP/nagle.json" latency_us.p50)" 30000
}
timing_attempts 3 nagle
j=$LAB_TMP/nagle.json
assert_eq "nagle: pattern" "$(json_get "$j" pattern)" split
assert_eq "nagle: write" "$(json_get "$j" write)" each
assert_eq "nagle: nodelay" "$(json_get "$j" nodelay)" false
assert_eq "nagle: quickack" "$(json_get "$j" quickack)" false

# ---- the fixes: TCP_NODELAY, one writev, TCP_CORK ----
fixed() {  # NAME ARGS...
  local name=$1; shift
  run_variant "$name" --pattern split "$@"
  note "$name p50 $(p50_ms "$name") ms"
  check_le "$name: latency p50 us" "$(json_get "$LAB_TMP/$name.json" latency_us.p50)" 10000
}
timing_attempts 3 fixed nodelay --write each --nodelay on
assert_eq "nodelay: nodelay" "$(json_get "$LAB_TMP/nodelay.json" nodelay)" true
timing_attempts 3 fixed gather --write gather --nodelay off
assert_eq "gather: write" "$(json_get "$LAB_TMP/gather.json" write)" gather
timing_attempts 3 fixed cork --write cork --nodelay off
assert_eq "cork: write" "$(json_get "$LAB_TMP/cork.json" write)" cork

# --quickack on the client changes nothing here (the client is not the one whose ACK is awaited), but it
# must run clean: the setsockopt after every read is counted if it fails.
run_variant quickack --pattern split --write gather --quickack
assert_eq "quickack: quickack" "$(json_get "$LAB_TMP/quickack.json" quickack)" true

# ---- pipeline: K requests per send, K responses read ----
k=4 sends=10
for w in each gather; do
  run_client --mode pool -c 1 -n $sends --pattern pipeline --pipeline $k --write $w --nodelay off
  j=$LAB_TMP/client.json
  assert_eq "pipeline $w: requests_ok ($sends sends x $k)" "$(json_get "$j" requests_ok)" $((sends * k))
  assert_eq "pipeline $w: requests_scheduled" "$(json_get "$j" requests_scheduled)" $((sends * k))
  assert_eq "pipeline $w: protocol_errors" "$(json_get "$j" protocol_errors)" "{}"
  assert_eq "pipeline $w: pipeline" "$(json_get "$j" pipeline)" $k
done
run_client --mode churn -c 2 -n $sends --pattern pipeline --pipeline $k --write cork
assert_eq "pipeline churn: requests_ok" "$(json_get "$LAB_TMP/client.json" requests_ok)" $((sends * k))
assert_eq "pipeline churn: handshakes (one connection per send)" "$(json_get "$LAB_TMP/client.json" handshakes)" $sends

stop_server
# The server saw exactly what the client says it sent: every trace replay, 2 x 40 pipelined on one
# connection each, and 40 more on 10 churned connections.
assert_eq "server: requests ($replays replays x $lines + 3 x $((sends * k)))" \
  "$(json_get "$LAB_TMP/server.json" requests)" $((replays * lines + 3 * sends * k))
assert_eq "server: 400s (every piece built valid HTTP)" "$(json_get "$LAB_TMP/server.json" http_errors.400)" 0
