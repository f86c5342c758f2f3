#!/usr/bin/env bash
# test-timeout: 300
# t_levers_short: make run-levers in small. lab/levers.sh with a 1000-port range for every row (2500 for
# the wider one), 500 requests/s for 7 s per row, row 3b's tcp_tw_reuse_delay at 4000 ms (1000 ports ÷
# 4 s = 250/s, below the rate), into a temp dir. Row 4's lab watches its TIME-WAIT expire beside the others.
# Asserted from levers.json (what churn-report levers computed from each row's files), per the issue:
#   2 wider range: fails later than the baseline, and carried more connections than one 1000-port range
#   3a tw_reuse at 500/s (below 1000 ports ÷ 1 s): no EADDRNOTAVAIL, and ports were taken over (TWRecycled)
#   3b tw_reuse at 500/s above 1000 ÷ 4 s: EADDRNOTAVAIL
#   4 tcp_fin_timeout=10: the batch's TIME-WAIT lived about 60 s (soft: 55 to 66 s, host noise delays samples)
#   6 --linger0: no TIME-WAIT on the client host, RSTs sent by it and counted as resets by the server;
#     the bulk --bytes 4 MiB --linger0 case wrote all 4 MiB and the server got less
#   8 two source addresses: more connections than one range allows, first EADDRNOTAVAIL later than baseline
#   9 the pool (and 10, with its profile, when it ran): no EADDRNOTAVAIL
# A row its tools are missing for (another branch) is "not run: needs X" in the report and skipped here,
# said so. LEVERS_SHORT_DIR=DIR checks an existing run instead of running one (to show that a broken
# property fails: doctor a copy of a run's files, re-run churn-report levers on it, point this at it).
source "$(dirname "$0")/lib.sh"
need_root
need_bins
command -v gnuplot > /dev/null || skip "gnuplot is not installed (make deps-lab)"
[ -x "$BIN/churn-report" ] && [ -x "$BIN/churn-probe" ] || fail "churn-report or churn-probe is not built"

if [ -n "${LEVERS_SHORT_DIR:-}" ]; then
  dir=$LEVERS_SHORT_DIR
else
  work=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-levers-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  dir=$work/levers
  # In the background and waited for: run.sh's watchdog TERM reaches levers.sh, which passes it on.
  LEVERS_DIR=$dir LEVERS_PORT_RANGE="40000 40999" LEVERS_WIDE_RANGE="40000 42499" LEVERS_RATE=500 LEVERS_DURATION=7 \
    LEVERS_REUSE_DELAY=4000 LEVERS_TW_BUCKETS=200 LEVERS_TW_WAIT=75 LEVERS_CONNS=8 LEVERS_PARALLEL=2 BIN=$BIN \
    "$ROOT/lab/levers.sh" > "$work/levers.out" 2>&1 &
  wait $! || fail "lab/levers.sh failed: $(tail -c 600 "$work/levers.out")"
  grep '^levers: row' "$work/levers.out" | sed 's/^/  /' >&2
fi
j=$dir/levers.json
[ -s "$j" ] || fail "no levers.json in $dir"
[ -s "$dir/levers.md" ] && [ -s "$dir/levers.svg" ] || fail "levers.md or levers.svg missing in $dir"

# row ID KEY: the value of KEY in row ID's object of levers.json.
flat=$(json_flat "$j")
row() {
  awk -F'\t' -v id="$1" -v k="$2" '
    $1 ~ /^rows\.[0-9]+\.id$/ && $2 == id { split($1, p, "."); want = "rows." p[2] "." k }
    { v[$1] = $2 } END { if (want in v) print v[want] }' <<< "$flat"
}
ran() {  # ROW: 0 if it ran; otherwise say why not and return 1
  local s; s=$(row "$1" status)
  [ "$s" = ran ] && return 0
  note "row $1: ${s:-absent}: its properties are not checked"
  return 1
}

assert_eq "rows in levers.json" "$(json_len "$j" rows)" 11
ran 1-baseline || fail "the baseline row did not run"
base_first=$(row 1-baseline first_eaddrnotavail_s) base_hs=$(row 1-baseline handshakes)
assert_gt "1-baseline: EADDRNOTAVAIL" "$(row 1-baseline eaddrnotavail)" 0
assert_le "1-baseline: handshakes (at most one range of 1000 ports)" "$base_hs" 1000

if ran 2-wide-range; then
  assert_gt "2-wide-range: first EADDRNOTAVAIL (s) later than the baseline's ($base_first)" "$(row 2-wide-range first_eaddrnotavail_s)" "$base_first"
  assert_gt "2-wide-range: handshakes, more than one 1000-port range" "$(row 2-wide-range handshakes)" 1000
fi
if ran 3a-tw-reuse-under; then
  assert_eq "3a-tw-reuse-under: EADDRNOTAVAIL (500/s below 1000 ports / 1 s)" "$(row 3a-tw-reuse-under eaddrnotavail)" 0
  assert_gt "3a-tw-reuse-under: TcpExtTWRecycled" "$(row 3a-tw-reuse-under TcpExtTWRecycled)" 0
fi
if ran 3b-tw-reuse-over; then
  assert_gt "3b-tw-reuse-over: EADDRNOTAVAIL (500/s above 1000 ports / 4 s)" "$(row 3b-tw-reuse-over eaddrnotavail)" 0
fi
if ran 4-fin-timeout; then
  assert_eq "4-fin-timeout: tcp_fin_timeout in the lab" "$(row 4-fin-timeout tcp_fin_timeout_s)" 10
  lifetime() {
    check_between "4-fin-timeout: TIME-WAIT lifetime, first created to first expired (s)" \
      "$(row 4-fin-timeout tw_lifetime.first_lifetime_s)" 55 66 &&
    check_between "4-fin-timeout: TIME-WAIT lifetime, last created to none left (s)" \
      "$(row 4-fin-timeout tw_lifetime.last_lifetime_s)" 55 66
  }
  # One attempt: the run is over; a miss prints the host's steal and CPU pressure beside it.
  timing_attempts 1 lifetime
fi
if ran 6-linger0; then
  assert_eq "6-linger0: client TIME-WAIT peak" "$(row 6-linger0 tw_peak_client)" 0
  assert_gt "6-linger0: RSTs sent by the client (TcpOutRsts)" "$(row 6-linger0 TcpOutRsts_client)" 0
  assert_gt "6-linger0: resets counted by the server (TcpEstabResets)" "$(row 6-linger0 TcpEstabResets_server)" 0
  assert_eq "6-linger0: EADDRNOTAVAIL" "$(row 6-linger0 eaddrnotavail)" 0
  # The data-loss case (bulk --bytes 4 MiB --linger0 over a 100 Mbit/s bottleneck): the RST destroys data.
  if [ -n "$(row 6-linger0 linger0_loss.bytes_written)" ]; then
    assert_eq "6-linger0 bulk: bytes_written" "$(row 6-linger0 linger0_loss.bytes_written)" 4194304
    assert_gt "6-linger0 bulk: bytes lost (written - delivered)" "$(row 6-linger0 linger0_loss.bytes_lost)" 0
  else
    note "row 6's data-loss case did not run: $(row 6-linger0 linger0_loss_not_run)"
  fi
fi
if ran 8-two-sources; then
  assert_eq "8-two-sources: source addresses" "$(row 8-two-sources sources)" 2
  assert_gt "8-two-sources: handshakes, more than one 1000-port range" "$(row 8-two-sources handshakes)" 1000
  assert_gt "8-two-sources: first EADDRNOTAVAIL (s) later than the baseline's ($base_first)" "$(row 8-two-sources first_eaddrnotavail_s)" "$base_first"
fi
for p in 9-pool 10-pool-profile; do
  ran $p && assert_eq "$p: EADDRNOTAVAIL" "$(row $p eaddrnotavail)" 0
done
grep -q '^| 1-baseline ' "$dir/levers.md" || fail "levers.md has no 1-baseline row"
echo "levers: $(grep -c '"status": "ran"' "$j") of 11 rows ran" > "$TEST_RESULT"
exit 0
