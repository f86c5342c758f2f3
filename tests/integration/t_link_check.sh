#!/usr/bin/env bash
# t_link_check: the quick link check (link/check.sh --quick, what `make link-check QUICK=1` runs): churn-link
# measured against its configuration on a 50 ms and a 2 ms path. Every bound of issue 5 is asserted there
# (RTT idle and with 100 Mbit/s flowing within max(2 %, 100 us); loss within 0.2 points of 1 %; achieved
# rate within 5 %; no reordering and a constant one-way delay; the same seed drops the same datagrams;
# queue overflow drops counted and accounted for); this test passes when it exits 0 and prints its table.
source "$(dirname "$0")/lib.sh"
need_root
LINK=$BIN/churn-link
for _ in $(seq 1 20); do [ -x "$LINK" ] && break; sleep 0.5; done
[ -x "$LINK" ] || fail "$LINK is not built (make build/bin/churn-link)"

out=$(mktemp -d /tmp/churn-linkcheck-XXXXXX)
trap 'rm -rf "$out"' EXIT
# RUNID comes from run.sh, so the check's lab is named after this test and its leftovers are checked.
link/check.sh --quick --out "$out" > "$out/check.log" 2>&1
rc=$?
sed 's/^/  /' "$out/check.log" >&2
rows=$(grep -cE ' (ok|FAIL)$' "$out/check.log")
assert_ge "figures checked" "$rows" 30
bad=$(grep -E ' FAIL$' "$out/check.log" | sed 's/  */ /g' | head -3 | tr '\n' ';')
[ $rc -eq 0 ] || fail "link/check.sh exited $rc: ${bad:-no FAIL row: $(tail -c 300 "$out/check.log")}"
# The JSON it measured from is there to read: e.g. the seed runs really dropped the same datagrams.
cmp -s "$out/default-drops1.txt" "$out/default-drops2.txt" || fail "default path: drops differ between two runs with the same seed"
assert_gt "datagrams dropped by the seeded loss (default path)" "$(wc -l < "$out/default-drops1.txt")" 0
