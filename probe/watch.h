// watch.h: states and counters of one or more hosts as a time series, on the project's reactor.
//
//   timerfd (every --interval, fixed rate)  ->  sample every host: one sock_diag dump + /proc/net reads
//   signalfd (SIGINT, SIGTERM)              ->  one last sample, then stop
//   --duration / --count                    ->  stop
//
// One JSON object per host per sample, one per line (JSON lines), written as soon as it is taken so a
// killed watcher loses at most its last line:
//   {"seq": 12, "t": 1.2, "mono_ns": ..., "wall": "...Z", "host": "client", "netns": "churnlab-..-cli",
//    "source": "netlink", "states": {"ESTAB": 32, "TIME-WAIT": 28232, ...}, "total": 28264,
//    "nstat": {"TcpActiveOpens": 28264, ...}, "sample_us": 850, "sample_cpu_us": 800 [, "conns": [...]]}
// sample_us is the wall time the sample took, sample_cpu_us the CPU time (user + system) it cost.
// t is seconds since the first sample (CLOCK_MONOTONIC); seq numbers the ticks, so the lines of both
// hosts taken in the same tick share it.
//
// A sample blocks the loop for the dump (about a millisecond per 10 000 sockets): the reactor is here
// for its clock and its clean stop, not for concurrency.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/commands.h"
#include "probe/host.h"

namespace churn::probe {

struct WatchLine {
    nlohmann::ordered_json json;
    StateCounts counts;
    std::map<std::string, int64_t> counters;
};

// One sample of one host (exposed for tests and for the live line).
WatchLine sample_host(Host& h, const WatchArgs& a, uint64_t seq, uint64_t start_ns);

// "client ESTAB 32 TIME-WAIT 28232 opens/s 560 | server ..." for the terminal.
std::string live_line(double t, const std::vector<std::pair<std::string, WatchLine>>& last,
                      const std::vector<std::pair<std::string, WatchLine>>& prev, double dt);

}  // namespace churn::probe
