// test_client_caps.cc: churn-client's two work caps per wakeup, on 127.0.0.1 through a real Reactor.
//
//   - Conn (the response reader): with more bytes queued than the read cap, one wakeup reads exactly the
//     cap and puts the connection on the ready list; the loop then reads the rest, and the response
//     completes whole;
//   - BulkSender (the bulk writer): with more room in the socket than the write cap, one wakeup writes
//     exactly the cap and defers; the loop then fills the socket to EAGAIN, every byte accounted for.
// Both caps are 4 MiB in the binaries; the tests shrink them (constructor argument) so that "more than the
// cap" fits in a loopback socket's default buffers. The test plays the server itself, on a plain socket.
#include <catch2/catch.hpp>

#include <linux/sockios.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "client/bulk.h"
#include "client/conn.h"
#include "client/load.h"
#include "client/options.h"
#include "client/stats.h"
#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/socket.h"
#include "tests/unit/fixtures.h"

using namespace churn;
using churn::test::run_until;

namespace {
constexpr size_t kCap = 16 * 1024;

// The test's server: a listening socket on 127.0.0.1 (the kernel picks the port) and, once the client
// has connected, the accepted socket.
struct Peer {
    int lfd = -1, fd = -1;
    Url url;
    Peer() {
        Endpoint ep;
        std::string why;
        REQUIRE(Endpoint::parse("127.0.0.1:1", ep, why));
        reinterpret_cast<sockaddr_in*>(&ep.addr)->sin_port = 0;
        lfd = listen_tcp(ep, ListenOptions{16, false});
        REQUIRE(parse_url("http://" + local_str(lfd) + "/", url, why));
    }
    ~Peer() {
        if (fd >= 0) {
            set_linger0(fd);  // RST: no TIME-WAIT left behind by the test
            ::close(fd);
        }
        ::close(lfd);
    }
    void accept() {
        pollfd p{lfd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 5000) == 1);
        SockResult a = accept_one(lfd);
        REQUIRE(a.status == Io::Ok);
        fd = a.fd;
    }
    // Write from `data` until EAGAIN or the end; returns the bytes the kernel took.
    size_t write_some_of(const std::string& data, size_t from) {
        size_t n = 0;
        while (from + n < data.size()) {
            ssize_t w = ::send(fd, data.data() + from + n, data.size() - from - n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w <= 0) break;
            n += static_cast<size_t>(w);
        }
        return n;
    }
};

// Bytes queued for reading (SIOCINQ), and written but not yet sent (SIOCOUTQNSD: what the peer's window
// has no room for). Not SIOCOUTQ: it counts bytes until they are ACKed, and a delayed ACK would count
// bytes already in the receiver's queue twice.
size_t in_queue(int fd) {
    int n = 0;
    REQUIRE(::ioctl(fd, SIOCINQ, &n) == 0);
    return static_cast<size_t>(n);
}
size_t out_queue(int fd) {
    int n = 0;
    REQUIRE(::ioctl(fd, SIOCOUTQNSD, &n) == 0);
    return static_cast<size_t>(n);
}
}  // namespace

TEST_CASE("client read cap: one wakeup reads at most the cap, the ready list reads the rest, nothing lost",
          "[client][caps]") {
    Peer peer;
    Options opt;
    opt.mode = Options::Mode::Pool;
    opt.connections = 0;  // the Load makes no Conn of its own: the test's is the only one
    opt.max_requests = 1;
    opt.timeout_ms = 10'000;
    opt.url = peer.url;
    Stats stats;
    Reactor r;
    Load load(r, opt, stats);  // not started: no timers; it hands our Conn its one request when it is up
    Conn c(load, r, 0, kCap);
    c.begin(nullptr);
    peer.accept();
    REQUIRE(run_until(r, [&] { return c.state() == Conn::State::Reading; }));
    std::string req;
    REQUIRE(run_until(r, [&] {
        char b[512];
        ssize_t n = ::recv(peer.fd, b, sizeof b, MSG_DONTWAIT);
        if (n > 0) req.append(b, static_cast<size_t>(n));
        return req.find("\r\n\r\n") != std::string::npos;
    }));

    // One response of 4 MiB, written as far as the sockets take it: the client's receive queue fills.
    const size_t body = 4 << 20;
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body) + "\r\n\r\n";
    response += std::string(body, 'x');
    size_t sent = peer.write_some_of(response, 0);
    size_t queued = in_queue(c.fd());
    INFO("queued at the client before its wakeup: " << queued << " bytes, cap " << kCap);
    REQUIRE(queued > 2 * kCap);  // the scenario: more than the cap waits, and no new edge will say so

    // One wakeup, as epoll would deliver it: exactly the cap is read, and the rest is on the ready list.
    c.on_events(EPOLLIN);
    CHECK(queued - in_queue(c.fd()) == kCap);
    CHECK(r.deferred(c.fd()));
    CHECK(c.state() == Conn::State::Reading);

    // The loop reads the rest (the test keeps writing what the sockets had no room for): one response,
    // complete, no error.
    CHECK(run_until(r, [&] {
        if (sent < response.size()) sent += peer.write_some_of(response, sent);
        return stats.ok == 1;
    }));
    CHECK(sent == response.size());
    CHECK(stats.ok == 1);
    CHECK(stats.failed == 0);
    CHECK(stats.total_errors() == 0);
    CHECK(c.state() == Conn::State::Idle);
    CHECK(in_queue(c.fd()) == 0);
}

TEST_CASE("bulk write cap: one wakeup writes at most the cap, the ready list fills the rest, all accounted",
          "[client][caps]") {
    Peer peer;
    Options opt;
    opt.mode = Options::Mode::Bulk;
    opt.duration_s = 60;  // the end of the run is not part of this test
    opt.url = peer.url;
    Reactor r;
    BulkSender snd(r, opt, kCap);
    snd.start();
    peer.accept();
    // The receiver reads nothing: the sender fills its socket to EAGAIN, a cap at a time through the ready
    // list (no EPOLLOUT edge comes for room that was already there).
    REQUIRE(run_until(r, [&] { return snd.connected() && snd.bytes_written() > 0 && !r.deferred(snd.fd()); }));
    REQUIRE_FALSE(snd.failed());
    INFO("first fill: " << snd.bytes_written() << " bytes, cap " << kCap);
    CHECK(snd.bytes_written() > 2 * kCap);
    char one = 'x';
    CHECK(::send(snd.fd(), &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1);  // it stopped at EAGAIN, not before
    CHECK(errno == EAGAIN);
    // Every byte written is in the receiver's queue or in the sender's, waiting for the window (once the
    // loopback's softirq has delivered what it holds: on a loaded host that may come a moment later).
    CHECK(run_until(r, [&] { return snd.bytes_written() == in_queue(peer.fd) + out_queue(snd.fd()); }));

    // The receiver drains its queue: room again. One wakeup writes exactly the cap and defers.
    size_t received = 0;
    std::string scratch(1 << 20, '\0');
    for (;;) {
        ssize_t n = ::recv(peer.fd, scratch.data(), scratch.size(), MSG_DONTWAIT);
        if (n <= 0) break;
        received += static_cast<size_t>(n);
    }
    uint64_t before = snd.bytes_written();
    snd.on_events(EPOLLOUT);
    CHECK(snd.bytes_written() - before == kCap);
    CHECK(r.deferred(snd.fd()));

    // And the loop fills the rest of the room, again to EAGAIN, again with every byte accounted for.
    REQUIRE(run_until(r, [&] { return !r.deferred(snd.fd()); }));
    CHECK(snd.bytes_written() > before + kCap);
    CHECK(::send(snd.fd(), &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1);
    CHECK(errno == EAGAIN);
    CHECK(run_until(r, [&] { return snd.bytes_written() == received + in_queue(peer.fd) + out_queue(snd.fd()); }));
    CHECK_FALSE(snd.failed());
}
