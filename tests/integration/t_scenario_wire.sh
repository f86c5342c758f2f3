#!/usr/bin/env bash
# t_scenario_wire: lab/scenario.sh captures a window of the run on the client host's interface and
# decodes it. Churn at 500 req/s for 3 s with a 2 s capture: the wire must show one handshake per
# request the client made in those seconds (500/s), and the excerpt must be one churn connection, SYN first.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
dir=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-wire-XXXXXX")
trap 'rm -rf "$dir"' EXIT

attempt() {
  rm -rf "${dir:?}"/*
  RATE=500 DURATION=3 PCAP_SECONDS=2 RUNID=${RUNID:-} "$ROOT/lab/scenario.sh" churn "$dir" > "$dir/log" 2>&1 ||
    fail "scenario.sh failed: $(tail -c 400 "$dir/log")"
  local w=$dir/churn.wire.json n
  # Exact, every attempt: churn reuses nothing, and the client always closes first.
  assert_eq "requests on reused connections (churn: none)" "$(json_get "$w" totals.reused_requests)" 0
  # A connection still open when the window ended has no close in the capture (a handful at 500/s),
  # so: none by the server, and all but those few by the client.
  assert_eq "closed first by the server" "$(json_get "$w" totals.closed_by_server)" 0
  n=$(json_get "$w" totals.connections)
  assert_between "closed first by the client (of $n, some still open as the window ended)" \
    "$(json_get "$w" totals.closed_by_client)" $((n - 5)) "$n"
  # The rate: the client's open-loop schedule puts every late request back on time, so over the 2 s
  # window the wire can differ from 500/s only by the handshakes a stall moves across the window's
  # edges: 500 x S for a stall of S s, i.e. +-25/s for 100 ms. A longer stall is the host's (re-measured).
  check_between "handshakes/s on the wire (offered 500/s)" "$(json_get "$w" totals.handshakes_per_s)" 475 525
}
timing_attempts 3 attempt

assert_eq "path" "$(json_get "$dir/churn.path.json" path)" veth
"$ROOT/build/bin/churn-pcap" annotate "$dir/churn.excerpt.pcap" --flow 0 > "$dir/annotate.txt" || fail "annotate failed"
grep -q "SYN: the client asks" "$dir/annotate.txt" || fail "excerpt does not start with the client's SYN: $(head -5 "$dir/annotate.txt")"
