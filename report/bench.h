// bench.h: turn lab/bench.sh's raw tool outputs into medians and ratios.
//
// bench.sh writes DIR/runs.tsv, tab-separated, one line per comparison and one per run:
//   pair  ID  METRIC  TARGET  LABEL              e.g. pair 1 req/s 1.1 churn-client pool vs wrk (nginx)
//   run   ID  ours|peer  TOOL  FILE  [CPU]       e.g. run 1 ours json:rps p1-ours-1.json 0.9731
//         CPU: the fraction of one core the compared side used during the run (optional)
//   note  TEXT                                   printed under the table
// TOOL says how to read FILE (relative to DIR):
//   wrk        "Requests/sec:  209123.45"
//   ab         "Requests per second:    35012.34 [#/sec] (mean)"
//   json:KEY   the number KEY of a JSON object (churn-client's rps, handshakes_per_s)
// The bench definition (commands, targets) stays in bench.sh; this side only reads and does arithmetic.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace churn::report {

std::optional<double> parse_wrk_rps(const std::string& output);
std::optional<double> parse_ab_rps(const std::string& output);
double median(std::vector<double> v);  // 0 for an empty vector

struct BenchPair {
    std::string id, metric, label;
    double target = 0;
    std::vector<double> ours, peer;
    std::vector<double> ours_cpu_us, peer_cpu_us;  // CPU µs per unit (request or connection), per run
    double ours_median() const { return median(ours); }
    double peer_median() const { return median(peer); }
    // Efficiency: how many times less CPU ours spends per unit than the peer (0 when not measured).
    double cpu_ratio() const {
        double o = median(ours_cpu_us), p = median(peer_cpu_us);
        return o > 0 && p > 0 ? p / o : 0;
    }
    double ratio() const { return peer_median() > 0 ? ours_median() / peer_median() : 0; }
    bool met() const { return ratio() >= target; }
};

struct Bench {
    std::vector<BenchPair> pairs;
    std::vector<std::string> notes;
};

// Read DIR/runs.tsv and every file it names. ReportError for a missing file or an unreadable number.
Bench load_bench_dir(const std::string& dir);
std::string render_bench_table(const Bench& b);
std::string bench_json(const Bench& b);

}  // namespace churn::report
