// diff.h: two saved samples, or two watch runs, side by side.
//
// A file is either one JSON object (states --json, nstat --json, triage --json: one sample of one host)
// or JSON lines from `watch` (many samples, possibly of several hosts). Either way it becomes, per host:
// the first and last sample, each state's peak, and the counters at the first and last sample.
//   two runs      (e.g. churn vs pooled): state peak and end, counter deltas over each run and per second
//   two samples   (e.g. before/after):   state counts A and B, counters B - A
// and a short "what changed" list: the states and counters that moved by more than 10 % (and by more
// than a handful, so 3 -> 4 is not news).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/states.h"

namespace churn::probe {

struct HostRun {
    std::string host;
    size_t samples = 0;
    double duration_s = 0;  // last sample - first sample, CLOCK_MONOTONIC
    double t_first = 0;     // mono_ns of the first sample, in seconds
    StateCounts first, last, peak;
    std::map<std::string, int64_t> nstat_first, nstat_last;
    bool has_states = false, has_nstat = false;
};

struct RunFile {
    std::string path;
    std::vector<HostRun> hosts;  // in order of first appearance
    size_t malformed = 0;        // lines that were not JSON objects (a torn last line), skipped
    bool is_run() const;         // more than one sample of some host
};

// Parse a file's text; `path` names it in errors. Throws ProbeError when nothing usable is in it.
RunFile parse_run(std::string_view text, const std::string& path);
RunFile load_run(const std::string& path);

struct Diff {
    nlohmann::ordered_json json;
    std::string text;
};
Diff diff_runs(const RunFile& a, const RunFile& b);

}  // namespace churn::probe
