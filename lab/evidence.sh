#!/usr/bin/env bash
# evidence.sh: `make evidence`. Copy the small files of the newest runs from results/ (not in git) into
# evidence/ (in git), where `make experiments` renders the generated blocks of EXPERIMENTS.md and
# README.md from them. Only files a reader may want to open are kept, and each is small.
#
#   evidence/compare/      results/latest-compare   make compare (bare veth): JSON, samples, tw.svg,
#                                                   the two pcap excerpts and their annotations
#   evidence/compare-rtt/  results/latest-rtt       make compare-rtt (over an emulated RTT)
#   evidence/bench/        results/bench*-<ts>      make bench: the three tables
#   evidence/cc/           results/cc-<ts>          make run-cc
#   evidence/link/         results/link-check-<ts>  make link-check: check.txt (its table)
#   evidence/levers/       results/latest-levers    make run-levers: levers.json, levers.md, levers.svg, meta.json
#                          results/link-timing-<ts> make link-timing: timing.md
#   evidence/incident/     results/latest-incident  make run-incident: summary.md, checklist.txt, the two
#                                                   triage transcripts, incident.json, meta.json, sysctl.json
#   evidence/leak/         results/latest-leak      make run-leak: the triage transcripts (churn-probe, ss)
#   evidence/synflood/     results/latest-synflood  make run-synflood: synflood.json, synflood.md, synrecv.svg,
#                                                   meta.json, cookie.pcap and its annotation (made again here)
#   evidence/nagle/        results/latest-nagle     make run-nagle: nagle.json, nagle.md, nagle.svg, meta.json,
#                                                   the traces, the two excerpt pcaps and their annotations (made
#                                                   again here)
# A kind with no run yet is left as it is (said so); a compare run missing a file is an error.
# `lab/evidence.sh KIND...` copies only those kinds (compare compare-rtt bench cc link incident leak levers synflood nagle), so a
# run of one kind can be committed without touching the others' evidence; no argument: all of them.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-build/bin}
kinds=" ${*:-compare compare-rtt bench cc link incident leak levers synflood nagle} "
for k in $kinds; do
  case $k in compare|compare-rtt|bench|cc|link|incident|leak|levers|synflood|nagle) ;;
    *) echo "evidence: unknown kind '$k' (want compare compare-rtt bench cc link incident leak levers synflood nagle)" >&2; exit 2 ;; esac
done
want() { [[ $kinds == *" $1 "* ]]; }

compare_files="churn.json pooled.json churn.tw.csv pooled.tw.csv sysctl.json meta.json table.md
  churn.server.json pooled.server.json churn.probe.json pooled.probe.json churn.wire.json pooled.wire.json
  churn.path.json pooled.path.json churn.excerpt.pcap pooled.excerpt.pcap"

copy_compare() {  # SRC_LINK DEST [extra files]
  local src=$1 dest=$2; shift 2
  if [ ! -e "$src/churn.json" ]; then echo "evidence: no $src (run make ${dest#evidence/}), left as it is"; return 0; fi
  local f
  for f in $compare_files "$@"; do
    [ -e "$src/$f" ] || { echo "evidence: $src/$f missing (a run from an older version? run make ${dest#evidence/})" >&2; exit 2; }
  done
  rm -rf "$dest" && mkdir -p "$dest"
  for f in $compare_files "$@"; do cp "$src/$f" "$dest/"; done
  # The annotated excerpts: one churn connection from its SYN, and requests on pooled connections that
  # never show a SYN (the round trip they save is the churn excerpt's iRTT).
  "$BIN/churn-pcap" annotate "$dest/churn.excerpt.pcap" --flow 0 > "$dest/churn.annotate.txt" || exit 2
  # In the pooled window the requests spread over the pool: show the connection that carried the most.
  local busiest
  busiest=$("$BIN/churn-pcap" decode --json "$dest/pooled.excerpt.pcap" |
    awk 'match($0, /"index": [0-9]+/) { i = substr($0, RSTART + 9, RLENGTH - 9)
         if (match($0, /"requests": [0-9]+/)) { r = substr($0, RSTART + 12, RLENGTH - 12) + 0
           if (r > best) { best = r; flow = i } } }
         END { print (flow == "" ? 0 : flow) }')
  "$BIN/churn-pcap" annotate "$dest/pooled.excerpt.pcap" --flow "$busiest" --irtt-from "$dest/churn.excerpt.pcap" \
    > "$dest/pooled.annotate.txt" || exit 2
  echo "evidence: $dest from $(readlink -f "$src")"
}

newest() { ls -d results/$1-2* 2>/dev/null | tail -1; }

want compare && copy_compare results/latest-compare evidence/compare tw.svg
want compare-rtt && copy_compare results/latest-rtt evidence/compare-rtt

want bench && mkdir -p evidence/bench
want bench && for kind in bench bench-probe bench-pcap; do
  d=$(newest "$kind")
  if [ -z "$d" ] || [ ! -e "$d/$kind.md" ]; then echo "evidence: no results/$kind-* (run make bench), left as it is"; continue; fi
  cp "$d/$kind.md" "$d/$kind.json" evidence/bench/
  echo "evidence: bench ($kind) from $d"
done

c=$(newest cc)
if ! want cc; then :
elif [ -n "$c" ] && [ -e "$c/cc.json" ]; then
  rm -rf evidence/cc && mkdir -p evidence/cc
  cp "$c"/cc.json "$c"/cc.md "$c"/cwnd.svg "$c"/throughput.svg "$c"/meta.json "$c"/runs.tsv "$c"/*.link.json evidence/cc/ || exit 2
  # The per-run sender JSON (tcp_info every 100 ms) only while it stays small.
  [ -z "$(find "$c" -maxdepth 1 -name '*.client.json' -size +99k)" ] && cp "$c"/*.client.json evidence/cc/
  echo "evidence: cc from $c"
else
  echo "evidence: no results/cc-* (run make run-cc), left as it is"
fi

# The emulated link: the newest full link-check's table and the newest timing table, as they printed.
want link && {
mkdir -p evidence/link
# Only a full run (QUICK=1 checks less): the newest whose table says so.
l=$(grep -l '^link-check: churn-link, full run' results/link-check-2*/table.txt 2>/dev/null | tail -1)
l=${l%/table.txt}
if [ -n "$l" ]; then
  cp "$l/table.txt" evidence/link/check.txt && echo "evidence: link-check from $l"
else
  echo "evidence: no results/link-check-* (run make link-check), left as it is"
fi
l=$(newest link-timing)
if [ -n "$l" ] && grep -q '^Run: ' "$l/timing.md" 2>/dev/null; then
  cp "$l/timing.md" evidence/link/timing.md && echo "evidence: link-timing from $l"
else
  echo "evidence: no complete results/link-timing-* (run make link-timing), left as it is"
fi
}

# copy_small KIND SRC FILE...: the named files of a run (small text and JSON only: transcripts, tables,
# summaries; never the watcher's JSON lines), replacing evidence/KIND/ as a whole.
copy_small() {
  local kind=$1 src=$2 f; shift 2
  if [ ! -d "$src" ]; then echo "evidence: no $src (run make run-$kind), left as it is"; return 0; fi
  for f in "$@"; do
    [ -e "$src/$f" ] || { echo "evidence: $src/$f missing (a run from an older version? run make run-$kind)" >&2; exit 2; }
    [ "$(stat -c %s "$src/$f")" -le 65536 ] || { echo "evidence: $src/$f is over 64 KiB, not evidence material" >&2; exit 2; }
  done
  rm -rf "evidence/$kind" && mkdir -p "evidence/$kind"
  for f in "$@"; do cp "$src/$f" "evidence/$kind/"; done
  echo "evidence: $kind from $(readlink -f "$src")"
}
# The per-run JSON of make run-incident rides along: RUN.json for every run its runs.tsv lists.
if want incident; then
  inc_runs=$(awk -F'\t' '$1 != "triage" { print $1 ".json" }' results/latest-incident/runs.tsv 2>/dev/null)
  copy_small incident results/latest-incident summary.md checklist.txt triage.churn-probe.txt triage.ss-nstat.txt \
    incident.json meta.json sysctl.json runs.tsv $inc_runs
fi
want leak && copy_small leak results/latest-leak triage.churn-probe.txt triage.ss.txt meta.json
# make run-levers: the report's files only (each row's raw files stay in results/; levers.json holds every
# number the blocks render, and the verdicts are recomputed from them). The plot is the one file over
# 64 KiB that is kept: it is what EXPERIMENTS.md §6 links to.
if want levers; then
  l=results/latest-levers
  if [ -e "$l/levers.json" ]; then
    for f in levers.json levers.md levers.svg meta.json; do
      [ -e "$l/$f" ] || { echo "evidence: $l/$f missing (run make run-levers)" >&2; exit 2; }
    done
    rm -rf evidence/levers && mkdir -p evidence/levers
    cp "$l"/levers.json "$l"/levers.md "$l"/levers.svg "$l"/meta.json evidence/levers/ || exit 2
    echo "evidence: levers from $(readlink -f "$l")"
  else
    echo "evidence: no results/latest-levers (run make run-levers), left as it is"
  fi
fi
# make run-synflood: the report's files (synflood.json holds every number the blocks render; each case's
# raw files and the watcher's lines stay in results/), the plot, and the cookie handshake's capture. Its
# annotation is made again from the capture by this churn-pcap, as for compare's excerpts.
if want synflood; then
  l=results/latest-synflood
  if [ -e "$l/synflood.json" ]; then
    for f in synflood.json synflood.md synrecv.svg meta.json; do
      [ -e "$l/$f" ] || { echo "evidence: $l/$f missing (run make run-synflood)" >&2; exit 2; }
      [ "$(stat -c %s "$l/$f")" -le 65536 ] || { echo "evidence: $l/$f is over 64 KiB, not evidence material" >&2; exit 2; }
    done
    rm -rf evidence/synflood && mkdir -p evidence/synflood
    cp "$l"/synflood.json "$l"/synflood.md "$l"/synrecv.svg "$l"/meta.json evidence/synflood/ || exit 2
    if [ -s "$l/cookie.pcap" ]; then
      cp "$l/cookie.pcap" evidence/synflood/ &&
      "$BIN/churn-pcap" annotate evidence/synflood/cookie.pcap --flow 0 --limit 12 > evidence/synflood/cookie.annotate.txt || exit 2
    fi
    echo "evidence: synflood from $(readlink -f "$l")"
  else
    echo "evidence: no results/latest-synflood (run make run-synflood), left as it is"
  fi
fi
# make run-nagle: the report's files (nagle.json holds every number the blocks render; each case's raw
# files and whole-run captures stay in results/), the plot, the traces every case replayed, and the two
# excerpts (a few KB each). Their annotations are made again from the captures by this churn-pcap.
if want nagle; then
  l=results/latest-nagle
  if [ -e "$l/nagle.json" ]; then
    files="nagle.json nagle.md nagle.svg meta.json cases.tsv trace.txt"
    [ -e "$l/sweep-trace.txt" ] && files+=" sweep-trace.txt"
    for f in $files; do
      [ -e "$l/$f" ] || { echo "evidence: $l/$f missing (run make run-nagle)" >&2; exit 2; }
      [ "$(stat -c %s "$l/$f")" -le 65536 ] || { echo "evidence: $l/$f is over 64 KiB, not evidence material" >&2; exit 2; }
    done
    rm -rf evidence/nagle && mkdir -p evidence/nagle
    for f in $files; do cp "$l/$f" evidence/nagle/ || exit 2; done
    for x in nagle nodelay; do
      [ -s "$l/excerpt-$x.pcap" ] || continue
      [ "$(stat -c %s "$l/excerpt-$x.pcap")" -le 16384 ] || { echo "evidence: $l/excerpt-$x.pcap is over 16 KiB" >&2; exit 2; }
      cp "$l/excerpt-$x.pcap" evidence/nagle/ &&
      "$BIN/churn-pcap" annotate evidence/nagle/excerpt-$x.pcap --flow 0 > evidence/nagle/excerpt-$x.annotate.txt || exit 2
    done
    echo "evidence: nagle from $(readlink -f "$l")"
  else
    echo "evidence: no results/latest-nagle (run make run-nagle), left as it is"
  fi
fi
exit 0
