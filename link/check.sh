#!/usr/bin/env bash
# link/check.sh [--quick | --properties] [--out DIR]: `make link-check`. Measures churn-link against its
# configuration in a throwaway two-host lab and prints measured beside configured, with the host's steal
# time beside every run (a shared VM: the hypervisor takes the CPUs away, ~10 % at times).
#
# Two kinds of rows:
#   exact   counts that hold whatever the host does: every packet accounted for (sent = received + each
#           cause of loss, see reconcile), no reordering, the same seed drops the same datagrams, queue
#           overflow counted. A failure here is a bug.
#   timing  RTT, one-way delay, rates. Bounded tightly in the benchmark (issue 5: RTT within max(2 %,
#           100 us), rate within 5 %), loosely with --properties (bounds a loaded 2-CPU VM meets).
# Exit status: 0 all rows ok; 1 an exact row failed (or, in the benchmark, any row); 3 (--properties
# only) only timing rows failed: the host was too noisy, measure again (t_link_check does, at most 3x).
#
# The lab: lab/netns.sh's lab_up (two namespaces, RUNID, CHURNLAB_RUN marker, teardown trap), then
# lab/link.sh's link_up, which deletes the veth and joins the hosts through churn-link. One namespace
# setup for the whole project, so what is checked here is exactly what the scenarios run on.
#
# Per path, a few link runs (a fresh churn-link per run, same namespaces):
#   loss    the path (queue 1000, so only the loss draw drops): paced 128-byte datagrams A->B
#           -> loss, order, one-way delay, dropped seqs, and the reconciliation
#   idle    pings with no other traffic -> idle RTT
#   seed    the loss run again -> the same sequence numbers must be dropped
#   load    the path's delay at 200 Mbit/s, no loss, while a paced 100 Mbit/s stream flows A->B:
#           pings -> RTT under load; the stream must arrive whole (the link is not the bottleneck)
#   rate    the path with a small queue, blasted at 1.25 x the rate -> achieved rate, queue drops
# Every measurement is the median or a count; `churn-link measure` uses kernel receive timestamps.
set -u
cd "$(dirname "$0")/.." || exit 1
source lab/netns.sh
source lab/link.sh
source lab/meta.sh

MODE=full OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) MODE=quick ;;
    --properties) MODE=properties ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: link/check.sh [--quick | --properties] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
LINK=build/bin/churn-link
[ -x "$LINK" ] || { echo "link-check: $LINK is not built (make build/bin/churn-link)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "link-check: needs root (namespaces, TUN)" >&2; exit 2; }
SEED=${SEED:-1}
case $MODE in
  full)       PINGS=500 LOAD_S=3 BLAST_S=3 LOSS_N=50000 ;;
  quick)      PINGS=200 LOAD_S=1.5 BLAST_S=1.5 LOSS_N=50000 ;;
  properties) PINGS=100 LOAD_S=1 BLAST_S=1 LOSS_N=20000 ;;
esac

lab_up 2> /dev/null || { echo "link-check: lab_up failed" >&2; exit 1; }
lab_tmpdir
W=$LAB_TMP
LINK_DIR=$W
load0=$(cut -d' ' -f1-3 /proc/loadavg)
steal0=$(steal_sample)
t_start=$(date +%s)
bad_exact=0 bad_timing=0
TABLE=$W/table.txt

calc() { awk "BEGIN { printf \"%.${2:-3}f\", ($1) }"; }   # parenthesized: a bare > in printf is a redirection
j() { link_json_get "$1" "$2"; }
# row FIGURE CONFIGURED MEASURED BOUND OK(0|1) [exact|timing|info]
row() {
  local verdict=ok kind=${6:-exact}
  if [ "$kind" = info ]; then verdict=info
  elif [ "$5" != 1 ]; then
    verdict=FAIL
    if [ "$kind" = exact ]; then bad_exact=$((bad_exact + 1)); else bad_timing=$((bad_timing + 1)); fi
  fi
  printf "  %-46s %-17s %-17s %-20s %s\n" "$1" "$2" "$3" "$4" "$verdict" | tee -a "$TABLE"
}
ok() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }
# within NAME CONF MEAS TOL UNIT: |MEAS - CONF| <= TOL (a timing row)
within() { row "$1" "$2 $5" "$3 $5" "+-$4 $5" "$(ok "($3) - ($2) <= $4 && ($2) - ($3) <= $4")" timing; }
# above NAME CONF MEAS LO HI UNIT: CONF - LO <= MEAS <= CONF + HI (a timing row; delays are late, not early)
above() { row "$1" "$2 $6" "$3 $6" "-$4/+$5 $6" "$(ok "($3) >= ($2) - ($4) && ($3) <= ($2) + ($5)")" timing; }
# The tolerance on a delay of CONF ms: the benchmark's max(2 %, 0.1 ms); --properties: max(10 %, 1 ms).
tol_ms() {
  if [ $MODE = properties ]; then calc "($1 * 0.10 > 1) ? $1 * 0.10 : 1" 3
  else calc "($1 * 0.02 > 0.1) ? $1 * 0.02 : 0.1" 3; fi
}
rate_tol_pct() { [ $MODE = properties ] && echo 10 || echo 5; }
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
RUN=""
up() { RUN=$1; LINK_JSON_OUT=$W/$1.link.json; shift; link_up --duration 120 "$@" ${CHECK_LINK_ARGS:-} 2> "$W/up.log" ||
  { echo "link-check: link_up failed: $(cat "$W/up.log")" >&2; exit 1; }; }
# down: stop the link and say what the host did meanwhile, beside how late the link released packets.
down() {
  link_down 2> /dev/null
  local l=$W/$RUN.link.json d name parts=""
  for d in ab ba; do
    [ "$(j "$l" $d.release.released)" -gt 0 ] || continue
    [ $d = ab ] && name="A->B" || name="B->A"
    parts+="; release late $name p50 $(j "$l" $d.release.late_p50_us) / p99 $(j "$l" $d.release.late_p99_us) / max $(calc "$(j "$l" $d.release.late_max_us)" 0) us, $(j "$l" $d.release.late_over_1ms) > 1 ms"
  done
  echo "    ($RUN: host steal $(calc "$(j "$l" host.steal_pct)" 1) % over the link's $(calc "$(j "$l" elapsed_s)" 1) s$parts)" | tee -a "$TABLE"
}

# reconcile WHAT MEASURE_JSON RUN: every datagram the stream sent is received or has a counted cause, A->B.
# Where a datagram can go, in the order it meets them (lab/link.sh's link_kernel_drops for the kernel's):
#   sender's stack (SndbufErrors, qdisc, TUN tx_dropped) -> the link (loss, queue, no buffer, write error,
#   still in flight at exit) -> receiver's stack (TUN rx_dropped, RcvbufErrors, NoPorts: after the sink
#   closed, other UDP InErrors) -> received. A drop with no cause is "unexplained": a failure.
# Exact. Sets KDROPS (datagrams the kernels dropped around the link) for the caller.
reconcile() {
  local what=$1 m=$2 l=$W/$3.link.json k=$W/$3.link.kernel.json
  local sent recv c_loss c_q c_nb c_we c_un k_snd k_qd k_tx k_rx k_rcv k_np k_in other sum
  sent=$(j "$m" stream.sent) recv=$(j "$m" stream.received)
  c_loss=$(j "$l" ab.dropped_loss) c_q=$(j "$l" ab.dropped_queue) c_nb=$(j "$l" ab.dropped_no_buffer)
  c_we=$(j "$l" ab.write_errors) c_un=$(j "$l" ab.undelivered_at_exit)
  k_snd=$(j "$k" cli.udp.SndbufErrors) k_qd=$(j "$k" cli.qdisc.dropped) k_tx=$(j "$k" cli.dev.tx_dropped)
  k_rx=$(j "$k" srv.dev.rx_dropped) k_rcv=$(j "$k" srv.udp.RcvbufErrors) k_np=$(j "$k" srv.udp.NoPorts)
  k_in=$(j "$k" srv.udp.InErrors)
  other=$((k_in - k_rcv))   # InErrors counts RcvbufErrors too
  sum=$((recv + c_loss + c_q + c_nb + c_we + c_un + k_snd + k_qd + k_tx + k_rx + k_rcv + k_np + other))
  KDROPS=$((k_snd + k_qd + k_tx + k_rx + k_rcv + k_np + other))
  row "$what: sent = received + causes" "$sent" "$sum" "exact" "$(ok "$sent == $sum")"
  printf "      %s sent = %s received + link: %s loss, %s queue, %s no buffer, %s write errors, %s in flight at exit\n" \
    "$sent" "$recv" "$c_loss" "$c_q" "$c_nb" "$c_we" "$c_un" | tee -a "$TABLE"
  printf "      + kernel: A %s SndbufErrors, %s qdisc, %s TUN tx_dropped; B %s TUN rx_dropped, %s RcvbufErrors, %s NoPorts (late), %s other UDP errors; unexplained %s\n" \
    "$k_snd" "$k_qd" "$k_tx" "$k_rx" "$k_rcv" "$k_np" "$other" "$((sent - sum))" | tee -a "$TABLE"
  row "  ... the link's own books (in = each fate)" 0 "$(j "$l" ab.unaccounted) unaccounted" "exact" "$(ok "$(j "$l" ab.unaccounted) == 0")"
}

check_path() {
  local name=$1 d=$2 loss=$3 rate=$4 q=$5 qsmall=("${@:6}")
  local rtt=$(calc "2 * $d" 3) settle
  settle=$(calc "4 * $d + 300" 0)
  local ival=$(calc "$d >= 10 ? 5 : 2" 0)
  echo | tee -a "$TABLE"
  echo "path $name: ${rtt} ms RTT (${d} ms each way), ${loss} % loss, ${rate} Mbit/s, queue $q pkts (1 BDP), seed $SEED" | tee -a "$TABLE"
  printf "  %-46s %-17s %-17s %-20s %s\n" figure configured measured bound result | tee -a "$TABLE"

  # --- loss, order, one-way delay; every datagram accounted for ---
  up "$name-loss" --delay "$d" --loss "$loss" --rate "$rate" --queue-pkts 1000 --seed "$SEED"
  measure --stream-count $LOSS_N --stream-size 100 --stream-mbit 25.6 --settle "$settle" \
    --json "$W/$name-loss.json" --drops "$W/$name-drops1.txt"
  down
  local m=$W/$name-loss.json l=$W/$name-loss.link.json kd1 kd2
  reconcile "loss run" "$m" "$name-loss"
  kd1=$KDROPS
  within "loss A->B ($(j "$m" stream.lost) of $(j "$m" stream.sent) datagrams)" "$loss" "$(calc "$(j "$m" stream.loss_pct)")" 0.2 "%"
  row "reordered / duplicated datagrams" "0 / 0" "$(j "$m" stream.reordered) / $(j "$m" stream.duplicates)" "exact" \
    "$(ok "$(j "$m" stream.reordered) == 0 && $(j "$m" stream.duplicates) == 0")"
  local owd_cfg tol_owd
  owd_cfg=$(calc "$d + $(ser_ms 128 "$rate")" 3)
  tol_owd=$(tol_ms "$owd_cfg")
  above "one-way delay, median" "$owd_cfg" "$(calc "$(j "$m" stream.owd_median_us) / 1000")" 0.1 "$tol_owd" ms
  # The tails are where the host's stalls show: tight in the benchmark, reported (info) as a property.
  local tail_kind=timing
  [ $MODE = properties ] && tail_kind=info
  row "one-way delay, p1 (constant delay)" "$owd_cfg ms" "$(calc "$(j "$m" stream.owd_p1_us) / 1000") ms" "-0.1/+$tol_owd ms" \
    "$(ok "$(j "$m" stream.owd_p1_us) / 1000 >= $owd_cfg - 0.1 && $(j "$m" stream.owd_p1_us) / 1000 <= $owd_cfg + $tol_owd")" $tail_kind
  row "one-way delay, p99 (constant delay)" "$owd_cfg ms" "$(calc "$(j "$m" stream.owd_p99_us) / 1000") ms" "-0.1/+$tol_owd ms" \
    "$(ok "$(j "$m" stream.owd_p99_us) / 1000 >= $owd_cfg - 0.1 && $(j "$m" stream.owd_p99_us) / 1000 <= $owd_cfg + $tol_owd")" $tail_kind

  # --- idle RTT: pings alone on a fresh link ---
  up "$name-idle" --delay "$d" --loss "$loss" --rate "$rate" --queue-pkts 1000 --seed "$SEED"
  measure --pings $PINGS --ping-interval "$ival" --settle "$settle" --json "$W/$name-idle.json"
  down
  local i=$W/$name-idle.json cfg
  cfg=$(calc "$rtt + 2 * $(ser_ms 92 "$rate")" 3)
  above "RTT idle (median of $(j "$i" rtt.received))" "$cfg" "$(calc "$(j "$i" rtt.median_us) / 1000")" 0.1 "$(tol_ms "$cfg")" ms

  # --- same seed, same drops ---
  up "$name-seed" --delay "$d" --loss "$loss" --rate "$rate" --queue-pkts 1000 --seed "$SEED"
  measure --stream-count $LOSS_N --stream-size 100 --stream-mbit 25.6 --settle "$settle" \
    --json "$W/$name-seed.json" --drops "$W/$name-drops2.txt"
  down
  m=$W/$name-seed.json l=$W/$name-seed.link.json
  reconcile "seed run" "$m" "$name-seed"
  kd2=$KDROPS
  local n1 n2 same=0 seed_kind=exact
  n1=$(wc -l < "$W/$name-drops1.txt") n2=$(wc -l < "$W/$name-drops2.txt")
  cmp -s "$W/$name-drops1.txt" "$W/$name-drops2.txt" && [ "$n1" -gt 0 ] && same=1
  # A datagram the kernel dropped before the link (a stall overflowed the TUN ring) never took its
  # draw, so every later datagram meets a different one: then the comparison says something about the
  # host, not the seed (reconcile shows where they went).
  [ $((kd1 + kd2)) -gt 0 ] && seed_kind=timing
  row "same seed, same drops (two runs)" "identical" "$n1 vs $n2 $([ $same = 1 ] && echo same || echo differ)" \
    "identical$([ $seed_kind = timing ] && echo ", kernel dropped $((kd1 + kd2))")" $same $seed_kind
  row "  ... all of them loss draws (link's count)" "$(j "$l" ab.dropped_loss)" "$(j "$m" stream.lost)" "exact" \
    "$(ok "$(j "$l" ab.dropped_loss) == $(j "$m" stream.lost) && $(j "$l" ab.dropped_queue) == 0")" $seed_kind

  # --- RTT under load: 100 Mbit/s A->B on a 200 Mbit/s link ---
  local n_load
  n_load=$(calc "100e6 * $LOAD_S / 8 / 1500" 0)
  up "$name-load" --delay "$d" --rate 200 --seed "$SEED"
  measure --pings $PINGS --ping-interval "$ival" --stream-count "$n_load" --stream-mbit 100 --settle "$settle" \
    --json "$W/$name-load.json"
  down
  m=$W/$name-load.json l=$W/$name-load.link.json
  cfg=$(calc "$rtt + 2 * $(ser_ms 92 200)" 3)
  local load_tol
  load_tol=$(tol_ms "$cfg")
  [ $MODE = properties ] && load_tol=$(calc "2 * $load_tol" 3)   # two streams share the link and the host
  above "RTT, 100 Mbit/s flowing (median of $(j "$m" rtt.received))" "$cfg" "$(calc "$(j "$m" rtt.median_us) / 1000")" 0.1 "$load_tol" ms
  within "100 Mbit/s stream carried (rate at B)" 100 "$(calc "$(j "$m" stream.rx_mbit)" 2)" "$(rate_tol_pct)" Mbit/s
  local txdrop
  txdrop=$(j "$W/$name-load.link.kernel.json" cli.dev.tx_dropped)
  row "  ... delivered whole (lost, TUN tx_dropped)" "0, 0" "$(j "$m" stream.lost), $txdrop" "exact" \
    "$(ok "$(j "$m" stream.lost) == 0 && $txdrop == 0")" timing
  echo "    (link CPU $(calc "$(j "$l" cpu_pct)" 1) % of one core, $(j "$l" scheduling), cpu $(j "$l" cpu), mlock $(j "$l" mlock), TUN ring ${LINK_TXQUEUELEN:-10000})" | tee -a "$TABLE"

  # --- rate and drop-tail: blast 1.25 x the rate into a small queue ---
  local blast n_blast
  blast=$(calc "1.25 * $rate" 2)
  n_blast=$(calc "$blast * 1e6 * $BLAST_S / 8 / 1500" 0)
  up "$name-rate" --delay "$d" --loss "$loss" --rate "$rate" "${qsmall[@]}" --seed "$SEED"
  measure --stream-count "$n_blast" --stream-mbit "$blast" --settle "$settle" --json "$W/$name-rate.json"
  down
  m=$W/$name-rate.json l=$W/$name-rate.link.json
  within "achieved rate, ${blast} Mbit/s offered" "$rate" "$(calc "$(j "$m" stream.rx_mbit)" 2)" "$(calc "$rate * $(rate_tol_pct) / 100" 2)" Mbit/s
  row "queue overflow drops (${qsmall[*]})" "> 0" "$(j "$l" ab.dropped_queue)" "> 0" "$(ok "$(j "$l" ab.dropped_queue) > 0")"
  reconcile "rate run" "$m" "$name-rate"
}

echo "link-check: churn-link, $MODE run, load average before: $load0" | tee "$TABLE"
if [ $MODE != properties ]; then
  # The floor: RTT through a link with no delay at all, i.e. the two hosts' stacks plus churn-link's TUN
  # reads and writes. Every configured RTT below is measured on top of this; it is not subtracted.
  up floor --delay 0
  measure --pings $PINGS --ping-interval 1 --settle 100 --json "$W/floor.json"
  down
  echo "RTT floor with --delay 0 (host stacks + TUN hops): median $(calc "$(j "$W/floor.json" rtt.median_us)" 1) us, p90 $(calc "$(j "$W/floor.json" rtt.p90_us)" 1) us; as an application sees it (no kernel timestamps): $(calc "$(j "$W/floor.json" rtt.app_median_us)" 1) us" | tee -a "$TABLE"
  check_path default 25 1 100 "$(link_bdp_pkts 100 50)" --queue-pkts 20
  check_path short 1 1 100 "$(link_bdp_pkts 100 2)" --queue-bytes 15000
else
  # One path, short enough that the test fits its time: 10 ms RTT.
  check_path props 5 1 100 "$(link_bdp_pkts 100 10)" --queue-pkts 20
fi
steal=$(steal_since "$steal0" | awk '{ printf "%d ticks of %d, %.1f %%", $1, $2, $3 }')
echo | tee -a "$TABLE"
echo "link-check: $(( $(date +%s) - t_start )) s; host steal over the check: $steal; load average after: $(cut -d' ' -f1-3 /proc/loadavg); $bad_exact exact and $bad_timing timing figure(s) out of bounds" | tee -a "$TABLE"
meta_run_line "make link-check${LINK_CHECK_HOW:+ $LINK_CHECK_HOW}" | tee -a "$TABLE"
if [ -n "$OUT" ]; then mkdir -p "$OUT" && cp "$W"/*.json "$W"/*.txt "$OUT"/ && echo "link-check: results in $OUT"; fi
lab_down 2> /dev/null
[ $bad_exact -eq 0 ] || exit 1
if [ $bad_timing -gt 0 ]; then [ $MODE = properties ] && exit 3; exit 1; fi
exit 0
