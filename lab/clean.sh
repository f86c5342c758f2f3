#!/usr/bin/env bash
# clean.sh [RUNID...]: `make lab-clean`. Remove what a killed lab run left behind:
#   - every churnlab-* network namespace (all, or only those of the given RUNIDs), after killing the
#     processes inside it (`ip netns pids`);
#   - every process that carries CHURNLAB_RUN=<RUNID> in its environment (lab/netns.sh exports it to all
#     it starts): a churn-server whose namespace name is already deleted, a sampler, nginx, wrk, ab.
# We match on that marker, not on process names: another developer's churn-server on 127.0.0.1 is not
# ours to kill. With RUNID arguments only those runs are cleaned (a test cleans its own lab, not a
# compare running next to it).
# Prints what it removed; exit 0 also when there was nothing.
set -u -o pipefail

[ "$(id -u)" -eq 0 ] || { echo "clean: needs root (ip netns del)" >&2; exit 1; }

want_run() {  # is this RUNID selected?
  [ $# -ge 1 ] || return 1
  local id=$1; shift
  [ ${#runids[@]} -eq 0 ] && return 0
  local r; for r in "${runids[@]}"; do [ "$r" = "$id" ] && return 0; done
  return 1
}
runids=("$@")
removed=0

kill_pids() {  # TERM, up to 2 s, then KILL
  local pids=$* p alive
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 1 20); do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [ -n "$alive" ] || return 0
    sleep 0.1
  done
  kill -KILL $alive 2>/dev/null
  sleep 0.1
}

describe() { local p; for p in "$@"; do printf "\n  %s %s" "$p" "$(ps -o args= -p "$p" 2>/dev/null | cut -c1-100 || echo gone)"; done; }

# 1. Processes marked by a lab run, whichever namespace they are in. Skip ourselves and our ancestors
#    (a shell that exported CHURNLAB_RUN must not kill itself).
ancestors=" $$ "
p=$$
while [ "$p" -gt 1 ]; do
  p=$(awk '/^PPid:/ {print $2}' /proc/$p/status 2>/dev/null) || break
  [ -n "$p" ] || break
  ancestors+="$p "
done
marked=()
for envf in /proc/[0-9]*/environ; do
  pid=${envf#/proc/}; pid=${pid%/environ}
  [[ $ancestors == *" $pid "* ]] && continue
  # environ is NUL-separated: -z makes each variable one "line", -o prints just the marker.
  run=$(grep -zao '^CHURNLAB_RUN=[0-9a-f]*' "$envf" 2>/dev/null | tr -d '\0')
  run=${run#CHURNLAB_RUN=}
  [ -n "$run" ] && want_run "$run" && marked+=("$pid")
done
if [ ${#marked[@]} -gt 0 ]; then
  echo "clean: killing lab processes:$(describe "${marked[@]}")"
  kill_pids "${marked[@]}"
  removed=1
fi

# 2. Namespaces, with anything still inside them (a process started without the marker).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^churnlab-'); do
  run=${ns#churnlab-}; run=${run%-*}
  want_run "$run" || continue
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  if [ -n "${pids// /}" ]; then
    echo "clean: killing processes in $ns:$(describe $pids)"
    kill_pids $pids
  fi
  # Deleting the namespace deletes its veth end, and with it the peer in the other namespace.
  ip netns del "$ns" && echo "clean: deleted namespace $ns"
  removed=1
done

# 3. Temp dirs (nginx config, test scratch) of runs whose teardown was cut short: /tmp/churnlab-RUNID-*.
#    Without RUNIDs, every /tmp/churnlab-* goes, as every lab run was just stopped above.
for d in /tmp/churnlab-*; do
  [ -d "$d" ] || continue
  run=${d#/tmp/churnlab-}; run=${run%%-*}
  if [ ${#runids[@]} -eq 0 ] || want_run "$run"; then
    rm -rf "$d" && echo "clean: removed $d"
    removed=1
  fi
done

[ $removed = 1 ] || echo "clean: nothing to remove"
exit 0
