#!/usr/bin/env bash
# t_incident: a short make run-incident (lab/incident.sh, 1000-port range, 6 s per run) against
# churn-server, and the who-closes-first lesson with real clients:
#   oneshot  Python http.client, a new connection per request, closed by the client: EADDRNOTAVAIL
#            (errno 99) counted by the client, at most one request per port, the TIME-WAIT on the client
#            host (the whole range) and none on the server host;
#   triage   run while that incident is live: churn-probe triage names this host's TIME-WAIT as a
#            client's and 198.18.0.2:8080 as its destination; the plain ss/nstat transcript counts the
#            same endpoint; both carry their wall time;
#   urlopen  urllib (Connection: close): no error at all, more requests than there are ports, and the
#            TIME-WAIT lands on the server host (TcpExtTW there for nearly every request), with next to
#            none on the client;
#   keep     the fix, one http.client connection kept: no error, a few TcpActiveOpens for all its
#            requests, no TIME-WAIT to speak of; the checklist says fixed (and not fixed for oneshot).
# Counts only, no speed: a slow host makes fewer requests, the properties stay.
source "$(dirname "$0")/lib.sh"
need_root
need_bins
command -v python3 >/dev/null || skip "python3 missing (make deps-incident)"
[ -x "$BIN/churn-probe" ] && [ -x "$BIN/churn-report" ] || fail "churn-probe/churn-report not built (make build)"

out=$(mktemp -d "/tmp/churnlab-${RUNID:-x}-XXXXXX")
trap 'rm -rf "$out"' EXIT
PORTS=1000
INCIDENT_OUT=$out INCIDENT_RUNS="oneshot-churn-server urlopen-churn-server keep-churn-server" INCIDENT_D=6 \
  INCIDENT_N=100000 PORT_RANGE="20000 20999" BIN=$BIN lab/incident.sh > "$out/incident.log" 2>&1 ||
  fail "lab/incident.sh failed: $(tail -c 600 "$out/incident.log")"
sed 's/^/  /' "$out/checklist.txt" >&2

# errors FILE: the client's error names with their counts ("EADDRNOTAVAIL=12 ..."), or "none".
errors() { local e; e=$(json_children "$1" errors | while read -r k; do printf '%s=%s ' "$k" "$(json_get "$1" "errors.$k")"; done)
  echo "${e:-none}" | sed 's/ $//'; }

# ---- the incident: http.client, a new connection per request ----
o=$out/oneshot-churn-server.json
assert_gt "oneshot: EADDRNOTAVAIL counted by the client" "$(json_num "$o" errors.EADDRNOTAVAIL 0)" 0
assert_gt "oneshot: the same by errno 99" "$(json_num "$o" errors_by_errno.99 0)" 0
assert_le "oneshot: requests (one per port at most, ports never came back)" "$(json_get "$o" requests)" $PORTS
assert_eq "oneshot: TIME-WAIT peak on the client host: the whole range" "$(json_get "$o" time_wait_peak.client)" $PORTS
assert_eq "oneshot: TIME-WAIT peak on the server host" "$(json_get "$o" time_wait_peak.server)" 0
need_num "oneshot: time to the first error" "$(json_get "$o" time_to_first_error_s)"

# ---- the triage, while it was live ----
t=$out/triage.churn-probe.txt
grep -q "this host closes first, as a client" "$t" || fail "churn-probe triage does not name the client's TIME-WAIT: $(head -c 600 "$t")"
grep -Eq "^ +198\.18\.0\.2:8080 +$PORTS " "$t" || fail "churn-probe triage does not name the destination 198.18.0.2:8080 with $PORTS: $(head -c 800 "$t")"
grep -q "^# wall time: [0-9.]* s" "$t" || fail "churn-probe transcript has no wall time"
note "ok churn-probe triage: client-side TIME-WAIT, $PORTS to 198.18.0.2:8080"
s=$out/triage.ss-nstat.txt
grep -Eq "^ +$PORTS 198\.18\.0\.2:8080$" "$s" || fail "ss transcript does not count $PORTS TIME-WAIT to 198.18.0.2:8080: $(head -c 800 "$s")"
grep -q "timewait $PORTS)" "$s" || fail "ss -s in the transcript does not show timewait $PORTS"
grep -q "^# wall time: [0-9.]* s" "$s" || fail "ss/nstat transcript has no wall time"
note "ok ss/nstat transcript: $PORTS TIME-WAIT to 198.18.0.2:8080"
j=$out/triage.json
assert_eq "triage --json: closes first as" "$(json_get "$j" time_wait.closes_first_as)" client
assert_eq "triage --json: busiest endpoint" "$(json_get "$j" time_wait.top_remote.0.remote)" 198.18.0.2:8080

# ---- urllib: Connection: close, the server closes first ----
u=$out/urlopen-churn-server.json
assert_eq "urlopen: errors" "$(errors "$u")" none
req=$(json_get "$u" requests)
assert_gt "urlopen: requests, more than the ports (ports came back at once)" "$req" $PORTS
# Where the TIME-WAIT lands, per connection (TcpExtTW on each host): nearly every one on the server.
# The client's few come from a race, its close() landing before the server's FIN.
assert_ge "urlopen: TcpExtTW on the server host, share of the requests" \
  "$(awk -v a="$(json_get "$u" time_wait_entered.server)" -v r="$req" 'BEGIN { printf "%.3f", a / r }')" 0.9
assert_le "urlopen: TcpExtTW on the client host, share of the requests" \
  "$(awk -v a="$(json_get "$u" time_wait_entered.client)" -v r="$req" 'BEGIN { printf "%.3f", a / r }')" 0.1
# The peak the server holds is capped by 4-tuples (a new SYN takes over a TIME-WAIT socket of the same
# 4-tuple) and connect() hands out one parity of the range first: about half the ports.
assert_ge "urlopen: TIME-WAIT peak on the server host" "$(json_get "$u" time_wait_peak.server)" $((PORTS / 4))
assert_le "urlopen: TIME-WAIT peak on the client host, never near the range" "$(json_get "$u" time_wait_peak.client)" $((PORTS / 2))

# ---- the fix: the same library, one connection kept ----
k=$out/keep-churn-server.json
assert_eq "keep: errors" "$(errors "$k")" none
opens=$(json_get "$k" tcp_active_opens)
assert_between "keep: TcpActiveOpens, the connections, not the requests" "$opens" 1 2
assert_gt "keep: requests" "$(json_get "$k" requests)" $((100 * opens))
assert_le "keep: TIME-WAIT peak on the client host" "$(json_get "$k" time_wait_peak.client)" 1
assert_eq "checklist: keep" "$(json_get "$k" fixed)" true
assert_eq "checklist: oneshot" "$(json_get "$o" fixed)" false
grep -q "^keep-churn-server .* fixed$" "$out/checklist.txt" || fail "checklist.txt does not say keep-churn-server is fixed"
