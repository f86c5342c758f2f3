// probe_run.cc: summarize churn-probe watch output; see probe_run.h.
#include "report/probe_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/results.h"

namespace churn::report {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::map<std::string, long> long_map(const json& obj) {
    std::map<std::string, long> m;
    if (!obj.is_object()) return m;
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (it->is_number_integer()) m[it.key()] = it->get<long>();
    return m;
}

ojson to_json(const std::map<std::string, long>& m) {
    ojson j = ojson::object();
    for (const auto& [k, v] : m) j[k] = v;
    return j;
}

}  // namespace

double ProbeRun::busy_fraction() const {
    auto c = hosts.find("client");
    return c == hosts.end() || c->second.duration_s <= 0 ? 0 : busy_s / c->second.duration_s;
}

long ProbeHost::delta(const std::string& counter) const {
    auto f = nstat_first.find(counter), l = nstat_last.find(counter);
    return f == nstat_first.end() || l == nstat_last.end() ? 0 : l->second - f->second;
}

ProbeRun parse_probe_jsonl(const std::string& text, const std::string& name) {
    ProbeRun run;
    std::istringstream in(text);
    std::string line;
    // One tick = the lines sharing a seq; the CSV gets one row per tick that has the client's sample.
    std::map<long, TwSample> ticks;
    std::map<std::string, double> first_t;
    std::vector<double> client_t;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json j;
        try {
            j = json::parse(line);
        } catch (const json::parse_error&) {
            ++run.malformed;  // the watcher killed mid-line
            continue;
        }
        if (!j.is_object() || !j.contains("host") || !j["host"].is_string() || !j.contains("states") || !j.contains("t")) {
            ++run.malformed;
            continue;
        }
        std::string host = j["host"].get<std::string>();
        ProbeHost& h = run.hosts[host];
        if (j.contains("netns") && j["netns"].is_string()) h.netns = j["netns"].get<std::string>();
        double t = j["t"].is_number() ? j["t"].get<double>() : 0;
        if (h.samples == 0) first_t[host] = t;
        h.duration_s = t - first_t[host];
        std::map<std::string, long> st = long_map(j["states"]);
        for (const auto& [k, v] : st) h.states_peak[k] = std::max(h.states_peak[k], v);
        h.states_final = st;
        if (j.contains("nstat")) {
            std::map<std::string, long> c = long_map(j["nstat"]);
            if (h.samples == 0) h.nstat_first = c;
            h.nstat_last = std::move(c);
        }
        if (j.contains("sample_us") && j["sample_us"].is_number())
            run.max_sample_us = std::max(run.max_sample_us, j["sample_us"].get<long>());
        if (j.contains("sample_cpu_us") && j["sample_cpu_us"].is_number()) run.busy_s += j["sample_cpu_us"].get<double>() / 1e6;
        ++h.samples;
        long seq = j.contains("seq") && j["seq"].is_number() ? j["seq"].get<long>() : static_cast<long>(ticks.size());
        long tw = st.count("TIME-WAIT") ? st["TIME-WAIT"] : 0;
        TwSample& s = ticks[seq];
        if (host == "client") {
            s.t_s = t;
            s.client_tw = tw;
            client_t.push_back(t);
        } else if (host == "server") {
            s.server_tw = tw;
        }
    }
    if (run.hosts.empty()) throw ReportError(name + ": no churn-probe watch samples in it");
    if (!run.hosts.count("client")) throw ReportError(name + ": no samples of host \"client\" (watch --netns client=NS)");
    for (const auto& [seq, s] : ticks) run.tw.samples.push_back(s);
    std::vector<double> gaps;
    for (size_t i = 1; i < client_t.size(); ++i) gaps.push_back(client_t[i] - client_t[i - 1]);
    if (!gaps.empty()) {
        std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
        run.interval_ms = gaps[gaps.size() / 2] * 1000;
    }
    return run;
}

std::string tw_csv_text(const TwSeries& s) {
    std::string out = "t_s,client_tw,server_tw\n";
    char buf[96];
    for (const TwSample& x : s.samples) {
        std::snprintf(buf, sizeof buf, "%.3f,%ld,%ld\n", x.t_s, x.client_tw, x.server_tw);
        out += buf;
    }
    return out;
}

std::string probe_summary_json(const ProbeRun& run, const std::string& crosscheck_json) {
    ojson j;
    j["source"] = "churn-probe watch (sock_diag + /proc/net/{snmp,netstat})";
    j["interval_ms"] = std::round(run.interval_ms * 10) / 10;
    j["max_sample_us"] = run.max_sample_us;
    // CPU time spent sampling over the run, as a share of one CPU: the watcher's cost (mostly the
    // kernel's dump), which on a 2-CPU machine is taken from the run it watches.
    j["busy_fraction"] = std::round(run.busy_fraction() * 1000) / 1000;
    j["malformed_lines"] = run.malformed;
    ojson hosts = ojson::object();
    for (const auto& [name, h] : run.hosts) {
        ojson delta = ojson::object();
        for (const auto& [k, v] : h.nstat_last) delta[k] = h.delta(k);
        hosts[name] = {{"netns", h.netns},
                       {"samples", h.samples},
                       {"duration_s", std::round(h.duration_s * 1000) / 1000},
                       {"states_peak", to_json(h.states_peak)},
                       {"states_final", to_json(h.states_final)},
                       {"nstat_first", to_json(h.nstat_first)},
                       {"nstat_last", to_json(h.nstat_last)},
                       {"nstat_delta", delta}};
    }
    j["hosts"] = hosts;
    if (!crosscheck_json.empty()) {
        try {
            j["crosscheck"] = ojson::parse(crosscheck_json);
        } catch (const ojson::parse_error&) {
            throw ReportError("crosscheck: malformed JSON");
        }
    }
    return j.dump(2) + "\n";
}

ProbeSummary parse_probe_summary(const std::string& text, const std::string& name) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error&) {
        throw ReportError(name + ": malformed JSON");
    }
    ProbeSummary s;
    if (!j.is_object() || !j.contains("hosts") || !j["hosts"].contains("client"))
        throw ReportError(name + ": missing 'hosts.client'");
    const json& c = j["hosts"]["client"];
    s.present = true;
    if (c.contains("nstat_delta") && c["nstat_delta"].contains("TcpActiveOpens") && c["nstat_delta"]["TcpActiveOpens"].is_number())
        s.client_active_opens = c["nstat_delta"]["TcpActiveOpens"].get<long>();
    else
        throw ReportError(name + ": missing 'hosts.client.nstat_delta.TcpActiveOpens'");
    if (c.contains("duration_s") && c["duration_s"].is_number()) s.duration_s = c["duration_s"].get<double>();
    if (j.contains("interval_ms") && j["interval_ms"].is_number()) s.interval_ms = j["interval_ms"].get<double>();
    if (j.contains("max_sample_us") && j["max_sample_us"].is_number()) s.max_sample_us = j["max_sample_us"].get<long>();
    if (j.contains("busy_fraction") && j["busy_fraction"].is_number()) s.busy_fraction = j["busy_fraction"].get<double>();
    if (j.contains("crosscheck") && j["crosscheck"].is_array())
        for (const json& x : j["crosscheck"]) {
            ++s.crosschecks;
            if (x.contains("ok") && x["ok"].is_boolean() && !x["ok"].get<bool>()) s.crosscheck_ok = false;
        }
    return s;
}

void derive_probe_files(const std::string& dir, const std::string& scenario) {
    std::string base = dir + "/" + scenario;
    ProbeRun run = parse_probe_jsonl(read_text(base + ".probe.jsonl"), base + ".probe.jsonl");
    std::string cross = file_exists(base + ".crosscheck.json") ? read_text(base + ".crosscheck.json") : "";
    write_text(base + ".tw.csv", tw_csv_text(run.tw));
    write_text(base + ".probe.json", probe_summary_json(run, cross));
}

}  // namespace churn::report
