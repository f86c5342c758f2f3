#!/usr/bin/env bash
# t_cli_errors: bad input to every churn binary ends at once with exit status 2 and exactly one line on
# stderr that names the option (or the URL) at fault; --help exits 0. No lab.
#
# The table at the end lists every numeric option of every binary; each gets nan, inf, -inf, a negative,
# garbage, an empty value and an overflow. A check that lets one through fails the row: the run goes on
# with the remaining valid arguments (exit 0 or a timeout), or fails for another reason, which the
# "names the option" test catches.
#
# Safety: every case except the one under test is valid and harmless, so that a binary that wrongly
# accepts a bad value only talks to 127.0.0.1 (a closed port) for 10 ms, listens on loopback for 1 s,
# captures on lo for 0.2 s, or fails on a namespace that does not exist; `timeout` bounds it anyway.
source "$(dirname "$0")/lib.sh"
need_bins
PROBE=$BIN/churn-probe PCAP=$BIN/churn-pcap LINK=$BIN/churn-link REPORT=$BIN/churn-report
for b in "$PROBE" "$PCAP" "$LINK" "$REPORT"; do [ -x "$b" ] || fail "$b is not built (make build)"; done
tmp=$(mktemp -d /tmp/churn-cli-errors-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
U=http://127.0.0.1:9/                    # discard port, closed: a wrongly accepted run is refused at once
C=(--mode churn -d 0.01 -q)              # everything else valid
L=(--listen 127.0.0.1:19999 --duration 1 --quiet)

# case BINARY WORD ARGS...: exit 2, one stderr line containing WORD, nothing on stdout.
cases=0 bad=0 others=""
check() {
  local bin=$1 word=$2; shift 2
  local out err rc nl
  out=$(mktemp) err=$(mktemp)
  timeout 5 "$bin" "$@" > "$out" 2> "$err" < /dev/null
  rc=$?
  nl=$(wc -l < "$err")
  local line
  line=$(head -c 200 "$err" | tr '\n' ' ')
  local why=""
  if [ $rc -ne 2 ]; then why="exit $rc, expected 2"
  elif [ "$nl" -ne 1 ]; then why="$nl lines on stderr, expected exactly 1"
  elif ! grep -qF -- "$word" "$err"; then why="stderr \"$(head -c 70 "$err")...\" does not name '$word'"
  elif [ -s "$out" ]; then why="wrote to stdout"
  fi
  rm -f "$out" "$err"
  cases=$((cases + 1))
  if [ -n "$why" ]; then
    bad=$((bad + 1))
    note "BAD $(basename "$bin") $*: $why; stderr: $line"
    local shown=$*; shown=${shown#"${C[*]} "}; shown=${shown#"${L[*]} "}
    others+=" [$(basename "$bin") $shown: $why]"
  else
    note "ok $(basename "$bin") $*: $line"
  fi
}
help_ok() {
  local bin=$1 rc lines out
  out=$(timeout 5 "$bin" --help 2>/dev/null); rc=$?
  lines=$(printf "%s\n" "$out" | wc -l)
  cases=$((cases + 1))
  if [ $rc -ne 0 ] || [ "$lines" -lt 3 ]; then
    bad=$((bad + 1))
    others+=" [$(basename "$bin") --help: exit $rc and $lines lines, expected exit 0 and a usage text]"
  fi
}

check "$CLIENT" connections "${C[@]}" -c 0 $U
check "$CLIENT" mode        "${C[@]}" --mode foo $U
check "$CLIENT" timeout     "${C[@]}" --timeout 0 $U
check "$CLIENT" retry-delay "${C[@]}" --retry-delay 0 $U
check "$CLIENT" bogus       "${C[@]}" --bogus $U
check "$CLIENT" URL         "${C[@]}" https://x/
check "$CLIENT" URL         "${C[@]}" http://not-an-ip/
check "$CLIENT" URL         "${C[@]}" http://127.0.0.1:99999/
check "$CLIENT" URL         "${C[@]}"
check "$CLIENT" json        "${C[@]}" --json /nonexistent-dir/x.json $U
check "$SERVER" listen      --listen 1.2.3.4:99999 --duration 1 --quiet
check "$SERVER" listen      --listen not-an-ip:80 --duration 1 --quiet
check "$SERVER" listen      --duration 1 --quiet
check "$SERVER" close       "${L[@]}" --close both
check "$SERVER" nodelay     "${L[@]}" --nodelay maybe
check "$SERVER" backlog     "${L[@]}" --backlog 0
check "$SERVER" bogus       "${L[@]}" --bogus
check "$PCAP"   "no such network namespace" capture --netns "churnlab-nosuch-$$" -i lo -w "$tmp/x.pcap" -s 0.2 -q
check "$PCAP"   "nosuchif0" capture -i nosuchif0 -w "$tmp/x.pcap" -s 0.2 -q
check "$PCAP"   "--filter"  capture -i lo -w "$tmp/x.pcap" -s 0.2 -q --filter "tcp port"
check "$PROBE"  --duration  watch --count 1 -q -o "$tmp/w.jsonl" --duration 1e300s   # finite, yet past uint64 µs
check "$PROBE"  --interval  watch --count 1 -q -o "$tmp/w.jsonl" --interval 7200s
check "$SERVER" --duration  --listen 127.0.0.1:19999 --quiet --duration 1e300   # finite, yet past uint64 us
check "$LINK"   --duration  --ns-a "churnlab-nosuch-$$" --ns-b "churnlab-nosuch-$$" -q --duration 1e300   # finite, yet past int64 ns
# --trace files with a bad line or sizes too big to build: refused before the run, naming the file.
printf '0 1 1\n18446744073709551615 1 1\n' > "$tmp/huge_t.txt"
check "$CLIENT" "huge_t.txt:2: t_us" "${C[@]}" --trace "$tmp/huge_t.txt" $U
printf '0 nan 1\n' > "$tmp/nan.txt"
check "$CLIENT" "nan.txt:1: head_bytes" "${C[@]}" --trace "$tmp/nan.txt" $U
printf '# nothing\n' > "$tmp/empty.txt"
check "$CLIENT" "empty.txt: no requests" "${C[@]}" --trace "$tmp/empty.txt" $U
for i in $(seq 0 16); do echo "$i 0 $((16777216 - i))"; done > "$tmp/big.txt"   # 17 x 16 MiB, over 256 MiB
check "$CLIENT" "--trace" "${C[@]}" --trace "$tmp/big.txt" $U
check "$CLIENT" "--count/--rate" --make-trace "$tmp/made.txt" --rate 1e-300
check "$CLIENT" "--pipeline" "${C[@]}" --pattern pipeline --pipeline 1024 --body 16777216 $U
check "$REPORT" bogus       table "$tmp" --bogus
check "$REPORT" "$tmp/none" table "$tmp/none"
for b in "$CLIENT" "$SERVER" "$PROBE" "$PCAP" "$LINK" "$REPORT"; do help_ok "$b"; done

# ---- every numeric option: the table -------------------------------------------------------------------
# valid_args KEY OPTION: a valid, harmless command line for KEY (binary and subcommand) into A, without
# OPTION (CLI11 refuses an option given twice, which would pass the row for the wrong reason); the option
# under test goes between A and the trailing arguments in T.
valid_args() {
  local key=$1 opt=$2
  A=() T=()
  case $key in
    client)   A=("$CLIENT" --mode churn -q); [ "$opt" = --duration ] || A+=(-d 0.01); T=($U) ;;
    # --pipeline is refused without --pattern pipeline: with it, the bad number is the only fault left.
    client-pipeline) A=("$CLIENT" --mode churn -q -d 0.01 --pattern pipeline); T=($U) ;;
    # --make-trace's knobs mean nothing without it; a wrongly accepted value writes a file in $tmp, exit 0.
    client-make-trace) A=("$CLIENT" --make-trace "$tmp/made.txt") ;;
    server)   A=("$SERVER" --listen 127.0.0.1:19999 --quiet); [ "$opt" = --duration ] || A+=(--duration 1) ;;
    probe-states) A=("$PROBE" states) ;;
    probe-watch)  A=("$PROBE" watch -q -o "$tmp/w.jsonl"); [ "$opt" = --count ] || A+=(--count 1) ;;
    probe-triage) A=("$PROBE" triage) ;;
    pcap-capture) A=("$PCAP" capture -i lo -w "$tmp/x.pcap" -q); [ "$opt" = --seconds ] || A+=(-s 0.2) ;;
    pcap-annotate) A=("$PCAP" annotate tests/pcap/churn_en10mb.pcap) ;;
    pcap-decode)  A=("$PCAP" decode tests/pcap/churn_en10mb.pcap) ;;
    pcap-synth)   A=("$PCAP" synth -o "$tmp/s.pcap"); [ "$opt" = --connections ] || A+=(--connections 10) ;;
    link)     A=("$LINK" --ns-a "churnlab-nosuch-$$" --ns-b "churnlab-nosuch-$$" -q); [ "$opt" = --duration ] || A+=(--duration 1) ;;
    link-measure) A=("$LINK" measure --ns-a "churnlab-nosuch-$$" --ns-b "churnlab-nosuch-$$") ;;
    *) fail "t_cli_errors: no valid_args for $key" ;;
  esac
}
numeric=(
  "client --sample-ms --bytes --connections --duration --rate --warmup --timeout --retry-delay --requests --mss
          --body --head"
  "client-pipeline --pipeline"
  "client-make-trace --seed --count --rate --head-range --body-range"
  "server --size --backlog --max-conns --duration --accept-for"
  "probe-states --top"
  "probe-watch --count --interval --duration"
  "probe-triage --top"
  "pcap-capture --count --seconds --snaplen --buffer-mb"
  "pcap-annotate --flow --limit --stall-ms"
  "pcap-decode --stall-ms"
  "pcap-synth --connections --rate --rtt-us --requests --ip-options"
  "link --delay --delay-ab --delay-ba --loss --loss-ab --loss-ba --rate --rate-ab --rate-ba --queue-pkts
        --queue-pkts-ab --queue-pkts-ba --queue-bytes --queue-bytes-ab --queue-bytes-ba --seed --duration --rt-priority --cpu --spin-max-us --drop-synack"
  "link-measure --port --pings --ping-interval --ping-size --stream-count --stream-mbit --stream-size --settle --rt-priority"
)
# No option of any binary means something by a negative number, a non-finite one or 10^999.
bad_values=(nan inf -inf NaN -1 12x "" 1e999)
rows=0
for row in "${numeric[@]}"; do
  # -d '': the whole row, continuation lines included (plain `read` stops at the first newline).
  read -r -d '' -a words <<< "$row" || true
  key=${words[0]}
  for opt in "${words[@]:1}"; do
    rows=$((rows + 1))
    valid_args "$key" "$opt"
    # --opt=VALUE: as a separate word "-inf" would be read as the short options -i -n -f.
    for v in "${bad_values[@]}"; do check "${A[0]}" "$opt" "${A[@]:1}" "$opt=$v" "${T[@]}"; done
  done
done
note "$rows numeric options, ${#bad_values[@]} bad values each"

[ $bad -eq 0 ] || fail "$bad of $cases cases wrong:$others"
note "all $cases cases ok"
