#!/usr/bin/env bash
# t_link_errors: churn-link refuses bad parameters with one line on stderr and exit 2 (negative delay,
# loss outside 0-100 %, rate 0, an unknown namespace, no /dev/net/tun), and a good run stops by itself:
# --duration 1 ends it, with its JSON written and both TUN devices gone with it.
source "$(dirname "$0")/lib.sh"
lab_start
LINK=$BIN/churn-link
[ -x "$LINK" ] || fail "$LINK is not built"

# expect_usage WHAT EXPECTED-SUBSTRING ARGS...: exit 2, exactly one line on stderr, naming the problem.
expect_usage() {
  local what=$1 want=$2
  shift 2
  "$LINK" "$@" > "$LAB_TMP/out" 2> "$LAB_TMP/err"
  local rc=$? lines
  lines=$(wc -l < "$LAB_TMP/err")
  note "$what: exit $rc: $(cat "$LAB_TMP/err")"
  assert_eq "$what: exit status" "$rc" 2
  assert_eq "$what: stderr lines" "$lines" 1
  grep -qF -- "$want" "$LAB_TMP/err" || fail "$what: stderr '$(cat "$LAB_TMP/err")' does not say '$want'"
  [ ! -s "$LAB_TMP/out" ] || fail "$what: printed on stdout (a script waiting for 'ready' would be confused): $(cat "$LAB_TMP/out")"
}
ns=(--ns-a "$LAB_CLI" --ns-b "$LAB_SRV" --duration 5)
expect_usage "negative delay" "--delay: must be >= 0 ms" "${ns[@]}" --delay -5
expect_usage "negative one-way delay" "--delay-ab: must be >= 0 ms" "${ns[@]}" --delay-ab=-1
expect_usage "loss > 100 %" "--loss: must be between 0 and 100 %" "${ns[@]}" --loss 101
expect_usage "loss < 0" "--loss-ba: must be between 0 and 100 %" "${ns[@]}" --loss-ba -0.5
expect_usage "rate 0" "--rate: must be > 0 Mbit/s" "${ns[@]}" --rate 0
expect_usage "unknown namespace" "open(/run/netns/churnlab-$RUNID-nosuch): ENOENT" \
  --ns-a "churnlab-$RUNID-nosuch" --ns-b "$LAB_SRV" --duration 5
# No /dev/net/tun: an empty tmpfs over /dev/net in a private mount namespace (the host's /dev is untouched).
command -v unshare > /dev/null || skip "unshare (util-linux) is not installed"
unshare --mount --propagation private sh -c 'mount -t tmpfs none /dev/net && exec "$0" "$@"' \
  "$LINK" "${ns[@]}" > "$LAB_TMP/out" 2> "$LAB_TMP/err"
rc=$?
note "no /dev/net/tun: exit $rc: $(cat "$LAB_TMP/err")"
assert_eq "no /dev/net/tun: exit status" "$rc" 2
grep -qF "open(/dev/net/tun): ENOENT" "$LAB_TMP/err" || fail "no /dev/net/tun: stderr says '$(cat "$LAB_TMP/err")'"
# Nothing was left half-made in the namespace by the failed runs.
assert_eq "devices named churn-* in $LAB_CLI after the failures" "$(ip -n "$LAB_CLI" -o link show | grep -c 'churn-')" 0

# A good run with --duration 1: ready, then it ends by itself, and its devices end with it.
t0=$(date +%s.%N)
"$LINK" --ns-a "$LAB_CLI" --ns-b "$LAB_SRV" --duration 1 --delay 5 --json "$LAB_TMP/link.json" > "$LAB_TMP/out" 2>&1 &
pid=$!
for _ in $(seq 1 40); do grep -q '^ready' "$LAB_TMP/out" && break; sleep 0.05; done
grep -q '^ready' "$LAB_TMP/out" || fail "no ready line: $(cat "$LAB_TMP/out")"
assert_eq "churn-a exists in $LAB_CLI while the link runs" "$(ip -n "$LAB_CLI" -o link show churn-a 2> /dev/null | wc -l)" 1
assert_eq "churn-b exists in $LAB_SRV while the link runs" "$(ip -n "$LAB_SRV" -o link show churn-b 2> /dev/null | wc -l)" 1
wait $pid
rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
assert_eq "exit status after --duration 1" "$rc" 0
assert_between "seconds until it stopped by itself" "$secs" 0.9 3
assert_eq "stopped_by" "$(json_get "$LAB_TMP/link.json" stopped_by)" duration
assert_eq "churn-a gone after exit" "$(ip -n "$LAB_CLI" -o link show churn-a 2> /dev/null | wc -l)" 0
assert_eq "churn-b gone after exit" "$(ip -n "$LAB_SRV" -o link show churn-b 2> /dev/null | wc -l)" 0
