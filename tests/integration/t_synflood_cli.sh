#!/usr/bin/env bash
# t_synflood_cli: churn-synflood refuses what it must, with one line on stderr and exit 2, and sends
# nothing when it does: a target outside 198.18.0.0/15, a --spoof range outside it (or too wide, too
# narrow, holding the target), bad numbers, the host's namespace (it has a default route) and a lab
# namespace once the test gives it one. Then one small real flood in the lab: 200 SYNs reach a listener
# whose host routes 198.19.0.0/16 back into the lab; its counters see every one (cookies with
# tcp_syncookies=2; SYN-RECV sockets plus cookies with =1), none is dropped for a bad checksum, the client
# host drops every SYN-ACK (IpInAddrErrors, no RST), and
# tcpdump, decoding captured flood packets, calls both checksums correct. SIGTERM ends a run early, JSON
# written. (The IPv4 header checksum on the wire is the kernel's: it rewrites it for a raw socket. The
# builder's own is held to captured packets by tests/unit/test_synflood_packet.cc; the TCP one is ours alone,
# and TcpInCsumErrors and tcpdump below are what catch it.)
#
# Safety: the one run in the host's namespace carries --json /nonexistent-dir/x.json, which fails (exit 2)
# before the raw socket exists: even a broken guard sends nothing from the host.
source "$(dirname "$0")/lib.sh"
FLOOD=$BIN/churn-synflood
lab_start
[ -x "$FLOOD" ] || fail "$FLOOD is not built (make build/bin/churn-synflood)"
command -v tcpdump > /dev/null || skip "tcpdump is not installed (make deps-pcap)"
T=$LAB_SRV_IP:$PORT
OK=(--target "$T" --spoof 198.19.0.0/16)

# IPv4 packets the server host has received (IpInReceives counts every one, before routing, rp_filter or
# TCP look at it): a refused run must leave it as it was.
ip_in() { snmp_get "$LAB_SRV" Ip InReceives; }

# expect_refusal WHAT WANT ARGS...: in the client namespace, exit 2, one stderr line containing WANT,
# nothing on stdout.
expect_refusal() {
  local what=$1 want=$2
  shift 2
  timeout 10 ip netns exec "$LAB_CLI" "$FLOOD" "$@" > "$LAB_TMP/out" 2> "$LAB_TMP/err"
  local rc=$?
  note "$what: exit $rc: $(cat "$LAB_TMP/err")"
  assert_eq "$what: exit status" "$rc" 2
  assert_eq "$what: stderr lines" "$(wc -l < "$LAB_TMP/err")" 1
  grep -qF -- "$want" "$LAB_TMP/err" || fail "$what: stderr '$(cat "$LAB_TMP/err")' does not say '$want'"
  [ ! -s "$LAB_TMP/out" ] || fail "$what: printed on stdout: $(cat "$LAB_TMP/out")"
}

in0=$(ip_in)
expect_refusal "target outside the lab" "--target: 10.1.2.3 is outside the lab range 198.18.0.0/15" \
  --target 10.1.2.3:80 --spoof 198.19.0.0/16 --count 5
expect_refusal "target just below the lab" "--target: 198.17.255.254 is outside the lab range" \
  --target 198.17.255.254:80 --spoof 198.19.0.0/16 --count 5
expect_refusal "spoof outside the lab" "--spoof: 10.0.0.0/16 is not inside the lab range 198.18.0.0/15" \
  --target "$T" --spoof 10.0.0.0/16 --count 5
expect_refusal "spoof straddling the lab's edge" "--spoof: 198.16.0.0/14 is not inside the lab range" \
  --target "$T" --spoof 198.16.0.0/14 --count 5
expect_refusal "spoof wider than /16" "--spoof: 198.18.0.0/15 is wider than /16" --target "$T" --spoof 198.18.0.0/15 --count 5
expect_refusal "spoof narrower than /30" "--spoof: 198.19.0.0/31 is narrower than /30" --target "$T" --spoof 198.19.0.0/31 --count 5
expect_refusal "spoof holding the target" "--spoof: 198.18.0.0/24 contains the target 198.18.0.2" \
  --target "$T" --spoof 198.18.0.0/24 --count 5
expect_refusal "spoof with host bits" "--spoof: '198.19.0.1/16' has host bits set" --target "$T" --spoof 198.19.0.1/16 --count 5
expect_refusal "port 0" "--target: port '0' is not 1-65535" --target "$LAB_SRV_IP:0" --spoof 198.19.0.0/16 --count 5
for opt in --rate --count --duration --seed; do
  for v in nan inf -inf -1 1e999 abc ""; do
    expect_refusal "$opt '$v'" "churn-synflood: $opt:" "${OK[@]}" --count 5 "$opt" "$v"
  done
done
expect_refusal "rate above 1e6" "--rate: must be between 1 and 1e+06, got 2000000" "${OK[@]}" --rate 2000000
expect_refusal "duration above 600 s" "--duration: must be between 0.001 and 600, got 600.5" "${OK[@]}" --duration 600.5
expect_refusal "count 0" "--count: must be between 1 and" "${OK[@]}" --count 0
expect_refusal "count not whole" "--count: '2.5' is not a whole number" "${OK[@]}" --count 2.5
expect_refusal "syn options" "--syn-options: all not in {mss,none,linux}" "${OK[@]}" --syn-options all
expect_refusal "json dir missing" "cannot write --json /nonexistent-dir/x.json" "${OK[@]}" --count 5 --json /nonexistent-dir/x.json

# The host's namespace has a default route (this test runs where the project's VMs do: say so if not).
if ip route show default | grep -q .; then
  timeout 10 "$FLOOD" "${OK[@]}" --count 1 --json /nonexistent-dir/x.json > "$LAB_TMP/out" 2> "$LAB_TMP/err"
  rc=$?
  note "host namespace: exit $rc: $(cat "$LAB_TMP/err")"
  assert_eq "host namespace: exit status" "$rc" 2
  assert_eq "host namespace: stderr lines" "$(wc -l < "$LAB_TMP/err")" 1
  grep -q "^churn-synflood: this network namespace has a default route (via .* dev .*); run it only inside a lab namespace$" \
    "$LAB_TMP/err" || fail "host namespace: stderr '$(cat "$LAB_TMP/err")' is not the default-route refusal"
else
  note "the host namespace has no default route here: its refusal is not tested (the lab case below is)"
fi

# A lab namespace that is given a default route (via its veth peer) is refused too, naming that route.
ip -n "$LAB_CLI" route add default via "$LAB_SRV_IP" || fail "ip route add default in $LAB_CLI failed"
expect_refusal "lab namespace with a default route" \
  "churn-synflood: this network namespace has a default route (via $LAB_SRV_IP dev cl${RUNID}c); run it only inside a lab namespace" \
  "${OK[@]}" --count 5
ip -n "$LAB_CLI" route del default || fail "ip route del default in $LAB_CLI failed"
assert_eq "IPv4 packets the server host received during all refusals" "$(ip_in)" "$in0"

# ---- one small real flood ---------------------------------------------------------------------------------
# The server host routes the spoofed range back into the lab (not a default route): its SYN-ACKs go to the
# client host, which has no such address and does not forward, and drops them.
ip -n "$LAB_SRV" route add 198.19.0.0/16 via "$LAB_CLI_IP" || fail "route back for 198.19.0.0/16 failed"
lab_srv sysctl -q -w net.ipv4.tcp_syncookies=2 > /dev/null || fail "tcp_syncookies=2 in $LAB_SRV failed"
start_server --backlog 128
# Capture 5 flood SYNs on the server side of the veth: what arrived, checksums as they were on the wire.
ip netns exec "$LAB_SRV" tcpdump -i "cl${RUNID}s" -n -c 5 -w "$LAB_TMP/flood.pcap" 'tcp[tcpflags] == tcp-syn' \
  > "$LAB_TMP/tcpdump.log" 2>&1 &
TD_PID=$!
wait_until 5 "tcpdump listening" grep -q "listening on" "$LAB_TMP/tcpdump.log"
sent0=$(nstat_get "$LAB_SRV" TcpExtSyncookiesSent)
ip netns exec "$LAB_CLI" "$FLOOD" "${OK[@]}" --count 200 --rate 2000 --json "$LAB_TMP/flood.json" > "$LAB_TMP/flood.out" 2>&1
rc=$?
note "flood: $(cat "$LAB_TMP/flood.out")"
assert_eq "flood exit status" "$rc" 0
assert_eq "JSON sent" "$(json_get "$LAB_TMP/flood.json" sent)" 200
assert_eq "JSON send_errors" "$(json_get "$LAB_TMP/flood.json" send_errors)" "{}"
assert_eq "JSON stopped_by" "$(json_get "$LAB_TMP/flood.json" stopped_by)" count
assert_eq "JSON target" "$(json_get "$LAB_TMP/flood.json" target)" "$T"
assert_eq "JSON spoof" "$(json_get "$LAB_TMP/flood.json" spoof)" 198.19.0.0/16
for k in rate count duration_s seed elapsed_s achieved_rate; do need_num "JSON $k" "$(json_get "$LAB_TMP/flood.json" $k)"; done
# Every SYN was answered with a cookie (=2: always), none dropped for its checksum.
# counter_above NAME N: the server host's counter NAME is above N now (for wait_until, which re-runs it).
counter_above() { [ "$(nstat_get "$LAB_SRV" "$1")" -gt "$2" ]; }
# All 200 accounted for on the server host: a cookie each, or a checksum error each (a builder gone wrong).
seen_all() { [ $(( $(nstat_get "$LAB_SRV" TcpExtSyncookiesSent) - sent0 + $(nstat_get "$LAB_SRV" TcpInCsumErrors) )) -ge 200 ]; }
wait_until 5 "the server host saw 200 SYNs (cookies + checksum errors)" seen_all
assert_eq "TcpInCsumErrors (server host)" "$(nstat_get "$LAB_SRV" TcpInCsumErrors)" 0
assert_eq "TcpExtSyncookiesSent (server host)" "$(( $(nstat_get "$LAB_SRV" TcpExtSyncookiesSent) - sent0 ))" 200
assert_eq "TcpExtListenDrops (server host)" "$(nstat_get "$LAB_SRV" TcpExtListenDrops)" 0
assert_eq "SYN-RECV sockets with cookies always on" "$(lab_srv ss -Htan state syn-recv | wc -l)" 0
# Where the 200 SYN-ACKs went: to the client host, which has no 198.19.0.0/16 address and ip_forward=0, so
# each is dropped as an address error, and nothing answers (no RST from anyone).
cli_addr_errors() { [ "$(snmp_get "$LAB_CLI" Ip InAddrErrors)" -ge 200 ]; }
wait_until 5 "200 SYN-ACKs reached the client host" cli_addr_errors
assert_eq "IpInAddrErrors on the client host (the SYN-ACKs, dropped)" "$(snmp_get "$LAB_CLI" Ip InAddrErrors)" 200
assert_eq "TcpOutRsts on the client host" "$(snmp_get "$LAB_CLI" Tcp OutRsts)" 0

wait_until 5 "tcpdump stopped after 5 packets" sh -c "! kill -0 $TD_PID 2>/dev/null"
tcpdump -r "$LAB_TMP/flood.pcap" -n -vv 2> /dev/null > "$LAB_TMP/decoded.txt"
note "decoded: $(head -2 "$LAB_TMP/decoded.txt" | tr '\n' ' ')"
assert_eq "captured flood SYNs with a correct TCP checksum" "$(grep -c 'cksum 0x[0-9a-f]* (correct)' "$LAB_TMP/decoded.txt")" 5
assert_eq "captured packets with a bad IP or TCP checksum" "$(grep -ci 'incorrect\|bad cksum' "$LAB_TMP/decoded.txt")" 0
assert_eq "captured flood SYNs from 198.19.0.0/16 with MSS 1460" \
  "$(grep -c '198\.19\.[0-9]*\.[0-9]*\.[0-9]* > '"${T/:/.}"': Flags \[S\], .*options \[mss 1460\]' "$LAB_TMP/decoded.txt")" 5

# The other option sets, 3 SYNs each, decoded by tcpdump and (when installed) by tshark with its checksum
# validation on: the option bytes as a Linux SYN has them, and a correct checksum over 20 more bytes.
for o in linux none; do
  ip netns exec "$LAB_SRV" tcpdump -i "cl${RUNID}s" -n -c 3 -w "$LAB_TMP/$o.pcap" 'tcp[tcpflags] == tcp-syn' \
    > "$LAB_TMP/tcpdump-$o.log" 2>&1 &
  TD_PID=$!
  wait_until 5 "tcpdump listening ($o)" grep -q "listening on" "$LAB_TMP/tcpdump-$o.log"
  ip netns exec "$LAB_CLI" "$FLOOD" "${OK[@]}" --count 3 --syn-options $o -q || fail "--syn-options $o: exit $?"
  wait_until 5 "tcpdump stopped after 3 packets ($o)" sh -c "! kill -0 $TD_PID 2>/dev/null"
  tcpdump -r "$LAB_TMP/$o.pcap" -n -vv 2> /dev/null > "$LAB_TMP/decoded-$o.txt"
  note "decoded ($o): $(sed -n 2p "$LAB_TMP/decoded-$o.txt")"
  assert_eq "--syn-options $o: SYNs with a correct TCP checksum" "$(grep -c 'cksum 0x[0-9a-f]* (correct)' "$LAB_TMP/decoded-$o.txt")" 3
done
assert_eq "--syn-options linux: MSS, SACK-permitted, TS, NOP, wscale 7 in that order" \
  "$(grep -c 'options \[mss 1460,sackOK,TS val [0-9]* ecr 0,nop,wscale 7\], length 0' "$LAB_TMP/decoded-linux.txt")" 3
assert_eq "--syn-options none: no options" "$(grep -c 'options' "$LAB_TMP/decoded-none.txt")" 0
if command -v tshark > /dev/null; then
  # tcp.checksum.status: 1 = Good, 0 = Bad, 2 = Unverified (what tshark says when validation is off).
  tshark -r "$LAB_TMP/linux.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields \
    -e ip.checksum.status -e tcp.checksum.status 2> "$LAB_TMP/tshark.err" > "$LAB_TMP/tshark.txt"
  note "tshark ip/tcp checksum status: $(tr '\n\t' ' /' < "$LAB_TMP/tshark.txt")"
  assert_eq "tshark: IP and TCP checksums Good on every captured linux SYN" "$(grep -c '^1.1$' "$LAB_TMP/tshark.txt")" 3
fi

# tcp_syncookies=1: the SYN queue (backlog 128) fills with request sockets (SYN-RECV), then cookies. Every
# SYN of the flood is one or the other.
lab_srv sysctl -q -w net.ipv4.tcp_syncookies=1 > /dev/null || fail "tcp_syncookies=1 in $LAB_SRV failed"
do0=$(nstat_get "$LAB_SRV" TcpExtTCPReqQFullDoCookies)
ip netns exec "$LAB_CLI" "$FLOOD" "${OK[@]}" --count 200 --rate 2000 --seed 2 -q --json "$LAB_TMP/flood1.json"
assert_eq "second flood exit status" "$?" 0
assert_eq "second flood: JSON sent" "$(json_get "$LAB_TMP/flood1.json" sent)" 200
synrecv=$(lab_srv ss -Htan state syn-recv | wc -l)
cookies=$(( $(nstat_get "$LAB_SRV" TcpExtTCPReqQFullDoCookies) - do0 ))
note "tcp_syncookies=1: $synrecv SYN-RECV sockets, $cookies cookies (TcpExtTCPReqQFullDoCookies)"
assert_ge "SYN-RECV sockets with tcp_syncookies=1" "$synrecv" 1
assert_ge "cookies once the SYN queue was full" "$cookies" 1
assert_eq "SYN-RECV sockets + cookies = SYNs sent" "$(( synrecv + cookies ))" 200

# SIGTERM ends a long run at once; the summary and JSON still come.
ip netns exec "$LAB_CLI" "$FLOOD" "${OK[@]}" --rate 50 --duration 60 --json "$LAB_TMP/flood2.json" > "$LAB_TMP/flood2.out" 2>&1 &
FL_PID=$!
wait_until 5 "the long flood reached the server host" counter_above TcpExtTCPReqQFullDoCookies $((do0 + cookies))
kill -TERM "$FL_PID"
wait_until 3 "churn-synflood gone after SIGTERM" sh -c "! kill -0 $FL_PID 2>/dev/null"
wait "$FL_PID"
assert_eq "exit status after SIGTERM" "$?" 0
assert_eq "stopped_by after SIGTERM" "$(json_get "$LAB_TMP/flood2.json" stopped_by)" signal
grep -q "stopped by signal" "$LAB_TMP/flood2.out" || fail "no summary line after SIGTERM: $(cat "$LAB_TMP/flood2.out")"
stop_server
echo "ok" > "$TEST_RESULT"
