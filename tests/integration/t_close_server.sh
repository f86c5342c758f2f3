#!/usr/bin/env bash
# t_close_server: `churn-server --close server` answers every request with Connection: close and closes
# first, so TIME-WAIT must land on the server host, not the client host (nginx after an HTTP/1.0 request
# does the same). Churn at 500 req/s for 3 s, default port range (1500 connections, no exhaustion).
#
# The server host may hold fewer TIME-WAIT than it closed: a new SYN for the same 4-tuple with a higher
# sequence number takes over a server-side TIME-WAIT socket (measured: 3-6 % fewer here, 278 of 288 and
# 1280 of 1364 server-first closes). 90 % of the server's own closes is the bound.
source "$(dirname "$0")/lib.sh"
lab_start
rate=500 dur=3
n=$((rate * dur))

start_server --close server
run_client --mode churn -R $rate -d $dur
tw_cli=$(tw_count "$LAB_CLI") tw_srv=$(tw_count "$LAB_SRV")
stop_server

j=$LAB_TMP/client.json s=$LAB_TMP/server.json
hs=$(json_get "$j" handshakes)
by_srv=$(json_get "$s" closes.server) by_cli=$(json_get "$s" closes.client)
assert_eq "handshakes ($rate/s x ${dur} s, ports to spare)" "$hs" $n
assert_eq "server accepted vs client handshakes" "$(json_get "$s" accepted)" "$hs"
assert_eq "server closes.server + closes.client vs handshakes" $((by_srv + by_cli)) "$hs"
assert_eq "client closes_by_server (responses with Connection: close)" "$(json_get "$j" closes_by_server)" "$hs"
# Who sent the first FIN. The server counts a close as "client" when the client's FIN was already queued.
# It close()s in the same step as it writes the response, so the client can be first only when the host
# preempts the server in those microseconds and the client reads and closes meanwhile: rare (10 % allowed).
assert_ge "server closes.server (server closed first; closes.client=$by_cli)" "$by_srv" $((hs * 9 / 10))
assert_ge "server-host TIME-WAIT (ss; closes.server=$by_srv)" "$tw_srv" $((by_srv * 9 / 10))
assert_le "server-host TIME-WAIT (ss) vs closes.server" "$tw_srv" "$by_srv"
assert_le "client-host TIME-WAIT (ss)" "$tw_cli" 5
