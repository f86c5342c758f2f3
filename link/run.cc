// run.cc: `churn-link [run] ...`, the link itself: options, the two TUN devices, the reactor, the report.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "link/main.h"
#include "link/options.h"
#include "loop/netns.h"
#include "link/relay.h"
#include "link/steal.h"
#include "link/tun.h"
#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"

namespace churn {

namespace {

// Enough for ~2.6 s of 100 Mbit/s in flight (64 MiB of 2 KiB slots); grown only as needed.
constexpr size_t kMaxSlots = 32768;

nlohmann::ordered_json direction_json(const Direction& d, uint64_t synack_n) {
    const DirectionConfig& c = d.model().config();
    const DirectionStats& s = d.model().stats();
    const ReleaseStats& r = d.release_stats();
    nlohmann::ordered_json j = {
        {"config",
         {{"delay_ms", c.delay_ns / 1e6},
          {"loss_pct", c.loss_pct},
          {"rate_mbit", c.rate_bps / 1e6},  // 0 = no bottleneck
          {"queue_pkts", c.queue_pkts},     // 0 = no packet limit
          {"queue_bytes", c.queue_bytes},  // 0 = no byte limit
          {"drop_synack", d.synack_filter() ? synack_n : 0}}},
        {"packets_in", s.packets_in},
        {"bytes_in", s.bytes_in},
        {"delivered_packets", s.delivered_packets},
        {"delivered_bytes", s.delivered_bytes},
        {"dropped_synack", s.dropped_synack},
        // --drop-synack's table: connections it remembers at exit, and how many it had to forget.
        {"synack_flows", d.synack_filter() ? d.synack_filter()->flows() : 0},
        {"synack_flows_evicted", d.synack_filter() ? d.synack_filter()->evicted() : 0},
        {"dropped_loss", s.dropped_loss},
        {"dropped_queue", s.dropped_queue},
        {"dropped_no_buffer", s.dropped_no_buffer},
        {"write_errors", s.write_errors},
        {"write_errno", d.last_write_errno() ? errno_name(d.last_write_errno()) : ""},
        {"undelivered_at_exit", s.undelivered_at_exit},
        {"max_backlog_packets", s.max_backlog_packets},
        {"max_backlog_bytes", s.max_backlog_bytes},
        // Every packet read has exactly one fate; a packet with none would be a bug in the link itself.
        {"unaccounted", static_cast<int64_t>(s.packets_in) -
                            static_cast<int64_t>(s.delivered_packets + s.dropped_synack + s.dropped_loss + s.dropped_queue +
                                                 s.dropped_no_buffer + s.write_errors + s.undelivered_at_exit)},
        // How exactly packets left at their due time (relay.h, "Timer advance"): the distribution, since
        // on a shared host the mean mixes "all a little late" with "a few very late".
        {"release",
         {{"released", r.released},
          {"late_mean_us", r.released ? r.late_sum_ns / 1e3 / r.released : 0.0},
          {"late_p50_us", r.late_us.percentile(50)},
          {"late_p99_us", r.late_us.percentile(99)},
          {"late_p999_us", r.late_us.percentile(99.9)},
          {"late_max_us", r.late_max_ns / 1e3},
          {"late_over_50us", r.late_over_50us},
          {"late_over_1ms", r.late_over_1ms},
          {"timer_advance_us", r.advance_us},
          {"spin_ms", r.spin_ns / 1e6}}},
    };
    return j;
}

void print_summary(const Direction& d, const char* sep) {
    const DirectionStats& s = d.model().stats();
    double lost_pct = s.packets_in ? 100.0 * s.dropped_loss / s.packets_in : 0;
    std::printf("%s %llu in (%.1f MB), %llu delivered, %llu lost (%.3f %%), %llu queue drops, max backlog %llu pkts",
                d.name().c_str(), (unsigned long long)s.packets_in, s.bytes_in / 1e6,
                (unsigned long long)s.delivered_packets, (unsigned long long)s.dropped_loss, lost_pct,
                (unsigned long long)s.dropped_queue, (unsigned long long)s.max_backlog_packets);
    if (d.synack_filter()) std::printf(", %llu SYN-ACKs dropped", (unsigned long long)s.dropped_synack);
    std::printf("%s", sep);
}

}  // namespace

int link_main(int argc, const char* const* argv) {
    LinkOptions opt;
    int rc = parse_link_cli(argc, argv, opt, std::cout, std::cerr);
    if (rc >= 0) return rc;

    Reactor reactor;
    std::string stopped_by = "duration";
    // Block SIGINT/SIGTERM before the devices exist: a signal during setup is then handled by the loop
    // (stop, report) instead of killing us between the two TUNSETIFFs.
    reactor.on_signals({SIGINT, SIGTERM}, [&](int signo) {
        stopped_by = signo == SIGINT ? "SIGINT" : "SIGTERM";
        reactor.stop();
    });

    Tun a, b;
    const char* which = "--ns-a";
    try {
        a = open_tun_in(netns_path(opt.ns_a), opt.dev_a);
        which = "--ns-b";
        b = open_tun_in(netns_path(opt.ns_b), opt.dev_b);
    } catch (const std::system_error& e) {
        // Setup failures are the caller's to fix (no such namespace, no /dev/net/tun, not root, name
        // taken): exit 2 like any other bad parameter. A device already made vanishes when we exit.
        std::fprintf(stderr, "churn-link: %s %s: %s\n", which, which[5] == 'a' ? opt.ns_a.c_str() : opt.ns_b.c_str(),
                     e.what());
        return 2;
    }

    std::string sched = "SCHED_OTHER";
    if (opt.rt_priority > 0) {
        // Real-time FIFO priority: the link's accuracy is its wakeup latency. On this 2-core machine a
        // compile next door made timer callbacks run 0.4 ms late on average under normal scheduling; a
        // SCHED_FIFO task preempts every normal task the moment its timerfd or TUN fd wakes it. It sleeps
        // between packets (the spin is bounded by kMaxAdvanceNs), and the kernel's RT throttling
        // (sched_rt_runtime_us, 95 %) still leaves the CPU to others if it were ever flooded.
        sched_param sp{};
        sp.sched_priority = opt.rt_priority;
        if (::sched_setscheduler(0, SCHED_FIFO, &sp) == 0) {
            sched = "SCHED_FIFO " + std::to_string(opt.rt_priority);
        } else {
            std::fprintf(stderr, "churn-link: %s; running with normal scheduling (less exact delays)\n",
                         sys_message("sched_setscheduler", "SCHED_FIFO " + std::to_string(opt.rt_priority), errno).c_str());
        }
    }

    std::string cpu = "any";
    if (opt.cpu >= 0) {
        // A CPU of its own: no migration between wakeups (caches and the timer stay on one CPU). Measured
        // on these VMs (make link-timing): no gain in lateness, and when the hypervisor stalls that vCPU
        // a pinned link cannot run on the other one. So it is off by default.
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(opt.cpu, &set);
        if (::sched_setaffinity(0, sizeof set, &set) == 0) cpu = std::to_string(opt.cpu);
        else std::fprintf(stderr, "churn-link: %s; running on any CPU\n",
                          sys_message("sched_setaffinity", "cpu " + std::to_string(opt.cpu), errno).c_str());
    }
    bool locked = false;
    if (opt.mlock) {
        // Locked memory: a page fault in the packet path (a pool chunk touched for the first time, a stack
        // page, a page the kernel reclaimed under a neighbour's compile) costs microseconds to
        // milliseconds, paid by whichever packet is due next. MCL_FUTURE covers the pool's later chunks.
        if (::mlockall(MCL_CURRENT | MCL_FUTURE) == 0) locked = true;
        else std::fprintf(stderr, "churn-link: %s; memory not locked\n", sys_message("mlockall", "MCL_CURRENT|MCL_FUTURE", errno).c_str());
    }

    PacketPool pool(kMaxSlots);
    // Stream 0 for A->B, 1 for B->A: each direction its own keyed sequence of draws (prng.h).
    LossDraw loss_ab(opt.seed, opt.ab.loss_pct, 0), loss_ba(opt.seed, opt.ba.loss_pct, 1);
    uint64_t spin_ns = opt.spin_max_us * 1000;
    Direction ab("A->B", reactor, pool, a.fd, b.fd, PathModel(opt.ab, loss_ab), spin_ns);
    Direction ba("B->A", reactor, pool, b.fd, a.fd, PathModel(opt.ba, loss_ba), spin_ns);
    ab.drop_synacks(opt.drop_synack);
    ba.drop_synacks(opt.drop_synack);
    reactor.watch(a.fd, EPOLLIN, &ab);
    reactor.watch(b.fd, EPOLLIN, &ba);
    reactor.after(static_cast<uint64_t>(opt.duration_s * 1e6), [&] { reactor.stop(); });

    // Scripts wait for this line before configuring the devices (lab/link.sh). Flushed: stdout is a
    // pipe or file there, fully buffered by default.
    std::printf("ready %s in %s, %s in %s\n", a.name.c_str(), opt.ns_a.c_str(), b.name.c_str(), opt.ns_b.c_str());
    std::printf("churn-link: A->B %s\n", describe(opt.ab).c_str());
    std::printf("churn-link: B->A %s\n", describe(opt.ba).c_str());
    if (opt.drop_synack)
        std::printf("churn-link: dropping the first %llu SYN-ACK(s) of every connection, both directions\n",
                    (unsigned long long)opt.drop_synack);
    std::fflush(stdout);

    uint64_t t0 = mono_us();
    CpuTicks ticks0 = read_cpu_ticks();
    reactor.run();
    StealWindow steal = steal_between(ticks0, read_cpu_ticks());
    double elapsed = (mono_us() - t0) / 1e6;
    ab.finish();
    ba.finish();
    int fatal = ab.fatal_errno() ? ab.fatal_errno() : ba.fatal_errno();
    if (fatal) stopped_by = "error " + errno_name(fatal);

    if (!opt.quiet) {
        std::printf("churn-link: ");
        print_summary(ab, "; ");
        print_summary(ba, "; ");
        std::printf("%.2f s, host steal %.1f %%, stopped by %s\n", elapsed, steal.pct(), stopped_by.c_str());
        std::fflush(stdout);
    }
    // Our own CPU time: the evidence that the link is not the bottleneck is that it had CPU to spare.
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    double cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (!opt.json_path.empty()) {
        nlohmann::ordered_json j = {
            {"mode", "churn-link"},
            {"ns_a", opt.ns_a},
            {"ns_b", opt.ns_b},
            {"dev_a", a.name},
            {"dev_b", b.name},
            {"seed", opt.seed},
            {"duration_s", opt.duration_s},
            {"elapsed_s", elapsed},
            {"stopped_by", stopped_by},
            {"scheduling", sched},
            {"cpu", cpu},
            {"mlock", locked},
            {"spin_max_us", opt.spin_max_us},
            // The host's steal over the run (steal.h): read every timing figure beside it.
            {"host", {{"steal_ticks", steal.steal_ticks}, {"total_ticks", steal.total_ticks},
                      {"steal_pct", steal.pct()}, {"ncpu", ::sysconf(_SC_NPROCESSORS_ONLN)}}},
            {"cpu_s", cpu_s},
            {"cpu_pct", elapsed > 0 ? 100.0 * cpu_s / elapsed : 0.0},
            {"pool_slots", pool.allocated()},
            {"ab", direction_json(ab, opt.drop_synack)},
            {"ba", direction_json(ba, opt.drop_synack)},
        };
        std::ofstream f(opt.json_path);
        f << j.dump(2) << "\n";
        if (!f) {
            std::fprintf(stderr, "churn-link: cannot write %s\n", opt.json_path.c_str());
            return 1;
        }
    }
    // Closing the fds deletes both devices (not persistent); the kernel would do it at exit anyway.
    ::close(a.fd);
    ::close(b.fd);
    return fatal ? 1 : 0;
}

}  // namespace churn
