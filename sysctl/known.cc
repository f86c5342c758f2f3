// known.cc: the value grammar of the churn-relevant sysctls; see known.h.
#include "sysctl/known.h"

#include <charconv>
#include <climits>

#include "sysctl/proc_sys.h"

namespace churn::sysctl {
namespace {

// The kernel's own limits where it has them (net/ipv4/sysctl_net_ipv4.c): tcp_tw_reuse 0..2,
// tcp_tw_reuse_delay 1..TCP_PAWS_MSL*1000 ms, tcp_syncookies/tcp_timestamps 0..2.
const KeyInfo kKeys[] = {
    {"net.ipv4.ip_local_port_range", Kind::PortRange, 1, 65535, nullptr},
    {"net.ipv4.ip_local_reserved_ports", Kind::PortList, 0, 65535, nullptr},
    {"net.ipv4.tcp_tw_reuse", Kind::Int, 0, 2, nullptr},
    {"net.ipv4.tcp_tw_reuse_delay", Kind::Int, 1, 60000, nullptr},
    {"net.ipv4.tcp_timestamps", Kind::Int, 0, 2, nullptr},
    {"net.ipv4.tcp_syncookies", Kind::Int, 0, 2, nullptr},
    {"net.ipv4.tcp_max_syn_backlog", Kind::Int, 1, INT_MAX, nullptr},
    {"net.core.somaxconn", Kind::Int, 0, INT_MAX, nullptr},
    {"net.ipv4.tcp_congestion_control", Kind::Name, 0, 0, nullptr},
    {"net.ipv4.tcp_fin_timeout", Kind::Int, 1, INT_MAX,
     "run-levers row 4 (fin-timeout): it limits orphaned FIN-WAIT-2, TIME-WAIT stays 60 s"},
    {"net.ipv4.tcp_max_tw_buckets", Kind::Int, 0, INT_MAX,
     "run-levers row 5 (tw-buckets): past it TIME-WAIT is destroyed early, which removes its protection"},
    {"net.ipv4.tcp_tw_recycle", Kind::Int, 0, 1,
     "removed in Linux 4.12: it dropped SYNs from clients behind NAT"},
};

bool parse_long(std::string_view s, long& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

const KeyInfo* key_info(std::string_view dotted) {
    for (const KeyInfo& k : kKeys)
        if (dotted == k.key) return &k;
    return nullptr;
}

bool parse_port_range(std::string_view text, long& lo, long& hi) {
    std::string s = squeeze(text);
    size_t sp = s.find(' ');
    if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) return false;
    return parse_long(std::string_view(s).substr(0, sp), lo) && parse_long(std::string_view(s).substr(sp + 1), hi) &&
           lo >= 1 && hi <= 65535 && lo <= hi;
}

bool parse_port_list(std::string_view text, std::set<uint16_t>& out, std::string& why) {
    std::string s = squeeze(text);
    if (s.empty()) return true;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        std::string_view item = std::string_view(s).substr(start, comma - start);
        size_t dash = item.find('-');
        long lo = 0, hi = 0;
        bool ok = dash == std::string_view::npos ? parse_long(item, lo) && (hi = lo, true)
                                                 : parse_long(item.substr(0, dash), lo) && parse_long(item.substr(dash + 1), hi);
        if (!ok || lo < 1 || hi > 65535 || lo > hi) {
            why = "'" + std::string(item) + "' is not a port or LO-HI range in 1..65535";
            return false;
        }
        for (long p = lo; p <= hi; ++p) out.insert(static_cast<uint16_t>(p));
        start = comma + 1;
    }
    return true;
}

std::string value_problem(const KeyInfo& info, std::string_view value) {
    std::string v = squeeze(value);
    switch (info.kind) {
    case Kind::PortRange: {
        long lo = 0, hi = 0;
        if (parse_port_range(v, lo, hi)) return "";
        return "'" + v + "' is not two ports LO HI with 1 <= LO <= HI <= 65535";
    }
    case Kind::PortList: {
        std::set<uint16_t> ports;
        std::string why;
        return parse_port_list(v, ports, why) ? "" : why;
    }
    case Kind::Int: {
        long x = 0;
        if (!parse_long(v, x) || x < info.min || x > info.max)
            return "'" + v + "' is not a whole number in " + std::to_string(info.min) + ".." + std::to_string(info.max);
        return "";
    }
    case Kind::Name:
        if (v.empty() || v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            return "'" + v + "' is not a name ([a-z0-9_]+)";
        return "";
    }
    return "";
}

const std::vector<std::string>& churn_keys() {
    static const std::vector<std::string> keys = {
        "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_tw_reuse",
        "net.ipv4.tcp_tw_reuse_delay",  "net.ipv4.tcp_timestamps",          "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_max_tw_buckets",  "net.ipv4.tcp_syncookies",          "net.ipv4.tcp_max_syn_backlog",
        "net.core.somaxconn",           "net.ipv4.tcp_congestion_control",  "net.ipv4.tcp_tw_recycle",
    };
    return keys;
}

}  // namespace churn::sysctl
