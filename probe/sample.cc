#include "probe/sample.h"

#include <time.h>

#include <cstdio>

namespace churn::probe {

std::string wall_now() {
    timespec ts;
    // The one CLOCK_REALTIME read in the project: a timestamp for people and other logs. Intervals and
    // rates always use mono_ns.
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm utc;
    ::gmtime_r(&ts.tv_sec, &utc);
    char buf[40];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1'000'000);
    return buf;
}

nlohmann::ordered_json sample_header(const Host& h, uint64_t mono_ns) {
    nlohmann::ordered_json j;
    j["host"] = h.label();
    j["netns"] = h.netns().empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(h.netns());
    j["source"] = source_name(h.source());
    j["mono_ns"] = mono_ns;
    j["wall"] = wall_now();
    return j;
}

nlohmann::ordered_json counters_json(const Counters& c, const std::vector<std::string>& names) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (names.empty()) {
        for (const Counter& x : c.list) j[x.name] = x.value;
        return j;
    }
    std::map<std::string, int64_t> m = c.as_map();
    for (const std::string& n : names)
        if (auto it = m.find(n); it != m.end()) j[n] = it->second;
    return j;
}

}  // namespace churn::probe
