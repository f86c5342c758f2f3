#!/usr/bin/env bash
# bench.sh: `make bench`. churnlab's client and server against well-known peers, in one fresh lab:
#
#   1. load generator, keep-alive:  churn-client --mode pool -c 50   vs  wrk -t1 -c50      (both -> nginx)
#   2. server, keep-alive:          churn-server                     vs  nginx, 1 worker   (both under wrk)
#   3. load generator, churn:       churn-client --mode churn --close server -c 50  vs  ab -c 50 (no -k)
#                                   (both -> nginx, which closes first for both: like for like)
#   4. reference, churn:            churn-client --mode churn -c 50 (the client closes first)  vs  ab
#   5. reference, keep-alive:       churn-client --mode pool -c 50  vs  bench-floor -c 50 (the floor: a
#                                   client that only reads and writes, lab/bench_floor.cc)
#   6. reference, keep-alive:       churn-server  vs  bench-floor --serve (the server's floor)  (under wrk)
# Pairs 4 to 6 have no target: they say what the targets of 3, 1 and 2 are up against.
#
# PINNED: every client runs on CPU $CLI_CORE (taskset), every server on CPU $SRV_CORE, so that the two
# ends of a pair never take each other's core: req/s then ranks the side under test, not the scheduler.
# (Other jobs on the machine still share both cores; the table prints the steal seen during the runs.)
#
# Each pair runs BENCH_RUNS (5) times per side, alternating ours/peer and flipping which goes first every
# run (ABBA), so that a slow minute hurts both sides alike; medians and min-max are compared.
#
# Per run and for BOTH processes of the pair (the side under test and the end it talks to):
#   rate         req/s (pairs 1, 2, 5, 6) or new connections/s (pairs 3, 4), from the client tool's own output
#   units        requests or connections the client completed: the denominator of everything per unit
#   CPU          utime + stime: the server's from /proc/PID/stat before and after the run, the client's
#                from the shell's `times` (children reaped; the client is our child, via taskset and
#                ip netns exec, which exec and add nothing measurable)
#   syscr/syscw  /proc/PID/io: read- and write-LIKE syscalls only (read, readv, write, writev, sendfile);
#                recv*/send* are NOT in them (proc_pid_io(5); checked here, see EXPERIMENTS.md §3), so
#                they undercount a program that writes with send()/sendmsg(), as churnlab does
#   perf         with BENCH_PERF=1 (default when `perf stat` can count syscall tracepoints): every
#                syscall by name (raw_syscalls:sys_enter and syscalls:sys_enter_NAME), the same
#                instrument for churnlab, wrk, ab and nginx; in-kernel counters, no ptrace. Counting
#                costs every syscall a little (measured here: +8-10 % CPU per request for wrk, which
#                makes twice our syscalls), so it runs in BENCH_COUNT_RUNS (1) extra runs per side,
#                marked perf=1, and the CPU and rate medians come from the runs without it
#   reactor      churn-client's and churn-server's own epoll_wait/epoll_ctl counts (--json), which
#                must agree with perf's
#
# Output: results/bench-<UTC ts>/ with every tool's raw output (*.txt, *.json, *.perf), runs.tsv (one
# line per run with every figure above, see report/bench.h), sysctl.json, and bench.json + bench.md
# written by `churn-report bench` (medians, spread, ratios, targets).
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

SIZE=${SIZE:-64}
BENCH_D=${BENCH_D:-5}        # seconds per run
BENCH_RUNS=${BENCH_RUNS:-5}  # runs per side and pair
AB_N=${AB_N:-150000}         # ab requests per run: ~4-7 s at the 20-35 k connections/s measured here
CLI_CORE=${CLI_CORE:-0}
SRV_CORE=${SRV_CORE:-1}
BENCH_PERF=${BENCH_PERF:-auto}
BENCH_COUNT_RUNS=${BENCH_COUNT_RUNS:-1}  # extra runs per side with perf counting syscalls
BENCH_PAIRS=${BENCH_PAIRS:-1 2 3 4 5 6}    # which pairs to run (a subset for a quick look; the report lists those)
BENCH_C=50
# nginx's body is inlined in its config (`return 200 "..."`), and one argument to sed is capped at
# 128 KiB (MAX_ARG_STRLEN).
[ "$SIZE" -le 65536 ] || { echo "bench: SIZE=$SIZE: the bench's nginx config supports up to 65536 bytes" >&2; exit 2; }
for p in $BENCH_PAIRS; do
  case $p in [1-6]) ;; *) echo "bench: BENCH_PAIRS='$BENCH_PAIRS': want pair numbers among 1 2 3 4 5 6" >&2; exit 2 ;; esac
done
case $BENCH_RUNS in ''|*[!0-9]*|0) echo "bench: BENCH_RUNS=$BENCH_RUNS: want a whole number >= 1" >&2; exit 2 ;; esac
ncpu=$(nproc)
for c in "$CLI_CORE" "$SRV_CORE"; do
  case $c in ''|*[!0-9]*) echo "bench: CLI_CORE/SRV_CORE=$c: want a CPU number" >&2; exit 2 ;; esac
  [ "$c" -lt "$ncpu" ] || { echo "bench: CPU $c: this machine has $ncpu CPUs (0-$((ncpu - 1)))" >&2; exit 2; }
done
[ "$CLI_CORE" != "$SRV_CORE" ] || { echo "bench: CLI_CORE=SRV_CORE=$CLI_CORE: the two ends must be on different CPUs" >&2; exit 2; }
# Ports. At tens of thousands of connections per second, 28 232 default ports in 60 s TIME-WAIT last
# under a second, and pair 3 would measure EADDRNOTAVAIL instead of connection speed. So, in the bench
# lab's namespaces only: tcp_tw_reuse=1 (a client may reuse its own TIME-WAIT port after
# tcp_tw_reuse_delay, 1 s) and the widest range, 1024-65535. ab itself needs neither: nginx closes first
# after an HTTP/1.0 request, so ab's ports never sit in TIME-WAIT; churn-client closes first, and does.
export TW_REUSE=${TW_REUSE:-1}
export PORT_RANGE=${PORT_RANGE:-"1024 65535"}

BIN=${BIN:-build/bin}
for b in "$BIN/churn-server" "$BIN/churn-client" "$BIN/churn-report" "$BIN/bench-floor"; do
  [ -x "$b" ] || { echo "bench: $b not found (run: make)" >&2; exit 1; }
done
for t in nginx wrk ab taskset; do
  command -v $t >/dev/null || { echo "bench: $t not installed (run: make deps-bench)" >&2; exit 1; }
done

# The syscalls perf counts by name, grouped by the report: read-like, write-like, the reactor's, and the
# connection's life. raw_syscalls:sys_enter counts all of them, these included.
PERF_EVENTS=raw_syscalls:sys_enter
for s in read readv recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_pwait epoll_ctl \
         poll socket connect accept4 close setsockopt getsockopt shutdown; do
  PERF_EVENTS+=,syscalls:sys_enter_$s
done
if [ "$BENCH_PERF" = auto ]; then
  BENCH_PERF=0
  command -v perf >/dev/null && perf stat -x, -e "$PERF_EVENTS" -o /dev/null -- true 2>/dev/null && BENCH_PERF=1
fi

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

# ---- nginx on the server host, for the whole bench; churn-server is started fresh for each of its runs ----
nginx_start "$LAB_SRV_IP:8081" "$SIZE" "$dir" || { echo "bench: nginx did not start" >&2; exit 1; }
nginx_worker() {
  local p
  for p in $(ip netns pids "$LAB_SRV"); do
    grep -q '^nginx: worker' "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }
  done
}
ngx_pid=$(nginx_worker)
[ -n "$ngx_pid" ] || { echo "bench: no nginx worker process in $LAB_SRV" >&2; exit 1; }
# Pin the master and the worker (-a: all threads) to the server CPU.
for p in $(ip netns pids "$LAB_SRV"); do
  grep -q '^nginx' "/proc/$p/cmdline" 2>/dev/null && taskset -a -pc "$SRV_CORE" "$p" > /dev/null
done
# What the kernel says the process may use, not what we asked for: this goes in runs.tsv.
allowed() { awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

srv_pid=
# server_start BASE CMD...: a server on the server host, pinned to SRV_CORE, its output in BASE.server.log;
# returns once it says "listening on". server_stop: SIGTERM (both servers write their JSON then).
server_start() {
  local base=$1; shift
  ip netns exec "$LAB_SRV" taskset -c "$SRV_CORE" "$@" > "$dir/$base.server.log" 2>&1 &
  srv_pid=$!
  local _
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/$base.server.log" && return 0; sleep 0.05; done
  echo "bench: server not ready: $*" >&2; cat "$dir/$base.server.log" >&2
  return 1
}
server_stop() { kill -TERM "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; }

# ---- what one process costs ----
clk_tck=$(getconf CLK_TCK)
# utime + stime of PID, in seconds (fields 14, 15 of /proc/PID/stat; comm has no spaces here).
proc_cpu() { awk -v hz="$clk_tck" '{ printf "%.4f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# "SYSCR SYSCW" of PID.
proc_io() { awk '/^syscr:/ { r = $2 } /^syscw:/ { w = $2 } END { print r + 0, w + 0 }' "/proc/$1/io" 2>/dev/null; }
# The shell's own io, which adds its reaped children's (proc_pid_io(5): "and its waited-for children").
# Builtins only, no $(...): a subshell would be one more child of ours, reaped into the numbers it
# measures. Sets IO="SYSCR SYSCW".
self_io() {
  local k v r=0 w=0
  while read -r k v; do
    case $k in syscr:) r=$v ;; syscw:) w=$v ;; esac
  done < /proc/$$/io
  IO="$r $w"
}
# CPU (user + system) of the shell's reaped children so far, from the builtin `times`, whose second line
# is "0m1.234s 0m0.567s". Not in a $(...) either: a subshell's children's totals start at zero.
# Sets CPU_MS.
children_cpu() {
  local line u s ms=0 t m f
  times > "$dir/.times"
  { read -r _; read -r line; } < "$dir/.times"
  for t in $line; do
    m=${t%%m*}; f=${t#*m}; f=${f%s}
    ms=$(( ms + m * 60000 + 10#${f%.*} * 1000 + 10#${f#*.} ))
  done
  CPU_MS=$ms
}
steal_ticks() { awk '/^cpu / { print $9 + 0; exit }' /proc/stat; }
# perf stat -x, lines "COUNT,UNIT,EVENT,..." into "PREFIX_NAME=COUNT" (all = raw_syscalls:sys_enter).
perf_keys() {
  awk -F, -v p="$2" '$3 ~ /^raw_syscalls:sys_enter$/ { printf " %s_sc_all=%s", p, $1 }
    $3 ~ /^syscalls:sys_enter_/ { n = $3; sub(/^syscalls:sys_enter_/, "", n); printf " %s_sc_%s=%s", p, n, $1 }' "$1" 2>/dev/null
}
# A JSON number, flat, without jq: "KEY": NUMBER.
json_num() { grep -o "\"$2\": *[0-9.e+-]*" "$1" 2>/dev/null | head -1 | sed 's/.*: *//'; }

# run PAIR SIDE N TOOL FILE SRV_PID CMD...: run CMD on the client host, pinned to CLI_CORE, its output into
# FILE's .txt; measure CMD and the server process SRV_PID over the run; one line in the manifest.
failed=0
run() {
  local pair=$1 side=$2 n=$3 tool=$4 file=$5 spid=$6; shift 6
  local base=${file%.*} perf_srv=
  local txt=$base.txt
  echo "bench: pair $pair $side run $n: $*" >&2
  if [ "$PERF_ON" = 1 ]; then
    # Attached before the client starts, detached after it ended: the window covers the whole run.
    perf stat -x, -e "$PERF_EVENTS" -o "$dir/$base.srv.perf" -p "$spid" > /dev/null 2>&1 &
    perf_srv=$!
    sleep 0.3
  fi
  local s_cpu0 s_io0 c_cpu0 c_io0 st0 t0
  s_cpu0=$(proc_cpu "$spid"); s_io0=$(proc_io "$spid"); st0=$(steal_ticks)
  # Last before the client: what the lines above forked is reaped by now and stays out of the delta.
  children_cpu; c_cpu0=$CPU_MS; self_io; c_io0=$IO; t0=$EPOCHREALTIME
  local pre=(taskset -c "$CLI_CORE")
  [ "$PERF_ON" = 1 ] && pre+=(perf stat -x, -e "$PERF_EVENTS" -o "$dir/$base.cli.perf" --)
  "${pre[@]}" ip netns exec "$LAB_CLI" "$@" > "$dir/$txt" 2>&1
  local rc=$? t1=$EPOCHREALTIME c_io1 c_cpu1
  self_io; c_io1=$IO; children_cpu; c_cpu1=$CPU_MS
  local s_cpu1 s_io1 st1
  s_cpu1=$(proc_cpu "$spid"); s_io1=$(proc_io "$spid"); st1=$(steal_ticks)
  if [ -n "$perf_srv" ]; then kill -INT "$perf_srv" 2>/dev/null; wait "$perf_srv" 2>/dev/null; fi
  if [ $rc -ne 0 ]; then
    echo "bench: FAILED (exit $rc): $* -- see $dir/$txt" >&2
    failed=1
    return
  fi
  local line
  line=$(awk -v p="$pair" -v s="$side" -v n="$n" -v tool="$tool" -v f="$file" -v t0="$t0" -v t1="$t1" \
    -v cc0="$c_cpu0" -v cc1="$c_cpu1" -v ci0="$c_io0" -v ci1="$c_io1" -v sc0="$s_cpu0" -v sc1="$s_cpu1" \
    -v si0="$s_io0" -v si1="$s_io1" -v st0="$st0" -v st1="$st1" -v hz="$clk_tck" -v ncpu="$ncpu" \
    -v cc="$CLI_CORE" -v scr="$(allowed "$spid")" -v cn="${1##*/}" -v sn="$(cat "/proc/$spid/comm" 2>/dev/null)" 'BEGIN {
      split(ci0, a, " "); split(ci1, b, " "); split(si0, x, " "); split(si1, y, " ")
      printf "run\t%s\t%s\t%s\t%s\tn=%s\tcli_name=%s\tsrv_name=%s\tcli_core=%s\tsrv_core=%s\twall_s=%.4f\tsteal=%.4f",
        p, s, tool, f, n, cn, sn, cc, scr,
        t1 - t0, (st1 - st0) / hz / ncpu / (t1 - t0)
      printf "\tcli_cpu_s=%.4f\tcli_syscr=%d\tcli_syscw=%d", (cc1 - cc0) / 1000, b[1] - a[1], b[2] - a[2]
      printf "\tsrv_cpu_s=%.4f\tsrv_syscr=%d\tsrv_syscw=%d", sc1 - sc0, y[1] - x[1], y[2] - x[2] }')
  if [ "$PERF_ON" = 1 ]; then
    line+=$'\tperf=1'
    line+=$(perf_keys "$dir/$base.cli.perf" cli | tr ' ' '\t')
    line+=$(perf_keys "$dir/$base.srv.perf" srv | tr ' ' '\t')
  fi
  # churnlab's reactors count their own epoll calls (--json): next to perf's count, a check of both.
  local w c
  if [ "${tool#json:}" != "$tool" ]; then
    w=$(json_num "$dir/$file" epoll_waits); c=$(json_num "$dir/$file" epoll_ctls)
    [ -n "$w" ] && line+=$'\t'"cli_reactor_waits=$w"$'\t'"cli_reactor_ctls=$c"
  fi
  printf '%s\n' "$line" >> "$manifest"
}

# pair ID METRIC TESTED TARGET_RATE TARGET_CPU LABEL: TESTED is the process whose cost is compared
# (cli or srv); TARGET_RATE = ours/peer rate, TARGET_CPU = peer/ours CPU per unit (issue 12's targets).
want() { case " $BENCH_PAIRS " in *" $1 "*) return 0 ;; esac; return 1; }
want 1 && printf 'pair\t1\treq/s\tcli\t1\t1.3\tkeep-alive client: churn-client --mode pool -c %s vs wrk -t1 -c%s (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"
want 2 && printf 'pair\t2\treq/s\tsrv\t1\t1.2\tkeep-alive server: churn-server vs nginx, 1 worker (wrk -t1 -c%s)\n' $BENCH_C >> "$manifest"
want 3 && printf 'pair\t3\tconn/s\tcli\t1\t1.3\tnew connection per request, the server closes first: churn-client --mode churn --close server -c %s vs ab -c %s, no -k (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"
want 4 && printf 'pair\t4\tconn/s\tcli\t0\t0\treference: churn-client --mode churn -c %s (the client closes first: run-churn'"'"'s default) vs ab -c %s (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"
want 5 && printf 'pair\t5\treq/s\tcli\t0\t0\treference: churn-client --mode pool -c %s vs bench-floor -c %s, a client that only reads and writes (-> nginx)\n' $BENCH_C $BENCH_C >> "$manifest"
want 6 && printf 'pair\t6\treq/s\tsrv\t0\t0\treference: churn-server vs bench-floor --serve, a server that only reads and writes (wrk -t1 -c%s)\n' $BENCH_C >> "$manifest"

# One side of one pair, one run.
p1() {
  case $1 in
    ours) run 1 ours "$2" json:rps:requests_ok "p1-ours-$2.json" "$ngx_pid" "$BIN/churn-client" --mode pool \
            -c $BENCH_C -d "$BENCH_D" -R 0 --quiet --json "$dir/p1-ours-$2.json" "$NGINX_URL" ;;
    peer) run 1 peer "$2" wrk "p1-peer-$2.txt" "$ngx_pid" wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$NGINX_URL" ;;
  esac
}
# churn-server as pairs 2 and 6 run it; each run adds its own --json.
churn_srv=("$BIN/churn-server" --listen "$LAB_SRV_IP:8080" --size "$SIZE" --duration 600)
# under_wrk PAIR SIDE N CMD...: start the server CMD fresh, drive it with wrk for one run, stop it, and put
# its own epoll counts on the run's line.
under_wrk() {
  local pair=$1 side=$2 n=$3; shift 3
  local base=p$pair-$side-$n
  server_start "$base" "$@" || { failed=1; return; }
  run "$pair" "$side" "$n" wrk "$base.txt" "$srv_pid" wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$CHURN_URL"
  server_stop; srv_counts "$base"
}
p2() {
  case $1 in
    ours) under_wrk 2 ours "$2" "${churn_srv[@]}" --json "$dir/p2-ours-$2.server.json" ;;
    peer) run 2 peer "$2" wrk "p2-peer-$2.txt" "$ngx_pid" wrk -t1 -c$BENCH_C -d"${BENCH_D}s" "$NGINX_URL" ;;
  esac
}
# srv_counts BASE: the server's own epoll_wait/epoll_ctl counts, from its JSON (written at SIGTERM), onto
# the run's line in the manifest.
srv_counts() {
  local w c
  w=$(json_num "$dir/$1.server.json" epoll_waits); c=$(json_num "$dir/$1.server.json" epoll_ctls)
  [ -n "$w" ] && sed -i "\$s/\$/\tsrv_reactor_waits=$w\tsrv_reactor_ctls=$c/" "$manifest"
}
# Pairs 3 and 4: the same client and peer; only who closes first differs. ab sends HTTP/1.0, so nginx
# closes first and keeps the TIME-WAIT; --close server makes churn-client do the same ("Connection:
# close"), which is the like-for-like pair. run-churn's default, the client closing first, costs the
# client more (connect() searches its own TIME-WAIT sockets for a free port, tcp_tw_reuse takes them
# over) and nginx an extra read of our FIN: pair 4 shows by how much, with no target.
p3() {
  case $1 in
    ours) run 3 ours "$2" json:handshakes_per_s:handshakes "p3-ours-$2.json" "$ngx_pid" "$BIN/churn-client" \
            --mode churn --close server -c $BENCH_C -d "$BENCH_D" -R 0 --quiet --json "$dir/p3-ours-$2.json" "$NGINX_URL" ;;
    # -r: keep going on a receive error instead of aborting the whole run.
    peer) run 3 peer "$2" ab "p3-peer-$2.txt" "$ngx_pid" ab -r -c $BENCH_C -n "$AB_N" "$NGINX_URL" ;;
  esac
}
p4() {
  case $1 in
    ours) run 4 ours "$2" json:handshakes_per_s:handshakes "p4-ours-$2.json" "$ngx_pid" "$BIN/churn-client" \
            --mode churn -c $BENCH_C -d "$BENCH_D" -R 0 --quiet --json "$dir/p4-ours-$2.json" "$NGINX_URL" ;;
    peer) run 4 peer "$2" ab "p4-peer-$2.txt" "$ngx_pid" ab -r -c $BENCH_C -n "$AB_N" "$NGINX_URL" ;;
  esac
}
# Pair 5: how far churn-client is from the least any client can do here (lab/bench_floor.cc). The floor
# divided into wrk's CPU per request (pair 1) is the best ratio against wrk this kernel allows.
p5() {
  case $1 in
    ours) run 5 ours "$2" json:rps:requests_ok "p5-ours-$2.json" "$ngx_pid" "$BIN/churn-client" --mode pool \
            -c $BENCH_C -d "$BENCH_D" -R 0 --quiet --json "$dir/p5-ours-$2.json" "$NGINX_URL" ;;
    peer) run 5 peer "$2" json:rps:requests_ok "p5-peer-$2.json" "$ngx_pid" "$BIN/bench-floor" \
            -c $BENCH_C -d "$BENCH_D" --json "$dir/p5-peer-$2.json" "$LAB_SRV_IP:8081" ;;
  esac
}
# Pair 6: the server's floor, bench-floor --serve (one read and one write per request, nothing else),
# under the same wrk. nginx's CPU per request (pair 2) over the floor's bounds pair 2's ratio.
p6() {
  case $1 in
    ours) under_wrk 6 ours "$2" "${churn_srv[@]}" --json "$dir/p6-ours-$2.server.json" ;;
    peer) under_wrk 6 peer "$2" "$BIN/bench-floor" --serve --size "$SIZE" -d 600 \
            --json "$dir/p6-peer-$2.server.json" "$LAB_SRV_IP:8080" ;;
  esac
}
PERF_ON=0
for p in $(printf 'p%s ' $BENCH_PAIRS); do
  for n in $(seq 1 "$BENCH_RUNS"); do
    # ABBA: ours first on odd runs, the peer first on even ones, so neither always runs on a warmer machine.
    if [ $((n % 2)) = 1 ]; then $p ours "$n"; $p peer "$n"; else $p peer "$n"; $p ours "$n"; fi
  done
  if [ "$BENCH_PERF" = 1 ]; then
    PERF_ON=1
    for n in $(seq 1 "$BENCH_COUNT_RUNS"); do $p ours "c$n"; $p peer "c$n"; done
    PERF_ON=0
  fi
done

printf 'note\tpinned: every client (churn-client, wrk, ab) on CPU %s (taskset -c), every server (churn-server, nginx master and worker) on CPU %s; the CPUs each process was allowed are in runs.tsv (cli_core, srv_core).\n' \
  "$CLI_CORE" "$SRV_CORE" >> "$manifest"
if [ "$BENCH_PERF" = 1 ]; then
  printf 'note\tsyscalls: counted by perf stat on the syscall tracepoints (in-kernel counters), for both processes, in %s extra run(s) per side (perf=1 in runs.tsv; rates and CPU come from the other runs, as counting slows every syscall); perf %s.\n' \
    "$BENCH_COUNT_RUNS" "$(perf version 2>/dev/null | sed 's/^perf version //')" >> "$manifest"
else
  printf 'note\tsyscalls: perf stat could not count syscall tracepoints here; only /proc/PID/io syscr+syscw (which miss send/recv) and churnlab'"'"'s own epoll counts.\n' >> "$manifest"
fi
printf 'note\tports: tcp_tw_reuse=%s and ip_local_port_range "%s" in the bench lab namespaces only (host untouched), so churn mode measures connection speed, not port exhaustion; ab -n %s.\n' \
  "$TW_REUSE" "$PORT_RANGE" "$AB_N" >> "$manifest"
printf 'note\t%s s runs, %s per side, alternating (ABBA); nginx %s, 1 worker; body %s bytes; kernel %s; %s CPUs; %s\n' \
  "$BENCH_D" "$BENCH_RUNS" "$(nginx -v 2>&1 | sed 's|.*nginx/||')" "$SIZE" "$(uname -r)" "$ncpu" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$manifest"
rm -f "$dir/.times"

lab_down

[ $failed = 0 ] || { echo "bench: some runs failed; the table uses the others" >&2; }
"$BIN/churn-report" bench "$dir" || exit 1
echo "bench: results in $dir" >&2
