// levers.h: make run-levers (lab/levers.sh): the same churn load, one kernel lever per row, turned into
// levers.json, levers.md and the gnuplot script of levers.svg. Arithmetic and text only: every number
// comes from a row's files, never typed.
//
// lab/levers.sh writes DIR/rows.tsv (id, scenario, settings, status: "ran" or "not run: needs X") and,
// per row that ran, DIR/ROW/ with lab/scenario.sh's files:
//   SCENARIO.json        churn-client: achieved req/s, latency, connect p99, EADDRNOTAVAIL, timeline
//   SCENARIO.probe.json  churn-probe watch: peak TIME-WAIT per host, counter deltas per host
//   SCENARIO.tw.csv      TIME-WAIT per 100 ms sample (row 4's lifetime, the plot)
//   SCENARIO.load.json   where the load started on the watcher's clock (the plot's common time axis)
//   SCENARIO.server.json churn-server: closes by reset
//   sysctl.json          the client host's effective port range, tcp_tw_reuse(_delay), tcp_fin_timeout;
//                        "profile": the sysctl/*.conf applied (PROFILE=, row 10), read again here
//   SCENARIO.crosscheck.json  TIME-WAIT counted by ss at the end of the run, churn-probe just before/after
// and row 5's dmesg.json (kernel log lines before/after), row 6's loss.{client,server}.json.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/tw_csv.h"

namespace churn::report {

// Row 4: a batch of TIME-WAIT watched until it expired, from the client host's samples.
//   first created: the first sample with TIME-WAIT > 0        last created: the last sample where it rose
//   first expired: the first sample below the running peak    zero: the first sample back at 0 after that
// With a fixed 60 s TIME-WAIT, first expired − first created ≈ zero − last created ≈ 60 s.
struct TwLifetime {
    double first_created_s = 0, last_created_s = 0;
    std::optional<double> first_expired_s, zero_s;
    std::optional<double> first_lifetime_s() const;  // first expired − first created
    std::optional<double> last_lifetime_s() const;   // zero − last created
};
// nullopt when the series never holds a TIME-WAIT socket.
std::optional<TwLifetime> tw_lifetime(const TwSeries& s);

// Row 6's data-loss case: bulk --bytes N --linger0 into churn-server --discard.
struct LingerLoss {
    long bytes_written = 0;     // what write() accepted (client)
    long unsent_at_close = 0;   // SIOCOUTQ just before close(): still in the client's kernel (unacked too)
    long notsent_at_close = -1; // SIOCOUTQNSD: never put on the wire (-1: not reported)
    long bytes_delivered = 0;   // what the server read (bytes_discarded)
    long server_resets = 0;     // the server's connections ended by the RST
    long lost() const { return bytes_written - bytes_delivered; }
};

// Row 5's kernel log: lines matching "time wait bucket table overflow" in dmesg before and after.
struct KernelLog {
    bool readable = false;
    long before = 0, after = 0;
};

// TIME-WAIT at the end of a run (SCENARIO.crosscheck.json, "TIME-WAIT vs ss"): the reference tool's
// count, with churn-probe's readings taken just before and just after it.
struct TwAtEnd {
    long ss = 0, probe_before = 0, probe_after = 0;
};

// One setting of the row's sysctl profile, with the `# why:` line above it in the file. Copied into
// levers.json so that the evidence explains itself even after the profile file changes.
struct ProfileSetting {
    std::string key, value, why;
};

struct LeverRow {
    std::string id, what, scenario, settings, status;  // status: "ran" or "not run: needs X"
    bool ran() const { return status == "ran"; }
    // The client (SCENARIO.json).
    double offered_rps = 0, duration_s = 0, achieved_rps = 0;
    double p50_ms = 0, p99_ms = 0, connect_p99_ms = 0;
    long handshakes = 0, eaddrnotavail = 0;
    std::optional<double> first_eaddrnotavail_s;
    // The model: ports ÷ rate (× sources); with tcp_tw_reuse=1, the line ports ÷ delay per second.
    long ports = 0, sources = 1, tw_reuse = -1, fin_timeout_s = -1, max_tw_buckets = -1;
    std::optional<long> reuse_delay_ms;
    std::optional<double> reuse_line_per_s() const;
    std::optional<double> model_first_s() const;  // nullopt: the model says never (pool, or below the line)
    // The kernel (SCENARIO.probe.json): peaks and counter deltas per host.
    long tw_peak_client = 0, tw_peak_server = 0, tw_recycled = 0, tw_overflow_client = 0, tw_overflow_server = 0;
    long rst_out_client = 0, rst_out_server = 0, estab_resets_server = 0, server_close_reset = 0;
    std::optional<TwLifetime> lifetime;  // row 4 only
    std::optional<LingerLoss> loss;      // row 6 only
    std::string loss_not_run;            // row 6: "needs X" when its data-loss case could not run
    std::optional<KernelLog> kernel_log; // row 5 only
    // For the final before/after (levers.final). nullopt: not recorded (a levers.json older than these).
    std::optional<long> active_opens_client;       // TcpActiveOpens delta, client host (churn-probe)
    std::optional<TwAtEnd> tw_end_client, tw_end_server;
    std::optional<std::string> profile;            // "" when the row ran without one
    std::vector<ProfileSetting> profile_settings;  // the profile's settings, in file order
    std::string verdict;                 // computed from the numbers above (row_verdict)
    // Not in levers.json: the plot's series, on the load's time axis.
    std::vector<std::pair<double, double>> rps_series, tw_series;
};

// The one-line verdict of a row, from its numbers (never stored: recomputed from levers.json too).
std::string row_verdict(const LeverRow& r);

// The rows' ids and what each shows, in the order of the issue.
const std::vector<std::pair<std::string, std::string>>& lever_rows();

// DIR/rows.tsv and the files of each row that ran. ReportError names the file and what is wrong.
std::vector<LeverRow> load_levers_dir(const std::string& dir);
// One row's directory (used by load_levers_dir; exposed for tests).
void load_lever_row(LeverRow& r, const std::string& row_dir);

std::string levers_json(const std::vector<LeverRow>& rows);
std::vector<LeverRow> parse_levers_json(const std::string& text, const std::string& name);

std::string render_levers_table(const std::vector<LeverRow>& rows);
std::string render_levers_md(const std::vector<LeverRow>& rows);
// "> Measured (`make run-levers` row 3a (tw-reuse-under), `TW_REUSE=1`): VERDICT; ..." for RUNBOOK.md's
// fix ladder: one Markdown quote line with the row's setting, verdict and key numbers.
std::string render_lever_quote(const std::vector<LeverRow>& rows, const std::string& rung);
// Used by load_lever_row (levers_final.cc). The row's sysctl profile (sysctl.json "profile"), read with the
// sysctl module's parser and checked against the values the lab recorded in both hosts: nothing when the
// row ran without one. TIME-WAIT by ss at the end of the run for one host, from SCENARIO.crosscheck.json's
// text: nullopt when that entry is absent (older runs) or its reading failed.
void load_row_profile(LeverRow& r, const std::string& sysctl_json_path, const std::string& row_dir);
std::optional<TwAtEnd> tw_at_end(const std::string& crosscheck_json_text, const std::string& host, const std::string& name);

// EXPERIMENTS.md's final before/after (issue 9's write-up): row 1-baseline against row 10-pool-profile,
// then "Kernel settings changed:" with row 10's profile, one line per setting and its why. A row that is
// absent from `rows` is a ReportError (the evidence is of another shape); a row that did not run gets a
// column saying so, and a field an older levers.json lacks renders as "not recorded".
std::string render_levers_final(const std::vector<LeverRow>& rows);

// The client host's TIME-WAIT thinned for the plot: the largest sample of each whole second (on the
// series' own clock), at the time it was taken, so a peak or a cap survives the thinning.
std::vector<std::pair<double, double>> thin_max_per_second(const std::vector<std::pair<double, double>>& series);

// gnuplot script (data inline) writing levers.svg: one small panel per row that ran, achieved req/s
// and the client host's TIME-WAIT against time. Empty if no row ran.
std::string levers_gnuplot(const std::vector<LeverRow>& rows);

}  // namespace churn::report
