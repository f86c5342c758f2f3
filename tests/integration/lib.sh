# lib.sh: what every integration test sources. Assertions that say measured vs expected, a JSON reader
# that needs neither jq nor python3 (neither is on a fresh Debian 12), and the lab chores: start the
# server in the server namespace, run the client in the client namespace, count TIME-WAIT with `ss` and
# read counters with `nstat`.
#
# Protocol with run.sh: a test exits 0 to pass, 77 to skip, anything else to fail. Before exiting it
# writes a one-line reason to $TEST_RESULT (run.sh prints it). fail/skip do both.
#
# A test that calls lab_up gets lab/netns.sh's EXIT/INT/TERM trap: fail's `exit` tears the lab down.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BIN=${BIN:-$ROOT/build/bin}
CLIENT=$BIN/churn-client
SERVER=$BIN/churn-server
PORT=${PORT:-8080}
TEST_RESULT=${TEST_RESULT:-/dev/null}

# ---- outcome ---------------------------------------------------------------------------------------------
fail() { echo "$*" > "$TEST_RESULT"; echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*" > "$TEST_RESULT"; echo "SKIP: $*" >&2; exit 77; }
note() { echo "  $*" >&2; }   # goes to the test's log, shown by run.sh when the test fails

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"; }
need_bins() {
  local b i
  for b in "$CLIENT" "$SERVER"; do
    # A few seconds of patience: a `make` running next to us unlinks the binary while it relinks it.
    for i in $(seq 1 20); do [ -x "$b" ] && break; sleep 0.5; done
    [ -x "$b" ] || fail "$b is not built (make build/bin/churn-client build/bin/churn-server)"
  done
}

# ---- assertions: WHAT MEASURED EXPECTED ------------------------------------------------------------------
# A measured value that is empty or not a number is itself the failure (a missing JSON key, a counter
# that nstat did not print): say so rather than compare garbage.
is_num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
need_num() { is_num "$2" || fail "$1: measured '${2}' is not a number (missing?)"; }

assert_eq() {  # exact, integers or strings
  [ "$2" = "$3" ] || fail "$1: measured ${2:-(nothing)}, expected exactly $3"
  note "ok $1 = $2"
}
assert_ge() { need_num "$1" "$2"; awk -v a="$2" -v b="$3" 'BEGIN{exit !(a >= b)}' || fail "$1: measured $2, expected >= $3"; note "ok $1 = $2 (>= $3)"; }
assert_le() { need_num "$1" "$2"; awk -v a="$2" -v b="$3" 'BEGIN{exit !(a <= b)}' || fail "$1: measured $2, expected <= $3"; note "ok $1 = $2 (<= $3)"; }
assert_gt() { need_num "$1" "$2"; awk -v a="$2" -v b="$3" 'BEGIN{exit !(a > b)}' || fail "$1: measured $2, expected > $3"; note "ok $1 = $2 (> $3)"; }
assert_between() {  # WHAT MEASURED LO HI, inclusive
  need_num "$1" "$2"
  awk -v a="$2" -v lo="$3" -v hi="$4" 'BEGIN{exit !(a >= lo && a <= hi)}' ||
    fail "$1: measured $2, expected within [$3, $4]"
  note "ok $1 = $2 (in [$3, $4])"
}

# ---- JSON without jq ---------------------------------------------------------------------------------------
# json_flat FILE: one line per scalar, "dotted.path<TAB>value"; array elements are numbered from 0
# (timeline.0.requests), strings lose their quotes, an empty object or array prints as {} or [].
# A tokenizer, not a line matcher: it does not depend on how the JSON is indented. Tokens never span
# lines in JSON (a string cannot hold a raw newline), so it reads line by line and keeps its stack.
json_flat() {
  awk '
    function path(   i, p) {
      p = ""
      for (i = 1; i <= d; i++) p = p (i > 1 ? "." : "") (type[i] == "o" ? key[i] : idx[i])
      return p
    }
    function value(v) { print path() "\t" v; n[d]++ }
    function push(t) { if (d > 0) n[d]++; d++; type[d] = t; key[d] = ""; idx[d] = 0; n[d] = 0; wantkey[d] = (t == "o") }
    function pop(   t) { t = type[d]; if (n[d] == 0) { d--; print path() "\t" (t == "o" ? "{}" : "[]"); return } d-- }
    {
      s = $0
      while (length(s) > 0) {
        c = substr(s, 1, 1)
        if (c ~ /[ \t\r]/) { s = substr(s, 2); continue }
        if (c == "{") { push("o"); s = substr(s, 2); continue }
        if (c == "[") { push("a"); s = substr(s, 2); continue }
        if (c == "}" || c == "]") { pop(); s = substr(s, 2); continue }
        if (c == ":") { wantkey[d] = 0; s = substr(s, 2); continue }
        if (c == ",") { if (type[d] == "a") idx[d]++; else wantkey[d] = 1; s = substr(s, 2); continue }
        if (c == "\"") {
          if (!match(s, /^"([^"\\]|\\.)*"/)) { print "json_flat: bad string at: " s > "/dev/stderr"; exit 1 }
          t = substr(s, 2, RLENGTH - 2); s = substr(s, RLENGTH + 1)
          if (type[d] == "o" && wantkey[d]) key[d] = t; else value(t)
          continue
        }
        if (!match(s, /^[-+0-9.eEtruefalsn]+/)) { print "json_flat: bad token at: " s > "/dev/stderr"; exit 1 }
        value(substr(s, 1, RLENGTH)); s = substr(s, RLENGTH + 1)
      }
    }' "$1"
}

# json_get FILE KEY.PATH: the value, or status 1 (and nothing) if the key is absent.
json_get() {
  [ -s "$1" ] || { echo "json_get: $1 is missing or empty" >&2; return 1; }
  json_flat "$1" | awk -F'\t' -v p="$2" '$1 == p { print $2; found = 1; exit } END { exit !found }'
}
# json_num FILE KEY.PATH DEFAULT: like json_get, but an absent key gives DEFAULT (e.g. errors.X -> 0).
json_num() { json_get "$1" "$2" || echo "$3"; }
# json_len FILE ARRAY.PATH: number of elements of an array of objects or scalars.
json_len() {
  json_flat "$1" | awk -F'\t' -v p="$2." 'index($1, p) == 1 { i = substr($1, length(p) + 1); sub(/\..*/, "", i); if (i + 1 > m) m = i + 1 } END { print m + 0 }'
}
# json_children FILE OBJ.PATH: the keys directly under an object, one per line ("errors" -> ECONNREFUSED).
json_children() {
  json_flat "$1" | awk -F'\t' -v p="$2." 'index($1, p) == 1 { k = substr($1, length(p) + 1); sub(/\..*/, "", k); if (!(k in seen)) { seen[k] = 1; print k } }'
}

# ---- the kernel's view -------------------------------------------------------------------------------------
# TIME-WAIT sockets in a namespace, from sock_diag via ss (-H: no header line).
tw_count() { ip netns exec "$1" ss -H -tan state time-wait | wc -l; }
# The local ports of those sockets, one a line. With a state filter ss leaves out the State column, so
# the local address is field 3 (Recv-Q Send-Q Local Peer).
tw_ports() { ip netns exec "$1" ss -H -tan state time-wait | awk '{ n = split($3, a, ":"); print a[n] }'; }
# A SNMP/netstat counter, absolute (-a: since the namespace was created, which is 0 for a fresh lab;
# -s: leave nstat's history file alone, it is shared by every namespace on the host; -z: print zeros).
nstat_get() { ip netns exec "$1" nstat -asz "$2" | awk -v c="$2" '$1 == c { print $2; found = 1 } END { exit !found }'; }
# The same counter read straight from /proc/net/snmp (a header line of names, then a line of values):
# a cross-check that does not go through nstat. snmp_get NS Tcp ActiveOpens.
snmp_get() {
  ip netns exec "$1" awk -v g="$2:" -v c="$3" '$1 == g { if (!hdr) { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1 }
    else { print $(col[c]); found = 1 } } END { exit !found }' /proc/net/snmp
}
# wire_quiet NS: no TCP connection to or from $PORT in NS is still exchanging packets (every one is gone
# or in TIME-WAIT, whose last ACK is sent): a capture taken there has seen the last FIN by now.
wire_quiet() {
  [ "$(ip netns exec "$1" ss -H -tn state connected exclude time-wait "( dport = :$PORT or sport = :$PORT )" | wc -l)" -eq 0 ]
}
ns_sysctl() { ip netns exec "$1" sysctl -n "$2" | tr -s ' \t' ' '; }

# ---- the programs ------------------------------------------------------------------------------------------
# start_server ARGS...: churn-server on the server host, JSON to $LAB_TMP/server.json. Ready when it
# prints "listening on" (not a probe connection: that would be one more TIME-WAIT in what we count).
# wait_listening LOG PID WHAT: until churn-server's LOG says "listening on" (5 s at most, or until PID dies).
wait_listening() {
  local i
  for i in $(seq 1 100); do
    grep -q "listening on" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  fail "$3 did not start listening within 5 s: $(head -c 300 "$1")"
}
start_server() {
  # Cleared here, before the fork: the `>` below truncates the log only once the child runs, and a
  # second server in the same test would otherwise be "listening" on the first one's line (and a server
  # that wrote no JSON would pass on the first one's file).
  : > "$LAB_TMP/server.log"
  rm -f "$LAB_TMP/server.json"
  ip netns exec "$LAB_SRV" "$SERVER" --listen "$LAB_SRV_IP:$PORT" --json "$LAB_TMP/server.json" "$@" \
    > "$LAB_TMP/server.log" 2>&1 &
  SRV_PID=$!
  wait_listening "$LAB_TMP/server.log" "$SRV_PID" churn-server
}
# stop_server: SIGTERM, which is when churn-server writes its JSON; bounded at 5 s.
stop_server() {
  kill -TERM "$SRV_PID" 2>/dev/null
  local i
  for i in $(seq 1 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$SRV_PID" 2>/dev/null
  [ -s "$LAB_TMP/server.json" ] || fail "churn-server wrote no JSON on SIGTERM: $(tail -c 300 "$LAB_TMP/server.log")"
}
# start_client ARGS...: churn-client on the client host in the background (CLI_PID is the client itself,
# not a subshell), JSON to $LAB_TMP/client.json. wait_client: its exit status checked, its summary logged.
# run_client ARGS...: both, in the foreground.
start_client() {
  ip netns exec "$LAB_CLI" "$CLIENT" -q --json "$LAB_TMP/client.json" "$@" "http://$LAB_SRV_IP:$PORT/" \
    > "$LAB_TMP/client.log" 2>&1 &
  CLI_PID=$!
}
run_client() { start_client "$@"; wait_client; }
wait_client() {
  wait "$CLI_PID"
  local rc=$?
  sed 's/^/  client: /' "$LAB_TMP/client.log" >&2
  [ $rc -eq 0 ] || fail "churn-client exited $rc: $(tail -c 300 "$LAB_TMP/client.log")"
  [ -s "$LAB_TMP/client.json" ] || fail "churn-client wrote no JSON"
}

# lab_start: a fresh lab (overrides from the environment), a temp dir in it, the binaries checked.
lab_start() {
  need_root
  need_bins
  source "$ROOT/lab/netns.sh"
  lab_up || fail "lab_up failed"
  lab_tmpdir || fail "lab_tmpdir failed"
}
# lab_restart: the same lab torn down and built again (same RUNID, same overrides), for a timing attempt
# that needs fresh namespaces: no TIME-WAIT, no counters from the attempt before.
lab_restart() {
  lab_down
  lab_up || fail "lab_up (again) failed"
  lab_tmpdir || fail "lab_tmpdir failed"
}

# ---- waiting for a condition, not for a guess -------------------------------------------------------------
# wait_until SECONDS WHAT CMD...: run CMD every 50 ms until it succeeds; fail naming WHAT after SECONDS.
# A fixed sleep is a guess about how fast the host is today; this waits as long as needed and no longer,
# and its bound only catches the condition never coming.
# The bound is wall time (EPOCHREALTIME, us), not a number of polls: on a loaded host one poll (an `ss`
# in a namespace) can itself take tens of ms.
wait_until() {
  local secs=$1 what=$2 t0=${EPOCHREALTIME/./} now; shift 2
  while :; do
    "$@" && { note "ok $what (after $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms)"; return 0; }
    now=${EPOCHREALTIME/./}
    (( now - t0 < secs * 1000000 )) || break
    sleep 0.05
  done
  fail "$what: not within $secs s"
}

# ---- the host's noise ----------------------------------------------------------------------------------------
# These machines are shared 2-CPU VMs: the hypervisor steals CPU time (the steal column of /proc/stat,
# ~10 % at times) and other work competes for the run queue (CPU pressure, /proc/pressure/cpu). A timing
# property measured in such a window says more about the host than about us. So a timing test:
#   1. wraps one measurement in a function that returns non-zero (check_* below, never fail) when a
#      timing bound is missed;
#   2. runs it with `timing_attempts N FN`: on a miss it prints the window's steal and CPU pressure and
#      measures again, at most N times in all, saying so; the last miss fails the test with every
#      attempt's figures. A property that is really broken misses every time and still fails.
# Exact properties (counts, order, seeded drops) are asserted with assert_* and are never re-measured.

# noise_sample: "steal_ticks total_ticks psi_some_us" now. /proc/stat's aggregate line is
# cpu user nice system idle iowait irq softirq steal guest guest_nice (USER_HZ ticks); guest time is
# already inside user, so the total stops at steal.
noise_sample() {
  local psi=0
  [ -r /proc/pressure/cpu ] && psi=$(awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu)
  awk -v psi="$psi" '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t, psi; exit }' /proc/stat
}
# noise_since "SAMPLE": "steal X.X %, cpu pressure Y.Y %" over the window since SAMPLE (noise_sample's
# output), also left in NOISE_STEAL_PCT / NOISE_PSI_PCT. CPU pressure is the share of wall time in which
# some runnable task waited for a CPU (it includes our own processes competing with each other).
noise_since() {
  local now; now=$(noise_sample)
  read -r NOISE_STEAL_PCT NOISE_PSI_PCT < <(awk -v a="$1" -v b="$now" -v ncpu="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    dt = y[2] - x[2]; st = dt > 0 ? 100 * (y[1] - x[1]) / dt : 0
    # total ticks are summed over CPUs: wall time is dt / ncpu ticks of 1/100 s.
    wall_us = dt > 0 ? dt / ncpu * 10000 : 0
    ps = wall_us > 0 ? 100 * (y[3] - x[3]) / wall_us : 0
    printf "%.1f %.1f\n", st, (ps > 100 ? 100 : ps) }')
  echo "steal $NOISE_STEAL_PCT %, cpu pressure $NOISE_PSI_PCT %"
}

# Soft checks for use inside a timing attempt: return 1 and leave the reason in CHECK_WHY.
CHECK_WHY=""
check_between() {  # WHAT MEASURED LO HI
  need_num "$1" "$2"
  if awk -v a="$2" -v lo="$3" -v hi="$4" 'BEGIN{exit !(a >= lo && a <= hi)}'; then
    note "ok $1 = $2 (in [$3, $4])"; return 0
  fi
  CHECK_WHY="$1: measured $2, expected within [$3, $4]"; note "miss: $CHECK_WHY"; return 1
}
check_cmp() {  # WHAT MEASURED OP(<=|>=) BOUND
  need_num "$1" "$2"
  if awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN{exit !(op == "<=" ? a <= b : a >= b)}'; then
    note "ok $1 = $2 ($3 $4)"; return 0
  fi
  CHECK_WHY="$1: measured $2, expected $3 $4"; note "miss: $CHECK_WHY"; return 1
}
check_le() { check_cmp "$1" "$2" "<=" "$3"; }
check_ge() { check_cmp "$1" "$2" ">=" "$3"; }

# timing_attempts N FN [ARGS...]: run FN until it returns 0, at most N times (see above). FN can read
# TIMING_ATTEMPT (1, 2, ...), e.g. to call lab_restart before its second attempt.
TIMING_ATTEMPT=0
timing_attempts() {
  local n=$1 i t0 noise all=""; shift
  for i in $(seq 1 "$n"); do
    TIMING_ATTEMPT=$i
    t0=$(noise_sample)
    CHECK_WHY=""
    if "$@"; then
      noise=$(noise_since "$t0")
      note "timing attempt $i/$n passed ($noise)"
      return 0
    fi
    noise=$(noise_since "$t0")
    all+="${all:+; }attempt $i: ${CHECK_WHY:-$1 returned non-zero} ($noise)"
    if [ "$i" -lt "$n" ]; then
      echo "  NOISY HOST? timing attempt $i/$n missed: ${CHECK_WHY:-?} ($noise); measuring again" >&2
    fi
  done
  fail "timing missed in all $n attempts: $all"
}
