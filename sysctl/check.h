// check.h: the read-only check of a host's (or a namespace's) sysctls: what is dangerous, and what a
// profile would change there. Pure: it gets values and listening ports, never reads the host, so every
// warning is unit-tested on made-up values.
//
// Warnings (count for --strict):
//   tcp_max_tw_buckets below the ports in ip_local_port_range   TIME-WAIT destroyed early (row 5)
//   tcp_syncookies=0                                            SYNs dropped when a listen queue fills
//   ip_local_port_range over a listening port not reserved      the listener's restart fails (EADDRINUSE)
//   tcp_tw_recycle=1 (kernels before 4.12)                      SYNs from NATed clients dropped
//   tcp_tw_reuse=1 with tcp_timestamps=0                        reuse never happens
// Notes (printed, do not count):
//   tcp_tw_reuse=1 on a host with listeners: it only ever affects connections this host opens, so it
//   does nothing for (and nothing to) the clients it serves, NATed or not. The NAT breakage people
//   remember was tcp_tw_recycle. Said so that nobody removes it, or blames it, for the wrong reason.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sysctl/profile.h"

namespace churn::sysctl {

using Values = std::map<std::string, std::string>;  // dotted key -> squeezed value; absent = no such sysctl

struct HostFacts {
    Values values;
    std::set<uint16_t> listen_ports;  // local ports of TCP LISTEN sockets (IPv4 and IPv6)
};

enum class Level { Warning, Note };
inline const char* level_name(Level l) { return l == Level::Warning ? "warning" : "note"; }

struct Finding {
    Level level = Level::Warning;
    std::string key;   // the sysctl it is about
    std::string text;  // what is wrong and what it does
    std::string fix;   // the command or change that removes it ("" when none)
    bool operator==(const Finding& o) const { return level == o.level && key == o.key && text == o.text; }
};

std::vector<Finding> check_host(const HostFacts& facts);

// `values` as they would be after `sysctl -p` of the profile.
Values with_profile(const Values& values, const Profile& profile);

// One profile setting beside the host's value.
struct Beside {
    std::string key, profile, current;  // current "" when this kernel lacks the key
    bool present = false, same = false;
};
std::vector<Beside> beside(const Values& values, const Profile& profile);

// Findings the profile would add on this host (in check_host of the applied values, not in the current).
std::vector<Finding> added_by(const HostFacts& facts, const Profile& profile);

}  // namespace churn::sysctl
