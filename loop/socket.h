// socket.h: TCP sockets the way a reactor needs them: non-blocking from birth, errors kept.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "loop/sys.h"

namespace churn {

// An IPv4 or IPv6 endpoint. parse() takes "198.18.0.2:8080", "[::1]:8080" or "8080" (any address).
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;

    static bool parse(std::string_view text, Endpoint& out, std::string& error);
    int family() const { return addr.ss_family; }
    std::string str() const;
};

struct ListenOptions {
    int backlog = 4096;
    bool reuseport = false;
};

// socket + SO_REUSEADDR (+ SO_REUSEPORT) + bind + listen, non-blocking. Throws std::system_error naming
// the failed call and the address.
int listen_tcp(const Endpoint& ep, const ListenOptions& opt);

// The one result convention of this file, the vocabulary of loop/sys.h's IoResult: what the kernel said,
// captured right after the call. EAGAIN and EINPROGRESS are not errors, so they are a status, never an
// `err`; and err == 0 is never "try again".
//   Ok          done; `fd` is the new socket for accept_one/connect_tcp (-1 for the calls that make none)
//   WouldBlock  accept_one: the queue is drained (EAGAIN). connect_tcp: the SYN is out (EINPROGRESS), `fd`
//               is valid; EPOLLOUT will say how the handshake ended (take_socket_error)
//   Error       `err` is the errno; fd is -1 (Eof is never used here)
struct SockResult {
    Io status;
    int fd;
    int err;

    static SockResult ok(int fd = -1) { return {Io::Ok, fd, 0}; }
    static SockResult would_block(int fd = -1) { return {Io::WouldBlock, fd, 0}; }
    static SockResult error(int e) { return {Io::Error, -1, e}; }
    // The errno of a failed call, 0 otherwise: `if (int e = set_nodelay(fd, true).error()) count(e);`
    int error() const { return status == Io::Error ? err : 0; }
};

// socket(SOCK_NONBLOCK) + connect(): Ok (loopback may finish the handshake inside connect()),
// WouldBlock (in progress), or Error (EADDRNOTAVAIL, ECONNREFUSED, EMFILE, ...). Never throws: a failed
// connect is data for the load generator. `prepare`, if given, runs on the new socket before connect()
// (options that shape the handshake or the first window, e.g. TCP_CONGESTION) and returns 0 or an errno
// that fails the connect.
SockResult connect_tcp(const Endpoint& ep, const std::function<int(int fd)>& prepare = {});

// For connect_tcp's `prepare`: bind `fd` to the local address `local` (port 0) with
// IP_BIND_ADDRESS_NO_PORT set first, so that bind() fixes only the address and connect() still picks the
// port, per 4-tuple (socket.cc says why that matters). Ok, or Error with the errno of the setsockopt or
// the bind (EADDRNOTAVAIL: `local` is not an address of this host).
SockResult bind_source(int fd, const Endpoint& local);

// After EPOLLOUT on a connecting socket: Ok when connected, else Error with the errno the handshake
// ended with (SO_ERROR).
SockResult take_socket_error(int fd);

// accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): Ok with the new fd, WouldBlock when the queue is drained, or Error.
SockResult accept_one(int listen_fd);

// setsockopt wrappers: Ok or Error, so callers on hot paths can count instead of throw.
SockResult set_nodelay(int fd, bool on);
SockResult set_linger0(int fd);
// TCP_MAXSEG before connect(): the MSS this socket advertises in its SYN (and the most it will send).
// The kernel takes 88 (TCP_MIN_MSS) .. 32767 (MAX_TCP_WINDOW), else EINVAL.
SockResult set_maxseg(int fd, int mss);

// TCP_CORK on or off (tcp(7)): while on, the kernel sends only full segments; turning it off pushes
// what is queued at once. The kernel also sends a corked partial segment after 200 ms on its own.
SockResult set_cork(int fd, bool on);
// TCP_QUICKACK = 1: leave delayed-ACK ("pingpong") mode and send any ACK that is pending now. Not sticky:
// the kernel goes back to delaying ACKs by itself (socket.cc says when), so a receiver sets it again
// after every read.
SockResult set_quickack(int fd);
// TCP_QUICKACK = 0 before connect(): the last ACK of the handshake waits for our first data and rides
// on it, one packet fewer per connection (socket.cc says why this is worth a syscall).
SockResult delay_handshake_ack(int fd);

// sendmsg() of an iovec array, MSG_NOSIGNAL: writev() that cannot raise SIGPIPE. Ok with the bytes taken
// (possibly fewer than all: the send buffer filled), WouldBlock (EAGAIN), or Error; EINTR is retried.
IoResult send_iov(int fd, const iovec* iov, int count);

// Close with the result checked: close() on a socket can report a pending error, and EBADF here is a
// bookkeeping bug we want to see.
SockResult close_fd(int fd);

std::string local_str(int fd);
std::string peer_str(int fd);

}  // namespace churn
