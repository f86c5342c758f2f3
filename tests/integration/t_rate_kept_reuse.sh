#!/usr/bin/env bash
# t_rate_kept_reuse: 1000 ports and tcp_tw_reuse=1 (inside the lab only), churn at 1500 req/s for 4 s.
# The range is used up after 0.67 s: EADDRNOTAVAIL. But with reuse on, connect() may take a port whose
# TIME-WAIT is older than tcp_tw_reuse_delay (1000 ms) and has TCP timestamps, so ports come back from
# 1 s on, and the client, which kept every failed request on its schedule, keeps going: every second after
# the first has requests. The kernel counts each reuse in TcpExtTWRecycled.
source "$(dirname "$0")/lib.sh"
export PORT_RANGE="40000 40999" TW_REUSE=1
lab_start
rate=1500 dur=4

assert_eq "client tcp_tw_reuse" "$(ns_sysctl "$LAB_CLI" net.ipv4.tcp_tw_reuse)" 1
# The delay the model assumes (a kernel before 6.12 has no sysctl and a fixed 1 s).
delay=1000
[ -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ] && delay=$(ns_sysctl "$LAB_CLI" net.ipv4.tcp_tw_reuse_delay)
assert_eq "client tcp_tw_reuse_delay (ms)" "$delay" 1000
attempt() {
  [ "$TIMING_ATTEMPT" -eq 1 ] || lab_restart   # the attempt before left its ports in TIME-WAIT
  local recycled opens j hs i
  start_server
  run_client --mode churn -R $rate -d $dur
  recycled=$(nstat_get "$LAB_CLI" TcpExtTWRecycled)
  opens=$(nstat_get "$LAB_CLI" TcpActiveOpens)
  stop_server

  j=$LAB_TMP/client.json
  hs=$(json_get "$j" handshakes)
  # Exact, every attempt.
  assert_eq "requests_scheduled ($rate/s x $dur s: the whole run happened)" "$(json_get "$j" requests_scheduled)" $((rate * dur))
  assert_gt "errors.EADDRNOTAVAIL (1000 ports at $rate/s last 0.67 s)" "$(json_num "$j" errors.EADDRNOTAVAIL 0)" 0
  assert_eq "timeline seconds" "$(json_len "$j" timeline)" $dur
  assert_gt "handshakes (more than the 1000 ports: reused)" "$hs" 1000
  assert_gt "client TcpExtTWRecycled (nstat)" "$recycled" 0
  # Every connection beyond the first 1000 must have taken a recycled TIME-WAIT port.
  assert_eq "client TcpExtTWRecycled vs TcpActiveOpens - 1000 ports" "$recycled" $((opens - 1000))
  # The 1001st connect is scheduled at 1000/$rate = 0.667 s and the schedule never sends early: never
  # before (0.666, the printed rounding). Later only by a host stall: 330 ms of that is the host's.
  local first; first=$(json_get "$j" first_error_s.EADDRNOTAVAIL)
  assert_ge "first_error_s.EADDRNOTAVAIL (never before 1000/$rate = 0.667 s)" "$first" 0.666
  check_le "first_error_s.EADDRNOTAVAIL (model 1000/$rate = 0.67 s, + a host stall)" "$first" 1.0 || return 1
  # From second 2 on, each port comes back once per tcp_tw_reuse_delay: 1000 ports / 1 s = 1000 req/s,
  # below the 1500 offered, and never 0 (measured: exactly 1000 in each of seconds 2-4). The ceiling
  # (1010) is the ports' own; a second falls short of 1000 only by what a host stall of S s moves into
  # the next one (1000 x S: 100 for 100 ms), and that next second may then go over: both the host's.
  for i in $(seq 1 $((dur - 1))); do
    check_between "timeline second $((i + 1)) requests (ports back after tcp_tw_reuse_delay: 1000/s)" \
      "$(json_get "$j" timeline.$i.requests)" 900 1010 || return 1
  done
}
timing_attempts 3 attempt
