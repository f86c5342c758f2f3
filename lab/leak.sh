#!/usr/bin/env bash
# leak.sh: `make run-leak`. A real CLOSE-WAIT leak in a fresh two-host lab, found by churn-probe triage.
#
#   server host: churn-server --leak-close-wait   (after the client's FIN it keeps the fd, never closes)
#   client host: churn-client --mode churn -n LEAK (each request on its own connection, client closes)
#
# Every connection then sits in CLOSE-WAIT on the server host (and in FIN-WAIT-2 on the client host, for
# tcp_fin_timeout). `churn-probe triage --netns <server host>` must name churn-server's pid as the owner;
# this script checks that it does and exits 1 if not.
#
# RUNBOOK.md §5 walks through this run: the triage runs twice on the server host while the leak is live,
# timed (lab/triage.sh): churn-probe triage, then the plain commands of RUNBOOK §2.
#
# Knobs: LEAK=200 (connections), RATE=200 (per second). Writes results/leak-<UTC timestamp>/
# (results/latest-leak points at the newest):
#   triage.churn-probe.txt  triage.ss.txt  (the transcripts, with their wall time; triage.ss.full.txt uncut)
#   triage.txt  triage.json  (server host)   client.json  server.json  meta.json
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/netns.sh
source lab/meta.sh
source lab/triage.sh

die() { echo "leak: $*" >&2; exit 1; }
LEAK=${LEAK:-200} RATE=${RATE:-200} PORT=${PORT:-8080}
BIN=${BIN:-build/bin}
for b in churn-server churn-client churn-probe; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"
done

ts=$(date -u +%Y%m%dT%H%M%SZ)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
steal0=$(steal_sample)
dir=results/leak-$ts
mkdir -p "$dir" || die "cannot create $dir"
ln -sfn "leak-$ts" results/latest-leak
lab_up || die "lab setup failed"

ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$PORT" --leak-close-wait --quiet \
  --duration 300 --json "$dir/server.json" > "$dir/server.log" 2>&1 &
srv_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$dir/server.log" 2>/dev/null && break; sleep 0.05; done
grep -q "listening on" "$dir/server.log" || die "churn-server did not start: $(head -c 300 "$dir/server.log")"

echo "leak: $LEAK connections at $RATE/s to churn-server --leak-close-wait (pid $srv_pid, lab $RUNID)" >&2
ip netns exec "$LAB_CLI" "$BIN/churn-client" -q --mode churn -R "$RATE" -n "$LEAK" -d $(( LEAK / RATE + 2 )) \
  --json "$dir/client.json" "http://$LAB_SRV_IP:$PORT/" > "$dir/client.log" 2>&1 &
cli_pid=$!
wait $cli_pid || echo "leak: note: churn-client exited with status $?" >&2

# The last FINs are in flight for a moment after the client exits.
for _ in $(seq 1 50); do
  n=$(ip netns exec "$LAB_SRV" ss -H -tan state close-wait | wc -l)
  [ "$n" -ge "$LEAK" ] && break
  sleep 0.1
done

# The runbook's triage, twice, timed, while churn-server still holds every leaked socket.
when="on the server host, live: churn-server still holds the leaked sockets"
s1=$(triage_timed "$dir/triage.churn-probe.txt" "churn-probe triage --netns $LAB_SRV" "$when" \
  "$BIN/churn-probe" triage --netns "$LAB_SRV")
s2=$(TRIAGE_FULL=$dir/triage.ss.full.txt triage_timed "$dir/triage.ss.txt" \
  "RUNBOOK §2's plain commands, each run as: ip netns exec $LAB_SRV sh -c '...'" "$when" triage_plain "$LAB_SRV")
tail -n +5 "$dir/triage.churn-probe.txt" | tee "$dir/triage.txt"
echo "leak: triage took churn-probe $s1 s, ss/nstat $s2 s (transcripts: $dir/triage.churn-probe.txt, $dir/triage.ss.txt)"
"$BIN/churn-probe" triage --netns "$LAB_SRV" --json > "$dir/triage.json" || die "churn-probe triage --json failed"

# The check: the first (oldest) CLOSE-WAIT owner is churn-server's pid, and it holds every leaked socket.
named=$(grep -o '"owners":\[{"pid":[0-9]*' "$dir/triage.json" | grep -o '[0-9]*$')
count=$(grep -o '"owners":\[{"pid":[0-9]*,"comm":"[^"]*","count":[0-9]*' "$dir/triage.json" | grep -o '[0-9]*$')
ss_cw=$(ip netns exec "$LAB_SRV" ss -H -tan state close-wait | wc -l)

kill -TERM $srv_pid 2>/dev/null
wait $srv_pid 2>/dev/null
lab_down
{ echo "{"; meta_steal "$steal0"
  printf '  "command": %s,\n  "leak": %s,\n  "triage_seconds": {"churn-probe": %s, "ss-nstat": %s},\n' \
    "$(json_str "make run-leak")" "$LEAK" "$s1" "$s2"
  meta_where "$started"; echo "}"; } > "$dir/meta.json"

echo
if [ "${named:-}" = "$srv_pid" ] && [ "${count:-0}" = "$ss_cw" ] && [ "$ss_cw" -ge "$LEAK" ]; then
  echo "leak: OK: triage names churn-server (pid $srv_pid) as the owner of all $count CLOSE-WAIT sockets (ss: $ss_cw); results in $dir"
else
  echo "leak: FAILED: triage named pid ${named:-none} with ${count:-0} sockets; churn-server is pid $srv_pid, ss counts $ss_cw CLOSE-WAIT; see $dir" >&2
  exit 1
fi
