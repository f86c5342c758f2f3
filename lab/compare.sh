#!/usr/bin/env bash
# compare.sh: `make compare`. The before/after of the project in one command:
#   1. lab/scenario.sh churn   (a new connection per request)  in a fresh lab
#   2. lab/scenario.sh pooled  (CONNS keep-alive connections)   in another fresh lab
#   3. churn-report table      -> table.md, printed
#   4. gnuplot                 -> tw.svg: TIME-WAIT against time, both runs, both hosts (churn-probe's samples)
# into results/<UTC timestamp>/ (results/latest points to it), with meta.json recording how and where.
# Each scenario watches both hosts with churn-probe and fails if it disagrees with ss/nstat (scenario.sh).
# Same knobs for both scenarios: RATE DURATION CONNS SIZE WARMUP CLOSE PORT and the sysctl overrides
# of lab/netns.sh, including PROFILE=sysctl/X.conf (a sysctl profile applied with churn-sysctl apply in
# both namespaces of each fresh lab, never on the host; recorded in sysctl.json and meta.json):
#   make compare PROFILE=sysctl/legacy-churn-client.conf
# About 2 x (DURATION + WARMUP + 3) s.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

RATE=${RATE:-3000} DURATION=${DURATION:-20} CONNS=${CONNS:-32} SIZE=${SIZE:-64} WARMUP=${WARMUP:-0}
CLOSE=${CLOSE:-client} PORT=${PORT:-8080}
RTT=${RTT:-0}
export RATE DURATION CONNS SIZE WARMUP CLOSE PORT RTT
BIN=${BIN:-build/bin}
[ -x "$BIN/churn-report" ] || { echo "compare: $BIN/churn-report not found (run: make)" >&2; exit 1; }

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/$ts
mkdir -p "$dir" || exit 1
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
source lab/meta.sh
steal0=$(steal_sample)

# Each scenario runs as its own process with its own lab and trap. We run it in the background and
# `wait`, so a Ctrl-C or SIGTERM reaches our trap at once, and we pass it on; the scenario's trap then
# deletes its namespaces.
child=
forward() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; }
trap 'forward; trap - INT; kill -INT $$' INT
trap 'forward; exit 143' TERM

for s in churn pooled; do
  lab/scenario.sh "$s" "$dir" &
  child=$!
  wait $child || { echo "compare: scenario $s failed; partial results in $dir" >&2; exit 1; }
  child=
done

# ---- meta.json: enough to reproduce the run and to say where it ran ----
cmd="make compare RATE=$RATE DURATION=$DURATION CONNS=$CONNS SIZE=$SIZE WARMUP=$WARMUP"
[ "$CLOSE" = client ] || cmd+=" CLOSE=$CLOSE"
[ "$PORT" = 8080 ] || cmd+=" PORT=$PORT"
cmd+=" RTT=$RTT"
overrides=""
for v in PORT_RANGE TW_REUSE TW_REUSE_DELAY FIN_TIMEOUT MAX_TW_BUCKETS CC SOMAXCONN PROFILE; do
  [ -n "${!v:-}" ] || continue
  cmd+=" $v=\"${!v}\""
  overrides+="${overrides:+, }$(json_str "$v"): $(json_str "${!v}")"
done
# Over an emulated path, each scenario's churn-link measured the host's steal over its own run too.
link_steal=""
for s in churn pooled; do
  [ -s "$dir/$s.link.json" ] || continue
  v=$(grep -A3 '"host"' "$dir/$s.link.json" | grep -o '"steal_pct": [0-9.e+-]*' | grep -o '[0-9.e+-]*$')
  [ -n "$v" ] && link_steal+="${link_steal:+, }\"$s\": $v"
done
cat > "$dir/meta.json" <<EOF
{
  "command": $(json_str "$cmd"),
  "argv": $(json_str "$0${*:+ $*}"),
  "knobs": {"RATE": $RATE, "DURATION": $DURATION, "CONNS": $CONNS, "SIZE": $SIZE, "WARMUP": $WARMUP, "RTT": "$RTT",
            "CLOSE": $(json_str "$CLOSE"), "PORT": $PORT},
  "sysctl_overrides": {$overrides},
$(meta_steal "$steal0")
  "link_steal_pct": {$link_steal},
$(meta_where "$started")
}
EOF

"$BIN/churn-report" table "$dir" || { echo "compare: churn-report table failed; results in $dir" >&2; exit 1; }

# ---- tw.svg: TIME-WAIT sockets against time, churn and pooled on one plot ----
# From the tw.csv files churn-report derived from churn-probe's samples. The port range is drawn as a
# line: churn's client host climbs to it and stays there, which is the whole story in one picture.
# A host whose TIME-WAIT stays 0 all run long is left out of the plot (the legend says so).
plot_tw() {
  local ports lo hi series="" label max s col
  lo=$(grep -A3 '"client"' "$dir/sysctl.json" | grep -o '"net.ipv4.ip_local_port_range": \[[0-9]*, [0-9]*\]' | grep -o '[0-9]*, [0-9]*')
  hi=${lo#*, } lo=${lo%%,*}
  ports=$(( hi - lo + 1 ))
  local -A colour=([churn]="#d62728" [pooled]="#1f77b4")
  for s in churn pooled; do
    for col in 2 3; do
      [ $col = 2 ] && label="client host" || label="server host"
      max=$(awk -F, -v c=$col 'NR > 1 && $c > m { m = $c } END { print m + 0 }' "$dir/$s.tw.csv")
      if [ "$max" -gt 0 ]; then
        series+=", '$dir/$s.tw.csv' every ::1 using 1:$col with lines lw $([ $col = 2 ] && echo 2.5 || echo 1.5) dt $([ $col = 2 ] && echo 1 || echo 2) lc rgb '${colour[$s]}' title '$s, $label (peak $max)'"
      else
        series+=", NaN with lines lw 1 dt 3 lc rgb '${colour[$s]}' title '$s, $label: 0 throughout'"
      fi
    done
  done
  gnuplot <<EOF
set terminal svg size 960,540 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output '$dir/tw.svg'
set datafile separator ','
set title 'TIME-WAIT sockets over time (churn-probe watch, both lab hosts, every 100 ms)'
set xlabel 'seconds since the probe started'
set ylabel 'TIME-WAIT sockets'
set grid lc rgb '#dddddd'
set key right center box opaque Left reverse width 1
set yrange [0:${ports} * 1.12]
set xrange [0:*]
plot ${ports} with lines lw 1.5 dt 4 lc rgb '#555555' title 'ip\\_local\\_port\\_range: ${ports} ports (client host)'${series}
EOF
}
if command -v gnuplot > /dev/null; then
  plot_tw || { echo "compare: gnuplot failed: no tw.svg" >&2; exit 1; }
else
  echo "compare: gnuplot not installed (make deps-lab): no tw.svg" >&2; exit 1
fi
ln -sfn "$ts" results/latest
# And per kind, for make evidence: the bare-veth compare and the one over an emulated RTT are separate
# sections of EXPERIMENTS.md.
kind=$([ "$RTT" = 0 ] && echo compare || echo rtt)
ln -sfn "$ts" "results/latest-$kind"
echo "compare: results in $dir (results/latest, results/latest-$kind)" >&2
