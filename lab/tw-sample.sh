#!/usr/bin/env bash
# tw-sample.sh OUT.csv CLIENT_NS SERVER_NS [MAX_SECONDS]
#
# Every 200 ms, count the TIME-WAIT sockets on both lab hosts and append `t_s,client_tw,server_tw` to
# OUT.csv (t_s = seconds since the sampler started, 3 decimals). Stops on SIGTERM/SIGINT, when a namespace
# disappears, or after MAX_SECONDS (default 120) so a forgotten sampler cannot run forever.
#
# A separate small script on purpose: the counting command is one function, so a later version can swap
# `ss` for the project's own sock_diag probe without touching the runners.
set -u -o pipefail

[ $# -ge 3 ] || { echo "usage: tw-sample.sh OUT.csv CLIENT_NS SERVER_NS [MAX_SECONDS]" >&2; exit 2; }
out=$1 cli=$2 srv=$3 max=${4:-120}
interval=0.2

# ss asks the kernel over sock_diag with a state filter, so only TIME-WAIT sockets cross into user space;
# -H drops the header line so that wc -l is the count.
count_tw() { ip netns exec "$1" ss -H -tan state time-wait | wc -l; }

# Time from /proc/uptime: a monotonic clock bash can read without forking (`read` is a builtin). Its
# 10 ms resolution is plenty for 200 ms samples, and unlike $EPOCHREALTIME it cannot jump with NTP.
uptime_cs() { local up _; read -r up _ < /proc/uptime; echo $(( 10#${up/./} )); }  # centiseconds

stop=0
trap 'stop=1' TERM INT

start=$(uptime_cs)
echo "t_s,client_tw,server_tw" > "$out"
while [ $stop = 0 ]; do
  now=$(uptime_cs)
  el=$(( now - start ))
  [ $el -le $(( max * 100 )) ] || break
  c=$(count_tw "$cli") || break
  s=$(count_tw "$srv") || break
  printf '%d.%02d0,%d,%d\n' $(( el / 100 )) $(( el % 100 )) "$c" "$s" >> "$out"
  # Sleep in the background and wait: a trapped signal interrupts `wait` at once, not after the sleep.
  sleep "$interval" & nap=$!
  wait $nap 2>/dev/null
done
kill "${nap:-}" 2>/dev/null   # do not leave the last sleep behind
exit 0
