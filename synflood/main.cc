// churn-synflood: spoofed TCP SYNs against a listener in the lab, from a raw socket, paced and bounded, to
// watch what a SYN queue, SYN cookies and the legitimate clients do under a flood (issue 10, lab/synflood.sh).
//
//   ip netns exec churnlab-RUNID-cli churn-synflood --target 198.18.0.2:8080 --spoof 198.19.0.0/16
//       --rate 2000 --duration 20 --json flood.json
//
// The server host needs a route back toward the spoofed range (ip route add 198.19.0.0/16 via 198.18.0.1),
// or it drops the SYNs before answering (TcpExtListenDrops, no cookie). Its SYN-ACKs then go to the client
// host, which has no such address and ip_forward=0, and drops them: nothing ever answers a SYN-ACK, and
// every request socket sits in SYN-RECV until its retransmits give up.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "loop/reactor.h"
#include "loop/sys.h"
#include "synflood/flood.h"
#include "synflood/guard.h"
#include "synflood/options.h"

using namespace churn;
using namespace churn::synflood;

namespace {

double seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

nlohmann::ordered_json run_json(const Options& opt, const FloodStats& s, const rusage& ru) {
    nlohmann::ordered_json errors = nlohmann::ordered_json::object();
    for (auto& [e, n] : s.errors) errors[errno_name(e)] = n;
    return {
        {"target", opt.target_text},
        {"spoof", prefix_str(opt.spoof)},
        {"rate", opt.rate},
        {"count", opt.count},
        {"duration_s", opt.duration_s},
        {"seed", opt.seed},
        {"syn_options", syn_options_name(opt.syn_options)},
        {"sent", s.sent},
        {"send_errors", errors},
        {"elapsed_s", s.elapsed_s},
        {"achieved_rate", s.elapsed_s > 0 ? s.sent / s.elapsed_s : 0.0},
        {"stopped_by", s.stopped_by},
        {"attempted", s.attempted},
        {"sendmmsg_calls", s.syscalls},
        {"schedule_slip_s", s.schedule_slip_s},
        {"cpu_user_s", seconds(ru.ru_utime)},
        {"cpu_system_s", seconds(ru.ru_stime)},
    };
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (int rc = parse_cli(argc, argv, opt, std::cout, std::cerr); rc >= 0) return rc;
    // The second fence (guard.h): addresses alone do not make a flood safe; a namespace with a way out does not
    // get one. Checked before anything is opened, so a refusal leaves no trace.
    if (std::string why = check_namespace(); !why.empty()) {
        std::fprintf(stderr, "churn-synflood: %s\n", why.c_str());
        return 2;
    }
    // Open the JSON file now: a typo in the path must fail before the flood, not after it.
    std::ofstream json_out;
    if (!opt.json_path.empty()) {
        json_out.open(opt.json_path);
        if (!json_out) {
            std::fprintf(stderr, "churn-synflood: cannot write --json %s: %s\n", opt.json_path.c_str(), std::strerror(errno));
            return 2;
        }
    }
    // The builder checks itself once on SYN 0 before the first send: a checksum bug would otherwise show only
    // as silence (the server drops the SYNs and counts TcpInCsumErrors).
    uint8_t probe[kMaxSynLen];
    if (!checksums_ok(probe, build_syn(syn_for(opt, 0), probe, sizeof probe))) {
        std::fprintf(stderr, "churn-synflood: internal error: the first SYN's checksums do not verify\n");
        return 1;
    }

    bool progress = !opt.quiet && ::isatty(2);
    FloodStats stats;
    try {
        int fd = open_raw_socket();
        Reactor reactor;
        Flood flood(reactor, opt, fd);
        // Ctrl-C or a lab teardown's SIGTERM: stop sending at once, still report what was sent.
        reactor.on_signals({SIGINT, SIGTERM}, [&](int) { flood.stop("signal"); });
        if (progress) reactor.every(1'000'000, [&] { std::fprintf(stderr, "\rchurn-synflood: %s   ", flood.progress().c_str()); });
        flood.start();
        reactor.run();
        stats = flood.stats();
        ::close(fd);
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "churn-synflood: %s\n", e.what());
        return 1;
    }
    if (progress) std::fputc('\n', stderr);
    // getrusage(RUSAGE_SELF): the CPU this flood cost (user: building packets; system: the kernel's send
    // path, routing and the veth), to say what a given rate takes on this machine.
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    uint64_t errs = 0;
    std::string err_text;
    for (auto& [e, n] : stats.errors) {
        errs += n;
        err_text += " " + errno_name(e) + "=" + std::to_string(n);
    }
    if (!opt.quiet)
        std::printf("churn-synflood: %s from %s: %llu SYNs sent in %.2f s (%.0f/s of %g asked), stopped by %s, "
                    "errors:%s, cpu %.2f s user + %.2f s system\n",
                    opt.target_text.c_str(), prefix_str(opt.spoof).c_str(), (unsigned long long)stats.sent,
                    stats.elapsed_s, stats.elapsed_s > 0 ? stats.sent / stats.elapsed_s : 0.0, opt.rate,
                    stats.stopped_by.c_str(), errs ? err_text.c_str() : " none", seconds(ru.ru_utime),
                    seconds(ru.ru_stime));
    if (json_out) json_out << run_json(opt, stats, ru).dump(2) << '\n';
    // Not one SYN accepted by the kernel: the run measured nothing, say so in the exit status.
    return stats.sent == 0 ? 1 : 0;
}
