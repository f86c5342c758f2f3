#!/usr/bin/env bash
# levers.sh: `make run-levers`. The same churn load, one kernel lever at a time (issue 9; the rows are
# named in EXPERIMENTS.md §6 "Kernel levers, one at a time"):
#   1-baseline  2-wide-range  3a-tw-reuse-under  3b-tw-reuse-over  4-fin-timeout  5-tw-buckets
#   6-linger0  7-server-closes  8-two-sources  9-pool  10-pool-profile
# Each row is one lab/scenario.sh run (churn, or pooled for 9 and 10) in a fresh lab, so no TIME-WAIT is
# carried from one row into the next, with the same offered load and duration; only the row's lever
# differs. Into results/levers-<UTC ts>/ROW/ (results/latest-levers points to it), then churn-report levers
# writes levers.json, levers.md and levers.gp, and gnuplot levers.svg.
#
# Row 4 watches its batch of TIME-WAIT expire (TW_EXPIRE_WAIT in scenario.sh, up to LEVERS_TW_WAIT s after
# the load): it runs first, in the background, and the next row starts once row 4's load is over, so the
# wait overlaps the other rows while no two loads ever share the CPUs.
# Row 5 also counts the kernel's "time wait bucket table overflow" lines in dmesg, before and after
# (read-only). Row 6 adds the data-loss case: lab/levers-loss.sh (bulk --bytes with --linger0).
# A row whose tool is not built yet is written as "not run: needs X", never faked.
#
# Knobs: LEVERS_RATE=3000 LEVERS_DURATION=40 (every row: make compare's load, so that row 1 is its churn
# run; at 30 s the baseline's first EADDRNOTAVAIL fell just outside the run, because the port-search knee
# slows the client to about a third of the offered rate long before the ports run out), LEVERS_PORT_RANGE (default: the kernel's),
# LEVERS_WIDE_RANGE="1024 65535" (row 2), LEVERS_REUSE_DELAY=20000 (ms, row 3b; must put
# ports/delay below the rate), LEVERS_TW_BUCKETS=1000 (row 5), LEVERS_TW_WAIT=75 (row 4),
# LEVERS_LOSS_BYTES=4194304 (row 6), LEVERS_CONNS=32 (rows 9, 10), LEVERS_ROWS="1-baseline ..." (a subset),
# LEVERS_PARALLEL=1 (rows at a time besides row 4's wait; 2 only where two loads fit the CPUs: the short test),
# LEVERS_DIR (default results/levers-<ts>; then no results/latest-levers link).
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/meta.sh
die() { echo "levers: $*" >&2; exit 1; }

LEVERS_RATE=${LEVERS_RATE:-3000} LEVERS_DURATION=${LEVERS_DURATION:-40}
LEVERS_PORT_RANGE=${LEVERS_PORT_RANGE:-} LEVERS_WIDE_RANGE=${LEVERS_WIDE_RANGE:-1024 65535}
LEVERS_REUSE_DELAY=${LEVERS_REUSE_DELAY:-20000} LEVERS_TW_BUCKETS=${LEVERS_TW_BUCKETS:-1000}
LEVERS_TW_WAIT=${LEVERS_TW_WAIT:-75} LEVERS_PARALLEL=${LEVERS_PARALLEL:-1} LEVERS_LOSS_BYTES=${LEVERS_LOSS_BYTES:-4194304} LEVERS_CONNS=${LEVERS_CONNS:-32}
ALL_ROWS="1-baseline 2-wide-range 3a-tw-reuse-under 3b-tw-reuse-over 4-fin-timeout 5-tw-buckets 6-linger0
  7-server-closes 8-two-sources 9-pool 10-pool-profile"
LEVERS_ROWS=${LEVERS_ROWS:-$ALL_ROWS}
BIN=${BIN:-build/bin}
for b in churn-server churn-client churn-probe churn-report churn-pcap; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"
done
command -v gnuplot > /dev/null || die "gnuplot not installed (make deps-lab)"
for v in LEVERS_RATE LEVERS_DURATION LEVERS_PARALLEL LEVERS_REUSE_DELAY LEVERS_TW_BUCKETS LEVERS_TW_WAIT LEVERS_LOSS_BYTES LEVERS_CONNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number, not '${!v}'"
done
for r in $LEVERS_ROWS; do [[ " ${ALL_ROWS//$'\n'/ } " == *" $r "* ]] || die "LEVERS_ROWS: unknown row '$r' (rows: $(echo $ALL_ROWS))"; done

# Row 3b must sit on the failing side of tcp_tw_reuse's line: ports ÷ delay per second below the rate.
# The ports: LEVERS_PORT_RANGE, or what a fresh network namespace starts with (unshare -n: a throwaway
# namespace, nothing of the host's is read or changed).
range=${LEVERS_PORT_RANGE:-$(unshare -n sysctl -n net.ipv4.ip_local_port_range 2>/dev/null)}
read -r lo hi <<< "$range"
[[ ${lo:-} =~ ^[0-9]+$ && ${hi:-} =~ ^[0-9]+$ ]] || die "cannot tell the port range ('$range')"
ports=$((hi - lo + 1))
if [[ " $LEVERS_ROWS " == *" 3b-tw-reuse-over "* ]] && (( ports * 1000 / LEVERS_REUSE_DELAY >= LEVERS_RATE )); then
  die "row 3b: $ports ports / ${LEVERS_REUSE_DELAY} ms = $((ports * 1000 / LEVERS_REUSE_DELAY))/s is not below the rate $LEVERS_RATE/s (raise LEVERS_REUSE_DELAY, max 60000)"
fi

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=${LEVERS_DIR:-results/levers-$ts}
mkdir -p "$dir" || die "cannot create $dir"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
steal0=$(steal_sample)

# ---- what each row needs that another branch may not have built yet ----
has_flag() { "$BIN/churn-client" --help 2>&1 | grep -q -- "$1"; }
needs() {  # ROW: empty, or what is missing
  case $1 in
    6-linger0) has_flag --linger0 || echo "churn-client --linger0" ;;
    8-two-sources) has_flag --source || echo "churn-client --source" ;;
    10-pool-profile)
      [ -f sysctl/pooled-service.conf ] || { echo "sysctl/pooled-service.conf"; return; }
      grep -q 'PROFILE' lab/netns.sh || echo "PROFILE= in lab/netns.sh" ;;
  esac
}

row_letter() { local i=0 r letters=abcdefghijk; for r in $ALL_ROWS; do [ "$r" = "$1" ] && { echo "${letters:i:1}"; return; }; i=$((i + 1)); done; }
# ROW -> scenario and the environment of its one lever (everything else: the defaults of every row).
row_scenario() { case $1 in 9-pool|10-pool-profile) echo pooled ;; *) echo churn ;; esac; }
row_env() {
  case $1 in
    1-baseline) ;;
    2-wide-range) echo "PORT_RANGE=$LEVERS_WIDE_RANGE" ;;
    3a-tw-reuse-under) echo "TW_REUSE=1" ;;
    3b-tw-reuse-over) echo "TW_REUSE=1"; echo "TW_REUSE_DELAY=$LEVERS_REUSE_DELAY" ;;
    4-fin-timeout) echo "FIN_TIMEOUT=10"; echo "TW_EXPIRE_WAIT=$LEVERS_TW_WAIT" ;;
    5-tw-buckets) echo "MAX_TW_BUCKETS=$LEVERS_TW_BUCKETS" ;;
    6-linger0) echo "CLIENT_ARGS=--linger0" ;;
    7-server-closes) echo "CLOSE=server" ;;
    8-two-sources) echo "SOURCES=2" ;;
    9-pool) ;;
    10-pool-profile) echo "PROFILE=sysctl/pooled-service.conf" ;;
  esac
}

# Children run in the background and are waited for, so INT/TERM reach our trap at once; we pass them
# on, and each scenario's own trap deletes its namespaces (as lab/compare.sh does).
children=()
forward() {
  local p
  for p in "${children[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${children[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'forward; trap - INT; kill -INT $$' INT
trap 'forward; exit 143' TERM

printf 'id\tscenario\tsettings\tstatus\n' > "$dir/rows.tsv"
failed=0
# run_row ROW [bg]: one scenario in DIR/ROW with the row's lever; the status line in rows.tsv.
run_row() {
  local row=$1 s miss env=() settings status
  s=$(row_scenario "$row")
  mapfile -t env < <(row_env "$row")
  # TW_EXPIRE_WAIT is how long row 4 watches, not a lever: left out of the row's settings.
  settings=$(printf '%s\n' "${env[@]}" | grep -v '^TW_EXPIRE_WAIT=' | paste -sd ' ')
  [ "$row" = 9-pool ] || [ "$row" = 10-pool-profile ] && settings="${settings:+$settings }CONNS=$LEVERS_CONNS"
  miss=$(needs "$row")
  mkdir -p "$dir/$row"
  if [ -n "$miss" ]; then
    echo "levers: row $row: not run: needs $miss" >&2
    printf '%s\t%s\t%s\tnot run: needs %s\n' "$row" "$s" "${settings:-kernel defaults}" "$miss" >> "$dir/rows.tsv"
    return 0
  fi
  echo "levers: row $row: $s, ${settings:-kernel defaults}, ${LEVERS_RATE}/s for ${LEVERS_DURATION} s" >&2
  # Labs live side by side (row 4's wait, LEVERS_PARALLEL): a RUNID given by the caller (a test's) gets a
  # suffix per row, so their names never collide and still carry the caller's prefix for its leftover check.
  [ -n "${RUNID:-}" ] && env+=("RUNID=${RUNID}$(row_letter "$row")")
  env RATE="$LEVERS_RATE" DURATION="$LEVERS_DURATION" CONNS="$LEVERS_CONNS" WARMUP=0 RTT=0 CLOSE=client \
    PCAP_SECONDS=2 ${LEVERS_PORT_RANGE:+PORT_RANGE="$LEVERS_PORT_RANGE"} "${env[@]}" \
    lab/scenario.sh "$s" "$dir/$row" > "$dir/$row/scenario.log" 2>&1 &
  ROW_PID=$!
  children+=("$ROW_PID")
  printf '%s\t%s\t%s\tran\n' "$row" "$s" "${settings:-kernel defaults}" >> "$dir/rows.tsv"
}
dmesg_count() { dmesg 2>/dev/null | grep -c "time wait bucket table overflow"; }

# ---- the rows: row 4 first, in the background; then the others, LEVERS_PARALLEL at a time ----
# jobs: pid -> what it is ("row ROW" or "loss ROW"); each finished job is reported as it ends (wait -n).
declare -A jobs=()
start_row() {  # ROW: run_row, plus what row 5 reads before its load
  local row=$1
  ROW_PID=
  if [ "$row" = 5-tw-buckets ]; then
    # Read-only: dmesg before and after. The line is rate-limited (net_ratelimit), so the count of lines
    # says the message exists, not how many overflows there were (TcpExtTCPTimeWaitOverflow does).
    dmesg_readable=true
    dmesg > /dev/null 2>&1 || dmesg_readable=false
    dmesg_before=$(dmesg_count)
  fi
  run_row "$row"
  [ -n "$ROW_PID" ] && jobs[$ROW_PID]="row $row"
}
job_done() {  # PID STATUS: one progress line, and what follows a row (row 5's dmesg, row 6's loss case)
  local pid=$1 rc=$2 what=${jobs[$1]} row
  unset "jobs[$pid]"
  row=${what#* }
  if [ "${what%% *}" = loss ]; then
    [ "$rc" = 0 ] || { failed=1; echo "levers: row 6 data-loss case FAILED: $(tail -n 3 "$dir/$row/loss.log" | tr '\n' ' ')" >&2; return; }
    echo "levers: row $row: data-loss case done: $(grep -m1 'bytes' "$dir/$row/loss.log" | cut -c1-150)" >&2
    return
  fi
  if [ "$rc" != 0 ]; then
    failed=1; echo "levers: row $row FAILED: $(tail -n 3 "$dir/$row/scenario.log" | tr '\n' ' ')" >&2; return
  fi
  local j=$dir/$row/$(row_scenario "$row").json
  echo "levers: row $row done: $(grep -m1 -o '"rps": *[0-9.]*' "$j" | grep -o '[0-9.]*$') req/s," \
    "EADDRNOTAVAIL $(grep -o '"EADDRNOTAVAIL": *[0-9]*' "$j" | head -1 | grep -o '[0-9]*$' || echo 0)" >&2
  if [ "$row" = 5-tw-buckets ]; then
    printf '{"readable": %s, "before": %s, "after": %s, "pattern": "time wait bucket table overflow"}\n' \
      "$dmesg_readable" "${dmesg_before:-0}" "$(dmesg_count)" > "$dir/$row/dmesg.json"
  fi
  if [ "$row" = 6-linger0 ] && ! has_flag --bytes; then
    echo "levers: row $row: the data-loss case: not run: needs churn-client --bytes (bulk)" >&2
    echo "needs churn-client --bytes (bulk)" > "$dir/$row/loss.not-run"
  elif [ "$row" = 6-linger0 ]; then
    echo "levers: row $row: the data-loss case, bulk --bytes $LEVERS_LOSS_BYTES --linger0 to churn-server --discard" >&2
    ${loss_runid:+env RUNID=$loss_runid} lab/levers-loss.sh "$dir/$row" "$LEVERS_LOSS_BYTES" > "$dir/$row/loss.log" 2>&1 &
    children+=("$!")
    jobs[$!]="loss $row"
  fi
}
busy_slots() { local n=0 w; for w in "${jobs[@]}"; do [ "$w" = "row 4-fin-timeout" ] || n=$((n + 1)); done; echo $n; }
wait_one() {  # wait for any one job, then job_done
  local pid rc
  wait -n -p pid "${!jobs[@]}"
  rc=$?
  [ -n "${pid:-}" ] && job_done "$pid" "$rc"
}

loss_runid=${RUNID:+${RUNID}z}
if [[ " $(echo $LEVERS_ROWS) " == *" 4-fin-timeout "* ]]; then
  start_row 4-fin-timeout
  # The next load starts when row 4's client has written its JSON (its load is over): only the
  # watching of the expiry overlaps the other rows.
  if [ -n "$ROW_PID" ]; then
    while [ ! -s "$dir/4-fin-timeout/churn.json" ] && kill -0 "$ROW_PID" 2>/dev/null; do sleep 0.5; done
  fi
fi
for row in $LEVERS_ROWS; do
  [ "$row" = 4-fin-timeout ] && continue
  # Row 4 waits in the background: it does not take a slot.
  while (( $(busy_slots) >= LEVERS_PARALLEL )); do wait_one; done
  start_row "$row"
done
while [ ${#jobs[@]} -gt 0 ]; do
  [ "${jobs[*]}" = "row 4-fin-timeout" ] && echo "levers: waiting for row 4's TIME-WAIT to expire (at most ${LEVERS_TW_WAIT} s after its load)" >&2
  wait_one
done
[ $failed = 0 ] || die "a row failed; partial results in $dir"

cat > "$dir/meta.json" <<EOF
{
  "command": $(json_str "make run-levers LEVERS_RATE=$LEVERS_RATE LEVERS_DURATION=$LEVERS_DURATION${LEVERS_PORT_RANGE:+ LEVERS_PORT_RANGE=\"$LEVERS_PORT_RANGE\"} LEVERS_WIDE_RANGE=\"$LEVERS_WIDE_RANGE\" LEVERS_REUSE_DELAY=$LEVERS_REUSE_DELAY LEVERS_TW_BUCKETS=$LEVERS_TW_BUCKETS"),
  "knobs": {"LEVERS_RATE": $LEVERS_RATE, "LEVERS_DURATION": $LEVERS_DURATION, "LEVERS_PORT_RANGE": $(json_str "$LEVERS_PORT_RANGE"),
            "LEVERS_WIDE_RANGE": $(json_str "$LEVERS_WIDE_RANGE"), "LEVERS_REUSE_DELAY": $LEVERS_REUSE_DELAY,
            "LEVERS_TW_BUCKETS": $LEVERS_TW_BUCKETS, "LEVERS_TW_WAIT": $LEVERS_TW_WAIT, "LEVERS_LOSS_BYTES": $LEVERS_LOSS_BYTES,
            "LEVERS_CONNS": $LEVERS_CONNS},
$(meta_steal "$steal0")
$(meta_where "$started")
}
EOF

"$BIN/churn-report" levers "$dir" || die "churn-report levers failed; results in $dir"
(cd "$dir" && gnuplot levers.gp) || die "gnuplot levers.gp failed: no levers.svg"
if [ -z "${LEVERS_DIR:-}" ]; then
  ln -sfn "levers-$ts" results/latest-levers
  echo "levers: results in $dir (results/latest-levers)" >&2
else
  echo "levers: results in $dir" >&2
fi
