#include "synflood/guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/route.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <vector>

#include "loop/sys.h"

namespace churn::synflood {

namespace {

std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string f; in >> f;) out.push_back(f);
    return out;
}

bool hex32(const std::string& s, uint32_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// inet_pton(AF_INET): dotted decimal a.b.c.d only, unlike inet_aton ("1", "0x7f.1", "1.2.3"): what the user
// typed is what the guard checks.
bool parse_ipv4(const std::string& text, uint32_t& out) {
    in_addr a;
    if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

// 0, or the errno of the call named in `call` ("open" or "read").
int read_file(const std::string& path, std::string& out, const char*& call) {
    call = "open";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    call = "read";
    // A routing table with thousands of routes is still far below 4 MiB; the cap only stops a runaway.
    int err = read_to_end(fd, out, 4 << 20);
    ::close(fd);
    return err;
}

}  // namespace

std::string ipv4_str(uint32_t host_order) {
    in_addr a{htonl(host_order)};
    char b[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a, b, sizeof b);
    return b;
}

std::string prefix_str(const Prefix& p) { return ipv4_str(p.addr) + "/" + std::to_string(p.len); }

std::string parse_prefix(const std::string& text, Prefix& out) {
    size_t slash = text.find('/');
    if (slash == std::string::npos) return "'" + text + "' is not a prefix A.B.C.D/N";
    uint32_t a = 0;
    if (!parse_ipv4(text.substr(0, slash), a)) return "'" + text.substr(0, slash) + "' is not a numeric IPv4 address";
    std::string n = text.substr(slash + 1);
    int len = -1;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), len);
    if (n.empty() || ec != std::errc() || p != n.data() + n.size() || len < 0 || len > 32)
        return "'/" + n + "' is not a prefix length 0-32";
    Prefix pre{a, len};
    if ((a & pre.mask()) != a)
        return "'" + text + "' has host bits set (did you mean " + prefix_str(Prefix{a & pre.mask(), len}) + "?)";
    out = pre;
    return {};
}

std::string parse_target(const std::string& text, uint32_t& addr, uint16_t& port) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return "'" + text + "' is not A.B.C.D:PORT";
    if (!parse_ipv4(text.substr(0, colon), addr)) return "'" + text.substr(0, colon) + "' is not a numeric IPv4 address";
    std::string ps = text.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
    if (ps.empty() || ec != std::errc() || p != ps.data() + ps.size() || v < 1 || v > 65535)
        return "port '" + ps + "' is not 1-65535";
    port = static_cast<uint16_t>(v);
    return {};
}

std::string check_target(uint32_t target) {
    if (!kLabRange.contains(target))
        return ipv4_str(target) + " is outside the lab range " + prefix_str(kLabRange) + "; refusing to flood it";
    return {};
}

std::string check_spoof(const Prefix& spoof, uint32_t target) {
    std::string s = prefix_str(spoof);
    if (!kLabRange.contains(spoof)) return s + " is not inside the lab range " + prefix_str(kLabRange);
    if (spoof.len < kSpoofWidest) return s + " is wider than /" + std::to_string(kSpoofWidest);
    if (spoof.len > kSpoofNarrowest) return s + " is narrower than /" + std::to_string(kSpoofNarrowest);
    // The target among the sources would make the server answer itself: nothing a real flood looks like.
    if (spoof.contains(target)) return s + " contains the target " + ipv4_str(target);
    return {};
}

std::optional<DefaultRoute> default_route_v4(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);  // header: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
    while (std::getline(in, line)) {
        auto f = fields(line);
        uint32_t dest = 1, gw = 0, flags = 0, mask = 1;
        if (f.size() < 8 || !hex32(f[1], dest) || !hex32(f[2], gw) || !hex32(f[3], flags) || !hex32(f[7], mask)) continue;
        // "unreachable default" / "blackhole default" carry RTF_REJECT: they send nothing anywhere.
        if (dest != 0 || mask != 0 || !(flags & RTF_UP) || (flags & RTF_REJECT)) continue;
        DefaultRoute r;
        r.dev = f[0];
        if (flags & RTF_GATEWAY) {
            // The kernel prints the __be32 as a native integer (%08X): on this little-endian host
            // 192.0.2.1 shows as 010200C0. Storing the integer back as-is gives the network-order bytes.
            in_addr a;
            a.s_addr = gw;
            char b[INET_ADDRSTRLEN];
            ::inet_ntop(AF_INET, &a, b, sizeof b);
            r.via = b;
        }
        return r;
    }
    return std::nullopt;
}

std::optional<DefaultRoute> default_route_v6(const std::string& text) {
    // No header. dest plen src plen nexthop metric refcnt use flags dev; addresses as 32 hex digits in
    // network byte order, numbers as 8 hex digits.
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto f = fields(line);
        uint32_t flags = 0;
        if (f.size() < 10 || f[0].size() != 32 || !hex32(f[8], flags)) continue;
        if (f[0] != std::string(32, '0') || f[1] != "00") continue;
        // Every namespace has "unreachable ::/0 dev lo" (RTF_REJECT, metric 0xffffffff): not a way out.
        if (f[9] == "lo" || !(flags & RTF_UP) || (flags & RTF_REJECT)) continue;
        DefaultRoute r;
        r.dev = f[9];
        if ((flags & RTF_GATEWAY) && f[4].size() == 32) {
            in6_addr a;
            for (int i = 0; i < 16; ++i) {
                unsigned byte = 0;
                std::from_chars(f[4].data() + 2 * i, f[4].data() + 2 * i + 2, byte, 16);
                a.s6_addr[i] = static_cast<uint8_t>(byte);
            }
            char b[INET6_ADDRSTRLEN];
            ::inet_ntop(AF_INET6, &a, b, sizeof b);
            r.via = b;
        }
        return r;
    }
    return std::nullopt;
}

std::string check_namespace(const std::string& dir) {
    const std::string tail = "; run it only inside a lab namespace";
    std::string v4, v6;
    const char* call = "";
    if (int err = read_file(dir + "/route", v4, call))
        return "cannot tell whether this network namespace has a default route: " +
               sys_message(call, dir + "/route", err) + tail;
    if (auto r = default_route_v4(v4)) return "this network namespace has a default route (" + r->describe() + ")" + tail;
    // ENOENT: IPv6 disabled (ipv6.disable=1), so there is no IPv6 default route either.
    if (int err = read_file(dir + "/ipv6_route", v6, call); err && err != ENOENT)
        return "cannot tell whether this network namespace has a default route: " +
               sys_message(call, dir + "/ipv6_route", err) + tail;
    if (auto r = default_route_v6(v6)) return "this network namespace has a default route (" + r->describe() + ")" + tail;
    return {};
}

}  // namespace churn::synflood
