#!/usr/bin/env bash
# link/check.sh [--quick] [--out DIR]: `make link-check`. Measures churn-link against its configuration
# in a throwaway two-host lab and prints measured beside configured; exit 1 if a figure is out of bounds.
#
# The lab: lab/netns.sh's lab_up (two namespaces, RUNID, CHURNLAB_RUN marker, teardown trap), then
# lab/link.sh's link_up, which deletes the veth and joins the hosts through churn-link. One namespace
# setup for the whole project, so what is checked here is exactly what the scenarios run on.
#
# Two paths, each a few link runs (a fresh churn-link per run, same namespaces):
#   default  50 ms RTT, 1 % loss, 100 Mbit/s, queue 1 BDP (417 packets)
#   short     2 ms RTT, 1 % loss, 100 Mbit/s, queue 1 BDP (17 packets)
# run "loss"    the path (queue 1000, so only the loss draw drops): 50 000 paced 128-byte datagrams A->B,
#               then pings with no other traffic -> loss, order, one-way delay, idle RTT, dropped seqs
# run "seed"    the same link and traffic again -> the same sequence numbers must be dropped
# run "loaded"  the path's delay at 200 Mbit/s, no loss, while a paced 100 Mbit/s stream flows A->B:
#               pings -> RTT under load; the stream must arrive whole (the link is not the bottleneck)
# run "rate"    the path with a small queue, blasted at 1.25 x the rate -> achieved rate, queue drops
# Bounds (issue 5): RTT within max(2 %, 100 us); loss within 0.2 points; rate within 5 %; no reordering.
# Every measurement is the median or a count; `churn-link measure` uses kernel receive timestamps.
set -u
cd "$(dirname "$0")/.." || exit 1
source lab/netns.sh
source lab/link.sh

QUICK=0 OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: link/check.sh [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
LINK=build/bin/churn-link
[ -x "$LINK" ] || { echo "link-check: $LINK is not built (make build/bin/churn-link)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "link-check: needs root (namespaces, TUN)" >&2; exit 2; }
SEED=${SEED:-1}
if [ $QUICK = 1 ]; then PINGS=200 LOAD_S=1.5 BLAST_S=1.5; else PINGS=500 LOAD_S=3 BLAST_S=3; fi
LOSS_N=50000

lab_up 2> /dev/null || { echo "link-check: lab_up failed" >&2; exit 1; }
lab_tmpdir
W=$LAB_TMP
LINK_DIR=$W
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
bad=0
TABLE=$W/table.txt

calc() { awk "BEGIN { printf \"%.${2:-3}f\", ($1) }"; }   # parenthesized: a bare > in printf is a redirection
j() { link_json_get "$1" "$2"; }
# row FIGURE CONFIGURED MEASURED BOUND OK(0|1)
row() {
  local verdict=ok
  [ "$5" = 1 ] || { verdict=FAIL; bad=$((bad + 1)); }
  printf "  %-44s %-17s %-17s %-20s %s\n" "$1" "$2" "$3" "$4" "$verdict" | tee -a "$TABLE"
}
ok() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }
# within NAME CONF MEAS TOL UNIT: |MEAS - CONF| <= TOL
within() { row "$1" "$2 $5" "$3 $5" "+-$4 $5" "$(ok "($3) - ($2) <= $4 && ($2) - ($3) <= $4")"; }
ser_ms() { calc "$1 * 8 / ($2 * 1e6) * 1000" 4; }   # BYTES MBIT -> serialization in ms

# In the background and lab_track'ed: it runs in the host namespace, so lab_down would not find it
# through `ip netns pids` if we are interrupted; `wait` returns at once when a trapped signal arrives.
measure() {
  "$LINK" measure --ns-a "$LAB_CLI" --ns-b "$LAB_SRV" "$@" > "$W/measure.log" 2>&1 &
  local pid=$!
  lab_track $pid
  wait $pid || { echo "link-check: churn-link measure failed: $(cat "$W/measure.log")" >&2; exit 1; }
}
# CHECK_LINK_ARGS: extra churn-link flags appended to every run, to test the test: e.g.
# CHECK_LINK_ARGS="--delay-ab 1.2" on the short path must turn its RTT and one-way rows to FAIL.
up() { LINK_JSON_OUT=$W/$1.link.json; shift; link_up --duration 120 "$@" ${CHECK_LINK_ARGS:-} 2> "$W/up.log" ||
  { echo "link-check: link_up failed: $(cat "$W/up.log")" >&2; exit 1; }; }
down() { link_down 2> /dev/null; }

check_path() {
  local name=$1 d=$2 loss=$3 rate=$4 q=$5 qsmall=("${@:6}")
  local rtt=$(calc "2 * $d" 3) settle
  settle=$(calc "4 * $d + 300" 0)
  local ival=$(calc "$d >= 10 ? 5 : 2" 0)
  echo | tee -a "$TABLE"
  echo "path $name: ${rtt} ms RTT (${d} ms each way), ${loss} % loss, ${rate} Mbit/s, queue $q pkts (1 BDP), seed $SEED" | tee -a "$TABLE"
  printf "  %-44s %-17s %-17s %-20s %s\n" figure configured measured bound result | tee -a "$TABLE"

  # --- loss, order, one-way delay, idle RTT ---
  up "$name-loss" --delay "$d" --loss "$loss" --rate "$rate" --queue-pkts 1000 --seed "$SEED"
  measure --stream-count $LOSS_N --stream-size 100 --stream-mbit 25.6 --settle "$settle" \
    --json "$W/$name-loss.json" --drops "$W/$name-drops1.txt"
  measure --pings $PINGS --ping-interval "$ival" --settle "$settle" --json "$W/$name-idle.json"
  down
  local m=$W/$name-loss.json l=$W/$name-loss.link.json
  within "loss A->B ($(j "$m" stream.lost) of $(j "$m" stream.sent) datagrams)" "$loss" "$(calc "$(j "$m" stream.loss_pct)")" 0.2 "%"
  row "reordered / duplicated datagrams" "0 / 0" "$(j "$m" stream.reordered) / $(j "$m" stream.duplicates)" "exact" \
    "$(ok "$(j "$m" stream.reordered) == 0 && $(j "$m" stream.duplicates) == 0")"
  local owd_cfg tol_owd
  owd_cfg=$(calc "$d + $(ser_ms 128 "$rate")" 3)
  tol_owd=$(calc "($owd_cfg * 0.02 > 0.1) ? $owd_cfg * 0.02 : 0.1" 3)
  within "one-way delay, median" "$owd_cfg" "$(calc "$(j "$m" stream.owd_median_us) / 1000")" "$tol_owd" ms
  within "one-way delay, p1 (constant delay)" "$owd_cfg" "$(calc "$(j "$m" stream.owd_p1_us) / 1000")" "$tol_owd" ms
  within "one-way delay, p99 (constant delay)" "$owd_cfg" "$(calc "$(j "$m" stream.owd_p99_us) / 1000")" "$tol_owd" ms
  local i=$W/$name-idle.json cfg tol
  cfg=$(calc "$rtt + 2 * $(ser_ms 92 "$rate")" 3)
  tol=$(calc "($cfg * 0.02 > 0.1) ? $cfg * 0.02 : 0.1" 3)
  within "RTT idle (median of $(j "$i" rtt.received))" "$cfg" "$(calc "$(j "$i" rtt.median_us) / 1000")" "$tol" ms

  # --- same seed, same drops ---
  up "$name-seed" --delay "$d" --loss "$loss" --rate "$rate" --queue-pkts 1000 --seed "$SEED"
  measure --stream-count $LOSS_N --stream-size 100 --stream-mbit 25.6 --settle "$settle" \
    --json "$W/$name-seed.json" --drops "$W/$name-drops2.txt"
  down
  local n1 n2 same=0
  n1=$(wc -l < "$W/$name-drops1.txt") n2=$(wc -l < "$W/$name-drops2.txt")
  cmp -s "$W/$name-drops1.txt" "$W/$name-drops2.txt" && [ "$n1" -gt 0 ] && same=1
  row "same seed, same drops (two runs)" "identical" "$n1 vs $n2 $([ $same = 1 ] && echo same || echo differ)" "identical" $same
  m=$W/$name-seed.json l=$W/$name-seed.link.json
  row "  ... all of them loss draws (link's count)" "$(j "$l" ab.dropped_loss)" "$(j "$m" stream.lost)" "exact" \
    "$(ok "$(j "$l" ab.dropped_loss) == $(j "$m" stream.lost) && $(j "$l" ab.dropped_queue) == 0")"

  # --- RTT under load: 100 Mbit/s A->B on a 200 Mbit/s link ---
  local n_load
  n_load=$(calc "100e6 * $LOAD_S / 8 / 1500" 0)
  up "$name-load" --delay "$d" --rate 200 --seed "$SEED"
  measure --pings $PINGS --ping-interval "$ival" --stream-count "$n_load" --stream-mbit 100 --settle "$settle" \
    --json "$W/$name-load.json"
  local txdrop
  txdrop=$(ip netns exec "$LAB_CLI" cat "/sys/class/net/$LINK_DEV_CLI/statistics/tx_dropped")
  down
  m=$W/$name-load.json l=$W/$name-load.link.json
  cfg=$(calc "$rtt + 2 * $(ser_ms 92 200)" 3)
  tol=$(calc "($cfg * 0.02 > 0.1) ? $cfg * 0.02 : 0.1" 3)
  within "RTT, 100 Mbit/s flowing (median of $(j "$m" rtt.received))" "$cfg" "$(calc "$(j "$m" rtt.median_us) / 1000")" "$tol" ms
  within "100 Mbit/s stream carried (rate at B)" 100 "$(calc "$(j "$m" stream.rx_mbit)" 2)" 5 Mbit/s
  row "  ... delivered whole (lost, TUN tx_dropped)" "0, 0" "$(j "$m" stream.lost), $txdrop" "exact" \
    "$(ok "$(j "$m" stream.lost) == 0 && $txdrop == 0")"
  echo "    (link CPU $(calc "$(j "$l" cpu_pct)" 1) % of one core, $(j "$l" scheduling), release late mean A->B $(calc "$(j "$l" ab.release.late_mean_us)" 1) us)" | tee -a "$TABLE"

  # --- rate and drop-tail: blast 1.25 x the rate into a small queue ---
  local blast n_blast
  blast=$(calc "1.25 * $rate" 2)
  n_blast=$(calc "$blast * 1e6 * $BLAST_S / 8 / 1500" 0)
  up "$name-rate" --delay "$d" --loss "$loss" --rate "$rate" "${qsmall[@]}" --seed "$SEED"
  measure --stream-count "$n_blast" --stream-mbit "$blast" --settle "$settle" --json "$W/$name-rate.json"
  down
  m=$W/$name-rate.json l=$W/$name-rate.link.json
  within "achieved rate, ${blast} Mbit/s offered" "$rate" "$(calc "$(j "$m" stream.rx_mbit)" 2)" "$(calc "$rate * 0.05" 2)" Mbit/s
  local sent recv pin dl dq dv un nb we
  sent=$(j "$m" stream.sent) recv=$(j "$m" stream.received) pin=$(j "$l" ab.packets_in)
  dl=$(j "$l" ab.dropped_loss) dq=$(j "$l" ab.dropped_queue) dv=$(j "$l" ab.delivered_packets)
  un=$(j "$l" ab.undelivered_at_exit) nb=$(j "$l" ab.dropped_no_buffer) we=$(j "$l" ab.write_errors)
  row "queue overflow drops (${qsmall[*]})" "> 0" "$dq" "> 0" "$(ok "$dq > 0")"
  row "  ... = in - delivered - loss drops" "$((pin - dv - dl - un - nb - we))" "$dq" "exact" \
    "$(ok "$dq == $pin - $dv - $dl - $un - $nb - $we")"
  row "  ... sent - received = loss + queue drops" "$((dl + dq))" "$((sent - recv))" "exact" \
    "$(ok "$sent - $recv == $dl + $dq && $pin == $sent")"
}

echo "link-check: churn-link, $([ $QUICK = 1 ] && echo quick || echo full) run, load average before: $load0" | tee "$TABLE"
# The floor: RTT through a link with no delay at all, i.e. the two hosts' stacks plus churn-link's TUN
# reads and writes. Every configured RTT below is measured on top of this; it is not subtracted.
up floor --delay 0
measure --pings $PINGS --ping-interval 1 --settle 100 --json "$W/floor.json"
down
echo "RTT floor with --delay 0 (host stacks + TUN hops): median $(calc "$(j "$W/floor.json" rtt.median_us)" 1) us, p90 $(calc "$(j "$W/floor.json" rtt.p90_us)" 1) us; as an application sees it (no kernel timestamps): $(calc "$(j "$W/floor.json" rtt.app_median_us)" 1) us" | tee -a "$TABLE"
check_path default 25 1 100 "$(link_bdp_pkts 100 50)" --queue-pkts 20
check_path short 1 1 100 "$(link_bdp_pkts 100 2)" --queue-bytes 15000
echo | tee -a "$TABLE"
echo "link-check: $(( $(date +%s) - t_start )) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg); $bad figure(s) out of bounds" | tee -a "$TABLE"
if [ -n "$OUT" ]; then mkdir -p "$OUT" && cp "$W"/*.json "$W"/*.txt "$OUT"/; fi
lab_down 2> /dev/null
[ $bad -eq 0 ]
