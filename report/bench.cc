// bench.cc: medians and ratios for lab/bench.sh; see bench.h.
#include "report/bench.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/results.h"
#include "report/table.h"

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

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> f;
    size_t pos = 0;
    for (;;) {
        size_t tab = line.find('\t', pos);
        f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
        if (tab == std::string::npos) return f;
        pos = tab + 1;
    }
}

double read_metric(const std::string& dir, const std::string& tool, const std::string& file) {
    std::string path = dir + "/" + file;
    std::string text = read_text(path);
    std::optional<double> v;
    if (tool == "wrk") {
        v = parse_wrk_rps(text);
    } else if (tool == "ab") {
        v = parse_ab_rps(text);
    } else if (tool.rfind("json:", 0) == 0) {
        std::string key = tool.substr(5);
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) throw ReportError(path + ": malformed JSON");
        if (j.is_object() && j.contains(key) && j[key].is_number()) v = j[key].get<double>();
    } else {
        throw ReportError(dir + "/runs.tsv: unknown tool '" + tool + "'");
    }
    if (!v) throw ReportError(path + ": no " + tool + " result in it (did the run fail?)");
    return *v;
}

}  // namespace

std::optional<double> parse_wrk_rps(const std::string& output) { return number_after(output, "Requests/sec:"); }
std::optional<double> parse_ab_rps(const std::string& output) { return number_after(output, "Requests per second:"); }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty()) continue;
        std::vector<std::string> f = split_tabs(line);
        if (f[0] == "pair" && f.size() == 5) {
            BenchPair p;
            p.id = f[1];
            p.metric = f[2];
            try { p.target = std::stod(f[3]); } catch (const std::exception&) { throw bad("target '" + f[3] + "' is not a number"); }
            p.label = f[4];
            b.pairs.push_back(p);
        } else if (f[0] == "run" && (f.size() == 5 || f.size() == 6)) {
            BenchPair& p = find_pair(f[1]);
            double v = read_metric(dir, f[3], f[4]);
            if (f[2] != "ours" && f[2] != "peer") throw bad("side '" + f[2] + "' is neither ours nor peer");
            (f[2] == "ours" ? p.ours : p.peer).push_back(v);
            if (f.size() == 6) {
                double core = 0;
                try { core = std::stod(f[5]); } catch (const std::exception&) { throw bad("cpu '" + f[5] + "' is not a number"); }
                // A fraction of a core at a rate of units/s: CPU seconds per unit, in µs.
                if (v > 0) (f[2] == "ours" ? p.ours_cpu_us : p.peer_cpu_us).push_back(core / v * 1e6);
            }
        } else if (f[0] == "note" && f.size() == 2) {
            b.notes.push_back(f[1]);
        } else {
            throw bad("not a pair/run/note line");
        }
    }
    return b;
}

std::string render_bench_table(const Bench& b) {
    std::string out = "| # | comparison | metric | churnlab (median) | peer (median) | ratio | target | | "
                      "CPU µs/unit, churnlab | CPU µs/unit, peer | CPU ratio |\n"
                      "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|\n";
    auto cpu = [](const std::vector<double>& v) { return v.empty() ? std::string("-") : format_sig(median(v), 3); };
    for (const BenchPair& p : b.pairs) {
        out += "| " + p.id + " | " + p.label + " | " + p.metric + " | " + format_sig(p.ours_median(), 4) + " (n=" +
               std::to_string(p.ours.size()) + ") | " + format_sig(p.peer_median(), 4) + " (n=" + std::to_string(p.peer.size()) +
               ") | " + format_sig(p.ratio(), 3) + "x | >= " + format_sig(p.target, 2) + "x | " +
               (p.met() ? "met" : "NOT met") + " | " + cpu(p.ours_cpu_us) + " | " + cpu(p.peer_cpu_us) + " | " +
               (p.cpu_ratio() > 0 ? format_sig(p.cpu_ratio(), 3) + "x" : "-") + " |\n";
    }
    out += "\nCPU µs/unit: CPU time the compared side (pairs 1 and 3: the load generator; pair 2: the server) "
           "spent per request or connection; CPU ratio = peer ÷ churnlab, above 1 means churnlab is cheaper.\n";
    if (!b.notes.empty()) out += "\n";
    for (const std::string& n : b.notes) out += n + "\n";
    return out;
}

std::string bench_json(const Bench& b) {
    nlohmann::json j;
    j["pairs"] = nlohmann::json::array();
    for (const BenchPair& p : b.pairs) {
        j["pairs"].push_back({{"id", p.id}, {"label", p.label}, {"metric", p.metric}, {"ours", p.ours},
                              {"peer", p.peer}, {"ours_median", p.ours_median()}, {"peer_median", p.peer_median()},
                              {"ratio", p.ratio()}, {"target", p.target}, {"met", p.met()},
                              {"ours_cpu_us", p.ours_cpu_us}, {"peer_cpu_us", p.peer_cpu_us},
                              {"cpu_ratio", p.cpu_ratio()}});
    }
    j["notes"] = b.notes;
    return j.dump(2) + "\n";
}

}  // namespace churn::report
