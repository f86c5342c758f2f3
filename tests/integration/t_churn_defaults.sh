#!/usr/bin/env bash
# t_churn_defaults: kernel defaults (28 232 ports, tcp_tw_reuse=2), churn at 3000 req/s for 11 s.
#
# The naive model says the ports run out at 28 232 / 3000 = 9.41 s. This kernel says otherwise, and this
# test asserts what the kernel does (measured here, 2 cores, kernel 6.18):
#   - connect() takes ports of one parity first (__inet_hash_connect: "In first pass we try ports of @low
#     parity"). That half, 14 116 ports, goes at the offered rate: 3000 connects in each of seconds 1-4.
#   - Once that half is in TIME-WAIT, every connect() first walks the whole used half, then finds a port
#     of the other parity: ~2 ms of system CPU per connect, ~330-540 connects/s, far below 3000/s.
#   - So EADDRNOTAVAIL comes at ~36 s, not 9.41 s (measured: 36.2 s, all 28 232 ports used, 47 s run).
# CHURN_DEFAULTS_LONG=1 runs 45 s instead and asserts the exhaustion itself: exactly 28 232 connections,
# then EADDRNOTAVAIL. Off by default: it costs ~30 s of system CPU on a shared 2-core machine.
source "$(dirname "$0")/lib.sh"
unset PORT_RANGE TW_REUSE TW_REUSE_DELAY   # the kernel's own defaults for a fresh namespace
lab_start
rate=3000 conns=32
long=${CHURN_DEFAULTS_LONG:-0}
[ "$long" = 1 ] && dur=45 || dur=11

assert_eq "client ip_local_port_range (default)" "$(ns_sysctl "$LAB_CLI" net.ipv4.ip_local_port_range)" "32768 60999"
assert_eq "client tcp_tw_reuse (default)" "$(ns_sysctl "$LAB_CLI" net.ipv4.tcp_tw_reuse)" 2
ports=28232 half=14116

attempt() {
  [ "$TIMING_ATTEMPT" -eq 1 ] || lab_restart   # the attempt before left 14 000+ ports in TIME-WAIT
  local tw_cli tw_srv tw_even opens j hs eaddr i
  start_server
  run_client --mode churn -R $rate -d $dur -c $conns
  tw_cli=$(tw_count "$LAB_CLI") tw_srv=$(tw_count "$LAB_SRV")
  # By parity: the kernel fills the even half (the parity of 32768) before it takes any odd port.
  tw_even=$(tw_ports "$LAB_CLI" | awk '$1 % 2 == 0' | wc -l)
  opens=$(nstat_get "$LAB_CLI" TcpActiveOpens)
  stop_server

  j=$LAB_TMP/client.json
  hs=$(json_get "$j" handshakes)
  eaddr=$(json_num "$j" errors.EADDRNOTAVAIL 0)
  assert_eq "requests_scheduled ($rate/s x $dur s: the whole run happened)" "$(json_get "$j" requests_scheduled)" $((rate * dur))
  assert_eq "ports_in_range in client JSON" "$(json_get "$j" ports_in_range)" $ports
  # After the half is used (4.7 s in): connect() walks it on every call. Seconds 7 to 11 stay below half the
  # offered rate (measured 323-577/s here; a machine 3x faster would still be under 1500).
  for i in 6 7 8 9 10; do
    assert_le "timeline second $((i + 1)) connects (first parity half in TIME-WAIT, slow connect())" \
      "$(json_get "$j" timeline.$i.connects)" $((rate / 2))
  done
  assert_ge "handshakes (at least the first-parity half)" "$hs" $half
  assert_le "handshakes (at most the range)" "$hs" $ports
  # One request per connection; the client gives up on those still waiting for their answer when the drain
  # after the run ends (it keeps connecting the backlog until then), at most -c of them.
  assert_between "requests_ok vs handshakes $hs (1 request per connection)" "$(json_get "$j" requests_ok)" $((hs - conns)) "$hs"
  # The kernel counts every SYN it sent; the client counts handshakes it saw complete. At the end it abandons
  # what is in flight, at most -c connections, so the two differ by at most that.
  assert_between "client TcpActiveOpens (nstat) vs handshakes $hs" "$opens" "$hs" $((hs + conns))
  # Every connection the client closed after its response is in TIME-WAIT. The ones it abandoned at the end
  # (at most -c) may have had a response queued unread, and close() with unread bytes sends RST: no
  # TIME-WAIT for those.
  assert_between "client-host TIME-WAIT (ss) vs handshakes $hs and TcpActiveOpens $opens" "$tw_cli" $((hs - conns)) "$opens"
  assert_le "server-host TIME-WAIT (ss)" "$tw_srv" 5
  # The parity rule, seen in the kernel's own sockets: every even port of the range is in TIME-WAIT (all
  # 14 116 of them, none left over), and only the rest of the connections got odd ports.
  assert_eq "client-host TIME-WAIT on even ports (ss; parity of 32768 first)" "$tw_even" $half
  if [ "$long" = 1 ]; then
    assert_gt "errors.EADDRNOTAVAIL (45 s run)" "$eaddr" 0
    assert_eq "TcpActiveOpens when EADDRNOTAVAIL came (every port used)" "$opens" $ports
    assert_eq "client-host TIME-WAIT when EADDRNOTAVAIL came" "$tw_cli" $ports
    note "first EADDRNOTAVAIL at $(json_get "$j" first_error_s.EADDRNOTAVAIL) s (naive model 9.41 s)"
  else
    # Not the 9.41 s the naive model predicts: the port search slows down first.
    assert_eq "errors.EADDRNOTAVAIL within ${dur} s (model: 9.41 s; this kernel: ~36 s)" "$eaddr" 0
    assert_ge "requests_unfinished (fell behind: port search slow)" "$(json_get "$j" requests_unfinished)" 1
  fi
  # The first-parity half: seconds 1-4 (12 000 connects < 14 116) keep the offered rate. The open-loop
  # schedule puts late connects back on time, so a second can differ from 3000 only by what a host stall
  # of S s moves into the next one (3000 x S): +-10 % for 100 ms. Longer stalls are the host's (re-measured).
  for i in 0 1 2 3; do
    check_between "timeline second $((i + 1)) connects (offered $rate/s, ports free)" \
      "$(json_get "$j" timeline.$i.connects)" $((rate * 9 / 10)) $((rate * 11 / 10)) || return 1
  done
}
timing_attempts 3 attempt
