// bench.h: turn lab/bench.sh's raw runs into medians, spreads and ratios.
//
// bench.sh writes DIR/runs.tsv, tab-separated, one line per comparison and one per run:
//   pair  ID  METRIC  TESTED  TARGET_RATE  TARGET_CPU  LABEL
//         TESTED: the process whose cost is compared, cli (load generator) or srv (server).
//         TARGET_RATE: ours ÷ peer in METRIC at least this; TARGET_CPU: peer ÷ ours in CPU per unit.
//   run   ID  ours|peer  TOOL  FILE  KEY=VALUE ...
//   note  TEXT                                   printed under the tables
// TOOL says how to read the rate and the units (requests or connections) in FILE (relative to DIR):
//   wrk                    "Requests/sec:  209123.45" and "  1045612 requests in 5.00s"
//   ab                     "Requests per second:    35012.34 [#/sec]" and "Complete requests:      150000"
//   json:RATE_KEY[:UNITS]  numbers of a JSON object (churn-client: rps:requests_ok, handshakes_per_s:handshakes)
// KEYs of a run (all optional; a missing one prints "-"): n, wall_s, steal (fraction of all CPUs stolen
// by the hypervisor during the run), perf=1 (perf counted its syscalls: rate and CPU left out), cli_core/srv_core (CPUs each process was allowed), and for each
// process of the pair, prefixed cli_ or srv_:
//   cpu_s                  utime + stime over the run
//   syscr, syscw           /proc/PID/io deltas: read- and write-like syscalls (not recv*/send*)
//   sc_all, sc_NAME        perf stat counts: every syscall, and syscall NAME (read, sendmsg, epoll_wait...)
//   reactor_waits, reactor_ctls   churnlab's own epoll_wait/epoll_ctl counts from its --json
// Older manifests (pair with 5 fields, run with no keys or a bare CPU fraction) still load.
// The bench definition (commands, targets) stays in bench.sh; this side only reads and does arithmetic.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace churn::report {

std::optional<double> parse_wrk_rps(const std::string& output);
std::optional<double> parse_ab_rps(const std::string& output);
std::optional<double> parse_wrk_requests(const std::string& output);  // "N requests in"
std::optional<double> parse_ab_requests(const std::string& output);   // "Complete requests:"
double median(std::vector<double> v);  // 0 for an empty vector

// A median with its spread over the runs that measured it; n == 0: not measured.
struct Spread {
    double median = 0, min = 0, max = 0;
    size_t n = 0;
};
Spread spread(const std::vector<double>& v);

// What a figure per unit is made of (see the KEYs above). Read-like: read, readv, recvfrom, recvmsg;
// write-like: write, writev, sendto, sendmsg; conn: socket, connect, accept4, close, shutdown,
// setsockopt, getsockopt; other: every syscall perf counted that none of the groups holds.
enum class Cost { Cpu, Syscalls, Reads, Writes, EpollWaits, EpollCtls, Conn, Other, ProcIo, ReactorWaits };
const char* cost_name(Cost c);

struct BenchRun {
    std::string side;  // ours | peer
    double rate = 0;
    std::optional<double> units;
    std::map<std::string, double> keys;  // KEY=VALUE of the run line, numbers only
    std::map<std::string, std::string> text;  // the ones that are not numbers (cli_core=0-1, ...)
    // Figure `c` of process `role` ("cli" or "srv") per unit, if the run measured it.
    std::optional<double> per_unit(const std::string& role, Cost c) const;
    // perf=1: a run that counted syscalls with perf; its CPU and rate are not compared (see cost()).
    bool counted() const;
};

struct BenchPair {
    std::string id, metric, label;
    std::string tested;  // cli | srv | "" (an old manifest: not said)
    double target = 0;   // rate: ours ÷ peer
    double target_cpu = 0;  // CPU per unit: peer ÷ ours; 0 = none
    std::vector<double> ours, peer;  // rates, per run
    std::vector<BenchRun> runs;
    // Old manifests: the tested side's CPU µs per unit straight from a bare CPU fraction.
    std::vector<double> ours_cpu_us, peer_cpu_us;

    double ours_median() const { return median(ours); }
    double peer_median() const { return median(peer); }
    double ratio() const { return peer_median() > 0 ? ours_median() / peer_median() : 0; }
    bool met() const { return target <= 0 || ratio() >= target; }  // target 0: a reference pair, no target
    // Figure `c` of process `role` over the runs of `side`.
    Spread cost(const std::string& side, const std::string& role, Cost c) const;
    Spread tested_cpu(const std::string& side) const;
    // How many times less CPU per unit ours spends than the peer on the tested side (0 when not measured).
    double cpu_ratio() const;
    bool cpu_met() const { return target_cpu <= 0 || cpu_ratio() >= target_cpu; }
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
