// test_socket.cc: Endpoint::parse and the non-blocking connect/accept path, on 127.0.0.1 only.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/socket.h"
#include "loop/sys.h"

using namespace churn;

namespace {
uint16_t port_of(const Endpoint& ep) {
    if (ep.family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ep.addr)->sin6_port);
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ep.addr)->sin_port);
}

Endpoint parse_ok(std::string_view text) {
    Endpoint ep;
    std::string err;
    INFO(text);
    REQUIRE(Endpoint::parse(text, ep, err));
    return ep;
}

// 127.0.0.1 with port 0 (parse rejects 0 on purpose, so set it by hand): the kernel picks a free port.
Endpoint loopback_any_port() {
    Endpoint ep = parse_ok("127.0.0.1:1");
    reinterpret_cast<sockaddr_in*>(&ep.addr)->sin_port = 0;
    return ep;
}

// A port nobody listens on: bind to get one from the kernel, then close without listen().
Endpoint closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    Endpoint any = loopback_any_port();
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&any.addr), any.len) == 0);
    Endpoint ep = parse_ok(local_str(fd));
    ::close(fd);
    return ep;
}

// Calls fn(events) for each event on one fd; stops the reactor when fn returns true.
template <class Fn>
struct FnHandler : Reactor::Handler {
    Reactor& r;
    Fn fn;
    FnHandler(Reactor& reactor, Fn f) : r(reactor), fn(f) {}
    void on_events(uint32_t events) override {
        if (fn(events)) r.stop();
    }
};
}  // namespace

TEST_CASE("Endpoint::parse accepts IPv4, [IPv6] and a bare port; str() round-trips", "[socket]") {
    Endpoint ep = parse_ok("198.18.0.2:8080");
    CHECK(ep.family() == AF_INET);
    CHECK(ep.len == sizeof(sockaddr_in));
    CHECK(port_of(ep) == 8080);
    CHECK(ep.str() == "198.18.0.2:8080");

    ep = parse_ok("[::1]:80");
    CHECK(ep.family() == AF_INET6);
    CHECK(ep.len == sizeof(sockaddr_in6));
    CHECK(port_of(ep) == 80);
    CHECK(ep.str() == "[::1]:80");

    ep = parse_ok("8080");  // listen on every IPv4 address
    CHECK(ep.family() == AF_INET);
    CHECK(ep.str() == "0.0.0.0:8080");

    CHECK(parse_ok("65535").str() == "0.0.0.0:65535");
    CHECK(parse_ok("*:1").str() == "0.0.0.0:1");
    CHECK(parse_ok("[2001:db8::7]:443").str() == "[2001:db8::7]:443");

    for (const char* text : {"198.18.0.2:8080", "[::1]:80", "0.0.0.0:8080", "[2001:db8::7]:443"}) {
        INFO(text);
        CHECK(parse_ok(parse_ok(text).str()).str() == text);
    }
}

TEST_CASE("Endpoint::parse rejects bad ports, bad hosts and missing ports with a message", "[socket]") {
    Endpoint ep;
    std::string err;

    CHECK_FALSE(Endpoint::parse("198.18.0.2:0", ep, err));
    CHECK(err == "bad port '0' in '198.18.0.2:0' (want 1-65535)");

    for (const char* text : {"198.18.0.2:65536", "198.18.0.2:abc", "198.18.0.2:80x", "198.18.0.2:-1", "198.18.0.2:",
                             "0", "65536", "abc", "", "[::1]:0"}) {
        INFO(text);
        err.clear();
        CHECK_FALSE(Endpoint::parse(text, ep, err));
        CHECK(err.rfind("bad port '", 0) == 0);
    }

    for (const char* text : {"example.com:80", "256.0.0.1:80", "198.18.0:80", "[::g]:80"}) {
        INFO(text);
        err.clear();
        CHECK_FALSE(Endpoint::parse(text, ep, err));
        CHECK(err.rfind("bad address '", 0) == 0);
    }
    CHECK_FALSE(Endpoint::parse("example.com:80", ep, err));
    CHECK(err == "bad address 'example.com' (want a numeric IPv4 or IPv6 address)");

    // Missing port: the host alone must not be taken for a port, nor silently become port 0.
    err.clear();
    CHECK_FALSE(Endpoint::parse("198.18.0.2", ep, err));
    CHECK_FALSE(err.empty());
    err.clear();
    CHECK_FALSE(Endpoint::parse("[::1]", ep, err));
    CHECK(err == "expected [IPv6]:PORT, got '[::1]'");
    CHECK_FALSE(Endpoint::parse("[::1]80", ep, err));
    CHECK_FALSE(Endpoint::parse("[::1", ep, err));
}

TEST_CASE("connect to a closed port on 127.0.0.1: ECONNREFUSED via SO_ERROR after EPOLLOUT", "[socket]") {
    CHECK(errno_name(ECONNREFUSED) == "ECONNREFUSED");
    Endpoint ep = closed_port();

    SockResult cs = connect_tcp(ep);
    if (cs.status == Io::Error) {  // loopback may refuse synchronously
        CHECK(cs.fd == -1);
        CHECK(cs.err == ECONNREFUSED);
        CHECK(cs.error() == ECONNREFUSED);
        return;
    }
    REQUIRE(cs.status == Io::WouldBlock);
    REQUIRE(cs.fd >= 0);

    Reactor r;
    int err = -1;
    uint32_t seen = 0;
    auto on_writable = [&](uint32_t events) {
        seen = events;
        err = take_socket_error(cs.fd).error();
        return true;
    };
    FnHandler h(r, on_writable);
    r.watch(cs.fd, EPOLLOUT, &h);
    r.after(2'000'000, [&] { r.stop(); });  // failsafe: a bug must fail the test, not hang it
    r.run();

    CHECK(err == ECONNREFUSED);
    CHECK(errno_name(err) == "ECONNREFUSED");
    CHECK((seen & EPOLLERR) != 0);
    CHECK(take_socket_error(cs.fd).status == Io::Ok);  // SO_ERROR is read-and-clear
    r.forget(cs.fd);
    CHECK(close_fd(cs.fd).status == Io::Ok);
}

TEST_CASE("loopback connect + accept through the reactor; drained listener says -EAGAIN", "[socket]") {
    int lfd = listen_tcp(loopback_any_port(), ListenOptions{});
    REQUIRE(lfd >= 0);
    Endpoint server = parse_ok(local_str(lfd));
    CHECK(port_of(server) != 0);

    // Nothing has connected yet: the accept queue is empty, and that is EAGAIN, not an error.
    SockResult none = accept_one(lfd);
    CHECK(none.status == Io::WouldBlock);
    CHECK(none.err == 0);  // EAGAIN is a status, never an errno to count
    CHECK(none.fd == -1);

    SockResult cs = connect_tcp(server);
    REQUIRE(cs.status != Io::Error);
    REQUIRE(cs.fd >= 0);

    Reactor r;
    std::vector<int> accepted;
    SockResult last_accept = SockResult::ok();
    int connect_err = -1;
    bool connected = false;
    auto on_listener = [&](uint32_t) {
        // Edge-triggered: accept until EAGAIN.
        while ((last_accept = accept_one(lfd)).status == Io::Ok) accepted.push_back(last_accept.fd);
        return connected && !accepted.empty();
    };
    auto on_client = [&](uint32_t) {
        connect_err = take_socket_error(cs.fd).error();
        connected = true;
        return !accepted.empty();
    };
    FnHandler hl(r, on_listener);
    FnHandler hc(r, on_client);
    r.watch(lfd, EPOLLIN, &hl);
    r.watch(cs.fd, EPOLLOUT, &hc);
    r.after(2'000'000, [&] { r.stop(); });
    r.run();

    REQUIRE(accepted.size() == 1);
    CHECK(last_accept.status == Io::WouldBlock);
    CHECK(connect_err == 0);
    int sfd = accepted[0];
    CHECK(peer_str(sfd) == local_str(cs.fd));
    CHECK(local_str(sfd) == server.str());
    CHECK(peer_str(cs.fd) == server.str());

    CHECK(set_nodelay(cs.fd, true).status == Io::Ok);
    int v = 0;
    socklen_t len = sizeof v;
    REQUIRE(::getsockopt(cs.fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
    CHECK(v == 1);

    IoResult w = write_some(cs.fd, "ping", 4);
    CHECK(w.status == Io::Ok);
    CHECK(w.bytes == 4);
    pollfd pfd{sfd, POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 2000) == 1);
    char buf[16];
    IoResult rd = read_some(sfd, buf, sizeof buf);
    REQUIRE(rd.status == Io::Ok);
    CHECK(std::string(buf, rd.bytes) == "ping");

    CHECK(set_linger0(cs.fd).status == Io::Ok);  // RST on close: no TIME-WAIT left behind by the test
    r.forget(cs.fd);
    r.forget(lfd);
    CHECK(close_fd(cs.fd).status == Io::Ok);
    CHECK(close_fd(sfd).status == Io::Ok);
    CHECK(close_fd(lfd).status == Io::Ok);
    SockResult twice = close_fd(lfd);
    CHECK(twice.status == Io::Error);
    CHECK(twice.error() == EBADF);  // a double close is a bookkeeping bug, and close_fd says so
}
