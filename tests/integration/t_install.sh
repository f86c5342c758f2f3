#!/usr/bin/env bash
# t_install: `make install DESTDIR=... PREFIX=...` puts every churn-* binary the build makes into
# DESTDIR/PREFIX/bin, executable and working (--help), the sysctl profiles into PREFIX/share/churnlab/sysctl
# (where the installed churn-sysctl check finds them), and writes nothing outside DESTDIR: the runbook's
# commands must run as written on a host where only the installed tools exist. No root needed.
source "$(dirname "$0")/lib.sh"
stage=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-install-XXXXXX")
trap 'rm -rf "$stage"' EXIT
make --no-print-directory -s install DESTDIR="$stage" PREFIX=/opt/churnlab > "$stage.log" 2>&1 ||
  fail "make install failed: $(tail -c 300 "$stage.log")"
rm -f "$stage.log"
want=$(cd "$BIN" && ls churn-* | sort | tr '\n' ' ')
have=$(cd "$stage/opt/churnlab/bin" 2>/dev/null && ls | sort | tr '\n' ' ')
assert_eq "installed binaries" "$have" "$want"
assert_eq "files outside PREFIX/bin and PREFIX/share/churnlab/sysctl under DESTDIR" \
  "$(find "$stage" -type f ! -path "$stage/opt/churnlab/bin/*" ! -path "$stage/opt/churnlab/share/churnlab/sysctl/*" | wc -l)" 0
assert_eq "installed sysctl profiles" "$(cd "$stage/opt/churnlab/share/churnlab/sysctl" 2>/dev/null && ls | tr '\n' ' ')" \
  "$(cd sysctl && ls *.conf | tr '\n' ' ')"
for b in "$stage"/opt/churnlab/bin/*; do
  [ -x "$b" ] || fail "$b is not executable"
  "$b" --help > /dev/null 2>&1 || fail "$(basename "$b") --help failed once installed"
done
note "ok every installed tool answers --help"
# Installed, run from elsewhere: churn-sysctl check finds the profiles beside it (read-only on this host).
out=$(cd / && "$stage/opt/churnlab/bin/churn-sysctl" check --json) || fail "installed churn-sysctl check failed"
grep -q "\"path\":\"$stage/opt/churnlab/share/churnlab/sysctl/legacy-churn-client.conf\"" <<< "$out" ||
  fail "installed churn-sysctl check did not find PREFIX/share/churnlab/sysctl: $(head -c 300 <<< "$out")"
note "ok installed churn-sysctl check finds PREFIX/share/churnlab/sysctl"
