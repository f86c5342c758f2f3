// diag_filter.h: "only sockets with source port 8080" as INET_DIAG bytecode, run by the kernel.
//
// With 100 000 sockets and a filter that keeps 50, the kernel should not copy 100 000 messages to us
// so that we can drop 99 950. ss compiles its filter expressions into a tiny bytecode the kernel runs
// per socket (inet_diag_bc_run); we do the same for the few filters the probe offers:
//   --sport PORT|LO-HI   --dport PORT|LO-HI   --src ADDR[/PREFIX]   --dst ADDR[/PREFIX]
// all of which must hold (AND).
//
// The bytecode is a list of 4-byte ops {code, yes, no}: each is a conditional jump forward by `yes`
// bytes when the condition holds, by `no` when it does not. Running off the end exactly (len == 0)
// accepts the socket; jumping 4 bytes past the end rejects it. A port comparison carries its port in
// the `no` field of a second op that follows it. So "sport == 8080 AND dport in 1000-2000" is:
//
//   off  0  S_EQ  yes=8  no=len-0+4    \  ops at offset o reject with no = (len - o) + 4
//   off  4  {0, 0, 8080}               /
//   off  8  D_GE  yes=8  no=len-8+4
//   off 12  {0, 0, 1000}
//   off 16  D_LE  yes=8  no=len-16+4
//   off 20  {0, 0, 2000}                   len = 24: the last yes lands on 24 = accept
//
// The kernel audits it before the dump (inet_diag_bc_audit: every jump 4-aligned, inside the program
// or exactly at len or len+4) and answers EINVAL otherwise, so a compile bug shows up as an error, not
// as wrong counts. The same filter also runs in user space (matches()) for the /proc fallback.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/socket_record.h"

namespace churn::probe {

struct PortRange {
    uint16_t lo = 0, hi = 0;
};

struct HostCond {
    uint8_t family = 0;                // AF_INET or AF_INET6
    std::array<uint8_t, 16> addr{};    // network order
    uint8_t prefix = 0;                // bits
};

struct Filter {
    std::optional<PortRange> sport, dport;
    std::optional<HostCond> src, dst;

    bool empty() const { return !sport && !dport && !src && !dst; }
    // "sport 8080, dst 198.18.0.2/32" (or "none")
    std::string describe() const;
    // The same test the kernel runs, for sockets read from /proc/net/tcp.
    bool matches(const SockRecord& r) const;
};

// "8080" or "1000-2000". Throws ProbeError("--sport: 'x' is not a port (0-65535) or LO-HI range").
PortRange parse_port_range(std::string_view option, std::string_view text);
// "198.18.0.2", "198.18.0.0/24", "::1", "fe80::/10". Throws ProbeError naming the option.
HostCond parse_host_cond(std::string_view option, std::string_view text);

// The bytecode for INET_DIAG_REQ_BYTECODE; empty for an empty filter.
std::vector<uint8_t> compile(const Filter& f);

}  // namespace churn::probe
