#!/usr/bin/env bash
# t_close_server_linger0: `--close server --linger0`: every close() on the server is an abortive close
# (SO_LINGER {1, 0}): it sends RST instead of FIN, and no side enters TIME-WAIT. The client still gets every
# response (the RST follows the data). The RSTs are the kernel's to count: TcpOutRsts on the server host.
source "$(dirname "$0")/lib.sh"
lab_start
rate=500 dur=3
n=$((rate * dur))

start_server --close server --linger0
run_client --mode churn -R $rate -d $dur
tw_cli=$(tw_count "$LAB_CLI") tw_srv=$(tw_count "$LAB_SRV")
rst_srv=$(nstat_get "$LAB_SRV" TcpOutRsts)
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
hs=$(json_get "$j" handshakes)
assert_eq "handshakes" "$hs" $n
assert_eq "requests_ok (the response arrives before the RST)" "$(json_get "$j" requests_ok)" $n
assert_eq "client errors" "$(json_get "$j" errors)" "{}"
assert_eq "server options.linger0" "$(json_get "$s" options.linger0)" true
assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$hs"
assert_eq "server closes.server + closes.client vs handshakes" \
  $(($(json_get "$s" closes.server) + $(json_get "$s" closes.client))) "$hs"
# One RST per close, plus one for each client FIN that was still in flight when the server aborted first
# (the socket is gone, so the kernel answers that FIN with another RST): at most one per server-first close.
by_srv=$(json_get "$s" closes.server)
assert_between "server-host TcpOutRsts (nstat; one RST per close, closes.server=$by_srv)" "$rst_srv" "$hs" $((hs + by_srv))
assert_eq "client-host TIME-WAIT (ss)" "$tw_cli" 0
assert_eq "server-host TIME-WAIT (ss)" "$tw_srv" 0
