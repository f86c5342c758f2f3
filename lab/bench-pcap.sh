#!/usr/bin/env bash
# bench-pcap.sh: how fast `churn-pcap decode` reads a large churn capture, against the tools people would
# otherwise use on the same file:
#
#   churn-pcap decode --json F > /dev/null          every flow: handshake times, options, requests, close
#   tshark -r F -Y 'SYN without ACK' -T fields ...   tshark listing the handshakes (stream, time, MSS)
#   tcpdump -r F -nn > /dev/null                    tcpdump printing every packet
#
# The capture is real: a churn run in a fresh lab (RATE=3000 connections/s for BENCH_PCAP_D=8 s, about
# 10 packets per connection, so >= 200 000 packets), captured by `churn-pcap capture` on the client host's
# veth with a 128-byte snaplen (every header kept, the file stays ~30 MB). BENCH_PCAP_SYNTH=1 writes a
# synthetic capture of the same shape instead (`churn-pcap synth`), without a lab.
#
# Each tool runs BENCH_RUNS (5) times, alternating, on a file already in the page cache (one warm-up read
# first); medians are compared. Targets: churn-pcap >= 20x faster than tshark, and no slower than tcpdump.
# Output: results/bench-pcap-<UTC ts>/bench-pcap.json and bench-pcap.md, and the ratios on stdout.
# Exit status 0 when both targets are met, 1 when one is missed, 2 when the bench could not run.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

RATE=${RATE:-3000}
BENCH_PCAP_D=${BENCH_PCAP_D:-8}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_PCAP_SYNTH=${BENCH_PCAP_SYNTH:-0}
MIN_PACKETS=200000
BIN=${BIN:-build/bin}
PCAP=$BIN/churn-pcap

die() { echo "bench-pcap: $*" >&2; exit 2; }
for b in "$PCAP" "$BIN/churn-client" "$BIN/churn-server"; do [ -x "$b" ] || die "$b not found (run: make)"; done
command -v tshark > /dev/null && command -v tcpdump > /dev/null || lab/deps.sh pcap || die "tshark/tcpdump missing (make deps-pcap)"

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/bench-pcap-$ts
mkdir -p "$dir" || die "cannot create $dir"

# ---- the capture --------------------------------------------------------------------------------------
source lab/netns.sh
if [ "$BENCH_PCAP_SYNTH" = 1 ]; then
  work=$(mktemp -d /tmp/churn-bench-pcap-XXXXXX) || die "mktemp failed"
  trap 'rm -rf "$work"' EXIT
  f=$work/churn.pcap
  source_desc="synthetic (churn-pcap synth)"
  cap_cpu=null
  "$PCAP" synth -o "$f" --connections $((RATE * BENCH_PCAP_D)) --rate "$RATE" || die "synth failed"
else
  # As in lab/bench.sh: the widest port range and tcp_tw_reuse=1, in the lab's namespaces only, so that
  # 24 000 connections in 8 s measure the decoder, not EADDRNOTAVAIL.
  export TW_REUSE=${TW_REUSE:-1} PORT_RANGE=${PORT_RANGE:-"1024 65535"}
  lab_up || die "lab setup failed"
  lab_tmpdir   # removed by lab_down, also on Ctrl-C
  f=$LAB_TMP/churn.pcap
  source_desc="captured: churn-client --mode churn -R $RATE -d $BENCH_PCAP_D, churn-pcap capture --snaplen 128"
  ip netns exec "$LAB_SRV" "$BIN/churn-server" --quiet --listen "$LAB_SRV_IP:8080" > "$dir/server.log" 2>&1 &
  srv=$!
  for _ in $(seq 1 50); do ip netns exec "$LAB_SRV" ss -Hltn "sport = :8080" | grep -q . && break; sleep 0.1; done
  "$PCAP" capture --netns "$LAB_CLI" -i "cl${RUNID}c" -w "$f" --snaplen 128 --buffer-mb 64 \
    --seconds $((BENCH_PCAP_D + 20)) --json "$dir/capture.json" 2> "$dir/capture.log" &
  cap=$!
  lab_track $cap
  for _ in $(seq 1 50); do grep -q "capturing on" "$dir/capture.log" && break; sleep 0.1; done
  grep -q "capturing on" "$dir/capture.log" || die "capture did not start: $(cat "$dir/capture.log")"
  ip netns exec "$LAB_CLI" "$BIN/churn-client" -q --mode churn -R "$RATE" -d "$BENCH_PCAP_D" \
    --json "$dir/client.json" "http://$LAB_SRV_IP:8080/" > "$dir/client.log" 2>&1
  sleep 0.3
  # The capture's own CPU time (utime + stime, fields 14 and 15 of /proc/PID/stat, in clock ticks): what a
  # capture running beside `make compare` takes from the client and the server on a 2-core machine.
  cap_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$cap/stat 2> /dev/null)
  kill -INT $cap; wait $cap
  kill -TERM $srv; wait $srv 2> /dev/null
  cat "$dir/capture.log" >&2
fi
packets=$(tcpdump -r "$f" 2> /dev/null | wc -l)
bytes=$(stat -c %s "$f")
[ "$packets" -ge $MIN_PACKETS ] || echo "bench-pcap: note: $packets packets, fewer than $MIN_PACKETS (raise BENCH_PCAP_D)" >&2

# ---- the timing ---------------------------------------------------------------------------------------
# Wall time of one run in seconds, from bash's EPOCHREALTIME (µs resolution, no fork for `date`).
timed() {
  local t0=$EPOCHREALTIME
  "$@" > /dev/null 2>&1
  local rc=$?
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }'
  return $rc
}
run_ours()    { "$PCAP" decode --json "$f"; }
run_tshark()  { tshark -r "$f" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.stream -e frame.time_epoch -e tcp.options.mss_val; }
run_tcpdump() { tcpdump -r "$f" -nn; }
cat "$f" > /dev/null   # page cache warm for all three
: > "$dir/runs.tsv"
for i in $(seq 1 "$BENCH_RUNS"); do
  for tool in ours tshark tcpdump; do
    t=$(timed run_$tool) || die "$tool failed on $f"
    printf '%s\t%s\t%s\n' "$tool" "$i" "$t" >> "$dir/runs.tsv"
  done
done
median() { awk -F'\t' -v t="$1" '$1 == t { print $3 }' "$dir/runs.tsv" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m_ours=$(median ours) m_tshark=$(median tshark) m_tcpdump=$(median tcpdump)

# Sanity: the three read the same file; decode's handshakes vs tshark's SYN count.
"$PCAP" decode --json "$f" > "$dir/decode.json" || die "decode failed"
"$PCAP" decode --summary "$f" > "$dir/decode.txt"
hs=$(awk -F': ' '/"handshakes":/ { gsub(/[^0-9]/, "", $2); print $2; exit }' "$dir/decode.json")
syns=$(run_tshark 2> /dev/null | wc -l)
# And iRTT per flow against tshark's tcp.analysis.initial_rtt, to the µs (as tests/integration/t_pcap_tshark).
tshark -r "$f" -Y tcp.analysis.initial_rtt -T fields -e tcp.stream -e tcp.analysis.initial_rtt 2> /dev/null |
  awk '!seen[$1]++ { split($2, p, "."); ns = p[1] * 1000000000 + substr(p[2] "000000000", 1, 9);
                     printf "%d %d\n", $1, int((ns + 500) / 1000) }' > "$dir/tshark.irtt"
awk 'match($0, /"index": [0-9]+/) { i = substr($0, RSTART + 9, RLENGTH - 9)
     if (match($0, /"irtt_us": [0-9]+/)) print i, substr($0, RSTART + 11, RLENGTH - 11) }' "$dir/decode.json" > "$dir/decode.irtt"
irtt_equal=$(awk 'NR == FNR { t[$1] = $2; next } ($1 in t) && t[$1] == $2 { n++ } END { print n + 0 }' \
  "$dir/tshark.irtt" "$dir/decode.irtt")
irtt_tshark=$(wc -l < "$dir/tshark.irtt")

vs_tshark=$(awk -v a="$m_tshark" -v b="$m_ours" 'BEGIN { printf "%.1f", a / b }')
vs_tcpdump=$(awk -v a="$m_tcpdump" -v b="$m_ours" 'BEGIN { printf "%.2f", a / b }')
ok_tshark=$(awk -v r="$vs_tshark" 'BEGIN { print (r >= 20) ? "true" : "false" }')
ok_tcpdump=$(awk -v r="$vs_tcpdump" 'BEGIN { print (r >= 1) ? "true" : "false" }')

cat > "$dir/bench-pcap.json" <<EOF
{
  "capture": {"source": "$source_desc", "packets": $packets, "bytes": $bytes, "handshakes": ${hs:-null}, "tshark_syns": $syns, "capture_cpu_s": ${cap_cpu:-null},
              "irtt_flows_tshark": $irtt_tshark, "irtt_flows_equal_to_the_us": $irtt_equal},
  "runs": $BENCH_RUNS,
  "median_s": {"churn_pcap_decode": $m_ours, "tshark_handshakes": $m_tshark, "tcpdump_r": $m_tcpdump},
  "speedup": {"vs_tshark": $vs_tshark, "vs_tcpdump": $vs_tcpdump},
  "targets": {"vs_tshark_min": 20, "vs_tcpdump_min": 1, "vs_tshark_met": $ok_tshark, "vs_tcpdump_met": $ok_tcpdump}
}
EOF
{
  echo "| decode of a $packets-packet churn capture ($((bytes / 1048576)) MiB) | median of $BENCH_RUNS | churn-pcap is |"
  echo "|---|---:|---:|"
  echo "| churn-pcap decode --json | ${m_ours} s | |"
  echo "| tshark listing the handshakes | ${m_tshark} s | ${vs_tshark}x faster (target >= 20x) |"
  echo "| tcpdump -r -nn | ${m_tcpdump} s | ${vs_tcpdump}x as fast (target >= 1x) |"
} > "$dir/bench-pcap.md"

[ "$BENCH_PCAP_SYNTH" = 1 ] || lab_down
cat "$dir/bench-pcap.md"
cpu_text="${cap_cpu} s"
[ "${cap_cpu:-null}" = null ] && cpu_text=n/a
echo "bench-pcap: $packets packets, $hs handshakes (tshark: $syns SYNs), iRTT equal to tshark's on $irtt_equal of" \
     "$irtt_tshark flows; capture CPU: $cpu_text; results in $dir"
[ "$ok_tshark" = true ] && [ "$ok_tcpdump" = true ]
