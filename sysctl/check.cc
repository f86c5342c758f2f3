// check.cc: the dangerous-settings rules; see check.h. Every text says what the kernel does, exactly.
#include "sysctl/check.h"

#include <algorithm>

#include "sysctl/known.h"

namespace churn::sysctl {
namespace {

const std::string* get(const Values& v, const char* key) {
    auto it = v.find(key);
    return it == v.end() ? nullptr : &it->second;
}

bool is(const Values& v, const char* key, const char* want) {
    const std::string* s = get(v, key);
    return s && *s == want;
}

std::string join_ports(const std::vector<uint16_t>& ports, size_t max) {
    std::string out;
    for (size_t i = 0; i < ports.size() && i < max; ++i) out += (i ? ", " : "") + std::to_string(ports[i]);
    if (ports.size() > max) out += " and " + std::to_string(ports.size() - max) + " more";
    return out;
}

}  // namespace

std::vector<Finding> check_host(const HostFacts& facts) {
    const Values& v = facts.values;
    std::vector<Finding> out;
    long lo = 0, hi = 0;
    const std::string* range = get(v, "net.ipv4.ip_local_port_range");
    bool have_range = range && parse_port_range(*range, lo, hi);
    long ports = have_range ? hi - lo + 1 : 0;

    if (const std::string* b = get(v, "net.ipv4.tcp_max_tw_buckets"); b && have_range) {
        long buckets = std::strtol(b->c_str(), nullptr, 10);
        if (buckets < ports)
            out.push_back({Level::Warning, "net.ipv4.tcp_max_tw_buckets",
                           "tcp_max_tw_buckets " + *b + " is below the " + std::to_string(ports) +
                               " ports of ip_local_port_range: past " + *b +
                               " TIME-WAIT sockets, every further close skips TIME-WAIT (TcpExtTCPTimeWaitOverflow, "
                               "older kernels also log \"time wait bucket table overflow\"; 6.18 logged nothing in run-levers row 5, so "
                               "watch the counter). That removes what TIME-WAIT is for: a "
                               "late segment of the old connection can land in a new one on the same 4-tuple, and a "
                               "lost last ACK is answered with RST instead of sent again (run-levers row 5)",
                           "raise it to at least the ports in range (sysctl -w net.ipv4.tcp_max_tw_buckets=" +
                               std::to_string(std::max(ports, 262144L)) + ") and open fewer connections (pool)"});
    }
    if (is(v, "net.ipv4.tcp_syncookies", "0"))
        out.push_back({Level::Warning, "net.ipv4.tcp_syncookies",
                       "tcp_syncookies=0: when a listener's SYN queue is full (a SYN flood, or a burst of new "
                       "connections past tcp_max_syn_backlog) further SYNs are dropped (TcpExtListenDrops) instead "
                       "of answered with a cookie; the kernel's default 1 sends cookies only when the queue is full",
                       "sysctl -w net.ipv4.tcp_syncookies=1"});
    if (have_range && !facts.listen_ports.empty()) {
        std::set<uint16_t> reserved;
        std::string why;
        const std::string* res = get(v, "net.ipv4.ip_local_reserved_ports");
        if (res) parse_port_list(*res, reserved, why);
        std::vector<uint16_t> hit;
        for (uint16_t p : facts.listen_ports)
            if (p >= lo && p <= hi && !reserved.count(p)) hit.push_back(p);
        if (!hit.empty()) {
            std::string list;
            for (uint16_t p : hit) list += (list.empty() ? "" : ",") + std::to_string(p);
            std::string now = res && !res->empty() ? *res + "," : "";
            out.push_back({Level::Warning, "net.ipv4.ip_local_port_range",
                           "ip_local_port_range " + std::to_string(lo) + "-" + std::to_string(hi) + " contains " +
                               std::to_string(hit.size()) + " listening port(s) not in ip_local_reserved_ports: " +
                               join_ports(hit, 10) +
                               ". While a listener runs, connect() skips its port; when it restarts, an outgoing "
                               "connection may hold that port as its source port and the listener's bind() fails "
                               "with EADDRINUSE",
                           "sysctl -w net.ipv4.ip_local_reserved_ports=" + now + list +
                               " (or move the range off these ports)"});
        }
    }
    if (is(v, "net.ipv4.tcp_tw_recycle", "1"))
        out.push_back({Level::Warning, "net.ipv4.tcp_tw_recycle",
                       "tcp_tw_recycle=1 (this kernel predates 4.12, which removed it): SYNs whose TCP timestamp is "
                       "older than the last one seen from the same address are dropped, so clients behind one NAT "
                       "(timestamps not monotonic across hosts) fail to connect",
                       "sysctl -w net.ipv4.tcp_tw_recycle=0"});
    if (is(v, "net.ipv4.tcp_tw_reuse", "1") && is(v, "net.ipv4.tcp_timestamps", "0"))
        out.push_back({Level::Warning, "net.ipv4.tcp_tw_reuse",
                       "tcp_tw_reuse=1 with tcp_timestamps=0: reuse never happens. connect() takes over a TIME-WAIT "
                       "port only when the old connection carried timestamps (they tell its late segments from the "
                       "new connection's), so every port still waits out its 60 s",
                       "sysctl -w net.ipv4.tcp_timestamps=1, or drop tcp_tw_reuse=1: it does nothing here"});
    if (is(v, "net.ipv4.tcp_tw_reuse", "1") && !facts.listen_ports.empty())
        out.push_back({Level::Note, "net.ipv4.tcp_tw_reuse",
                       "tcp_tw_reuse=1 on a host with " + std::to_string(facts.listen_ports.size()) +
                           " listening port(s): it only affects connections this host opens (connect() may take over "
                           "its own TIME-WAIT port to the same destination after tcp_tw_reuse_delay); the clients it "
                           "serves, NATed or not, are not affected. The NAT breakage people remember was "
                           "tcp_tw_recycle (removed in Linux 4.12). Keep it only if this host also opens connections "
                           "at a rate that needs it (run-levers rows 3a/3b)",
                       ""});
    return out;
}

Values with_profile(const Values& values, const Profile& profile) {
    Values v = values;
    for (const Setting& s : profile.settings) v[s.key] = s.value;
    return v;
}

std::vector<Beside> beside(const Values& values, const Profile& profile) {
    std::vector<Beside> out;
    for (const Setting& s : profile.settings) {
        Beside b{s.key, s.value, "", false, false};
        if (const std::string* cur = get(values, s.key.c_str())) b.current = *cur, b.present = true, b.same = *cur == s.value;
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<Finding> added_by(const HostFacts& facts, const Profile& profile) {
    std::vector<Finding> now = check_host(facts);
    HostFacts after{with_profile(facts.values, profile), facts.listen_ports};
    std::vector<Finding> out;
    for (Finding& f : check_host(after))
        if (std::find(now.begin(), now.end(), f) == now.end()) out.push_back(std::move(f));
    return out;
}

}  // namespace churn::sysctl
