// socket.h: TCP sockets the way a reactor needs them: non-blocking from birth, errors kept.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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

// Result of starting a non-blocking connect.
struct ConnectStart {
    enum State { Connected, InProgress, Failed } state;
    int fd;   // -1 when Failed
    int err;  // errno when Failed (EADDRNOTAVAIL, ECONNREFUSED, EMFILE, ...)
};
// socket(SOCK_NONBLOCK) + connect(). Never throws: a failed connect is data for the load generator.
// `prepare`, if given, runs on the new socket before connect() (options that shape the handshake or
// the first window, e.g. TCP_CONGESTION) and returns 0 or an errno that fails the connect.
ConnectStart connect_tcp(const Endpoint& ep, const std::function<int(int fd)>& prepare = {});

// After EPOLLOUT on a connecting socket: 0 when connected, else the errno the handshake ended with.
int take_socket_error(int fd);

// accept4(SOCK_NONBLOCK|SOCK_CLOEXEC). Returns fd >= 0, or -errno (-EAGAIN when the queue is drained).
int accept_one(int listen_fd);

// setsockopt wrappers; they return 0 or errno so callers on hot paths can count instead of throw.
int set_nodelay(int fd, bool on);
int set_linger0(int fd);

// Close with the result checked: close() on a socket can report a pending error, and EBADF here is a
// bookkeeping bug we want to see.
int close_fd(int fd);

std::string local_str(int fd);
std::string peer_str(int fd);

}  // namespace churn
