// tw_csv.h: the TIME-WAIT samples lab/tw-sample.sh writes, `t_s,client_tw,server_tw` every 200 ms.
//
// The sampler is a shell loop that can be killed mid-line (SIGKILL at teardown, a full disk), so a bad
// line is counted and skipped, never fatal: one torn last line must not lose a 20 s run.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace churn::report {

struct TwSample {
    double t_s = 0;       // seconds since the sampler started
    long client_tw = 0;   // TIME-WAIT sockets on the client host
    long server_tw = 0;   // ... on the server host
};

struct TwSeries {
    std::vector<TwSample> samples;
    size_t malformed = 0;        // lines skipped: wrong field count, not numbers, negative counts
    size_t first_malformed = 0;  // 1-based line number of the first one, for the warning
};

// The header line `t_s,client_tw,server_tw` is optional; blank lines are ignored.
TwSeries parse_tw_csv(std::istream& in);

// Peak = the largest sample; final = the last one (taken ~1 s after the load stopped, so it shows how
// much TIME-WAIT is still standing: with a 60 s TIME-WAIT, nearly all of it).
struct TwSummary {
    long client_peak = 0, client_final = 0;
    long server_peak = 0, server_final = 0;
    size_t samples = 0;
    size_t malformed = 0;
};
TwSummary summarize(const TwSeries& series);

}  // namespace churn::report
