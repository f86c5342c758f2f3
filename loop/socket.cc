#include "loop/socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "loop/sys.h"

namespace churn {

bool Endpoint::parse(std::string_view text, Endpoint& out, std::string& error) {
    out = Endpoint{};
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {  // [v6]:port
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "expected [IPv6]:PORT, got '" + std::string(text) + "'";
            return false;
        }
        host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
    } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
        host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    } else {
        port_text = text;  // just a port: listen on every address
    }
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        error = "bad port '" + std::string(port_text) + "' in '" + std::string(text) + "' (want 1-65535)";
        return false;
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (host.empty() || host == "*") {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons(static_cast<uint16_t>(port));
        out.len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        out.len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        out.len = sizeof(sockaddr_in6);
    } else {
        // No DNS on purpose: the lab has no resolver, and a lookup would hide time inside connect.
        error = "bad address '" + host + "' (want a numeric IPv4 or IPv6 address)";
        return false;
    }
    return true;
}

static std::string sockaddr_str(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(ntohs(v6->sin6_port));
    }
    return "?";
}

std::string Endpoint::str() const { return sockaddr_str(addr); }

int listen_tcp(const Endpoint& ep, const ListenOptions& opt) {
    int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_sys("socket", ep.family() == AF_INET ? "AF_INET" : "AF_INET6", errno);
    int one = 1;
    // SO_REUSEADDR: a restarted server must be able to bind while old connections to its port still
    // sit in TIME-WAIT; without it bind() fails with EADDRINUSE for up to 60 s after a --close server run.
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) goto error_reuseaddr;
    // SO_REUSEPORT: several listeners (processes or threads) on one port, the kernel spreading SYNs
    // across them by 4-tuple hash.
    if (opt.reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) goto error_reuseport;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) < 0) goto error_bind;
    // The backlog caps the accept queue (fully established connections not yet accepted); the kernel
    // silently clamps it to net.core.somaxconn.
    if (::listen(fd, opt.backlog) < 0) goto error_listen;
    return fd;

    int saved;
error_reuseaddr:
    saved = errno; ::close(fd); throw_sys("setsockopt", "SO_REUSEADDR, fd=" + std::to_string(fd), saved);
error_reuseport:
    saved = errno; ::close(fd); throw_sys("setsockopt", "SO_REUSEPORT, fd=" + std::to_string(fd), saved);
error_bind:
    saved = errno; ::close(fd); throw_sys("bind", ep.str(), saved);
error_listen:
    saved = errno; ::close(fd); throw_sys("listen", ep.str() + ", backlog=" + std::to_string(opt.backlog), saved);
}

SockResult connect_tcp(const Endpoint& ep, const std::function<int(int fd)>& prepare) {
    int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return SockResult::error(errno);  // EMFILE/ENFILE: counted by the caller
    if (prepare) {
        if (int err = prepare(fd)) {
            ::close(fd);
            return SockResult::error(err);
        }
    }
    // No bind() with a port (bind_source in `prepare` binds only an address): the kernel picks the source
    // port from ip_local_port_range inside connect(). That search is exactly what runs out under churn,
    // and where EADDRNOTAVAIL comes from.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) == 0) return SockResult::ok(fd);
    int saved = errno;
    // EINPROGRESS: the SYN is out; writability will tell us how the handshake ended.
    if (saved == EINPROGRESS) return SockResult::would_block(fd);
    ::close(fd);
    return SockResult::error(saved);
}

SockResult bind_source(int fd, const Endpoint& local) {
    // Why IP_BIND_ADDRESS_NO_PORT (Linux >= 4.2): a plain bind(addr, port 0) must give the socket a port
    // there and then, before the kernel knows the destination, so it takes one that is free for ANY
    // destination from this address: each such port is reserved whole, and one address yields at most
    // ip_local_port_range connections in all (and the search is the bind-time one, which skips ports
    // held by TIME-WAIT instead of checking the 4-tuple). With the option, bind() records only the
    // address; connect() then chooses the port the way it does for an unbound socket, knowing the full
    // 4-tuple (src addr, src port, dst addr, dst port), and a port is "used" only for that tuple. That
    // per-tuple limit is why a second source address doubles the ceiling towards one server address and
    // port (run-levers row 8): each source has its own set of ip_local_port_range ports for it.
    int one = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) return SockResult::error(errno);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local.addr), local.len) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult take_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    // SO_ERROR reads *and clears* the pending error, so it is asked exactly once per connect.
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return SockResult::error(errno);
    return err ? SockResult::error(err) : SockResult::ok();
}

SockResult accept_one(int listen_fd) {
    for (;;) {
        // accept4 sets NONBLOCK and CLOEXEC atomically: no window where a new fd is blocking.
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return SockResult::ok(fd);
        int saved = errno;
        if (saved == EINTR) continue;
        if (saved == EAGAIN || saved == EWOULDBLOCK) return SockResult::would_block();
        return SockResult::error(saved);
    }
}

SockResult set_nodelay(int fd, bool on) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult set_linger0(int fd) {
    // {on, 0}: close() sends RST instead of FIN and the socket skips TIME-WAIT entirely. Unsent and
    // unread data is thrown away, which is why it is an option and not a fix.
    linger l{1, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult set_maxseg(int fd, int mss) {
    // Set before connect() it becomes the socket's user_mss: tcp_connect_init() clamps the MSS the SYN
    // advertises to it (tcp_mss_clamp), so the peer learns N instead of MTU - 40. After the handshake it
    // could only lower what we send, not what the peer sends us. The route's MTU still wins when it is
    // smaller: a value above MTU - 40 changes nothing on the wire.
    if (::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult set_cork(int fd, bool on) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult set_quickack(int fd) {
    // Why it must be repeated (net/ipv4/tcp_output.c, tcp_event_data_sent): a socket that sends data
    // within the delayed-ACK timeout (ato, >= 40 ms) of receiving some counts an exchange, and the
    // kernel then puts it back in "pingpong" (interactive) mode, where ACKs wait to ride on the answer.
    // A request/response server does exactly that on every request, so one setsockopt at accept would
    // be gone after the first answer. Setting it also sends an ACK that is pending now (net/ipv4/tcp.c,
    // __tcp_sock_set_quickack: ICSK_ACK_PUSHED, then tcp_cleanup_rbuf), which is the point right after
    // a read.
    int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

SockResult delay_handshake_ack(int fd) {
    // TCP_QUICKACK = 0 puts the socket in "pingpong" mode before it has exchanged anything. When the
    // SYN-ACK arrives, tcp_rcv_synsent_state_process (net/ipv4/tcp_input.c) sees pingpong mode and,
    // instead of ACKing at once, arms the delayed-ACK timer: the client is expected to speak first, so
    // the ACK can ride on its request. connect() still completes on the SYN-ACK, as always.
    //   Without it:  SYN ->, <- SYN-ACK, ACK ->, request ->   (4 packets, 2 of them ours after the SYN-ACK)
    //   With it:     SYN ->, <- SYN-ACK, request+ACK ->       (3 packets)
    // Why it matters more than a packet: the server's listener turns SYN-RECV into an accept()able
    // connection on that ACK and wakes the accepting process (sock_def_readable). With a bare ACK it is
    // woken to accept a connection that has nothing to read yet, and woken again by the request; with
    // the request carrying the ACK, one wakeup finds both. On a veth pair the receiving side's TCP runs
    // in the sender's softirq, so those wakeups (a cross-CPU interrupt when the server sleeps) are paid
    // by the client's CPU: EXPERIMENTS §3 measures it. HAProxy calls this "option tcp-smart-connect".
    // The cost if we had nothing to send: the ACK leaves with the delayed-ACK timer (up to 200 ms,
    // TCP_DELACK_MAX) instead. An HTTP client always speaks first.
    int zero = 0;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero) < 0) return SockResult::error(errno);
    return SockResult::ok();
}

IoResult send_iov(int fd, const iovec* iov, int count) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);  // the kernel only reads the array; msghdr's field is not const
    msg.msg_iovlen = static_cast<size_t>(count);
    for (;;) {
        // sendmsg(), not writev(): writev() takes no flags, and a peer that reset the connection would
        // kill us with SIGPIPE instead of giving EPIPE (the same reason write_some uses send()).
        long rc = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        int saved = errno;
        if (rc < 0 && saved == EINTR) continue;
        return classify_write(rc, saved);
    }
}

SockResult close_fd(int fd) { return ::close(fd) < 0 ? SockResult::error(errno) : SockResult::ok(); }

std::string local_str(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return "?";
    return sockaddr_str(ss);
}

std::string peer_str(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return "?";
    return sockaddr_str(ss);
}

}  // namespace churn
