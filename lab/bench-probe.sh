#!/usr/bin/env bash
# bench-probe.sh: counting 100 000 sockets by state, three ways, in a lab namespace.
#
#   netlink   churn-probe states            (sock_diag dump, binary messages, counted as they arrive)
#   ss        ss -tan | awk count by state  (the same kind of dump, but ss formats every socket as text)
#   proc      churn-probe states --proc     (the kernel formats /proc/net/tcp{,6}, we parse it back)
#
# The sockets: TIME-WAIT, made by churn-client (client closes first) from the client host to four
# churn-servers (ports 8080-8083) on the server host, SOCKETS/4 each. Four destinations, because the
# kernel's port search slows down once half the range to ONE destination is in TIME-WAIT; a quarter of
# 100 000 per destination stays below that. In the lab namespaces only: ip_local_port_range 1024-65535,
# tcp_tw_reuse 0 (never reuse: every connection stays in TIME-WAIT), tcp_max_tw_buckets raised so that
# none is dropped. TIME-WAIT sockets hold no fd, so no fd limit needs raising.
#
# Each method runs RUNS times (default 7), in rotating order, inside the client namespace (so that
# `ip netns exec`'s own cost is not in the numbers); medians and ratios are printed, and with them the
# number of sockets each method counted (they must agree). TIME-WAIT lasts 60 s, so the timing starts
# right after the sockets exist and is checked to finish well inside that.
# Target: netlink at least 2x faster than ss.
#
# Writes results/bench-probe-<UTC timestamp>/{runs.tsv,bench-probe.md,bench-probe.json}.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
SOCKETS=${SOCKETS:-100000} RUNS=${RUNS:-7}
BIN=${BIN:-build/bin}
export PORT_RANGE="1024 65535" TW_REUSE=0 MAX_TW_BUCKETS=$(( SOCKETS * 2 + 10000 ))
source lab/netns.sh

die() { echo "bench-probe: $*" >&2; exit 1; }
for b in churn-server churn-client churn-probe; do [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"; done
command -v ss > /dev/null || die "ss not found (iproute2)"

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/bench-probe-$ts
mkdir -p "$dir" || die "cannot create $dir"
lab_up || die "lab setup failed"
lab_tmpdir || die "lab_tmpdir failed"

# ---- the sockets ----
ports=(8080 8081 8082 8083)
for p in "${ports[@]}"; do
  ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$p" --quiet --duration 300 > "$LAB_TMP/srv$p.log" 2>&1 &
done
for p in "${ports[@]}"; do
  for _ in $(seq 1 100); do grep -q "listening on" "$LAB_TMP/srv$p.log" 2>/dev/null && break; sleep 0.05; done
  grep -q "listening on" "$LAB_TMP/srv$p.log" || die "churn-server :$p did not start: $(head -c 200 "$LAB_TMP/srv$p.log")"
done
per=$(( SOCKETS / ${#ports[@]} ))
t0=$(date +%s.%N)
echo "bench-probe: making $SOCKETS TIME-WAIT sockets ($per to each of ${#ports[@]} ports) in $LAB_CLI ..." >&2
for p in "${ports[@]}"; do
  # -n stops the requests at $per; -d bounds the run (closed loop: ~20 000 connections/s here, so 6 s
  # is ample; the client waits out -d once -n is reached).
  ip netns exec "$LAB_CLI" "$BIN/churn-client" -q --mode churn -c 50 -n "$per" -d "${MAKE_SECONDS:-6}" "http://$LAB_SRV_IP:$p/" \
    > "$LAB_TMP/cli$p.log" 2>&1 || die "churn-client to :$p failed: $(tail -c 300 "$LAB_TMP/cli$p.log")"
done
made=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
have=$("$BIN/churn-probe" states --netns "$LAB_CLI" --state time-wait --json | grep -o '"TIME-WAIT":[0-9]*' | cut -d: -f2)
echo "bench-probe: $have TIME-WAIT sockets on the client host after ${made} s" >&2
[ "${have:-0}" -ge $(( SOCKETS * 99 / 100 )) ] || die "only ${have:-0} TIME-WAIT sockets, wanted $SOCKETS"

# ---- the timing, inside the client namespace ----
# Each command's output is its counts by state; the TIME-WAIT count goes into runs.tsv next to its time,
# so a method that counted something else shows up.
ip netns exec "$LAB_CLI" env PROBE="$BIN/churn-probe" RUNS="$RUNS" bash -c '
  netlink() { "$PROBE" states --json | grep -o "\"TIME-WAIT\":[0-9]*" | cut -d: -f2; }
  ss_count() { ss -tan | awk "NR > 1 { c[\$1]++ } END { print c[\"TIME-WAIT\"] + 0 }"; }
  proc() { "$PROBE" states --proc --json | grep -o "\"TIME-WAIT\":[0-9]*" | cut -d: -f2; }
  methods=(netlink ss_count proc)
  echo -e "run\tmethod\tseconds\ttime_wait"
  for r in $(seq 1 "$RUNS"); do
    for k in 0 1 2; do
      m=${methods[$(( (r + k) % 3 ))]}
      s=$EPOCHREALTIME
      n=$($m)
      e=$EPOCHREALTIME
      echo -e "$r\t${m%_count}\t$(awk -v a="$s" -v b="$e" "BEGIN { printf \"%.6f\", b - a }")\t$n"
    done
  done' > "$dir/runs.tsv" || die "timing loop failed"
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
lab_down

# ---- medians and ratios ----
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A med counted
for m in netlink ss proc; do
  med[$m]=$(awk -F'\t' -v m=$m '$2 == m { print $3 }' "$dir/runs.tsv" | median)
  counted[$m]=$(awk -F'\t' -v m=$m '$2 == m { print $4 }' "$dir/runs.tsv" | sort -u | tr '\n' ' ' | sed 's/ $//')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
r_ss=$(ratio "${med[ss]}" "${med[netlink]}") r_proc=$(ratio "${med[proc]}" "${med[netlink]}")
met=$(awk -v r="$r_ss" 'BEGIN { print (r >= 2 ? "met" : "NOT met") }')
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
{
  echo "| method | median (ms, n=$RUNS) | TIME-WAIT counted | time ÷ netlink |"
  echo "|---|---:|---:|---:|"
  echo "| churn-probe states (netlink sock_diag) | $(ms "${med[netlink]}") | ${counted[netlink]} | 1.00x |"
  echo "| ss -tan \\| awk (count by state) | $(ms "${med[ss]}") | ${counted[ss]} | ${r_ss}x |"
  echo "| churn-probe states --proc (/proc/net/tcp{,6}) | $(ms "${med[proc]}") | ${counted[proc]} | ${r_proc}x |"
  echo
  echo "netlink is ${r_ss}x faster than ss (target >= 2x: $met) and ${r_proc}x faster than /proc."
  echo "$have TIME-WAIT sockets in one lab namespace (made in ${made} s, timed within ${elapsed} s of the first);" \
       "kernel $(uname -r); $(nproc) CPUs; $ts"
} > "$dir/bench-probe.md"
cat > "$dir/bench-probe.json" <<EOF
{"sockets": $have, "runs": $RUNS, "median_s": {"netlink": ${med[netlink]}, "ss": ${med[ss]}, "proc": ${med[proc]}},
 "ratio_vs_netlink": {"ss": $r_ss, "proc": $r_proc}, "target_ss_ratio": 2, "met": $([ "$met" = met ] && echo true || echo false),
 "kernel": "$(uname -r)", "nproc": $(nproc), "date": "$ts"}
EOF
cat "$dir/bench-probe.md"
echo "bench-probe: results in $dir" >&2
[ "$met" = met ]
