#!/usr/bin/env bash
# t_cc_quick: make run-cc in small. lab/cc.sh with 5 s runs of CUBIC and BBR over churn-link at
# 20 Mbit/s, 20 ms RTT, 2 % loss (no 0 % baseline), into a temp dir: each run in its own lab, with the
# RUNID run.sh gave us, so a leftover namespace or process is still caught.
# Asserted, per run: the kernel confirmed the algorithm asked for (TCP_CONGESTION read back), goodput
# > 0, the sender retransmitted (at 2 % loss it must), the link dropped 2 % ± 1 point of the data.
# Across runs: BBR's goodput above CUBIC's; cc.json, cc.md and both plots written.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
command -v gnuplot > /dev/null || skip "gnuplot is not installed (make deps-lab)"
[ -x "$BIN/churn-link" ] && [ -x "$BIN/churn-report" ] || fail "churn-link or churn-report is not built"
loss=2
out=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-cc-XXXXXX")
trap 'rm -rf "$out"' EXIT

# In the background and waited for: a TERM from run.sh's watchdog reaches cc.sh (same process group),
# whose own trap tears its lab down.
CC_DIR=$out CC_SECONDS=5 CC_RATE=20 CC_RTT=20 CC_LOSS=$loss CC_BASELINE=0 CC_ALGOS="cubic bbr" \
  "$ROOT/lab/cc.sh" > "$out/cc.out" 2>&1 &
wait $! || fail "lab/cc.sh failed: $(tail -c 400 "$out/cc.out")"
grep '^cc: run' "$out/cc.out" | sed 's/^/  /' >&2

for cc in cubic bbr; do
  j=$out/$cc-loss$loss.client.json
  assert_eq "$cc: congestion control the kernel confirmed" "$(json_get "$j" cc)" $cc
  assert_gt "$cc: goodput (Mbit/s)" "$(json_get "$j" goodput_mbps)" 0
  assert_gt "$cc: sender's total retransmits at $loss % loss" "$(json_get "$j" retrans)" 0
  l=$out/$cc-loss$loss.link.json
  measured=$(awk -v d="$(json_get "$l" ab.dropped_loss)" -v n="$(json_get "$l" ab.packets_in)" 'BEGIN { printf "%.3f", 100 * d / n }')
  assert_between "$cc: loss measured on the link (%)" "$measured" $((loss - 1)) $((loss + 1))
done
g_cubic=$(json_get "$out/cubic-loss$loss.client.json" goodput_mbps)
g_bbr=$(json_get "$out/bbr-loss$loss.client.json" goodput_mbps)
assert_gt "bbr goodput (Mbit/s) > cubic's ($g_cubic)" "$g_bbr" "$g_cubic"

# The report: cc.json agrees with the client JSONs, and the files of make run-cc are all there.
assert_eq "cc.json runs" "$(json_len "$out/cc.json" runs)" 2
assert_eq "cc.json runs.0.cc" "$(json_get "$out/cc.json" runs.0.cc)" cubic
assert_eq "cc.json runs.1.goodput_mbps" "$(json_get "$out/cc.json" runs.1.goodput_mbps)" "$g_bbr"
assert_gt "cc.json runs.1.mathis_mbps (set at $loss % loss)" "$(json_get "$out/cc.json" runs.1.mathis_mbps)" 0
for f in cc.md cwnd.svg throughput.svg; do [ -s "$out/$f" ] || fail "$f missing or empty in $out"; done
grep -q '<svg' "$out/cwnd.svg" || fail "cwnd.svg is not an SVG"
exit 0
