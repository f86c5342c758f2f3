// churn-client: an HTTP/1.1 load generator that can open a new TCP connection per request (churn) or
// reuse a pool of keep-alive connections (pool), open or closed loop, with errors counted by errno.
//
//   churn-client --mode pool -c 50 -d 10 http://198.18.0.2:8080/
//   churn-client --mode churn -R 3000 -d 20 --json churn.json http://198.18.0.2:8080/
//   churn-client --make-trace t.txt --seed 7 --count 400 -R 50
//   churn-client -c 1 --trace t.txt --pattern split --write each --nodelay off http://198.18.0.2:8080/
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <vector>

#include "client/bulk.h"
#include "client/load.h"
#include "client/options.h"
#include "client/stats.h"
#include "client/trace.h"
#include "loop/reactor.h"
#include "loop/sys.h"
#include "sysctl/proc_sys.h"

using namespace churn;

namespace {

// True when this network namespace has a default route for `family`, so a packet to an address not
// on a local network leaves through a gateway. The lab's namespaces have none by design. Read from
// /proc/net/route (IPv4: Destination and Mask 00000000) and /proc/net/ipv6_route (::/0 on a device
// other than lo, where the kernel keeps an "unreachable" default of its own).
bool has_default_route(int family) {
    std::ifstream f(family == AF_INET ? "/proc/net/route" : "/proc/net/ipv6_route");
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::vector<std::string> col{std::istream_iterator<std::string>(in), {}};
        if (family == AF_INET && col.size() >= 8 && col[1] == "00000000" && col[7] == "00000000") return true;
        if (family == AF_INET6 && col.size() >= 10 && col[0] == std::string(32, '0') && col[1] == "00" &&
            col[9] != "lo")
            return true;
    }
    return false;
}

bool is_loopback(const Endpoint& ep) {
    if (ep.family() == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(&ep.addr)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&ep.addr)->sin6_addr);
}

int ports_in(const std::string& range) {
    int lo = 0, hi = -1;
    if (std::sscanf(range.c_str(), "%d %d", &lo, &hi) != 2) return 0;
    return hi >= lo ? hi - lo + 1 : 0;
}

std::string ms(uint64_t us) {
    char b[32];
    if (us >= 1'000'000) snprintf(b, sizeof b, "%.2f s", us / 1e6);
    else snprintf(b, sizeof b, "%.2f ms", us / 1e3);
    return b;
}

void print_summary(const Stats& s, const RunInfo& info) {
    std::string load = !info.trace_path.empty()
                           ? "trace " + info.trace_path + " (" + std::to_string(info.trace_lines) + " lines)"
                       : info.rate > 0 ? std::to_string(static_cast<long long>(info.rate)) + " req/s offered"
                                       : "closed loop, " + std::to_string(info.connections) + " connections";
    std::printf("churn-client: %s %s, %s for %.1f s\n", info.mode.c_str(), info.target.c_str(), load.c_str(),
                info.elapsed_s);
    std::printf("  writes    --pattern %s%s --write %s --nodelay %s%s --smart-connect %s%s\n", info.pattern.c_str(),
                info.pattern == "pipeline" ? (" --pipeline " + std::to_string(info.pipeline)).c_str() : "",
                info.write.c_str(), info.nodelay ? "on" : "off", info.quickack ? " --quickack" : "",
                info.smart_connect ? "on" : "off", info.close_server ? " --close server" : "");
    std::printf("  requests  %llu ok, %llu failed, %llu unfinished of %llu scheduled: %.0f req/s\n",
                (unsigned long long)s.ok, (unsigned long long)s.failed, (unsigned long long)s.unfinished,
                (unsigned long long)s.scheduled, info.elapsed_s > 0 ? s.ok / info.elapsed_s : 0.0);
    std::printf("  latency   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", ms(s.latency.percentile(50)).c_str(),
                ms(s.latency.percentile(90)).c_str(), ms(s.latency.percentile(99)).c_str(),
                ms(s.latency.percentile(99.9)).c_str(), ms(s.latency.max()).c_str());
    std::printf("  connect   p50 %s  p99 %s  max %s; %llu handshakes (%.0f/s), %.1f requests/connection\n",
                ms(s.connect.percentile(50)).c_str(), ms(s.connect.percentile(99)).c_str(),
                ms(s.connect.max()).c_str(), (unsigned long long)s.handshakes,
                info.elapsed_s > 0 ? s.handshakes / info.elapsed_s : 0.0,
                s.handshakes ? double(s.ok) / s.handshakes : 0.0);
    std::string errs;
    for (auto& [e, n] : s.errors) errs += " " + errno_name(e) + "=" + std::to_string(n);
    for (int i = 0; i < static_cast<int>(ProtoError::count); ++i)
        if (s.proto[i]) errs += std::string(" ") + proto_error_name(static_cast<ProtoError>(i)) + "=" + std::to_string(s.proto[i]);
    std::printf("  errors   %s\n", errs.empty() ? " none" : errs.c_str());
    for (const Stats::Source& src : s.sources) {
        std::string e;
        for (auto& [err, n] : src.errors) e += " " + errno_name(err) + "=" + std::to_string(n);
        std::printf("  source   %s: %llu connects, errors%s\n", src.addr.c_str(), (unsigned long long)src.connects,
                    e.empty() ? " none" : e.c_str());
    }
    for (auto& [e, t] : s.first_error_s) {
        if (e == EADDRNOTAVAIL)
            std::printf("  first EADDRNOTAVAIL at %.2f s (model: %d ports / %.0f req/s = %.2f s)\n", t,
                        info.ports_in_range, info.rate, info.rate > 0 ? info.ports_in_range / info.rate : 0.0);
    }
}

int run_bulk(const Options& opt, std::ofstream& json_out) {
    try {
        Reactor reactor;
        BulkSender bulk(reactor, opt);
        reactor.on_signals({SIGINT, SIGTERM}, [&](int) { bulk.stop(); });
        bulk.start();
        reactor.run();
        std::printf("%s\n", bulk.summary().c_str());
        if (json_out) json_out << bulk.json().dump(2) << '\n';
        return bulk.failed() ? 1 : 0;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "churn-client: %s\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (int rc = parse_client_cli(argc, argv, opt, std::cout, std::cerr); rc >= 0) return rc;
    if (!opt.make_trace_path.empty()) {
        // --make-trace: a file and nothing else; no network, no namespace checks.
        std::string text = make_trace(opt.trace_spec);
        if (opt.make_trace_path == "-") {
            std::fwrite(text.data(), 1, text.size(), stdout);
            return std::fflush(stdout) == 0 ? 0 : 1;
        }
        std::ofstream f(opt.make_trace_path);
        if (!(f << text) || !f.flush()) {
            std::fprintf(stderr, "churn-client: cannot write --make-trace %s: %s\n", opt.make_trace_path.c_str(),
                         std::strerror(errno));
            return 2;
        }
        return 0;
    }
    if (!opt.trace.path.empty()) {
        // Read the whole trace before anything runs: a bad line must fail now, not at its turn mid-run.
        std::string why;
        if (!load_trace(opt.trace.path, opt.trace, why)) {
            std::fprintf(stderr, "churn-client: --trace: %s\n", why.c_str());
            return 2;
        }
        if (uint64_t b = built_bytes(opt.trace, opt.pipeline); b > kMaxBuiltBytes) {
            std::fprintf(stderr, "churn-client: --trace: %s: its sends (each distinct size%s) would take %llu bytes, "
                         "over %llu\n", opt.trace.path.c_str(), opt.pipeline > 1 ? " x --pipeline" : "",
                         (unsigned long long)b, (unsigned long long)kMaxBuiltBytes);
            return 2;
        }
        // Without -d: to the trace's last request (warmup is part of the trace's time), plus kTraceSlackS in
        // which requests still queued may go out. One connection slower than the trace (Nagle's 40 ms per
        // request at more than ~20 requests/s) builds a backlog, and those requests are the ones the run is
        // about; the run ends as soon as the last of them is answered (Load::all_issued), not after the slack.
        constexpr double kTraceSlackS = 30;
        if (!opt.duration_given)
            opt.duration_s = std::max(opt.trace.lines.back().t_us / 1e6 - opt.warmup_s, 0.0) + kTraceSlackS;
    }
    // A load generator is pointed at an address. Inside a lab namespace (no default route) only the lab's
    // hosts are reachable; on the host, 198.18.0.2 may go out through the default gateway to somebody
    // else's machine. Refuse unless asked explicitly.
    if (!is_loopback(opt.url.endpoint) && has_default_route(opt.url.endpoint.family()) && !opt.allow_default_route) {
        std::fprintf(stderr,
                     "churn-client: refusing to send load to %s: this network namespace has a default route, so it "
                     "could leave the machine (run it in the lab: make run-churn; or pass --allow-default-route)\n",
                     opt.url.endpoint.str().c_str());
        return 2;
    }
    // --source: an address that is not configured on this host fails bind() with EADDRNOTAVAIL, the very
    // errno that means "no free port" once connect() runs out. Counted during the run, a typo would pass
    // for port exhaustion (and its rotation turns would look like half the ports gone). So each address is
    // tried once here, on a throwaway socket with the same bind_source the run uses: with
    // IP_BIND_ADDRESS_NO_PORT the bind takes no port, so the check uses up nothing and leaves no trace.
    for (const Endpoint& src : opt.sources) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int err = fd < 0 ? errno : bind_source(fd, src).error();
        if (fd >= 0) ::close(fd);
        if (err) {
            std::string a = src.str();
            a = a.substr(0, a.rfind(':'));
            std::string hint = err == EADDRNOTAVAIL ? " (not an address of this host; add it: ip addr add " + a + "/24 dev ...)" : "";
            std::fprintf(stderr, "churn-client: --source %s: bind(%s:0): %s%s\n", a.c_str(), a.c_str(),
                         errno_name(err).c_str(), hint.c_str());
            return 2;
        }
    }
    // Open the JSON file now: a typo in the path must fail before a 20 s run, not after it.
    std::ofstream json_out;
    if (!opt.json_path.empty()) {
        json_out.open(opt.json_path);
        if (!json_out) {
            std::fprintf(stderr, "churn-client: cannot write --json %s: %s\n", opt.json_path.c_str(), std::strerror(errno));
            return 2;
        }
    }

    RunInfo info;
    info.mode = mode_name(opt.mode);
    info.target = opt.url.endpoint.str();
    info.rate = opt.rate;
    info.duration_s = opt.duration_s;
    info.connections = opt.connections;
    info.linger0 = opt.linger0;
    info.mss = opt.mss;
    info.pattern = pattern_name(opt.pattern);
    info.write = write_name(opt.write);
    info.nodelay = opt.nodelay;
    info.quickack = opt.quickack;
    info.smart_connect = opt.smart_connect;
    info.close_server = opt.close_server;
    info.pipeline = opt.pipeline;
    info.head = opt.head;
    info.body = opt.body;
    info.trace_path = opt.trace.path;
    info.trace_lines = opt.trace.lines.size();
    for (const char* k : {"net/ipv4/ip_local_port_range", "net/ipv4/tcp_tw_reuse", "net/ipv4/tcp_fin_timeout",
                          "net/ipv4/tcp_max_tw_buckets", "net/ipv4/tcp_congestion_control"})
        // net.* answers for the namespace we run in: inside a lab host, that host's value ("" when absent).
        info.sysctl[k] = sysctl::read_value(k).value_or("");
    info.ports_in_range = ports_in(info.sysctl["net/ipv4/ip_local_port_range"]);

    if (opt.mode == Options::Mode::Bulk) return run_bulk(opt, json_out);
    try {
        Reactor reactor;
        Stats stats;
        Load load(reactor, opt, stats);
        // Ctrl-C or a lab teardown's SIGTERM ends the run early but still reports what was measured.
        reactor.on_signals({SIGINT, SIGTERM}, [&](int) { load.stop_early(); });
        load.start();
        reactor.run();
        if (!opt.quiet && ::isatty(2)) std::fputc('\n', stderr);
        info.elapsed_s = load.elapsed_s();
        info.epoll_waits = reactor.epoll_waits();
        info.epoll_ctls = reactor.epoll_ctls();
        print_summary(stats, info);
        if (json_out) json_out << stats_json(stats, info).dump(2) << '\n';
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "churn-client: %s\n", e.what());
        return 1;
    }
    return 0;
}
