// nagle.h: make run-nagle (lab/nagle.sh): the Nagle + delayed-ACK stall on split writes, its fixes, and
// the stall against the path's RTT; turned into nagle.json, nagle.md and the gnuplot script of nagle.svg.
// Arithmetic and text only: every number comes from a case's files, never typed. The one constant is the
// model's TCP_DELACK_MIN (40 ms, include/net/tcp.h), and it is labelled as the model wherever it shows.
//
// Groups: req (the client splits each request), resp (the server splits each response), pipe (the client
// pipelines K whole requests, each its own write), sweep (req over churn-link at several RTTs).
//
// lab/nagle.sh writes DIR/cases.tsv (id, group, rtt_ms or "veth", client flags, server flags, status: "ran"
// or "not run: needs X"), DIR/trace.txt (the replayed trace) and, per case that ran, DIR/ID/:
//   client.json    churn-client (latency_us, request_us, rps; pattern, write, nodelay, quickack, trace)
//   server.json    churn-server (response_pattern, write, quickack; options.nodelay)
//   path.json      {"rtt_ms": R, "path": "veth" | "churn-link" | "netem", "capture": "..."}
//   wire.json      churn-pcap decode --json of the whole run's capture: the stall detector's count
//   settings.json  tcp_autocorking (and friends) read back from both namespaces
// and DIR/excerpt-{nagle,nodelay}.wire.json for the two annotated excerpts.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace churn::report {

// TCP_DELACK_MIN: the least a Linux receiver holds back an ACK (HZ/25). The models' constant.
constexpr double kDelackMinMs = 40;

// The stall detector's findings in one churn-pcap decode --json, summed over its flows. Absent (nullopt)
// when that churn-pcap has no detector (its JSON says nothing about stalls).
struct WireStalls {
    std::optional<long> count;
    std::optional<double> total_ms;
};
WireStalls parse_wire_stalls(const std::string& text, const std::string& name);

struct NagleCase {
    std::string id, group, client_flags, server_flags, status;  // group: req | resp | pipe | sweep
    bool ran() const { return status == "ran"; }
    double rtt_ms = 0;
    std::string path = "veth";
    // What each side did: from its own JSON when it says, otherwise from the flags the script gave it.
    std::string pattern = "single", client_write = "single", response_pattern = "single", server_write = "single";
    bool client_nodelay = true, client_quickack = false, server_nodelay = true, server_quickack = false;
    long pipeline = 0;  // --pattern pipeline: requests per send (0: not pipelined)
    long scheduled = 0, ok = 0, failed = 0, unfinished = 0, trace_lines = -1;
    // latency: from the request's time in the trace (open loop); exchange: first byte written to last byte read.
    double p50_ms = 0, p99_ms = 0, max_ms = 0, rps = 0, exchange_p50_ms = 0, exchange_p99_ms = 0;
    WireStalls wire;
    long client_autocorking = -1, server_autocorking = -1;

    // The writer of the split message (the client for requests, the server for responses) and the
    // receiver whose delayed ACK it waits for.
    bool response_side() const { return group == "resp"; }
    std::string writer() const { return response_side() ? "server" : "client"; }
    std::string pieces() const { return response_side() ? response_pattern : pattern; }
    std::string writes() const { return response_side() ? server_write : client_write; }
    bool writer_nagle() const { return response_side() ? !server_nodelay : !client_nodelay; }
    bool receiver_quickack() const { return response_side() ? client_quickack : server_quickack; }
};

struct NagleReport {
    std::vector<NagleCase> cases;
    long trace_requests = 0, sweep_trace_requests = 0;  // lines of trace.txt, sweep-trace.txt
    WireStalls excerpt_nagle, excerpt_nodelay;           // churn-pcap on the two excerpts
    bool has_excerpt_nagle = false, has_excerpt_nodelay = false;
};

// One row of the RTT sweep: the Nagle and TCP_NODELAY cases (and QUICKACK when run) at one RTT.
struct SweepRow {
    double rtt_ms = 0;
    const NagleCase *nagle = nullptr, *nodelay = nullptr, *quickack = nullptr;
    double extra_ms() const;  // exchange p50, Nagle minus TCP_NODELAY
    double model_sum_ms() const { return rtt_ms + kDelackMinMs; }
    double model_max_ms() const { return rtt_ms > kDelackMinMs ? rtt_ms : kDelackMinMs; }
};
std::vector<SweepRow> sweep_rows(const NagleReport& rep);  // by RTT, rows with both cases only

// "--write each --nodelay off" -> value of a flag ("each"), "" when absent; has: the flag is there.
std::string flag_value(const std::string& flags, const std::string& flag);
bool flag_present(const std::string& flags, const std::string& flag);

// DIR/cases.tsv and each case's directory. ReportError names the file (and line) and what is wrong.
NagleReport load_nagle_dir(const std::string& dir);
void load_nagle_case(NagleCase& c, const std::string& case_dir);

std::string nagle_json(const NagleReport& rep);
NagleReport parse_nagle_json(const std::string& text, const std::string& name);

// Markdown blocks (each ending with a newline; "" when no case of the kind is present).
std::string render_nagle_table(const NagleReport& rep, const std::string& group);  // req, resp or pipe
std::string render_nagle_sweep(const NagleReport& rep);
std::string render_nagle_findings(const NagleReport& rep);
std::string render_nagle_md(const NagleReport& rep);
// gnuplot script (data inline) writing nagle.svg: the extra time per exchange against RTT, with both models.
std::string nagle_gnuplot(const NagleReport& rep);

}  // namespace churn::report
