// test_reactor_syscalls.cc: the epoll_ctl calls a connection does without (issue 12), and why it may.
//
//   - forget_before_close() + close(): no epoll_ctl(DEL), yet the kernel holds no registration for the
//     fd afterwards (/proc/self/fdinfo of the epoll fd), and the fd number's next owner gets only its
//     own events;
//   - the case it must not be used for: a dup()ed fd keeps the file, and its registration, alive past
//     close(), still firing; the generation counter keeps those events from the number's next owner;
//   - EPOLLIN|EPOLLOUT registered once (edge-triggered) on a connecting TCP socket: one event for the
//     handshake, none while it stays writable (a send and its ACK included), one for the response: no
//     MOD is needed to keep EPOLLOUT quiet;
//   - a refused connect on that registration carries EPOLLERR|EPOLLHUP, which is what lets churn-client
//     skip getsockopt(SO_ERROR) when an event has neither.
#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "loop/reactor.h"
#include "loop/socket.h"

using namespace churn;
using churn::test::Pair;
using churn::test::run_until;

namespace {
struct Counter : Reactor::Handler {
    int calls = 0;
    uint32_t all = 0;  // every bit seen
    uint32_t last = 0;
    void on_events(uint32_t events) override {
        ++calls;
        all |= events;
        last = events;
    }
};

// How many registrations the kernel's interest list of epoll fd `epfd` holds under fd number `fd`
// ("tfd: N" lines in its fdinfo, epoll(7)): two when a closed file's registration outlives it.
int registrations(int epfd, int fd) {
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(epfd));
    REQUIRE(in.good());
    std::string line;
    int n = 0;
    // "tfd:" is followed by padding to a fixed width: compare the number, not the spacing.
    while (std::getline(in, line))
        if (line.rfind("tfd:", 0) == 0 && std::stoi(line.substr(4)) == fd) ++n;
    return n;
}

// Put a fresh socketpair end on fd number `num` (closed just before): the reuse accept() would do.
int reuse_number(int num, int& peer) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    int mine = fds[0];
    peer = fds[1];
    if (peer == num) std::swap(mine, peer);
    if (mine != num) {
        REQUIRE(::dup3(mine, num, O_CLOEXEC) == num);
        ::close(mine);
    }
    return num;
}

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port; `where` gets "127.0.0.1:PORT".
int listen_loopback(std::string& where) {
    Endpoint ep;
    std::string why;
    REQUIRE(Endpoint::parse("127.0.0.1:1", ep, why));
    reinterpret_cast<sockaddr_in*>(&ep.addr)->sin_port = 0;
    int l = listen_tcp(ep, {});
    where = local_str(l);
    return l;
}
}  // namespace

TEST_CASE("forget_before_close: no DEL, and after close() the kernel holds no registration", "[reactor][syscalls]") {
    Reactor r;
    Pair p;
    Counter old_owner, newcomer;
    r.watch(p.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, &old_owner);
    REQUIRE(registrations(r.epoll_fd(), p.a) == 1);
    uint64_t ctls = r.epoll_ctls();
    // Readable (and writable) before the close: if the registration outlived close(), epoll_wait would
    // have something to report for it.
    REQUIRE(::write(p.b, "x", 1) == 1);
    int num = p.a;
    r.forget_before_close(num);
    CHECK(r.epoll_ctls() == ctls);  // the point: no syscall
    CHECK_FALSE(r.watching(num));
    REQUIRE(::close(num) == 0);
    p.a = -1;
    CHECK(registrations(r.epoll_fd(), num) == 0);  // close() dropped it: the file had no other reference

    // The number comes back (as from the next accept4()) and is watched by its new owner: ADD succeeds,
    // the old registration does not reach it, and its own data does.
    int peer = -1;
    reuse_number(num, peer);
    r.watch(num, EPOLLIN, &newcomer);
    run_until(r, [] { return false; }, 20'000);
    CHECK(old_owner.calls == 0);
    CHECK(newcomer.calls == 0);
    REQUIRE(::write(peer, "y", 1) == 1);
    CHECK(run_until(r, [&] { return newcomer.calls > 0; }, 2'000'000));
    CHECK(newcomer.calls == 1);
    CHECK(old_owner.calls == 0);
    r.forget(num);
    ::close(num);
    ::close(peer);
}

TEST_CASE("forget_before_close on a dup()ed fd: the registration outlives close(), its events are dropped",
          "[reactor][syscalls]") {
    // Why churn-client and churn-server may skip the DEL only because they never dup() or fork: here the
    // dup keeps the file open, so close() leaves the registration in place, keyed to the old number.
    Reactor r;
    Pair p;
    Counter old_owner, newcomer;
    r.watch(p.a, EPOLLIN, &old_owner);
    int num = p.a;
    int keep = ::dup(num);
    REQUIRE(keep >= 0);
    r.forget_before_close(num);
    REQUIRE(::close(num) == 0);
    p.a = -1;
    CHECK(registrations(r.epoll_fd(), num) == 1);  // still there: this is what a DEL would have removed

    int peer = -1;
    reuse_number(num, peer);
    r.watch(num, EPOLLIN, &newcomer);  // a different file on the same number: ADD succeeds
    CHECK(registrations(r.epoll_fd(), num) == 2);
    // New data on the OLD file raises an edge on the old registration, whose token names fd `num`. The
    // generation bumped by forget_before_close is all that keeps it from the newcomer.
    REQUIRE(::write(p.b, "x", 1) == 1);
    run_until(r, [] { return false; }, 50'000);
    CHECK(old_owner.calls == 0);
    CHECK(newcomer.calls == 0);
    ::close(keep);  // the last reference: now the kernel drops the old registration
    CHECK(registrations(r.epoll_fd(), num) == 1);  // the newcomer's own one
    r.forget(num);
    CHECK(registrations(r.epoll_fd(), num) == 0);
    ::close(num);
    ::close(peer);
}

TEST_CASE("IN|OUT registered once on a connecting socket: one event per transition, no MOD needed",
          "[reactor][syscalls]") {
    std::string where;
    int l = listen_loopback(where);
    Endpoint ep;
    std::string why;
    REQUIRE(Endpoint::parse(where, ep, why));
    SockResult c = connect_tcp(ep);
    REQUIRE(c.status != Io::Error);
    Reactor r;
    Counter h;
    uint64_t ctls0 = r.epoll_ctls();
    r.watch(c.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, &h);

    // 1. The handshake: one event, EPOLLOUT, and no error bit (so no getsockopt is needed to trust it).
    CHECK(run_until(r, [&] { return h.calls > 0; }, 2'000'000));
    CHECK((h.last & EPOLLOUT) != 0);
    CHECK((h.last & (EPOLLERR | EPOLLHUP)) == 0);
    int s = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    REQUIRE(s >= 0);

    // 2. A request that fits in the send buffer, and the server's ACK of it: the socket stays writable,
    // no transition, no event (level-triggered, every loop iteration would report EPOLLOUT).
    REQUIRE(::send(c.fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL) == 18);
    char buf[64];
    ssize_t got = 0;  // run_until calls the predicate once more at the end: read in it only once
    CHECK(run_until(r, [&] { return got == 18 || (got = ::recv(s, buf, sizeof buf, MSG_DONTWAIT)) == 18; }, 2'000'000));
    run_until(r, [] { return false; }, 50'000);  // time for the ACK and any wakeup it would cause
    CHECK(h.calls == 1);

    // 3. The response: one event, with EPOLLIN.
    REQUIRE(::send(s, "HTTP/1.1 200 OK\r\n", 17, MSG_NOSIGNAL) == 17);
    CHECK(run_until(r, [&] { return h.calls > 1; }, 2'000'000));
    CHECK(h.calls == 2);
    CHECK((h.last & EPOLLIN) != 0);
    CHECK(r.epoll_ctls() == ctls0 + 1);  // the ADD, and nothing else
    r.forget_before_close(c.fd);
    ::close(c.fd);
    ::close(s);
    ::close(l);
}

TEST_CASE("a refused connect reports EPOLLERR|EPOLLHUP on the IN|OUT registration", "[reactor][syscalls]") {
    // A port nobody listens on: bind a listener, note its port, close it.
    std::string where;
    ::close(listen_loopback(where));
    Endpoint ep;
    std::string why;
    REQUIRE(Endpoint::parse(where, ep, why));
    SockResult c = connect_tcp(ep);
    if (c.status == Io::Error) {
        // Loopback may deliver the RST inside connect(): then there is no event to look at, and
        // churn-client counts connect()'s own errno (connect_failed, immediate). Still a refusal.
        CHECK(c.err == ECONNREFUSED);
        return;
    }
    Reactor r;
    Counter h;
    r.watch(c.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, &h);
    CHECK(run_until(r, [&] { return h.calls > 0; }, 2'000'000));
    CHECK((h.all & EPOLLERR) != 0);
    CHECK((h.all & EPOLLHUP) != 0);
    CHECK(take_socket_error(c.fd).err == ECONNREFUSED);
    r.forget_before_close(c.fd);
    ::close(c.fd);
}
