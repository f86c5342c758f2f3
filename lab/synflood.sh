#!/usr/bin/env bash
# synflood.sh: `make run-synflood`. A SYN flood against the lab's listener, with and without SYN cookies,
# and what long-RTT clients lose while cookies are in use (issue 10; EXPERIMENTS.md §7). Every case runs
# in a fresh lab (lab/netns.sh); sysctls are set inside the lab's namespaces only, never on the host.
#
#   flood-cookies{1,0,2}   tcp_syncookies = 1, 0, 2 on the server host. churn-server --backlog
#                          SYNFLOOD_BACKLOG; the server host routes 198.19.0.0/16 (the spoofed range)
#                          back to the client host, which has ip_forward=0 and no such address, so every
#                          SYN-ACK to a spoofed source is dropped there ("routes back into the lab, where
#                          nothing answers"). churn-synflood sends SYNFLOOD_RATE SYN/s for SYNFLOOD_SECONDS
#                          from the client host; 1 s in, a legitimate churn-client starts (SYNFLOOD_CLIENT_RATE
#                          req/s, --timeout SYNFLOOD_TIMEOUT ms: long enough to see its SYN retransmits, at
#                          1, 2, 3, 4, 5, 7 s on a kernel with tcp_syn_linear_timeouts=4) and stops with the flood. churn-probe watch samples the server host
#                          every 100 ms (SYN-RECV and the syncookie counters); mid-flood, SYN-RECV is read
#                          by churn-probe, `ss`, churn-probe; the counters by churn-probe, `nstat -asz`,
#                          churn-probe before and after (the bracket is the cross-check).
#   accept-overflow        churn-server --accept-for ACCEPT_FOR --backlog ACCEPT_BACKLOG: it stops calling
#                          accept(), the accept queue fills, and churn-client keeps coming (20 req/s,
#                          --timeout 4000 ms: SYN retransmits at 1, 2, 3 s, then ETIMEDOUT).
#   bulk-cookiesC-tsT      over churn-link (lab/link.sh): RTT LONG_RTT ms, LONG_RATE Mbit/s; tcp_syncookies C
#                          (2: a cookie for every SYN; 0: never) on the server host, tcp_timestamps T on the
#                          client host; one LONG_SIZE download with churn-client --mss LONG_MSS. tcp_info of
#                          the server's accepted socket (churn-probe info) during the transfer. The cookie
#                          case without timestamps is captured on the TUN device (cookie.pcap) and annotated.
#   synack-dropD-cookiesC  the same path, churn-link --drop-synack D (the first D SYN-ACKs of each flow),
#                          LONG_N connections at once: connect times, the server's SYN-ACK retransmits.
# A case whose tool is not built yet is "not run: needs X" in cases.tsv, never faked.
#
# Into results/synflood-<UTC ts>/ (results/latest-synflood points to it): cases.tsv, one directory per
# case, meta.json, cookie.pcap and cookie.annotate.txt; then churn-report synflood writes synflood.json,
# synflood.md and synflood.gp, and gnuplot synrecv.svg.
#
# Knobs: SYNFLOOD_RATE=2000 SYNFLOOD_SECONDS=20 SYNFLOOD_BACKLOG=128 SYNFLOOD_CLIENT_RATE=20
# SYNFLOOD_TIMEOUT=10000 SYNFLOOD_SETTINGS="1 0 2" ACCEPT_BACKLOG=16 ACCEPT_FOR=2s ACCEPT_SECONDS=8
# LONG_RTT=200 LONG_RATE=100 LONG_SIZE=2097152 LONG_MSS=1400 LONG_N=10 LONG_DROPS="1 2"
# SYNFLOOD_CASES="flood accept bulk synack" (a subset), SYNFLOOD_DIR (default results/synflood-<ts>; then
# no results/latest-synflood link), PORT=8080. About 4 minutes with the defaults.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/meta.sh
source lab/netns.sh
source lab/link.sh
die() { echo "synflood: $*" >&2; exit 1; }
bad() { echo "synflood: $*" >&2; exit 2; }  # a bad knob: nothing was run

SYNFLOOD_RATE=${SYNFLOOD_RATE:-2000} SYNFLOOD_SECONDS=${SYNFLOOD_SECONDS:-20} SYNFLOOD_BACKLOG=${SYNFLOOD_BACKLOG:-128}
SYNFLOOD_CLIENT_RATE=${SYNFLOOD_CLIENT_RATE:-20} SYNFLOOD_TIMEOUT=${SYNFLOOD_TIMEOUT:-10000}
SYNFLOOD_SETTINGS=${SYNFLOOD_SETTINGS:-1 0 2} SYNFLOOD_CASES=${SYNFLOOD_CASES:-flood accept bulk synack}
ACCEPT_BACKLOG=${ACCEPT_BACKLOG:-16} ACCEPT_FOR=${ACCEPT_FOR:-2s} ACCEPT_SECONDS=${ACCEPT_SECONDS:-8}
LONG_RTT=${LONG_RTT:-200} LONG_RATE=${LONG_RATE:-100} LONG_SIZE=${LONG_SIZE:-2097152} LONG_MSS=${LONG_MSS:-1400}
LONG_N=${LONG_N:-10} LONG_DROPS=${LONG_DROPS:-1 2} PORT=${PORT:-8080}
BIN=${BIN:-build/bin}
PROBE=$BIN/churn-probe
for b in churn-server churn-client churn-probe churn-report churn-link churn-pcap; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"
done
command -v gnuplot > /dev/null || die "gnuplot not installed (make deps-lab)"
command -v nstat > /dev/null || die "nstat not installed (iproute2)"
for v in SYNFLOOD_RATE SYNFLOOD_SECONDS SYNFLOOD_BACKLOG SYNFLOOD_CLIENT_RATE SYNFLOOD_TIMEOUT ACCEPT_BACKLOG \
         ACCEPT_SECONDS LONG_RTT LONG_RATE LONG_SIZE LONG_MSS LONG_N; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || bad "$v must be a positive whole number, not '${!v}'"
done
(( SYNFLOOD_SECONDS >= 6 )) || bad "SYNFLOOD_SECONDS must be at least 6 (the client runs from 1 s to 3 s before the end)"
for s in $SYNFLOOD_SETTINGS; do [[ $s =~ ^[012]$ ]] || bad "SYNFLOOD_SETTINGS: '$s' is not a tcp_syncookies value (0, 1 or 2)"; done
for d in $LONG_DROPS; do [[ $d =~ ^[1-9]$ ]] || bad "LONG_DROPS: '$d' is not a count of SYN-ACKs to drop (1-9)"; done
for k in $SYNFLOOD_CASES; do
  case $k in flood|accept|bulk|synack) ;; *) bad "SYNFLOOD_CASES: unknown case kind '$k' (want flood accept bulk synack)" ;; esac
done
want() { [[ " $SYNFLOOD_CASES " == *" $1 "* ]]; }

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=${SYNFLOOD_DIR:-results/synflood-$ts}
mkdir -p "$dir" || die "cannot create $dir"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
steal0=$(steal_sample)
LOG=$dir/lab.log
SPOOF=198.19.0.0/16
# The counters of issue 10, by nstat's names, plus the SYN(-ACK) retransmits of the lost-SYN-ACK case.
COUNTERS=TcpExtSyncookiesSent,TcpExtSyncookiesRecv,TcpExtSyncookiesFailed,TcpExtTCPReqQFullDoCookies,TcpExtTCPReqQFullDrop,TcpExtListenOverflows,TcpExtListenDrops,TcpPassiveOpens,TcpAttemptFails,TcpExtTCPSynRetrans
printf 'id\tkind\tsettings\tstatus\n' > "$dir/cases.tsv"

# ---- what a case needs that another branch may not have built yet ----
has_flag() { "$BIN/$1" --help 2>&1 | grep -q -- "$2"; }
needs() {  # KIND: empty, or what is missing
  case $1 in
    flood) [ -x "$BIN/churn-synflood" ] || echo "churn-synflood" ;;
    accept) has_flag churn-server --accept-for || echo "churn-server --accept-for" ;;
    synack) has_flag churn-link --drop-synack || echo "churn-link --drop-synack" ;;
  esac
}
case_line() { printf '%s\t%s\t%s\t%s\n' "$@" >> "$dir/cases.tsv"; }
skip_case() {  # ID KIND SETTINGS MISSING
  echo "synflood: $1: not run: needs $4" >&2
  case_line "$1" "$2" "$3" "not run: needs $4"
}

# ---- helpers every case uses ----
# snap NS PREFIX: the counters by churn-probe, by nstat (-a absolute, -s: nstat's history file is shared by
# every namespace on the host, -z zeros too), by churn-probe again, back to back. nstat's value must lie
# between the two churn-probe readings (the report checks it).
snap() {
  "$PROBE" nstat --netns "$1" --json > "$2.probe1.json" &&
  ip netns exec "$1" nstat -asz > "$2.nstat.txt" &&
  "$PROBE" nstat --netns "$1" --json > "$2.probe2.json" || die "snap $2: churn-probe nstat or nstat failed"
}
# start_server CASE_DIR ARGS...: churn-server on the server host, JSON on SIGTERM; SRV_PID.
start_server() {
  local d=$1; shift
  ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$PORT" --duration 300 --json "$d/server.json" "$@" \
    > "$d/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$d/server.log" 2>/dev/null && return 0; kill -0 $SRV_PID 2>/dev/null || break; sleep 0.05; done
  die "churn-server did not start: $(head -c 300 "$d/server.log")"
}
# stop PID: SIGTERM (servers and clients write their JSON then), bounded at 5 s.
stop() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null
}
# record_settings FILE: the sysctls a case depends on, as the namespaces have them (read back, not assumed).
record_settings() {
  local s=() k
  for k in tcp_syncookies tcp_max_syn_backlog tcp_synack_retries; do s+=("\"net.ipv4.$k\": $(lab_srv sysctl -n net.ipv4.$k)"); done
  s+=("\"net.core.somaxconn\": $(lab_srv sysctl -n net.core.somaxconn)")
  # tcp_syn_linear_timeouts (6.x): the client's first N SYN retransmits come 1 s apart, not 1, 2, 4 s.
  local c=() v
  for k in tcp_timestamps tcp_syn_retries tcp_syn_linear_timeouts; do
    v=$(lab_cli sysctl -n net.ipv4.$k 2>/dev/null) && c+=("\"net.ipv4.$k\": $v")
  done
  printf '{"server": {%s}, "client": {%s}}\n' "$(IFS=,; echo "${s[*]}")" "$(IFS=,; echo "${c[*]}")" > "$1"
}
# quiet_after_seen CLI_PID MAX_S: wait until the client host has had a connection to PORT and now has none
# left but TIME-WAIT (the client has read every answer and closed), then stop the client (it writes its
# JSON on SIGTERM; churn-client otherwise runs out its whole -d). Bounded by MAX_S.
quiet_after_seen() {
  local pid=$1 end=$((SECONDS + $2)) seen=0 n
  while [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
    n=$(ip netns exec "$LAB_CLI" ss -H -tn state connected exclude time-wait "( dport = :$PORT )" | wc -l)
    (( n > 0 )) && seen=1
    (( seen == 1 && n == 0 )) && break
    sleep 0.1
  done
  stop "$pid"
}

# ---- 1. the flood, one tcp_syncookies setting ----
flood_case() {
  local c=$1 id=flood-cookies$1 d=$dir/flood-cookies$1 miss t0 fl cl w
  miss=$(needs flood)
  [ -n "$miss" ] && { skip_case "$id" flood "tcp_syncookies=$c" "$miss"; return; }
  mkdir -p "$d"
  echo "synflood: $id: $SYNFLOOD_RATE SYN/s for $SYNFLOOD_SECONDS s at backlog $SYNFLOOD_BACKLOG, tcp_syncookies=$c; client $SYNFLOOD_CLIENT_RATE req/s" >&2
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  lab_srv sysctl -q -w net.ipv4.tcp_syncookies="$c" || die "sysctl tcp_syncookies=$c in $LAB_SRV failed"
  # The route back toward the spoofed range (not a default route): without it the server host drops
  # the SYNs (no route for its answer: TcpExtListenDrops) and never gets as far as a cookie.
  ip -n "$LAB_SRV" route add "$SPOOF" via "$LAB_CLI_IP" || die "ip route add $SPOOF in $LAB_SRV failed"
  record_settings "$d/settings.json"
  start_server "$d" --backlog "$SYNFLOOD_BACKLOG"
  "$PROBE" watch --netns srv="$LAB_SRV" --counters "$COUNTERS" --interval 100ms --duration $((SYNFLOOD_SECONDS + 30)) -q \
    -o "$d/probe.jsonl" 2> "$d/probe.err" &
  w=$!
  lab_track $w
  for _ in $(seq 1 100); do [ -s "$d/probe.jsonl" ] && break; sleep 0.05; done
  [ -s "$d/probe.jsonl" ] || die "churn-probe watch did not start: $(head -c 300 "$d/probe.err")"
  snap "$LAB_SRV" "$d/before"
  # Where the flood starts on the watcher's clock (its newest sample's t): the plot's time axis.
  t0=$(tail -n 1 "$d/probe.jsonl" | grep -o '"t":[0-9.e+-]*' | cut -d: -f2)
  ip netns exec "$LAB_CLI" "$BIN/churn-synflood" --target "$LAB_SRV_IP:$PORT" --spoof "$SPOOF" --rate "$SYNFLOOD_RATE" \
    --duration "$SYNFLOOD_SECONDS" --seed 1 -q --json "$d/flood.json" > "$d/flood.log" 2>&1 &
  fl=$!
  sleep 1
  # The client stops 2 s before the flood does, and churn-client gives what is in flight at most 2 s
  # more: every legitimate connect happens while the flood is on.
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode churn -R "$SYNFLOOD_CLIENT_RATE" -d $((SYNFLOOD_SECONDS - 3)) -c 1000 \
    --timeout "$SYNFLOOD_TIMEOUT" -q --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  # Mid-flood: SYN-RECV by churn-probe, ss, churn-probe (request sockets: TCP_NEW_SYN_RECV in the kernel).
  sleep $((SYNFLOOD_SECONDS / 2 - 1))
  {
    local a r b
    a=$("$PROBE" states --netns "$LAB_SRV" --state syn-recv --json | grep -o '"SYN-RECV":[0-9]*' | cut -d: -f2)
    r=$(ip netns exec "$LAB_SRV" ss -H -tan state syn-recv | wc -l)
    b=$("$PROBE" states --netns "$LAB_SRV" --state syn-recv --json | grep -o '"SYN-RECV":[0-9]*' | cut -d: -f2)
    printf '{"probe_before": %s, "ss": %s, "probe_after": %s}\n' "${a:-null}" "${r:-null}" "${b:-null}"
  } > "$d/synrecv.check.json"
  wait $cl
  wait $fl || echo "synflood: $id: churn-synflood exited $?: $(tail -c 300 "$d/flood.log")" >&2
  [ -s "$d/flood.json" ] || die "$id: churn-synflood wrote no JSON: $(tail -c 300 "$d/flood.log")"
  [ -s "$d/client.json" ] || die "$id: churn-client wrote no JSON: $(tail -c 300 "$d/client.log")"
  # A few seconds more of samples: how SYN-RECV drains once the flood stops.
  sleep 3
  snap "$LAB_SRV" "$d/after"
  printf '{"probe_t_at_flood_start": %s, "client_start_s": 1}\n' "${t0:-null}" > "$d/load.json"
  stop $w
  stop $SRV_PID
  lab_down 2>> "$LOG"
  case_line "$id" flood "tcp_syncookies=$c" ran
  echo "synflood: $id done: $(grep -o '"achieved_rate": *[0-9.]*' "$d/flood.json") SYN/s; client $(grep -o '"requests_ok": *[0-9]*' "$d/client.json") of $(grep -o '"requests_scheduled": *[0-9]*' "$d/client.json" | grep -o '[0-9]*$')" >&2
}

# ---- 2. the accept queue: a server that stops calling accept() ----
accept_case() {
  local id=accept-overflow d=$dir/accept-overflow miss cl
  local settings="churn-server --accept-for $ACCEPT_FOR --backlog $ACCEPT_BACKLOG"
  miss=$(needs accept)
  [ -n "$miss" ] && { skip_case "$id" accept "$settings" "$miss"; return; }
  mkdir -p "$d"
  echo "synflood: $id: $settings, client 20 req/s for $ACCEPT_SECONDS s" >&2
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  record_settings "$d/settings.json"
  start_server "$d" --backlog "$ACCEPT_BACKLOG" --accept-for "$ACCEPT_FOR"
  snap "$LAB_SRV" "$d/before"
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode churn -R 20 -d "$ACCEPT_SECONDS" -c 1000 --timeout 4000 -q \
    --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  wait $cl
  [ -s "$d/client.json" ] || die "$id: churn-client wrote no JSON: $(tail -c 300 "$d/client.log")"
  snap "$LAB_SRV" "$d/after"
  stop $SRV_PID
  lab_down 2>> "$LOG"
  case_line "$id" accept "$settings" ran
  echo "synflood: $id done: client $(grep -o '"requests_ok": *[0-9]*' "$d/client.json")" >&2
}

# ---- 3. long RTT: the link, and one case on it ----
long_lab() {  # CASE_DIR COOKIES TS [churn-link flags]: a fresh lab with the path and the two sysctls
  local d=$1 c=$2 t=$3; shift 3
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  lab_srv sysctl -q -w net.ipv4.tcp_syncookies="$c" || die "sysctl tcp_syncookies=$c failed"
  lab_cli sysctl -q -w net.ipv4.tcp_timestamps="$t" || die "sysctl tcp_timestamps=$t failed"
  LINK_JSON_OUT=$d/link.json link_up --delay "$(link_one_way_ms "$LONG_RTT")" --rate "$LONG_RATE" --duration 120 "$@" 2>> "$LOG" ||
    die "link_up failed: $(tail -3 "$LOG")"
  record_settings "$d/settings.json"
  printf '{"rtt_ms": %s, "rate_mbit": %s, "path": "%s"}\n' "$LINK_RTT_MS" "$LONG_RATE" "$LINK_MODE" > "$d/path.json"
}
mss_args=()
bulk_case() {
  local c=$1 t=$2 id=bulk-cookies$1-ts$2 d=$dir/bulk-cookies$1-ts$2 cl cap=
  mkdir -p "$d"
  echo "synflood: $id: ${LONG_SIZE} B download, RTT $LONG_RTT ms, tcp_syncookies=$c, client tcp_timestamps=$t ${mss_args[*]}" >&2
  long_lab "$d" "$c" "$t"
  start_server "$d" --size "$LONG_SIZE"
  snap "$LAB_SRV" "$d/before"
  # The cookie handshake without timestamps, on the wire: the client host's TUN device (DLT_RAW).
  if [ "$c" = 2 ] && [ "$t" = 0 ]; then
    "$BIN/churn-pcap" capture --netns "$LAB_CLI" -i "$LINK_DEV_CLI" -w "$dir/cookie.pcap" --snaplen 128 --count 40 \
      --seconds 20 -f "tcp port $PORT" 2> "$d/capture.log" &
    cap=$!
    lab_track $cap
    for _ in $(seq 1 50); do grep -q "capturing on" "$d/capture.log" && break; sleep 0.1; done
  fi
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode churn -n 1 -c 1 -R 0 -d 60 --timeout 60000 "${mss_args[@]}" -q \
    --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  # tcp_info of the accepted socket, 1 s into the transfer (past the handshake, the window settled).
  local got=0
  for _ in $(seq 1 100); do
    "$PROBE" info --netns "$LAB_SRV" --sport "$PORT" --state estab --json > "$d/info.json" 2>> "$LOG"
    grep -q '"state":"ESTAB"' "$d/info.json" && { got=1; break; }
    sleep 0.05
  done
  if [ $got = 1 ]; then
    sleep 1
    "$PROBE" info --netns "$LAB_SRV" --sport "$PORT" --state estab --json > "$d/info.later.json" 2>> "$LOG"
    grep -q '"state":"ESTAB"' "$d/info.later.json" && mv "$d/info.later.json" "$d/info.json" || rm -f "$d/info.later.json"
  else
    echo "synflood: $id: no established socket seen on the server host within 5 s" >&2
  fi
  quiet_after_seen $cl 60
  [ -n "$cap" ] && stop $cap
  [ -s "$d/client.json" ] || die "$id: churn-client wrote no JSON: $(tail -c 300 "$d/client.log")"
  snap "$LAB_SRV" "$d/after"
  stop $SRV_PID
  link_down 2>> "$LOG"
  lab_down 2>> "$LOG"
  case_line "$id" bulk "tcp_syncookies=$c tcp_timestamps=$t${mss_args[*]:+ ${mss_args[*]}}" ran
  echo "synflood: $id done: $(grep -o '"p50": *[0-9]*' "$d/client.json" | sed -n 3p) us request" >&2
}
synack_case() {
  local drop=$1 c=$2 id=synack-drop$1-cookies$2 d=$dir/synack-drop$1-cookies$2 miss cl
  miss=$(needs synack)
  [ -n "$miss" ] && { skip_case "$id" synack "churn-link --drop-synack $drop, tcp_syncookies=$c" "$miss"; return; }
  mkdir -p "$d"
  echo "synflood: $id: $LONG_N connects, the first $drop SYN-ACK(s) of each dropped, tcp_syncookies=$c" >&2
  long_lab "$d" "$c" 1 --drop-synack "$drop"
  start_server "$d" --size 64
  snap "$LAB_SRV" "$d/before"
  snap "$LAB_CLI" "$d/client-before"
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode churn -n "$LONG_N" -c "$LONG_N" -R 0 -d 60 --timeout 30000 -q \
    --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  quiet_after_seen $cl 60
  [ -s "$d/client.json" ] || die "$id: churn-client wrote no JSON: $(tail -c 300 "$d/client.log")"
  snap "$LAB_SRV" "$d/after"
  snap "$LAB_CLI" "$d/client-after"
  stop $SRV_PID
  link_down 2>> "$LOG"
  lab_down 2>> "$LOG"
  case_line "$id" synack "churn-link --drop-synack $drop, tcp_syncookies=$c" ran
  echo "synflood: $id done: connect p50 $(grep -A6 '"connect_us"' "$d/client.json" | grep -o '"p50": *[0-9]*' | grep -o '[0-9]*$') us" >&2
}

# Cases run one after another: the flood takes a CPU, and a second load beside it would be measured too.
if want flood; then for c in $SYNFLOOD_SETTINGS; do flood_case "$c"; done; fi
want accept && accept_case
if want bulk; then
  has_flag churn-client --mss && mss_args=(--mss "$LONG_MSS")
  [ ${#mss_args[@]} = 0 ] && echo "synflood: churn-client has no --mss yet: the bulk cases run with the default MSS" >&2
  for c in 2 0; do for t in 0 1; do bulk_case "$c" "$t"; done; done
  if [ -s "$dir/cookie.pcap" ]; then
    "$BIN/churn-pcap" annotate "$dir/cookie.pcap" --flow 0 > "$dir/cookie.annotate.txt" || die "churn-pcap annotate cookie.pcap failed"
  fi
fi
if want synack; then for drop in $LONG_DROPS; do for c in 2 0; do synack_case "$drop" "$c"; done; done; fi

cat > "$dir/meta.json" <<EOF
{
  "command": $(json_str "make run-synflood SYNFLOOD_RATE=$SYNFLOOD_RATE SYNFLOOD_SECONDS=$SYNFLOOD_SECONDS SYNFLOOD_BACKLOG=$SYNFLOOD_BACKLOG SYNFLOOD_CLIENT_RATE=$SYNFLOOD_CLIENT_RATE LONG_RTT=$LONG_RTT LONG_RATE=$LONG_RATE LONG_SIZE=$LONG_SIZE LONG_MSS=$LONG_MSS"),
  "knobs": {"SYNFLOOD_RATE": $SYNFLOOD_RATE, "SYNFLOOD_SECONDS": $SYNFLOOD_SECONDS, "SYNFLOOD_BACKLOG": $SYNFLOOD_BACKLOG,
            "SYNFLOOD_CLIENT_RATE": $SYNFLOOD_CLIENT_RATE, "SYNFLOOD_TIMEOUT": $SYNFLOOD_TIMEOUT, "ACCEPT_BACKLOG": $ACCEPT_BACKLOG,
            "ACCEPT_FOR": $(json_str "$ACCEPT_FOR"), "ACCEPT_SECONDS": $ACCEPT_SECONDS, "LONG_RTT": $LONG_RTT, "LONG_RATE": $LONG_RATE,
            "LONG_SIZE": $LONG_SIZE, "LONG_MSS": $LONG_MSS, "LONG_N": $LONG_N, "LONG_DROPS": $(json_str "$LONG_DROPS")},
$(meta_steal "$steal0")
$(meta_where "$started")
}
EOF

"$BIN/churn-report" synflood "$dir" || die "churn-report synflood failed; results in $dir"
(cd "$dir" && gnuplot synflood.gp) || die "gnuplot synflood.gp failed: no synrecv.svg"
if [ -z "${SYNFLOOD_DIR:-}" ]; then
  ln -sfn "synflood-$ts" results/latest-synflood
  echo "synflood: results in $dir (results/latest-synflood)" >&2
else
  echo "synflood: results in $dir" >&2
fi
