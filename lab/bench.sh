#!/usr/bin/env bash
# bench.sh: `make bench`. churnlab's client and server against well-known peers, in one fresh lab:
#
#   1. load generator, keep-alive:  churn-client --mode pool -c 50   vs  wrk -t1 -c50      (both -> nginx)
#   2. server, keep-alive:          churn-server                     vs  nginx, 1 worker   (both under wrk)
#   3. load generator, churn:       churn-client --mode churn -c 50  vs  ab -c 50 (no -k)  (both -> nginx)
#
# Each pair runs BENCH_RUNS (3) times, alternating ours/peer so that a slow minute (other jobs on a
# shared machine) hurts both sides alike; medians are compared. 5 s runs, about 2 minutes in all.
# Metric: requests/s for 1 and 2; new connections/s for 3 (ab without -k makes one connection per
# request, so its requests/s is connections/s; churn-client reports handshakes_per_s).
#
# Output: results/bench-<UTC ts>/ with every tool's raw output, runs.tsv (what ran, where the output is),
# sysctl.json, and bench.json + bench.md written by `churn-report bench` (medians, ratios, targets).
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

SIZE=${SIZE:-64}
BENCH_D=${BENCH_D:-5}        # seconds per run
BENCH_RUNS=${BENCH_RUNS:-3}  # runs per side and pair
AB_N=${AB_N:-150000}         # ab requests per run: ~4 s at the ~35 k connections/s measured here
BENCH_C=50
# nginx's body is inlined in its config (`return 200 "..."`), and one argument to sed is capped at
# 128 KiB (MAX_ARG_STRLEN).
[ "$SIZE" -le 65536 ] || { echo "bench: SIZE=$SIZE: the bench's nginx config supports up to 65536 bytes" >&2; exit 2; }
# Ports. At tens of thousands of connections per second, 28 232 default ports in 60 s TIME-WAIT last
# under a second, and pair 3 would measure EADDRNOTAVAIL instead of connection speed. So, in the bench
# lab's namespaces only: tcp_tw_reuse=1 (a client may reuse its own TIME-WAIT port after
# tcp_tw_reuse_delay, 1 s) and the widest range, 1024-65535. ab itself needs neither: nginx closes first
# after an HTTP/1.0 request, so ab's ports never sit in TIME-WAIT; churn-client closes first, and does.
export TW_REUSE=${TW_REUSE:-1}
export PORT_RANGE=${PORT_RANGE:-"1024 65535"}

BIN=${BIN:-build/bin}
for b in "$BIN/churn-server" "$BIN/churn-client" "$BIN/churn-report"; do
  [ -x "$b" ] || { echo "bench: $b not found (run: make)" >&2; exit 1; }
done
for t in nginx wrk ab; do
  command -v $t >/dev/null || { echo "bench: $t not installed (run: make deps-bench)" >&2; exit 1; }
done

source lab/netns.sh
source lab/nginx.sh
ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/bench-$ts
mkdir -p "$dir" || exit 1
manifest=$dir/runs.tsv
: > "$manifest"

lab_up || { echo "bench: lab setup failed" >&2; exit 1; }
lab_record_sysctls "$dir/sysctl.json"
NGINX_URL=http://$LAB_SRV_IP:8081/
CHURN_URL=http://$LAB_SRV_IP:8080/

# ---- servers, both on the server host ----
ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:8080" --size "$SIZE" \
  --duration 600 --json "$dir/churn-server.json" > "$dir/churn-server.log" 2>&1 &
srv_pid=$!
nginx_start "$LAB_SRV_IP:8081" "$SIZE" "$dir" || { echo "bench: nginx did not start" >&2; exit 1; }
for _ in $(seq 1 100); do grep -q "listening on" "$dir/churn-server.log" && break; sleep 0.05; done
grep -q "listening on" "$dir/churn-server.log" || { echo "bench: churn-server not ready:" >&2; cat "$dir/churn-server.log" >&2; exit 1; }


# CPU accounting. Requests/s alone can mislead on 2 cores: when the load generator saturates its core,
# every server looks equally fast (measured here: wrk at 100 % of a core, both servers below theirs).
# So each run also records how much of a core the side under comparison used: the load generator in
# pairs 1 and 3 (its own process), the server in pair 2. Ticks from /proc/PID/stat (utime + stime).
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
nginx_worker() {
  local p
  for p in $(ip netns pids "$LAB_SRV"); do
    grep -q '^nginx: worker' "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }
  done
}

# run PAIR SIDE N TOOL FILE SUBJECT CMD...: run CMD on the client host, its output into FILE's .txt, and
# record in the manifest where the number is (FILE itself for JSON, the .txt for wrk/ab) and the CPU
# SUBJECT used (a server pid, or "self" for CMD itself), as a fraction of one core over the run.
failed=0
run() {
  local pair=$1 side=$2 n=$3 tool=$4 file=$5 subject=$6; shift 6
  local txt=${file%.*}.txt
  echo "bench: pair $pair $side run $n: $*" >&2
  local t0 c0 t1 c1
  t0=$(date +%s.%N)
  if [ "$subject" = self ]; then
    # CMD runs as our child in the foreground (ip netns exec execs it), so the shell's `times` adds its
    # CPU to the children's totals once it has been waited for. Not `$(times)`: a command substitution
    # is a subshell, whose children's totals start at zero.
    times > "$dir/.times"; c0=$(awk 'NR == 2 {print $1 " " $2}' "$dir/.times")
  else
    c0=$(cpu_ticks "$subject")
  fi
  ip netns exec "$LAB_CLI" "$@" > "$dir/$txt" 2>&1
  local rc=$?
  t1=$(date +%s.%N)
  if [ "$subject" = self ]; then
    times > "$dir/.times"; c1=$(awk 'NR == 2 {print $1 " " $2}' "$dir/.times")
  else
    c1=$(cpu_ticks "$subject")
  fi
  if [ $rc -ne 0 ]; then
    echo "bench: FAILED (exit $rc): $* -- see $dir/$txt" >&2
    failed=1
    return
  fi
  local frac
  if [ "$subject" = self ]; then
    # times prints "0m1.234s 0m0.567s": user and system seconds of all children so far.
    frac=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" 'function s(x,  m) { split(x, m, /[ms]/); return m[1] * 60 + m[2] }
      BEGIN { split(a, x, " "); split(b, y, " "); printf "%.4f", (s(y[1]) + s(y[2]) - s(x[1]) - s(x[2])) / (t1 - t0) }')
  else
    frac=$(awk -v d="$((c1 - c0))" -v hz="$clk_tck" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.4f", d / hz / (t1 - t0) }')
  fi
  printf 'run\t%s\t%s\t%s\t%s\t%s\n' "$pair" "$side" "$tool" "$file" "$frac" >> "$manifest"
}

printf 'pair\t1\treq/s\t1.1\tkeep-alive client: churn-client --mode pool -c %s vs wrk -t1 -c%s (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"
printf 'pair\t2\treq/s\t1.1\tkeep-alive server: churn-server vs nginx, 1 worker (wrk -t1 -c%s)\n' $BENCH_C >> "$manifest"
printf 'pair\t3\tconn/s\t1.2\tnew connection per request: churn-client --mode churn -c %s vs ab -c %s, no -k (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"

ngx_pid=$(nginx_worker)
[ -n "$ngx_pid" ] || { echo "bench: no nginx worker process in $LAB_SRV" >&2; exit 1; }

for n in $(seq 1 "$BENCH_RUNS"); do
  run 1 ours "$n" json:rps "p1-ours-$n.json" self "$BIN/churn-client" --mode pool -c $BENCH_C -d "$BENCH_D" -R 0 \
    --quiet --json "$dir/p1-ours-$n.json" "$NGINX_URL"
  run 1 peer "$n" wrk "p1-peer-$n.txt" self wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$NGINX_URL"
done
for n in $(seq 1 "$BENCH_RUNS"); do
  run 2 ours "$n" wrk "p2-ours-$n.txt" "$srv_pid" wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$CHURN_URL"
  run 2 peer "$n" wrk "p2-peer-$n.txt" "$ngx_pid" wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$NGINX_URL"
done
for n in $(seq 1 "$BENCH_RUNS"); do
  run 3 ours "$n" json:handshakes_per_s "p3-ours-$n.json" self "$BIN/churn-client" --mode churn -c $BENCH_C \
    -d "$BENCH_D" -R 0 --quiet --json "$dir/p3-ours-$n.json" "$NGINX_URL"
  # -r: keep going on a receive error instead of aborting the whole run.
  run 3 peer "$n" ab "p3-peer-$n.txt" self ab -r -c $BENCH_C -n "$AB_N" "$NGINX_URL"
done

printf 'note\tports: tcp_tw_reuse=%s and ip_local_port_range "%s" in the bench lab namespaces only (host untouched), so churn mode measures connection speed, not port exhaustion; ab -n %s.\n' \
  "$TW_REUSE" "$PORT_RANGE" "$AB_N" >> "$manifest"
printf 'note\t%s s runs, %s per side, alternating; nginx %s, 1 worker; body %s bytes; kernel %s; %s CPUs; %s\n' \
  "$BENCH_D" "$BENCH_RUNS" "$(nginx -v 2>&1 | sed 's|.*nginx/||')" "$SIZE" "$(uname -r)" "$(nproc)" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$manifest"

kill -TERM $srv_pid 2>/dev/null
wait $srv_pid 2>/dev/null
lab_down

[ $failed = 0 ] || { echo "bench: some runs failed; the table uses the others" >&2; }
"$BIN/churn-report" bench "$dir" || exit 1
echo "bench: results in $dir" >&2
