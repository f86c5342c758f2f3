// options.h: churn-link's command line, parsed and checked in one place (unit-testable: no fds).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "link/path.h"

namespace churn {

struct LinkOptions {
    std::string ns_a, ns_b;                 // as given: a name under /run/netns, or a path
    std::string dev_a = "churn-a", dev_b = "churn-b";
    DirectionConfig ab, ba;                 // A->B and B->A
    uint64_t seed = 1;
    uint64_t drop_synack = 0;               // drop the first N SYN-ACKs of every connection (link/synack.h)
    double duration_s = 600;                // every run stops by itself; > 0
    int rt_priority = 10;                   // SCHED_FIFO priority (1-99); 0 = normal scheduling
    int cpu = -1;                           // pin to this CPU (sched_setaffinity); -1 = let the kernel choose
    bool mlock = true;                      // mlockall: no page fault in the packet path
    uint64_t spin_max_us = 100;             // busy-wait at most this long before a due time; 0 = never
    std::string json_path;
    bool quiet = false;
};


// Parse argv (argv[0] is the program, the subcommand already removed) into `opt`. Returns -1 when the link
// should run; otherwise the exit code with the text already written: 0 after --help, 2 after a bad value
// (one line to `err`, e.g. "churn-link: --loss-ab: must be between 0 and 100 %, got 150").
int parse_link_cli(int argc, const char* const* argv, LinkOptions& opt, std::ostream& out, std::ostream& err);

// One line describing a direction's configuration: "delay 25 ms, loss 1 %, rate 100 Mbit/s, queue 417 pkts".
std::string describe(const DirectionConfig& d);

}  // namespace churn
