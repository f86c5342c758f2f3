#!/usr/bin/env bash
# t_sysctl_check: churn-sysctl reads the host and writes only lab namespaces.
#   1. check (text, --json, --strict, default profiles), show and lint change nothing on the host: every
#      host net.* sysctl is identical before and after (the values that move on their own left out, as
#      in host_state.sh);
#   2. apply --netns writes a profile in one lab namespace: the values change there, not in the other
#      namespace, not on the host;
#   3. check --netns warns about a listening port inside the range (until it is reserved) and a tiny
#      tcp_max_tw_buckets, and --strict turns warnings into exit 1;
#   4. refusals, exit 2: apply without --netns, apply into PID 1's namespace or the one it runs in (first
#      in sandboxes where those are lab namespaces, so that a broken refusal would write the lab, not the
#      host; then for real), an unknown namespace, a missing profile, a profile that fails lint;
#   5. PROFILE= in lab/netns.sh: applied in both namespaces, recorded in sysctl.json; a bad one fails lab_up.
source "$(dirname "$0")/lib.sh"
need_root
SYSCTL=$BIN/churn-sysctl
[ -x "$SYSCTL" ] || fail "$SYSCTL is not built (make build)"
legacy=sysctl/legacy-churn-client.conf pooled=sysctl/pooled-service.conf

host_net() {
  sysctl -a -r '^net\.' 2>/dev/null |
    grep -vE '^net\.(netfilter\.nf_conntrack_count|ipv4\.tcp_fastopen_key|ipv4\.tcp_available_congestion_control) ='
}
snap=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-sysctl-XXXXXX")
# Removed at the end. lab_up replaces this EXIT trap with its own teardown, so a failing run leaves it
# for run.sh (and lab/clean.sh), which sweep /tmp/churnlab-RUNID-* after each test.
trap 'rm -rf "$snap"' EXIT
same_host() {  # WHAT: the host's net.* as in $snap/before
  host_net > "$snap/now"
  [ "$(wc -l < "$snap/before")" -gt 100 ] || fail "host snapshot has only $(wc -l < "$snap/before") lines"
  diff -u "$snap/before" "$snap/now" > "$snap/diff" || fail "$1 changed the host: $(head -c 600 "$snap/diff")"
  note "ok host net.* unchanged after $1 ($(wc -l < "$snap/now") sysctls)"
}
# expect_rc RC WHAT CMD...: CMD's exit status is RC; its stderr kept in $snap/err.
expect_rc() {
  local want=$1 what=$2 rc; shift 2
  "$@" > "$snap/out" 2> "$snap/err"; rc=$?
  [ "$rc" = "$want" ] || fail "$what: exit $rc, expected $want: $(head -c 300 "$snap/err")"
  note "ok $what: exit $rc"
}

# ---- 1. read-only on the host ----
host_net > "$snap/before"
expect_rc 0 "check (make sysctl-check's command)" "$SYSCTL" check --profile "$legacy" --profile "$pooled"
grep -q "^profile $legacy:" "$snap/out" || fail "check does not show $legacy: $(head -c 300 "$snap/out")"
expect_rc 0 "check (default profiles)" "$SYSCTL" check
grep -q "^profile .*pooled-service.conf:" "$snap/out" || fail "check without --profile found no profiles"
expect_rc 0 "check --json" "$SYSCTL" check --json --profile "$legacy" --profile "$pooled"
cp "$snap/out" "$snap/host.json"
assert_eq "check --json: host tcp_tw_reuse" "$(json_get "$snap/host.json" values.net.ipv4.tcp_tw_reuse)" "$(sysctl -n net.ipv4.tcp_tw_reuse)"
assert_eq "check --json: host port range" "$(json_get "$snap/host.json" values.net.ipv4.ip_local_port_range)" "$(sysctl -n net.ipv4.ip_local_port_range | tr -s ' \t' ' ')"
warnings=$(json_get "$snap/host.json" warnings)
expect_rc "$([ "$warnings" -gt 0 ] && echo 1 || echo 0)" "check --strict ($warnings warning(s) on this host)" "$SYSCTL" check --strict --profile "$legacy" --profile "$pooled"
expect_rc 0 "show" "$SYSCTL" show
expect_rc 0 "show --json" "$SYSCTL" show --json
expect_rc 0 "lint of both profiles" "$SYSCTL" lint "$legacy" "$pooled"
for sub in "" check show lint apply; do expect_rc 0 "churn-sysctl $sub --help" "$SYSCTL" $sub --help; done
expect_rc 2 "an unknown option" "$SYSCTL" check --bogus
expect_rc 2 "lint without a file" "$SYSCTL" lint
same_host "check, show and lint"

# ---- 2. apply in one lab namespace ----
lab_start
host_tw=$(sysctl -n net.ipv4.tcp_tw_reuse)
expect_rc 0 "apply --netns client $legacy" "$SYSCTL" apply --netns "$LAB_CLI" "$legacy"
grep -q "net.ipv4.tcp_tw_reuse 2 -> 1 (read back: 1)" "$snap/out" || fail "apply did not report the read-back: $(head -c 300 "$snap/out")"
assert_eq "client tcp_tw_reuse after apply" "$(ns_sysctl "$LAB_CLI" net.ipv4.tcp_tw_reuse)" 1
assert_eq "client ip_local_port_range after apply" "$(ns_sysctl "$LAB_CLI" net.ipv4.ip_local_port_range)" "1024 65535"
assert_eq "server tcp_tw_reuse (not applied there)" "$(ns_sysctl "$LAB_SRV" net.ipv4.tcp_tw_reuse)" 2
assert_eq "server ip_local_port_range (not applied there)" "$(ns_sysctl "$LAB_SRV" net.ipv4.ip_local_port_range)" "32768 60999"
assert_eq "host tcp_tw_reuse after apply" "$(sysctl -n net.ipv4.tcp_tw_reuse)" "$host_tw"
same_host "apply --netns"

# ---- 3. warnings in a namespace ----
ip netns exec "$LAB_CLI" "$SERVER" --listen "$LAB_CLI_IP:40000" --quiet > "$LAB_TMP/l.log" 2>&1 &
lpid=$!
wait_listening "$LAB_TMP/l.log" "$lpid" "churn-server on the client host"
expect_rc 1 "check --netns client --strict (port 40000 listens inside 1024-65535)" "$SYSCTL" check --netns "$LAB_CLI" --strict --json --profile "$legacy"
cp "$snap/out" "$snap/cli.json"
assert_eq "client: the warning is about the port range" "$(json_get "$snap/cli.json" findings.0.key)" net.ipv4.ip_local_port_range
grep -q 'listening port(s) not in ip_local_reserved_ports: 40000' "$snap/cli.json" || fail "the warning does not name port 40000"
assert_eq "client: listening_ports" "$(json_get "$snap/cli.json" listening_ports.0)" 40000
ip netns exec "$LAB_CLI" sysctl -q -w net.ipv4.ip_local_reserved_ports=40000 || fail "sysctl -w ip_local_reserved_ports in $LAB_CLI"
expect_rc 0 "check --netns client --strict (40000 reserved now; tw_reuse=1 with a listener is only a note)" "$SYSCTL" check --netns "$LAB_CLI" --strict --profile "$legacy"
grep -q "^note: tcp_tw_reuse=1 on a host with 1 listening port" "$snap/out" || fail "no tw_reuse note: $(head -c 400 "$snap/out")"
kill "$lpid"; wait "$lpid" 2>/dev/null
ip netns exec "$LAB_SRV" sysctl -q -w net.ipv4.tcp_max_tw_buckets=100 || fail "sysctl -w tcp_max_tw_buckets in $LAB_SRV"
expect_rc 1 "check --netns server --strict (tcp_max_tw_buckets 100)" "$SYSCTL" check --netns "$LAB_SRV" --strict --json --profile "$pooled"
assert_eq "server: the warning" "$(json_get "$snap/out" findings.0.key)" net.ipv4.tcp_max_tw_buckets
ip netns exec "$LAB_SRV" sysctl -q -w net.ipv4.tcp_max_tw_buckets=131072 || fail "sysctl -w tcp_max_tw_buckets back in $LAB_SRV"

# ---- 4. refusals ----
# Without --netns, run inside the server namespace: a broken refusal would write the lab there, and
# tcp_tw_reuse would read 1 afterwards.
expect_rc 2 "apply without --netns" ip netns exec "$LAB_SRV" "$SYSCTL" apply "$pooled"
grep -q -- "--netns NS is required" "$snap/err" || fail "no --netns message: $(cat "$snap/err")"
# "The host" is two namespaces to apply: the one it runs in, and PID 1's. Each refusal is shown in a
# sandbox (a new PID namespace whose PID 1 is a shell in a lab namespace), where the namespace that would
# be written if the refusal broke is the server's, whose tcp_tw_reuse must stay 2 -- never the host.
# PID 1's namespace: PID 1 = sh in the server namespace, churn-sysctl runs in the client namespace.
expect_rc 2 "apply --netns /proc/1/ns/net (sandbox: PID 1 in the server namespace)" \
  ip netns exec "$LAB_SRV" unshare --pid --fork --mount-proc \
  sh -c 'ip netns exec "$0" "$1" apply --netns /proc/1/ns/net "$2"; exit $?' "$LAB_CLI" "$SYSCTL" "$pooled"
grep -q "that is the host's network namespace (the one PID 1 is in)" "$snap/err" || fail "no PID 1 message: $(cat "$snap/err")"
# The namespace it runs in: churn-sysctl in the server namespace, PID 1 = sh in the client namespace.
expect_rc 2 "apply --netns server, run inside the server namespace (sandbox: PID 1 elsewhere)" \
  ip netns exec "$LAB_CLI" unshare --pid --fork --mount-proc \
  sh -c 'ip netns exec "$0" "$1" apply --netns "$0" "$2"; exit $?' "$LAB_SRV" "$SYSCTL" "$pooled"
grep -q "that is the network namespace churn-sysctl runs in" "$snap/err" || fail "no own-namespace message: $(cat "$snap/err")"
assert_eq "server tcp_tw_reuse after the refusals" "$(ns_sysctl "$LAB_SRV" net.ipv4.tcp_tw_reuse)" 2
# And for real, on the host (the sandbox above showed the refusal works without risking the host).
expect_rc 2 "apply --netns /proc/1/ns/net (the host)" "$SYSCTL" apply --netns /proc/1/ns/net "$pooled"
expect_rc 2 "apply --netns /proc/self/ns/net from the host" "$SYSCTL" apply --netns /proc/self/ns/net "$pooled"
expect_rc 2 "apply without --netns on the host" "$SYSCTL" apply "$pooled"
expect_rc 2 "apply --netns unknown" "$SYSCTL" apply --netns churnlab-no-such-ns "$pooled"
grep -q "no such network namespace" "$snap/err" || fail "unknown namespace message: $(cat "$snap/err")"
expect_rc 2 "check --netns unknown" "$SYSCTL" check --netns churnlab-no-such-ns
expect_rc 2 "show --netns unknown" "$SYSCTL" show --netns churnlab-no-such-ns
expect_rc 2 "check --profile missing" "$SYSCTL" check --profile sysctl/no-such.conf
printf '# why: row 3a; EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_fin_timeout = 10\n' > "$snap/bad.conf"
expect_rc 2 "lint of a profile with an unjustified never-key" "$SYSCTL" lint "$snap/bad.conf"
grep -q "bad.conf:3: net.ipv4.tcp_fin_timeout: never goes in a profile" "$snap/err" || fail "lint message: $(cat "$snap/err")"
expect_rc 2 "apply of a profile that fails lint" "$SYSCTL" apply --netns "$LAB_SRV" "$snap/bad.conf"
assert_eq "server tcp_tw_reuse after a refused profile" "$(ns_sysctl "$LAB_SRV" net.ipv4.tcp_tw_reuse)" 2
same_host "the refusals"

# ---- 5. PROFILE= in the lab ----
PROFILE=$legacy lab_restart
for ns in "$LAB_CLI" "$LAB_SRV"; do
  assert_eq "PROFILE: $ns tcp_tw_reuse" "$(ns_sysctl "$ns" net.ipv4.tcp_tw_reuse)" 1
  assert_eq "PROFILE: $ns ip_local_port_range" "$(ns_sysctl "$ns" net.ipv4.ip_local_port_range)" "1024 65535"
done
PROFILE=$legacy lab_record_sysctls "$LAB_TMP/sysctl.json"
assert_eq "sysctl.json profile" "$(json_get "$LAB_TMP/sysctl.json" profile)" "$legacy"
assert_eq "sysctl.json client tcp_tw_reuse" "$(json_get "$LAB_TMP/sysctl.json" client.net.ipv4.tcp_tw_reuse)" 1
assert_eq "sysctl.json server port range" "$(json_get "$LAB_TMP/sysctl.json" server.net.ipv4.ip_local_port_range.1)" 65535
lab_down
PROFILE=$snap/bad.conf lab_up 2> "$snap/lab.err" && fail "lab_up with a profile that fails lint succeeded"
grep -q "churn-sysctl apply --netns .* failed" "$snap/lab.err" || fail "lab_up did not say why: $(tail -c 300 "$snap/lab.err")"
note "ok lab_up fails loudly on a bad PROFILE"
lab_down
same_host "the lab runs"
rm -rf "$snap"
