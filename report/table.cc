// table.cc: render the compare table; see table.h.
#include "report/table.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

namespace churn::report {
namespace {

constexpr const char* kAddrNotAvail = "EADDRNOTAVAIL";

std::string format_fixed(double x, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
    return buf;
}

std::string format_int(long v) { return std::to_string(v); }

long count_of(const std::map<std::string, long>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
}

// Errors other than EADDRNOTAVAIL, which has its own row: "ETIMEDOUT 3, ECONNRESET 1" or "none".
std::string other_errors(const ClientRun& r) {
    std::string out;
    for (const auto& [name, n] : r.errors) {
        if (name == kAddrNotAvail || n == 0) continue;
        out += (out.empty() ? "" : ", ") + name + " " + format_int(n);
    }
    return out.empty() ? "none" : out;
}

// Rates: whole numbers from 100/s up (nobody reads "2987.4 req/s" as more precise than 2987), three
// significant digits below (a pool of 32 connections over 20 s is 1.60 handshakes/s, not 2).
std::string per_s(double x) { return x >= 100 ? format_fixed(x, 0) : format_sig(x, 3); }

std::string offered(const ClientRun& r) { return r.rate > 0 ? per_s(r.rate) : "closed loop"; }

std::string ms(double us) { return format_sig(us / 1000.0, 3); }

}  // namespace

std::string format_sig(double x, int sig) {
    if (!std::isfinite(x)) return "n/a";
    if (x == 0) return "0";
    int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(x))));  // 1234 -> 3, 0.0853 -> -2
    int decimals = std::max(0, sig - 1 - magnitude);
    std::string s = format_fixed(x, decimals);
    // Rounding can carry into a new digit (9.996 -> "10.00"); redo with one decimal fewer.
    if (decimals > 0 && std::fabs(std::stod(s)) >= std::pow(10.0, magnitude + 1)) s = format_fixed(x, decimals - 1);
    return s;
}

std::string first_error_cell(const ClientRun& run, const std::string& errname, long ports) {
    std::string model = run.rate > 0 ? format_sig(static_cast<double>(ports) / run.rate, 2) + " s" : "n/a";
    auto it = run.first_error_s.find(errname);
    std::string seen = it == run.first_error_s.end() ? "never" : format_sig(it->second, 2) + " s";
    return seen + " (model " + model + ")";
}

std::string render_table(const CompareRun& run) {
    const ClientRun& c = run.churn;
    const ClientRun& p = run.pooled;
    long ports = run.sysctl.ports();
    struct Row {
        const char* metric;
        std::function<std::string(const ClientRun&, const TwSummary&)> cell;
    };
    const std::vector<Row> rows = {
        {"offered load (req/s)", [](auto& r, auto&) { return offered(r); }},
        {"achieved (ok responses/s)", [](auto& r, auto&) { return per_s(r.rps); }},
        {"latency p50 (ms)", [](auto& r, auto&) { return ms(r.latency.p50_us); }},
        {"latency p99 (ms)", [](auto& r, auto&) { return ms(r.latency.p99_us); }},
        {"latency p99.9 (ms)", [](auto& r, auto&) { return ms(r.latency.p999_us); }},
        {"connect p50 / p99 (ms)",
         [](auto& r, auto&) { return ms(r.connect.p50_us) + " / " + ms(r.connect.p99_us); }},
        {"TCP handshakes/s", [](auto& r, auto&) { return per_s(r.handshakes_per_s); }},
        {"EADDRNOTAVAIL (connect failed)", [](auto& r, auto&) { return format_int(count_of(r.errors, kAddrNotAvail)); }},
        {"first EADDRNOTAVAIL", [&](auto& r, auto&) { return first_error_cell(r, kAddrNotAvail, ports); }},
        {"TIME-WAIT client host, peak", [](auto&, auto& tw) { return format_int(tw.client_peak); }},
        {"TIME-WAIT client host, final", [](auto&, auto& tw) { return format_int(tw.client_final); }},
        {"TIME-WAIT server host, peak", [](auto&, auto& tw) { return format_int(tw.server_peak); }},
        {"TIME-WAIT server host, final", [](auto&, auto& tw) { return format_int(tw.server_final); }},
        {"requests failed / unfinished",
         [](auto& r, auto&) { return format_int(r.requests_failed) + " / " + format_int(r.requests_unfinished); }},
        {"other errors", [](auto& r, auto&) { return other_errors(r); }},
    };

    // The kernel's count of connect()s that sent a SYN on the client host (TcpActiveOpens, from churn-probe
    // watch), over the whole load including warmup, right under the client's own handshakes/s: two
    // independent counts of one thing. Only for runs that have the probe's files.
    bool probed = run.churn_probe.present && run.pooled_probe.present;
    bool wired = run.churn_wire.present && run.pooled_wire.present;
    double rtt_us = run.path.rtt_ms * 1000;
    // The capture covers only the first seconds of a run, and churn's connection rate changes over a
    // run, so the wire is compared with the client's own count over the same whole seconds.
    auto wire_cell = [](const WireSummary& w, const ClientRun& r) {
        long secs = std::max(1L, std::lround(w.window_s)), n = 0;
        for (const auto& s : r.timeline)
            if (s.t <= secs) n += s.connects;
        return per_s(w.handshakes_per_s) + " (" + per_s(static_cast<double>(n) / secs) + ")";
    };
    auto kernel_opens = [&](const ProbeSummary& ps, const ClientRun& r) {
        double load_s = r.duration_s + run.meta.warmup_s;
        return load_s > 0 ? per_s(static_cast<double>(ps.client_active_opens) / load_s) : std::string("n/a");
    };

    std::string out = "| metric | churn | pooled |\n|---|---:|---:|\n";
    for (const Row& row : rows) {
        out += std::string("| ") + row.metric + " | " + row.cell(c, run.churn_tw) + " | " + row.cell(p, run.pooled_tw) + " |\n";
        if (probed && std::string(row.metric) == "TCP handshakes/s")
            out += "| TcpActiveOpens/s (kernel, client host) | " + kernel_opens(run.churn_probe, c) + " | " +
                   kernel_opens(run.pooled_probe, p) + " |\n";
        if (wired && std::string(row.metric) == "TCP handshakes/s")
            out += "| handshakes/s on the wire, first " + format_sig(run.churn_wire.window_s, 2) +
                   " s (client's count then) | " + wire_cell(run.churn_wire, c) + " | " + wire_cell(run.pooled_wire, p) + " |\n";
        if (rtt_us > 0 && std::string(row.metric) == "latency p50 (ms)")
            out += "| latency p50 ÷ path RTT | " + format_sig(c.latency.p50_us / rtt_us, 3) + " | " +
                   format_sig(p.latency.p50_us / rtt_us, 3) + " |\n";
    }

    // A blank line first: in GitHub Markdown a line right under a table is read as one more row.
    out += "\n";
    out += run.meta.knobs + "; client host ip_local_port_range " + format_int(run.sysctl.port_lo) + "-" +
           format_int(run.sysctl.port_hi) + " (" + format_int(ports) + " ports)";
    if (run.sysctl.tw_reuse >= 0) out += ", tcp_tw_reuse " + format_int(run.sysctl.tw_reuse);
    if (run.path.present)
        out += rtt_us > 0 ? "; path " + run.path.path + ", RTT " + format_sig(run.path.rtt_ms, 3) + " ms" : "; path: bare veth";
    out += "; kernel " + run.meta.kernel + "; " + run.meta.date + "\n";
    if (probed) {
        size_t checks = run.churn_probe.crosschecks + run.pooled_probe.crosschecks;
        bool ok = run.churn_probe.crosscheck_ok && run.pooled_probe.crosscheck_ok;
        out += "\nTIME-WAIT and TcpActiveOpens: churn-probe watch (sock_diag, /proc/net/snmp) on both hosts";
        if (checks > 0)
            out += std::string("; cross-checked against ss and nstat at the end of each run (") + format_int(static_cast<long>(checks)) +
                   (checks == 1 ? " check" : " checks") + (ok ? ", all agree)" : ", SOME DISAGREE)");
        out += "\n";
    }
    size_t malformed = run.churn_tw.malformed + run.pooled_tw.malformed;
    if (malformed > 0)
        out += "\n(" + format_int(static_cast<long>(malformed)) + " malformed TIME-WAIT sample lines skipped)\n";
    return out;
}

}  // namespace churn::report
