// stats.h: everything a churn-client run measures, and its JSON.
//
// Latency is counted from each request's INTENDED send time (open loop: t0 + k/rate), not from when a
// connection finally got to send it. A server that stalls, or a connect() that fails and is retried,
// therefore shows in the percentiles instead of being quietly omitted ("coordinated omission").
// A request that never completes is recorded at its age when it was given up (failed, or still waiting
// when the run ended), so latency_us is a lower bound on what the users behind it saw.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/histogram.h"

namespace churn {

enum class ProtoError { Timeout, BadResponse, ClosedEarly, Status4xx5xx, count };
const char* proto_error_name(ProtoError e);

struct Stats {
    Histogram latency;   // intended send → response complete (or given up)
    Histogram connect;   // connect() call → handshake complete (churn, and pool (re)connects)
    Histogram request;   // request written → response complete, on an established connection
    uint64_t ok = 0, failed = 0, unfinished = 0, scheduled = 0;
    uint64_t handshakes = 0;  // connections established
    // Response body bytes of the requests counted in `ok`: with -n 1 and a large server --size, the
    // download's throughput is body_bytes / request_us (request written -> last body byte read).
    uint64_t body_bytes = 0;
    uint64_t closes_by_server = 0;
    std::map<int, uint64_t> errors;  // errno → count
    uint64_t proto[static_cast<int>(ProtoError::count)] = {};
    std::map<int, double> first_error_s;  // errno → seconds since the load started

    // --source: per local address, connections established and connect errors by errno, so a reader
    // sees every address was used and which one ran out first. Empty without --source.
    struct Source {
        std::string addr;
        uint64_t connects = 0;
        std::map<int, uint64_t> errors;
    };
    std::vector<Source> sources;

    struct Second {
        uint64_t t = 0;
        uint64_t requests = 0, connects = 0, failed = 0;
        std::map<int, uint64_t> errors;
        uint64_t p99_us = 0;
    };
    std::vector<Second> timeline;
    Second now_sec;       // the second being filled
    Histogram sec_latency;

    void record_ok(uint64_t latency_us, uint64_t request_us, uint64_t body = 0);
    void record_given_up(uint64_t age_us, bool unfinished);
    void record_handshake(uint64_t connect_us, int source = -1);  // source: index into `sources`, -1 = none
    void record_errno(int err, double since_start_s, int source = -1);
    void record_proto(ProtoError e);
    void close_second(uint64_t t);  // push now_sec into the timeline, start the next
    void reset();                   // warmup over: forget everything measured so far

    uint64_t total_errors() const;
};

// The run as churn-client --json writes it (keys documented in README.md).
struct RunInfo {
    std::string mode, target;
    double rate, duration_s, elapsed_s;
    int connections;
    int ports_in_range;
    bool linger0 = false;
    int mss = 0;  // --mss, 0 = not set (JSON null)
    // How the requests were written (client/pieces.h): --pattern, --write, --nodelay, --quickack.
    std::string pattern = "single", write = "single";
    bool nodelay = true, quickack = false, smart_connect = true;
    bool close_server = false;  // --close server: the requests said "Connection: close"
    uint32_t pipeline = 1, head = 0, body = 0;
    std::string trace_path;  // --trace, "" = none (JSON null)
    uint64_t trace_lines = 0;
    std::map<std::string, std::string> sysctl;
    // The reactor's own syscalls over the whole run (warmup included), for `make bench`'s syscalls per
    // request: /proc/PID/io counts reads and writes but neither of these.
    uint64_t epoll_waits = 0, epoll_ctls = 0;
};
nlohmann::json stats_json(const Stats& s, const RunInfo& info);

}  // namespace churn
