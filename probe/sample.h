// sample.h: the header every churn-probe JSON object starts with, so that saved outputs can be told
// apart and compared later (churn-probe diff, churn-report):
//   {"host": "client", "netns": "churnlab-ab12cd-cli", "source": "netlink",
//    "mono_ns": 123456789, "wall": "2026-11-21T09:48:50.123Z", ...}
// mono_ns is CLOCK_MONOTONIC (for intervals between samples); wall is CLOCK_REALTIME, only for
// lining a sample up with other logs, never for arithmetic.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "probe/host.h"

namespace churn::probe {

// "2026-11-21T09:48:50.123Z" for now.
std::string wall_now();

nlohmann::ordered_json sample_header(const Host& h, uint64_t mono_ns);

// {"TcpActiveOpens": 12, ...} for the names given (all when `names` is empty), in the order given.
nlohmann::ordered_json counters_json(const Counters& c, const std::vector<std::string>& names);

}  // namespace churn::probe
