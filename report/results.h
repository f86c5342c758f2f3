// results.h: one compare run's files, loaded and checked: the client JSON of each scenario, the
// TIME-WAIT samples, the lab's sysctls and meta.json. Everything the table shows comes from here, so a
// missing or malformed file is one clear error (ReportError) naming the file, not a half-filled table.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/probe_run.h"
#include "report/tw_csv.h"

namespace churn::report {

// A one-line message such as "results/x/churn.json: missing number 'rps'". main() prints it, exits 2.
struct ReportError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Percentiles as churn-client writes them, in microseconds.
struct Percentiles {
    double p50_us = 0, p99_us = 0, p999_us = 0;
};

// The subset of churn-client's JSON the table needs.
struct ClientRun {
    std::string mode;            // "churn" | "pool"
    double rate = 0;             // offered req/s; 0 = closed loop
    double duration_s = 0;
    double rps = 0;              // achieved, ok responses per second
    Percentiles latency;
    Percentiles connect;         // connect() call to handshake complete
    double handshakes_per_s = 0;
    long requests_failed = 0;
    long requests_unfinished = 0;
    long ports_in_range = 0;
    std::map<std::string, long> errors;          // errno name -> count
    std::map<std::string, double> first_error_s; // errno name -> seconds since start
    long handshakes = 0, requests_ok = 0, requests_scheduled = 0;
    struct Second {
        long t = 0, requests = 0, connects = 0;
        std::map<std::string, long> errors;
    };
    std::vector<Second> timeline;  // one entry per measured second
};

struct Sysctls {
    long port_lo = 0, port_hi = 0;  // client host's net.ipv4.ip_local_port_range
    long tw_reuse = -1;             // client host's net.ipv4.tcp_tw_reuse, -1 if not recorded
    long ports() const { return port_hi - port_lo + 1; }
};

struct Meta {
    std::string command, kernel, hostname, date, git_commit;
    long nproc = 0;
    std::string knobs;  // "RATE=3000 DURATION=20 ..." in file order
    double warmup_s = 0;  // knobs.WARMUP: the load ran this long before the measured duration
};

// What churn-pcap decode --summary saw in a scenario's capture window (SCENARIO.wire.json).
struct WireSummary {
    bool present = false;
    long handshakes = 0, requests = 0, reused_requests = 0;
    double handshakes_per_s = 0, window_s = 0, irtt_p50_us = 0;
};
WireSummary parse_wire_json(const std::string& text, const std::string& name);

// The path between the hosts (SCENARIO.path.json): rtt_ms 0 is the bare veth.
struct PathInfo {
    bool present = false;
    double rtt_ms = 0;
    std::string path = "veth";
};
PathInfo parse_path_json(const std::string& text, const std::string& name);

struct CompareRun {
    ClientRun churn, pooled;
    WireSummary churn_wire, pooled_wire;
    PathInfo path;
    TwSummary churn_tw, pooled_tw;
    TwSeries churn_tw_series, pooled_tw_series;
    Sysctls sysctl;
    Meta meta;
    // From churn-probe watch (SCENARIO.probe.json), when the run has them; older runs do not.
    ProbeSummary churn_probe, pooled_probe;
};

// Parse one file's text. `name` is the path used in error messages.
ClientRun parse_client_json(const std::string& text, const std::string& name);
Sysctls parse_sysctl_json(const std::string& text, const std::string& name);
Meta parse_meta_json(const std::string& text, const std::string& name);

// Read DIR/{churn,pooled}.json, DIR/{churn,pooled}.tw.csv, DIR/sysctl.json, DIR/meta.json, and
// DIR/{churn,pooled}.probe.json if present.
CompareRun load_compare_dir(const std::string& dir);

// Whole file as a string; ReportError "PATH: cannot open (ENOENT)" when it cannot be read.
std::string read_text(const std::string& path);
// Replace PATH's content (via PATH.tmp + rename, so a reader never sees half a file).
void write_text(const std::string& path, const std::string& text);
bool file_exists(const std::string& path);

// One line of a lab script's manifest (cases.tsv, runs.tsv, rows.tsv): its tab-separated fields and
// "PATH:LINE" for the errors that name it.
struct ManifestRow {
    std::vector<std::string> f;
    std::string where;
};
// PATH's lines, each split at tabs (an empty last field kept), blank lines and the header (the line
// starting with HEADER, e.g. "id") skipped. ReportError "PATH:LINE: want N tab-separated fields, got M".
std::vector<ManifestRow> read_manifest(const std::string& path, const std::string& header, size_t fields);
// TEXT parsed as a JSON object; ReportError "NAME: malformed JSON (want an object)" otherwise.
nlohmann::json parse_object(const std::string& text, const std::string& name);

}  // namespace churn::report
