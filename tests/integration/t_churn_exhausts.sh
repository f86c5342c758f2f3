#!/usr/bin/env bash
# t_churn_exhausts: a 1000-port range, churn at 1000 req/s. The client closes first, so every port it used
# sits in TIME-WAIT on the client host for 60 s: after exactly 1000 connections, 1.0 s in, connect() has
# no port left and fails with EADDRNOTAVAIL. The client, ss, nstat and the server must all agree on 1000.
source "$(dirname "$0")/lib.sh"
export PORT_RANGE="40000 40999"   # applied inside the lab namespaces only (lab/netns.sh)
lab_start
ports=1000 rate=1000

assert_eq "client ip_local_port_range" "$(ns_sysctl "$LAB_CLI" net.ipv4.ip_local_port_range)" "40000 40999"
start_server
run_client --mode churn -R $rate -d 3 -c 32
# Right after the run: no TIME-WAIT has expired yet (60 s), so ss sees every connection the client made.
tw_cli=$(tw_count "$LAB_CLI") tw_srv=$(tw_count "$LAB_SRV")
opens=$(nstat_get "$LAB_CLI" TcpActiveOpens) opens_snmp=$(snmp_get "$LAB_CLI" Tcp ActiveOpens)
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
hs=$(json_get "$j" handshakes)
# The whole run happened (a client stopped early by a stray signal could still pass the rest).
assert_eq "requests_scheduled ($rate/s x 3 s)" "$(json_get "$j" requests_scheduled)" $((rate * 3))
assert_gt "errors.EADDRNOTAVAIL" "$(json_num "$j" errors.EADDRNOTAVAIL 0)" 0
# Model: ports / rate = 1.0 s. The upper slack covers scheduling on a busy 2-core machine.
assert_between "first_error_s.EADDRNOTAVAIL (model $ports/$rate = 1.0 s)" \
  "$(json_get "$j" first_error_s.EADDRNOTAVAIL)" 0.9 1.3
assert_eq "handshakes (every port used once)" "$hs" $ports
assert_eq "ports_in_range in client JSON" "$(json_get "$j" ports_in_range)" $ports
assert_eq "client-host TIME-WAIT (ss)" "$tw_cli" $ports
assert_le "server-host TIME-WAIT (ss)" "$tw_srv" 5
assert_eq "client TcpActiveOpens (nstat) vs handshakes" "$opens" "$hs"
assert_eq "client Tcp ActiveOpens (/proc/net/snmp) vs nstat" "$opens_snmp" "$opens"
assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$hs"
assert_eq "server closes.client vs client handshakes" "$(json_get "$s" closes.client)" "$hs"
