#!/usr/bin/env bash
# t_probe_synrecv: a small SYN flood fills a listener's SYN queue; churn-probe must count its request
# socks (TCP_NEW_SYN_RECV in the kernel, SYN-RECV to ss) exactly as ss does, over sock_diag and over
# /proc/net/tcp, in `states` and in `watch`; and `--counters syncookies` must read what nstat reads.
#
# The flood, without raw sockets: churn-client opens $N connections from a second client address whose
# SYN-ACKs the server host sends to a MAC nobody has (probe_fixtures.sh blackhole_synack), so every SYN
# leaves a request sock in SYN-RECV until the SYN queue (the listen backlog) is full; past that, with
# tcp_syncookies=1, the kernel answers with cookies. Then a legitimate client from the lab's own address
# connects to the same full listener: only a cookie lets it in (TcpExtSyncookiesRecv).
# Asserted, exact: SYN-RECV > 0 and churn-probe's count = ss's, each path; cookies sent and received; the
# nine counters of `--counters syncookies` (watch, both paths, and `nstat syncookies`) = `nstat -asz`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_fixtures.sh"
lab_start
need_probe

N=200 BACKLOG=32 CLI3=198.18.0.3 SRV4=198.18.0.4 P=8082
ip netns exec "$LAB_SRV" sysctl -q -w net.ipv4.tcp_syncookies=1 || fail "sysctl tcp_syncookies=1 in $LAB_SRV"
blackhole_synack "$CLI3" "$SRV4"
start_named_server flood --listen "$SRV4:$P" --backlog $BACKLOG

# The flood: N connect()s at once from CLI3 (the route to SRV4 picks it); none completes. Bounded: 3 s.
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode pool -c $N -d 3 --timeout 60000 "http://$SRV4:$P/" > "$LAB_TMP/flood.log" 2>&1 &
flood=$!
syn_recv() { ip netns exec "$LAB_SRV" ss -H -tan state syn-recv | wc -l; }
cookies_sent() { [ "$(nstat_get "$LAB_SRV" TcpExtSyncookiesSent)" -gt 0 ]; }
wait_until 10 "cookies sent (SYN queue full)" cookies_sent
wait "$flood"   # its sockets closed: no more SYN retransmits, so no more cookies; the request socks stay
note "flood client: $(tail -n 1 "$LAB_TMP/flood.log")"

# A legitimate client from 198.18.0.1 (its SYN-ACKs arrive) to the same listener, SYN queue still full.
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 20 -n 3 -d 2 --source "$LAB_CLI_IP" --json "$LAB_TMP/legit.json" \
  "http://$SRV4:$P/" > "$LAB_TMP/legit.log" 2>&1 || fail "legitimate client: $(tail -c 300 "$LAB_TMP/legit.log")"
assert_eq "legitimate client: requests ok" "$(json_get "$LAB_TMP/legit.json" requests_ok)" 3

# ---- SYN-RECV: ss vs churn-probe, both paths, states and watch, with and without kernel-side filters ----
want=$(syn_recv)
assert_gt "SYN-RECV sockets in ss" "$want" 0
note "SYN-RECV $want with backlog $BACKLOG (the SYN queue holds backlog + 1)"
probe_synrecv() {  # ARGS...: churn-probe states --json ARGS, its SYN-RECV count
  local f=$LAB_TMP/states.$RANDOM.json
  "$PROBE" states --netns "$LAB_SRV" --json "$@" > "$f" || fail "churn-probe states $* failed"
  json_get "$f" states.SYN-RECV
}
watch_line() {  # FILE ARGS...: one watch sample of the server host into FILE
  local f=$1; shift
  "$PROBE" watch --netns "srv=$LAB_SRV" --counters syncookies --count 1 -q -o "$f" "$@" || fail "churn-probe watch $* failed"
}
for path in netlink proc; do
  flag=; [ $path = proc ] && flag=--proc
  assert_eq "states SYN-RECV ($path) = ss" "$(probe_synrecv $flag)" "$want"
  assert_eq "states --state syn-recv --sport $P ($path) = ss" \
    "$(probe_synrecv $flag --state syn-recv --sport $P)" "$(ip netns exec "$LAB_SRV" ss -H -tan state syn-recv "( sport = :$P )" | wc -l)"
  watch_line "$LAB_TMP/watch.$path.json" $flag
  assert_eq "watch source ($path)" "$(json_get "$LAB_TMP/watch.$path.json" source)" "$path"
  assert_eq "watch SYN-RECV ($path) = ss" "$(json_get "$LAB_TMP/watch.$path.json" states.SYN-RECV)" "$want"
done

# ---- the syncookies counter set vs nstat, read after the flood and the client are done ---------------------
assert_gt "TcpExtSyncookiesSent" "$(nstat_get "$LAB_SRV" TcpExtSyncookiesSent)" 0
assert_gt "TcpExtTCPReqQFullDoCookies" "$(nstat_get "$LAB_SRV" TcpExtTCPReqQFullDoCookies)" 0
assert_ge "TcpExtSyncookiesRecv (the legitimate client's ACKs)" "$(nstat_get "$LAB_SRV" TcpExtSyncookiesRecv)" 3
"$PROBE" nstat --netns "$LAB_SRV" -z syncookies > "$LAB_TMP/nstat.txt" || fail "churn-probe nstat syncookies failed"
names="TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed TcpExtTCPReqQFullDoCookies TcpExtTCPReqQFullDrop
       TcpExtListenOverflows TcpExtListenDrops TcpPassiveOpens TcpAttemptFails"
assert_eq "counters in the syncookies set" "$(json_children "$LAB_TMP/watch.netlink.json" nstat | tr '\n' ' ')" "$(echo $names) "
for c in $names; do
  v=$(nstat_get "$LAB_SRV" "$c") || fail "nstat has no $c"
  for path in netlink proc; do
    assert_eq "watch --counters syncookies ($path): $c = nstat" "$(json_get "$LAB_TMP/watch.$path.json" "nstat.$c")" "$v"
  done
  assert_eq "nstat syncookies: $c = nstat" "$(awk -v c="$c" '$1 == c { print $2 }' "$LAB_TMP/nstat.txt")" "$v"
done
kill_holders
echo "SYN-RECV $want = ss on both paths; 9 syncookie counters = nstat" > "$TEST_RESULT"
