// steal.h: the host's steal time, from /proc/stat, so every link figure can be read beside it.
//
// On a shared VM the hypervisor runs other guests on our physical CPUs; the time a vCPU was runnable but
// not running is "steal" (the 8th value of /proc/stat's cpu lines, in USER_HZ ticks, summed over CPUs).
// During steal nothing in the guest runs: not the link, not its timers, not the kernel's softirqs. A
// release that is 12 ms late while steal was 10 % is the host's doing, not the emulator's, and the report
// must say which one it was.
//
//   cpu  user nice system idle iowait irq softirq steal guest guest_nice
//   cpu  4705 150  1120   16250 520   0   30      650   0     0
//
// guest time is already counted inside user, so the total is user..steal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace churn {

struct CpuTicks {
    uint64_t steal = 0;
    uint64_t total = 0;  // user + nice + system + idle + iowait + irq + softirq + steal
};

// The aggregate "cpu " line of a /proc/stat text; nullopt if there is none or it is malformed.
std::optional<CpuTicks> parse_proc_stat(const std::string& text);
// /proc/stat now; zeros if it cannot be read (the figures then say 0 % rather than stop the link).
CpuTicks read_cpu_ticks();

// What the host took over a window: ticks and percent of all CPU time in it.
struct StealWindow {
    uint64_t steal_ticks = 0, total_ticks = 0;
    double pct() const { return total_ticks ? 100.0 * steal_ticks / total_ticks : 0.0; }
};
inline StealWindow steal_between(const CpuTicks& a, const CpuTicks& b) {
    return {b.steal >= a.steal ? b.steal - a.steal : 0, b.total >= a.total ? b.total - a.total : 0};
}

}  // namespace churn
