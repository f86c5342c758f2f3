#!/usr/bin/env bash
# link/timing.sh [REPS [OUT_DIR]]: what each of churn-link's timing measures buys on this host, as a markdown table
# (the table of EXPERIMENTS.md's link timing section). One lab; for each variant REPS link runs (default 3), each
# carrying 50 000 paced 128-byte datagrams A->B at 25 000 packets/s over a 1 ms one-way delay, the rate
# where a stall of a few ms overflows a default TUN ring. Per variant, the medians over its runs of:
#   release lateness p50/p99/max (churn-link's own), one-way delay p50/p99 (kernel receive stamps),
#   datagrams the kernel dropped before the link (TUN tx_dropped), and the host's steal during the runs;
# over all runs of the variant: datagrams lost beyond the link's 1 % loss draws, and whether every run
# (same seed) lost the same datagrams.
# "before" is the link as it was (TUN ring 500, SCHED_FIFO, spin up to 100 us, no mlock, any CPU); two rows
# take its measures away to show what they were worth; the last three add today's, cumulatively.
set -u
cd "$(dirname "$0")/.." || exit 1
source lab/netns.sh
source lab/link.sh
source lab/meta.sh
REPS=${1:-3}
# With OUT_DIR (make link-timing passes results/link-timing-<ts>), the table is also kept there as
# timing.md, which `make evidence` copies to evidence/link/ for EXPERIMENTS.md.
OUT=${2:-}
if [ -n "$OUT" ]; then mkdir -p "$OUT" || exit 2; exec > >(tee "$OUT/timing.md"); fi
steal0=$(steal_sample)
LINK=build/bin/churn-link
[ -x "$LINK" ] || { echo "timing: $LINK is not built" >&2; exit 2; }
lab_up 2> /dev/null || { echo "timing: lab_up failed" >&2; exit 1; }
lab_tmpdir
W=$LAB_TMP LINK_DIR=$LAB_TMP
j() { link_json_get "$1" "$2"; }
med() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "n/a" }'; }
last_cpu=$(( $(nproc) - 1 ))

# A stolen vCPU, reproduced: the hypervisor's steal comes and goes, so a variant can also be run with
# the link stopped (SIGSTOP) for STALL_MS, three times in its 2 s, as the host did to it in issue 8.
stall() {
  local k
  sleep 0.4
  for k in 1 2 3; do
    kill -STOP "$LINK_PID"; sleep "$(awk -v m="$1" 'BEGIN { print m / 1000 }')"; kill -CONT "$LINK_PID"; sleep 0.4
  done
}

# variant NAME TXQUEUELEN STALL_MS LINK-FLAGS...
variant() {
  local name=$1 txq=$2 stall_ms=$3 r f
  shift 3
  : > "$W/rows"
  rm -f "$W"/drops.*
  for r in $(seq 1 "$REPS"); do
    LINK_TXQUEUELEN=$txq LINK_JSON_OUT=$W/l.json link_up --delay 1 --rate 1000 --loss-ab 1 --duration 60 "$@" 2> /dev/null ||
      { echo "timing: link_up failed" >&2; exit 1; }
    "$LINK" measure --ns-a "$LAB_CLI" --ns-b "$LAB_SRV" --stream-count 50000 --stream-size 100 --stream-mbit 25.6 \
      --settle 300 --json "$W/m.json" --drops "$W/drops.$r" > /dev/null 2>&1 &
    f=$!; lab_track $f
    [ "$stall_ms" -gt 0 ] && stall "$stall_ms"
    wait $f
    link_down 2> /dev/null
    echo "$(j "$W/l.json" ab.release.late_p50_us) $(j "$W/l.json" ab.release.late_p99_us) $(j "$W/l.json" ab.release.late_max_us)" \
      "$(j "$W/m.json" stream.owd_median_us) $(j "$W/m.json" stream.owd_p99_us) $(j "$W/l.kernel.json" cli.dev.tx_dropped)" \
      "$(j "$W/l.json" host.steal_pct) $(j "$W/m.json" stream.lost) $(j "$W/l.json" ab.dropped_loss)" >> "$W/rows"
  done
  local c out="| $name |"
  for c in 1 2 3 4 5 6 7; do
    case $c in
      4|5) out+=" $(cut -d' ' -f$c "$W/rows" | med | awk '{ printf "%.0f", $1 - 1000 }') |" ;;  # OWD minus the 1 ms delay
      7) out+=" $(cut -d' ' -f$c "$W/rows" | med | awk '{ printf "%.1f %%", $1 }') (max $(cut -d' ' -f$c "$W/rows" | sort -n | tail -1 | awk '{ printf "%.1f", $1 }')) |" ;;
      *) out+=" $(cut -d' ' -f$c "$W/rows" | med | awk '{ printf "%.0f", $1 }') |" ;;
    esac
  done
  out+=" $(awk '{ s += $8 - $9 } END { print s }' "$W/rows") |"
  # Same seed in every run: the same datagrams must be lost (the drop lists all equal the first).
  local same=yes
  for r in $(seq 2 "$REPS"); do cmp -s "$W/drops.1" "$W/drops.$r" || same=no; done
  out+=" $same |"
  echo "$out"
}

echo "| variant | late p50 (us) | late p99 (us) | late max (us) | OWD p50 - delay (us) | OWD p99 - delay (us) | TUN tx_dropped | host steal, median (max) | lost beyond the draws, all runs | same drops, all runs |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|"
variant "before (ring 500, FIFO, spin <= 100 us)" 500 0 --no-mlock
variant "before, without the busy-wait" 500 0 --no-mlock --spin-max-us 0
variant "before, without busy-wait and SCHED_FIFO" 500 0 --no-mlock --spin-max-us 0 --rt-priority 0
variant "before + TUN ring 10000" 10000 0 --no-mlock
variant "+ mlockall (the default now)" 10000 0
variant "+ pinned to CPU $last_cpu" 10000 0 --cpu $last_cpu
variant "before, link stalled 3 x 50 ms" 500 50 --no-mlock
variant "now (ring 10000, mlock), stalled 3 x 50 ms" 10000 50
variant "now, pinned to CPU $last_cpu, stalled 3 x 50 ms" 10000 50 --cpu $last_cpu
lab_down 2> /dev/null
echo
steal=$(steal_since "$steal0" | cut -d' ' -f3)
echo "Host steal over the whole run: $steal %; load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
meta_run_line "make link-timing REPS=$REPS"
