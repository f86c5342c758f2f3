#!/usr/bin/env bash
# incident.sh: `make run-incident`. A churn incident made by clients nobody here wrote (Python's standard
# library, curl), in the two-host lab, walked through RUNBOOK.md §7: the incident, the triage (twice,
# timed), the fix with the same library, and the verification checklist.
#
#   run                   client host (lab/incident_client.py MODE)                       server host
#   oneshot-churn-server  http.client.HTTPConnection per request, closed after it: client   churn-server
#                         closes first -> TIME-WAIT on the client host -> EADDRNOTAVAIL
#   urlopen-churn-server  urllib.request.urlopen per request: "Connection: close", the      churn-server
#                         server closes first -> TIME-WAIT on the server host, no error
#   oneshot-nginx         as oneshot, against nginx (lab/nginx.conf.in, as make bench runs it)  nginx
#   urlopen-nginx         as urlopen, against nginx                                          nginx
#   keep-churn-server     the fix: one http.client.HTTPConnection kept for the whole loop    churn-server
#   curl-churn-server     the fix, another real client: one curl, all the URLs on its        churn-server
#                         command line (a glob), one kept-alive connection
#
# Every run gets a fresh lab (no TIME-WAIT carried over) and the same bound: INCIDENT_N attempts or
# INCIDENT_D seconds, whichever comes first, one sequential unthrottled loop. During the first oneshot run,
# as soon as the client reports its first EADDRNOTAVAIL and while it is still failing, the runbook's triage
# runs on the client host twice, timed with `date +%s.%N` around each: `churn-probe triage --netns` and
# the plain commands of RUNBOOK §2 (ss, nstat, sysctl) inside the namespace.
#
# The port range. PORT_RANGE (default "20000 29999", 10 000 ports, both lab hosts only): the oneshot loop
# runs a few thousand requests a second here, so the range is used up within seconds and the incident,
# the triage and the fix all fit in a few minutes; the kernel's default 28 232 ports would fail the same
# way about three times later, and the TIME-WAIT would still last 60 s. The range is printed with the
# results.
#
# Knobs: INCIDENT_N=100000  INCIDENT_D=20  PORT_RANGE="20000 29999"  INCIDENT_RUNS="<ids above>"
#        INCIDENT_OUT=DIR (default results/incident-<UTC ts>, with results/latest-incident pointing at it)
# Writes: RUN.client.json RUN.client.log RUN.probe.jsonl/.probe.json (churn-probe watch, both hosts)
#         RUN.nstat.txt, then lab/incident_report.py: RUN.json per run, incident.json, summary.md,
#         checklist.txt; and triage.churn-probe.txt, triage.ss-nstat.txt (transcripts with their seconds).
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/netns.sh
source lab/nginx.sh
source lab/meta.sh
source lab/triage.sh

die() { echo "incident: $*" >&2; exit 1; }
INCIDENT_N=${INCIDENT_N:-100000}
INCIDENT_D=${INCIDENT_D:-20}
PORT_RANGE=${PORT_RANGE:-"20000 29999"}
INCIDENT_RUNS=${INCIDENT_RUNS:-"oneshot-churn-server urlopen-churn-server oneshot-nginx urlopen-nginx keep-churn-server curl-churn-server"}
PYTHON=${PYTHON:-python3}
BIN=${BIN:-build/bin}
for b in churn-server churn-probe churn-report; do [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"; done
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (run: make deps-incident)"
[[ $INCIDENT_N =~ ^[1-9][0-9]*$ ]] || { echo "incident: INCIDENT_N='$INCIDENT_N': want a positive integer" >&2; exit 2; }
[[ $INCIDENT_D =~ ^[1-9][0-9]*$ ]] || { echo "incident: INCIDENT_D='$INCIDENT_D': want whole seconds > 0" >&2; exit 2; }
for run in $INCIDENT_RUNS; do
  case $run in
    oneshot-churn-server|urlopen-churn-server|keep-churn-server|curl-churn-server) ;;
    oneshot-nginx|urlopen-nginx|keep-nginx|curl-nginx) command -v nginx >/dev/null || die "nginx not installed (run: make deps-incident)" ;;
    *) echo "incident: INCIDENT_RUNS: unknown run '$run' (want MODE-PEER, MODE oneshot|urlopen|keep|curl, PEER churn-server|nginx)" >&2; exit 2 ;;
  esac
  [[ $run == curl-* ]] && { command -v curl >/dev/null || die "curl not installed (run: make deps-incident)"; }
done

ts=$(date -u +%Y%m%dT%H%M%SZ)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
steal0=$(steal_sample)
dir=${INCIDENT_OUT:-results/incident-$ts}
mkdir -p "$dir" || die "cannot create $dir"
[ -n "${INCIDENT_OUT:-}" ] || ln -sfn "incident-$ts" results/latest-incident
: > "$dir/runs.tsv"
echo "incident: port range $PORT_RANGE in both lab hosts; bound: $INCIDENT_N attempts or $INCIDENT_D s per run; results in $dir" >&2

triaged=0
sysctl_done=0
for run in $INCIDENT_RUNS; do
  mode=${run%%-*} peer=${run#*-}
  lab_up || die "lab setup failed ($run)"
  [ $sysctl_done = 1 ] || { lab_record_sysctls "$dir/sysctl.json"; sysctl_done=1; }
  if [ "$peer" = nginx ]; then
    url=http://$LAB_SRV_IP:8081/
    nginx_start "$LAB_SRV_IP:8081" 64 "$dir" || die "nginx did not start ($run)"
    srv_pid=""
  else
    url=http://$LAB_SRV_IP:8080/
    # The server outlives the client by far (it is stopped below); --idle-timeout off so that it never
    # closes the kept connection itself and the fix runs measure the client alone.
    ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:8080" --idle-timeout 0 --quiet \
      --duration $((INCIDENT_D + 120)) --json "$dir/$run.server.json" > "$dir/$run.server.log" 2>&1 &
    srv_pid=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$dir/$run.server.log" 2>/dev/null && break; sleep 0.05; done
    grep -q "listening on" "$dir/$run.server.log" || die "churn-server did not start: $(head -c 300 "$dir/$run.server.log")"
  fi

  # churn-probe watch on both hosts (lab/tw-sample.sh) for the TIME-WAIT peaks; started before the load.
  PROBE_INTERVAL=500ms BIN=$BIN lab/tw-sample.sh "$dir/$run" "$LAB_CLI" "$LAB_SRV" $((INCIDENT_D + 30)) 2> "$dir/$run.probe.err" &
  sampler=$!
  lab_track $sampler
  for _ in $(seq 1 100); do
    [ -f "$dir/$run.probe.jsonl" ] && [ "$(wc -l < "$dir/$run.probe.jsonl")" -ge 2 ] && break
    sleep 0.05
  done

  echo "incident: $run: $mode client -> $url ($INCIDENT_N attempts or $INCIDENT_D s)" >&2
  ip netns exec "$LAB_CLI" "$PYTHON" lab/incident_client.py "$mode" "$url" --count "$INCIDENT_N" \
    --duration "$INCIDENT_D" --json "$dir/$run.client.json" 2> "$dir/$run.client.log" &
  cli_pid=$!
  printf '%s\t%s\t%s\t%s\n' "$run" "$mode" "$peer" "$url" >> "$dir/runs.tsv"

  if [ "$mode" = oneshot ] && [ $triaged = 0 ]; then
    # The incident is on as soon as the client says so; triage while it still fails (or, if it has
    # already stopped, right after: the TIME-WAIT stands for 60 s).
    for _ in $(seq 1 $((INCIDENT_D * 20 + 100))); do
      grep -q "first error" "$dir/$run.client.log" && break
      kill -0 $cli_pid 2>/dev/null || break
      sleep 0.05
    done
    when="on the client host, right after the run (its TIME-WAIT still standing)"
    kill -0 $cli_pid 2>/dev/null && when="on the client host, live: the client was still failing"
    s1=$(triage_timed "$dir/triage.churn-probe.txt" "churn-probe triage --netns $LAB_CLI" "$when" \
      "$BIN/churn-probe" triage --netns "$LAB_CLI")
    kill -0 $cli_pid 2>/dev/null || when="on the client host, right after the run (its TIME-WAIT still standing)"
    s2=$(TRIAGE_FULL=$dir/triage.ss-nstat.full.txt triage_timed "$dir/triage.ss-nstat.txt" \
      "RUNBOOK §2's plain commands, each run as: ip netns exec $LAB_CLI sh -c '...'" "$when" triage_plain "$LAB_CLI")
    "$BIN/churn-probe" triage --netns "$LAB_CLI" --json > "$dir/triage.json" 2>&1
    printf 'triage\t%s\tchurn-probe\t%s\ntriage\t%s\tss-nstat\t%s\n' "$run" "$s1" "$run" "$s2" >> "$dir/runs.tsv"
    echo "incident: triage during $run: churn-probe $s1 s, ss/nstat $s2 s" >&2
    triaged=1
  fi

  wait $cli_pid || echo "incident: note: $run client exited with status $?" >&2
  sed "s/^/incident: $run: /" "$dir/$run.client.log" >&2
  # Let the last FIN exchange settle, then the watcher's final sample (it takes one on SIGTERM).
  sleep 0.5
  kill -TERM $sampler 2>/dev/null; wait $sampler 2>/dev/null
  for h in "client:$LAB_CLI" "server:$LAB_SRV"; do
    echo "[${h%%:*}]"
    ip netns exec "${h#*:}" nstat -asz TcpActiveOpens TcpPassiveOpens TcpExtTW TcpExtTWRecycled | grep -v '^#'
    echo "ss TIME-WAIT $(ip netns exec "${h#*:}" ss -Htan state time-wait | wc -l)"
  done > "$dir/$run.nstat.txt"
  "$BIN/churn-report" probe "$dir" "$run" > /dev/null || echo "incident: churn-report probe $dir $run failed" >&2
  if [ -n "$srv_pid" ]; then kill -TERM "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; fi
  lab_down
done

{ echo "{"; meta_steal "$steal0"
  printf '  "command": %s,\n  "port_range": %s,\n  "bound": {"attempts": %s, "seconds": %s},\n' \
    "$(json_str "make run-incident")" "$(json_str "$PORT_RANGE")" "$INCIDENT_N" "$INCIDENT_D"
  meta_where "$started"; echo "}"; } > "$dir/meta.json"
"$PYTHON" lab/incident_report.py "$dir" || die "lab/incident_report.py $dir failed"
echo
cat "$dir/summary.md"
echo
cat "$dir/checklist.txt"
echo "incident: results in $dir" >&2
