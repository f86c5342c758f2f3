// sock_diag.h: asking the kernel for its TCP sockets over NETLINK_SOCK_DIAG, the way `ss` does.
//
//   us                                              kernel (net/ipv4/inet_diag.c, tcp_diag.c)
//   sendto  nlmsghdr{SOCK_DIAG_BY_FAMILY,           walks listeners, then the established hash (with
//                    NLM_F_REQUEST|NLM_F_DUMP}      its TIME-WAIT and request socks), keeping each
//           inet_diag_req_v2{AF_INET, TCP,          socket whose state bit is set and which the
//                    ext bits, state mask}          bytecode accepts
//           [nlattr INET_DIAG_REQ_BYTECODE]
//   recvmsg one datagram = up to 32 KiB of          nlmsghdr{SOCK_DIAG_BY_FAMILY, NLM_F_MULTI}
//           messages, one per socket                inet_diag_msg + nlattrs (INET_DIAG_INFO, ...)
//   recvmsg ... as many as it takes ...
//   recvmsg                                         nlmsghdr{NLMSG_DONE}  (or NLMSG_ERROR: -errno)
//
// The parsing is a pure function over a received buffer (parse_reply), so the unit tests feed it bytes
// recorded from a real kernel: one datagram, several, a truncated one, an error.
#pragma once

#include <linux/inet_diag.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "probe/socket_record.h"

namespace churn::probe {

// A failure reported by the kernel (NLMSG_ERROR, an error in NLMSG_DONE) or by a syscall on the netlink
// socket. `err` is the errno, so callers can tell "sock_diag is not there" (fall back to /proc) from a
// real error. what() is one line naming the call.
struct DiagError : ProbeError {
    DiagError(int e, const std::string& what) : ProbeError(what), err(e) {}
    int err;
};

// The reply is malformed: a length that runs past the datagram, a message too short for its header.
// Never expected from a kernel; a parser that trusted lengths blindly would read past the buffer.
struct DiagTruncated : ProbeError {
    using ProbeError::ProbeError;
};

struct DiagRequest {
    uint8_t family = 0;       // AF_INET or AF_INET6: one dump per family, as ss does
    uint32_t states = 0;      // bitmask of (1 << kernel state); see tcp_states.h request_mask()
    uint8_t ext = 0;          // (1 << (INET_DIAG_INFO - 1)) | ... : extensions to attach to each socket
    std::vector<uint8_t> bytecode;  // INET_DIAG_REQ_BYTECODE (diag_filter.h); empty = every socket
};

// The extension bits, named. BBR's info arrives as INET_DIAG_BBRINFO, but idiag_ext has only 8 bits and
// BBRINFO is 16: it is requested with the VEGASINFO bit (tcp_bbr.c bbr_get_info checks both).
inline constexpr uint8_t kExtInfo = 1u << (INET_DIAG_INFO - 1);
inline constexpr uint8_t kExtCong = 1u << (INET_DIAG_CONG - 1);
inline constexpr uint8_t kExtCcInfo = 1u << (INET_DIAG_VEGASINFO - 1);

// One socket from a reply. The attributes point into the receive buffer: valid during the callback only.
struct DiagMessage {
    SockRecord rec;
    uint8_t timer = 0, retrans = 0;
    uint32_t expires_ms = 0;
    std::span<const uint8_t> attrs;

    // The payload of attribute `type` (INET_DIAG_INFO, INET_DIAG_CONG, ...); empty if absent.
    std::span<const uint8_t> attr(int type) const;
};

using SocketCallback = std::function<void(const DiagMessage&)>;

struct ReplyChunk {
    bool done = false;    // NLMSG_DONE seen: the dump is complete
    size_t sockets = 0;   // messages passed to the callback
    size_t foreign = 0;   // messages with another sequence number (a dump abandoned earlier), skipped
};

// Parse one received datagram. Throws DiagError for NLMSG_ERROR (or an error in NLMSG_DONE), and
// DiagTruncated when a length field does not fit the bytes.
ReplyChunk parse_reply(std::span<const uint8_t> buf, uint32_t seq, const SocketCallback& on_socket);

// The request datagram: nlmsghdr + inet_diag_req_v2 [+ nlattr with the bytecode].
std::vector<uint8_t> build_request(const DiagRequest& req, uint32_t seq);

// The netlink socket. It belongs to the network namespace it was created in, for good: a probe that
// watches two lab hosts creates one SockDiag inside each (after setns) and never switches again.
class SockDiag {
public:
    SockDiag();  // throws DiagError (err = errno of socket())
    ~SockDiag();
    SockDiag(const SockDiag&) = delete;
    SockDiag& operator=(const SockDiag&) = delete;

    // Send the request, read datagrams until NLMSG_DONE. Returns the number of sockets reported.
    size_t dump(const DiagRequest& req, const SocketCallback& on_socket);

    // Called with every received datagram before it is parsed: `churn-probe states --record FILE`
    // writes them out, which is how the unit tests' byte arrays were made.
    void set_tap(std::function<void(std::span<const uint8_t>)> tap) { tap_ = std::move(tap); }

private:
    int fd_ = -1;
    uint32_t seq_ = 0;
    std::vector<uint8_t> buf_;
    std::function<void(std::span<const uint8_t>)> tap_;
};

// Is this errno "sock_diag cannot answer here at all" (so reading /proc is the way), rather than a
// real failure? EAFNOSUPPORT/EPROTONOSUPPORT from socket() (no netlink or no sock_diag in the kernel),
// ENOENT from the dump (no tcp_diag handler: module not loaded and not loadable).
bool diag_unavailable(int err);

}  // namespace churn::probe
