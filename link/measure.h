// measure.h: `churn-link measure`, traffic through the link from one process that holds a socket in
// each namespace, so both ends read the same CLOCK_MONOTONIC and one-way delays are exact.
//
//   namespace A                                   namespace B
//   ping  198.18.0.1:eph  ── probe seq,t ──>      echo  198.18.0.2:PORT    (sends each datagram back)
//         RTT = now - t   <── the same bytes ──
//   stream 198.18.0.1:eph ── seq,t, paced ──>     sink  198.18.0.2:PORT+1  (one-way delay, order, loss)
//
// Pings and the stream run at the same time on one reactor: "RTT under load" is pings while the stream
// flows. Results: a JSON object (`--json`) and the lost stream sequence numbers (`--drops`), which the
// link check compares between two runs with the same seed.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace churn {

struct MeasureOptions {
    std::string ns_a, ns_b;
    std::string addr_a = "198.18.0.1", addr_b = "198.18.0.2";
    uint16_t port = 9000;        // echo on PORT, sink on PORT+1, both in B
    uint64_t pings = 0;          // RTT probes, one every ping_interval_ms
    double ping_interval_ms = 5;
    uint64_t ping_size = 64;     // UDP payload bytes (>= 32, the probe header)
    uint64_t stream_count = 0;   // datagrams A->B
    double stream_mbit = 10;     // paced at this rate, counting IP bytes (payload + 28)
    uint64_t stream_size = 1472; // UDP payload bytes: 1500-byte IP packets
    double settle_ms = 1000;     // after the last send, wait this long for late packets
    int rt_priority = 5;         // SCHED_FIFO, below churn-link's default 10; 0 = normal scheduling
    std::string json_path, drops_path;
};

// Nearest-rank percentile of `v` (sorted in place); 0 for an empty vector.
double percentile(std::vector<double>& v, double p);

int parse_measure_cli(int argc, const char* const* argv, MeasureOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace churn
