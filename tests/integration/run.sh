#!/usr/bin/env bash
# tests/integration/run.sh [NAME...]: run every tests/integration/t_*.sh (or only those named, e.g.
# `run.sh t_churn_exhausts`), each in its own bash process with its own fresh lab, so that its
# EXIT/INT/TERM trap tears down its own namespaces and nothing else.
#
# Prints, per test:  PASS name (Xs)  |  FAIL name: reason  |  SKIP name: reason
# and, as the very last line, "N passed, N failed, N skipped" (tests/run.sh parses it).
# Exit status 0 only if nothing failed.
#
# A test is also failed if it leaves anything behind: a churnlab-<RUNID>-* namespace or a process
# carrying its CHURNLAB_RUN=<RUNID> marker. Those are then removed with lab/clean.sh <RUNID>.
#
# And the host must be left as it was found: its net.* sysctls, links, addresses, routes and namespaces
# are recorded before the first test and compared after the last (host_state.sh); any difference is one
# more failure, "FAIL host unchanged", with the diff.
#
# Each test has a time limit (TEST_TIMEOUT, default 90 s; a test that needs longer says so in a header
# line `# test-timeout: SECONDS`): a hung test gets SIGTERM, 10 s later SIGKILL, and fails.
# Ctrl-C (or SIGTERM to us) is passed on to the running test once, we wait for its teardown,
# and the remaining tests are not run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
TEST_TIMEOUT=${TEST_TIMEOUT:-90}

if [ $# -gt 0 ]; then
  tests=()
  for n in "$@"; do n=${n%.sh}; n=${n##*/}; tests+=("$here/$n.sh"); done
else
  tests=("$here"/t_*.sh)
fi

if [ "$(id -u)" -ne 0 ]; then
  echo
  echo "#####################################################################################"
  echo "## NOT ROOT: the integration tests create network namespaces and need root."
  echo "## Every test that needs the lab is SKIPPED. Run as root: sudo make test"
  echo "#####################################################################################"
  echo
fi

passed=0 failed=0 skipped=0
work=$(mktemp -d /tmp/churn-itest-XXXXXX)
trap 'rm -rf "$work"' EXIT
start_all=$(date +%s.%N)

# Every test's RUNID starts with the suite's own 4 hex digits, so that the host check can tell this
# suite's churnlab-* namespaces from those of other runs on the same machine. 8 hex digits in all keep
# the veth names (cl<RUNID>c, plus a suffix letter in t_teardown) within 15 characters.
source "$here/host_state.sh"
suite=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
[ "$(id -u)" -eq 0 ] && host_state "$work/host.before" "$suite"

# Each test runs in its own session and process group (setsid), with SIGINT and SIGQUIT back at their
# defaults (`env --default-signal`: a non-interactive shell starts background commands with them ignored,
# and bash cannot trap a signal that was ignored when it started, so the lab's INT trap would be dead).
# A terminal's Ctrl-C therefore reaches only us, and we pass it to the test's group exactly once: a second
# SIGINT landing in the middle of lab_down must not cut the teardown short.
test_pid=""
interrupted=""
on_signal() {
  interrupted=$1
  [ -n "$test_pid" ] && kill -"$1" -- -"$test_pid" 2>/dev/null
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# Processes still carrying a run's marker (the lab exports CHURNLAB_RUN to everything it starts).
marked_pids() {
  local envf pid
  for envf in /proc/[0-9]*/environ; do
    pid=${envf#/proc/}; pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    grep -zqx "CHURNLAB_RUN=$1" "$envf" 2>/dev/null && echo "$pid"
  done
}

for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  if [ ! -f "$t" ]; then
    echo "FAIL $name: no such test ($t)"; failed=$((failed + 1)); continue
  fi
  # Our RUNID, so that we know which namespaces and processes are this test's to check afterwards.
  runid=$suite$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
  result=$work/$name.result log=$work/$name.log timed_out=$work/$name.timeout
  : > "$result"
  # The larger of TEST_TIMEOUT and the test's own `# test-timeout:` line.
  limit=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
  [ -n "$limit" ] && [ "$limit" -gt "$TEST_TIMEOUT" ] || limit=$TEST_TIMEOUT
  t0=$(date +%s.%N)
  # setsid does not fork here (we are not a group leader), so $! is the test, and its group id.
  RUNID=$runid TEST_RESULT=$result setsid env --default-signal=INT,QUIT bash "$t" < /dev/null > "$log" 2>&1 &
  test_pid=$!
  # The watchdog, in its own group too, so that killing the group also ends its sleep.
  setsid bash -c 'sleep "$1"; touch "$2"; kill -TERM -- -"$3"; sleep 10; kill -KILL -- -"$3"' watchdog \
    "$limit" "$timed_out" "$test_pid" > /dev/null 2>&1 &
  watchdog=$!
  # `wait` returns early when a trapped signal arrives; the test is still tearing down then: wait again.
  while :; do
    wait "$test_pid"
    rc=$?
    kill -0 "$test_pid" 2>/dev/null || break
  done
  test_pid=""
  kill -- -"$watchdog" 2>/dev/null
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  reason=$(head -1 "$result")

  # Leftovers: our namespaces, our marked processes. Give a killed test's teardown a moment first.
  left=""
  [ "$(id -u)" -eq 0 ] && for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^churnlab-$runid-" | tr '\n' ' ')
    left+=$(marked_pids "$runid" | sed 's/^/pid /' | tr '\n' ' ')
    [ -z "$left" ] && break
    sleep 0.5
  done
  # Scratch dirs named after the run (lab_tmpdir, a test's own mktemp): a test that failed half-way may
  # have left one; a passing test must not, and its namespaces and processes are checked just below.
  rm -rf /tmp/churnlab-"$runid"-* 2>/dev/null
  if [ -n "$left" ]; then
    lab/clean.sh "$runid" >> "$log" 2>&1
    if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then rc=1; reason="left behind after teardown: $left"
    else reason+=" (and left behind: $left)"; fi
  fi

  if [ -e "$timed_out" ]; then
    rc=1 reason="timed out after ${limit}s${reason:+; $reason}"
  elif [ -n "$interrupted" ]; then
    rc=1 reason="interrupted (SIG$interrupted)${reason:+; $reason}"
  fi
  case $rc in
    0)  echo "PASS $name (${secs}s)"; passed=$((passed + 1))
        # A pass that needed a second timing attempt says so (lib.sh's timing_attempts): the host's noise
        # is worth seeing even when the property held in the end.
        grep -h 'NOISY HOST?' "$log" | sed 's/^ */    | /' ;;
    77) echo "SKIP $name: ${reason:-skipped}"; skipped=$((skipped + 1)) ;;
    *)  echo "FAIL $name: ${reason:-exit status $rc, no reason given} (${secs}s)"
        # The end of its log: the assertions that passed and the client's summary, to see why.
        tail -n 25 "$log" | sed 's/^/    | /'
        failed=$((failed + 1)) ;;
  esac
  if [ -n "$interrupted" ]; then echo "interrupted: the remaining tests did not run"; break; fi
done

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP host unchanged: needs root (the host's namespaces)"; skipped=$((skipped + 1))
else
  host_state "$work/host.after" "$suite"
  if d=$(host_state_diff "$work/host.before" "$work/host.after"); then
    echo "PASS host unchanged ($(grep -c . "$work/host.after") lines: net.* sysctls, links, addresses, routes, namespaces)"
    passed=$((passed + 1))
  else
    echo "FAIL host unchanged: the host's network state differs after the suite"
    echo "$d" | sed 's/^/    | /'
    failed=$((failed + 1))
  fi
fi

total=$(awk -v a="$start_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
echo "integration: ${total}s"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
