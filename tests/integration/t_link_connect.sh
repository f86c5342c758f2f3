#!/usr/bin/env bash
# t_link_connect: churn-client across churn-link. The lab's veth is replaced by the emulated link
# (lab/link.sh, 20 ms RTT: 10 ms each way, no loss, 100 Mbit/s); churn-server on the server host, a pool
# of 16 keep-alive connections for 2 s. A handshake is SYN -> SYN-ACK, one round trip, so the connect
# time p50 is never below the configured RTT, and (soft, re-measured on a noisy host) at most 10 % above
# it. A pooled request is one round trip too (<= 1.15 RTT, the issue's target, soft).
# Meanwhile tcpdump captures on the client's TUN device: DLT_RAW, and it sees the 16 SYNs.
source "$(dirname "$0")/lib.sh"
lab_start
source "$ROOT/lab/link.sh"
conns=16 rtt_ms=20
command -v tcpdump > /dev/null || skip "tcpdump is not installed (make deps-pcap)"

link_up --delay $((rtt_ms / 2)) --rate 100 --duration 60 || fail "link_up failed"
assert_eq "link mode (this kernel has no sch_netem)" "$LINK_MODE" churn-link
assert_eq "LINK_RTT_MS" "$LINK_RTT_MS" $rtt_ms
# The veth is gone: the only way from client to server is the link.
assert_eq "routes to the server on the client host" \
  "$(ip -n "$LAB_CLI" route get "$LAB_SRV_IP" | grep -o "dev [^ ]*")" "dev $LINK_DEV_CLI"

ip netns exec "$LAB_CLI" tcpdump -i "$LINK_DEV_CLI" -w "$LAB_TMP/tun.pcap" -U -s 128 \
  "tcp[tcpflags] & tcp-syn != 0" > "$LAB_TMP/tcpdump.log" 2>&1 &
dump=$!
for _ in $(seq 1 50); do grep -q "listening on" "$LAB_TMP/tcpdump.log" && break; sleep 0.1; done
# One measurement: the exact facts are asserted at once; the timing bounds (how much the stacks and a
# noisy host add on top of the RTT) are soft and re-measured at most 3 times.
attempts=0
attempt() {
  attempts=$((attempts + 1))
  start_server
  run_client --mode pool -c $conns -d 2
  stop_server
  local j=$LAB_TMP/client.json p50 req
  p50=$(json_get "$j" connect_us.p50) req=$(json_get "$j" latency_us.p50)
  note "connect time p50 ${p50} us, p90 $(json_get "$j" connect_us.p90) us; request p50 $req us over a ${rtt_ms} ms RTT"
  assert_eq "handshakes" "$(json_get "$j" handshakes)" $conns
  assert_eq "errors" "$(json_get "$j" errors)" "{}"
  # Physics: a handshake (SYN -> SYN-ACK) and a pooled request each take at least one RTT through the
  # link, whatever the host does; faster means the link delivered early, a bug.
  assert_ge "connect time p50 (us) >= RTT ${rtt_ms} ms" "$p50" $((rtt_ms * 1000 - 300))
  assert_ge "pooled request p50 (us) >= 1 RTT" "$req" $((rtt_ms * 1000))
  # A TCP connect is one RTT plus both stacks' own work and the client's connect() call; the link alone
  # is held to +-2 % by make link-check. Here: at most 10 % over the RTT, a pooled request 1.15 RTT.
  check_le "connect time p50 (us) <= 1.10 RTT" "$p50" $((rtt_ms * 1100)) &&
    check_le "pooled request p50 (us) <= 1.15 RTT" "$req" $((rtt_ms * 1150))
}
timing_attempts 3 attempt
sleep 0.3
kill -INT $dump; wait $dump 2> /dev/null
link_down

# The capture: raw IP (no link-layer header on a TUN device), and every SYN and SYN-ACK of the run.
head=$(tcpdump -r "$LAB_TMP/tun.pcap" -c 1 2>&1 | head -1)
note "pcap: $head"
[[ $head == *"link-type RAW"* ]] || fail "capture on $LINK_DEV_CLI: expected link-type RAW (DLT_RAW), got: $head"
syns=$(tcpdump -nr "$LAB_TMP/tun.pcap" "tcp[tcpflags] == tcp-syn" 2> /dev/null | wc -l)
assert_eq "SYNs captured on $LINK_DEV_CLI ($attempts measurement(s))" "$syns" $((conns * attempts))
# And the link counted them: nothing lost, every packet it read has a fate, and the kernels around it
# dropped nothing (TUN rings, per-CPU backlog).
assert_eq "link A->B dropped (loss + queue)" \
  "$(( $(link_json_get "$LINK_JSON" ab.dropped_loss) + $(link_json_get "$LINK_JSON" ab.dropped_queue) ))" 0
assert_eq "link A->B unaccounted packets" "$(link_json_get "$LINK_JSON" ab.unaccounted)" 0
assert_eq "link B->A unaccounted packets" "$(link_json_get "$LINK_JSON" ba.unaccounted)" 0
assert_eq "TUN tx_dropped, client side" "$(link_json_get "$LINK_KERNEL_JSON" cli.dev.tx_dropped)" 0
note "host steal over the link's run: $(link_json_get "$LINK_JSON" host.steal_pct) %"
assert_gt "link A->B packets delivered" "$(link_json_get "$LINK_JSON" ab.delivered_packets)" 0
