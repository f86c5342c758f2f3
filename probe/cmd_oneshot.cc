// cmd_oneshot.cc: the one-shot subcommands: states, info, nstat. Each opens one Host, asks once, prints.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "loop/clock.h"
#include "probe/commands.h"
#include "probe/sample.h"
#include "probe/tcp_info.h"

namespace churn::probe {
namespace {

nlohmann::json load_json_file(const std::string& path, const char* option) {
    std::ifstream in(path);
    if (!in) throw ProbeError(std::string(option) + ": cannot open '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    // A saved sample is one JSON object (nstat --json, states --json) or JSON lines from watch; for the
    // latter, the last line is the latest sample.
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error&) {
    }
    std::string line, last;
    std::istringstream lines(text);
    while (std::getline(lines, line))
        if (line.find('{') != std::string::npos) last = line;
    try {
        return nlohmann::json::parse(last);
    } catch (const nlohmann::json::parse_error&) {
        throw ProbeError(std::string(option) + ": '" + path + "' is not a churn-probe JSON sample");
    }
}

std::map<std::string, int64_t> counters_of(const nlohmann::json& j, const std::string& path, const char* option) {
    if (!j.contains("nstat") || !j["nstat"].is_object())
        throw ProbeError(std::string(option) + ": '" + path + "' has no \"nstat\" object (save one with churn-probe nstat --json)");
    std::map<std::string, int64_t> m;
    for (auto it = j["nstat"].begin(); it != j["nstat"].end(); ++it)
        if (it->is_number_integer()) m[it.key()] = it->get<int64_t>();
    return m;
}

bool name_selected(const std::vector<std::string>& patterns, const std::string& name) {
    if (patterns.empty()) return true;
    for (const std::string& p : patterns) {
        if (!p.empty() && p.back() == '*' ? name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0 : name == p) return true;
    }
    return false;
}

}  // namespace

uint32_t parse_state_list(const std::string& text) {
    uint32_t mask = 0;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item == "all") {
            mask |= kAllStates;
            continue;
        }
        auto s = state_from_name(item);
        if (!s) throw ProbeError("--state: unknown state '" + item + "' (ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, FIN-WAIT-2, "
                                 "TIME-WAIT, CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING, UNCONN, all)");
        mask |= state_bit(*s);
    }
    if (mask == 0) throw ProbeError("--state: empty list");
    return mask;
}

std::unique_ptr<Host> open_single_host(const CommonArgs& c) {
    if (c.netns.size() > 1) throw ProbeError("--netns: this subcommand probes one host (watch takes several)");
    HostSpec spec = c.netns.empty() ? HostSpec{"host", ""} : parse_host_spec(c.netns[0]);
    return std::make_unique<Host>(spec, c.host);
}

int run_states(const StatesArgs& a) {
    auto host = open_single_host(a.common);
    Grouped g;
    g.by = a.by;
    uint64_t t0 = mono_ns();
    host->each_socket(a.common.states, a.common.filter, 0, [&](const SockRecord& r, const DiagMessage*) { g.add(r); });
    uint64_t took = mono_ns() - t0;
    if (a.common.json) {
        nlohmann::ordered_json j = sample_header(*host, t0);
        j["filter"] = a.common.filter.describe();
        j["states"] = counts_json(g.all);
        j["total"] = g.all.total;
        if (a.by != GroupBy::State) {
            j["by"] = group_by_name(a.by);
            nlohmann::ordered_json groups = nlohmann::ordered_json::array();
            for (const auto& [key, c] : g.top(a.top))
                groups.push_back({{"key", key}, {"states", counts_json(c)}, {"total", c.total}});
            j["groups"] = groups;
            j["groups_total"] = g.groups.size();
        }
        if (host->source() == Source::Proc) j["malformed"] = host->proc_malformed();
        j["took_us"] = took / 1000;
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::cout << host->label() << ": " << g.all.total << " TCP sockets (" << source_name(host->source())
              << (a.common.filter.empty() ? "" : ", filter " + a.common.filter.describe()) << ")\n";
    std::cout << grouped_text(g, a.top);
    return 0;
}

int run_info(const InfoArgs& a) {
    auto host = open_single_host(a.common);
    std::vector<ConnInfo> conns;
    host->each_socket(a.common.states, a.common.filter, kExtInfo | kExtCong | kExtCcInfo,
                      [&](const SockRecord& r, const DiagMessage* m) {
                          if (m) conns.push_back(decode_conn(*m));
                          else conns.push_back(ConnInfo{r});
                      });
    if (a.common.json) {
        nlohmann::ordered_json j = sample_header(*host, mono_ns());
        j["filter"] = a.common.filter.describe();
        nlohmann::ordered_json arr = nlohmann::ordered_json::array();
        for (const ConnInfo& c : conns) arr.push_back(conn_json(c));
        j["conns"] = arr;
        std::cout << j.dump() << "\n";
        return 0;
    }
    for (const ConnInfo& c : conns) std::cout << conn_text(c);
    if (conns.empty()) std::cerr << "churn-probe: info: no connection matches (filter " << a.common.filter.describe() << ")\n";
    return 0;
}

int run_nstat(const NstatArgs& a) {
    if (!a.delta_a.empty()) {
        auto ja = load_json_file(a.delta_a, "--delta"), jb = load_json_file(a.delta_b, "--delta");
        auto ca = counters_of(ja, a.delta_a, "--delta"), cb = counters_of(jb, a.delta_b, "--delta");
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (const auto& [name, vb] : cb) {
            auto it = ca.find(name);
            if (it == ca.end() || is_gauge(name) || !name_selected(a.names, name)) continue;
            int64_t d = vb - it->second;
            if (d == 0 && !a.zeros) continue;
            out[name] = d;
        }
        if (a.common.json) {
            nlohmann::ordered_json j{{"from", a.delta_a}, {"to", a.delta_b}, {"delta", out}};
            if (ja.contains("mono_ns") && jb.contains("mono_ns") && ja["mono_ns"].is_number() && jb["mono_ns"].is_number())
                j["interval_s"] = (jb["mono_ns"].get<double>() - ja["mono_ns"].get<double>()) / 1e9;
            std::cout << j.dump() << "\n";
        } else {
            for (auto it = out.begin(); it != out.end(); ++it) std::printf("%-32s %lld\n", it.key().c_str(), (long long)it->get<int64_t>());
        }
        return 0;
    }
    auto host = open_single_host(a.common);
    uint64_t now = mono_ns();
    Counters c = host->counters();
    std::map<std::string, int64_t> base;
    if (!a.since.empty()) base = counters_of(load_json_file(a.since, "--since"), a.since, "--since");
    nlohmann::ordered_json vals = nlohmann::ordered_json::object();
    for (const Counter& x : c.list) {
        if (!name_selected(a.names, x.name)) continue;
        int64_t v = x.value;
        if (!a.since.empty()) {
            auto it = base.find(x.name);
            if (it == base.end() || is_gauge(x.name)) continue;
            v -= it->second;
        }
        if (v == 0 && !a.zeros && !a.common.json) continue;
        vals[x.name] = v;
    }
    if (a.common.json) {
        nlohmann::ordered_json j = sample_header(*host, now);
        j[a.since.empty() ? "nstat" : "delta"] = vals;
        if (c.malformed) j["malformed"] = c.malformed;
        std::cout << j.dump() << "\n";
        return 0;
    }
    for (auto it = vals.begin(); it != vals.end(); ++it)
        std::printf("%-32s %lld\n", it.key().c_str(), (long long)it->get<int64_t>());
    return 0;
}

}  // namespace churn::probe
