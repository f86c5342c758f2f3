#include "link/steal.h"

#include <fstream>
#include <sstream>

namespace churn {

std::optional<CpuTicks> parse_proc_stat(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("cpu ", 0) != 0) continue;  // "cpu0 ..." are the per-CPU lines
        std::istringstream f(line.substr(4));
        uint64_t v[8];
        for (uint64_t& x : v)
            if (!(f >> x)) return std::nullopt;  // kernels since 2.6.11 have all eight
        CpuTicks t;
        for (uint64_t x : v) t.total += x;
        t.steal = v[7];
        return t;
    }
    return std::nullopt;
}

CpuTicks read_cpu_ticks() {
    std::ifstream f("/proc/stat");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_proc_stat(ss.str()).value_or(CpuTicks{});
}

}  // namespace churn
