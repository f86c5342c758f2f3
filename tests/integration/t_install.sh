#!/usr/bin/env bash
# t_install: `make install DESTDIR=... PREFIX=...` puts every churn-* binary the build makes into
# DESTDIR/PREFIX/bin, executable and working (--help), and writes nothing outside DESTDIR: the runbook's
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
assert_eq "files outside PREFIX/bin under DESTDIR" "$(find "$stage" -type f ! -path "$stage/opt/churnlab/bin/*" | wc -l)" 0
for b in "$stage"/opt/churnlab/bin/*; do
  [ -x "$b" ] || fail "$b is not executable"
  "$b" --help > /dev/null 2>&1 || fail "$(basename "$b") --help failed once installed"
done
note "ok every installed tool answers --help"
