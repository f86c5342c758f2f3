// churn-probe: what the kernel says about TCP sockets and counters, on one host or on both lab hosts.
//
//   churn-probe states [--netns NAME] [--by state|lport|remote] [--sport P] [--dport P] [--json] [--proc]
//   churn-probe watch  [--netns [LABEL=]NAME]... [--interval 100ms] [--duration S|--count N] [-o FILE] [--info]
//                      [--counters churn|syncookies|all|NAME,...]
//   churn-probe info   [--netns NAME] [--sport P] [--dport P] [--src A] [--dst A] [--json]
//   churn-probe nstat  [--netns NAME] [NAME...] [--json] | --delta A B | --since A
//   churn-probe diff   A B [--json]
//   churn-probe triage [--netns NAME] [--tried pool,tw_reuse,port_range] [--json]
//
// Exit status: 0 ok; 2 bad input or a one-line error (unknown namespace, no permission, bad filter);
// 1 an unexpected failure.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "loop/cli.h"
#include "probe/commands.h"

using namespace churn::probe;

namespace {

// Raw text of the options that need parsing after CLI11 (filters, state lists), per subcommand.
struct RawCommon {
    std::string sport, dport, src, dst, state;
};

void add_common(CLI::App* sub, CommonArgs& c, RawCommon& raw, bool multi_netns, bool filters) {
    if (multi_netns)
        sub->add_option("--netns", c.netns,
                        "lab host to watch: [LABEL=]NAME (/run/netns/NAME or a path like /proc/PID/ns/net); "
                        "repeat for several hosts; none = this host")
            ->type_name("[LABEL=]NAME");
    else
        sub->add_option("--netns", c.netns, "network namespace to probe: NAME (/run/netns/NAME) or a path")
            ->type_name("NAME")
            ->expected(1);
    sub->add_flag("--proc", c.host.force_proc, "read /proc/net/tcp{,6} instead of sock_diag (used anyway when sock_diag is unavailable)");
    if (filters) {
        sub->add_option("--sport", raw.sport, "local port or LO-HI range (kernel-side filter)")->type_name("PORT");
        sub->add_option("--dport", raw.dport, "remote port or LO-HI range (kernel-side filter)")->type_name("PORT");
        sub->add_option("--src", raw.src, "local address ADDR[/PREFIX] (kernel-side filter)")->type_name("ADDR");
        sub->add_option("--dst", raw.dst, "remote address ADDR[/PREFIX] (kernel-side filter)")->type_name("ADDR");
        sub->add_option("--state", raw.state, "only these states, comma-separated (time-wait,close-wait; all)")->type_name("LIST");
    }
}

void finish_common(CommonArgs& c, const RawCommon& raw) {
    if (!raw.sport.empty()) c.filter.sport = parse_port_range("--sport", raw.sport);
    if (!raw.dport.empty()) c.filter.dport = parse_port_range("--dport", raw.dport);
    if (!raw.src.empty()) c.filter.src = parse_host_cond("--src", raw.src);
    if (!raw.dst.empty()) c.filter.dst = parse_host_cond("--dst", raw.dst);
    if (!raw.state.empty()) c.states = parse_state_list(raw.state);
}

// "100ms", "0.5s", "2" (unit given by `bare_unit_us`), at most `max_us`. Throws ProbeError. The number
// is checked the way loop/cli.h checks every numeric option: finite ("nan", "inf" are refused), >= 0.
uint64_t parse_duration_us(const std::string& option, const std::string& text, double bare_unit_us, double max_us) {
    size_t unit_at = text.find_first_not_of("0123456789.eE+-");
    std::string unit = unit_at == std::string::npos ? "" : text.substr(unit_at);
    double v = 0;
    bool number = churn::cli::parse_finite(text.substr(0, unit_at), v);
    double us = unit.empty() ? v * bare_unit_us : unit == "ms" ? v * 1e3 : unit == "s" ? v * 1e6 : unit == "us" ? v : -1;
    if (!number || us < 0) throw ProbeError(option + ": '" + text + "' is not a duration (100ms, 0.5s)");
    // Bounded before the cast: a double past 2^64 converted to uint64_t is undefined behaviour.
    if (us > max_us) throw ProbeError(option + ": '" + text + "' is too long (at most " + std::to_string(static_cast<uint64_t>(max_us / 1e6)) + " s)");
    return static_cast<uint64_t>(us);
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t c = s.find(',', start);
        if (c == std::string::npos) c = s.size();
        if (c > start) out.push_back(s.substr(start, c - start));
        start = c + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"churn-probe: TCP socket states over netlink sock_diag, tcp_info, nstat counters, time series, "
                 "run diffs and a connection-churn triage"};
    app.name("churn-probe");
    app.require_subcommand(1);

    StatesArgs states;
    RawCommon states_raw;
    std::string states_by = "state";
    auto* s = app.add_subcommand("states", "count TCP sockets by state (IPv4 + IPv6), like ss -tan | count");
    add_common(s, states.common, states_raw, false, true);
    s->add_option("--by", states_by, "group by: state (default), lport (local port), remote (remote addr:port)")->type_name("GROUP");
    churn::cli::add_number(*s, "--top", states.top, "groups to show, largest first (0 = all; default 20)")->type_name("N");
    s->add_flag("--json", states.common.json, "one JSON object: {\"states\": {\"ESTAB\": n, ...}, \"total\": n, ...}");
    s->add_option("--record", states.common.host.record_path, "also write every sock_diag datagram received, as hex, one per line")
        ->type_name("FILE");

    WatchArgs watch;
    RawCommon watch_raw;
    std::string interval = "100ms", duration = "0", counters;
    auto* w = app.add_subcommand("watch", "sample states and counters every --interval into JSON lines (one line per host per sample)");
    add_common(w, watch.common, watch_raw, true, true);
    w->add_option("--interval", interval, "time between samples: 100ms (default), 0.5s; a bare number is ms")->type_name("DUR");
    w->add_option("--duration", duration, "stop after this long: 40 (seconds), 500ms; 0 = until SIGINT/SIGTERM")->type_name("DUR");
    churn::cli::add_number(*w, "--count", watch.count, "stop after N samples (0 = no limit)")->type_name("N");
    w->add_option("-o,--out", watch.out, "write the JSON lines to FILE (default stdout)")->type_name("FILE");
    w->add_flag("--info", watch.info, "add per-connection tcp_info (\"conns\") for sockets matching the filters");
    w->add_option("--counters", counters, "counters in each line: comma-separated names, a set (churn, syncookies), "
                  "or all (default: churn)")->type_name("LIST");
    w->add_flag("-q,--quiet", watch.quiet, "no live one-line view on a terminal");

    InfoArgs info;
    RawCommon info_raw;
    auto* i = app.add_subcommand("info", "per-connection tcp_info like ss -tin: rtt, rto, cwnd, retrans, rates, congestion control");
    add_common(i, info.common, info_raw, false, true);
    i->add_flag("--json", info.common.json, "one JSON object with a \"conns\" array");
    i->add_option("--record", info.common.host.record_path, "also write every sock_diag datagram received, as hex, one per line")
        ->type_name("FILE");

    NstatArgs nstat;
    RawCommon nstat_raw;
    std::vector<std::string> delta;
    auto* n = app.add_subcommand("nstat", "kernel counters from /proc/net/{snmp,netstat,snmp6} under nstat's names");
    add_common(n, nstat.common, nstat_raw, false, false);
    n->add_option("NAME", nstat.names, "counters to print: exact names, a prefix with * (TcpExt*), or a set (churn, "
                  "syncookies); default all non-zero");
    n->add_flag("--json", nstat.common.json, "one JSON object: {\"nstat\": {\"TcpActiveOpens\": n, ...}} (every counter)");
    n->add_option("--delta", delta, "B - A of two saved samples (files from nstat --json or watch)")->expected(2)->type_name("A B");
    n->add_option("--since", nstat.since, "now minus a saved sample")->type_name("FILE");
    n->add_flag("-z,--zeros", nstat.zeros, "also print counters that are 0");

    DiffArgs diff;
    auto* d = app.add_subcommand("diff", "two saved samples or two watch runs side by side: states, counter deltas, what changed");
    d->add_option("A", diff.a, "first sample or run (JSON or JSON lines)")->required();
    d->add_option("B", diff.b, "second sample or run")->required();
    d->add_flag("--json", diff.json, "JSON instead of the table");

    TriageArgs triage;
    RawCommon triage_raw;
    std::string tried;
    auto* t = app.add_subcommand("triage", "the runbook's first minutes: states, TIME-WAIT endpoints and rate vs the port range, "
                                           "CLOSE-WAIT owners, next rung of the fix ladder");
    add_common(t, triage.common, triage_raw, false, false);
    t->add_option("--tried", tried, "rungs already taken, comma-separated: pool, tw_reuse, port_range")->type_name("LIST");
    churn::cli::add_number(*t, "--top", triage.top, "remote endpoints and owners to list (default 5)")->type_name("N");
    t->add_flag("--json", triage.common.json, "JSON instead of text");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::cerr << "churn-probe: " << e.what() << "\n";
        return 2;
    }

    try {
        if (*s) {
            finish_common(states.common, states_raw);
            states.by = parse_group_by(states_by);
            return run_states(states);
        }
        if (*w) {
            finish_common(watch.common, watch_raw);
            watch.interval_us = parse_duration_us("--interval", interval, 1e3, 3600e6);
            if (watch.interval_us < 1000) throw ProbeError("--interval: must be at least 1ms");
            watch.duration_s = static_cast<double>(parse_duration_us("--duration", duration, 1e6, 7 * 86400e6)) / 1e6;
            if (!counters.empty()) watch.counters = expand_counter_sets(split_commas(counters));
            return run_watch(watch);
        }
        if (*i) {
            finish_common(info.common, info_raw);
            // ss -tin's default: every connection, not listeners, not TIME-WAIT or request socks (which
            // carry no tcp_info). --state overrides.
            if (info_raw.state.empty())
                info.common.states = kAllStates & ~(state_bit(kListen) | state_bit(kTimeWait) | state_bit(kSynRecv) |
                                                    state_bit(kNewSynRecv) | state_bit(kClose));
            return run_info(info);
        }
        if (*n) {
            finish_common(nstat.common, nstat_raw);
            nstat.names = expand_counter_sets(nstat.names);
            if (!delta.empty()) nstat.delta_a = delta[0], nstat.delta_b = delta[1];
            if (!nstat.delta_a.empty() && !nstat.since.empty()) throw ProbeError("nstat: --delta and --since exclude each other");
            return run_nstat(nstat);
        }
        if (*d) return run_diff(diff);
        if (*t) {
            finish_common(triage.common, triage_raw);
            triage.tried = split_commas(tried);
            for (const std::string& r : triage.tried)
                if (r != "pool" && r != "tw_reuse" && r != "port_range")
                    throw ProbeError("--tried: unknown rung '" + r + "' (pool, tw_reuse, port_range)");
            return run_triage(triage);
        }
    } catch (const ProbeError& e) {
        std::cerr << "churn-probe: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "churn-probe: " << e.what() << "\n";
        return 1;
    }
    return 2;
}
