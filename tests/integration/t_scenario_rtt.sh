#!/usr/bin/env bash
# t_scenario_rtt: both scenarios over an emulated 10 ms path (lab/link.sh, churn-link here). The physics:
# a pooled request costs one round trip, a churn request two (handshake, then request).
#   Never faster than physics (exact: a link that delivers early is a bug, not noise): pooled p50 >= 1 RTT,
#   churn p50 >= 2 RTT, churn connect p50 >= 1 RTT.
#   Timing, soft (re-measured at most 3 times on a noisy host, with its steal printed): pooled p50 and
#   churn connect p50 below 1.5 RTT, churn p50 between 1.5 and 2.5 RTT, so the two are told apart by a
#   whole round trip whatever the host adds. Bounds leave room for two stacks and a userspace link on a
#   shared 2-CPU VM, not for a third round trip or a missing one.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
rtt_us=10000
work=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-rtt-XXXXXX")
trap 'rm -rf "$work"' EXIT

try_no=0
attempt() {
  try_no=$((try_no + 1))
  local dir=$work/$try_no s c p k
  mkdir -p "$dir"
  for s in churn pooled; do
    RTT=10ms RATE=100 DURATION=3 PCAP_SECONDS=1 "$ROOT/lab/scenario.sh" $s "$dir" > "$dir/$s.log" 2>&1 ||
      fail "scenario.sh $s failed: $(tail -c 400 "$dir/$s.log")"
  done
  assert_eq "path RTT configured (ms)" "$(json_get "$dir/churn.path.json" rtt_ms)" 10
  note "host steal over the links' runs: churn $(json_get "$dir/churn.link.json" host.steal_pct) %, pooled $(json_get "$dir/pooled.link.json" host.steal_pct) %"
  c=$(json_get "$dir/churn.json" latency_us.p50) p=$(json_get "$dir/pooled.json" latency_us.p50)
  k=$(json_get "$dir/churn.json" connect_us.p50)
  assert_ge "pooled latency p50 (us) >= 1 RTT" "$p" $rtt_us
  assert_ge "churn latency p50 (us) >= 2 RTT" "$c" $((2 * rtt_us))
  assert_ge "churn connect p50 (us) >= 1 RTT" "$k" $rtt_us
  check_le "pooled latency p50 (us) < 1.5 RTT" "$p" $((rtt_us * 3 / 2)) &&
    check_between "churn latency p50 (us) in 1.5-2.5 RTT" "$c" $((rtt_us * 3 / 2)) $((rtt_us * 5 / 2)) &&
    check_le "churn connect p50 (us) < 1.5 RTT" "$k" $((rtt_us * 3 / 2))
}
timing_attempts 3 attempt
