// diff.cc: load samples and runs, put them side by side; see diff.h.
#include "probe/diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "probe/commands.h"
#include "probe/netstat.h"

namespace churn::probe {
namespace {

using J = nlohmann::ordered_json;

void add_sample(RunFile& f, const nlohmann::json& j) {
    std::string host = j.contains("host") && j["host"].is_string() ? j["host"].get<std::string>() : "host";
    auto it = std::find_if(f.hosts.begin(), f.hosts.end(), [&](const HostRun& h) { return h.host == host; });
    if (it == f.hosts.end()) {
        f.hosts.push_back(HostRun{});
        it = f.hosts.end() - 1;
        it->host = host;
    }
    HostRun& h = *it;
    double t = j.contains("mono_ns") && j["mono_ns"].is_number() ? j["mono_ns"].get<double>() / 1e9 : 0;
    if (h.samples == 0) h.t_first = t;
    h.duration_s = t - h.t_first;
    if (j.contains("states") && j["states"].is_object()) {
        StateCounts c = counts_from_json(j["states"]);
        if (!h.has_states) h.first = c;
        h.last = c;
        for (size_t s = 0; s < c.by_state.size(); ++s) h.peak.by_state[s] = std::max(h.peak.by_state[s], c.by_state[s]);
        h.peak.total = std::max(h.peak.total, c.total);
        h.has_states = true;
    }
    if (j.contains("nstat") && j["nstat"].is_object()) {
        std::map<std::string, int64_t> m;
        for (auto c = j["nstat"].begin(); c != j["nstat"].end(); ++c)
            if (c->is_number_integer()) m[c.key()] = c->get<int64_t>();
        if (!h.has_nstat) h.nstat_first = m;
        h.nstat_last = std::move(m);
        h.has_nstat = true;
    }
    ++h.samples;
}

// Changed enough to mention: by 10 % of the larger value and by more than 10 in absolute terms.
bool notable(double a, double b) {
    double d = std::fabs(b - a);
    return d > 10 && d >= 0.1 * std::max(std::fabs(a), std::fabs(b));
}

std::string num(double x) {
    char b[32];
    if (std::fabs(x - std::round(x)) < 1e-9 || std::fabs(x) >= 100) std::snprintf(b, sizeof b, "%.0f", x);
    else std::snprintf(b, sizeof b, "%.2f", x);
    return b;
}

std::string change(double a, double b) {
    std::string s = num(a) + " -> " + num(b);
    if (a != 0) {
        char p[32];
        std::snprintf(p, sizeof p, " (%+.0f%%)", (b - a) / std::fabs(a) * 100);
        s += p;
    }
    return s;
}

// Counters worth a row: the churn set first, then any other that moved on either side.
std::vector<std::string> counter_rows(const HostRun& a, const HostRun& b, bool runs) {
    std::vector<std::string> rows;
    std::set<std::string> seen;
    auto moved = [&](const std::string& n) {
        if (is_gauge(n)) return false;
        auto d = [&](const HostRun& h) {
            auto f = h.nstat_first.find(n), l = h.nstat_last.find(n);
            return f == h.nstat_first.end() || l == h.nstat_last.end() ? 0 : l->second - f->second;
        };
        if (runs) return d(a) != 0 || d(b) != 0;
        auto x = a.nstat_last.find(n), y = b.nstat_last.find(n);
        return x != a.nstat_last.end() && y != b.nstat_last.end() && x->second != y->second;
    };
    for (const std::string& n : churn_counters())
        if (moved(n) && seen.insert(n).second) rows.push_back(n);
    for (const auto& [n, v] : b.nstat_last)
        if (moved(n) && seen.insert(n).second) rows.push_back(n);
    return rows;
}

int64_t get(const std::map<std::string, int64_t>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
}

}  // namespace

bool RunFile::is_run() const {
    for (const HostRun& h : hosts)
        if (h.samples > 1) return true;
    return false;
}

RunFile parse_run(std::string_view text, const std::string& path) {
    RunFile f;
    f.path = path;
    // One pretty-printed object (several lines) or JSON lines: try the whole text first.
    try {
        nlohmann::json j = nlohmann::json::parse(text);
        if (j.is_object()) add_sample(f, j);
    } catch (const nlohmann::json::parse_error&) {
        std::istringstream in{std::string(text)};
        std::string line;
        while (std::getline(in, line)) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            try {
                nlohmann::json j = nlohmann::json::parse(line);
                if (j.is_object()) add_sample(f, j);
                else ++f.malformed;
            } catch (const nlohmann::json::parse_error&) {
                ++f.malformed;  // a watcher killed mid-line leaves a torn last line
            }
        }
    }
    if (f.hosts.empty()) throw ProbeError(path + ": no churn-probe samples in it (states, nstat, triage --json or watch output)");
    return f;
}

RunFile load_run(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ProbeError(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_run(ss.str(), path);
}

Diff diff_runs(const RunFile& a, const RunFile& b) {
    bool runs = a.is_run() || b.is_run();
    Diff d;
    auto describe = [](const RunFile& f) {
        std::string s = f.path + " (";
        for (size_t i = 0; i < f.hosts.size(); ++i)
            s += (i ? "; " : "") + f.hosts[i].host + ": " + std::to_string(f.hosts[i].samples) + " sample" +
                 (f.hosts[i].samples == 1 ? "" : "s") + (f.hosts[i].samples > 1 ? " over " + num(f.hosts[i].duration_s) + " s" : "");
        return s + ")";
    };
    d.text = "A: " + describe(a) + "\nB: " + describe(b) + "\n";
    d.json["a"] = a.path;
    d.json["b"] = b.path;
    d.json["kind"] = runs ? "runs" : "samples";
    J pairs = J::array();
    std::vector<std::string> changes;

    // Pair hosts: by label, or the only host of each side with the only host of the other.
    std::vector<std::pair<const HostRun*, const HostRun*>> matched;
    if (a.hosts.size() == 1 && b.hosts.size() == 1) {
        matched.push_back({&a.hosts[0], &b.hosts[0]});
    } else {
        for (const HostRun& x : a.hosts)
            for (const HostRun& y : b.hosts)
                if (x.host == y.host) matched.push_back({&x, &y});
    }
    if (matched.empty()) throw ProbeError("diff: no host in common between " + a.path + " and " + b.path);

    char line[160];
    for (auto [x, y] : matched) {
        std::string label = x->host == y->host ? x->host : x->host + " / " + y->host;
        d.text += "\n" + label + "\n";
        J pj;
        pj["host"] = label;
        J st = J::object();
        if (x->has_states || y->has_states) {
            if (runs) std::snprintf(line, sizeof line, "  %-14s %10s %10s %10s %10s\n", "state", "A peak", "A end", "B peak", "B end");
            else std::snprintf(line, sizeof line, "  %-14s %10s %10s %10s\n", "state", "A", "B", "B - A");
            d.text += line;
            for (TcpState s : kReportOrder) {
                uint64_t ap = x->peak[s], ae = x->last[s], bp = y->peak[s], be = y->last[s];
                if (!ap && !bp && !ae && !be) continue;
                std::string name(state_name(s));
                if (runs) {
                    std::snprintf(line, sizeof line, "  %-14s %10llu %10llu %10llu %10llu\n", name.c_str(), (unsigned long long)ap,
                                  (unsigned long long)ae, (unsigned long long)bp, (unsigned long long)be);
                    st[name] = {{"a_peak", ap}, {"a_end", ae}, {"b_peak", bp}, {"b_end", be}};
                    if (notable(ap, bp)) changes.push_back(label + ": " + name + " peak " + change(ap, bp));
                    if (notable(ae, be)) changes.push_back(label + ": " + name + " at the end " + change(ae, be));
                } else {
                    std::snprintf(line, sizeof line, "  %-14s %10llu %10llu %+10lld\n", name.c_str(), (unsigned long long)ae,
                                  (unsigned long long)be, (long long)be - (long long)ae);
                    st[name] = {{"a", ae}, {"b", be}};
                    if (notable(ae, be)) changes.push_back(label + ": " + name + " " + change(ae, be));
                }
                d.text += line;
            }
        }
        pj["states"] = st;
        J ct = J::object();
        std::vector<std::string> rows = counter_rows(*x, *y, runs);
        if (!rows.empty()) {
            if (runs) std::snprintf(line, sizeof line, "  %-28s %10s %10s %10s %10s\n", "counter", "A delta", "A /s", "B delta", "B /s");
            else std::snprintf(line, sizeof line, "  %-28s %12s %12s %10s\n", "counter", "A", "B", "B - A");
            d.text += line;
        }
        for (const std::string& n : rows) {
            if (runs) {
                double da = static_cast<double>(get(x->nstat_last, n) - get(x->nstat_first, n));
                double db = static_cast<double>(get(y->nstat_last, n) - get(y->nstat_first, n));
                double ra = x->duration_s > 0 ? da / x->duration_s : 0, rb = y->duration_s > 0 ? db / y->duration_s : 0;
                std::snprintf(line, sizeof line, "  %-28s %10s %10s %10s %10s\n", n.c_str(), num(da).c_str(), num(ra).c_str(),
                              num(db).c_str(), num(rb).c_str());
                ct[n] = {{"a_delta", da}, {"a_per_s", ra}, {"b_delta", db}, {"b_per_s", rb}};
                if (notable(da, db)) changes.push_back(label + ": " + n + " over the run " + change(da, db) + ", per second " + change(ra, rb));
            } else {
                int64_t va = get(x->nstat_last, n), vb = get(y->nstat_last, n);
                std::snprintf(line, sizeof line, "  %-28s %12lld %12lld %+10lld\n", n.c_str(), (long long)va, (long long)vb,
                              (long long)(vb - va));
                ct[n] = {{"a", va}, {"b", vb}, {"delta", vb - va}};
                if (vb != va) changes.push_back(label + ": " + n + " " + (vb > va ? "+" : "") + std::to_string(vb - va) + " between the samples");
            }
            d.text += line;
        }
        pj["counters"] = ct;
        pairs.push_back(pj);
    }
    d.json["hosts"] = pairs;
    d.json["changes"] = changes;
    d.text += "\nwhat changed:\n";
    if (changes.empty()) d.text += "  nothing beyond 10 %\n";
    for (const std::string& c : changes) d.text += "  " + c + "\n";
    return d;
}

int run_diff(const DiffArgs& args) {
    RunFile a = load_run(args.a), b = load_run(args.b);
    for (const RunFile* f : {&a, &b})
        if (f->malformed) std::cerr << "churn-probe: note: " << f->path << ": " << f->malformed << " malformed lines skipped\n";
    Diff d = diff_runs(a, b);
    if (args.json) std::cout << d.json.dump() << "\n";
    else std::cout << d.text;
    return 0;
}

}  // namespace churn::probe
