#!/bin/bash
# tests/run.sh: what `make test` runs. The unit tests (Catch2), then the integration tests, which need
# root because they create network namespaces.
#
# The very last line is always "N passed, N failed, N skipped" (unit test cases + integration tests), and
# the exit status is non-zero if anything failed or a suite crashed (died on a signal, timed out, or
# ended without its summary line). A crashed suite counts at least one failure.
#
# UNIT_BIN=/path/to/other-binary tests/run.sh runs another Catch2 binary in place of build/bin/unit-tests.
set -u
cd "$(dirname "$0")/.." || exit 1

UNIT_BIN=${UNIT_BIN:-build/bin/unit-tests}
INTEGRATION=tests/integration/run.sh
passed=0 failed=0 skipped=0 crashed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# $1 = suite name, $2 = its exit status, $3/$4 = failed/passed parsed from its summary ("" if none).
account() {
    local name=$1 rc=$2 f=$3 p=$4
    if [[ -z $f ]]; then
        echo "CRASHED: $name ended without a summary line (exit $rc)"
    elif grep -q 'due to a fatal error condition' "$log"; then  # Catch2 caught a signal, then died
        echo "CRASHED: $name died on a signal (exit $rc); the tests after it did not run"
    elif (( rc != 0 && f == 0 )); then
        echo "CRASHED: $name exited with status $rc but reported no failure"
    else
        passed=$((passed + p)) failed=$((failed + f))
        return
    fi
    crashed=1
    passed=$((passed + ${p:-0})) failed=$((failed + (${f:-0} > 0 ? ${f:-0} : 1)))
}

# ---- unit tests ----
# Catch2 v2 ends with one of:
#   All tests passed (38 assertions in 7 test cases)
#   test cases: 7 | 5 passed | 2 failed          (a zero column is left out)
echo "== unit tests: $UNIT_BIN"
if [[ -x $UNIT_BIN ]]; then
    # The timeout turns a hung test (a reactor that never wakes up) into a crash instead of a stuck CI.
    timeout 300 "$UNIT_BIN" --use-colour no 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    f="" p=""
    if line=$(grep -E '^All tests passed \(' "$log" | tail -1) && [[ -n $line ]]; then
        f=0 p=$(sed -E 's/.* in ([0-9]+) test cases?\)$/\1/' <<<"$line")
    elif line=$(grep -E '^test cases: ' "$log" | tail -1) && [[ -n $line ]]; then
        f=$(grep -oE '[0-9]+ failed$|[0-9]+ failed \|' <<<"$line" | grep -oE '^[0-9]+' || echo 0)
        p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '^[0-9]+' || echo 0)
        # [!shouldfail] tests that failed as they should count as passed.
        p=$((p + $(grep -oE '[0-9]+ failed as expected' <<<"$line" | grep -oE '^[0-9]+' || echo 0)))
    fi
    account "unit tests" "$rc" "$f" "$p"
else
    echo "CRASHED: $UNIT_BIN is not built (make $UNIT_BIN)"
    crashed=1 failed=$((failed + 1))
fi

# ---- generated docs ----
# The figures in EXPERIMENTS.md and README.md are generated from evidence/; a block edited by hand, or
# evidence changed without regenerating, fails here.
echo "== docs: generated blocks match evidence/"
if make --no-print-directory -s docs-check; then passed=$((passed + 1)); else echo "FAIL: make docs-check"; failed=$((failed + 1)); fi

# ---- integration tests ----
if [[ ! -f $INTEGRATION ]]; then
    echo "== integration tests: none ($INTEGRATION does not exist)"
else
    # Its runner handles "not root" itself: it says so loudly, skips what needs namespaces, and still
    # runs what does not (the CLI checks).
    echo "== integration tests: $INTEGRATION"
    bash "$INTEGRATION" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    # Its own last line has our format: "N passed, N failed, N skipped".
    last=$(grep -v '^[[:space:]]*$' "$log" | tail -1)
    f="" p=""
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
        skipped=$((skipped + BASH_REMATCH[3]))
    fi
    account "integration tests" "$rc" "$f" "$p"
fi

echo
(( crashed )) && echo "A SUITE CRASHED: see CRASHED above"
echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 && crashed == 0 ))
