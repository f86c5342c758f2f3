// reading.h: the parts of EXPERIMENTS.md that put numbers into sentences. The prose around them is
// written by hand and carries no numbers; every figure a reader sees is computed here from the run's
// files, so re-running `make compare` + `make experiments` can never leave a stale number in the text.
#pragma once

#include <string>

#include "report/results.h"

namespace churn::report {

// Churn's per-second timeline every `step_s` seconds: ok responses, new connections, EADDRNOTAVAIL,
// client-host TIME-WAIT (nearest sample), next to pooled's ok responses.
std::string render_timeline(const CompareRun& run, int step_s);

// A few sentences with the figures that explain the table: where connect() slowed, when the ports ran
// out against the model, where TIME-WAIT landed.
std::string render_reading(const CompareRun& run);

// First measured second whose new connections fell below `fraction` of the offered rate; 0 if none.
long first_slow_second(const ClientRun& r, double fraction);

}  // namespace churn::report
