#!/usr/bin/env bash
# deps.sh GROUP...: install the Debian 12 packages a make target needs, and only those missing.
# Quiet and quick when everything is there (dpkg-query only); needs root to install.
set -euo pipefail

declare -A GROUPS_=(
  [build]="g++ make libpcap-dev catch2 libcli11-dev nlohmann-json3-dev"
  [lab]="iproute2 procps gnuplot-nox"
  # linux-perf: `make bench` counts each side's system calls with perf stat on the syscall tracepoints.
  [bench]="wrk apache2-utils nginx linux-perf"
  [pcap]="tshark tcpdump"
  [fuzz]="clang-14 libclang-rt-14-dev"
  # make run-incident: clients nobody here wrote (Python's standard library, curl) against nginx.
  [incident]="python3 curl nginx"
)

# Under `make -j` several groups can be checked at once; one dpkg at a time (dpkg has its own lock, but
# a second apt-get fails on it at once instead of waiting). The check is repeated under the lock, so a
# group that another job just installed is not installed twice.
if [ -z "${CHURN_DEPS_LOCKED:-}" ] && command -v flock >/dev/null; then
  exec env CHURN_DEPS_LOCKED=1 flock /tmp/churnlab-deps.lock "$0" "$@"
fi

missing=()
for g in "$@"; do
  pkgs=${GROUPS_[$g]:-}
  [ -n "$pkgs" ] || { echo "deps.sh: unknown group '$g' (want: ${!GROUPS_[*]})" >&2; exit 2; }
  for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
      missing+=("$p")
    fi
  done
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages: ${missing[*]}; run as root (or: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
# nginx's postinst would start a server on the host's port 80. The lab starts its own nginx inside a
# namespace, so forbid service starts during the install (policy-rc.d, exit 101 = "action forbidden").
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
fi
trap '[ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
