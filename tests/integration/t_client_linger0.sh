#!/usr/bin/env bash
# t_client_linger0: churn-client --linger0 (run-levers row 6). Every close() on the client is abortive
# (SO_LINGER {1, 0}): it sends RST instead of FIN, so the client host keeps no TIME-WAIT at all, where the
# same run without the flag leaves one per connection (t_churn_exhausts). The RSTs are counted three ways:
# the kernel's TcpOutRsts on the client host, the server's closes.reset (its read() got ECONNRESET), and
# the client's own JSON ("linger0": true).
source "$(dirname "$0")/lib.sh"
lab_start
rate=500 dur=2
n=$((rate * dur))

start_server
run_client --mode churn -R $rate -d $dur --linger0
tw_cli=$(tw_count "$LAB_CLI") tw_srv=$(tw_count "$LAB_SRV")
rst_cli=$(nstat_get "$LAB_CLI" TcpOutRsts)
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
hs=$(json_get "$j" handshakes)
assert_eq "client JSON linger0" "$(json_get "$j" linger0)" true
assert_eq "handshakes" "$hs" $n
assert_eq "requests_ok (the response is read before the RST goes out)" "$(json_get "$j" requests_ok)" $n
assert_eq "client errors" "$(json_get "$j" errors)" "{}"
assert_eq "client-host TIME-WAIT (ss)" "$tw_cli" 0
assert_eq "server-host TIME-WAIT (ss)" "$tw_srv" 0
# One RST per close() at least. No more than one more per connection: an RST answering a late segment
# from the server would be a second one (none is expected here: the server sends nothing after its
# response until it reads our RST).
assert_between "client-host TcpOutRsts (nstat; one RST per close)" "$rst_cli" "$hs" $((2 * hs))
assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$hs"
assert_eq "server closes.reset (its read() got ECONNRESET) vs handshakes" "$(json_get "$s" closes.reset)" "$hs"
assert_eq "server closes.client (a FIN: none expected)" "$(json_get "$s" closes.client)" 0
