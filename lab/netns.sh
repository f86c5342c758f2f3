# netns.sh: the two-host lab. Sourced by scenario.sh, compare.sh and bench.sh, never run directly.
# shellcheck shell=bash
#
#   client host                                   server host
#   netns churnlab-<RUNID>-cli                    netns churnlab-<RUNID>-srv
#   cl<RUNID>c 198.18.0.1/24  <---- veth ---->   cl<RUNID>s 198.18.0.2/24
#
# Why two namespaces and not 127.0.0.1: tcp_tw_reuse defaults to 2, "reuse TIME-WAIT on loopback only",
# so churn over loopback quietly recycles ports and never shows EADDRNOTAVAIL. Over a veth between two
# namespaces the client host keeps every TIME-WAIT for the full 60 s, as it would between two machines.
#
# Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking) and there is NO default route:
# nothing the lab sends can leave the machine.
#
# Sysctls are per namespace and start at the kernel's defaults for a fresh namespace. We touch them only
# inside the lab (ip netns exec NS sysctl -w), never the host's, and only when asked through the
# environment:
#   PORT_RANGE="1000 1999"  net.ipv4.ip_local_port_range   (default 32768 60999)
#   TW_REUSE=1              net.ipv4.tcp_tw_reuse           (default 2 = loopback only)
#   TW_REUSE_DELAY=100      net.ipv4.tcp_tw_reuse_delay     (ms, default 1000; kernels >= 6.12 only)
#   FIN_TIMEOUT=30          net.ipv4.tcp_fin_timeout
#   MAX_TW_BUCKETS=N        net.ipv4.tcp_max_tw_buckets
#   CC=cubic                net.ipv4.tcp_congestion_control
#   SOMAXCONN=N             net.core.somaxconn
# An override applies to both hosts. The effective values are written by lab_record_sysctls.
#   PROFILE=sysctl/legacy-churn-client.conf   a sysctl.d profile (sysctl/*.conf), applied in both hosts
#                           right after the overrides with `churn-sysctl apply --netns` (so it wins over
#                           them); a profile that fails to apply fails lab_up. Recorded in sysctl.json as
#                           "profile", with the profile's keys among the recorded sysctls.
#
# Every process the lab starts inherits CHURNLAB_RUN=<RUNID> in its environment, so lab/clean.sh can find
# what a killed run left behind (even a process whose namespace name is already gone) without matching
# on process names that other, unrelated runs may share.
#
# API (after `source lab/netns.sh`):
#   lab_up                 create the namespaces, veth, addresses; install the teardown trap
#   lab_down               kill everything in the namespaces, delete them (idempotent)
#   lab_cli CMD...         run CMD on the client host;  lab_srv CMD... on the server host
#                          (foreground only: to start one in the background write
#                          `ip netns exec "$LAB_SRV" CMD &`, so that $! is CMD itself, not a subshell)
#   lab_track PID          a host-side helper (e.g. the sampler) to kill at teardown
#   lab_tmpdir             make a temp dir (path in LAB_TMP), removed at teardown (nginx's files)
#   lab_record_sysctls F   write the effective sysctls of both hosts as JSON to F
#   LAB_CLI LAB_SRV        namespace names;  LAB_CLI_IP LAB_SRV_IP  addresses

LAB_CLI_IP=198.18.0.1
LAB_SRV_IP=198.18.0.2
LAB_PREFIX=24
LAB_TRACKED=()
LAB_TMPDIRS=()
LAB_IS_UP=0

# The sysctls we record, and the environment variable that may override each.
LAB_SYSCTLS=(
  "net.ipv4.ip_local_port_range:PORT_RANGE"
  "net.ipv4.tcp_tw_reuse:TW_REUSE"
  "net.ipv4.tcp_tw_reuse_delay:TW_REUSE_DELAY"
  "net.ipv4.tcp_fin_timeout:FIN_TIMEOUT"
  "net.ipv4.tcp_max_tw_buckets:MAX_TW_BUCKETS"
  "net.ipv4.tcp_congestion_control:CC"
  "net.core.somaxconn:SOMAXCONN"
)

lab_log() { echo "lab: $*" >&2; }

lab_cli() { ip netns exec "$LAB_CLI" "$@"; }
lab_srv() { ip netns exec "$LAB_SRV" "$@"; }
lab_track() { LAB_TRACKED+=("$1"); }
# Not in a $(...) subshell: the array must grow in this shell. Sets LAB_TMP.
# Named after the run, so lab/clean.sh RUNID can find what a killed run left in /tmp.
lab_tmpdir() { LAB_TMP=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-XXXXXX") && LAB_TMPDIRS+=("$LAB_TMP"); }

# Short and random: veth names are limited to 15 characters (IFNAMSIZ - 1), and two runs at the same time
# (a test while a compare runs) must not collide.
lab_new_runid() { od -An -N3 -tx1 /dev/urandom | tr -d ' \n'; }

lab_up() {
  if [ "$(id -u)" -ne 0 ]; then
    lab_log "needs root (ip netns add)"; return 1
  fi
  RUNID=${RUNID:-$(lab_new_runid)}
  LAB_CLI=churnlab-$RUNID-cli
  LAB_SRV=churnlab-$RUNID-srv
  local vc=cl${RUNID}c vs=cl${RUNID}s
  export CHURNLAB_RUN=$RUNID
  # A RUNID given by the caller could name a lab that is still running; never adopt (and so tear down)
  # namespaces we did not create.
  if [ -e "/run/netns/$LAB_CLI" ] || [ -e "/run/netns/$LAB_SRV" ]; then
    lab_log "$LAB_CLI or $LAB_SRV already exists (another run? make lab-clean removes leftovers)"; return 1
  fi

  # Install the trap before creating anything: a Ctrl-C between two `ip` commands must still clean up.
  # Inside a handler, ignore further INT/TERM first: a second Ctrl-C during teardown must not cut the
  # teardown short and leave the namespaces behind.
  trap 'lab_down' EXIT
  trap 'trap "" INT TERM; lab_down; trap - INT; kill -INT $$' INT
  trap 'trap "" INT TERM; lab_down; exit 143' TERM
  LAB_IS_UP=1

  ip netns add "$LAB_CLI" &&
  ip netns add "$LAB_SRV" &&
  # Create the pair inside the client namespace and move one end, so nothing appears, even briefly, in
  # the host's namespace where it could collide with another run.
  ip -n "$LAB_CLI" link add "$vc" type veth peer name "$vs" netns "$LAB_SRV" &&
  ip -n "$LAB_CLI" addr add "$LAB_CLI_IP/$LAB_PREFIX" dev "$vc" &&
  ip -n "$LAB_SRV" addr add "$LAB_SRV_IP/$LAB_PREFIX" dev "$vs" &&
  ip -n "$LAB_CLI" link set lo up &&
  ip -n "$LAB_SRV" link set lo up &&
  ip -n "$LAB_CLI" link set "$vc" up &&
  ip -n "$LAB_SRV" link set "$vs" up || { lab_log "setting up $LAB_CLI/$LAB_SRV failed"; return 1; }

  lab_apply_overrides || return 1
  lab_apply_profile || return 1
  lab_wait_link || return 1
  lab_log "up: $LAB_CLI ($LAB_CLI_IP) <-> $LAB_SRV ($LAB_SRV_IP)"
}

lab_apply_overrides() {
  local entry key var val ns
  for entry in "${LAB_SYSCTLS[@]}"; do
    key=${entry%%:*}; var=${entry#*:}
    val=${!var:-}
    [ -n "$val" ] || continue
    for ns in "$LAB_CLI" "$LAB_SRV"; do
      ip netns exec "$ns" sysctl -q -w "$key=$val" >/dev/null ||
        { lab_log "sysctl -w $key=$val in $ns failed"; return 1; }
    done
    lab_log "override in both namespaces: $key=$val ($var)"
  done
}

# PROFILE=FILE: churn-sysctl apply writes it inside each namespace (setns, then /proc/sys), refuses the
# host's namespace, and reads every value back. Loud on failure: a run that silently lacks its profile
# would measure the wrong thing.
lab_apply_profile() {
  [ -n "${PROFILE:-}" ] || return 0
  local ns bin=${BIN:-build/bin}/churn-sysctl
  [ -f "$PROFILE" ] || { lab_log "PROFILE=$PROFILE: no such file"; return 1; }
  [ -x "$bin" ] || { lab_log "PROFILE=$PROFILE: $bin not found (run: make)"; return 1; }
  for ns in "$LAB_CLI" "$LAB_SRV"; do
    "$bin" apply --netns "$ns" "$PROFILE" | sed 's/^/lab: /' >&2
    [ "${PIPESTATUS[0]}" -eq 0 ] || { lab_log "PROFILE=$PROFILE: churn-sysctl apply --netns $ns failed"; return 1; }
  done
}

# IPv4 over a veth works only while both ends have carrier; the kernel turns carrier on when the second
# end goes up, but we check LOWER_UP rather than assume it, so the first SYN of a run cannot race the link.
# Bounded: 2 s.
lab_wait_link() {
  for _ in $(seq 1 40); do
    if ip -n "$LAB_CLI" -o link show "cl${RUNID}c" | grep -q LOWER_UP &&
       ip -n "$LAB_SRV" -o link show "cl${RUNID}s" | grep -q LOWER_UP; then return 0; fi
    sleep 0.05
  done
  lab_log "veth cl${RUNID}c/cl${RUNID}s has no carrier after 2 s"; return 1
}

# Kill in two rounds: SIGTERM lets servers write their JSON, SIGKILL (after 3 s) makes teardown bounded.
lab_kill_all() {
  local pids round ns p
  for round in TERM KILL; do
    pids="${LAB_TRACKED[*]:-}"
    for ns in "${LAB_CLI:-}" "${LAB_SRV:-}"; do
      [ -n "$ns" ] && [ -e "/run/netns/$ns" ] && pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
    pids=$(echo $pids)
    [ -n "$pids" ] || return 0
    kill -"$round" $pids 2>/dev/null
    [ "$round" = KILL ] && { sleep 0.1; return 0; }
    for _ in $(seq 1 30); do
      local alive=""
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
      [ -n "$alive" ] || return 0
      sleep 0.1
    done
  done
}

lab_down() {
  [ "$LAB_IS_UP" = 1 ] || return 0
  LAB_IS_UP=0
  lab_kill_all
  local ns
  for ns in "${LAB_CLI:-}" "${LAB_SRV:-}"; do
    # Deleting the namespace deletes the veth pair with it (the kernel destroys both ends together).
    [ -n "$ns" ] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  LAB_TRACKED=()
  # Only after the kills: nginx still holds its pid file and error log in there until it exits.
  [ ${#LAB_TMPDIRS[@]} -eq 0 ] || rm -rf "${LAB_TMPDIRS[@]}"
  LAB_TMPDIRS=()
  lab_log "down: churnlab-$RUNID-{cli,srv} removed"
}

# sysctl.json: {"client": {"net.ipv4.ip_local_port_range": [32768, 60999], ...}, "server": {...},
#               "overrides": {"PORT_RANGE": "1000 1999"}, "profile": "sysctl/X.conf" (only with PROFILE)}
# Numbers stay numbers and the port range a [lo, hi] pair, so the report does arithmetic, not parsing.
lab_record_sysctls() {
  local out=$1 ns side entry key var val first keys=()
  for entry in "${LAB_SYSCTLS[@]}"; do keys+=("${entry%%:*}"); done
  if [ -n "${PROFILE:-}" ]; then   # the profile's keys too, each once
    for key in $("${BIN:-build/bin}/churn-sysctl" lint --keys "$PROFILE"); do
      [[ " ${keys[*]} " == *" $key "* ]] || keys+=("$key")
    done
  fi
  {
    echo "{"
    for side in client server; do
      [ $side = client ] && ns=$LAB_CLI || ns=$LAB_SRV
      echo "  \"$side\": {"
      first=1
      for key in "${keys[@]}"; do
        # A sysctl this kernel lacks (tcp_tw_reuse_delay before 6.12) is simply left out.
        val=$(ip netns exec "$ns" sysctl -n "$key" 2>/dev/null) || continue
        val=$(echo $val)   # tabs and newlines to single spaces
        [ $first = 1 ] || echo ","
        first=0
        if [[ $val =~ ^[0-9]+\ [0-9]+$ ]]; then printf '    "%s": [%s]' "$key" "${val/ /, }"
        elif [[ $val =~ ^-?[0-9]+$ ]]; then printf '    "%s": %s' "$key" "$val"
        else printf '    "%s": "%s"' "$key" "$val"; fi
      done
      echo ""
      echo "  },"
    done
    echo "  \"overrides\": {"
    first=1
    for entry in "${LAB_SYSCTLS[@]}"; do
      var=${entry#*:}
      [ -n "${!var:-}" ] || continue
      [ $first = 1 ] || echo ","
      first=0
      printf '    "%s": "%s"' "$var" "${!var}"
    done
    echo ""
    if [ -n "${PROFILE:-}" ]; then echo "  },"; printf '  "profile": "%s"\n' "$PROFILE"; else echo "  }"; fi
    echo "}"
  } > "$out"
}
