// test_server_write.cc: how churn-server's answers reach the kernel (--response-pattern, --write, --quickack).
//
//   - the pieces: split cuts an answer into its head and its body, and the two concatenate to the bytes
//     single sends; a HEAD answer (or an empty body) stays one piece;
//   - the queue: gather's iovecs point at the Responses themselves (no copy), one per piece, and after a
//     short write the first starts where the kernel stopped;
//   - through a Connection on a TCP loopback pair, every --write mode: pipelined requests are answered in
//     order, byte for byte, with exactly the calls the mode promises (each: one send() per piece; single
//     and gather: one call for the whole burst; cork: one per piece, and no setsockopt error);
//   - a request with a body is answered only once the whole body is in, in every mode;
//   - --quickack: after a read the socket is out of delayed-ACK mode, even when it was in it before.
// TCP, not a socketpair: TCP_CORK and TCP_QUICKACK exist only on TCP sockets.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"
#include "server/connection.h"
#include "server/response.h"
#include "server/send_queue.h"
#include "server/stats.h"
#include "server/timeouts.h"
#include "tests/unit/fixtures.h"

using namespace churn;

namespace {
using W = ServerOptions::Write;
using P = ServerOptions::Pattern;

// A connected TCP pair on 127.0.0.1, both ends non-blocking. a: the server's end (handed to the
// Connection), b: the test's client. The kernel completes the handshake on loopback without accept()
// being called first, so blocking connect() then accept4() is enough.
struct TcpPair {
    int a = -1, b = -1;
    TcpPair() {
        int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(l >= 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;  // the kernel picks a free port
        REQUIRE(::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(::listen(l, 1) == 0);
        socklen_t len = sizeof sa;
        REQUIRE(::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
        b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(b >= 0);
        REQUIRE(::connect(b, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        a = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        REQUIRE(a >= 0);
        ::close(l);
        REQUIRE(::fcntl(b, F_SETFL, O_NONBLOCK) == 0);
        // TCP_NODELAY on the server's end: these tests check bytes, order and calls, not Nagle's timing
        // (tests/integration/t_server_response_split.sh measures that), and should not wait 40 ms for it.
        int one = 1;
        REQUIRE(::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
    }
    ~TcpPair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
    TcpPair(const TcpPair&) = delete;
    TcpPair& operator=(const TcpPair&) = delete;
};

struct Owner : Connection::Owner {
    void release(Connection*) override {}
};

ServerOptions options(size_t body, P pattern, W write, bool quickack = false) {
    ServerOptions o;
    o.size = body;
    o.response_pattern = pattern;
    o.write = write;
    o.quickack = quickack;
    return o;
}

// A Connection on the server end of a TcpPair, clocks off.
struct Rig {
    TcpPair p;
    Reactor r;
    ServerOptions opt;
    Responses responses;
    ServerStats stats;
    Owner owner;
    Timeouts timeouts{0, 0, 0, 0};
    Connection c;
    explicit Rig(ServerOptions o)
        : opt(o), responses(Responses::build(o.size)), c(r, owner, timeouts, opt, responses, stats) {
        c.open(p.a);
        r.watch(p.a, EPOLLIN | EPOLLRDHUP, &c);
    }
    ~Rig() {
        if (c.is_open()) c.abandon();
        p.a = -1;  // closed by the connection
    }
    void send(std::string_view s) { REQUIRE(::write(p.b, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
    // One step, as epoll would deliver it once the bytes are in the server's receive queue. Loopback
    // usually has them there when write() returns; poll() makes sure, bounded.
    void deliver() {
        pollfd pf{p.a, POLLIN, 0};
        REQUIRE(::poll(&pf, 1, 5000) == 1);
        c.on_events(EPOLLIN);
    }
    // Everything the client end receives until it holds `want` bytes (5 s at most), then whatever else
    // arrives within 20 ms: an extra byte must show up as a mismatch, not hide behind the count.
    std::string receive(size_t want) {
        std::string got;
        char buf[64 * 1024];
        uint64_t until = mono_us() + 5'000'000;
        while (mono_us() < until) {
            pollfd pf{p.b, POLLIN, 0};
            int wait_ms = got.size() >= want ? 20 : 100;
            if (::poll(&pf, 1, wait_ms) == 0) {
                if (got.size() >= want) break;
                continue;
            }
            IoResult rd = read_some(p.b, buf, sizeof buf);
            if (rd.status != Io::Ok) break;
            got.append(buf, rd.bytes);
        }
        return got;
    }
};

const char kGet[] = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
const char kHead[] = "HEAD / HTTP/1.1\r\nHost: lab\r\n\r\n";
const char kGet10[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
}  // namespace

TEST_CASE("server write: split cuts an answer into head and body that concatenate to the single bytes",
          "[server][write]") {
    for (size_t size : {size_t{16}, size_t{1}, size_t{4096}}) {
        INFO("size " << size);
        Responses rs = Responses::build(size);
        const Response& r = rs.keep_alive_11;
        std::string_view one[2], two[2];
        REQUIRE(r.pieces(false, false, one) == 1);
        CHECK(one[0] == r.full());
        REQUIRE(r.pieces(false, true, two) == 2);
        CHECK(two[0] == r.head_only());
        CHECK(two[1].size() == size);
        CHECK(std::string(two[0]) + std::string(two[1]) == std::string(one[0]));
        CHECK(two[0].substr(two[0].size() - 4) == "\r\n\r\n");  // the cut is exactly after the blank line
        // Views, not copies: the pieces lie where the Responses keep the bytes, for the queue to point at.
        CHECK(two[0].data() == r.bytes.data());
        CHECK(two[1].data() == r.bytes.data() + r.head);
    }
    // No body to split off: a HEAD answer, or --size 0, is one piece whatever the pattern.
    Responses rs = Responses::build(16);
    std::string_view piece[2];
    REQUIRE(rs.keep_alive_11.pieces(true, true, piece) == 1);
    CHECK(piece[0] == rs.keep_alive_11.head_only());
    Responses empty = Responses::build(0);
    REQUIRE(empty.keep_alive_11.pieces(false, true, piece) == 1);
    CHECK(piece[0] == empty.keep_alive_11.full());
}

TEST_CASE("server write: gather's iovecs are the queued pieces themselves, resumed after a short write",
          "[server][write]") {
    Responses rs = Responses::build(16);
    const Response& r = rs.keep_alive_11;
    SendQueue q(W::Gather);
    std::string_view piece[2];
    for (int i = 0; i < 3; ++i) {
        int n = r.pieces(false, true, piece);
        for (int k = 0; k < n; ++k) q.push(piece[k]);
    }
    q.push("");  // dropped: nothing to send
    CHECK(q.pieces() == 6);
    CHECK(q.pending() == 3 * r.full().size());
    iovec iov[8];
    REQUIRE(q.iovecs(iov, 8) == 6);
    for (int i = 0; i < 6; ++i) {
        INFO("iovec " << i);
        bool head = i % 2 == 0;
        CHECK(iov[i].iov_base == static_cast<const void*>(r.bytes.data() + (head ? 0 : r.head)));
        CHECK(iov[i].iov_len == (head ? r.head : 16));
    }
    CHECK(q.iovecs(iov, 4) == 4);  // capped by the caller's array (IOV_MAX in flush)

    // A short write: a piece larger than the socket takes at once. The next call must start inside it,
    // at the first byte the kernel did not take, and nothing may be sent twice.
    std::string big = test::pattern(4 << 20);
    test::Pair pair;
    SendQueue g(W::Gather);
    g.push(big);
    g.push("tail");
    SendQueue::Flushed f = g.flush(pair.a);
    REQUIRE(f.status == Io::WouldBlock);
    REQUIRE(f.bytes > 0);
    REQUIRE(f.bytes < big.size());
    CHECK(f.calls >= 2);  // the last one said EAGAIN
    CHECK(g.pending() == big.size() + 4 - f.bytes);
    REQUIRE(g.iovecs(iov, 8) == 2);
    CHECK(iov[0].iov_base == static_cast<const void*>(big.data() + f.bytes));
    CHECK(iov[0].iov_len == big.size() - f.bytes);
    CHECK(iov[1].iov_len == 4);
    // Drain the peer and flush again until all is through: the stream is exactly big + "tail".
    std::string got;
    std::vector<char> buf(1 << 20);
    for (int i = 0; i < 10000 && (g.pending() > 0 || got.size() < big.size() + 4); ++i) {
        IoResult rd = read_some(pair.b, buf.data(), buf.size());
        if (rd.status == Io::Ok) got.append(buf.data(), rd.bytes);
        if (g.pending() > 0) REQUIRE(g.flush(pair.a).status != Io::Error);
    }
    CHECK(test::diff_at(got, big + "tail") == -1);
    CHECK(g.pieces() == 0);
}

TEST_CASE("server write: pipelined requests are answered in order, with the calls each --write mode promises",
          "[server][write]") {
    struct Mode {
        W write;
        P pattern;
        unsigned calls;  // for the three answers below, sent in one step
    } modes[] = {
        {W::Single, P::Single, 1}, {W::Single, P::Split, 1},  // one buffer, one send(), split or not
        {W::Each, P::Single, 3},   {W::Each, P::Split, 5},    // one send() per piece: 2 + 1 (HEAD) + 2
        {W::Gather, P::Split, 1},  {W::Gather, P::Single, 1}, // one sendmsg() for everything due
        {W::Cork, P::Split, 5},                               // one send() per piece, inside the cork
    };
    for (const Mode& m : modes) {
        INFO("--write " << write_name(m.write) << " --response-pattern " << pattern_name(m.pattern));
        Rig rig(options(16, m.pattern, m.write));
        // Three different answers, so that order shows: a full 1.1 answer, a HEAD (head only), and a
        // 1.0 keep-alive answer (its own Connection header).
        rig.send(std::string(kGet) + kHead + kGet10);
        rig.deliver();
        std::string want = std::string(rig.responses.keep_alive_11.full()) +
                           std::string(rig.responses.keep_alive_11.head_only()) +
                           std::string(rig.responses.keep_alive_10.full());
        std::string got = rig.receive(want.size());
        CHECK(test::diff_at(got, want) == -1);
        CHECK(rig.stats.requests == 3);
        CHECK(rig.stats.responses == 3);
        CHECK(rig.stats.write_calls == m.calls);
        CHECK(rig.stats.bytes_out == want.size());
        CHECK(rig.stats.error_total() == 0);  // TCP_CORK on and off both succeeded
        CHECK(rig.c.state() == Connection::State::Idle);
    }
}

TEST_CASE("server write: a request with a body is answered only once the whole body is in", "[server][write]") {
    for (W w : {W::Single, W::Each, W::Gather, W::Cork}) {
        INFO("--write " << write_name(w));
        Rig rig(options(16, P::Split, w));
        // The head and half the body, then the rest in two more reads; then a GET pipelined behind it.
        rig.send("POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456");
        rig.deliver();
        CHECK(rig.c.state() == Connection::State::Body);
        CHECK(rig.stats.requests == 1);
        CHECK(rig.stats.responses == 0);
        rig.send("789abcde");
        rig.deliver();
        CHECK(rig.stats.responses == 0);  // 15 of 16: still no answer
        CHECK(rig.receive(0).empty());    // nothing on the wire either
        rig.send(std::string("f") + kGet);
        rig.deliver();
        std::string full(rig.responses.keep_alive_11.full());
        CHECK(test::diff_at(rig.receive(2 * full.size()), full + full) == -1);
        CHECK(rig.stats.requests == 2);
        CHECK(rig.stats.responses == 2);
        CHECK(rig.c.state() == Connection::State::Idle);
    }
}

TEST_CASE("server write: --quickack leaves delayed-ACK mode after every read", "[server][write][quickack]") {
    // TCP_QUICKACK reads back as 1 outside the kernel's delayed-ACK ("pingpong") mode, 0 inside it. The
    // server's end is put in that mode first (setsockopt 0), as an answer sent right after a request puts
    // it; then half a request comes in (a head whose body is not here yet: nothing to answer, so an ACK
    // could only be a delayed one).
    //   without --quickack: the read leaves the mode alone, the ACK waits for the delayed-ACK timer;
    //   with --quickack:    the read is followed by TCP_QUICKACK 1, the mode is left, the ACK goes now.
    // The delayed-ACK timer itself also leaves the mode when it fires (>= 40 ms), so the "without" case
    // only means something if the check came sooner than that: it is skipped, and said, when it did not.
    auto quickack_after_read = [](bool option, uint64_t& elapsed_us) {
        Rig rig(options(16, P::Single, W::Single, option));
        int zero = 0;
        REQUIRE(::setsockopt(rig.p.a, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero) == 0);
        uint64_t t0 = mono_us();
        rig.send("POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123");
        rig.deliver();
        int v = -1;
        socklen_t len = sizeof v;
        REQUIRE(::getsockopt(rig.p.a, IPPROTO_TCP, TCP_QUICKACK, &v, &len) == 0);
        elapsed_us = mono_us() - t0;
        CHECK(rig.c.state() == Connection::State::Body);
        CHECK(rig.stats.error_total() == 0);
        return v;
    };
    uint64_t elapsed = 0;
    CHECK(quickack_after_read(true, elapsed) == 1);
    int without = quickack_after_read(false, elapsed);
    if (elapsed < 30'000) CHECK(without == 0);
    else WARN("the without-quickack check took " << elapsed / 1000 << " ms (loaded host?): not judged");
}
