#!/usr/bin/env bash
# t_cli_errors: bad input to churn-client and churn-server ends at once with exit status 2 and exactly one
# line on stderr that names the option (or the URL) at fault; --help exits 0. No root, no lab.
#
# Safety: every case except the one under test is valid and harmless, so that a binary that wrongly
# accepts a bad value only talks to 127.0.0.1 (a closed port) for 10 ms, or listens on loopback for 1 s,
# and `timeout` bounds it anyway.
source "$(dirname "$0")/lib.sh"
need_bins
U=http://127.0.0.1:9/                    # discard port, closed: a wrongly accepted run is refused at once
C=(--mode churn -d 0.01 -q)              # everything else valid
L=(--listen 127.0.0.1:19999 --duration 1 --quiet)

# case BINARY WORD ARGS...: exit 2, one stderr line containing WORD, nothing on stdout.
cases=0 bad=0 others=""
check() {
  local bin=$1 word=$2; shift 2
  local out err rc nl
  out=$(mktemp) err=$(mktemp)
  timeout 5 "$bin" "$@" > "$out" 2> "$err"
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
check "$CLIENT" duration    "${C[@]}" -d -1 $U
check "$CLIENT" mode        "${C[@]}" --mode foo $U
check "$CLIENT" rate        "${C[@]}" -R -5 $U
check "$CLIENT" timeout     "${C[@]}" --timeout 0 $U
check "$CLIENT" retry-delay "${C[@]}" --retry-delay 0 $U
check "$CLIENT" requests    "${C[@]}" -n -1 $U
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
check "$SERVER" size        "${L[@]}" --size -1
check "$SERVER" nodelay     "${L[@]}" --nodelay maybe
check "$SERVER" backlog     "${L[@]}" --backlog 0
check "$SERVER" max-conns   "${L[@]}" --max-conns -1
check "$SERVER" duration    --listen 127.0.0.1:19999 --quiet --duration -3
check "$SERVER" bogus       "${L[@]}" --bogus
help_ok "$CLIENT"
help_ok "$SERVER"

[ $bad -eq 0 ] || fail "$bad of $cases cases wrong:$others"
note "all $cases cases ok"
