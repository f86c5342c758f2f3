// cc.h: the CUBIC vs BBR experiment (make run-cc): lab/cc.sh's runs turned into cc.json, cc.md and the
// gnuplot script of the two plots. Arithmetic and text only; every number comes from a run's files.
//
// lab/cc.sh writes DIR/runs.tsv, tab-separated, a header line and then one line per run:
//   cc     loss_pct  rtt_ms  rate_mbps  queue_pkts  client               link
//   cubic  1         50      100        417         cubic-1.client.json  cubic-1.link.json
// client: churn-client --mode bulk's JSON (the sender's tcp_info every 100 ms, the cc the kernel
// confirmed); link: churn-link's JSON, whose A->B counters (client -> server: the data) are the ground
// truth for loss and queue drops. Under netem that file holds only {"mode": "netem"}: no counters.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace churn::report {

// Mathis et al. 1997: a loss-based (Reno-like) sender's throughput ≈ (MSS / RTT) × 1.22 / √p.
// Mbit/s from bytes, ms and percent; nullopt at p = 0, where the model says "unbounded".
std::optional<double> mathis_mbps(double mss_bytes, double rtt_ms, double loss_pct);

struct CcSample {
    double t_s = 0;          // since the connection was established
    double cwnd = 0;         // packets
    double bytes_acked = 0;
    double goodput_mbps = 0; // over the sample's own interval (100 ms)
};

struct CcRun {
    // The path as configured (runs.tsv).
    std::string cc;  // as the kernel confirmed it (getsockopt TCP_CONGESTION), checked against runs.tsv
    double loss_pct = 0, rtt_ms = 0, rate_mbps = 0;
    long queue_pkts = 0;
    // The sender (client JSON).
    double goodput_mbps = 0, mean_cwnd = 0, mean_ssthresh = 0, mean_srtt_ms = 0;
    long retrans = 0, mss = 0;
    std::optional<double> mathis;
    std::vector<std::string> ss_lines;
    std::vector<CcSample> samples;  // not in cc.json (the client JSONs hold them)
    // The link (link JSON); nullopt under netem.
    std::optional<double> link_loss_pct;
    std::optional<long> queue_drops;
    // The host's steal time over the link's run (churn-link's host.steal_pct): a shared VM's hypervisor
    // stalls the link and both stacks for that share of the time; read the goodput beside it.
    std::optional<double> steal_pct;
};

struct CcCheck {
    std::string what, measured, expected;
    bool met = false;
};

struct CcReport {
    std::vector<CcRun> runs;
    std::vector<CcCheck> checks;
};

// One client JSON (churn-client --mode bulk). ReportError names the file and the missing key.
CcRun parse_bulk_json(const std::string& text, const std::string& name);
// Fill link_loss_pct, queue_drops and steal_pct from one churn-link JSON (left empty for {"mode":
// "netem"}; steal_pct also for a JSON from before churn-link reported it).
void apply_link_json(CcRun& run, const std::string& text, const std::string& name);

// The expectations, for each loss level > 0 that has the runs they need, plus the 0 % baseline:
//   BBR ≥ 0.8 × link × (1 − p);  CUBIC within 2× of Mathis;  BBR ÷ CUBIC ≥ 5;  at 0 %: each ≥ 0.8 × link.
std::vector<CcCheck> cc_checks(const std::vector<CcRun>& runs);

// DIR/runs.tsv and the files it names, checked, with the checks computed.
CcReport load_cc_dir(const std::string& dir);

// cc.json: {"runs": [...], "checks": [...]}; and back (the evidence block renders from it).
std::string cc_json(const CcReport& r);
CcReport parse_cc_json(const std::string& text, const std::string& name);

// Markdown: the table; the checks; the ss-style lines. render_cc_md is all three, as cc.md holds them.
std::string render_cc_table(const CcReport& r);
std::string render_cc_checks(const CcReport& r);
std::string render_cc_ss(const CcReport& r);
std::string render_cc_md(const CcReport& r);

// A self-contained gnuplot script (data inline) that writes cwnd.svg and throughput.svg into the
// current directory: CUBIC and BBR together at the highest loss level. Empty if no run has samples.
std::string cc_gnuplot(const CcReport& r);

}  // namespace churn::report
