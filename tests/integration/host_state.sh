# host_state.sh: sourced by run.sh. The integration suite must leave the host exactly as it found it: every
# experiment runs inside churnlab-* namespaces, and a test that changes a host sysctl, route, address,
# link or namespace by mistake (a missing `ip netns exec`, an `ip -n` aimed at the wrong place) would go
# unnoticed on a developer's machine until something else broke. So run.sh records the host's network
# state before the first test (host_state FILE PREFIX) and compares it after the last (host_state_diff).
#
# What is recorded, in the host namespace (run.sh runs there):
#   net.* sysctls     sysctl -a -r '^net\.', minus the values that change by themselves (below);
#   links, addresses  ip -o link, ip -o addr (address lifetimes cut: they count down on their own);
#   routes            ip -4/-6 route show table all (an RA route's "expires Ns" cut, for the same reason);
#   namespaces        the names that do NOT start with churnlab- (nothing of ours may be named so) plus
#                     churnlab-PREFIX* (this suite's labs: run.sh gives every test a RUNID starting
#                     with PREFIX). Other people's churnlab-* labs come and go beside us on a shared
#                     machine: not ours to judge, and their own runner checks them.
#
# Sysctls left out, each because it moves with no one changing a setting:
#   net.netfilter.nf_conntrack_count         a live count of tracked flows (the host's own traffic)
#   net.ipv4.tcp_fastopen_key                the kernel fills it with a random key the first time
#                                            anything in the namespace uses TCP Fast Open
#   net.ipv4.tcp_available_congestion_control  grows when a congestion control module (tcp_bbr) is loaded
#                                            on demand, which `-C bbr` inside a lab namespace does: a
#                                            module load, not a setting, and not undoable by unloading
# (net.ipv6.conf.*.stable_secret cannot be read until set: sysctl skips it with an error, sent to null.)

host_state() {  # FILE PREFIX
  # The short sections first, so that a diff cut at 60 lines still shows them: one new link alone adds
  # some 70 per-device sysctls (net.ipv4.conf.DEV.*, net.ipv6.conf.DEV.*, ...).
  {
    echo "## namespaces (not churnlab-*, or churnlab-$2*)"
    ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E -v '^churnlab-' | sort
    ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^churnlab-$2" | sort
    echo "## links"
    ip -o link show | sed -E 's/\\ +/ /g'
    echo "## addresses"
    ip -o addr show | sed -E 's/\\ +/ /g; s/ (valid|preferred)_lft [^ ]+//g'
    echo "## routes (IPv4, all tables)"
    ip -4 route show table all
    echo "## routes (IPv6, all tables)"
    ip -6 route show table all | sed -E 's/ expires [0-9]+sec//'
    echo "## sysctl net.*"
    sysctl -a -r '^net\.' 2>/dev/null |
      grep -vE '^net\.(netfilter\.nf_conntrack_count|ipv4\.tcp_fastopen_key|ipv4\.tcp_available_congestion_control) ='
  } > "$1"
}

# host_state_diff BEFORE AFTER: status 0 if identical; else the differences (diff -u, at most 60 lines).
host_state_diff() {
  local d
  d=$(diff -u --label before --label after "$1" "$2") && return 0
  echo "$d" | head -60
  [ "$(echo "$d" | wc -l)" -le 60 ] || echo "... ($(echo "$d" | wc -l) lines of diff in all)"
  return 1
}
