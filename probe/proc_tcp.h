// proc_tcp.h: the other way to list TCP sockets: /proc/net/tcp and /proc/net/tcp6, one text line each.
//
//   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 ...
//
// Addresses are the kernel's __be32 words printed with %08X, i.e. in *host* byte order: 0100007F is
// 127.0.0.1 on a little-endian machine. Ports are printed after ntohs (1F90 = 8080). `st` is the state
// number in hex (tcp_states.h); request socks print as 03 (SYN_RECV), orphaned FIN-WAIT-2 as 05.
//
// Why not always this: the kernel formats every socket as text and we parse it back, and the walk was
// once quadratic in the number of sockets. It is the fallback when sock_diag is not there (--proc, or
// automatically), and a cross-check for the netlink path. A line that does not parse is counted and
// skipped, never fatal: the file is read while sockets come and go.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "probe/socket_record.h"

namespace churn::probe {

struct ProcTcpStats {
    size_t sockets = 0;     // lines parsed into a socket
    size_t malformed = 0;   // lines skipped
    size_t first_malformed = 0;  // 1-based line number of the first, for the warning
};

// Parse the whole text of /proc/net/tcp (family AF_INET) or /proc/net/tcp6 (AF_INET6). The header line
// is recognised and skipped; blank lines are ignored.
ProcTcpStats parse_proc_tcp(std::string_view text, int family, const std::function<void(const SockRecord&)>& on_socket);

// One data line; false if it is malformed. Exposed for the unit tests.
bool parse_proc_tcp_line(std::string_view line, int family, SockRecord& out);

// The whole content of an open /proc file, read again from offset 0. /proc files are generated on
// read, so one fd opened inside a network namespace keeps answering for that namespace. Throws
// ProbeError naming `what` on a read error.
std::string read_proc_fd(int fd, const std::string& what);

}  // namespace churn::probe
