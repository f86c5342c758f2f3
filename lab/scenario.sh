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
#   <scenario>.tw.csv        TIME-WAIT samples    <scenario>.{client,server}.log  their output
#   sysctl.json              effective sysctls of both hosts
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
SERVER=$BIN/churn-server CLIENT=$BIN/churn-client
for b in "$SERVER" "$CLIENT"; do
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

# ---- both hosts: TIME-WAIT sampler (host side; it enters the namespaces itself) ----
lab/tw-sample.sh "$dir/$scenario.tw.csv" "$LAB_CLI" "$LAB_SRV" $((DURATION + WARMUP + 30)) &
sampler=$!
lab_track $sampler

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
kill -TERM $sampler 2>/dev/null
wait $sampler 2>/dev/null

kill -TERM $srv_pid 2>/dev/null
for _ in $(seq 1 50); do kill -0 $srv_pid 2>/dev/null || break; sleep 0.1; done
wait $srv_pid 2>/dev/null
srv_rc=$?

lab_down

[ -s "$dir/$scenario.client.log" ] && sed "s/^/$scenario: /" "$dir/$scenario.client.log"
awk -F, -v s="$scenario" 'NR > 1 && NF == 3 {
    if ($2 > cp) cp = $2; if ($3 > sp) sp = $3; cf = $2; sf = $3; n++ }
  END { printf "%s: TIME-WAIT client host peak %d final %d, server host peak %d final %d (%d samples)\n",
        s, cp, cf, sp, sf, n }' "$dir/$scenario.tw.csv"

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
