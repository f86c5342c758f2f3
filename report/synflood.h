// synflood.h: make run-synflood (lab/synflood.sh): a SYN flood against the listener with
// tcp_syncookies = 1, 0, 2, an accept queue that stops draining, and what a long-RTT client loses to a
// cookie; turned into synflood.json, synflood.md and the gnuplot script of synrecv.svg. Arithmetic and
// text only: every number comes from a case's files, never typed.
//
// lab/synflood.sh writes DIR/cases.tsv (id, kind, settings, status: "ran" or "not run: needs X") and, per
// case that ran, DIR/ID/:
//   settings.json        the sysctls read back from the namespaces (server: tcp_syncookies,
//                        tcp_max_syn_backlog, ...; client: tcp_timestamps, tcp_syn_retries)
//   {before,after}.{probe1.json,nstat.txt,probe2.json}   the server host's counters: churn-probe nstat,
//                        `nstat -asz`, churn-probe again (client-{before,after}.*: the client host's)
//   client.json          churn-client       server.json  churn-server
//   flood:  flood.json (churn-synflood), probe.jsonl (churn-probe watch: SYN-RECV every 100 ms),
//           load.json (the flood's start on the watcher's clock), synrecv.check.json (mid-flood SYN-RECV:
//           churn-probe, ss, churn-probe)
//   bulk:   info.json (churn-probe info: tcp_info of the server's accepted socket), path.json
//   synack: link.json (churn-link: dropped_synack per direction), path.json
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace churn::report {

// The counters of issue 10 by nstat's names, in the order the tables show them.
const std::vector<std::string>& syn_counters();

// Counter deltas over a case on one host. `probe` (churn-probe nstat, after − before) is what the tables
// show; `nstat` is the same from `nstat -asz`. Each snapshot read churn-probe, nstat, churn-probe back
// to back: nstat's value outside the two churn-probe readings is a disagreement, named in `disagree`.
struct CounterDeltas {
    bool present = false;
    std::map<std::string, long> probe, nstat;
    std::vector<std::string> disagree;
    long get(const std::string& name) const;  // the probe delta, 0 when absent
};

// One snapshot as lab/synflood.sh leaves it: the three texts of PREFIX.{probe1.json,nstat.txt,probe2.json}.
struct Snapshot {
    std::map<std::string, long> probe1, nstat, probe2;
};
// "#kernel\nTcpExtSyncookiesSent  1234  0.0\n..." (nstat -asz) -> name -> value.
std::map<std::string, long> parse_nstat_text(const std::string& text, const std::string& name);
// {"nstat": {...}} (churn-probe nstat --json) -> name -> value.
std::map<std::string, long> parse_probe_nstat(const std::string& text, const std::string& name);
CounterDeltas counter_deltas(const Snapshot& before, const Snapshot& after, const std::string& where);

// The legitimate client (churn-client JSON). Connect times are of the handshakes that completed.
struct ClientView {
    long scheduled = 0, ok = 0, failed = 0, unfinished = 0, handshakes = 0;
    double connect_p50_ms = 0, connect_p99_ms = 0, connect_max_ms = 0, latency_p99_ms = 0, request_p50_ms = 0;
    std::map<std::string, long> errors;  // errno name -> count (ETIMEDOUT: a connect or response gave up)
    std::vector<std::pair<long, long>> ok_per_second;  // timeline: second t -> requests answered in (t-1, t]
    double success() const { return scheduled > 0 ? static_cast<double>(ok) / static_cast<double>(scheduled) : 0; }
    long error(const std::string& e) const;
};

struct SynCase {
    std::string id, kind, settings, status;  // kind: flood | accept | bulk | synack
    bool ran() const { return status == "ran"; }
    long syncookies = -1, timestamps = -1, max_syn_backlog = -1, somaxconn = -1;  // read back from the lab
    long syn_retries = -1, syn_linear_timeouts = -1;  // the client host's; -1: not recorded (or not in this kernel)
    CounterDeltas server, client;  // client host's counters: synack cases only
    ClientView cli;
    // flood: churn-synflood's JSON, the server's backlog, SYN-RECV (churn-probe watch).
    long backlog = 0;
    double flood_rate = 0, flood_duration_s = 0, flood_sent = 0, flood_achieved = 0;
    long synrecv_peak = 0;
    double synrecv_median = 0;  // over the samples from 2 s into the flood to its end
    std::optional<long> synrecv_ss, synrecv_probe_before, synrecv_probe_after;  // the mid-flood reading
    std::vector<std::pair<double, double>> synrecv_series;  // s since the flood started, SYN-RECV (not in synflood.json)
    // accept: churn-server --accept-for.
    std::optional<double> accept_stopped_at_s;
    long accepted = 0;
    // bulk and synack: the path, and the server's accepted socket (tcp_info) in bulk.
    double rtt_ms = 0;
    long mss_asked = 0;  // churn-client --mss; 0: not set
    long body_bytes = 0;
    bool has_info = false, opt_ts = false, opt_sack = false, opt_wscale = false;
    long snd_wscale = -1, snd_mss = -1, snd_wnd = -1;
    double throughput_kBps() const;  // body_bytes / the request's time, kB = 1000 B
    double window_cap_kBps() const;  // 65535 B per RTT: the most an unscaled window carries
    // synack: churn-link --drop-synack N.
    long drop_synack = 0;
    std::optional<long> link_dropped_synack;
};

// DIR/cases.tsv and each case's directory. ReportError names the file and what is wrong.
std::vector<SynCase> load_synflood_dir(const std::string& dir);
void load_syn_case(SynCase& c, const std::string& case_dir);

std::string synflood_json(const std::vector<SynCase>& cases);
std::vector<SynCase> parse_synflood_json(const std::string& text, const std::string& name);

// The tables (each a Markdown block, ending with a newline; "" when no case of its kind is present).
std::string render_syn_counters(const std::vector<SynCase>& cases);  // one column per tcp_syncookies setting
std::string render_syn_clients(const std::vector<SynCase>& cases);   // the legitimate client during each flood
std::string render_syn_accept(const std::vector<SynCase>& cases);
std::string render_syn_rtt(const std::vector<SynCase>& cases);       // the long-RTT downloads
std::string render_syn_synack(const std::vector<SynCase>& cases);    // the lost SYN-ACK
// One line per case, from its numbers: what it shows.
std::string render_syn_findings(const std::vector<SynCase>& cases);
// RUNBOOK.md's one-line quote: what the counters and SYN-RECV did under the flood with cookies on.
std::string render_syn_quote(const std::vector<SynCase>& cases);
// synflood.md: every table under its heading, and the findings.
std::string render_synflood_md(const std::vector<SynCase>& cases);
// gnuplot script (data inline) writing synrecv.svg: SYN-RECV against time, one line per setting.
std::string synflood_gnuplot(const std::vector<SynCase>& cases);

}  // namespace churn::report
