// diag_filter.cc: filters as INET_DIAG bytecode, and the same test in user space; see diag_filter.h.
#include "probe/diag_filter.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace churn::probe {

static_assert(sizeof(inet_diag_bc_op) == 4, "ops are 4 bytes: code, yes, no (u16)");
static_assert(sizeof(inet_diag_hostcond) == 8, "family, prefix_len, int port, then the address bytes");

namespace {

bool parse_u16(std::string_view s, uint16_t& out) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > 65535) return false;
    out = static_cast<uint16_t>(v);
    return true;
}

// Is the first `bits` bits of a equal to those of b? (inet_diag_bc_run's bitstring_match)
bool prefix_match(const uint8_t* a, const uint8_t* b, int bits) {
    int bytes = bits / 8, rest = bits % 8;
    if (std::memcmp(a, b, static_cast<size_t>(bytes)) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool host_matches(const HostCond& c, uint8_t family, const std::array<uint8_t, 16>& addr) {
    if (c.family == family) return prefix_match(addr.data(), c.addr.data(), c.prefix);
    // An IPv4 condition also matches an IPv6 socket's v4-mapped address (::ffff:a.b.c.d), as the kernel does.
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && c.family == AF_INET && std::memcmp(addr.data(), mapped, 12) == 0)
        return prefix_match(addr.data() + 12, c.addr.data(), c.prefix);
    return false;
}

std::string port_text(const PortRange& r) {
    return r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi);
}

std::string host_text(const HostCond& c) {
    std::array<uint8_t, 16> a = c.addr;
    return addr_str(c.family, a) + "/" + std::to_string(c.prefix);
}

// The program as bytes; a hostcond's payload is appended as raw bytes right after its op.
struct Program {
    std::vector<uint8_t> bytes;

    void op(uint8_t code, uint8_t yes, uint16_t no) {
        inet_diag_bc_op o{code, yes, no};
        size_t at = bytes.size();
        bytes.resize(at + sizeof o);
        std::memcpy(bytes.data() + at, &o, sizeof o);
    }
};

}  // namespace

std::string Filter::describe() const {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (sport) add("sport " + port_text(*sport));
    if (dport) add("dport " + port_text(*dport));
    if (src) add("src " + host_text(*src));
    if (dst) add("dst " + host_text(*dst));
    return out.empty() ? "none" : out;
}

bool Filter::matches(const SockRecord& r) const {
    if (sport && (r.sport < sport->lo || r.sport > sport->hi)) return false;
    if (dport && (r.dport < dport->lo || r.dport > dport->hi)) return false;
    if (src && !host_matches(*src, r.family, r.src)) return false;
    if (dst && !host_matches(*dst, r.family, r.dst)) return false;
    return true;
}

PortRange parse_port_range(std::string_view option, std::string_view text) {
    PortRange r;
    size_t dash = text.find('-');
    bool ok = dash == std::string_view::npos ? parse_u16(text, r.lo) && (r.hi = r.lo, true)
                                             : parse_u16(text.substr(0, dash), r.lo) && parse_u16(text.substr(dash + 1), r.hi);
    if (!ok) throw ProbeError(std::string(option) + ": '" + std::string(text) + "' is not a port (0-65535) or LO-HI range");
    if (r.lo > r.hi) throw ProbeError(std::string(option) + ": range '" + std::string(text) + "' has LO > HI");
    return r;
}

HostCond parse_host_cond(std::string_view option, std::string_view text) {
    HostCond c;
    std::string addr(text.substr(0, text.find('/')));
    auto bad = [&](const std::string& why) {
        return ProbeError(std::string(option) + ": '" + std::string(text) + "' " + why);
    };
    if (::inet_pton(AF_INET, addr.c_str(), c.addr.data()) == 1) c.family = AF_INET;
    else if (::inet_pton(AF_INET6, addr.c_str(), c.addr.data()) == 1) c.family = AF_INET6;
    else throw bad("is not an IPv4 or IPv6 address (ADDR or ADDR/PREFIX)");
    int max = c.family == AF_INET ? 32 : 128;
    c.prefix = static_cast<uint8_t>(max);
    if (size_t slash = text.find('/'); slash != std::string_view::npos) {
        unsigned p = 0;
        std::string_view ps = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), p);
        if (ec != std::errc() || end != ps.data() + ps.size() || ps.empty() || p > static_cast<unsigned>(max))
            throw bad("has a bad prefix length (0-" + std::to_string(max) + ")");
        c.prefix = static_cast<uint8_t>(p);
    }
    return c;
}

std::vector<uint8_t> compile(const Filter& f) {
    // Two passes would be the textbook way (jump offsets depend on the total length). Every condition's
    // size is known up front, so add them up first and emit once.
    struct Cond {
        uint8_t code;
        uint16_t port;       // port ops
        const HostCond* host;  // hostcond ops
    };
    std::vector<Cond> conds;
    auto port_conds = [&](const PortRange& r, uint8_t eq, uint8_t ge, uint8_t le) {
        if (r.lo == r.hi) {
            conds.push_back({eq, r.lo, nullptr});
        } else {
            conds.push_back({ge, r.lo, nullptr});
            conds.push_back({le, r.hi, nullptr});
        }
    };
    if (f.sport) port_conds(*f.sport, INET_DIAG_BC_S_EQ, INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE);
    if (f.dport) port_conds(*f.dport, INET_DIAG_BC_D_EQ, INET_DIAG_BC_D_GE, INET_DIAG_BC_D_LE);
    if (f.src) conds.push_back({INET_DIAG_BC_S_COND, 0, &*f.src});
    if (f.dst) conds.push_back({INET_DIAG_BC_D_COND, 0, &*f.dst});
    if (conds.empty()) return {};

    auto size_of = [](const Cond& c) -> size_t {
        if (!c.host) return 2 * sizeof(inet_diag_bc_op);  // op + the op that carries the port
        return sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + (c.host->family == AF_INET ? 4 : 16);
    };
    size_t len = 0;
    for (const Cond& c : conds) len += size_of(c);

    Program p;
    for (const Cond& c : conds) {
        size_t at = p.bytes.size();
        auto yes = static_cast<uint8_t>(size_of(c));             // on to the next condition (or off the end: accept)
        auto no = static_cast<uint16_t>(len - at + 4);           // 4 past the end: reject
        p.op(c.code, yes, no);
        if (!c.host) {
            p.op(0, 0, c.port);  // the port rides in `no` of the second op (host byte order)
            continue;
        }
        inet_diag_hostcond hc{};
        hc.family = c.host->family;
        hc.prefix_len = c.host->prefix;
        hc.port = -1;  // any port: ports have their own ops
        size_t addr_len = c.host->family == AF_INET ? 4 : 16;
        size_t o = p.bytes.size();
        p.bytes.resize(o + sizeof hc + addr_len);
        std::memcpy(p.bytes.data() + o, &hc, sizeof hc);
        std::memcpy(p.bytes.data() + o + sizeof hc, c.host->addr.data(), addr_len);
    }
    return p.bytes;
}

}  // namespace churn::probe
