// INET_DIAG bytecode: the exact bytes for a simple filter, and, for many filters and sockets, that the
// program the kernel would run accepts exactly the sockets Filter::matches() accepts. The interpreter and
// the audit below follow net/ipv4/inet_diag.c (inet_diag_bc_run, inet_diag_bc_audit) for the ops we emit.
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "probe/diag_filter.h"

using namespace churn::probe;

namespace {

inet_diag_bc_op op_at(const std::vector<uint8_t>& bc, size_t off) {
    inet_diag_bc_op o;
    std::memcpy(&o, bc.data() + off, sizeof o);
    return o;
}

bool prefix_eq(const uint8_t* a, const uint8_t* b, int bits) {
    for (int i = 0; i < bits; ++i) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1)) return false;
    }
    return true;
}

// inet_diag_bc_run for S/D_EQ, GE, LE and S/D_COND.
bool run(const std::vector<uint8_t>& bc, const SockRecord& r) {
    int len = static_cast<int>(bc.size());
    size_t pc = 0;
    while (len > 0) {
        inet_diag_bc_op o = op_at(bc, pc);
        bool yes = true;
        auto port = [&] { return op_at(bc, pc + 4).no; };
        switch (o.code) {
            case INET_DIAG_BC_S_EQ: yes = r.sport == port(); break;
            case INET_DIAG_BC_S_GE: yes = r.sport >= port(); break;
            case INET_DIAG_BC_S_LE: yes = r.sport <= port(); break;
            case INET_DIAG_BC_D_EQ: yes = r.dport == port(); break;
            case INET_DIAG_BC_D_GE: yes = r.dport >= port(); break;
            case INET_DIAG_BC_D_LE: yes = r.dport <= port(); break;
            case INET_DIAG_BC_S_COND:
            case INET_DIAG_BC_D_COND: {
                inet_diag_hostcond hc;
                std::memcpy(&hc, bc.data() + pc + 4, sizeof hc);
                const uint8_t* want = bc.data() + pc + 4 + sizeof hc;
                const uint8_t* addr = o.code == INET_DIAG_BC_S_COND ? r.src.data() : r.dst.data();
                if (hc.family == r.family) yes = prefix_eq(addr, want, hc.prefix_len);
                else if (r.family == AF_INET6 && hc.family == AF_INET) {
                    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                    yes = std::memcmp(addr, mapped, 12) == 0 && prefix_eq(addr + 12, want, hc.prefix_len);
                } else yes = false;
                break;
            }
            default: FAIL("unexpected op code " << int(o.code));
        }
        int step = yes ? o.yes : o.no;
        len -= step;
        pc += static_cast<size_t>(step);
    }
    return len == 0;
}

// The rules of inet_diag_bc_audit that apply to port and host ops (min_len, alignment, bounds).
bool audit(const std::vector<uint8_t>& bc) {
    int len = static_cast<int>(bc.size());
    size_t pc = 0;
    while (len > 0) {
        inet_diag_bc_op o = op_at(bc, pc);
        int min_len = 4;
        if (o.code == INET_DIAG_BC_S_COND || o.code == INET_DIAG_BC_D_COND) {
            inet_diag_hostcond hc;
            std::memcpy(&hc, bc.data() + pc + 4, sizeof hc);
            min_len += static_cast<int>(sizeof hc) + (hc.family == AF_INET ? 4 : 16);
        } else {
            min_len += 4;  // the port op
        }
        if (len < min_len) return false;
        if (o.no < min_len || o.no > len + 4 || (o.no & 3)) return false;
        if (o.yes < min_len || o.yes > len + 4 || (o.yes & 3)) return false;
        pc += o.yes;
        len -= o.yes;
    }
    return len == 0;
}

SockRecord v4(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    SockRecord r;
    r.family = AF_INET;
    inet_pton(AF_INET, src, r.src.data());
    inet_pton(AF_INET, dst, r.dst.data());
    r.sport = sport;
    r.dport = dport;
    return r;
}

SockRecord v6(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    SockRecord r;
    r.family = AF_INET6;
    inet_pton(AF_INET6, src, r.src.data());
    inet_pton(AF_INET6, dst, r.dst.data());
    r.sport = sport;
    r.dport = dport;
    return r;
}

}  // namespace

TEST_CASE("bytecode: sport == 8080 is two ops, reject jumps 4 past the end", "[probe]") {
    Filter f;
    f.sport = parse_port_range("--sport", "8080");
    std::vector<uint8_t> bc = compile(f);
    // {S_EQ, yes 8, no 12} {0, 0, 8080}: 8 bytes; no = 8 - 0 + 4 = 12.
    std::vector<uint8_t> want = {INET_DIAG_BC_S_EQ, 8, 12, 0, 0, 0, 0x90, 0x1f};
    CHECK(bc == want);
    CHECK(audit(bc));
    CHECK(compile(Filter{}).empty());
}

TEST_CASE("bytecode: every filter passes the kernel's audit and agrees with matches()", "[probe]") {
    std::vector<Filter> filters;
    auto add = [&](const char* sp, const char* dp, const char* src, const char* dst) {
        Filter f;
        if (sp) f.sport = parse_port_range("--sport", sp);
        if (dp) f.dport = parse_port_range("--dport", dp);
        if (src) f.src = parse_host_cond("--src", src);
        if (dst) f.dst = parse_host_cond("--dst", dst);
        filters.push_back(f);
    };
    add("8080", nullptr, nullptr, nullptr);
    add(nullptr, "8080", nullptr, nullptr);
    add("1000-2000", nullptr, nullptr, nullptr);
    add("8080", "30000-40000", nullptr, nullptr);
    add(nullptr, nullptr, "198.18.0.0/24", nullptr);
    add(nullptr, "8080", nullptr, "198.18.0.2");
    add("8080", "1-65535", "198.18.0.2/32", "198.18.0.1/31");
    add(nullptr, nullptr, "::1", nullptr);
    add(nullptr, nullptr, nullptr, "fe80::/10");
    add("0", nullptr, nullptr, nullptr);

    std::vector<SockRecord> socks = {
        v4("198.18.0.2", 8080, "198.18.0.1", 40000), v4("198.18.0.1", 40000, "198.18.0.2", 8080),
        v4("198.18.0.2", 1500, "198.18.0.1", 35000), v4("10.0.0.1", 8080, "198.18.0.1", 8080),
        v4("198.18.0.2", 0, "0.0.0.0", 0),           v6("::1", 8083, "::1", 52922),
        v6("::ffff:198.18.0.2", 8080, "::ffff:198.18.0.1", 33333), v6("fe80::1", 22, "fe80::2", 8080),
        v4("198.18.0.2", 2000, "198.18.0.0", 65535), v4("198.18.0.2", 999, "198.18.0.1", 1),
    };
    for (size_t i = 0; i < filters.size(); ++i) {
        std::vector<uint8_t> bc = compile(filters[i]);
        INFO("filter " << filters[i].describe());
        CHECK(audit(bc));
        for (const SockRecord& r : socks) {
            INFO("socket " << r.local() << " -> " << r.remote());
            CHECK(run(bc, r) == filters[i].matches(r));
        }
    }
}

TEST_CASE("filters: bad input is one clear error naming the option", "[probe]") {
    auto msg = [](auto fn) {
        try {
            fn();
        } catch (const ProbeError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(msg([] { parse_port_range("--sport", "http"); }) == "--sport: 'http' is not a port (0-65535) or LO-HI range");
    CHECK(msg([] { parse_port_range("--dport", "70000"); }).find("--dport: '70000'") == 0);
    CHECK(msg([] { parse_port_range("--dport", "2000-1000"); }) == "--dport: range '2000-1000' has LO > HI");
    CHECK(msg([] { parse_host_cond("--dst", "198.18.0.300"); }).find("--dst: '198.18.0.300' is not an IPv4") == 0);
    CHECK(msg([] { parse_host_cond("--src", "10.0.0.0/33"); }).find("bad prefix length (0-32)") != std::string::npos);
    PortRange r = parse_port_range("--sport", "1000-2000");
    CHECK(r.lo == 1000);
    CHECK(r.hi == 2000);
    Filter f;
    f.sport = r;
    f.dst = parse_host_cond("--dst", "198.18.0.0/24");
    CHECK(f.describe() == "sport 1000-2000, dst 198.18.0.0/24");
}
