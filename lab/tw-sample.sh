#!/usr/bin/env bash
# tw-sample.sh PREFIX CLIENT_NS SERVER_NS [MAX_SECONDS]
#
# Watch both lab hosts with churn-probe every 100 ms (PROBE_INTERVAL=1s to change it) until SIGTERM/SIGINT, until a namespace disappears,
# or for MAX_SECONDS (default 120) so a forgotten sampler cannot run forever. Writes
#   PREFIX.probe.jsonl   every sample of both hosts (states by name, churn counters), one JSON line each;
#                        on SIGTERM the watcher takes one last sample before it exits.
# lab/scenario.sh then derives PREFIX.tw.csv and PREFIX.probe.json from it (churn-report probe).
#
# One churn-probe process watches both hosts: it enters each namespace once to open its netlink socket
# and /proc/net files there, then samples both from outside without switching again (probe/host.h).
# It replaced an `ss ... | wc -l` loop at 200 ms; lab/scenario.sh still cross-checks the result
# against ss and nstat at the end of every run.
set -u -o pipefail

[ $# -ge 3 ] || { echo "usage: tw-sample.sh PREFIX CLIENT_NS SERVER_NS [MAX_SECONDS]" >&2; exit 2; }
prefix=$1 cli=$2 srv=$3 max=${4:-120}
BIN=${BIN:-build/bin}
[ -x "$BIN/churn-probe" ] || { echo "tw-sample: $BIN/churn-probe not found (run: make)" >&2; exit 1; }

# exec: the sampler's pid is the watcher's, so scenario.sh's SIGTERM reaches churn-probe itself, which
# takes its final sample and closes the file before exiting.
exec "$BIN/churn-probe" watch --netns client="$cli" --netns server="$srv" --interval "${PROBE_INTERVAL:-100ms}" --duration "$max" -q \
  -o "$prefix.probe.jsonl"
