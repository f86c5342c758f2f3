#!/usr/bin/env bash
# scenario.sh churn|pooled [RESULT_DIR]
#
# One scenario in a fresh two-host lab (lab/netns.sh):
#   churn   churn-client --mode churn: a new TCP connection per request, closed by the client
#   pooled  churn-client --mode pool:  CONNS keep-alive connections carry the same offered load
# Knobs from the environment (the Makefile exports them): RATE DURATION CONNS SIZE WARMUP, plus
# CLOSE=client|server (who closes first, hence which host holds TIME-WAIT) and PORT (8080).
# RTT=2ms (default 0: the bare veth) puts an emulated path between the hosts (lab/link.sh: tc netem where
# the kernel has it, churn-link over TUN where it does not), half the RTT each way.
# PCAP_SECONDS (default 5): a capture window on the client host's interface from the start of the load.
# CLIENT_ARGS="--linger0": extra churn-client arguments, word-split (make run-levers row 6).
# SOURCES=2: a second address, 198.18.0.3, on the client host's veth, and churn-client --source
#   198.18.0.1,198.18.0.3: each connect() is bound to one of them in turn (run-levers row 8).
# TW_EXPIRE_WAIT=75: after the load, keep watching until the client host's TIME-WAIT is back to 0, at most
#   this many seconds (run-levers row 4: the batch's lifetime, read from SCENARIO.tw.csv). Default 0: off.
# Sysctl overrides (PORT_RANGE, TW_REUSE, ...) are described in lab/netns.sh.
#
# Writes into RESULT_DIR (default results/<UTC timestamp>/, and results/latest points to it):
#   <scenario>.json          client JSON          <scenario>.server.json  server JSON
#   <scenario>.probe.jsonl   churn-probe watch of both hosts, every 100 ms (states, counters)
#   <scenario>.tw.csv        TIME-WAIT per sample  <scenario>.probe.json  peaks, finals, counter deltas
#   <scenario>.crosscheck.json  the probe against ss and nstat at the end of the run
#   <scenario>.{client,server}.log  their output      sysctl.json  effective sysctls of both hosts
#   <scenario>.path.json     the path: rtt_ms and how it was made (veth, churn-link, netem)
#   <scenario>.pcap          the capture window (results only; too big for evidence/)
#   <scenario>.wire.json     churn-pcap decode --summary of it: handshakes on the wire
#   <scenario>.excerpt.pcap  the first packets of one connection (churn: from its SYN; pooled: a window
#                            opened after the pool was up, so it holds requests on established
#                            connections), small enough to keep as evidence and open in Wireshark
#
# The cross-check: once the load has stopped, in each namespace, churn-probe, then ss/nstat, then
# churn-probe again, back to back. ss's TIME-WAIT count and nstat's TcpActiveOpens must lie between the
# two probe readings (that bracket is the sampling skew), and the watcher's last sample must agree with
# them too. If not, the scenario fails loudly: the table's numbers would be wrong.
#
# Bounded by construction: the client stops after -d, the server after --duration, the sampler after
# DURATION+WARMUP+30 s; Ctrl-C or SIGTERM tears the lab down (trap in lab/netns.sh).
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/netns.sh

die() { echo "scenario: $*" >&2; exit 1; }

scenario=${1:-}
case $scenario in
  churn)  mode=churn ;;
  pooled) mode=pool ;;
  *) echo "usage: lab/scenario.sh churn|pooled [RESULT_DIR]" >&2; exit 2 ;;
esac

RATE=${RATE:-3000} DURATION=${DURATION:-20} CONNS=${CONNS:-32} SIZE=${SIZE:-64} WARMUP=${WARMUP:-0}
CLOSE=${CLOSE:-client} PORT=${PORT:-8080} RTT=${RTT:-0} PCAP_SECONDS=${PCAP_SECONDS:-5}
CLIENT_ARGS=${CLIENT_ARGS:-} SOURCES=${SOURCES:-1} TW_EXPIRE_WAIT=${TW_EXPIRE_WAIT:-0}
BIN=${BIN:-build/bin}
SERVER=$BIN/churn-server CLIENT=$BIN/churn-client PROBE=$BIN/churn-probe REPORT=$BIN/churn-report PCAP=$BIN/churn-pcap
for b in "$SERVER" "$CLIENT" "$PROBE" "$REPORT" "$PCAP"; do
  [ -x "$b" ] || die "$b not found or not executable (run: make $b)"
done
case $CLOSE in client|server) ;; *) die "CLOSE must be client or server, not '$CLOSE'" ;; esac
case $SOURCES in 1|2) ;; *) die "SOURCES must be 1 or 2, not '$SOURCES'" ;; esac
[[ $TW_EXPIRE_WAIT =~ ^[0-9]+$ ]] || die "TW_EXPIRE_WAIT must be a whole number of seconds, not '$TW_EXPIRE_WAIT'"
# Word-split on purpose: CLIENT_ARGS="--linger0 --foo 1" is several arguments.
read -r -a client_extra <<< "$CLIENT_ARGS"

if [ -n "${2:-}" ]; then
  dir=$2
  mkdir -p "$dir" || die "cannot create $dir"
else
  ts=$(date -u +%Y%m%dT%H%M%SZ)
  dir=results/$ts
  mkdir -p "$dir" || die "cannot create $dir"
  # Relative target, so the link still works when results/ is moved or copied.
  ln -sfn "$ts" results/latest
fi

lab_up || die "lab setup failed"
lab_record_sysctls "$dir/sysctl.json"

# A second source address on the same veth and subnet: the server answers it through the same ARP'd
# link. The limit on ephemeral ports is per 4-tuple, so a second source address is a second port range
# toward the same server address and port.
if [ "$SOURCES" = 2 ]; then
  ip -n "$LAB_CLI" addr add 198.18.0.3/$LAB_PREFIX dev "cl${RUNID}c" || die "ip addr add 198.18.0.3 failed"
  client_extra+=(--source "$LAB_CLI_IP,198.18.0.3")
fi

# ---- the path: the bare veth, or an emulated RTT ----
iface=cl${RUNID}c
if [ "$RTT" != 0 ]; then
  source lab/link.sh
  LINK_JSON_OUT=$dir/$scenario.link.json link_up --delay "$(link_one_way_ms "$RTT")" \
    --duration $((DURATION + WARMUP + 90)) || die "link_up failed"
  iface=$LINK_DEV_CLI
  printf '{"rtt_ms": %s, "path": "%s"}\n' "$LINK_RTT_MS" "$LINK_MODE" > "$dir/$scenario.path.json"
else
  printf '{"rtt_ms": 0, "path": "veth"}\n' > "$dir/$scenario.path.json"
fi

# ---- server host: churn-server, ready when it says so ----
# The server runs longer than the client (DURATION+60) so it is never the one that ends a run early; we
# stop it with SIGTERM below, which is also when it writes its JSON.
# `ip netns exec` directly, not the lab_srv function: a backgrounded function runs in a forked subshell,
# and then $! (and our SIGTERM) would be that subshell's, not the server's.
srv_log=$dir/$scenario.server.log
ip netns exec "$LAB_SRV" "$SERVER" --listen "$LAB_SRV_IP:$PORT" --size "$SIZE" --close "$CLOSE" \
  --duration $((DURATION + WARMUP + 60 + TW_EXPIRE_WAIT)) --json "$dir/$scenario.server.json" > "$srv_log" 2>&1 &
srv_pid=$!
# Wait for its own "listening on" line rather than probing the port: a probe would be one more
# connection, and one more TIME-WAIT, in the numbers we are about to measure.
ready=0
for _ in $(seq 1 100); do
  if grep -q "listening on" "$srv_log" 2>/dev/null; then ready=1; break; fi
  kill -0 $srv_pid 2>/dev/null || break
  sleep 0.05
done
if [ $ready = 0 ]; then
  if kill -0 $srv_pid 2>/dev/null; then
    echo "scenario: churn-server did not print 'listening on' within 5 s; its output:" >&2
  else
    echo "scenario: churn-server exited before listening; its output:" >&2
  fi
  sed 's/^/  /' "$srv_log" >&2
  exit 1
fi

# ---- both hosts: churn-probe watch (host side; it enters the namespaces itself) ----
BIN=$BIN lab/tw-sample.sh "$dir/$scenario" "$LAB_CLI" "$LAB_SRV" $((DURATION + WARMUP + 30 + TW_EXPIRE_WAIT)) 2> "$dir/$scenario.probe.err" &
sampler=$!
lab_track $sampler
# Start the load only once the watcher has its first sample of both hosts: a pool opens its connections
# within a millisecond, and the kernel's TcpActiveOpens delta must include them.
for _ in $(seq 1 100); do
  [ -f "$dir/$scenario.probe.jsonl" ] && [ "$(wc -l < "$dir/$scenario.probe.jsonl")" -ge 2 ] && break
  kill -0 $sampler 2>/dev/null || die "churn-probe watch exited early: $(head -c 300 "$dir/$scenario.probe.err")"
  sleep 0.05
done

# ---- the wire: a bounded capture window on the client host's interface ----
# start_capture NAME ARGS...: churn-pcap capture in the background, ready when it says "capturing on";
# its pid in CAP_PID. Called directly, never in $(...): a subshell's background job is not ours to wait for.
# snaplen 128 keeps headers and the start of each payload: enough to see handshakes and requests.
start_capture() {
  local name=$1; shift
  : > "$dir/$scenario.$name.log"
  "$PCAP" capture --netns "$LAB_CLI" -i "$iface" -w "$dir/$scenario.$name.pcap" --snaplen 128 --buffer-mb 64 \
    -f "tcp port $PORT" "$@" 2> "$dir/$scenario.$name.log" &
  CAP_PID=$!
  lab_track $CAP_PID
  for _ in $(seq 1 50); do grep -q "capturing on" "$dir/$scenario.$name.log" && break; sleep 0.1; done
  grep -q "capturing on" "$dir/$scenario.$name.log" || die "churn-pcap capture ($name) did not start: $(head -c 300 "$dir/$scenario.$name.log")"
}
start_capture wire --seconds "$PCAP_SECONDS"
cap_pid=$CAP_PID excerpt_pid=
# The excerpt: 60 packets (about 5 KB), enough for one whole connection among its neighbours. For churn, from the very first SYN; for pooled, opened once the pool's
# handshakes are done, so what it shows is requests riding established connections.
if [ $scenario = churn ]; then start_capture excerpt --count 60 --seconds 10; excerpt_pid=$CAP_PID; fi

# ---- client host: the load ----
url=http://$LAB_SRV_IP:$PORT/
echo "scenario $scenario: churn-client --mode $mode -R $RATE -d $DURATION -c $CONNS --warmup $WARMUP ${client_extra[*]} $url" \
     "(size $SIZE, close $CLOSE, lab $RUNID)" >&2
# Where the load starts on the watcher's clock (its newest sample's t), so a report can put the client's
# per-second timeline and the TIME-WAIT samples on one time axis (within one 100 ms sample).
t0=$(tail -n 1 "$dir/$scenario.probe.jsonl" | grep -o '"t": *[0-9.e+-]*' | grep -o '[0-9.e+-]*$')
printf '{"probe_t_at_load_start": %s}\n' "${t0:-null}" > "$dir/$scenario.load.json"
ip netns exec "$LAB_CLI" "$CLIENT" --mode "$mode" -R "$RATE" -d "$DURATION" -c "$CONNS" --warmup "$WARMUP" \
  "${client_extra[@]}" --json "$dir/$scenario.json" "$url" > "$dir/$scenario.client.log" 2> "$dir/$scenario.client.err" &
cli_pid=$!
if [ $scenario = pooled ]; then
  sleep 1
  start_capture excerpt --count 60 --seconds 10
  excerpt_pid=$CAP_PID
fi
# In the background plus `wait`, so that Ctrl-C runs the teardown trap at once instead of after the client.
wait $cli_pid
cli_rc=$?
# The captures are bounded by --seconds/--count; they have ended long before a 40 s run does.
wait $cap_pid $excerpt_pid 2>/dev/null
mv "$dir/$scenario.wire.pcap" "$dir/$scenario.pcap"
"$PCAP" decode --json --summary "$dir/$scenario.pcap" > "$dir/$scenario.wire.json" ||
  die "churn-pcap decode $dir/$scenario.pcap failed"

# One more second of samples: the tail shows TIME-WAIT still standing after the load stopped.
sleep 1

# TW_EXPIRE_WAIT: watch the batch of TIME-WAIT expire. The watcher keeps sampling every 100 ms into
# probe.jsonl (that series is the measurement); this loop only decides when to stop, from the watcher's
# own newest client sample, so it adds no socket dump of its own. Bounded by TW_EXPIRE_WAIT seconds.
if [ "$TW_EXPIRE_WAIT" -gt 0 ]; then
  echo "scenario $scenario: watching the client host's TIME-WAIT expire (at most $TW_EXPIRE_WAIT s)" >&2
  end=$((SECONDS + TW_EXPIRE_WAIT))
  while [ $SECONDS -lt $end ]; do
    tw=$(grep '"host": *"client"' "$dir/$scenario.probe.jsonl" | tail -n 1 | grep -o '"TIME-WAIT": *[0-9]*' | grep -o '[0-9]*$')
    [ "${tw:-0}" = 0 ] && break
    sleep 0.5
  done
fi

# ---- cross-check: churn-probe vs ss and nstat, same namespace, same moment ----
# probe_tw NS / probe_counter NS NAME: churn-probe's view; ss_tw / nstat_counter: the reference tools'.
probe_tw() { "$PROBE" states --netns "$1" --state time-wait --json | grep -o '"TIME-WAIT":[0-9]*' | cut -d: -f2; }
probe_counter() { "$PROBE" nstat --netns "$1" --json "$2" | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }
ss_tw() { ip netns exec "$1" ss -H -tan state time-wait | wc -l; }
nstat_counter() { ip netns exec "$1" nstat -asz "$2" | awk -v c="$2" '$1 == c { print $2 }'; }
checks=() cross_failed=0
declare -A seen_tw seen_opens
crosscheck() {  # HOST NS WHAT PROBE_FN REF_FN [ARG]
  local host=$1 ns=$2 what=$3 pf=$4 rf=$5 arg=${6:-}
  local a b r lo hi ok=true
  a=$($pf "$ns" $arg) r=$($rf "$ns" $arg) b=$($pf "$ns" $arg)
  if ! [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $r =~ ^[0-9]+$ ]]; then
    ok=false
  else
    lo=$(( a < b ? a : b )) hi=$(( a > b ? a : b ))
    (( r >= lo && r <= hi )) || ok=false
  fi
  [ $ok = true ] || { cross_failed=1; echo "scenario: CROSS-CHECK FAILED: $host $what: churn-probe $a then $b, reference $r" >&2; }
  checks+=("{\"host\": \"$host\", \"what\": \"$what\", \"probe_before\": ${a:-null}, \"reference\": ${r:-null}, \"probe_after\": ${b:-null}, \"ok\": $ok}")
  [ "$what" = "TIME-WAIT vs ss" ] && seen_tw[$host]=$r
  [ "$what" = "TcpActiveOpens vs nstat" ] && seen_opens[$host]=$r
}
for host in client server; do
  [ $host = client ] && ns=$LAB_CLI || ns=$LAB_SRV
  crosscheck $host "$ns" "TIME-WAIT vs ss" probe_tw ss_tw
  crosscheck $host "$ns" "TcpActiveOpens vs nstat" probe_counter nstat_counter TcpActiveOpens
done

kill -TERM $sampler 2>/dev/null   # the watcher takes its last sample now
wait $sampler 2>/dev/null

# The watcher's last sample of each host against the same references: these are the numbers in the table.
# The load has stopped and TIME-WAIT lasts 60 s, so nothing should move between the two readings; a
# difference of more than 1 % (or 2 sockets) means the time series is not to be trusted.
for host in client server; do
  last=$(grep "\"host\":\"$host\"" "$dir/$scenario.probe.jsonl" | tail -1)
  w_tw=$(grep -o '"TIME-WAIT":[0-9]*' <<<"$last" | cut -d: -f2)
  w_op=$(grep -o '"TcpActiveOpens":[0-9]*' <<<"$last" | cut -d: -f2)
  for pair in "TIME-WAIT:${w_tw:-}:${seen_tw[$host]:-}" "TcpActiveOpens:${w_op:-}:${seen_opens[$host]:-}"; do
    IFS=: read -r what w ref <<<"$pair"
    ok=false
    if [[ $w =~ ^[0-9]+$ && $ref =~ ^[0-9]+$ ]]; then
      d=$(( w > ref ? w - ref : ref - w )) tol=$(( ref / 100 > 2 ? ref / 100 : 2 ))
      (( d <= tol )) && ok=true
    fi
    [ $ok = true ] || { cross_failed=1; echo "scenario: CROSS-CHECK FAILED: $host watcher's last $what ${w:-none} vs ${ref:-none}" >&2; }
    checks+=("{\"host\": \"$host\", \"what\": \"watch last sample, $what\", \"probe\": ${w:-null}, \"reference\": ${ref:-null}, \"ok\": $ok}")
  done
done
{ echo "["; for i in "${!checks[@]}"; do printf '  %s%s\n' "${checks[$i]}" "$([ $i -lt $((${#checks[@]} - 1)) ] && echo ,)"; done; echo "]"; } \
  > "$dir/$scenario.crosscheck.json"
"$REPORT" probe "$dir" "$scenario" > /dev/null || { echo "scenario: churn-report probe $dir $scenario failed" >&2; cross_failed=1; }

kill -TERM $srv_pid 2>/dev/null
for _ in $(seq 1 50); do kill -0 $srv_pid 2>/dev/null || break; sleep 0.1; done
wait $srv_pid 2>/dev/null
srv_rc=$?

[ "$RTT" != 0 ] && link_down
lab_down

[ -s "$dir/$scenario.client.log" ] && sed "s/^/$scenario: /" "$dir/$scenario.client.log"
[ -s "$dir/$scenario.tw.csv" ] && awk -F, -v s="$scenario" 'NR > 1 && NF == 3 {
    if ($2 > cp) cp = $2; if ($3 > sp) sp = $3; cf = $2; sf = $3; n++ }
  END { printf "%s: TIME-WAIT client host peak %d final %d, server host peak %d final %d (%d samples, churn-probe)\n",
        s, cp, cf, sp, sf, n }' "$dir/$scenario.tw.csv"
if [ $cross_failed = 1 ]; then
  echo "scenario: ############################################################################" >&2
  echo "scenario: ## churn-probe DISAGREES with ss/nstat beyond sampling skew: see above and" >&2
  echo "scenario: ## $dir/$scenario.crosscheck.json. The table's TIME-WAIT rows would be wrong." >&2
  echo "scenario: ############################################################################" >&2
  exit 1
fi
echo "scenario $scenario: cross-check ok: ${#checks[@]} checks of churn-probe against ss and nstat" >&2

if [ ! -s "$dir/$scenario.json" ]; then
  echo "scenario: churn-client wrote no JSON (exit $cli_rc); its stderr:" >&2
  sed 's/^/  /' "$dir/$scenario.client.err" >&2
  exit 1
fi
# A churn run is expected to hit EADDRNOTAVAIL; if the client reports that in its exit status it is a
# result, not a failure of the scenario. We only say so.
[ $cli_rc = 0 ] || echo "scenario: note: churn-client exited with status $cli_rc" >&2
[ $srv_rc = 0 ] || echo "scenario: note: churn-server exited with status $srv_rc" >&2
echo "scenario $scenario: results in $dir" >&2
exit 0
