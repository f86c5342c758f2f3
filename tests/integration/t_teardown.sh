#!/usr/bin/env bash
# t_teardown: a scenario interrupted halfway leaves nothing behind. lab/scenario.sh churn (RATE=500,
# DURATION=10) is stopped as soon as it is fully up (its client and server running), twice:
#   SIGINT to its whole process group, as Ctrl-C in a terminal does (client and server get it too);
#   SIGTERM to the scenario's shell alone, as a CI runner or `kill PID` does.
# Each time, within 10 s: no churnlab-<RUNID>-* namespace, no process carrying CHURNLAB_RUN=<RUNID>, and
# the shell exits as killed by that signal (130 / 143). (10 s holds by design: the teardown gives its
# processes 3 s after SIGTERM, then SIGKILLs them and deletes 2 namespaces.) Then lab/clean.sh for those runs finds nothing.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
# Job control: a background job then gets its own process group (we can signal it like a terminal does)
# and keeps SIGINT; without it, bash starts background jobs with SIGINT ignored and untrappable.
set -m

base=${RUNID:-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
runs=()
out=$(mktemp -d /tmp/churn-teardown-XXXXXX)
# Whatever happens to this test, remove what its scenarios may have left (only those runs: another lab
# running on this machine is not ours).
trap '[ ${#runs[@]} -eq 0 ] || lab/clean.sh "${runs[@]}" >/dev/null 2>&1; rm -rf "$out"' EXIT

leftovers() {  # RUNID -> what of that run is still there, or nothing
  local rid=$1 envf pid
  ip netns list 2>/dev/null | awk '{print $1}' | grep "^churnlab-$rid-" | sed 's/^/netns /'
  for envf in /proc/[0-9]*/environ; do
    pid=${envf#/proc/}; pid=${pid%/environ}
    grep -zqx "CHURNLAB_RUN=$rid" "$envf" 2>/dev/null &&
      echo "pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null))"
  done
}

# interrupt SIGNAL TARGET(group|shell) RUNID EXPECTED_STATUS
interrupt() {
  local sig=$1 target=$2 rid=$3 want=$4
  runs+=("$rid")
  RUNID=$rid RATE=500 DURATION=10 lab/scenario.sh churn "$out/$rid" > "$out/$rid.log" 2>&1 &
  local pid=$!
  # Not vacuous: the run must be fully up (both namespaces, client and server running) when we strike.
  # Waited for, not slept for: the lab comes up in well under a second on a quiet host, in a few on a
  # loaded one, and the load then runs 10 s, so the strike always lands in the middle of the run.
  local ns=0 procs=0 i
  for i in $(seq 1 160); do
    ns=$(ip netns list | grep -c "^churnlab-$rid-")
    procs=$(leftovers "$rid" | grep -cE 'churn-(client|serve)')
    [ "$ns" -eq 2 ] && [ "$procs" -eq 2 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ "$ns" -eq 2 ] && [ "$procs" -eq 2 ] ||
    fail "scenario $rid not running within 8 s: $ns namespaces, $procs churn processes (expected 2 and 2); log: $(tail -c 300 "$out/$rid.log" | tr '\n' ' ')"
  local t0=$(date +%s.%N)
  if [ "$target" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
  wait "$pid"
  local rc=$?
  local left="" i
  for i in $(seq 1 50); do
    left=$(leftovers "$rid" | tr '\n' ' ')
    [ -z "$left" ] && break
    sleep 0.2
  done
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sed 's/^/  scenario: /' "$out/$rid.log" >&2
  [ -z "$left" ] || fail "SIG$sig to scenario $target: still there after ${secs} s (expected nothing within 10 s): $left"
  note "ok SIG$sig to the scenario's $target: all gone after ${secs} s"
  assert_eq "scenario exit status after SIG$sig" "$rc" "$want"
}

interrupt INT group "${base}a" 130
interrupt TERM shell "${base}b" 143

clean=$(lab/clean.sh "${runs[@]}" 2>&1)
rc=$?
note "clean.sh: $clean"
assert_eq "lab/clean.sh ${runs[*]} exit status" "$rc" 0
assert_eq "lab/clean.sh ${runs[*]} output (a clean teardown leaves nothing)" "$clean" "clean: nothing to remove"
