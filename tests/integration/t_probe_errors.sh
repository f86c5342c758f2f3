#!/usr/bin/env bash
# t_probe_errors: bad input to churn-probe ends at once with exit status 2 and exactly one line on
# stderr naming what is wrong: an unknown namespace, no permission to enter one, a bad filter, a bad
# option, a file that is not a sample. --help exits 0. (Root for the lab namespace of the permission case.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/probe_fixtures.sh"
need_root
lab_start
need_probe

cases=0 bad=0 others=""
check() {  # WORD [env...] -- ARGS...: exit 2, one stderr line containing WORD, nothing on stdout
  local word=$1; shift
  local pre=()
  while [ "$1" != -- ]; do pre+=("$1"); shift; done
  shift
  local out err rc nl why=""
  out=$(mktemp) err=$(mktemp)
  timeout 10 "${pre[@]}" "$PROBE" "$@" > "$out" 2> "$err"
  rc=$?
  nl=$(wc -l < "$err")
  if [ $rc -ne 2 ]; then why="exit $rc, expected 2"
  elif [ "$nl" -ne 1 ]; then why="$nl lines on stderr, expected exactly 1"
  elif ! grep -qF -- "$word" "$err"; then why="stderr does not name '$word'"
  elif [ -s "$out" ]; then why="wrote to stdout"
  fi
  cases=$((cases + 1))
  if [ -n "$why" ]; then
    bad=$((bad + 1)); others+=" [$*: $why]"
    note "BAD churn-probe $*: $why; stderr: $(head -c 200 "$err" | tr '\n' ' ')"
  else
    note "ok churn-probe $*: $(cat "$err")"
  fi
  rm -f "$out" "$err"
}

nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
check "no such network namespace" -- states --netns churnlab-does-not-exist
check "no such network namespace" -- watch --netns client=churnlab-does-not-exist --count 1
check "no such network namespace" -- triage --netns nope-$$
check "no counter named 'TcpExtSyncookiesSnt'" -- watch --counters syncookies,TcpExtSyncookiesSnt --count 1
check "EPERM" "${nobody[@]}" -- states --netns "$LAB_CLI"
check "CAP_SYS_ADMIN" "${nobody[@]}" -- triage --netns "$LAB_SRV"
check "EINVAL" -- states --netns /proc/self/ns/mnt
check "--sport" -- states --sport http
check "--sport" -- states --sport 70000
check "--dport" -- info --dport 9-1
check "--dst" -- states --dst 198.18.0.300
check "--src" -- watch --src 10.0.0.0/40 --count 1
check "--state" -- states --state TIMEWAIT
check "--by" -- states --by port
check "--interval" -- watch --interval 0.1us --count 1
check "--interval" -- watch --interval fast --count 1
check "--tried" -- triage --tried restart
check "--bogus" -- states --bogus
check "churn-probe" -- frobnicate
check "cannot open" -- diff /nonexistent-a.json /nonexistent-b.json
echo '{"host":"x","states":{}}' > "$LAB_TMP/nonstat.json"
check "no \"nstat\"" -- nstat --delta "$LAB_TMP/nonstat.json" "$LAB_TMP/nonstat.json"
check "--out" -- watch --count 1 -o /nonexistent-dir/x.jsonl

# And what works without privileges: sock_diag needs none to list sockets.
if "${nobody[@]}" "$PROBE" states --json > /dev/null 2>&1; then note "ok states as nobody works"; else bad=$((bad + 1)); others+=" [states as nobody failed]"; fi
for sub in "" states watch info nstat diff triage; do
  cases=$((cases + 1))
  # shellcheck disable=SC2086
  out=$("$PROBE" $sub --help 2>/dev/null); rc=$?
  if [ $rc -ne 0 ] || [ "$(printf "%s\n" "$out" | wc -l)" -lt 3 ]; then bad=$((bad + 1)); others+=" [${sub:-(none)} --help: exit $rc]"; fi
done

[ $bad -eq 0 ] || fail "$bad of $cases cases wrong:$others"
note "all $cases cases ok"
