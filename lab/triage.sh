# triage.sh: the runbook's first minutes (RUNBOOK.md §2), run on a lab host and written down as a timed
# transcript: what lab/incident.sh and lab/leak.sh show in RUNBOOK.md §5 and §7. Sourced.
# shellcheck shell=bash
#
#   triage_timed OUT HEADER WHEN CMD...   CMD's output (stdout and stderr, verbatim) into OUT under three
#                                         comment lines: what ran, WHEN (live, or right after), and the wall
#                                         time around it (`date +%s.%N` before and after). Prints the seconds.
#   triage_plain NS                       the plain commands RUNBOOK §2 lists, as written there, each run
#                                         with `ip netns exec NS sh -c '...'` and shown after a "$ " line.
#                                         An output longer than TRIAGE_MAX_LINES (default 12) is cut in the
#                                         transcript, saying how many lines were left out; the whole of it
#                                         goes to $TRIAGE_FULL when that is set.

triage_timed() {
  local out=$1 header=$2 when=$3 t0 t1; shift 3
  t0=$(date +%s.%N)
  "$@" > "$out.body" 2>&1
  t1=$(date +%s.%N)
  { echo "# $header"
    echo "# $when"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "# wall time: %.3f s (date +%%s.%%N before and after)\n", b - a }'
    echo
    cat "$out.body"; } > "$out"
  rm -f "$out.body"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

TRIAGE_COMMANDS=(
  "ss -s"
  "ss -Htan state time-wait | awk '{print \$4}' | sort | uniq -c | sort -rn | head"
  "ss -tanp state close-wait"
  "nstat -asz TcpActiveOpens TcpPassiveOpens TcpExtTW TcpExtTWRecycled TcpExtTCPTimeWaitOverflow"
  "sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse net.ipv4.tcp_tw_reuse_delay net.ipv4.tcp_max_tw_buckets"
)

triage_plain() {
  local ns=$1 c max=${TRIAGE_MAX_LINES:-12}
  [ -z "${TRIAGE_FULL:-}" ] || : > "$TRIAGE_FULL"
  for c in "${TRIAGE_COMMANDS[@]}"; do
    echo "\$ $c"
    # Run first, cut after: the time measured is the commands' own, and the full output is kept.
    ip netns exec "$ns" sh -c "$c" 2>&1 | tee -a "${TRIAGE_FULL:-/dev/null}" |
      awk -v max="$max" 'NR <= max - 2 { print; next } { n++; last = $0 }
        END { if (n == 1) print last; else if (n > 1) printf "[... %d more lines, left out of this transcript]\n", n }'
  done
}
