#!/usr/bin/env bash
# make-captures.sh: how the real captures in tests/pcap/ were made (root; run from anywhere). Each is a
# few KB, captured with churn-pcap itself in a fresh lab, so the unit tests check the decoder against what
# the kernel actually sent. Their answers were checked with tshark once and are frozen in
# tests/unit/test_pcap_files.cc; re-running this changes the times, so update those numbers if you do.
#
#   churn_en10mb.pcap   3 churn connections on the client's veth (Ethernet), closed by the client
#   pooled_en10mb.pcap  0.5 s in the middle of a 2-connection keep-alive run: no SYN at all
#   churn_sll.pcap      2 churn connections on "any" (Linux cooked v1)
#   churn_sll2.pcap     2 churn connections on "any" with --linktype LINUX_SLL2
#   churn_ipv6.pcap     2 churn connections over IPv6 (2001:2::/48, RFC 5180's benchmarking prefix)
#   server_close.pcap   2 connections where the server closes first (churn-server --close server)
#   tun_raw_syn.pcap    a SYN into a TUN device nobody answers: DLT_RAW, two SYN retransmissions
# Needs python3 for the TUN (a process must hold the device open, or it has no carrier and drops).
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
BIN=$root/build/bin
PCAP=$BIN/churn-pcap CLIENT=$BIN/churn-client SERVER=$BIN/churn-server
for b in "$PCAP" "$CLIENT" "$SERVER"; do [ -x "$b" ] || { echo "$b not built" >&2; exit 1; }; done
source lab/netns.sh
lab_up || exit 1
vc=cl${RUNID}c
ip -n "$LAB_CLI" addr add 2001:2::1/64 dev "$vc" nodad
ip -n "$LAB_SRV" addr add 2001:2::2/64 dev "cl${RUNID}s" nodad

ip netns exec "$LAB_SRV" "$SERVER" --quiet --listen "$LAB_SRV_IP:8080" > /dev/null 2>&1 &
ip netns exec "$LAB_SRV" "$SERVER" --quiet --listen "[2001:2::2]:8080" > /dev/null 2>&1 &
ip netns exec "$LAB_SRV" "$SERVER" --quiet --close server --listen "$LAB_SRV_IP:8081" > /dev/null 2>&1 &
sleep 0.5

# start_capture FILE IFACE ARGS...: in the background, ready when it says "capturing on".
start_capture() {
  local out=$here/$1 iface=$2; shift 2
  # Empty the log first: the previous capture's "capturing on" must not pass for this one's.
  : > "$LAB_TMP/cap.log"
  ip netns exec "$LAB_CLI" "$PCAP" capture -i "$iface" -w "$out" "$@" 2> "$LAB_TMP/cap.log" &
  cap_pid=$!
  for _ in $(seq 1 50); do grep -q "capturing on" "$LAB_TMP/cap.log" && return 0; sleep 0.1; done
  echo "capture did not start: $(cat "$LAB_TMP/cap.log")" >&2; exit 1
}
stop_capture() { sleep 0.3; kill -INT "$cap_pid"; wait "$cap_pid"; cat "$LAB_TMP/cap.log" >&2; }
churn() {  # N URL: N connections, one request each, 20 per second
  ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 20 -n "$1" -d 1 "$2" > /dev/null
}
lab_tmpdir

start_capture churn_en10mb.pcap "$vc"
churn 3 "http://$LAB_SRV_IP:8080/"
stop_capture

start_capture churn_sll.pcap any
churn 2 "http://$LAB_SRV_IP:8080/"
stop_capture

start_capture churn_sll2.pcap any --linktype LINUX_SLL2
churn 2 "http://$LAB_SRV_IP:8080/"
stop_capture

start_capture churn_ipv6.pcap "$vc"
churn 2 "http://[2001:2::2]:8080/"
stop_capture

start_capture server_close.pcap "$vc"
churn 2 "http://$LAB_SRV_IP:8081/"
stop_capture

# Pooled: the connections open first, the capture starts a second later and lasts half a second.
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode pool -c 2 -R 20 -d 2.5 "http://$LAB_SRV_IP:8080/" > /dev/null &
pool_pid=$!
sleep 1
ip netns exec "$LAB_CLI" "$PCAP" capture -q -i "$vc" -w "$here/pooled_en10mb.pcap" --seconds 0.5
wait $pool_pid

# TUN: python3 creates tun0 in the client namespace and holds it open (carrier on) without answering.
ip netns exec "$LAB_CLI" python3 -c '
import fcntl, os, struct, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tun0", 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN|IFF_NO_PI
time.sleep(8)' &
tun_pid=$!
for _ in $(seq 1 50); do ip -n "$LAB_CLI" link show tun0 > /dev/null 2>&1 && break; sleep 0.1; done
ip -n "$LAB_CLI" addr add 198.18.1.1/24 dev tun0
ip -n "$LAB_CLI" link set tun0 up
start_capture tun_raw_syn.pcap tun0
# One connection attempt; its SYN goes out at 0, 1 and 3 s; the client gives up at 3.5 s.
ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 1 -n 1 -d 3.6 --timeout 3500 "http://198.18.1.2:8080/" > /dev/null
stop_capture
kill $tun_pid 2>/dev/null; wait $tun_pid 2>/dev/null

lab_down
ls -l "$here"/*.pcap
