// watch.cc: the sampler on the reactor; see watch.h.
#include "probe/watch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"
#include "probe/sample.h"
#include "probe/tcp_info.h"

namespace churn::probe {
namespace {

// write() all of `s` to fd, or throw: a watcher whose output is gone (disk full, closed pipe) should
// stop loudly rather than keep sampling into nothing.
void write_all(int fd, const std::string& s, const std::string& what) {
    size_t off = 0;
    while (off < s.size()) {
        IoResult r = write_some(fd, s.data() + off, s.size() - off);
        if (r.status == Io::Error) throw ProbeError(sys_message("write", what, r.err));
        if (r.status == Io::Ok) off += r.bytes;
    }
}

// Does the namespace still exist? `ip netns del` removes /run/netns/NAME; our own fds would keep the
// namespace alive (empty) for as long as we run, so we notice and stop instead.
bool netns_gone(const Host& h) {
    if (h.netns().empty() || h.netns().find('/') != std::string::npos) return false;
    struct stat st;
    return ::stat(("/run/netns/" + h.netns()).c_str(), &st) != 0 && errno == ENOENT;
}

// CPU time this process has used (user + system), in µs. The watcher's cost is mostly system time: the
// kernel walking its socket tables for the dump. Wall time per sample would overstate it on a busy
// machine (time spent waiting for a CPU counts there too), so the lines carry both.
uint64_t cpu_us() {
    rusage ru;
    ::getrusage(RUSAGE_SELF, &ru);  // cannot fail with RUSAGE_SELF and a valid pointer
    auto us = [](const timeval& tv) { return static_cast<uint64_t>(tv.tv_sec) * 1'000'000 + static_cast<uint64_t>(tv.tv_usec); };
    return us(ru.ru_utime) + us(ru.ru_stime);
}

}  // namespace

WatchLine sample_host(Host& h, const WatchArgs& a, uint64_t seq, uint64_t start_ns) {
    WatchLine line;
    uint64_t t0 = mono_ns(), c0 = cpu_us();
    h.each_socket(a.common.states, a.common.filter, 0, [&](const SockRecord& r, const DiagMessage*) { line.counts.add(r.state); });
    Counters c = h.counters();
    nlohmann::ordered_json conns = nlohmann::ordered_json::array();
    if (a.info) {
        uint32_t with_info = a.common.states & ~(state_bit(kTimeWait) | state_bit(kSynRecv) | state_bit(kListen));
        h.each_socket(with_info, a.common.filter, kExtInfo | kExtCong | kExtCcInfo, [&](const SockRecord& r, const DiagMessage* m) {
            conns.push_back(conn_json(m ? decode_conn(*m) : ConnInfo{r}));
        });
    }
    uint64_t t1 = mono_ns(), c1 = cpu_us();

    nlohmann::ordered_json j;
    j["seq"] = seq;
    j["t"] = std::round(static_cast<double>(t0 - start_ns) / 1e6) / 1e3;  // ms resolution is plenty
    nlohmann::ordered_json head = sample_header(h, t0);
    for (auto it = head.begin(); it != head.end(); ++it) j[it.key()] = *it;
    j["states"] = counts_json(line.counts);
    j["total"] = line.counts.total;
    bool all = a.counters.size() == 1 && a.counters[0] == "all";
    j["nstat"] = counters_json(c, all ? std::vector<std::string>{} : a.counters.empty() ? churn_counters() : a.counters);
    j["sample_us"] = (t1 - t0) / 1000;
    j["sample_cpu_us"] = c1 - c0;
    if (a.info) j["conns"] = conns;
    line.json = std::move(j);
    line.counters = c.as_map();
    return line;
}

std::string live_line(double t, const std::vector<std::pair<std::string, WatchLine>>& last,
                      const std::vector<std::pair<std::string, WatchLine>>& prev, double dt) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%6.1f s", t);
    std::string out = buf;
    for (size_t i = 0; i < last.size(); ++i) {
        const auto& [label, l] = last[i];
        out += (i ? " | " : "  ") + label + ": " + counts_line(l.counts);
        if (i < prev.size() && dt > 0) {
            auto a = prev[i].second.counters.find("TcpActiveOpens"), b = l.counters.find("TcpActiveOpens");
            if (a != prev[i].second.counters.end() && b != l.counters.end()) {
                std::snprintf(buf, sizeof buf, ", opens/s %.0f", static_cast<double>(b->second - a->second) / dt);
                out += buf;
            }
        }
    }
    return out;
}

int run_watch(const WatchArgs& a) {
    std::vector<std::unique_ptr<Host>> hosts;
    if (a.common.netns.empty()) hosts.push_back(std::make_unique<Host>(HostSpec{"host", ""}, a.common.host));
    for (const std::string& spec : a.common.netns) hosts.push_back(std::make_unique<Host>(parse_host_spec(spec), a.common.host));
    // Checked before the first line: a misspelt name would otherwise just be missing from every line.
    if (!a.counters.empty() && !(a.counters.size() == 1 && a.counters[0] == "all")) {
        std::map<std::string, int64_t> known = hosts.front()->counters().as_map();
        for (const std::string& n : a.counters)
            if (!known.count(n))
                throw ProbeError("--counters: no counter named '" + n + "' (nstat's names, e.g. TcpExtSyncookiesSent; "
                                 "the sets churn, syncookies; or all)");
    }

    int out = STDOUT_FILENO;
    std::string out_name = "stdout";
    if (!a.out.empty()) {
        out = ::open(a.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) {
            int err = errno;
            throw ProbeError("--out: " + sys_message("open", a.out, err));
        }
        out_name = a.out;
    }
    // The live view goes to stderr, and only to a terminal: in a log file it would be noise.
    bool live = !a.quiet && ::isatty(STDERR_FILENO);

    Reactor reactor;
    std::string stopped_by = "count";
    reactor.on_signals({SIGINT, SIGTERM}, [&](int signo) {
        stopped_by = signo == SIGINT ? "SIGINT" : "SIGTERM";
        reactor.stop();
    });

    uint64_t seq = 0, start = mono_ns();
    std::vector<std::pair<std::string, WatchLine>> last, prev;
    uint64_t prev_ns = 0;
    auto tick = [&] {
        uint64_t now = mono_ns();
        prev = std::move(last);
        last.clear();
        std::string text;
        for (auto& h : hosts) {
            if (netns_gone(*h)) {
                std::fprintf(stderr, "%schurn-probe: watch: namespace %s is gone; stopping\n", live ? "\n" : "", h->netns().c_str());
                stopped_by = "netns gone";
                reactor.stop();
                return;
            }
            WatchLine l = sample_host(*h, a, seq, start);
            text += l.json.dump() + "\n";
            last.emplace_back(h->label(), std::move(l));
        }
        write_all(out, text, out_name);
        if (live) {
            std::string s = live_line(static_cast<double>(now - start) / 1e9, last, prev, static_cast<double>(now - prev_ns) / 1e9);
            std::fprintf(stderr, "\r\033[K%s", s.c_str());
        }
        prev_ns = now;
        ++seq;
        if (a.count && seq >= a.count) reactor.stop();
    };

    tick();  // the first sample at t = 0, not one interval in
    if (!reactor.stopping()) {
        reactor.every(a.interval_us, tick);
        if (a.duration_s > 0)
            reactor.after(static_cast<uint64_t>(a.duration_s * 1e6), [&] {
                stopped_by = "duration";
                reactor.stop();
            });
        reactor.run();
        // Stopped by a signal or --duration: one more sample, so the last line is the state at the stop.
        if (stopped_by == "SIGINT" || stopped_by == "SIGTERM" || stopped_by == "duration") tick();
    }
    if (live) std::fprintf(stderr, "\n");
    if (out != STDOUT_FILENO && ::close(out) != 0) {
        int err = errno;
        throw ProbeError(sys_message("close", a.out, err));
    }
    return 0;
}

}  // namespace churn::probe
