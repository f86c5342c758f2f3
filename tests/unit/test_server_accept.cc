// test_server_accept.cc: churn-server's Listener on 127.0.0.1, through a real Reactor.
//
//   - more connections queued than the accept cap, and one edge: all of them are accepted (the rest of
//     the queue goes through the ready list);
//   - at EMFILE, a connection that died in the queue while we shed (ECONNABORTED) does not end the accept
//     loop: the ones queued behind it are accepted in the same wakeup, not at the next SYN;
//   - --max-conns evicts the longest-idle keep-alive connection, and a head-less one only after its
//     grace; with nothing to evict, or --evict off, the newcomer is refused;
//   - --accept-for: accept() stops when it runs out (the queue keeps the rest); 0 never accepts;
//   - a connection whose peer takes none of its answers is evicted last (after the head-less ones), only
//     once it has stalled for the grace, and with an RST;
//   - TCP_NODELAY is set once, on the listener, and every accepted connection has it (--nodelay off: none).
#include <catch2/catch.hpp>

#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/socket.h"
#include "tests/unit/fixtures.h"
#include "loop/sys.h"
#include "server/listener.h"
#include "server/response.h"
#include "server/stats.h"

using namespace churn;
using churn::test::run_until;

namespace {

ServerOptions loopback_options() {
    ServerOptions o;
    std::string why;
    REQUIRE(Endpoint::parse("127.0.0.1:1", o.endpoint, why));
    reinterpret_cast<sockaddr_in*>(&o.endpoint.addr)->sin_port = 0;  // the kernel picks a free port
    o.header_timeout_us = o.body_timeout_us = o.idle_timeout_us = o.send_timeout_us = 0;  // no sweep timer
    return o;
}

// Blocking-style helpers for the client side (loopback completes the handshake in the kernel, with or
// without our accept()).
int connect_to(const std::string& where) {
    Endpoint ep;
    std::string why;
    REQUIRE(Endpoint::parse(where, ep, why));
    SockResult c = connect_tcp(ep);
    REQUIRE(c.status != Io::Error);
    // Wait for the handshake: the connection is then in the accept queue, before the loop runs.
    pollfd pfd{c.fd, POLLOUT, 0};
    REQUIRE(::poll(&pfd, 1, 5000) == 1);
    REQUIRE(take_socket_error(c.fd).status == Io::Ok);
    return c.fd;
}

struct Server {
    ServerOptions opt;
    Responses responses;
    ServerStats stats;
    std::unique_ptr<Reactor> r = std::make_unique<Reactor>();
    std::unique_ptr<Listener> l;
    explicit Server(ServerOptions o, size_t body = 16) : opt(std::move(o)), responses(Responses::build(body)) {
        l = std::make_unique<Listener>(*r, opt, responses, stats);
    }
    ~Server() {
        l->abandon_all();
        l.reset();
    }
};

// Peer's view of a connection: 1 when the server closed it (EOF or RST), 0 while it is open.
int closed_by_server(int fd) {
    char b[256];
    ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n == 0) return 1;
    if (n < 0 && errno == ECONNRESET) return 1;
    return 0;
}
}  // namespace

TEST_CASE("server accept loop: more queued than the per-wakeup cap, all accepted", "[server][accept]") {
    Server s(loopback_options());
    std::string where = s.l->local();
    // Queue them all before the loop runs: one edge will stand for every one of them, and no new SYN
    // will come to raise another.
    const int n = 3 * Listener::kAcceptsPerWakeup + 7;
    std::vector<int> clients;
    for (int i = 0; i < n; ++i) clients.push_back(connect_to(where));
    CHECK(run_until(*s.r, [&] { return s.stats.accepted == static_cast<uint64_t>(n); }));
    CHECK(s.stats.accepted == static_cast<uint64_t>(n));
    CHECK(s.stats.live == static_cast<uint64_t>(n));
    for (int fd : clients) {
        set_linger0(fd);  // RST: no TIME-WAIT left behind by the test
        ::close(fd);
    }
}

TEST_CASE("server accept loop: ECONNABORTED while shedding at EMFILE does not end the loop", "[server][accept]") {
    Server s(loopback_options());
    std::string where = s.l->local();
    std::vector<int> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(connect_to(where));
    // Script what the kernel will not do on demand: the first accept4() says EMFILE (the fd table is
    // full), the shed's accept4() finds a connection that was reset while queued (ECONNABORTED). Then
    // the real thing: the three connections behind it must still be accepted in this wakeup.
    int calls = 0;
    s.l->set_accept_for_test([&](int fd) {
        ++calls;
        if (calls == 1) return SockResult::error(EMFILE);
        if (calls == 2) return SockResult::error(ECONNABORTED);
        return accept_one(fd);
    });
    CHECK(run_until(*s.r, [&] { return s.stats.accepted == 3; }));
    CHECK(s.stats.accepted == 3);
    CHECK(s.stats.shed == 0);
    CHECK(s.stats.errors[EMFILE] == 0);  // counted only per connection actually shed
    CHECK(s.stats.errors[ECONNABORTED] == 1);
    CHECK(calls == 6);  // EMFILE, ECONNABORTED, three accepts, EAGAIN
    for (int fd : clients) {
        set_linger0(fd);
        ::close(fd);
    }
}

TEST_CASE("server --max-conns: evict the longest idle, head-less ones after their grace, else refuse",
          "[server][evict]") {
    const char get[] = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
    ServerOptions o = loopback_options();
    o.max_conns = 2;
    o.evict_grace_us = 3600ull * 1'000'000;  // head-less connections are never old enough here
    Server s(o);
    std::string where = s.l->local();

    // A and B: one request each, answered; both are idle keep-alive connections, A the older.
    int a = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.live == 1; }));
    REQUIRE(::write(a, get, sizeof get - 1) == static_cast<ssize_t>(sizeof get - 1));
    REQUIRE(run_until(*s.r, [&] { return s.stats.responses == 1; }));
    int b = connect_to(where);
    REQUIRE(::write(b, get, sizeof get - 1) == static_cast<ssize_t>(sizeof get - 1));
    REQUIRE(run_until(*s.r, [&] { return s.stats.responses == 2; }));

    // C says nothing: at the limit, it evicts A (the longest idle), not B.
    int c = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 3; }));
    CHECK(s.stats.evicted_idle == 1);
    CHECK(s.stats.rejected == 0);
    CHECK(s.stats.live == 2);
    char buf[512];
    CHECK(::read(a, buf, sizeof buf) > 0);  // A's answer...
    CHECK(run_until(*s.r, [&] { return closed_by_server(a) == 1; }));  // ...then our FIN
    CHECK(closed_by_server(b) == 0);

    // D: B is the only idle one left; C has no head but is within its grace.
    int d = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 4; }));
    CHECK(s.stats.evicted_idle == 2);
    CHECK(s.stats.evicted_head == 0);

    // E: only head-less connections in their grace are left: E is refused.
    int e = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 5; }));
    CHECK(s.stats.rejected == 1);
    CHECK(s.stats.live == 2);

    // Once the grace is over (0 here), the head-less C goes before D: the oldest first.
    s.opt.evict_grace_us = 0;
    int f = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 6; }));
    CHECK(s.stats.evicted_head == 1);
    CHECK(run_until(*s.r, [&] { return closed_by_server(c) == 1; }));
    CHECK(closed_by_server(d) == 0);
    CHECK(s.stats.close_server == 3);  // A, B and C: the server closed first each time

    // --evict off: at the limit the newcomer is refused, whatever the others are doing.
    s.opt.evict = false;
    int g = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 7; }));
    CHECK(s.stats.rejected == 2);
    CHECK(s.stats.evicted_head + s.stats.evicted_idle == 3);

    for (int fd : {a, b, c, d, e, f, g}) {
        set_linger0(fd);
        ::close(fd);
    }
}

TEST_CASE("server timeouts through the loop: the sweep timer closes a silent connection and an idle one",
          "[server][timeouts]") {
    const char get[] = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
    ServerOptions o = loopback_options();
    o.header_timeout_us = 200'000;
    o.idle_timeout_us = 300'000;
    Server s(o);
    std::string where = s.l->local();

    uint64_t t0 = mono_us();
    int silent = connect_to(where);
    int idle = connect_to(where);
    REQUIRE(::write(idle, get, sizeof get - 1) == static_cast<ssize_t>(sizeof get - 1));
    CHECK(run_until(*s.r, [&] { return s.stats.timeout_header == 1 && s.stats.timeout_idle == 1; }));
    uint64_t elapsed = mono_us() - t0;
    CHECK(s.stats.timeout_header == 1);
    CHECK(s.stats.timeout_idle == 1);
    CHECK(s.stats.requests == 1);
    CHECK(s.stats.live == 0);
    // Never early (the exact bound); late by at most a sweep interval plus the host's noise (not checked).
    CHECK(elapsed >= 300'000);
    CHECK(closed_by_server(silent) == 1);
    char buf[512];
    CHECK(::read(idle, buf, sizeof buf) > 0);  // its answer, then our FIN
    CHECK(closed_by_server(idle) == 1);
    for (int fd : {silent, idle}) {
        set_linger0(fd);
        ::close(fd);
    }
}

TEST_CASE("server --max-conns: a writer whose peer reads nothing goes last, after its grace, with an RST",
          "[server][evict][send]") {
    const char get[] = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
    ServerOptions o = loopback_options();
    o.max_conns = 2;
    o.evict_grace_us = 3600ull * 1'000'000;
    Server s(o, 8 << 20);  // an 8 MiB answer: more than loopback's buffers hold while the peer reads nothing
    std::string where = s.l->local();

    // A asks and never reads: Writing, its send clock stalled. B connects and says nothing.
    int a = connect_to(where);
    REQUIRE(::write(a, get, sizeof get - 1) == static_cast<ssize_t>(sizeof get - 1));
    REQUIRE(run_until(*s.r, [&] { return s.stats.responses == 1; }));
    int b = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.live == 2; }));

    // Both within their grace: C is refused, A's download is not cut for a newcomer.
    int c = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 3; }));
    CHECK(s.stats.rejected == 1);
    CHECK(s.stats.evicted_send == 0);

    // Past the grace: the head-less B goes first, although A has been stalled longer...
    s.opt.evict_grace_us = 0;
    int d = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 4; }));
    CHECK(s.stats.evicted_head == 1);
    CHECK(s.stats.evicted_send == 0);
    // ...then A. D, once it has asked, is a writer too (it reads nothing either), but its clock started
    // later: the writer stalled longest goes.
    REQUIRE(::write(d, get, sizeof get - 1) == static_cast<ssize_t>(sizeof get - 1));
    REQUIRE(run_until(*s.r, [&] { return s.stats.responses == 2; }));
    int e = connect_to(where);
    REQUIRE(run_until(*s.r, [&] { return s.stats.accepted == 5; }));
    CHECK(s.stats.evicted_send == 1);
    CHECK(s.stats.rejected == 1);
    CHECK(s.stats.live == 2);

    // A's peer finds the bytes already in its socket, then the RST: the 8 MiB were never going to arrive.
    int end = -1;
    CHECK(run_until(*s.r, [&] {
        char buf[64 * 1024];
        while (end < 0) {
            ssize_t n = ::recv(a, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n == 0) end = 0;
            else if (errno != EAGAIN) end = errno;
            else break;
        }
        return end >= 0;
    }));
    CHECK(end == ECONNRESET);
    for (int fd : {a, b, c, d, e}) {
        set_linger0(fd);
        ::close(fd);
    }
}

TEST_CASE("server --accept-for: accepts until it runs out, then leaves the rest in the queue", "[server][accept]") {
    ServerOptions o = loopback_options();
    o.accept_for_us = 100'000;
    Server s(o);
    std::string where = s.l->local();
    std::vector<int> clients;
    for (int i = 0; i < 2; ++i) clients.push_back(connect_to(where));
    CHECK(run_until(*s.r, [&] { return s.stats.accepted == 2; }));
    CHECK(s.stats.accept_stopped_at_s < 0);  // not yet
    CHECK(run_until(*s.r, [&] { return s.stats.accept_stopped_at_s >= 0; }));
    CHECK(s.stats.accept_stopped_at_s >= 0.1);
    // Handshakes still complete (the kernel does them, into the accept queue), but nobody takes them.
    for (int i = 0; i < 3; ++i) clients.push_back(connect_to(where));
    run_until(*s.r, [] { return false; }, 200'000);
    CHECK(s.stats.accepted == 2);
    CHECK(s.stats.live == 2);
    for (int fd : clients) {
        set_linger0(fd);
        ::close(fd);
    }
}

TEST_CASE("server --accept-for 0: listens, never accepts", "[server][accept]") {
    ServerOptions o = loopback_options();
    o.accept_for_us = 0;
    Server s(o);
    CHECK(s.stats.accept_stopped_at_s == 0);
    int fd = connect_to(s.l->local());  // the kernel completes the handshake into the queue
    run_until(*s.r, [] { return false; }, 200'000);
    CHECK(s.stats.accepted == 0);
    set_linger0(fd);
    ::close(fd);
}

namespace {
// TCP_NODELAY of the server's end of the connection whose client end is `client` (the accepted socket
// lives in this process: find it by its peer address), or -1 if there is no such socket.
int server_nodelay(int client) {
    std::string me = local_str(client);
    for (int fd = 0; fd < 4096; ++fd) {
        if (fd == client || peer_str(fd) != me) continue;
        int v = -1;
        socklen_t len = sizeof v;
        REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
        return v;
    }
    return -1;
}
}  // namespace

TEST_CASE("server TCP_NODELAY: set once on the listener, accepted connections inherit it; --nodelay off: not",
          "[server][accept]") {
    // admit() makes no setsockopt per connection any more: the accepted socket is a clone of the
    // listening one (Linux copies TCP_NODELAY), so what the listener has, each connection has.
    for (bool on : {true, false}) {
        ServerOptions o = loopback_options();
        o.nodelay = on;
        Server s(o);
        int fd = connect_to(s.l->local());
        CHECK(run_until(*s.r, [&] { return s.stats.live == 1; }));
        CHECK(server_nodelay(fd) == (on ? 1 : 0));
        set_linger0(fd);
        ::close(fd);
    }
}
