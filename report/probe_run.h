// probe_run.h: what `churn-probe watch` recorded during one scenario, made small enough to keep.
//
// The watcher writes SCENARIO.probe.jsonl: one JSON line per host ("client", "server") every 100 ms,
// with the counts by state and the churn set of nstat counters (probe/watch.h). That file is big (a
// line is ~700 bytes) and stays in results/. `churn-report probe DIR SCENARIO` derives from it:
//   SCENARIO.tw.csv      t_s,client_tw,server_tw   (the plot and the table's TIME-WAIT rows)
//   SCENARIO.probe.json  per host: peak and final count of every state, counters first/last/delta,
//                        samples, duration; plus the end-of-run cross-check against ss and nstat
//                        (SCENARIO.crosscheck.json, written by lab/scenario.sh) when there is one.
// Both are small and go to evidence/. The table reads TcpActiveOpens per second from probe.json.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "report/tw_csv.h"

namespace churn::report {

struct ProbeHost {
    std::string netns;
    size_t samples = 0;
    double duration_s = 0;
    std::map<std::string, long> states_peak, states_final;
    std::map<std::string, long> nstat_first, nstat_last;
    long delta(const std::string& counter) const;  // last - first; 0 when absent
};

struct ProbeRun {
    std::map<std::string, ProbeHost> hosts;  // "client", "server"
    TwSeries tw;                             // client/server TIME-WAIT per tick
    size_t malformed = 0;                    // lines that were not complete JSON objects (a torn last line)
    double interval_ms = 0;                  // median spacing of the client's samples
    long max_sample_us = 0;                  // the slowest sample (probe cost)
    double busy_s = 0;                       // CPU time spent sampling, all hosts (sum of sample_cpu_us)
    double busy_fraction() const;            // busy_s / the client host's watch duration: share of one CPU
};

// Parse the watcher's JSON lines. `name` is the path used in errors (ReportError when nothing usable).
ProbeRun parse_probe_jsonl(const std::string& text, const std::string& name);

// The summary file's JSON text (crosscheck_json: the contents of SCENARIO.crosscheck.json, or "").
std::string probe_summary_json(const ProbeRun& run, const std::string& crosscheck_json);
// TIME-WAIT series as the CSV lab/tw-sample.sh used to write.
std::string tw_csv_text(const TwSeries& s);

// What the table needs back from SCENARIO.probe.json.
struct ProbeSummary {
    bool present = false;
    long client_active_opens = 0;   // TcpActiveOpens delta on the client host over the watch
    double duration_s = 0;          // the client host's watch duration
    bool crosscheck_ok = true;
    size_t crosschecks = 0;
    double interval_ms = 0;
    long max_sample_us = 0;
    double busy_fraction = 0;       // CPU the watcher used, as a share of one CPU over the run
};
ProbeSummary parse_probe_summary(const std::string& text, const std::string& name);

// `churn-report probe DIR SCENARIO`: DIR/SCENARIO.probe.jsonl -> DIR/SCENARIO.tw.csv, DIR/SCENARIO.probe.json.
void derive_probe_files(const std::string& dir, const std::string& scenario);

}  // namespace churn::report
