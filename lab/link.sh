# link.sh: the emulated WAN path between the lab's two hosts. Sourced after lab/netns.sh and lab_up.
# shellcheck shell=bash
#
#   where the kernel has sch_netem (LINK_MODE=netem): the lab's veth stays, and each end gets
#       tc netem (delay, loss, seed) with a tbf child (rate, drop-tail queue) on its egress;
#   where it does not (these machines; LINK_MODE=churn-link): the veth is deleted and build/bin/churn-link
#       joins the hosts through one TUN device in each, point-to-point:
#
#   client host  tun-cli 198.18.0.1 peer 198.18.0.2  <-- churn-link (host namespace) -->  tun-srv 198.18.0.2 peer 198.18.0.1  server host
#
# The model and its order are the same in both modes: loss, then the drop-tail queue, then serialization
# at the rate, then the delay (link/path.h). A = the client host, B = the server host; "ab" knobs act on
# client->server packets.
#
# API (after `source lab/netns.sh; source lab/link.sh; lab_up`):
#   link_up [FLAGS...]  bring the link up with churn-link's flags (same flags in both modes):
#                         --delay MS --loss PCT --rate MBIT --queue-pkts N --queue-bytes N   (both ways)
#                         --delay-ab/--delay-ba, --loss-ab/-ba, ... (one way), --seed N, --duration S
#                       prints which mode it uses; returns non-zero (and says why) on failure.
#   link_down           stop the link (churn-link writes $LINK_JSON on SIGTERM), bounded at 5 s.
#                       lab_down also stops it (the pid is lab_track'ed), so a Ctrl-C leaves nothing.
#   link_detect         set LINK_MODE (netem | churn-link) unless the caller set it; link_up calls it.
#   link_bdp_pkts MBIT RTT_MS   one bandwidth-delay product in 1500-byte packets (e.g. 100 50 -> 417)
#   link_one_way_ms RTT         half an RTT given as 2ms, 500us, 0.5s or a bare number of ms (make's RTT=2ms)
#   link_json_get FILE KEY.PATH a value from churn-link's JSON (ab.dropped_loss), without jq
#   link_kernel_drops           (churn-link mode, while up) what the kernels dropped around the link, as
#                               "key value" lines: see _link_kernel_sample; link_down writes the run's
#                               totals to $LINK_KERNEL_JSON
# After link_up:
#   LINK_MODE  LINK_RTT_MS (delay-ab + delay-ba)  LINK_DEV_CLI LINK_DEV_SRV (capture here: DLT_RAW on TUN)
#   LINK_PID (churn-link)  LINK_JSON  LINK_LOG  LINK_DIR  LINK_KERNEL_JSON (written by link_down)
# Knobs: LINK_MODE=churn-link|netem (force), LINK_BIN, LINK_DURATION (default 600 s: every run stops by
# itself even if nobody calls link_down), LINK_DIR (log and JSON; default a lab_tmpdir, removed by
# lab_down), LINK_JSON_OUT (where churn-link writes its JSON; default $LINK_DIR/link.json), LINK_TC (default tc;
# LINK_TC="echo tc" prints the netem commands instead of running them, to review them on a kernel that
# has no netem), LINK_TXQUEUELEN (default 10000: the TUN devices' queue, see _link_up_tun).

LINK_BIN=${LINK_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin/churn-link}
LINK_PID=""
LINK_UP=0

link_log() { echo "link: $*" >&2; }

# Does `tc ... netem` work here? Tried in a throwaway namespace (named after the run, so lab/clean.sh
# removes it if we are killed halfway) on a veth: the host's devices are never touched. A missing
# sch_netem says "Specified qdisc kind is unknown". The dummy device type is not used: it is a module too.
link_detect() {
  [ -n "${LINK_MODE:-}" ] && return 0
  local ns=churnlab-${RUNID:-x}-netem
  LINK_MODE=churn-link
  ip netns add "$ns" 2>/dev/null || { link_log "cannot create $ns to probe for netem; assuming none"; return 0; }
  if ip -n "$ns" link add lkp0 type veth peer name lkp1 2>/dev/null &&
     tc -n "$ns" qdisc add dev lkp0 root netem delay 1ms 2>/dev/null; then
    LINK_MODE=netem
    # netem's own PRNG seed (TCA_NETEM_PRNG_SEED) is recent in both kernel and iproute2: use it if it works.
    tc -n "$ns" qdisc change dev lkp0 root netem delay 1ms seed 1 2>/dev/null && LINK_NETEM_SEED=1
  fi
  ip netns del "$ns" 2>/dev/null
  return 0
}

link_one_way_ms() {
  awk -v r="$1" 'BEGIN {
    if (r ~ /^[0-9.]+us$/) v = substr(r, 1, length(r) - 2) / 1000
    else if (r ~ /^[0-9.]+ms$/) v = substr(r, 1, length(r) - 2)
    else if (r ~ /^[0-9.]+s$/) v = substr(r, 1, length(r) - 1) * 1000
    else if (r ~ /^[0-9.]+$/) v = r
    else { print "link_one_way_ms: cannot read RTT \"" r "\" (want e.g. 2ms, 500us)" > "/dev/stderr"; exit 1 }
    print v / 2 }'
}

link_bdp_pkts() { awk -v r="$1" -v t="$2" 'BEGIN { n = int(r * 1e6 / 8 * t / 1000 / 1500 + 0.5); print (n < 1 ? 1 : n) }'; }

# The per-direction value of a knob from churn-link's flags: the -ab/-ba flag wins over the plain one.
# _link_knob NAME DIR(ab|ba) DEFAULT FLAGS...
_link_knob() {
  local name=$1 dir=$2 val=$3 both="" one="" a
  shift 3
  while [ $# -gt 0 ]; do
    a=$1; shift
    case $a in
      --$name=*) both=${a#*=} ;;
      --$name) both=${1:-}; shift ;;
      --$name-$dir=*) one=${a#*=} ;;
      --$name-$dir) one=${1:-}; shift ;;
    esac
  done
  echo "${one:-${both:-$val}}"
}

link_up() {
  [ -n "${LAB_CLI:-}" ] && [ -e "/run/netns/$LAB_CLI" ] || { link_log "no lab (source lab/netns.sh and lab_up first)"; return 1; }
  [ "$LINK_UP" = 0 ] || { link_log "already up (pid ${LINK_PID:-none}); link_down first"; return 1; }
  link_detect
  # A fresh temp dir unless the caller named one; a LINK_DIR from an earlier lab may be deleted by now.
  if [ -z "${LINK_DIR:-}" ] || [ ! -d "$LINK_DIR" ]; then
    # lab_tmpdir sets LAB_TMP, which the caller may be using for its own files: keep theirs.
    local saved=${LAB_TMP:-}
    lab_tmpdir || return 1
    LINK_DIR=$LAB_TMP LAB_TMP=$saved
  fi
  LINK_JSON=${LINK_JSON_OUT:-$LINK_DIR/link.json}
  LINK_KERNEL_JSON=${LINK_JSON%.json}.kernel.json
  LINK_LOG=$LINK_DIR/link.log
  local dab dba
  dab=$(_link_knob delay ab 0 "$@") dba=$(_link_knob delay ba 0 "$@")
  LINK_RTT_MS=$(awk -v a="$dab" -v b="$dba" 'BEGIN { print a + b }')
  # Remembered apart from LINK_MODE: a caller may have set that as a one-command prefix
  # (LINK_MODE=netem link_up ...), which bash undoes when link_up returns.
  _LINK_MODE_UP=$LINK_MODE
  if [ "$LINK_MODE" = netem ]; then _link_up_netem "$@"; else _link_up_tun "$@"; fi || return 1
  LINK_UP=1
}

_link_up_tun() {
  [ -x "$LINK_BIN" ] || { link_log "$LINK_BIN is not built (make build/bin/churn-link)"; return 1; }
  LINK_DEV_CLI=tun-cli LINK_DEV_SRV=tun-srv
  # The TUN path replaces the veth: with both, 198.18.0.2 would be reachable two ways (the /32 peer route
  # would win, but a capture on the veth would silently see nothing). Deleting one end deletes the pair.
  ip -n "$LAB_CLI" link del "cl${RUNID}c" 2>/dev/null
  local dur=()
  [[ " $* " == *" --duration"* ]] || dur=(--duration "${LINK_DURATION:-600}")
  # Empty the log here, not only in the child's redirection: the child may truncate it after our first
  # grep, which would then find the previous run's "ready".
  : > "$LINK_LOG"
  # Started directly (no `ip netns exec`): churn-link enters each namespace itself, so $! is churn-link.
  # It inherits CHURNLAB_RUN, so lab/clean.sh finds it even if this shell is killed.
  "$LINK_BIN" run --ns-a "$LAB_CLI" --ns-b "$LAB_SRV" --dev-a "$LINK_DEV_CLI" --dev-b "$LINK_DEV_SRV" \
    --json "$LINK_JSON" "${dur[@]}" "$@" > "$LINK_LOG" 2>&1 &
  LINK_PID=$!
  declare -F lab_track > /dev/null && lab_track "$LINK_PID"
  local i
  for i in $(seq 1 100); do
    grep -q '^ready' "$LINK_LOG" 2>/dev/null && break
    kill -0 "$LINK_PID" 2>/dev/null || { wait "$LINK_PID"; link_log "churn-link exited ($?): $(head -c 400 "$LINK_LOG")"; LINK_PID=""; return 1; }
    sleep 0.05
  done
  grep -q '^ready' "$LINK_LOG" || { link_log "churn-link not ready after 5 s"; _link_stop; return 1; }
  local ns dev me peer
  for side in cli srv; do
    if [ $side = cli ]; then ns=$LAB_CLI dev=$LINK_DEV_CLI me=$LAB_CLI_IP peer=$LAB_SRV_IP
    else ns=$LAB_SRV dev=$LINK_DEV_SRV me=$LAB_SRV_IP peer=$LAB_CLI_IP; fi
    # No IPv6 on the link: the kernel's own router solicitations and MLD reports would ride it, packets
    # no experiment sent, each taking a loss draw and shifting which packets a given seed drops.
    # Per-device sysctl inside the lab namespace; the host's are untouched.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" > /dev/null &&
    # txqueuelen is the TUN driver's own ring of packets waiting for churn-link's read() (tun_net_xmit;
    # a change resizes it). The default, 500, is 20 ms of 25 000 packets/s: one stall of the link (a
    # stolen vCPU, ~10 % on these VMs) and the kernel drops the rest (the device's tx_dropped). Those
    # drops never reach the link, so they take no loss draw and shift which packets a seed drops. 10 000
    # rides out a 400 ms stall at that rate; the memory is only used while packets wait.
    ip -n "$ns" link set dev "$dev" mtu 1500 txqueuelen "${LINK_TXQUEUELEN:-10000}" &&
    ip -n "$ns" addr add "$me" peer "$peer" dev "$dev" &&
    ip -n "$ns" link set dev "$dev" up || { link_log "configuring $dev in $ns failed"; _link_stop; return 1; }
  done
  _LINK_KERNEL0=$(link_kernel_drops)
  link_log "churn-link (pid $LINK_PID; this kernel has no sch_netem): $(grep -h '^churn-link: A->B' "$LINK_LOG" | cut -d' ' -f3-) client->server; $(grep -h '^churn-link: B->A' "$LINK_LOG" | cut -d' ' -f3-) server->client"
}

_link_up_netem() {
  LINK_DEV_CLI=cl${RUNID}c LINK_DEV_SRV=cl${RUNID}s
  local side ns dev dir d l r qp qb seed limit tbl seedopt
  seed=$(_link_knob seed ab 1 "$@")
  for side in cli srv; do
    if [ $side = cli ]; then ns=$LAB_CLI dev=$LINK_DEV_CLI dir=ab; else ns=$LAB_SRV dev=$LINK_DEV_SRV dir=ba; fi
    d=$(_link_knob delay $dir 0 "$@") l=$(_link_knob loss $dir 0 "$@") r=$(_link_knob rate $dir "" "$@")
    qp=$(_link_knob queue-pkts $dir "" "$@") qb=$(_link_knob queue-bytes $dir "" "$@")
    # netem first (loss, delay), tbf as its child (queue, rate): a constant delay before or after the
    # bottleneck gives the same departure times, and loss still comes before the queue. netem's own limit
    # holds the packets in flight (rate x delay), not the queue, so it is sized generously.
    limit=100000
    seedopt=()
    # Each direction its own stream, as churn-link does (there: the B->A generator is jumped 2^128 draws).
    [ "${LINK_NETEM_SEED:-0}" = 1 ] && { [ $dir = ab ] && seedopt=(seed "$seed") || seedopt=(seed $((seed + 1))); }
    ${LINK_TC:-tc} -n "$ns" qdisc replace dev "$dev" root handle 1: netem delay "${d}ms" loss "${l}%" limit $limit "${seedopt[@]}" ||
      { link_log "tc netem on $dev in $ns failed"; return 1; }
    if [ -n "$r" ]; then
      # tbf counts its limit in bytes: a packet limit becomes that many 1500-byte packets.
      tbl=${qb:-$(( ${qp:-1000} * 1500 ))}
      ${LINK_TC:-tc} -n "$ns" qdisc add dev "$dev" parent 1:1 handle 10: tbf rate "${r}mbit" burst 3000 limit "$tbl" ||
        { link_log "tc tbf on $dev in $ns failed"; return 1; }
    fi
  done
  echo '{"mode": "netem"}' > "$LINK_JSON"
  link_log "tc netem + tbf on the veth (this kernel has sch_netem): $*"
}

# TERM (churn-link writes its JSON and summary), up to 5 s, then KILL. Reaps it: it is our child.
_link_stop() {
  [ -n "$LINK_PID" ] || return 0
  kill -TERM "$LINK_PID" 2>/dev/null
  local i
  for i in $(seq 1 50); do kill -0 "$LINK_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$LINK_PID" 2>/dev/null
  wait "$LINK_PID" 2>/dev/null
  LINK_PID=""
}

link_down() {
  [ "$LINK_UP" = 1 ] || return 0
  LINK_UP=0
  if [ "$_LINK_MODE_UP" = netem ]; then
    ip netns exec "$LAB_CLI" tc -s qdisc show dev "$LINK_DEV_CLI" > "$LINK_DIR/tc-cli.txt" 2>&1
    ip netns exec "$LAB_SRV" tc -s qdisc show dev "$LINK_DEV_SRV" > "$LINK_DIR/tc-srv.txt" 2>&1
    tc -n "$LAB_CLI" qdisc del dev "$LINK_DEV_CLI" root 2>/dev/null
    tc -n "$LAB_SRV" qdisc del dev "$LINK_DEV_SRV" root 2>/dev/null
    return 0
  fi
  # Before the stop: the TUN devices, and their counters, die with churn-link.
  _link_kernel_json "$_LINK_KERNEL0" "$(link_kernel_drops)" > "$LINK_KERNEL_JSON"
  _link_stop
  # The devices die with churn-link's fds; say so if one is still there (it would mean another holder).
  if ip -n "$LAB_CLI" link show "$LINK_DEV_CLI" > /dev/null 2>&1; then link_log "$LINK_DEV_CLI still exists after churn-link exited"; fi
  link_log "$(grep -h '^churn-link: A->B [0-9]' "$LINK_LOG" | head -1)"
}

# Where a packet can vanish around churn-link without the link seeing it, per host (cli = A, srv = B):
#   dev.tx_dropped       the stack sent it to the TUN device, whose ring (txqueuelen) was full: the
#                        link never read it (tun_net_xmit)
#   dev.rx_dropped       the link wrote it, the stack could not take it (the per-CPU backlog,
#                        netdev_max_backlog, was full)
#   qdisc.dropped        the device's qdisc (if any) refused it before the driver
#   udp.RcvbufErrors     delivered to a UDP socket whose receive buffer was full
#   udp.SndbufErrors     a UDP send() the stack could not queue (ENOBUFS)
#   udp.NoPorts          delivered after the receiving socket was closed (a late packet)
#   udp.InErrors         every UDP datagram received and dropped (includes RcvbufErrors)
# Namespace-wide counters (udp.*) include every socket's traffic: the caller knows what else ran.
# One "host.key value" line each. The devices are churn-link's, so only while it runs.
link_kernel_drops() {
  local side ns dev
  for side in cli srv; do
    if [ $side = cli ]; then ns=$LAB_CLI dev=$LINK_DEV_CLI; else ns=$LAB_SRV dev=$LINK_DEV_SRV; fi
    # `ip netns exec` mounts the namespace's own /sys, so /sys/class/net shows its devices.
    ip netns exec "$ns" sh -c "for c in tx_dropped rx_dropped tx_packets rx_packets; do
        printf '$side.dev.%s %s
' \$c \$(cat /sys/class/net/$dev/statistics/\$c 2>/dev/null || echo 0); done"
    ip -n "$ns" -s qdisc show dev "$dev" 2>/dev/null |
      awk -v s=$side '/dropped/ { for (i = 1; i < NF; i++) if ($i == "dropped") { sub(",", "", $(i + 1)); d += $(i + 1) } }
                     END { print s ".qdisc.dropped " d + 0 }'
    ip netns exec "$ns" awk -v s=$side '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }
        else for (i = 2; i <= NF; i++) if (k[i] ~ /^(RcvbufErrors|SndbufErrors|NoPorts|InErrors|InDatagrams|OutDatagrams)$/) print s ".udp." k[i], $i }' /proc/net/snmp
  done
}
# _link_kernel_json BEFORE AFTER: the differences as nested JSON {"cli": {"dev": {...}, ...}, "srv": ...}.
# The devices are new with each churn-link, so "before" for dev.* is the configuration's few packets.
_link_kernel_json() {
  awk 'NR == FNR { a[$1] = $2; next } { v[$1] = $2 - a[$1]; order[++n] = $1 }
    END {
      printf "{"
      for (i = 1; i <= n; i++) {
        split(order[i], p, ".")
        if (p[1] != host) { printf "%s\"%s\": {", host == "" ? "" : "}}, ", p[1]; host = p[1]; grp = "" }
        if (p[2] != grp) { printf "%s\"%s\": {", grp == "" ? "" : "}, ", p[2]; grp = p[2]; first = 1 }
        printf "%s\"%s\": %d", first ? "" : ", ", p[3], v[order[i]]; first = 0
      }
      print (n ? "}}" : "") "}"
    }' <(echo "$1") <(echo "$2")
}

# link_json_get FILE KEY.PATH: a scalar from a JSON file (objects nest with dots). A tokenizer in awk, as
# tests/integration/lib.sh's json_flat, so scripts need neither jq nor python3.
link_json_get() {
  awk -v want="$2" '
    function path(   i, p) { p = ""; for (i = 1; i <= d; i++) p = p (i > 1 ? "." : "") key[i]; return p }
    {
      s = $0
      while (length(s) > 0) {
        c = substr(s, 1, 1)
        if (c ~ /[ \t\r,]/) { s = substr(s, 2); continue }
        if (c == "{") { d++; key[d] = ""; wantkey[d] = 1; s = substr(s, 2); continue }
        if (c == "}") { d--; wantkey[d] = 1; s = substr(s, 2); continue }
        if (c == "[" || c == "]") { s = substr(s, 2); continue }
        if (c == ":") { wantkey[d] = 0; s = substr(s, 2); continue }
        if (c == "\"") { match(s, /^"([^"\\]|\\.)*"/); t = substr(s, 2, RLENGTH - 2); s = substr(s, RLENGTH + 1) }
        else { match(s, /^[-+0-9.eEtruefalsn]+/); t = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1) }
        if (wantkey[d]) { key[d] = t; continue }
        if (path() == want) { print t; found = 1; exit }
        wantkey[d] = 1
      }
    }
    END { exit !found }' "$1"
}
