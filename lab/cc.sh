#!/usr/bin/env bash
# cc.sh: `make run-cc`. CUBIC vs BBR on an emulated WAN path with random loss (issue 5).
#
#   client host: churn-client --mode bulk --cc ALG   one connection, sending as fast as TCP lets it;
#                                                    the sender's tcp_info every 100 ms
#   the link:    lab/link.sh (churn-link here: this kernel has no netem): CC_RTT, CC_RATE, a drop-tail
#                queue of CC_QUEUE packets, CC_LOSS % i.i.d. loss on client -> server, seed CC_SEED
#   server host: churn-server --discard               reads and drops every byte
#
# For each loss level (CC_LOSS, then 0 % as the baseline) and each algorithm, one run of CC_SECONDS in a
# fresh lab: new namespaces (so no TCP metrics cache carries the last run's ssthresh into the next, and
# no orphaned socket of the last run still sends), a new churn-link with the same seed (so every run
# meets the same loss draws in the same order). Loss is on the data direction only: the ACKs return on a
# lossless path, so the p of the Mathis model is exactly the configured loss.
#
# Knobs: CC_RATE=100 (Mbit/s) CC_RTT=50 (ms) CC_LOSS=1 (%) CC_QUEUE (packets; default 1 BDP)
#        CC_SECONDS=30 CC_SEED=1 CC_ALGOS="cubic bbr" CC_BASELINE=1 (0: no 0 % runs) PORT=8080
#        CC_DIR (default results/cc-<UTC timestamp>, and then results/latest and results/latest-cc point to it)
# Writes into it: runs.tsv, ALG-lossP.{client,server,link}.json (+ .log), meta.json, sysctl.json, and
# from churn-report cc: cc.json, cc.md, cc.gp -> gnuplot -> cwnd.svg, throughput.svg.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/netns.sh
source lab/link.sh

die() { echo "cc: $*" >&2; exit 1; }
CC_RATE=${CC_RATE:-100} CC_RTT=${CC_RTT:-50} CC_LOSS=${CC_LOSS:-1} CC_SECONDS=${CC_SECONDS:-30} CC_SEED=${CC_SEED:-1}
CC_ALGOS=${CC_ALGOS:-cubic bbr} CC_BASELINE=${CC_BASELINE:-1} PORT=${PORT:-8080}
CC_QUEUE=${CC_QUEUE:-$(link_bdp_pkts "$CC_RATE" "$CC_RTT")}
BIN=${BIN:-build/bin}
for b in churn-server churn-client churn-report churn-link; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"
done
command -v gnuplot > /dev/null || die "gnuplot not installed (make deps-lab)"
one_way=$(link_one_way_ms "$CC_RTT") || exit 1

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=${CC_DIR:-results/cc-$ts}
mkdir -p "$dir" || die "cannot create $dir"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
source lab/meta.sh
steal0=$(steal_sample)
LOG=$dir/lab.log
printf 'cc\tloss_pct\trtt_ms\trate_mbps\tqueue_pkts\tclient\tlink\n' > "$dir/runs.tsv"

losses=$CC_LOSS
[ "$CC_BASELINE" = 1 ] && [ "$CC_LOSS" != 0 ] && losses+=" 0"
total=$(( $(wc -w <<< "$losses") * $(wc -w <<< "$CC_ALGOS") ))
echo "cc: $total runs of ${CC_SECONDS} s: ${CC_ALGOS// / and } at ${losses// / and } % loss; ${CC_RATE} Mbit/s, ${CC_RTT} ms RTT, queue ${CC_QUEUE} packets, seed ${CC_SEED}; results in $dir" >&2

# The algorithms must be in the kernel already: setsockopt(TCP_CONGESTION) would try to load a module,
# and this machine cannot load modules. Asked inside a lab namespace, where the runs happen.
check_algos() {
  local avail a
  avail=$(lab_cli sysctl -n net.ipv4.tcp_available_congestion_control) || die "cannot read tcp_available_congestion_control"
  for a in $CC_ALGOS; do
    [[ " $avail " == *" $a "* ]] || die "congestion control '$a' is not available in the lab (kernel has: $avail)"
  done
  AVAIL=$avail
}

n=0
one_run() {
  local cc=$1 loss=$2 name=$1-loss$2 srv
  n=$((n + 1))
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  [ $n = 1 ] && { check_algos; lab_record_sysctls "$dir/sysctl.json"; }
  LINK_JSON_OUT=$dir/$name.link.json link_up --delay "$one_way" --loss-ab "$loss" --rate "$CC_RATE" \
    --queue-pkts "$CC_QUEUE" --seed "$CC_SEED" --duration $((CC_SECONDS + 60)) 2>> "$LOG" ||
    die "link_up failed: $(tail -3 "$LOG")"
  [ $n = 1 ] && LINK_MODE_USED=$LINK_MODE
  # --duration: stops by itself even if we are killed before we stop it.
  ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$PORT" --discard --quiet \
    --duration $((CC_SECONDS + 60)) --json "$dir/$name.server.json" > "$dir/$name.server.log" 2>&1 &
  srv=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/$name.server.log" 2>/dev/null && break; sleep 0.05; done
  grep -q "listening on" "$dir/$name.server.log" || die "churn-server did not start: $(head -c 300 "$dir/$name.server.log")"
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode bulk --cc "$cc" -d "$CC_SECONDS" --sample-ms 100 \
    --json "$dir/$name.client.json" "http://$LAB_SRV_IP:$PORT/" > "$dir/$name.client.log" 2>&1 &
  wait $! || die "churn-client failed ($cc, $loss % loss): $(tail -c 300 "$dir/$name.client.log")"
  kill -TERM $srv 2>/dev/null
  wait $srv 2>/dev/null
  link_down 2>> "$LOG"
  cp "$LINK_LOG" "$dir/$name.link.log" 2>/dev/null
  lab_down 2>> "$LOG"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cc" "$loss" "$CC_RTT" "$CC_RATE" "$CC_QUEUE" "$name.client.json" "$name.link.json" >> "$dir/runs.tsv"
  local lost="n/a" steal="n/a" g
  g=$(link_json_get "$dir/$name.client.json" goodput_mbps)
  if [ "$LINK_MODE_USED" = churn-link ]; then
    lost=$(awk -v l="$(link_json_get "$LINK_JSON" ab.dropped_loss)" -v i="$(link_json_get "$LINK_JSON" ab.packets_in)" \
      'BEGIN { printf "%.2f %%", i ? 100 * l / i : 0 }')
    steal=$(awk -v s="$(link_json_get "$LINK_JSON" host.steal_pct)" 'BEGIN { printf "%.1f %%", s }')
  fi
  printf 'cc: run %d/%d: %-6s at %s %% loss: goodput %.1f Mbit/s, %s retransmits, link dropped %s, host steal %s\n' "$n" "$total" "$cc" "$loss" \
    "$g" "$(link_json_get "$dir/$name.client.json" retrans)" "$lost" "$steal" >&2
}

for loss in $losses; do
  for cc in $CC_ALGOS; do one_run "$cc" "$loss"; done
done

# ---- meta.json: enough to reproduce the run and to say where it ran ----
cat > "$dir/meta.json" <<EOF
{
  "command": $(json_str "make run-cc CC_RATE=$CC_RATE CC_RTT=$CC_RTT CC_LOSS=$CC_LOSS CC_QUEUE=$CC_QUEUE CC_SECONDS=$CC_SECONDS CC_SEED=$CC_SEED CC_ALGOS=\"$CC_ALGOS\""),
  "knobs": {"CC_RATE": $CC_RATE, "CC_RTT": $CC_RTT, "CC_LOSS": $CC_LOSS, "CC_QUEUE": $CC_QUEUE, "CC_SECONDS": $CC_SECONDS,
            "CC_SEED": $CC_SEED, "CC_ALGOS": $(json_str "$CC_ALGOS")},
  "link_mode": $(json_str "$LINK_MODE_USED"),
  "tcp_available_congestion_control": $(json_str "$AVAIL"),
$(meta_steal "$steal0")
$(meta_where "$started")
}
EOF

"$BIN/churn-report" cc "$dir" || die "churn-report cc failed; results in $dir"
(cd "$dir" && gnuplot cc.gp) || die "gnuplot cc.gp failed: no cwnd.svg/throughput.svg"
if [ -z "${CC_DIR:-}" ]; then
  # results/latest is the newest run of any kind (so results/latest/cc.json right after make run-cc);
  # results/latest-cc stays on this one when a compare runs next.
  ln -sfn "cc-$ts" results/latest
  ln -sfn "cc-$ts" results/latest-cc
  echo "cc: results in $dir (results/latest, results/latest-cc)" >&2
else
  echo "cc: results in $dir" >&2
fi
