#!/usr/bin/env bash
# levers-loss.sh DIR BYTES: run-levers row 6's data-loss case, in a lab of its own.
#
#   client host: churn-client --mode bulk --bytes BYTES --linger0   writes BYTES, then close() with
#                SO_LINGER {1, 0}: the kernel sends RST and throws away what it still holds
#   server host: churn-server --discard                              reads and counts every byte
#
# A 100 Mbit/s bottleneck (tbf on the client's veth egress; this kernel has no netem): on the bare veth the
# whole transfer fits the receiver's autotuned buffer and is acknowledged within the write()s, so nothing is
# left to lose at close() (measured by t_client_linger0). Data dies with an RST only when the path or the
# reader is slower than the writer, which is the usual case on a real network.
# Writes DIR/loss.client.json (bytes_written, unsent_at_close: SIOCOUTQ just before the close) and
# DIR/loss.server.json (bytes_discarded: what arrived; close_reset: the RST). What the client's write()
# accepted minus what the server read is what the RST destroyed, counted on both sides.
# Bounded: the client by -d, the server by --duration; the lab's trap tears down on INT/TERM.
set -u -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
source lab/netns.sh
die() { echo "levers-loss: $*" >&2; exit 1; }
[ $# -eq 2 ] || { echo "usage: lab/levers-loss.sh DIR BYTES" >&2; exit 2; }
dir=$1 bytes=$2 PORT=${PORT:-8080} BIN=${BIN:-build/bin}
mkdir -p "$dir" || die "cannot create $dir"

lab_up || die "lab setup failed"
tc -n "$LAB_CLI" qdisc add dev "cl${RUNID}c" root tbf rate 100mbit burst 32kb latency 100ms ||
  die "tc qdisc add tbf on the client's veth failed"
ip netns exec "$LAB_SRV" "$BIN/churn-server" --listen "$LAB_SRV_IP:$PORT" --discard --duration 60 \
  --json "$dir/loss.server.json" > "$dir/loss.server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q "listening on" "$dir/loss.server.log" 2>/dev/null && break; sleep 0.05; done
grep -q "listening on" "$dir/loss.server.log" || die "churn-server did not start: $(head -c 300 "$dir/loss.server.log")"
ip netns exec "$LAB_CLI" "$BIN/churn-client" --mode bulk --bytes "$bytes" --linger0 -d 3 \
  --json "$dir/loss.client.json" "http://$LAB_SRV_IP:$PORT/" > "$dir/loss.client.log" 2>&1 &
wait $! || echo "levers-loss: note: churn-client exited with status $? (an RST may be its answer)" >&2
[ -s "$dir/loss.client.json" ] || die "churn-client wrote no JSON: $(tail -c 300 "$dir/loss.client.log")"
# Let the server read what is left and see the RST before it stops and writes its counts.
sleep 1
kill -TERM $srv 2>/dev/null
wait $srv 2>/dev/null
[ -s "$dir/loss.server.json" ] || die "churn-server wrote no JSON: $(tail -c 300 "$dir/loss.server.log")"
lab_down
cat "$dir/loss.client.log"
