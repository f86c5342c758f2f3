#!/usr/bin/env bash
# t_server_send_timeout: a peer that asks for a lot and never reads cannot hold a connection forever.
# Two clients of one churn-server (--size 1 MiB, --send-timeout 1s) send the same 20 pipelined requests
# (20 MiB of answers). The reader takes everything and must get it all with no timeout; the non-reader
# takes nothing, so the server's writes stop making progress once its send buffer and the peer's receive
# buffer are full, and after the send timeout the server resets it (SO_LINGER 0: a plain close would
# leave the kernel holding the unsent megabytes for a peer that does not read). Counted in the server's
# JSON as the one send timeout, and seen from the client host: the non-reader's socket leaves ESTABLISHED
# while its process still holds it open.
#
# Not a timing test: the bounds are "reset while the peer still holds it (8 s, the timeout is 1 s)" and
# exact counts; the unit tests (test_server_conn.cc, [send]) pin the clock itself. With the send clock
# off (--send-timeout 0) the non-reader stays established for its whole 8 s and the wait below fails.
source "$(dirname "$0")/lib.sh"
lab_start
start_server --size 1048576 --send-timeout 1s
reqs=20

# client MODE HOST PORT N SIZE: runs inside the client namespace (declare -f passes it there). Sends N
# pipelined requests on one connection; "read" then reads the N bodies' worth of bytes (N x SIZE; the
# heads make the stream a little longer) and closes, "stall" holds the socket unread for 8 s.
client() {
  local mode=$1 host=$2 port=$3 n=$4 size=$5 fd req=$'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' all="" i
  exec {fd}<>"/dev/tcp/$host/$port" || { echo "connect failed"; return 1; }
  for ((i = 0; i < n; i++)); do all+=$req; done
  printf '%s' "$all" >&"$fd"
  if [ "$mode" = read ]; then
    echo "read $(head -c $((n * size)) <&"$fd" | wc -c) bytes"
  else
    sleep 8
    echo "stall: held 8 s"
  fi
}
size=1048576
ip netns exec "$LAB_CLI" timeout 30 bash -c "$(declare -f client); client stall $LAB_SRV_IP $PORT $reqs $size" \
  > "$LAB_TMP/stall.log" 2>&1 &
stall_pid=$!
# The reader's answers stream as fast as it reads them; 20 s is far more than 20 MiB over a veth needs.
ip netns exec "$LAB_CLI" timeout 20 bash -c "$(declare -f client); client read $LAB_SRV_IP $PORT $reqs $size" \
  > "$LAB_TMP/read.log" 2>&1 &
read_pid=$!

# Connections to the server's port on the client host, by state.
cli_conns() { ip netns exec "$LAB_CLI" ss -H -tn state "$1" dport = ":$PORT" | wc -l; }
stall_gone() { [ "$(cli_conns established)" -eq 0 ]; }
# Once the reader has its bytes and has closed, the only connection left is the non-reader's. Its
# process still sleeps with the socket open: only the server's reset takes it out of ESTABLISHED.
wait "$read_pid"
wait_until 7 "the non-reading connection reset by the server (no established socket left on the client host)" stall_gone
kill -0 "$stall_pid" 2>/dev/null || fail "the stalled client ended early: $(cat "$LAB_TMP/stall.log")"
wait "$stall_pid"
stop_server

j=$LAB_TMP/server.json
note "reader: $(cat "$LAB_TMP/read.log"); stalled client: $(cat "$LAB_TMP/stall.log")"
# Every answer is the 1 MiB body plus its head: at least reqs x size bytes reached the reader.
got=$(grep -oE '^read [0-9]+' "$LAB_TMP/read.log" | cut -d' ' -f2)
assert_ge "bytes the reader got (all $reqs answers)" "$got" $((reqs * size))
assert_eq "send timeouts (only the non-reader)" "$(json_get "$j" timeouts.send)" 1
assert_eq "connections accepted (the reader and the non-reader)" "$(json_get "$j" accepted)" 2
assert_eq "header, body and idle timeouts" \
  "$(json_get "$j" timeouts.header)/$(json_get "$j" timeouts.body)/$(json_get "$j" timeouts.idle)" 0/0/0
