// table.h: the before/after table of `make compare`, as Markdown.
//
//   | metric                     | churn               | pooled               |
//   | offered load (req/s)       | 3000                | 3000                 |
//   | first EADDRNOTAVAIL        | 9.8 s (model 9.4 s) | never (model 9.4 s)  |
//   ...
// followed by one line naming the knobs, the client host's port range, the kernel and the date.
#pragma once

#include <string>

#include "report/results.h"

namespace churn::report {

// Numbers for people: `sig` significant digits, but never an exponent and never trailing ".0" noise
// (0.0853 -> "0.0853", 12.34 -> "12.3", 1234.6 -> "1235").
std::string format_sig(double x, int sig);

// "9.8 s (model 9.4 s)", "never (model 9.4 s)", "0.53 s (model n/a)" (closed loop: no offered rate).
// The model: a client that closes first keeps each port in TIME-WAIT for 60 s, so at `rate` new
// connections per second the range of `ports` runs out after ports / rate seconds (if that is < 60 s).
std::string first_error_cell(const ClientRun& run, const std::string& errname, long ports);

std::string render_table(const CompareRun& run);

}  // namespace churn::report
