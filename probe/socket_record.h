// socket_record.h: one TCP socket as the probe sees it, whichever way it was read (sock_diag or
// /proc/net/tcp). Both sources give the same identity: family, state, the two endpoints, the owner's
// uid and the socket inode (the key to find the owning process through /proc/PID/fd).
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace churn::probe {

// Every error the probe reports is one line: "--netns x: no such network namespace (...)". main()
// prints it after "churn-probe: " and exits 2.
struct ProbeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct SockRecord {
    uint8_t family = 0;  // AF_INET or AF_INET6
    uint8_t state = 0;   // reported state (NEW_SYN_RECV already folded into SYN_RECV)
    // Addresses in network byte order, as the kernel keeps them: an IPv4 address in the first 4 bytes.
    std::array<uint8_t, 16> src{}, dst{};
    uint16_t sport = 0, dport = 0;  // host byte order
    uint32_t uid = 0;
    uint64_t inode = 0;  // 0 for TIME-WAIT and request socks: they have no struct socket, so no fd
    uint32_t rqueue = 0, wqueue = 0;

    std::string local() const;   // "198.18.0.1:40312", "[::1]:8080"
    std::string remote() const;
    std::string remote_addr() const;  // without the port
};

// "198.18.0.1" / "::1" (an IPv4-mapped IPv6 address prints as ::ffff:198.18.0.1, as ss prints it).
std::string addr_str(uint8_t family, const std::array<uint8_t, 16>& addr);
std::string endpoint_str(uint8_t family, const std::array<uint8_t, 16>& addr, uint16_t port);

}  // namespace churn::probe
