// states.cc: see states.h.
#include "probe/states.h"

#include <algorithm>
#include <cstdio>

namespace churn::probe {

nlohmann::ordered_json counts_json(const StateCounts& c) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (TcpState s : kReportOrder) {
        if (s == kClose && c[s] == 0) continue;
        j[std::string(state_name(s))] = c[s];
    }
    return j;
}

StateCounts counts_from_json(const nlohmann::json& j) {
    StateCounts c;
    if (!j.is_object()) return c;
    for (auto it = j.begin(); it != j.end(); ++it) {
        auto s = state_from_name(it.key());
        if (!s || !it->is_number_unsigned()) continue;
        c.by_state[*s] = it->get<uint64_t>();
        c.total += c.by_state[*s];
    }
    return c;
}

std::string counts_line(const StateCounts& c) {
    std::string out;
    for (TcpState s : kReportOrder)
        if (c[s]) out += (out.empty() ? "" : ", ") + std::string(state_name(s)) + " " + std::to_string(c[s]);
    return out.empty() ? "none" : out;
}

GroupBy parse_group_by(std::string_view text) {
    if (text == "state") return GroupBy::State;
    if (text == "lport" || text == "local-port") return GroupBy::LocalPort;
    if (text == "remote") return GroupBy::Remote;
    throw ProbeError("--by: must be state, lport or remote, not '" + std::string(text) + "'");
}

const char* group_by_name(GroupBy g) {
    switch (g) {
        case GroupBy::LocalPort: return "lport";
        case GroupBy::Remote: return "remote";
        default: return "state";
    }
}

std::string group_key(GroupBy g, const SockRecord& r) {
    switch (g) {
        case GroupBy::LocalPort: return std::to_string(r.sport);
        case GroupBy::Remote: return r.remote();
        default: return "";
    }
}

std::vector<std::pair<std::string, StateCounts>> Grouped::top(size_t n) const {
    std::vector<std::pair<std::string, StateCounts>> v(groups.begin(), groups.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.second.total != b.second.total ? a.second.total > b.second.total : a.first < b.first;
    });
    if (n && v.size() > n) v.resize(n);
    return v;
}

std::string grouped_text(const Grouped& g, size_t top) {
    std::vector<TcpState> cols;
    for (TcpState s : kReportOrder)
        if (g.all[s]) cols.push_back(s);
    std::vector<std::pair<std::string, StateCounts>> rows;
    if (g.by == GroupBy::State) rows.push_back({"all", g.all});
    else rows = g.top(top);

    size_t keyw = g.by == GroupBy::Remote ? 24 : 10;
    for (const auto& [k, c] : rows) keyw = std::max(keyw, k.size());
    std::string out;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(keyw), g.by == GroupBy::State ? "" : group_by_name(g.by));
    out += buf;
    for (TcpState s : cols) {
        std::snprintf(buf, sizeof buf, " %11s", std::string(state_name(s)).c_str());
        out += buf;
    }
    out += "       TOTAL\n";
    for (const auto& [k, c] : rows) {
        std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(keyw), k.c_str());
        out += buf;
        for (TcpState s : cols) {
            std::snprintf(buf, sizeof buf, " %11llu", static_cast<unsigned long long>(c[s]));
            out += buf;
        }
        std::snprintf(buf, sizeof buf, " %11llu\n", static_cast<unsigned long long>(c.total));
        out += buf;
    }
    if (g.by != GroupBy::State && top && g.groups.size() > top)
        out += "(" + std::to_string(g.groups.size() - top) + " more " + group_by_name(g.by) + " groups; --top 0 shows all)\n";
    return out;
}

}  // namespace churn::probe
