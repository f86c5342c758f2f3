#include "client/stats.h"

#include "loop/sys.h"

namespace churn {

const char* proto_error_name(ProtoError e) {
    switch (e) {
        case ProtoError::Timeout: return "timeout";
        case ProtoError::BadResponse: return "bad_response";
        case ProtoError::ClosedEarly: return "closed_before_response";
        case ProtoError::Status4xx5xx: return "http_status_4xx_5xx";
        case ProtoError::count: break;
    }
    return "?";
}

void Stats::record_ok(uint64_t latency_us, uint64_t request_us, uint64_t body) {
    ++ok;
    body_bytes += body;
    ++now_sec.requests;
    latency.record(latency_us);
    request.record(request_us);
    sec_latency.record(latency_us);
}

void Stats::record_given_up(uint64_t age_us, bool is_unfinished) {
    (is_unfinished ? unfinished : failed)++;
    if (!is_unfinished) ++now_sec.failed;
    latency.record(age_us);
    sec_latency.record(age_us);
}

void Stats::record_handshake(uint64_t connect_us, int source) {
    ++handshakes;
    if (source >= 0) ++sources[static_cast<size_t>(source)].connects;
    ++now_sec.connects;
    connect.record(connect_us);
}

void Stats::record_errno(int err, double since_start_s, int source) {
    ++errors[err];
    if (source >= 0) ++sources[static_cast<size_t>(source)].errors[err];
    ++now_sec.errors[err];
    first_error_s.emplace(err, since_start_s);  // keeps the first
}

void Stats::record_proto(ProtoError e) { ++proto[static_cast<int>(e)]; }

void Stats::close_second(uint64_t t) {
    now_sec.t = t;
    now_sec.p99_us = sec_latency.percentile(99);
    timeline.push_back(std::move(now_sec));
    now_sec = Second{};
    sec_latency.reset();
}

void Stats::reset() {
    auto first = std::move(first_error_s);  // the first EADDRNOTAVAIL may come during warmup; keep it
    auto src = std::move(sources);
    *this = Stats{};
    first_error_s = std::move(first);
    for (Source& x : src) sources.push_back({x.addr, 0, {}});  // the addresses stay, their counts restart
}

uint64_t Stats::total_errors() const {
    uint64_t n = 0;
    for (auto& [e, c] : errors) n += c;
    for (uint64_t c : proto) n += c;
    return n;
}

static nlohmann::json errno_map(const std::map<int, uint64_t>& m) {
    nlohmann::json j = nlohmann::json::object();
    for (auto& [e, c] : m) j[errno_name(e)] = c;
    return j;
}

nlohmann::json stats_json(const Stats& s, const RunInfo& info) {
    nlohmann::json j;
    j["tool"] = "churn-client";
    j["mode"] = info.mode;
    j["target"] = info.target;
    j["rate"] = info.rate;
    j["duration_s"] = info.duration_s;
    j["elapsed_s"] = info.elapsed_s;
    j["connections"] = info.connections;
    j["linger0"] = info.linger0;
    j["mss"] = info.mss ? nlohmann::json(info.mss) : nlohmann::json(nullptr);
    j["pattern"] = info.pattern;
    j["write"] = info.write;
    j["nodelay"] = info.nodelay;
    j["quickack"] = info.quickack;
    j["smart_connect"] = info.smart_connect;
    j["close_first"] = info.close_server ? "server" : "client";
    j["pipeline"] = info.pipeline;
    // With --trace the sizes are per line, so there is no single head or body to report.
    j["head"] = info.trace_path.empty() ? nlohmann::json(info.head) : nlohmann::json(nullptr);
    j["body"] = info.trace_path.empty() ? nlohmann::json(info.body) : nlohmann::json(nullptr);
    j["trace"] = info.trace_path.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json{{"path", info.trace_path}, {"lines", info.trace_lines}};
    nlohmann::json src = nlohmann::json::array();
    for (const Stats::Source& x : s.sources)
        src.push_back({{"addr", x.addr}, {"connects", x.connects}, {"errors", errno_map(x.errors)}});
    j["sources"] = src;
    j["requests_scheduled"] = s.scheduled;
    j["requests_ok"] = s.ok;
    j["requests_failed"] = s.failed;
    j["requests_unfinished"] = s.unfinished;
    j["rps"] = info.elapsed_s > 0 ? s.ok / info.elapsed_s : 0.0;
    j["latency_us"] = s.latency.summary_json();
    j["connect_us"] = s.connect.summary_json();
    j["request_us"] = s.request.summary_json();
    j["body_bytes"] = s.body_bytes;
    j["handshakes"] = s.handshakes;
    j["handshakes_per_s"] = info.elapsed_s > 0 ? s.handshakes / info.elapsed_s : 0.0;
    j["requests_per_connection"] = s.handshakes ? static_cast<double>(s.ok) / s.handshakes : 0.0;
    j["closes_by_server"] = s.closes_by_server;
    j["epoll_waits"] = info.epoll_waits;
    j["epoll_ctls"] = info.epoll_ctls;
    j["errors"] = errno_map(s.errors);
    nlohmann::json proto = nlohmann::json::object();
    for (int i = 0; i < static_cast<int>(ProtoError::count); ++i)
        if (s.proto[i]) proto[proto_error_name(static_cast<ProtoError>(i))] = s.proto[i];
    j["protocol_errors"] = proto;
    nlohmann::json first = nlohmann::json::object();
    for (auto& [e, t] : s.first_error_s) first[errno_name(e)] = t;
    j["first_error_s"] = first;
    j["ports_in_range"] = info.ports_in_range;
    j["sysctl"] = info.sysctl;
    nlohmann::json tl = nlohmann::json::array();
    for (const auto& sec : s.timeline)
        tl.push_back({{"t", sec.t},
                      {"requests", sec.requests},
                      {"connects", sec.connects},
                      {"failed", sec.failed},
                      {"errors", errno_map(sec.errors)},
                      {"p99_us", sec.p99_us}});
    j["timeline"] = tl;
    return j;
}

}  // namespace churn
