#!/usr/bin/env bash
# scenario.sh churn|pooled [RESULT_DIR]
#
# One scenario in a fresh two-host lab (lab/netns.sh):
#   churn   churn-client --mode churn: a new TCP connection per request, closed by the client
#   pooled  churn-client --mode pool:  CONNS keep-alive connections carry the same offered load
# Knobs from the environment (the Makefile exports them): RATE DURATION CONNS SIZE WARMUP, plus
# CLOSE=client|server (who closes first, hence which host holds TIME-WAIT) and PORT (8080).
# Sysctl overrides (PORT_RANGE, TW_REUSE, ...) are described in lab/netns.sh.
#
# Writes into RESULT_DIR (default results/<UTC timestamp>/, and results/latest points to it):
#   <scenario>.json          client JSON          <scenario>.server.json  server JSON
#   <scenario>.probe.jsonl   churn-probe watch of both hosts, every 100 ms (states, counters)
#   <scenario>.tw.csv        TIME-WAIT per sample  <scenario>.probe.json  peaks, finals, counter deltas
#   <scenario>.crosscheck.json  the probe against ss and nstat at the end of the run
#   <scenario>.{client,server}.log  their output      sysctl.json  effective sysctls of both hosts
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
CLOSE=${CLOSE:-client} PORT=${PORT:-8080}
BIN=${BIN:-build/bin}
SERVER=$BIN/churn-server CLIENT=$BIN/churn-client PROBE=$BIN/churn-probe REPORT=$BIN/churn-report
for b in "$SERVER" "$CLIENT" "$PROBE" "$REPORT"; do
  [ -x "$b" ] || die "$b not found or not executable (run: make $b)"
done
case $CLOSE in client|server) ;; *) die "CLOSE must be client or server, not '$CLOSE'" ;; esac

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

# ---- server host: churn-server, ready when it says so ----
# The server runs longer than the client (DURATION+60) so it is never the one that ends a run early; we
# stop it with SIGTERM below, which is also when it writes its JSON.
# `ip netns exec` directly, not the lab_srv function: a backgrounded function runs in a forked subshell,
# and then $! (and our SIGTERM) would be that subshell's, not the server's.
srv_log=$dir/$scenario.server.log
ip netns exec "$LAB_SRV" "$SERVER" --listen "$LAB_SRV_IP:$PORT" --size "$SIZE" --close "$CLOSE" \
  --duration $((DURATION + WARMUP + 60)) --json "$dir/$scenario.server.json" > "$srv_log" 2>&1 &
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
BIN=$BIN lab/tw-sample.sh "$dir/$scenario" "$LAB_CLI" "$LAB_SRV" $((DURATION + WARMUP + 30)) 2> "$dir/$scenario.probe.err" &
sampler=$!
lab_track $sampler
# Start the load only once the watcher has its first sample of both hosts: a pool opens its connections
# within a millisecond, and the kernel's TcpActiveOpens delta must include them.
for _ in $(seq 1 100); do
  [ -f "$dir/$scenario.probe.jsonl" ] && [ "$(wc -l < "$dir/$scenario.probe.jsonl")" -ge 2 ] && break
  kill -0 $sampler 2>/dev/null || die "churn-probe watch exited early: $(head -c 300 "$dir/$scenario.probe.err")"
  sleep 0.05
done

# ---- client host: the load ----
url=http://$LAB_SRV_IP:$PORT/
echo "scenario $scenario: churn-client --mode $mode -R $RATE -d $DURATION -c $CONNS --warmup $WARMUP $url" \
     "(size $SIZE, close $CLOSE, lab $RUNID)" >&2
ip netns exec "$LAB_CLI" "$CLIENT" --mode "$mode" -R "$RATE" -d "$DURATION" -c "$CONNS" --warmup "$WARMUP" \
  --json "$dir/$scenario.json" "$url" > "$dir/$scenario.client.log" 2> "$dir/$scenario.client.err" &
cli_pid=$!
# In the background plus `wait`, so that Ctrl-C runs the teardown trap at once instead of after the client.
wait $cli_pid
cli_rc=$?

# One more second of samples: the tail shows TIME-WAIT still standing after the load stopped.
sleep 1

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
