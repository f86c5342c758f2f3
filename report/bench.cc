// bench.cc: reading lab/bench.sh's runs.tsv and the tool outputs it names; see bench.h.
// The tables are drawn in bench_render.cc.
#include "report/bench.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/results.h"

namespace churn::report {
namespace {

// The number after `label` on the first line that starts with it (after leading spaces).
std::optional<double> number_after(const std::string& output, const std::string& label) {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        size_t start = line.find_first_not_of(' ');
        if (start == std::string::npos || line.compare(start, label.size(), label) != 0) continue;
        std::istringstream rest(line.substr(start + label.size()));
        double v;
        if (rest >> v) return v;
        return std::nullopt;
    }
    return std::nullopt;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> f;
    size_t pos = 0;
    for (;;) {
        size_t at = s.find(sep, pos);
        f.push_back(s.substr(pos, at == std::string::npos ? std::string::npos : at - pos));
        if (at == std::string::npos) return f;
        pos = at + 1;
    }
}

// The whole string as a number, or nothing ("0-1" and "12abc" are not numbers).
std::optional<double> to_number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    size_t used = 0;
    double v;
    try { v = std::stod(s, &used); } catch (const std::exception&) { return std::nullopt; }
    if (used != s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

struct Measured {
    double rate;
    std::optional<double> units;
};

Measured read_metric(const std::string& dir, const std::string& tool, const std::string& file) {
    std::string path = dir + "/" + file;
    std::string text = read_text(path);
    std::optional<double> v, units;
    if (tool == "wrk") {
        v = parse_wrk_rps(text);
        units = parse_wrk_requests(text);
    } else if (tool == "ab") {
        v = parse_ab_rps(text);
        units = parse_ab_requests(text);
    } else if (tool.rfind("json:", 0) == 0) {
        std::vector<std::string> k = split(tool.substr(5), ':');
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) throw ReportError(path + ": malformed JSON");
        auto num = [&](const std::string& key) -> std::optional<double> {
            if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
            return std::nullopt;
        };
        v = num(k[0]);
        if (k.size() > 1) {
            units = num(k[1]);
            if (!units) throw ReportError(path + ": no number '" + k[1] + "' in it");
        }
    } else {
        throw ReportError(dir + "/runs.tsv: unknown tool '" + tool + "'");
    }
    if (!v) throw ReportError(path + ": no " + tool + " result in it (did the run fail?)");
    return {*v, units};
}

std::optional<double> key(const BenchRun& r, const std::string& k) {
    auto it = r.keys.find(k);
    if (it == r.keys.end()) return std::nullopt;
    return it->second;
}

// The sum of perf's counts of these syscalls for `role`; nothing when perf counted none of them.
std::optional<double> sum_sc(const BenchRun& r, const std::string& role, std::initializer_list<const char*> names) {
    std::optional<double> total;
    for (const char* n : names)
        if (auto v = key(r, role + "_sc_" + n)) total = total.value_or(0) + *v;
    return total;
}

constexpr std::initializer_list<const char*> kReads = {"read", "readv", "recvfrom", "recvmsg"};
constexpr std::initializer_list<const char*> kWrites = {"write", "writev", "sendto", "sendmsg"};
constexpr std::initializer_list<const char*> kWaits = {"epoll_wait", "epoll_pwait"};
constexpr std::initializer_list<const char*> kCtls = {"epoll_ctl"};
constexpr std::initializer_list<const char*> kConn = {"socket", "connect", "accept4", "close", "shutdown",
                                                     "setsockopt", "getsockopt"};

}  // namespace

std::optional<double> parse_wrk_rps(const std::string& output) { return number_after(output, "Requests/sec:"); }
std::optional<double> parse_ab_rps(const std::string& output) { return number_after(output, "Requests per second:"); }
std::optional<double> parse_ab_requests(const std::string& output) { return number_after(output, "Complete requests:"); }

std::optional<double> parse_wrk_requests(const std::string& output) {
    // "  1045612 requests in 5.00s, 160.55MB read": the number comes first on its line.
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        double n;
        std::string w1, w2;
        if (words >> n >> w1 >> w2 && w1 == "requests" && w2 == "in") return n;
    }
    return std::nullopt;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Spread spread(const std::vector<double>& v) {
    if (v.empty()) return {};
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return {median(v), *lo, *hi, v.size()};
}

const char* cost_name(Cost c) {
    switch (c) {
        case Cost::Cpu: return "cpu_us";
        case Cost::Syscalls: return "syscalls";
        case Cost::Reads: return "reads";
        case Cost::Writes: return "writes";
        case Cost::EpollWaits: return "epoll_waits";
        case Cost::EpollCtls: return "epoll_ctls";
        case Cost::Conn: return "conn_syscalls";
        case Cost::Other: return "other_syscalls";
        case Cost::ProcIo: return "syscr_syscw";
        case Cost::ReactorWaits: return "reactor_epoll_waits";
    }
    return "?";
}

std::optional<double> BenchRun::per_unit(const std::string& role, Cost c) const {
    if (!units || *units <= 0) return std::nullopt;
    std::optional<double> v;
    switch (c) {
        case Cost::Cpu:
            if (auto s = key(*this, role + "_cpu_s")) v = *s * 1e6;  // µs
            break;
        case Cost::Syscalls: v = key(*this, role + "_sc_all"); break;
        case Cost::Reads: v = sum_sc(*this, role, kReads); break;
        case Cost::Writes: v = sum_sc(*this, role, kWrites); break;
        case Cost::EpollWaits: v = sum_sc(*this, role, kWaits); break;
        case Cost::EpollCtls: v = sum_sc(*this, role, kCtls); break;
        case Cost::Conn: v = sum_sc(*this, role, kConn); break;
        case Cost::Other:
            if (auto all = key(*this, role + "_sc_all")) {
                double known = 0;
                for (auto group : {kReads, kWrites, kWaits, kCtls, kConn}) known += sum_sc(*this, role, group).value_or(0);
                v = *all - known;
            }
            break;
        case Cost::ProcIo: {
            auto r = key(*this, role + "_syscr"), w = key(*this, role + "_syscw");
            if (r && w) v = *r + *w;
            break;
        }
        case Cost::ReactorWaits: v = key(*this, role + "_reactor_waits"); break;
    }
    if (!v) return std::nullopt;
    return *v / *units;
}

bool BenchRun::counted() const {
    auto it = keys.find("perf");
    return it != keys.end() && it->second == 1;
}

Spread BenchPair::cost(const std::string& side, const std::string& role, Cost c) const {
    // CPU from the runs without perf when there are any: counting slows every syscall, and a program that
    // makes more syscalls (wrk: 4 per request, ours: 2.3) would pay more of that, in our favour.
    bool any_clean = false;
    for (const BenchRun& r : runs) any_clean |= r.side == side && !r.counted();
    std::vector<double> v;
    for (const BenchRun& r : runs) {
        if (r.side != side || (c == Cost::Cpu && any_clean && r.counted())) continue;
        if (auto x = r.per_unit(role, c)) v.push_back(*x);
    }
    return spread(v);
}

Spread BenchPair::tested_cpu(const std::string& side) const {
    if (!tested.empty()) {
        Spread s = cost(side, tested, Cost::Cpu);
        if (s.n) return s;
    }
    return spread(side == "ours" ? ours_cpu_us : peer_cpu_us);
}

double BenchPair::cpu_ratio() const {
    double o = tested_cpu("ours").median, p = tested_cpu("peer").median;
    return o > 0 && p > 0 ? p / o : 0;
}

Bench load_bench_dir(const std::string& dir) {
    std::string manifest = dir + "/runs.tsv";
    std::istringstream in(read_text(manifest));
    Bench b;
    std::string line;
    size_t lineno = 0;
    auto bad = [&](const std::string& why) { return ReportError(manifest + ":" + std::to_string(lineno) + ": " + why); };
    auto find_pair = [&](const std::string& id) -> BenchPair& {
        for (BenchPair& p : b.pairs)
            if (p.id == id) return p;
        throw bad("run for undeclared pair '" + id + "'");
    };
    auto target = [&](const std::string& s, const char* what) {
        if (auto v = to_number(s)) return *v;
        throw bad(std::string(what) + " '" + s + "' is not a number");
    };
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty()) continue;
        std::vector<std::string> f = split(line, '\t');
        if (f[0] == "pair" && (f.size() == 5 || f.size() == 7)) {
            BenchPair p;
            p.id = f[1];
            p.metric = f[2];
            if (f.size() == 5) {  // an old manifest: pair ID METRIC TARGET LABEL
                p.target = target(f[3], "target");
                p.label = f[4];
            } else {
                p.tested = f[3];
                if (p.tested != "cli" && p.tested != "srv") throw bad("tested side '" + f[3] + "' is neither cli nor srv");
                p.target = target(f[4], "target");
                p.target_cpu = target(f[5], "cpu target");
                p.label = f[6];
            }
            b.pairs.push_back(p);
        } else if (f[0] == "run" && f.size() >= 5) {
            BenchPair& p = find_pair(f[1]);
            if (f[2] != "ours" && f[2] != "peer") throw bad("side '" + f[2] + "' is neither ours nor peer");
            Measured m = read_metric(dir, f[3], f[4]);
            BenchRun r;
            r.side = f[2];
            r.rate = m.rate;
            r.units = m.units;
            for (size_t i = 5; i < f.size(); ++i) {
                size_t eq = f[i].find('=');
                if (eq == std::string::npos) {
                    // An old manifest's sixth field: the fraction of one core the tested side used. A
                    // fraction of a core at a rate of units/s is CPU seconds per unit; in µs.
                    if (i != 5 || f.size() != 6) throw bad("'" + f[i] + "' is not KEY=VALUE");
                    double core = target(f[i], "cpu");
                    if (m.rate > 0) (r.side == "ours" ? p.ours_cpu_us : p.peer_cpu_us).push_back(core / m.rate * 1e6);
                    continue;
                }
                std::string k = f[i].substr(0, eq), v = f[i].substr(eq + 1);
                if (k.empty()) throw bad("'" + f[i] + "': empty key");
                // Not a number (cli_core=0-1, perf's "<not counted>"): kept as text, so that a figure
                // made of it prints "-" (not measured) instead of a wrong 0.
                if (auto x = to_number(v)) r.keys[k] = *x;
                else r.text[k] = v;
            }
            // The rates compared are those of the runs without perf (see cost()); a counted run's rate
            // stays in its keys and in bench.json.
            if (!r.counted()) (r.side == "ours" ? p.ours : p.peer).push_back(m.rate);
            p.runs.push_back(std::move(r));
        } else if (f[0] == "note" && f.size() == 2) {
            b.notes.push_back(f[1]);
        } else {
            throw bad("not a pair/run/note line");
        }
    }
    return b;
}

}  // namespace churn::report
