#include "probe/socket_record.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace churn::probe {

std::string addr_str(uint8_t family, const std::array<uint8_t, 16>& addr) {
    char buf[INET6_ADDRSTRLEN];
    // inet_ntop only fails for an unknown family or a short buffer; neither can happen here.
    if (!::inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf)) return "?";
    return buf;
}

std::string endpoint_str(uint8_t family, const std::array<uint8_t, 16>& addr, uint16_t port) {
    std::string a = addr_str(family, addr);
    if (family == AF_INET6) return "[" + a + "]:" + std::to_string(port);
    return a + ":" + std::to_string(port);
}

std::string SockRecord::local() const { return endpoint_str(family, src, sport); }
std::string SockRecord::remote() const { return endpoint_str(family, dst, dport); }
std::string SockRecord::remote_addr() const { return addr_str(family, dst); }

}  // namespace churn::probe
