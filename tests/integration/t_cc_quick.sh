#!/usr/bin/env bash
# t_cc_quick: make run-cc in small. lab/cc.sh with 5 s runs of CUBIC and BBR over churn-link at
# 20 Mbit/s, 20 ms RTT, 2 % loss (no 0 % baseline), into a temp dir: each run in its own lab, with the
# RUNID run.sh gave us, so a leftover namespace or process is still caught.
# Asserted, per run (exact or physics, never re-measured): the kernel confirmed the algorithm asked for
# (TCP_CONGESTION read back); goodput never above the configured rate (payload can't outrun the link); the
# link dropped 2 % ± 0.5 point of the data it read, every packet it read has a fate; the sender's
# retransmits agree with the link's drops: at least 80 % of the data segments the link dropped (each must
# be resent, except a few still in flight when the run ends) and at most 2x them + 20 (a few spurious
# ones after an RTO or a reordering guess).
# Across runs, soft (re-measured once on a noisy host): BBR's goodput at least 2x CUBIC's (Mathis puts a
# loss-based sender near 5 Mbit/s here; BBR keeps near the link's 20) and at least half the link.
# cc.json, cc.md (with the host's steal per run) and both plots written.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
command -v gnuplot > /dev/null || skip "gnuplot is not installed (make deps-lab)"
[ -x "$BIN/churn-link" ] && [ -x "$BIN/churn-report" ] || fail "churn-link or churn-report is not built"
loss=2 rate=20
work=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-cc-XXXXXX")
trap 'rm -rf "$work"' EXIT

# In the background and waited for: a TERM from run.sh's watchdog reaches cc.sh (same process group),
# whose own trap tears its lab down.
try_no=0
attempt() {
  try_no=$((try_no + 1))
  out=$work/$try_no
  mkdir -p "$out"
  CC_DIR=$out CC_SECONDS=5 CC_RATE=$rate CC_RTT=20 CC_LOSS=$loss CC_BASELINE=0 CC_ALGOS="cubic bbr" \
    "$ROOT/lab/cc.sh" > "$out/cc.out" 2>&1 &
  wait $! || fail "lab/cc.sh failed: $(tail -c 400 "$out/cc.out")"
  grep '^cc: run' "$out/cc.out" | sed 's/^/  /' >&2
  local cc j l measured drops retrans
  for cc in cubic bbr; do
    j=$out/$cc-loss$loss.client.json l=$out/$cc-loss$loss.link.json
    assert_eq "$cc: congestion control the kernel confirmed" "$(json_get "$j" cc)" $cc
    assert_le "$cc: goodput (Mbit/s) <= link rate" "$(json_get "$j" goodput_mbps)" $rate
    assert_gt "$cc: goodput (Mbit/s)" "$(json_get "$j" goodput_mbps)" 0
    measured=$(awk -v d="$(json_get "$l" ab.dropped_loss)" -v n="$(json_get "$l" ab.packets_in)" 'BEGIN { printf "%.3f", 100 * d / n }')
    assert_between "$cc: loss drawn on the link (%)" "$measured" 1.5 2.5
    assert_eq "$cc: link packets with no fate (A->B)" "$(json_get "$l" ab.unaccounted)" 0
    drops=$(( $(json_get "$l" ab.dropped_loss) + $(json_get "$l" ab.dropped_queue) ))
    retrans=$(json_get "$j" retrans)
    assert_ge "$cc: retransmits vs the link's $drops data drops (>= 80 %)" "$retrans" $((drops * 8 / 10))
    assert_le "$cc: retransmits vs the link's $drops data drops (<= 2x + 20)" "$retrans" $((drops * 2 + 20))
  done
  g_cubic=$(json_get "$out/cubic-loss$loss.client.json" goodput_mbps)
  g_bbr=$(json_get "$out/bbr-loss$loss.client.json" goodput_mbps)
  check_ge "bbr goodput (Mbit/s) >= 2 x cubic's ($g_cubic)" "$g_bbr" "$(awk -v c="$g_cubic" 'BEGIN { print 2 * c }')" &&
    check_ge "bbr goodput (Mbit/s) >= half the link" "$g_bbr" $((rate / 2))
}
timing_attempts 2 attempt

# The report: cc.json agrees with the client JSONs, and the files of make run-cc are all there.
assert_eq "cc.json runs" "$(json_len "$out/cc.json" runs)" 2
assert_eq "cc.json runs.0.cc" "$(json_get "$out/cc.json" runs.0.cc)" cubic
assert_eq "cc.json runs.1.goodput_mbps" "$(json_get "$out/cc.json" runs.1.goodput_mbps)" "$g_bbr"
assert_gt "cc.json runs.1.mathis_mbps (set at $loss % loss)" "$(json_get "$out/cc.json" runs.1.mathis_mbps)" 0
json_get "$out/cc.json" runs.1.host_steal_pct > /dev/null || fail "cc.json has no host_steal_pct"
grep -q '| host steal |' "$out/cc.md" || fail "cc.md has no host steal column"
json_get "$out/meta.json" host_steal.pct > /dev/null || fail "meta.json has no host_steal"
for f in cc.md cwnd.svg throughput.svg; do [ -s "$out/$f" ] || fail "$f missing or empty in $out"; done
grep -q '<svg' "$out/cwnd.svg" || fail "cwnd.svg is not an SVG"
exit 0
