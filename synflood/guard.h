// guard.h: what keeps churn-synflood inside the lab. Every check is a pure function of text or numbers, so
// the unit tests run them on fixtures; main.cc feeds them the command line and /proc.
//
// Two fences, both required:
//   1. Addresses. The target and every spoofed source lie in 198.18.0.0/15 (RFC 2544: reserved for
//      benchmarking, never routed on the Internet), the range the lab's namespaces use.
//   2. The namespace. The lab's namespaces have no default route, so a packet to an address that is not on
//      a lab link has nowhere to go. A namespace with a default route (the host's) could forward a flood to
//      a real gateway: refuse to start there, whatever the addresses say.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace churn::synflood {

// An IPv4 prefix, host byte order, the address already masked.
struct Prefix {
    uint32_t addr = 0;
    int len = 32;
    uint32_t mask() const { return len == 0 ? 0 : ~uint32_t(0) << (32 - len); }
    bool contains(uint32_t a) const { return (a & mask()) == addr; }
    bool contains(const Prefix& p) const { return p.len >= len && contains(p.addr); }
    uint64_t size() const { return uint64_t(1) << (32 - len); }
};

constexpr Prefix kLabRange{0xc6120000u, 15};  // 198.18.0.0/15
// --spoof bounds: at least 4 addresses (/30), at most 65536 (/16, the lab's 198.19.0.0/16 route back).
constexpr int kSpoofWidest = 16, kSpoofNarrowest = 30;

std::string ipv4_str(uint32_t host_order);
std::string prefix_str(const Prefix& p);

// "A.B.C.D/N", dotted decimal only; host bits set is an error ("198.19.0.1/16": say 198.19.0.0/16), so
// that what the user typed is the range used. Empty result = ok, else the reason (no option name).
std::string parse_prefix(const std::string& text, Prefix& out);
// "A.B.C.D:PORT", port 1-65535.
std::string parse_target(const std::string& text, uint32_t& addr, uint16_t& port);

// Empty = allowed, else the one-line reason (no program name).
std::string check_target(uint32_t target);
std::string check_spoof(const Prefix& spoof, uint32_t target);

// A default route found in a routing table's /proc text: how to name it in the refusal.
struct DefaultRoute {
    std::string via;  // the gateway, "" for a device route ("default dev eth0")
    std::string dev;
    std::string describe() const { return via.empty() ? "dev " + dev : "via " + via + " dev " + dev; }
};
// /proc/net/route text (IPv4): a line with Destination 00000000 and Mask 00000000 that is up (RTF_UP) and
// not a reject route.
std::optional<DefaultRoute> default_route_v4(const std::string& proc_net_route);
// /proc/net/ipv6_route text: ::/0 that is up, not a reject route, not on lo (the kernel lists an
// "unreachable" ::/0 on lo in every namespace, with RTF_REJECT).
std::optional<DefaultRoute> default_route_v6(const std::string& proc_net_ipv6_route);

// The namespace check on this process's /proc/net files. Empty = no default route; else the refusal, e.g.
// "this network namespace has a default route (via 192.0.2.1 dev eth0); run it only inside a lab namespace".
// A /proc/net/route that cannot be read counts as a refusal too: no proof of safety, no flood.
// (/proc/net/ipv6_route is absent when IPv6 is disabled: that one is no refusal.)
std::string check_namespace(const std::string& proc_net_dir = "/proc/net");

}  // namespace churn::synflood
