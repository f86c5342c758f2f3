// reading.cc: see reading.h.
#include "report/reading.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "report/table.h"

namespace churn::report {
namespace {

long tw_near(const TwSeries& s, double t) {
    // The sampler starts a moment before the client, so its clock and the client's differ by a fraction
    // of a second; the nearest sample is close enough for a table in steps of seconds.
    long best = 0;
    double dist = 1e300;
    for (const TwSample& x : s.samples)
        if (std::fabs(x.t_s - t) < dist) dist = std::fabs(x.t_s - t), best = x.client_tw;
    return best;
}

long errors_in(const ClientRun::Second& s, const char* name) {
    auto it = s.errors.find(name);
    return it == s.errors.end() ? 0 : it->second;
}

const ClientRun::Second* second_at(const ClientRun& r, long t) {
    for (const auto& s : r.timeline)
        if (s.t == t) return &s;
    return nullptr;
}

std::string n(double x) { return format_sig(x, 3); }
std::string whole(long x) { return std::to_string(x); }

}  // namespace

long first_slow_second(const ClientRun& r, double fraction) {
    if (r.rate <= 0) return 0;
    for (const auto& s : r.timeline)
        if (s.connects < fraction * r.rate) return s.t;
    return 0;
}

std::string render_timeline(const CompareRun& run, int step_s) {
    const ClientRun& c = run.churn;
    std::string out =
        "| t (s) | churn ok/s | churn new connections/s | churn EADDRNOTAVAIL/s | client TIME-WAIT | pooled ok/s |\n"
        "|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& s : c.timeline) {
        if (s.t != 1 && s.t % step_s != 0) continue;
        const ClientRun::Second* p = second_at(run.pooled, s.t);
        out += "| " + whole(s.t) + " | " + whole(s.requests) + " | " + whole(s.connects) + " | " +
               whole(errors_in(s, "EADDRNOTAVAIL")) + " | " + whole(tw_near(run.churn_tw_series, s.t)) + " | " +
               (p ? whole(p->requests) : "-") + " |\n";
    }
    return out;
}

std::string render_reading(const CompareRun& run) {
    const ClientRun& c = run.churn;
    const ClientRun& p = run.pooled;
    long ports = run.sysctl.ports();
    std::string out;

    out += "- Both runs were offered " + n(c.rate) + " requests/s for " + n(c.duration_s) + " s. Pooled answered " +
           whole(p.requests_ok) + " of " + whole(p.requests_scheduled) + " over " + whole(p.handshakes) +
           " connections; churn answered " + whole(c.requests_ok) + " of " + whole(c.requests_scheduled) +
           ", each over its own connection.\n";

    long slow = first_slow_second(c, 0.8);
    if (slow > 0) {
        // Connection rate over the plateau between the slowdown and the first EADDRNOTAVAIL (or the end).
        auto fe = c.first_error_s.find("EADDRNOTAVAIL");
        long until = fe == c.first_error_s.end() ? c.timeline.back().t : static_cast<long>(fe->second);
        std::vector<long> plateau;
        for (const auto& s : c.timeline)
            if (s.t > slow && s.t < until) plateau.push_back(s.connects);
        std::sort(plateau.begin(), plateau.end());
        long median = plateau.empty() ? 0 : plateau[plateau.size() / 2];
        out += "- Churn opened connections at the offered rate only until second " + whole(slow) + ", when " +
               whole(tw_near(run.churn_tw_series, slow)) + " of the " + whole(ports) +
               " local ports were in TIME-WAIT on the client host. From there the median was " + whole(median) +
               " new connections/s, and connect() took " + n(c.connect.p50_us / 1000) + " ms at p50 and " +
               n(c.connect.p99_us / 1000) + " ms at p99 (pooled: " + n(p.connect.p50_us / 1000) + " ms and " +
               n(p.connect.p99_us / 1000) + " ms).\n";
    }
    auto fe = c.first_error_s.find("EADDRNOTAVAIL");
    std::string model = c.rate > 0 ? n(ports / c.rate) + " s" : "n/a";
    if (fe != c.first_error_s.end()) {
        // New connections in the whole seconds after the one holding the first failure.
        long later = 0, seconds_after = 0;
        for (const auto& s : c.timeline)
            if (s.t > static_cast<long>(std::ceil(fe->second))) later += s.connects, ++seconds_after;
        out += "- The first EADDRNOTAVAIL came at " + n(fe->second) + " s; the model (ports ÷ offered rate) said " +
               model + ". After it, " + whole(c.errors.count("EADDRNOTAVAIL") ? c.errors.at("EADDRNOTAVAIL") : 0) +
               " connect() calls failed with it";
        // The run may end within the second of the first failure: then there is no "after" to report.
        out += seconds_after > 0 ? ", and the " + whole(seconds_after) + " whole seconds that followed saw " + whole(later) +
                                       " new connections.\n"
                                 : " before the run ended.\n";
    } else {
        out += "- Churn never hit EADDRNOTAVAIL in this run (the model, ports ÷ offered rate, said " + model + ").\n";
    }
    out += "- TIME-WAIT: churn peaked at " + whole(run.churn_tw.client_peak) + " on the client host and " +
           whole(run.churn_tw.server_peak) + " on the server host; pooled at " + whole(run.pooled_tw.client_peak) +
           " and " + whole(run.pooled_tw.server_peak) + ".\n";
    out += "- Latency, counted from each request's intended send time: churn p50 " + n(c.latency.p50_us / 1000) +
           " ms and p99 " + n(c.latency.p99_us / 1000) + " ms; pooled p50 " + n(p.latency.p50_us / 1000) +
           " ms and p99 " + n(p.latency.p99_us / 1000) + " ms.\n";
    if (run.churn_probe.present && run.pooled_probe.present) {
        const ProbeSummary& cp = run.churn_probe;
        out += "- churn-probe sampled both hosts every " + n(cp.interval_ms) + " ms. In the churn run a sample took up to " +
               n(static_cast<double>(cp.max_sample_us) / 1000) + " ms and the watcher used " +
               n(cp.busy_fraction * 100) + " % of one CPU (pooled: " + n(run.pooled_probe.busy_fraction * 100) +
               " %), mostly the kernel walking its socket tables, on the same two CPUs as the load. The kernel's "
               "TcpActiveOpens on the client host counted " + whole(cp.client_active_opens) +
               " connection attempts during the churn run; the client reported " + whole(c.handshakes) + " handshakes.\n";
    }
    return out;
}

}  // namespace churn::report
