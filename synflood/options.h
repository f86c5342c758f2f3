// options.h: churn-synflood's command line, parsed and checked in one place, without touching the network
// (tests/unit/test_synflood_guard.cc runs bad input through it).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "synflood/guard.h"
#include "synflood/packet.h"

namespace churn::synflood {

struct Options {
    std::string target_text, spoof_text;
    uint32_t target = 0;       // host byte order
    uint16_t port = 0;
    Prefix spoof;
    double rate = 1000;        // SYN/s
    uint64_t count = 0;        // SYNs to attempt; 0 until parsed = rate x duration
    double duration_s = 10;
    uint64_t seed = 1;
    SynOptions syn_options = SynOptions::Mss;
    std::string json_path;
    bool quiet = false;
};

constexpr double kMaxRate = 1'000'000, kMaxDuration = 600;

// Returns -1 when the flood should run; otherwise the exit code with the text already written: 0 after
// --help, 2 after bad input (one line to `err`, "churn-synflood: --rate: ..."). The address fences
// (check_target, check_spoof) are applied here too: a refused target is bad input, exit 2.
int parse_cli(int argc, const char* const* argv, Options& opt, std::ostream& out, std::ostream& err);

}  // namespace churn::synflood
