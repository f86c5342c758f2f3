#!/usr/bin/env bash
# t_probe_states: known numbers of sockets in LISTEN, ESTAB, TIME-WAIT, CLOSE-WAIT, FIN-WAIT-2, SYN-SENT
# and SYN-RECV (IPv4 and IPv6) on the two lab hosts; churn-probe states must count exactly what ss
# counts, state by state, over sock_diag and over /proc/net/tcp{,6}, and with kernel-side filters
# exactly what ss's own filters select. (See probe_fixtures.sh for how each state is built.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_fixtures.sh"
lab_start
need_probe

E=7 T=40 F=5 S=3 V=4   # ESTAB, TIME-WAIT, FIN-WAIT-2/CLOSE-WAIT, SYN-SENT/SYN-RECV, IPv6 ESTAB pairs
CLI3=198.18.0.3 SRV4=198.18.0.4

start_named_server plain --listen "$LAB_SRV_IP:8080"
start_named_server leak --listen "$LAB_SRV_IP:8081" --leak-close-wait
blackhole_synack "$CLI3" "$SRV4"
start_named_server synrecv --listen "$SRV4:8082"
start_named_server v6 --listen "[::1]:8083"

hold_conns "$LAB_CLI" "$LAB_SRV_IP" 8080 $E
hold_conns "$LAB_CLI" "$LAB_SRV_IP" 8081 $F close
hold_conns "$LAB_SRV" ::1 8083 $V
syn_sent "$LAB_CLI" "$SRV4" 8082 $S
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 2000 -n $T -d 5 "http://$LAB_SRV_IP:8080/" > "$LAB_TMP/client.log" 2>&1 ||
  fail "churn-client: $(tail -c 300 "$LAB_TMP/client.log")"

wait_ss "$LAB_CLI" TIME-WAIT $T
wait_ss "$LAB_CLI" FIN-WAIT-2 $F
wait_ss "$LAB_SRV" CLOSE-WAIT $F
wait_ss "$LAB_CLI" SYN-SENT $S
wait_ss "$LAB_SRV" SYN-RECV $S

# What we built, as ss sees it (so a broken fixture fails here, not as a probe mismatch).
expect_cli="ESTAB $E
FIN-WAIT-2 $F
SYN-SENT $S
TIME-WAIT $T"
expect_srv="CLOSE-WAIT $F
ESTAB $((E + 2 * V))
LISTEN 4
SYN-RECV $S"
assert_eq "client host, ss -tan by state" "$(ss_states "$LAB_CLI" | tr '\n' ' ')" "$(echo "$expect_cli" | tr '\n' ' ')"
assert_eq "server host, ss -tan by state" "$(ss_states "$LAB_SRV" | tr '\n' ' ')" "$(echo "$expect_srv" | tr '\n' ' ')"

# The probe, both sources, both hosts: state by state equal to ss.
for ns in "$LAB_CLI" "$LAB_SRV"; do
  want=$(ss_states "$ns" | tr '\n' ' ')
  assert_eq "${ns##*-} host: churn-probe states (netlink) vs ss" "$(probe_states "$ns" | tr '\n' ' ')" "$want"
  assert_eq "${ns##*-} host: churn-probe states --proc vs ss" "$(probe_states "$ns" --proc | tr '\n' ' ')" "$want"
done

# Kernel-side filters against ss's filters (ss compiles its own bytecode; we compile ours).
check_filter() {  # NS "probe args" "ss filter"
  local ns=$1 pargs=$2 sfilter=$3
  # shellcheck disable=SC2086
  assert_eq "${ns##*-} host: states $pargs vs ss $sfilter" "$(probe_states "$ns" $pargs | tr '\n' ' ')" \
    "$(eval "ss_states \"\$ns\" $sfilter" | tr '\n' ' ')"
}
check_filter "$LAB_SRV" "--sport 8080" "sport = :8080"
check_filter "$LAB_SRV" "--sport 8081" "sport = :8081"
check_filter "$LAB_SRV" "--sport 8080-8082" "'( sport >= :8080 and sport <= :8082 )'"
check_filter "$LAB_CLI" "--dport 8081" "dport = :8081"
check_filter "$LAB_CLI" "--dst $SRV4" "dst $SRV4"
check_filter "$LAB_CLI" "--src $CLI3/32 --dport 8082" "'( src $CLI3 and dport = :8082 )'"
check_filter "$LAB_SRV" "--src ::1" "src [::1]"
check_filter "$LAB_SRV" "--sport 8083 --proc" "sport = :8083"
check_filter "$LAB_CLI" "--state time-wait,fin-wait-2" "state time-wait state fin-wait-2"

# Grouping by local port on the server host: every listener port shows its own sockets.
f=$LAB_TMP/by.json
"$PROBE" states --netns "$LAB_SRV" --by lport --json > "$f" || fail "states --by lport"
# 8080-8083, plus one ephemeral port per IPv6 client connection (both ends live on this host).
assert_eq "local-port groups on the server host" "$(json_get "$f" groups_total)" $((4 + V))
assert_eq "port 8081's CLOSE-WAIT (the leak)" "$(json_flat "$f" | awk -F'\t' '$1 ~ /^groups\.[0-9]+\.key$/ && $2 == 8081 { split($1, p, "."); i = p[2] }
  i != "" && $1 == "groups." i ".states.CLOSE-WAIT" { print $2; exit }')" $F
kill_holders
