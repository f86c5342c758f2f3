// commands.h: what each churn-probe subcommand needs, parsed by main.cc, run by the file that owns the
// idea (states.cc's neighbours: cmd_oneshot.cc for states/info/nstat, watch.cc, diff.cc, triage_cmd.cc).
// Every run_* returns the exit status and throws ProbeError for a one-line error (exit 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probe/diag_filter.h"
#include "probe/host.h"
#include "probe/states.h"

namespace churn::probe {

struct CommonArgs {
    std::vector<std::string> netns;  // [LABEL=]NAME, repeatable for watch only
    HostOptions host;
    Filter filter;
    uint32_t states = kAllStates;    // --state LIST (a mask of reported states)
    bool json = false;
};

struct StatesArgs {
    CommonArgs common;
    GroupBy by = GroupBy::State;
    size_t top = 20;
};

struct InfoArgs {
    CommonArgs common;  // states default: every state that has tcp_info (not TIME-WAIT/SYN-RECV)
};

struct NstatArgs {
    CommonArgs common;
    std::vector<std::string> names;  // exact names, or a prefix ending in '*' (TcpExt*)
    std::string delta_a, delta_b;    // --delta A B: B - A from two saved samples
    std::string since;               // --since A: now - A
    bool zeros = false;              // print counters that are 0 (nstat -z)
};

struct WatchArgs {
    CommonArgs common;
    uint64_t interval_us = 100'000;
    double duration_s = 0;       // 0: until SIGINT/SIGTERM or --count
    uint64_t count = 0;          // 0: no limit
    std::string out;             // JSON lines to this file; empty = stdout
    bool info = false;           // per-connection tcp_info in every line
    std::vector<std::string> counters;  // empty: churn_counters(); {"all"}: every counter
    bool quiet = false;          // no live line on a terminal
};

struct DiffArgs {
    std::string a, b;
    bool json = false;
};

struct TriageArgs {
    CommonArgs common;
    std::vector<std::string> tried;  // rungs already taken: pool, tw_reuse, port_range
    size_t top = 5;
};

int run_states(const StatesArgs& a);
int run_info(const InfoArgs& a);
int run_nstat(const NstatArgs& a);
int run_watch(const WatchArgs& a);
int run_diff(const DiffArgs& a);
int run_triage(const TriageArgs& a);

// --state "time-wait,close-wait" -> mask. Throws ProbeError naming the bad state.
uint32_t parse_state_list(const std::string& text);

// The one host of a single-host command (states, info, nstat, triage).
std::unique_ptr<Host> open_single_host(const CommonArgs& c);

}  // namespace churn::probe
