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

# ---- pool: the same flag on the pool's closes (at the end of the run, 8 keep-alive connections) ----
start_server
run_client --mode pool -c 8 -d 0.5 --linger0
tw_cli=$(tw_count "$LAB_CLI")
stop_server
assert_eq "pool: client JSON linger0" "$(json_get "$j" linger0)" true
assert_eq "pool: handshakes" "$(json_get "$j" handshakes)" 8
assert_eq "pool: client-host TIME-WAIT (ss)" "$tw_cli" 0
assert_eq "pool: server closes.reset" "$(json_get "$s" closes.reset)" 8

# ---- the data-loss case: bulk --bytes N, then close ----------------------------------------------------
# 4 MiB to churn-server --discard, which counts every byte it reads (bytes_discarded). Just before its
# close() the client records what the kernel still held: unsent_at_close (SIOCOUTQ: not acknowledged) and
# notsent_at_close (SIOCOUTQNSD: never sent). write() accepted all 4 MiB either way.
#
# A 100 Mbit/s bottleneck (tbf; this kernel has no netem) on the client's veth egress: on the bare veth
# the whole 4 MiB fits in the receiver's autotuned buffer (tcp_rmem max 6 MiB), is acknowledged within
# the write()s, and the queue at close() is empty (measured: unsent_at_close 0, nothing lost). Data is
# lost to an RST only when the path or the reader is slower than the writer, which is the usual case.
#   - With --linger0 the close is an RST: the queue is dropped and bytes are really lost. The path keeps
#     order and loses nothing, so every segment sent before the RST arrives, and is read before the
#     receiver's ECONNRESET: lost = written - discarded = notsent_at_close (measured equal, to the byte).
#     Asserted as a bound, lost <= notsent_at_close: an ACK landing between the ioctl and close() may
#     still release a segment. unsent_at_close (SIOCOUTQ) is larger by what was in flight, which arrived.
#   - Without it the close is a FIN behind the data, the kernel delivers everything after the client has
#     exited, and nothing is lost, though the queue at close() was just as full.
bytes=$((4 << 20))
tc -n "$LAB_CLI" qdisc add dev "cl${RUNID}c" root tbf rate 100mbit burst 32kb latency 100ms ||
  fail "tc qdisc add tbf on the client's veth failed"
# bulk_run ARGS...: one bulk connection, then wait for both hosts to be done with it (the server has read
# everything it will ever get), then the server's JSON.
bulk_run() {
  start_server --discard
  run_client --mode bulk --bytes $bytes -d 10 "$@"
  wait_until 10 "bulk connection gone on both hosts" eval 'wire_quiet "$LAB_CLI" && wire_quiet "$LAB_SRV"'
  stop_server
}

bulk_run --linger0
j=$LAB_TMP/client.json s=$LAB_TMP/server.json
w=$(json_get "$j" bytes_written) unsent=$(json_get "$j" unsent_at_close) notsent=$(json_get "$j" notsent_at_close)
got=$(json_get "$s" bytes_discarded)
need_num "server bytes_discarded" "$got"
need_num "notsent_at_close" "$notsent"
lost=$((w - got))
note "linger0: written $w, server read $got, lost $lost; at close: unsent_at_close $unsent, notsent_at_close $notsent"
assert_eq "linger0 bulk: bytes_written (exactly --bytes)" "$w" $bytes
assert_eq "linger0 bulk: client JSON linger0" "$(json_get "$j" linger0)" true
assert_eq "linger0 bulk: server closes.reset (its read() got ECONNRESET)" "$(json_get "$s" closes.reset)" 1
assert_gt "linger0 bulk: bytes lost (written - server bytes_discarded)" "$lost" 0
assert_le "linger0 bulk: lost <= notsent_at_close (never sent: dropped by the RST)" "$lost" "$notsent"
assert_le "linger0 bulk: notsent_at_close <= unsent_at_close" "$notsent" "$unsent"
assert_ge "linger0 bulk: server bytes_discarded + unsent_at_close >= bytes_written (acknowledged = delivered)" \
  $((got + unsent)) "$w"

bulk_run
w=$(json_get "$j" bytes_written) unsent=$(json_get "$j" unsent_at_close) got=$(json_get "$s" bytes_discarded)
note "FIN: written $w, server read $got; unsent_at_close $unsent (delivered after the client exited)"
assert_eq "FIN bulk: client JSON linger0" "$(json_get "$j" linger0)" false
assert_eq "FIN bulk: bytes_written (exactly --bytes)" "$w" $bytes
assert_gt "FIN bulk: unsent_at_close (the queue was not empty at close)" "$unsent" 0
assert_eq "FIN bulk: server bytes_discarded (nothing lost)" "$got" $bytes
assert_eq "FIN bulk: server closes.client (a FIN)" "$(json_get "$s" closes.client)" 1
