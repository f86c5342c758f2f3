#!/usr/bin/env bash
# nagle.sh: `make run-nagle`. The Nagle + delayed-ACK stall on small split writes, and what removes it
# (issue 11; EXPERIMENTS.md §8). Every case runs in a fresh lab (lab/netns.sh) over ONE keep-alive
# connection (churn-client --mode pool -c 1) that replays the same seeded request trace, so the p99 before
# and after a fix come from the same schedule of requests, sizes and split points.
#
# Who holds what: Nagle (RFC 896) is the WRITER's: a small segment waits while an earlier one of the same
# connection is unacknowledged. The delayed ACK is the RECEIVER's: it holds the ACK of a segment that
# carries no complete message (nothing to answer with) for at least TCP_DELACK_MIN = 40 ms. A message
# written in two pieces meets both: the first piece goes out, the second waits for an ACK the other side
# is holding back.
#
#   req-*     the client is the writer: each request as head, then body (--pattern split)
#     req-single   one write per request, Nagle on: nothing in flight to wait behind
#     req-nagle    --write each, Nagle on (client --nodelay off): the stall
#     req-nodelay  --write each, TCP_NODELAY on the writer (the usual fix)
#     req-quickack req-nagle + TCP_QUICKACK on the receiver (churn-server --quickack, re-armed after each read)
#     req-cork     --write cork: TCP_CORK around the pieces, Nagle on (the kernel coalesces)
#     req-gather   --write gather: one writev() of all pieces, Nagle on (the structural fix)
#   resp-*    the server is the writer: each response as head, then body (--response-pattern split); the
#             same five rows with the roles swapped (quickack: churn-client --quickack)
#   pipe-*    the client pipelines --pipeline 4 whole requests per send, each its own write, on the one
#             connection (the issue's "several small pipelined requests"): pipe-nagle (Nagle on), pipe-nodelay,
#             pipe-gather (one writev of the four)
#   sweep-rttR-{nagle,nodelay,quickack}   over churn-link (lab/link.sh) with RTT R ms: req-nagle, req-nodelay and req-quickack on
#             a sparser trace; the extra time per exchange against the models RTT + 40 ms and max(RTT, 40 ms)
#
# The wire: every veth case is captured whole on the server's veth (churn-pcap capture, snaplen 128) and
# decoded (churn-pcap decode: the stall detector's count); the sweep on the client's TUN device (the
# writer's side, where the held segment leaves right after the ACK arrives). Two excerpt runs (a 4-request
# trace, Nagle on / TCP_NODELAY) are captured and annotated by churn-pcap: excerpt-{nagle,nodelay}.pcap.
# A case whose flag is not built yet is "not run: needs X" in cases.tsv, never faked.
#
# Into results/nagle-<UTC ts>/ (results/latest-nagle): trace.txt, sweep-trace.txt, cases.tsv, one
# directory per case, the excerpts, meta.json; then churn-report nagle writes nagle.json, nagle.md and
# nagle.gp, and gnuplot nagle.svg (the RTT sweep).
#
# Knobs: NAGLE_COUNT=80 NAGLE_RATE=10 (the veth trace: requests, mean req/s) NAGLE_SEED=1
# NAGLE_HEAD=100-200 NAGLE_BODY=8-64 (bytes, uniform) SWEEP_COUNT=20 SWEEP_RATE=2 NAGLE_RTTS="0 10 50 100"
# (empty: no sweep) SWEEP_VARIANTS="nagle nodelay quickack" (the third: Nagle on, TCP_QUICKACK on the
# receiver) NAGLE_CASES (case ids to run; default all of req-*, resp-* and pipe-*) NAGLE_EXCERPT=1
# NAGLE_SIZE=64 (response body bytes) NAGLE_DIR (default results/nagle-<ts>; then no results/latest-nagle
# link), PORT=8080.
# About 5 minutes with the defaults.
set -u -o pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/meta.sh
source lab/netns.sh
source lab/link.sh
die() { echo "nagle: $*" >&2; exit 1; }
bad() { echo "nagle: $*" >&2; exit 2; }  # a bad knob: nothing was run

NAGLE_COUNT=${NAGLE_COUNT:-80} NAGLE_RATE=${NAGLE_RATE:-10} NAGLE_SEED=${NAGLE_SEED:-1}
NAGLE_HEAD=${NAGLE_HEAD:-100-200} NAGLE_BODY=${NAGLE_BODY:-8-64} NAGLE_SIZE=${NAGLE_SIZE:-64}
SWEEP_COUNT=${SWEEP_COUNT:-20} SWEEP_RATE=${SWEEP_RATE:-2} NAGLE_RTTS=${NAGLE_RTTS-0 10 50 100}
SWEEP_VARIANTS=${SWEEP_VARIANTS:-nagle nodelay quickack} NAGLE_EXCERPT=${NAGLE_EXCERPT:-1} PORT=${PORT:-8080}
ALL_CASES="req-single req-nagle req-nodelay req-quickack req-cork req-gather resp-nagle resp-nodelay resp-quickack resp-cork resp-gather"
ALL_CASES+=" pipe-nagle pipe-nodelay pipe-gather"
NAGLE_CASES=${NAGLE_CASES-$ALL_CASES}
BIN=${BIN:-build/bin}
for b in churn-server churn-client churn-report churn-link churn-pcap; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run: make)"
done
command -v gnuplot > /dev/null || die "gnuplot not installed (make deps-lab)"
for v in NAGLE_COUNT SWEEP_COUNT; do
  [[ ${!v} =~ ^[1-9][0-9]{0,5}$ ]] || bad "$v must be a count of requests (1-999999), not '${!v}'"
done
for v in NAGLE_SEED NAGLE_SIZE; do
  [[ ${!v} =~ ^[0-9]{1,9}$ ]] || bad "$v must be a whole number, not '${!v}'"
done
for v in NAGLE_RATE SWEEP_RATE; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v r="${!v}" 'BEGIN { exit !(r > 0 && r <= 1000) }' ||
    bad "$v must be a rate in requests/s, above 0 and at most 1000, not '${!v}'"
done
for v in NAGLE_HEAD NAGLE_BODY; do
  [[ ${!v} =~ ^([1-9][0-9]*)-([1-9][0-9]*)$ ]] && (( BASH_REMATCH[1] <= BASH_REMATCH[2] && BASH_REMATCH[2] <= 1000 )) ||
    bad "$v must be a byte range A-B with 1 <= A <= B <= 1000 (small pieces, under one MSS), not '${!v}'"
done
for r in $NAGLE_RTTS; do [[ $r =~ ^[0-9]+$ ]] && (( r <= 1000 )) || bad "NAGLE_RTTS: '$r' is not an RTT in whole ms (0-1000)"; done
for v in $SWEEP_VARIANTS; do case $v in nagle|nodelay|quickack) ;; *) bad "SWEEP_VARIANTS: '$v' (want nagle nodelay quickack)" ;; esac; done
for k in $NAGLE_CASES; do [[ " $ALL_CASES " == *" $k "* ]] || bad "NAGLE_CASES: unknown case '$k' (want some of: $ALL_CASES)"; done
[[ $NAGLE_EXCERPT =~ ^[01]$ ]] || bad "NAGLE_EXCERPT must be 0 or 1, not '$NAGLE_EXCERPT'"

ts=$(date -u +%Y%m%dT%H%M%SZ)
dir=${NAGLE_DIR:-results/nagle-$ts}
mkdir -p "$dir" || die "cannot create $dir"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
steal0=$(steal_sample)
LOG=$dir/lab.log
printf 'id\tgroup\trtt_ms\tclient_flags\tserver_flags\tstatus\n' > "$dir/cases.tsv"

# ---- what a case needs that another branch may not have built yet ----
# Each --help read once into a variable: `--help | grep -q` under pipefail fails whenever grep quits early
# and the writer takes SIGPIPE, which made a present flag look missing at random.
declare -A HELP
has_flag() {
  [ -n "${HELP[$1]:-}" ] || HELP[$1]=$("$BIN/$1" --help 2>&1)
  [[ ${HELP[$1]} == *"$2"* ]]
}
# missing_flags BINARY FLAGS...: the flags (words starting with --) its --help does not mention.
missing_flags() {
  local b=$1 f out=(); shift
  for f in "$@"; do [[ $f == --* ]] && ! has_flag "$b" "$f" && out+=("$b $f"); done
  echo "${out[*]}"
}
case_line() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$dir/cases.tsv"; }

# ---- the traces: one schedule, replayed by every case ----
# `t_us head_bytes body_bytes` a line. churn-client --make-trace if this build has it (the client's own
# generator, seeded); otherwise the same format from awk's seeded generator. Either way the file is made
# once and every case replays that file, so the cases differ only in how the pieces are written.
make_trace() {  # FILE COUNT RATE
  if has_flag churn-client --make-trace; then
    "$BIN/churn-client" --make-trace "$1" --seed "$NAGLE_SEED" --count "$2" --rate "$3" \
      --head-range "$NAGLE_HEAD" --body-range "$NAGLE_BODY" > /dev/null 2>> "$LOG" || die "churn-client --make-trace $1 failed: $(tail -2 "$LOG")"
    return
  fi
  # Exponential gaps (Poisson arrivals at RATE), sizes uniform in the ranges; seeded, so reproducible.
  awk -v n="$2" -v rate="$3" -v seed="$NAGLE_SEED" -v h="$NAGLE_HEAD" -v b="$NAGLE_BODY" 'BEGIN {
    srand(seed); split(h, H, "-"); split(b, B, "-"); t = 0
    printf "# t_us head_bytes body_bytes: %d requests, Poisson at %s/s, seed %d (lab/nagle.sh, awk)\n", n, rate, seed
    for (i = 0; i < n; i++) {
      printf "%d %d %d\n", t, H[1] + int(rand() * (H[2] - H[1] + 1)), B[1] + int(rand() * (B[2] - B[1] + 1))
      t += int(-log(1 - rand()) / rate * 1e6)
    }
  }' > "$1"
}
trace_span_s() { awk '!/^#/ && NF { t = $1 } END { print int(t / 1e6) + 1 }' "$1"; }
make_trace "$dir/trace.txt" "$NAGLE_COUNT" "$NAGLE_RATE"
[ -n "$NAGLE_RTTS" ] && make_trace "$dir/sweep-trace.txt" "$SWEEP_COUNT" "$SWEEP_RATE"

# ---- helpers every case uses ----
# start_server CASE_DIR ARGS...: churn-server on the server host, JSON on SIGTERM; SRV_PID.
start_server() {
  local d=$1; shift
  ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$PORT" --size "$NAGLE_SIZE" --duration 300 \
    --json "$d/server.json" "$@" > "$d/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$d/server.log" 2>/dev/null && return 0; kill -0 $SRV_PID 2>/dev/null || break; sleep 0.05; done
  die "churn-server did not start: $(head -c 300 "$d/server.log")"
}
stop() {  # PID: SIGTERM (servers write their JSON then), bounded at 5 s
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null
}
# start_capture NS IFACE FILE ARGS...: churn-pcap capture in the background, ready when it says
# "capturing on"; CAP_PID. snaplen 128: the headers and the start of each payload.
start_capture() {
  local ns=$1 ifc=$2 out=$3; shift 3
  : > "$out.log"
  "$BIN/churn-pcap" capture --netns "$ns" -i "$ifc" -w "$out" --snaplen 128 -f "tcp port $PORT" "$@" 2> "$out.log" &
  CAP_PID=$!
  lab_track $CAP_PID
  for _ in $(seq 1 50); do grep -q "capturing on" "$out.log" && return 0; sleep 0.1; done
  die "churn-pcap capture on $ifc did not start: $(head -c 300 "$out.log")"
}
# record_settings FILE: what the stall depends on, as the namespaces have it (read back, not assumed).
# tcp_autocorking: the kernel's own holding back of small writes while earlier ones sit in the qdisc.
record_settings() {
  local side ns k v out=()
  for side in client server; do
    [ $side = client ] && ns=$LAB_CLI || ns=$LAB_SRV
    local s=()
    for k in tcp_autocorking tcp_timestamps tcp_sack; do
      v=$(ip netns exec "$ns" sysctl -n net.ipv4.$k 2>/dev/null) && s+=("\"net.ipv4.$k\": $v")
    done
    out+=("\"$side\": {$(IFS=,; echo "${s[*]}")}")
  done
  printf '{%s}\n' "$(IFS=,; echo "${out[*]}")" > "$1"
}

# run_case ID GROUP RTT TRACE CAPTURE_NS CAPTURE_IF_VAR CLIENT_FLAGS SERVER_FLAGS
# One case in a fresh lab: server, whole-run capture, the client replaying TRACE over one connection.
# RTT "" is the bare veth; a number brings churn-link up with that RTT first.
run_case() {
  local id=$1 group=$2 rtt=$3 trace=$4 cflags=$5 sflags=$6 d=$dir/$1 miss cl span ns ifc
  # shellcheck disable=SC2206
  local ca=($cflags) sa=($sflags)
  miss=$(echo $(missing_flags churn-client --trace "${ca[@]}") $(missing_flags churn-server "${sa[@]}"))
  if [ -n "$miss" ]; then
    echo "nagle: $id: not run: needs $miss" >&2
    case_line "$id" "$group" "${rtt:-veth}" "$cflags" "$sflags" "not run: needs $miss"
    return
  fi
  mkdir -p "$d"
  echo "nagle: $id: client $cflags | server $sflags${rtt:+ | RTT $rtt ms}" >&2
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  if [ -n "$rtt" ]; then
    LINK_JSON_OUT=$d/link.json link_up --delay "$(link_one_way_ms "$rtt")" --duration 120 2>> "$LOG" || die "link_up failed: $(tail -3 "$LOG")"
    # The writer's side (the client): there the held segment leaves right after the ACK arrives.
    ns=$LAB_CLI ifc=$LINK_DEV_CLI
    printf '{"rtt_ms": %s, "path": "%s", "capture": "client %s"}\n' "$LINK_RTT_MS" "$LINK_MODE" "$ifc" > "$d/path.json"
  else
    ns=$LAB_SRV ifc=cl${RUNID}s
    printf '{"rtt_ms": 0, "path": "veth", "capture": "server %s"}\n' "$ifc" > "$d/path.json"
  fi
  record_settings "$d/settings.json"
  start_server "$d" "${sa[@]}"
  span=$(trace_span_s "$trace")
  start_capture "$ns" "$ifc" "$d/wire.pcap" --seconds $((span + 30))
  local cap=$CAP_PID
  # No -d: the trace's last request ends the run. --timeout: a stalled exchange is slow, not lost.
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode pool -c 1 --trace "$trace" --timeout 10000 \
    "${ca[@]}" -q --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  wait $cl || echo "nagle: $id: churn-client exited $?: $(tail -c 300 "$d/client.log")" >&2
  [ -s "$d/client.json" ] || die "$id: churn-client wrote no JSON: $(tail -c 300 "$d/client.log")"
  stop $cap
  stop $SRV_PID
  [ -n "$rtt" ] && link_down 2>> "$LOG"
  lab_down 2>> "$LOG"
  "$BIN/churn-pcap" decode --json "$d/wire.pcap" > "$d/wire.json" 2>> "$LOG" || die "$id: churn-pcap decode wire.pcap failed"
  case_line "$id" "$group" "${rtt:-veth}" "$cflags" "$sflags" ran
  echo "nagle: $id done: latency p50 $(tr -d '\n' < "$d/client.json" | grep -o '"latency_us": *{[^}]*}' | grep -o '"p50": *[0-9.e+-]*' | grep -o '[0-9.e+-]*$') us" >&2
}

# The veth cases. The request's writer is the client; the response's, the server. The receiver's
# delayed ACK is what the writer's Nagle waits for, so QUICKACK goes on the other side from Nagle.
declare -A CLIENT_FLAGS SERVER_FLAGS
CLIENT_FLAGS=(
  [req-single]="--pattern single --nodelay off"
  [req-nagle]="--pattern split --write each --nodelay off"
  [req-nodelay]="--pattern split --write each --nodelay on"
  [req-quickack]="--pattern split --write each --nodelay off"
  [req-cork]="--pattern split --write cork --nodelay off"
  [req-gather]="--pattern split --write gather --nodelay off"
  [resp-nagle]="--pattern single"
  [resp-nodelay]="--pattern single"
  [resp-quickack]="--pattern single --quickack"
  [resp-cork]="--pattern single"
  [resp-gather]="--pattern single"
  [pipe-nagle]="--pattern pipeline --pipeline 4 --write each --nodelay off"
  [pipe-nodelay]="--pattern pipeline --pipeline 4 --write each --nodelay on"
  [pipe-gather]="--pattern pipeline --pipeline 4 --write gather --nodelay off"
)
SERVER_FLAGS=(
  [req-single]="" [req-nagle]="" [req-nodelay]="" [req-quickack]="--quickack" [req-cork]="" [req-gather]=""
  [resp-nagle]="--response-pattern split --write each --nodelay off"
  [resp-nodelay]="--response-pattern split --write each --nodelay on"
  [resp-quickack]="--response-pattern split --write each --nodelay off"
  [resp-cork]="--response-pattern split --write cork --nodelay off"
  [resp-gather]="--response-pattern split --write gather --nodelay off"
  [pipe-nagle]="" [pipe-nodelay]="" [pipe-gather]=""
)
# Cases run one after another: a second load beside one would be measured too.
for id in $NAGLE_CASES; do run_case "$id" "${id%%-*}" "" "$dir/trace.txt" "${CLIENT_FLAGS[$id]}" "${SERVER_FLAGS[$id]}"; done

# ---- the RTT sweep over churn-link ----
for r in $NAGLE_RTTS; do
  for v in $SWEEP_VARIANTS; do
    case $v in
      nagle) run_case "sweep-rtt$r-nagle" sweep "$r" "$dir/sweep-trace.txt" "${CLIENT_FLAGS[req-nagle]}" "" ;;
      nodelay) run_case "sweep-rtt$r-nodelay" sweep "$r" "$dir/sweep-trace.txt" "${CLIENT_FLAGS[req-nodelay]}" "" ;;
      quickack) run_case "sweep-rtt$r-quickack" sweep "$r" "$dir/sweep-trace.txt" "${CLIENT_FLAGS[req-quickack]}" "--quickack" ;;
    esac
  done
done

# ---- the excerpts: five requests 150 ms apart, Nagle on and TCP_NODELAY, captured and annotated ----
# The first exchange of a connection is usually not stalled: the receiver starts in quick-ACK mode
# (tcp_event_data_recv: the first data segment sets up to 16 quick ACKs). The later ones are.
excerpt() {  # NAME CLIENT_FLAGS
  local name=$1 d=$dir/excerpt-$1 miss cl
  # shellcheck disable=SC2206
  local ca=($2)
  miss=$(missing_flags churn-client --trace "${ca[@]}")
  [ -n "$miss" ] && { echo "nagle: excerpt-$name: not run: needs $miss" >&2; return; }
  mkdir -p "$d"
  # 150 ms apart: under the receiver's RTO (200 ms at least), whose gap would put it back in quick-ACK mode.
  printf '# t_us head_bytes body_bytes: the excerpt (lab/nagle.sh)\n0 120 16\n150000 120 16\n300000 120 16\n450000 120 16\n600000 120 16\n' > "$d/trace.txt"
  lab_up 2>> "$LOG" || die "lab setup failed: $(tail -3 "$LOG")"
  start_server "$d"
  start_capture "$LAB_SRV" "cl${RUNID}s" "$dir/excerpt-$name.pcap" --count 40 --seconds 15
  local cap=$CAP_PID
  ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode pool -c 1 --trace "$d/trace.txt" --timeout 10000 "${ca[@]}" -q \
    --json "$d/client.json" "http://$LAB_SRV_IP:$PORT/" > "$d/client.log" 2>&1 &
  cl=$!
  wait $cl || echo "nagle: excerpt-$name: churn-client exited $?: $(tail -c 300 "$d/client.log")" >&2
  # The last response's ACK and the close are part of the picture: a moment for them to cross.
  sleep 0.3
  stop $SRV_PID
  sleep 0.2
  stop $cap
  lab_down 2>> "$LOG"
  "$BIN/churn-pcap" annotate "$dir/excerpt-$name.pcap" --flow 0 > "$dir/excerpt-$name.annotate.txt" 2>> "$LOG" ||
    die "churn-pcap annotate excerpt-$name.pcap failed"
  "$BIN/churn-pcap" decode --json "$dir/excerpt-$name.pcap" > "$dir/excerpt-$name.wire.json" 2>> "$LOG" ||
    die "churn-pcap decode excerpt-$name.pcap failed"
  echo "nagle: excerpt-$name: $(grep -c . "$dir/excerpt-$name.annotate.txt") lines of annotation" >&2
}
if [ "$NAGLE_EXCERPT" = 1 ]; then
  excerpt nagle "${CLIENT_FLAGS[req-nagle]}"
  excerpt nodelay "${CLIENT_FLAGS[req-nodelay]}"
fi

cat > "$dir/meta.json" <<EOF
{
  "command": $(json_str "make run-nagle NAGLE_COUNT=$NAGLE_COUNT NAGLE_RATE=$NAGLE_RATE NAGLE_SEED=$NAGLE_SEED SWEEP_COUNT=$SWEEP_COUNT SWEEP_RATE=$SWEEP_RATE NAGLE_RTTS=\"$NAGLE_RTTS\""),
  "knobs": {"NAGLE_COUNT": $NAGLE_COUNT, "NAGLE_RATE": $NAGLE_RATE, "NAGLE_SEED": $NAGLE_SEED, "NAGLE_HEAD": $(json_str "$NAGLE_HEAD"),
            "NAGLE_BODY": $(json_str "$NAGLE_BODY"), "NAGLE_SIZE": $NAGLE_SIZE, "SWEEP_COUNT": $SWEEP_COUNT, "SWEEP_RATE": $SWEEP_RATE,
            "NAGLE_RTTS": $(json_str "$NAGLE_RTTS"), "SWEEP_VARIANTS": $(json_str "$SWEEP_VARIANTS")},
$(meta_steal "$steal0")
$(meta_where "$started")
}
EOF

"$BIN/churn-report" nagle "$dir" > /dev/null || die "churn-report nagle failed; results in $dir"
(cd "$dir" && gnuplot nagle.gp) || die "gnuplot nagle.gp failed: no nagle.svg"
cat "$dir/nagle.md"
if [ -z "${NAGLE_DIR:-}" ]; then
  ln -sfn "nagle-$ts" results/latest-nagle
  echo "nagle: results in $dir (results/latest-nagle)" >&2
else
  echo "nagle: results in $dir" >&2
fi
