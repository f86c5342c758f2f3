#!/usr/bin/env bash
# make-cookie-captures.sh: how the SYN-cookie captures in tests/pcap/ were made (root; run from anywhere).
# One connection each: churn-client downloads a 100 KB response from churn-server, and tcpdump (not
# churn-pcap: the decoder must read what other tools write) records it on the client's veth with a
# 96-byte snaplen, so every header and TCP option is kept and the payload is not (the files stay small).
# Sysctls are set in ONE lab namespace each, never on the host:
#   server  net.ipv4.tcp_syncookies = 2 (always answer with a cookie) or 0 (never)
#   client  net.ipv4.tcp_timestamps = 0 or 1;  `route ... advmss 1400` makes its SYN say MSS 1400
#
#   cookie_nots.pcap      cookies 2, client timestamps 0          SYN-ACK without wscale/SACK
#   nocookie_nots.pcap    cookies 0, client timestamps 0          the same SYN, a full SYN-ACK
#   cookie_ts.pcap        cookies 2, client timestamps 1          options in TSval (hidden by the offset)
#   nocookie_ts.pcap      cookies 0, client timestamps 1
#   cookie_mss1400.pcap   cookies 2, timestamps 1, client MSS 1400  server segments 1288 B (1300 - 12)
#   nocookie_mss1400.pcap cookies 0, timestamps 1, client MSS 1400  server segments 1388 B (1400 - 12)
#   cookie_ts_nooff.pcap  cookies 2, timestamps 1, server tcp_timestamps=2 (no per-host TS offset):
#                         the SYN-ACK's TSval low 6 bits show the options as sent
#   cookie_ecn_nooff.pcap as cookie_ts_nooff, the client asking for ECN (tcp_ecn=1): bit 5 set, 58
#   cookie_v6_mss1400.pcap  cookies 2, timestamps 1, IPv6 (2001:2::/48), client MSS 1400: IPv6's own msstab
#                         (1220, 1420, 1440, 8940) makes it 1220
#   cookie_nots_sll.pcap  as cookie_nots, on "any" (Linux cooked: SLL2 from this tcpdump)
#   flood_srv.pcap        tcp_syncookies 1, a listener with backlog 4: 20 spoofed SYNs (churn-synflood from
#                         198.19.0.0/16, which the server routes back into the lab, where nothing answers),
#                         then one real download; on the SERVER's veth, 3.5 s: 5 request socks resend their
#                         SYN-ACKs ("no"), 15 cookie SYN-ACKs are never resent and the real client's TSval
#                         lags ("likely"). The committed file was made the same way with a raw-socket
#                         one-off before churn-synflood existed.
# Then over churn-link (lab/link.sh: TUN devices, 20 ms RTT), captured on the client's TUN (DLT_RAW). The
# kernel cuts segments to size before it writes them to a TUN, so these show each segment as sent (the
# first 40 packets only: the handshake and the first window of the download are all the verdict needs):
#   cookie_nots_tun.pcap    nocookie_nots_tun.pcap    cookies 2 / 0, client timestamps 0
#   cookie_mss1400_tun.pcap nocookie_mss1400_tun.pcap cookies 2 / 0, timestamps 1, client MSS 1400
# Tests: tests/unit/test_pcap_cookie.cc. Re-running changes ports, times, ISNs, the TSval lags and the
# offset-scrambled TSval bits (the tests pin this set's numbers: update them if you replace a file); the
# rest (verdicts, options, MSS, segment sizes) stays. Default OUT is this directory.
# Run as root on a kernel without sch_netem it takes ~40 s; each file here is < 4 KB.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
BIN=$root/build/bin
CLIENT=$BIN/churn-client SERVER=$BIN/churn-server
for b in "$CLIENT" "$SERVER"; do [ -x "$b" ] || { echo "$b not built" >&2; exit 1; }; done
command -v tcpdump > /dev/null || { echo "tcpdump not installed" >&2; exit 1; }
OUT=${OUT:-$here}
source lab/netns.sh
source lab/link.sh
lab_up || exit 1
lab_tmpdir
vc=cl${RUNID}c
route=(198.18.0.0/24 dev "$vc")   # the client's route to the server, where advmss goes
ip -n "$LAB_CLI" addr add 2001:2::1/64 dev "$vc" nodad
ip -n "$LAB_SRV" addr add 2001:2::2/64 dev "cl${RUNID}s" nodad
ip netns exec "$LAB_SRV" "$SERVER" --quiet --size 102400 --listen "$LAB_SRV_IP:8080" > /dev/null 2>&1 &
ip netns exec "$LAB_SRV" "$SERVER" --quiet --size 102400 --listen "[2001:2::2]:8080" > /dev/null 2>&1 &
sleep 0.5

# one FILE IFACE COOKIES CLIENT_TS [SERVER_TS] [ADVMSS]: set the sysctls, capture one download
# (at most $COUNT packets when set).
one() {
  local file=$1 iface=$2 cookies=$3 cts=$4 sts=${5:-1} advmss=${6:-}
  ip netns exec "$LAB_SRV" sysctl -q -w net.ipv4.tcp_syncookies="$cookies" net.ipv4.tcp_timestamps="$sts"
  ip netns exec "$LAB_CLI" sysctl -q -w net.ipv4.tcp_timestamps="$cts" net.ipv4.tcp_ecn="${ECN:-2}"
  ip -n "$LAB_CLI" route change "${route[@]}" ${advmss:+advmss "$advmss"} || exit 1
  [ "${URL_HOST:-}" ] && { ip -6 -n "$LAB_CLI" route replace 2001:2::/64 dev "$vc" proto kernel metric 256 ${advmss:+advmss "$advmss"} || exit 1; }
  : > "$LAB_TMP/td.log"
  ip netns exec "$LAB_CLI" tcpdump -n -s 96 ${COUNT:+-c $COUNT} -i "$iface" -w "$OUT/$file" 'tcp port 8080' 2> "$LAB_TMP/td.log" &
  local td=$!
  for _ in $(seq 1 50); do grep -q "listening on" "$LAB_TMP/td.log" && break; sleep 0.1; done
  ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 1 -n 1 -d 2 "http://${URL_HOST:-$LAB_SRV_IP}:8080/" > /dev/null
  sleep 0.3
  kill -INT $td 2> /dev/null; wait $td   # (gone already when -c stopped it)
  echo "$file: $(tail -n 2 "$LAB_TMP/td.log" | head -n 1)" >&2
}
one cookie_nots.pcap "$vc" 2 0
one nocookie_nots.pcap "$vc" 0 0
one cookie_ts.pcap "$vc" 2 1
one nocookie_ts.pcap "$vc" 0 1
one cookie_mss1400.pcap "$vc" 2 1 1 1400
one nocookie_mss1400.pcap "$vc" 0 1 1 1400
one cookie_ts_nooff.pcap "$vc" 2 1 2
ECN=1 one cookie_ecn_nooff.pcap "$vc" 2 1 2

flood_case() {  # FILE
  [ -x "$BIN/churn-synflood" ] || { echo "$1: skipped (build/bin/churn-synflood is not built)" >&2; return 0; }
  ip -n "$LAB_SRV" route add 198.19.0.0/16 via "$LAB_CLI_IP"
  ip netns exec "$LAB_SRV" sysctl -q -w net.ipv4.tcp_syncookies=1 net.ipv4.tcp_timestamps=1
  ip netns exec "$LAB_CLI" sysctl -q -w net.ipv4.tcp_timestamps=1
  ip -n "$LAB_CLI" route change 198.18.0.0/24 dev "$vc"
  ip netns exec "$LAB_SRV" "$SERVER" --quiet --backlog 4 --size 2048 --listen "$LAB_SRV_IP:8081" > /dev/null 2>&1 &
  local srv=$! td
  sleep 0.5
  : > "$LAB_TMP/td.log"
  ip netns exec "$LAB_SRV" tcpdump -n -s 96 -i "cl${RUNID}s" -w "$OUT/$1" 'tcp port 8081' 2> "$LAB_TMP/td.log" &
  td=$!
  for _ in $(seq 1 50); do grep -q "listening on" "$LAB_TMP/td.log" && break; sleep 0.1; done
  ip netns exec "$LAB_CLI" "$BIN/churn-synflood" -q --target "$LAB_SRV_IP:8081" --spoof 198.19.0.0/16 --count 20 --rate 1000
  ip netns exec "$LAB_CLI" "$CLIENT" -q --mode churn -R 1 -n 1 -d 1 "http://$LAB_SRV_IP:8081/" > /dev/null
  sleep 3
  kill -INT $td; wait $td
  kill $srv; wait $srv 2> /dev/null
  echo "$1: $(tail -n 2 "$LAB_TMP/td.log" | head -n 1)" >&2
}
flood_case flood_srv.pcap
URL_HOST=[2001:2::2] one cookie_v6_mss1400.pcap "$vc" 2 1 1 1400
one cookie_nots_sll.pcap any 2 0

link_up --delay 10 || exit 1
COUNT=40
route=(198.18.0.2 dev "$LINK_DEV_CLI" proto kernel scope link src "$LAB_CLI_IP")
one cookie_nots_tun.pcap "$LINK_DEV_CLI" 2 0
one nocookie_nots_tun.pcap "$LINK_DEV_CLI" 0 0
one cookie_mss1400_tun.pcap "$LINK_DEV_CLI" 2 1 1 1400
one nocookie_mss1400_tun.pcap "$LINK_DEV_CLI" 0 1 1 1400
link_down
lab_down
ls -l "$OUT"/*cookie*.pcap
