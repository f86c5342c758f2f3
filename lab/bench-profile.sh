#!/usr/bin/env bash
# bench-profile.sh: where churnlab's CPU goes in the three bench pairs (lab/bench.sh), by sampling.
#
#   pool          churn-client --mode pool -c 50 -> nginx                 (perf record on the client)
#   server        wrk -t1 -c50 -> churn-server                            (perf record -p on the server)
#   churn         churn-client --mode churn -c 50 -> nginx                (the client closes first)
#   churn-cs      churn-client --mode churn --close server -c 50 -> nginx (bench pair 3)
#   churn-cs-bare the same with --smart-connect off (a bare ACK ends each handshake)
#
# Sides pinned as in bench.sh (clients CPU $CLI_CORE, servers CPU $SRV_CORE). perf samples the cpu-clock
# software event (this VM exposes no hardware cycle counter) at PROFILE_HZ, with call graphs (-g): the
# kernel unwinds its own stacks; ours stop at the first user frame (no frame pointers), which is enough
# to see which syscall a kernel symbol's time belongs to. Each profile is followed by a perf stat of the
# syscalls by name.
#
# Output: results/bench-profile-<UTC ts>/NAME.top.txt (top symbols, kernel and user),
# NAME.dso.txt (time by binary / kernel), NAME.callers.txt (the call chains into the top kernel symbol,
# _raw_spin_unlock_irqrestore, where this VM books time spent with interrupts off), NAME.sys.txt
# (syscalls by name), NAME.data (perf's raw file).
# Not part of `make bench`: a look inside, for EXPERIMENTS.md §3, not a number to compare.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
BIN=${BIN:-build/bin}
PROFILE_D=${PROFILE_D:-4}
PROFILE_HZ=${PROFILE_HZ:-1999}
CLI_CORE=${CLI_CORE:-0}
SRV_CORE=${SRV_CORE:-1}
export TW_REUSE=${TW_REUSE:-1} PORT_RANGE=${PORT_RANGE:-"1024 65535"}

die() { echo "bench-profile: $*" >&2; exit 2; }
for b in churn-server churn-client; do [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"; done
for t in perf wrk nginx taskset; do command -v $t > /dev/null || die "$t not installed"; done

source lab/netns.sh
source lab/nginx.sh
ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/bench-profile-$ts
mkdir -p "$dir" || die "cannot create $dir"
lab_up || die "lab setup failed"
nginx_start "$LAB_SRV_IP:8081" 64 "$dir" || die "nginx did not start"
for p in $(ip netns pids "$LAB_SRV"); do taskset -a -pc "$SRV_CORE" "$p" > /dev/null; done
ip netns exec "$LAB_SRV" taskset -c "$SRV_CORE" "$BIN/churn-server" --listen "$LAB_SRV_IP:8080" --size 64 \
  --duration 300 --quiet > "$dir/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q "listening on" "$dir/server.log" && break; sleep 0.05; done
grep -q "listening on" "$dir/server.log" || die "churn-server did not start"

SYSCALLS=raw_syscalls:sys_enter
for s in read recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_ctl socket connect accept4 close \
         setsockopt getsockopt timerfd_settime clock_gettime; do SYSCALLS+=,syscalls:sys_enter_$s; done

# top NAME: the perf report tables of NAME.data.
top() {
  perf report -i "$dir/$1.data" --stdio --no-children --sort sym 2> /dev/null | grep -v '^#' | grep . | head -40 > "$dir/$1.top.txt"
  perf report -i "$dir/$1.data" --stdio --no-children --sort dso 2> /dev/null | grep -v '^#' | grep . | head -15 > "$dir/$1.dso.txt"
  # Caller-first chains (-G) into the symbol, so each branch starts at the syscall that paid for it.
  perf report -i "$dir/$1.data" --stdio --no-children -S _raw_spin_unlock_irqrestore -G --percent-limit 2 \
    2> /dev/null | grep -v '^#' | grep . | head -120 > "$dir/$1.callers.txt"
  echo "== $1: time by binary"; cat "$dir/$1.dso.txt"; echo "== $1: top symbols"; head -25 "$dir/$1.top.txt"
}

url_ngx=http://$LAB_SRV_IP:8081/
url_srv=http://$LAB_SRV_IP:8080/
for name in pool churn churn-cs churn-cs-bare; do
  case $name in
    pool)          args=(--mode pool) ;;
    churn)         args=(--mode churn) ;;
    churn-cs)      args=(--mode churn --close server) ;;
    churn-cs-bare) args=(--mode churn --close server --smart-connect off) ;;
  esac
  taskset -c "$CLI_CORE" perf record -q -g -e cpu-clock -F "$PROFILE_HZ" -o "$dir/$name.data" -- \
    ip netns exec "$LAB_CLI" "$BIN/churn-client" "${args[@]}" -c 50 -d "$PROFILE_D" -R 0 --quiet \
    --json "$dir/$name.json" "$url_ngx" > "$dir/$name.log" 2>&1 || die "$name run failed: $(tail -3 "$dir/$name.log")"
  taskset -c "$CLI_CORE" perf stat -x, -e "$SYSCALLS" -o "$dir/$name.sys.txt" -- \
    ip netns exec "$LAB_CLI" "$BIN/churn-client" "${args[@]}" -c 50 -d 2 -R 0 --quiet \
    --json "$dir/$name.stat.json" "$url_ngx" > /dev/null 2>&1
  top $name
done
perf record -q -g -e cpu-clock -F "$PROFILE_HZ" -o "$dir/server.data" -p "$srv" > /dev/null 2>&1 &
rec=$!
sleep 0.3
ip netns exec "$LAB_CLI" taskset -c "$CLI_CORE" wrk -t1 -c50 -d"${PROFILE_D}s" "$url_srv" > "$dir/server.wrk.txt" 2>&1
kill -INT $rec; wait $rec
perf stat -x, -e "$SYSCALLS" -o "$dir/server.sys.txt" -p "$srv" > /dev/null 2>&1 &
rec=$!
sleep 0.3
ip netns exec "$LAB_CLI" taskset -c "$CLI_CORE" wrk -t1 -c50 -d2s "$url_srv" > "$dir/server.stat.wrk.txt" 2>&1
kill -INT $rec; wait $rec
top server
kill -TERM $srv; wait $srv 2> /dev/null
lab_down
echo "bench-profile: results in $dir" >&2
