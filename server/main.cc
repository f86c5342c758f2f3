// churn-server: the HTTP/1.1 peer for churn experiments. Reactor setup, the run, and the exit report
// (one line on stderr, and with --json FILE the full counters).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"
#include "server/listener.h"
#include "server/options.h"
#include "server/response.h"
#include "server/stats.h"

using namespace churn;

namespace {

nlohmann::ordered_json to_json(const ServerStats& s, const ServerOptions& opt, const std::string& local,
                               double duration_s, const std::string& stopped_by) {
    nlohmann::ordered_json errors = nlohmann::ordered_json::object();
    for (const auto& [err, count] : s.errors) errors[errno_name(err)] = count;
    return {
        {"listen", local},
        {"accepted", s.accepted},
        // --accept-for: when accept() stopped (seconds after listen), null when it never did.
        {"accept_stopped_at_s", s.accept_stopped_at_s < 0 ? nlohmann::ordered_json(nullptr)
                                                          : nlohmann::ordered_json(s.accept_stopped_at_s)},
        {"rejected", s.rejected},
        {"shed", s.shed},
        {"requests", s.requests},
        {"responses", s.responses},
        {"bytes_in", s.bytes_in},
        {"bytes_out", s.bytes_out},
        {"write_calls", s.write_calls},
        {"bytes_discarded", s.bytes_discarded},
        {"closes", {{"client", s.close_client}, {"server", s.close_server}, {"reset", s.close_reset},
                    {"error", s.close_error}}},
        {"open_at_exit", s.open_at_exit},
        {"leaked_close_wait", s.leaked},
        {"http_errors", {{"400", s.http_400}, {"431", s.http_431}, {"501", s.http_501}}},
        {"timeouts", {{"header", s.timeout_header}, {"body", s.timeout_body}, {"idle", s.timeout_idle},
                      {"send", s.timeout_send}}},
        {"evictions", {{"no_head", s.evicted_head}, {"idle", s.evicted_idle}, {"send", s.evicted_send}}},
        {"errors", errors},
        {"max_concurrent", s.max_concurrent},
        {"epoll_waits", s.epoll_waits},
        {"epoll_ctls", s.epoll_ctls},
        {"duration_s", duration_s},
        {"stopped_by", stopped_by},
        {"options",
         {{"listen", opt.listen},
          {"size", opt.size},
          {"close", opt.close_server ? "server" : "client"},
          {"linger0", opt.linger0},
          {"leak_close_wait", opt.leak_close_wait},
          {"discard", opt.discard},
          {"nodelay", opt.nodelay},
          {"response_pattern", pattern_name(opt.response_pattern)},
          {"write", write_name(opt.write)},
          {"quickack", opt.quickack},
          {"backlog", opt.backlog},
          {"reuseport", opt.reuseport},
          {"accept_for_ms", opt.accept_for_us == ServerOptions::kAcceptAlways
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(opt.accept_for_us / 1e3)},
          {"max_conns", opt.max_conns},
          {"evict", opt.evict},
          {"header_timeout_ms", opt.header_timeout_us / 1e3},
          {"body_timeout_ms", opt.body_timeout_us / 1e3},
          {"idle_timeout_ms", opt.idle_timeout_us / 1e3},
          {"send_timeout_ms", opt.send_timeout_us / 1e3},
          {"duration", opt.duration_s},
          {"json", opt.json_path},
          {"quiet", opt.quiet}}},
    };
}

void print_summary(const ServerStats& s, double duration_s) {
    std::fprintf(stderr,
                 "churn-server: %llu connections (%llu rejected, %llu evicted), %llu requests, closes client=%llu "
                 "server=%llu reset=%llu error=%llu open=%llu, timeouts %llu, errors %llu, 400s %llu 431s %llu "
                 "501s %llu, max concurrent %llu, %.2f s\n",
                 (unsigned long long)s.accepted, (unsigned long long)s.rejected,
                 (unsigned long long)(s.evicted_head + s.evicted_idle + s.evicted_send), (unsigned long long)s.requests,
                 (unsigned long long)s.close_client, (unsigned long long)s.close_server,
                 (unsigned long long)s.close_reset, (unsigned long long)s.close_error,
                 (unsigned long long)s.open_at_exit,
                 (unsigned long long)(s.timeout_header + s.timeout_body + s.timeout_idle + s.timeout_send),
                 (unsigned long long)s.error_total(),
                 (unsigned long long)s.http_400, (unsigned long long)s.http_431, (unsigned long long)s.http_501,
                 (unsigned long long)s.max_concurrent, duration_s);
    if (s.accept_stopped_at_s >= 0)
        std::fprintf(stderr, "churn-server: stopped calling accept() at %.3f s (--accept-for); the rest waited in the "
                             "accept queue or was dropped by the kernel (TcpExtListenOverflows)\n",
                     s.accept_stopped_at_s);
}

int run(const ServerOptions& opt) {
    Responses responses = Responses::build(opt.size);
    ServerStats stats;
    Reactor reactor;
    std::string stopped_by = "duration";
    // Before anything else: the signals are blocked from here on, so a SIGTERM that arrives while we
    // are still binding waits in the signalfd instead of killing us without a report.
    reactor.on_signals({SIGINT, SIGTERM}, [&](int signo) {
        stopped_by = signo == SIGINT ? "SIGINT" : "SIGTERM";
        reactor.stop();
    });
    Listener listener(reactor, opt, responses, stats);
    if (opt.duration_s > 0)
        reactor.after(static_cast<uint64_t>(opt.duration_s * 1e6), [&] { reactor.stop(); });
    std::string local = listener.local();
    // Scripts wait for this line; std::endl flushes even when stdout is a pipe.
    std::cout << "listening on " << local << std::endl;

    uint64_t start_us = mono_us();
    reactor.run();
    double duration_s = static_cast<double>(mono_us() - start_us) / 1e6;
    listener.abandon_all();
    stats.epoll_waits = reactor.epoll_waits();
    stats.epoll_ctls = reactor.epoll_ctls();

    if (!opt.quiet) print_summary(stats, duration_s);
    if (!opt.json_path.empty()) {
        std::ofstream f(opt.json_path, std::ios::trunc);
        f << to_json(stats, opt, local, duration_s, stopped_by).dump(2) << "\n";
        f.close();
        if (!f) {
            std::fprintf(stderr, "churn-server: --json: cannot write '%s'\n", opt.json_path.c_str());
            return 1;
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    ServerOptions opt;
    if (int rc = parse_cli(argc, argv, opt, std::cout, std::cerr); rc >= 0) return rc;
    if (!opt.json_path.empty()) {
        // Find out now, not after an hour-long run, that the report cannot be written.
        int fd = ::open(opt.json_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            int saved = errno;
            std::fprintf(stderr, "churn-server: --json: %s\n", sys_message("open", opt.json_path, saved).c_str());
            return 2;
        }
        ::close(fd);
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "churn-server: %s\n", e.what());
        return 1;
    }
}
