#!/usr/bin/env bash
# make-nagle-captures.sh: how the Nagle + delayed-ACK captures in tests/pcap/ were made (root; run from
# anywhere). Neither side is churnlab's: tests/pcap/wwr.py (python3) is a write-write-read client (send 40
# bytes, send 8 bytes, read the 20-byte answer; 6 exchanges on one connection) and a server that answers
# only once the whole 48-byte message is in. tcpdump (not churn-pcap: the detector must read what other
# tools write) records each run in a lab namespace pair of our own (lab/netns.sh: churnlab-<RUNID>-cli/srv,
# removed at the end), with the kernels' defaults: Nagle on, delayed ACK on.
#
#   nagle_en10mb.pcap    Nagle on, on the client's veth: each 40-byte head, the server's pure ACK ~40 ms
#                        later (its delayed-ACK timer: it has no answer yet), the 8-byte body microseconds
#                        after that ACK, then the answer. The first exchange may not stall (a fresh
#                        connection starts in quick-ACK mode until the server has answered once).
#   nagle_srv.pcap       the same run on the server's veth: the body arrives one round trip after the ACK
#   nagle_sll.pcap       the same run on "any" in the client's namespace (Linux cooked: SLL/SLL2)
#   nodelay_en10mb.pcap  TCP_NODELAY on the client: head and body back to back, no held ACK
#   nodelay_srv.pcap     the same run on the server's veth
#   nagle_resp_en10mb.pcap  the response split instead (a second server: 116 bytes as 100 + 16 in two
#                        send()s, Nagle on; the client sends its 48 bytes in one send(), TCP_NODELAY): the
#                        server is the writer, the client the receiver that holds its ACK for the head
# Tests: tests/unit/test_pcap_stall.cc. A re-run changes ports, times and ISNs, and how many exchanges
# stall (the first may not); not what the tests check: >= 1 stall, each ACK held 40-60 ms, none with
# TCP_NODELAY. Each file is < 5 KB (default OUT: this directory). ~10 s.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
command -v tcpdump > /dev/null || { echo "tcpdump not installed" >&2; exit 1; }
PY=${PY:-/usr/bin/python3}
OUT=${OUT:-$here}
PORT=9000
source lab/netns.sh
lab_up || exit 1
lab_tmpdir
ip netns exec "$LAB_SRV" "$PY" "$here/wwr.py" server "$LAB_SRV_IP" $PORT > "$LAB_TMP/srv.log" 2>&1 &
srv=$!
lab_track $srv
for _ in $(seq 1 50); do grep -q "listening on" "$LAB_TMP/srv.log" && break; sleep 0.1; done

# tap NS IFACE FILE: tcpdump in the background (pid appended to TAPS), back once it is listening.
TAPS=()
tap() {
  local log=$LAB_TMP/td.$(basename "$3").log
  ip netns exec "$1" tcpdump -n -U --immediate-mode -s 128 -i "$2" -w "$3" "tcp port $PORT" 2> "$log" &
  TAPS+=($!)
  for _ in $(seq 1 50); do grep -q "listening on" "$log" && return 0; sleep 0.1; done
  echo "tcpdump on $2 did not start: $(cat "$log")" >&2; exit 1
}
untap() {
  sleep 0.3   # the FIN exchange
  local p; for p in "${TAPS[@]}"; do kill -INT "$p"; wait "$p"; done
  TAPS=()
}

# run NODELAY FILE_PREFIX [WITH_ANY]
run() {
  tap "$LAB_CLI" "cl${RUNID}c" "$OUT/$2_en10mb.pcap"
  tap "$LAB_SRV" "cl${RUNID}s" "$OUT/$2_srv.pcap"
  [ "${3:-}" ] && tap "$LAB_CLI" any "$OUT/$2_sll.pcap"
  ip netns exec "$LAB_CLI" "$PY" "$here/wwr.py" client "$LAB_SRV_IP" $PORT --nodelay "$1" --count 6 | sed "s/^/$2: /" >&2
  untap
}
run off nagle any
run on nodelay
kill $srv; wait $srv 2> /dev/null

PORT=9001
ip netns exec "$LAB_SRV" "$PY" "$here/wwr.py" server "$LAB_SRV_IP" $PORT --response 116 --split 100 > "$LAB_TMP/srv2.log" 2>&1 &
srv=$!
lab_track $srv
for _ in $(seq 1 50); do grep -q "listening on" "$LAB_TMP/srv2.log" && break; sleep 0.1; done
tap "$LAB_CLI" "cl${RUNID}c" "$OUT/nagle_resp_en10mb.pcap"
ip netns exec "$LAB_CLI" "$PY" "$here/wwr.py" client "$LAB_SRV_IP" $PORT --nodelay on --count 6 --head 48 --body 0 \
  --response 116 | sed "s/^/nagle_resp: /" >&2
untap
kill $srv; wait $srv 2> /dev/null
lab_down
ls -l "$OUT"/nagle_*.pcap "$OUT"/nodelay_*.pcap
