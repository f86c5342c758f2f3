#!/usr/bin/env bash
# t_scenario_rtt: both scenarios over an emulated 10 ms path (lab/link.sh, churn-link here). A pooled
# request costs one round trip; a churn request two (handshake, then request). Bounds leave room for
# the two stacks and the userspace link on a shared 2-CPU machine, but not for a third round trip.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
dir=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-rtt-XXXXXX")
trap 'rm -rf "$dir"' EXIT
for s in churn pooled; do
  RTT=10ms RATE=100 DURATION=3 PCAP_SECONDS=1 "$ROOT/lab/scenario.sh" $s "$dir" > "$dir/$s.log" 2>&1 ||
    fail "scenario.sh $s failed: $(tail -c 400 "$dir/$s.log")"
done
rtt=$(json_get "$dir/churn.path.json" rtt_ms)
assert_between "path RTT (ms)" "$rtt" 9.99 10.01
c=$(json_get "$dir/churn.json" latency_us.p50) p=$(json_get "$dir/pooled.json" latency_us.p50)
assert_between "churn latency p50 (us), 2 RTT = 20000" "$c" 20000 21500
assert_between "pooled latency p50 (us), 1 RTT = 10000" "$p" 10000 11000
assert_between "churn connect p50 (us), 1 RTT" "$(json_get "$dir/churn.json" connect_us.p50)" 10000 10800
