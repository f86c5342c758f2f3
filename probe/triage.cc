// triage.cc: the analysis and its two renderings; see triage.h.
#include "probe/triage.h"

#include <algorithm>
#include <cstdio>

namespace churn::probe {
namespace {

std::string fmt(const char* f, double x) {
    char b[64];
    std::snprintf(b, sizeof b, f, x);
    return b;
}

std::string pct(double f) { return fmt(f < 0.1 ? "%.1f%%" : "%.0f%%", f * 100); }
std::string per_s(double x) { return fmt(x < 10 ? "%.1f/s" : "%.0f/s", x); }

// The widest range Linux allows for ephemeral ports is 1024-65535; below ~60 000 there is room to grow.
constexpr long kWideRange = 60000;

void decide(const TriageInput& in, Triage& t) {
    const NetSysctls& s = in.sysctls;
    long ports = s.ports();
    std::string busiest = t.top_remote.empty() ? "" : t.top_remote.front().remote;
    if (t.tw_as_client == 0 || t.busiest_fraction < 0.10) {
        t.rung = "none";
        if (t.tw_as_server > 0 && t.tw_as_client == 0)
            t.reason = "TIME-WAIT here is server-side (local port is a listening port): it holds no ephemeral ports, "
                       "only memory; nothing on the ladder applies";
        else if (t.tw_as_client > 0)
            t.reason = "TIME-WAIT is not the constraint: the busiest destination (" + busiest + ") holds " +
                       pct(t.busiest_fraction) + " of the " + std::to_string(ports) + " ports";
        else
            t.reason = "no client-side TIME-WAIT: this host is not the one closing outgoing connections first";
        return;
    }
    const TwEndpoint& top = t.top_remote.front();
    for (const char* rung : {"pool", "tw_reuse", "port_range", "msl"}) {
        std::string r = rung;
        if (in.tried.count(r)) continue;
        if (r == "tw_reuse" && s.tw_reuse == 1) continue;   // already on
        if (r == "port_range" && ports >= kWideRange) continue;  // already (nearly) as wide as it gets
        t.rung = r;
        if (r == "pool")
            t.reason = "reuse connections (a keep-alive pool): about " + per_s(top.rate_per_s) + " new connections to " +
                       top.remote + " each leave a TIME-WAIT here for 60 s; a pool pays the handshake once and leaves none";
        else if (r == "tw_reuse")
            t.reason = "set net.ipv4.tcp_tw_reuse=1 (now " + std::to_string(s.tw_reuse) +
                       (s.tw_reuse == 2 ? ", loopback only" : "") +
                       "): connect() may take over a TIME-WAIT port to the same destination after tcp_tw_reuse_delay" +
                       (s.tw_reuse_delay_ms >= 0 ? " (" + std::to_string(s.tw_reuse_delay_ms) + " ms)" : "") +
                       "; needs TCP timestamps, outgoing connections only";
        else if (r == "port_range")
            t.reason = "widen net.ipv4.ip_local_port_range (now " + std::to_string(s.port_lo) + "-" + std::to_string(s.port_hi) +
                       ": " + per_s(t.ceiling_per_s) + " per destination at 60 s each); 1024-65535 allows " +
                       per_s(64512 / kTimeWaitSeconds) + " (keep clear of ports your services listen on)";
        else
            t.reason = "nothing shortens TIME-WAIT: it is 60 s, compiled into the kernel (tcp_fin_timeout is for "
                       "FIN-WAIT-2, tcp_tw_recycle is gone since 4.12); open fewer connections or spread them over "
                       "more destination addresses or ports";
        return;
    }
}

void add_notes(const TriageInput& in, Triage& t) {
    auto c = [&](const char* name) -> int64_t {
        auto it = in.counters.find(name);
        return it == in.counters.end() ? 0 : it->second;
    };
    if (t.busiest_fraction >= 0.95)
        t.notes.push_back("the port range to " + t.top_remote.front().remote +
                          " is (nearly) exhausted: connect() fails with EADDRNOTAVAIL until TIME-WAITs expire");
    else if (t.busiest_fraction >= 0.5)
        t.notes.push_back("over half the port range to " + t.top_remote.front().remote +
                          " is in TIME-WAIT: connect() is already slow (the kernel searches past them for a free port)");
    if (int64_t o = c("TcpExtTCPTimeWaitOverflow"); o > 0)
        t.notes.push_back("TcpExtTCPTimeWaitOverflow " + std::to_string(o) + ": tcp_max_tw_buckets (" +
                          std::to_string(in.sysctls.max_tw_buckets) +
                          ") overflowed, TIME-WAIT was skipped for those connections (older kernels log "
                          "\"time wait bucket table overflow\", 6.18 does not: this counter is the trace); a "
                          "symptom, not a fix");
    if (int64_t r = c("TcpExtTWRecycled"); r > 0)
        t.notes.push_back("TcpExtTWRecycled " + std::to_string(r) + ": tcp_tw_reuse has been taking over TIME-WAIT ports");
    if (!t.owners.empty()) {
        const CwOwner& o = t.owners.front();
        t.notes.push_back("CLOSE-WAIT is an application bug, not a tuning problem: no sysctl closes these; " +
                          (o.pid ? "pid " + std::to_string(o.pid) + " (" + o.comm + ")" : std::string("the owner")) +
                          " must close() after the peer's FIN");
    }
    if (t.unreadable_processes > 0 && t.close_wait > 0)
        t.notes.push_back(std::to_string(t.unreadable_processes) + " processes' fds could not be read (not root?): "
                          "CLOSE-WAIT owners may be missing");
}

}  // namespace

Triage analyze(const TriageInput& in) {
    Triage t;
    t.counts = in.counts;
    t.sysctls = in.sysctls;
    double ports = static_cast<double>(std::max(1L, in.sysctls.ports()));
    t.ceiling_per_s = ports / kTimeWaitSeconds;

    // Which side closed first: a TIME-WAIT whose local port is one we listen on was a server connection
    // (we answered and closed first); any other was ours, outgoing, and holds an ephemeral port.
    std::map<std::string, uint64_t> by_remote;
    for (const SockRecord& r : in.time_wait) {
        ++t.tw;
        if (in.listen_ports.count(r.sport)) {
            ++t.tw_as_server;
        } else {
            ++t.tw_as_client;
            ++by_remote[r.remote()];
        }
    }
    t.implied_rate_per_s = static_cast<double>(t.tw_as_client) / kTimeWaitSeconds;
    for (const auto& [remote, n] : by_remote)
        t.top_remote.push_back({remote, n, static_cast<double>(n) / kTimeWaitSeconds, static_cast<double>(n) / ports});
    std::sort(t.top_remote.begin(), t.top_remote.end(),
              [](const TwEndpoint& a, const TwEndpoint& b) { return a.count != b.count ? a.count > b.count : a.remote < b.remote; });
    if (!t.top_remote.empty()) t.busiest_fraction = t.top_remote.front().fraction;
    if (in.top && t.top_remote.size() > in.top) t.top_remote.resize(in.top);

    // CLOSE-WAIT by owner, the longest-waiting first.
    std::map<int, CwOwner> owners;
    for (const CloseWaitSock& s : in.close_wait) {
        ++t.close_wait;
        auto it = in.owners.by_inode.find(s.rec.inode);
        int pid = it == in.owners.by_inode.end() ? 0 : it->second.pid;
        CwOwner& o = owners[pid];
        o.pid = pid;
        if (pid && o.comm.empty()) o.comm = it->second.comm;
        ++o.count;
        o.oldest_idle_ms = std::max(o.oldest_idle_ms, s.idle_ms);
        o.sockets.push_back(s);
    }
    for (auto& [pid, o] : owners) {
        std::sort(o.sockets.begin(), o.sockets.end(), [](const CloseWaitSock& a, const CloseWaitSock& b) { return a.idle_ms > b.idle_ms; });
        if (in.top && o.sockets.size() > in.top) o.sockets.resize(in.top);
        t.owners.push_back(std::move(o));
    }
    std::sort(t.owners.begin(), t.owners.end(), [](const CwOwner& a, const CwOwner& b) {
        return a.oldest_idle_ms != b.oldest_idle_ms ? a.oldest_idle_ms > b.oldest_idle_ms : a.count > b.count;
    });
    t.unreadable_processes = in.owners.unreadable;

    for (const char* name : {"TcpActiveOpens", "TcpPassiveOpens", "TcpExtTW", "TcpExtTWRecycled", "TcpExtTWKilled",
                             "TcpExtTCPTimeWaitOverflow"})
        if (auto it = in.counters.find(name); it != in.counters.end()) t.counters[name] = it->second;
    decide(in, t);
    add_notes(in, t);
    return t;
}

nlohmann::ordered_json triage_json(const Triage& t) {
    using J = nlohmann::ordered_json;
    J top = J::array();
    for (const TwEndpoint& e : t.top_remote)
        top.push_back({{"remote", e.remote}, {"count", e.count}, {"rate_per_s", e.rate_per_s}, {"fraction_of_range", e.fraction}});
    std::string closes = t.tw == 0 ? "" : t.tw_as_server == 0 ? "client" : t.tw_as_client == 0 ? "server" : "both";
    J tw = {{"count", t.tw},
            {"as_client", t.tw_as_client},
            {"as_server", t.tw_as_server},
            {"closes_first", t.tw > 0},
            {"closes_first_as", closes.empty() ? J(nullptr) : J(closes)},
            {"implied_rate_per_s", t.implied_rate_per_s},
            {"port_range", {t.sysctls.port_lo, t.sysctls.port_hi}},
            {"ports", t.sysctls.ports()},
            {"ceiling_per_s", t.ceiling_per_s},
            {"busiest_fraction", t.busiest_fraction},
            {"top_remote", top}};
    J owners = J::array();
    for (const CwOwner& o : t.owners) {
        J socks = J::array();
        for (const CloseWaitSock& s : o.sockets)
            socks.push_back({{"local", s.rec.local()}, {"remote", s.rec.remote()}, {"inode", s.rec.inode}, {"idle_ms", s.idle_ms}});
        owners.push_back({{"pid", o.pid ? J(o.pid) : J(nullptr)}, {"comm", o.pid ? J(o.comm) : J(nullptr)}, {"count", o.count},
                          {"oldest_idle_ms", o.oldest_idle_ms}, {"sockets", socks}});
    }
    J cw = {{"count", t.close_wait}, {"owners", owners}, {"unreadable_processes", t.unreadable_processes}};
    J sys = {{"ip_local_port_range", {t.sysctls.port_lo, t.sysctls.port_hi}},
             {"tcp_tw_reuse", t.sysctls.tw_reuse},
             {"tcp_tw_reuse_delay", t.sysctls.tw_reuse_delay_ms},
             {"tcp_max_tw_buckets", t.sysctls.max_tw_buckets},
             {"tcp_fin_timeout", t.sysctls.fin_timeout}};
    J counters = J::object();
    for (const auto& [k, v] : t.counters) counters[k] = v;
    return {{"states", counts_json(t.counts)}, {"total", t.counts.total}, {"time_wait", tw}, {"close_wait", cw},
            {"sysctls", sys}, {"counters", counters}, {"next", {{"rung", t.rung}, {"reason", t.reason}}}, {"notes", t.notes}};
}

std::string triage_text(const Triage& t) {
    std::string out = "states: " + counts_line(t.counts) + "\n\n";
    if (t.tw == 0) {
        out += "TIME-WAIT: none: this host has not closed a connection first in the last 60 s\n";
    } else {
        out += "TIME-WAIT: " + std::to_string(t.tw) + " (" + std::to_string(t.tw_as_client) + " as a client, " +
               std::to_string(t.tw_as_server) + " as a server): this host closes first";
        out += t.tw_as_server == 0 ? ", as a client\n" : t.tw_as_client == 0 ? ", as a server\n" : "\n";
        out += "  implied rate " + per_s(t.implied_rate_per_s) + " (client-side TIME-WAIT / 60 s); ceiling " +
               per_s(t.ceiling_per_s) + " per destination (" + std::to_string(t.sysctls.ports()) +
               " ports in ip_local_port_range " + std::to_string(t.sysctls.port_lo) + "-" + std::to_string(t.sysctls.port_hi) + " / 60 s)\n";
        if (!t.top_remote.empty()) out += "  busiest remote endpoints:\n";
        for (const TwEndpoint& e : t.top_remote) {
            char b[160];
            std::snprintf(b, sizeof b, "    %-28s %8llu  %9s  %5s of the port range\n", e.remote.c_str(),
                          static_cast<unsigned long long>(e.count), per_s(e.rate_per_s).c_str(), pct(e.fraction).c_str());
            out += b;
        }
    }
    if (t.close_wait == 0) {
        out += "CLOSE-WAIT: none\n";
    } else {
        out += "CLOSE-WAIT: " + std::to_string(t.close_wait) + ": the application has not called close() after the peer's FIN\n";
        for (const CwOwner& o : t.owners) {
            char b[200];
            std::snprintf(b, sizeof b, "    pid %-8s %-16s %6llu sockets, oldest %.1f s since the peer's FIN\n",
                          o.pid ? std::to_string(o.pid).c_str() : "?", o.pid ? o.comm.c_str() : "(owner not found)",
                          static_cast<unsigned long long>(o.count), static_cast<double>(o.oldest_idle_ms) / 1000);
            out += b;
            for (const CloseWaitSock& s : o.sockets)
                out += "      " + s.rec.local() + " <- " + s.rec.remote() + fmt("  idle %.1f s\n", static_cast<double>(s.idle_ms) / 1000);
        }
        out += "  fix: the owner must close() once read() returns 0; restarting it frees the sockets, not the bug\n";
    }
    out += "\nnext rung: " + t.rung + ": " + t.reason + "\n";
    for (const std::string& n : t.notes) out += "note: " + n + "\n";
    return out;
}

}  // namespace churn::probe
