// test_reactor.cc: the edge-triggered rules of loop/reactor.h, on real socketpairs.
//
//   - one edge is enough when the handler drains until EAGAIN (1 MiB, one call);
//   - a handler that stops early and does not defer() stalls: no second event ever comes;
//   - a handler that defer()s runs again before the loop sleeps;
//   - an fd closed (and its number reused) earlier in the same epoll_wait batch gets no stale event;
//   - signals arrive as a callback in the loop (signalfd).
#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "loop/buffer.h"
#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"

using namespace churn;

namespace {
using churn::test::Pair;
using churn::test::pattern;
using churn::test::diff_at;
constexpr size_t kMiB = 1 << 20;
constexpr uint64_t kFailsafeUs = 5'000'000;  // a broken reactor must fail a test, not hang it




// Bytes queued for reading on fd (SIOCINQ).
int unread(int fd) {
    int n = -1;
    REQUIRE(::ioctl(fd, FIONREAD, &n) == 0);
    return n;
}

// Counts calls and remembers the last event mask.
struct Counter : Reactor::Handler {
    int calls = 0;
    uint32_t last = 0;
    void on_events(uint32_t events) override {
        ++calls;
        last = events;
    }
};
}  // namespace

TEST_CASE("ET: 1 MiB written before the loop runs is drained by one call on one edge", "[reactor][et]") {
    Pair p;
    // Room for the whole MiB in flight, so the writer finishes before the reactor looks at all.
    // wmem_max caps SO_SNDBUF; as root, SO_SNDBUFFORCE goes past it.
    int want = static_cast<int>(4 * kMiB);
    if (::setsockopt(p.b, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0)
        REQUIRE(::setsockopt(p.b, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) == 0);

    const std::string sent = pattern(kMiB);
    size_t off = 0;
    while (off < sent.size()) {  // 64 KiB pieces: many small writes, still one edge for the reader
        IoResult w = write_some(p.b, sent.data() + off, std::min<size_t>(64 * 1024, sent.size() - off));
        if (w.status != Io::Ok) break;
        off += w.bytes;
    }
    INFO("send buffer too small for the test's premise (SO_SNDBUF capped by net.core.wmem_max?)");
    REQUIRE(off == kMiB);

    struct Drain : Reactor::Handler {
        int fd = -1;
        int calls = 0;
        Buffer buf{4096};
        Buffer::FillResult last{};
        void on_events(uint32_t) override {
            ++calls;
            last = buf.fill_from(fd, 2 * kMiB);  // cap above 1 MiB: it must end at EAGAIN, not at the cap
        }
    } h;
    h.fd = p.a;

    Reactor r;
    r.watch(p.a, EPOLLIN, &h);
    // Leave time for a second call to show up (one would, were the fd level-triggered).
    r.after(50'000, [&] { r.stop(); });
    r.run();

    CHECK(h.calls == 1);
    CHECK(h.last.how == Buffer::Fill::Drained);
    CHECK(h.last.bytes == kMiB);
    CHECK(h.buf.readable() == kMiB);
    CHECK(diff_at(h.buf.view(), sent) == -1);
    CHECK(unread(p.a) == 0);
}

TEST_CASE("ET: a writer thread and a draining handler: every byte of 1 MiB arrives", "[reactor][et]") {
    Pair p;
    // The writer blocks when the socket is full; the reactor side stays non-blocking.
    int flags = ::fcntl(p.b, F_GETFL);
    REQUIRE(::fcntl(p.b, F_SETFL, flags & ~O_NONBLOCK) == 0);

    const std::string sent = pattern(kMiB);
    std::thread writer([&] {
        for (size_t off = 0; off < sent.size();) {
            ssize_t n = ::send(p.b, sent.data() + off, std::min<size_t>(16 * 1024, sent.size() - off), MSG_NOSIGNAL);
            if (n <= 0) break;  // EPIPE after the failsafe shut the reader down
            off += static_cast<size_t>(n);
        }
        ::shutdown(p.b, SHUT_WR);  // EOF tells the handler the writer is done
    });

    struct Drain : Reactor::Handler {
        Reactor* r = nullptr;
        int fd = -1;
        int calls = 0;
        int not_drained = 0;  // calls that returned before EAGAIN/EOF: each would be a stall
        Buffer buf{4096};
        void on_events(uint32_t) override {
            ++calls;
            Buffer::FillResult f = buf.fill_from(fd, 2 * kMiB);
            if (f.how == Buffer::Fill::Eof) r->stop();
            else if (f.how != Buffer::Fill::Drained) ++not_drained;
        }
    } h;
    h.fd = p.a;

    Reactor r;
    h.r = &r;
    r.watch(p.a, EPOLLIN | EPOLLRDHUP, &h);
    bool timed_out = false;
    r.after(kFailsafeUs, [&] {
        timed_out = true;
        ::shutdown(p.a, SHUT_RDWR);  // unblock the writer so join() returns
        r.stop();
    });
    r.run();
    writer.join();

    CHECK_FALSE(timed_out);
    CHECK(h.not_drained == 0);
    CHECK(h.calls >= 1);
    CHECK(h.buf.readable() == kMiB);
    CHECK(diff_at(h.buf.view(), sent) == -1);
}

TEST_CASE("ET stall: a handler that reads part and does not defer gets no second event", "[reactor][et]") {
    Pair p;
    const std::string sent = pattern(10000);
    REQUIRE(::write(p.b, sent.data(), sent.size()) == 10000);

    struct ReadOnce : Reactor::Handler {
        int fd = -1;
        int calls = 0;
        void on_events(uint32_t) override {
            ++calls;
            char chunk[1000];
            (void)read_some(fd, chunk, sizeof chunk);  // stops early, and forgets to come back
        }
    } h;
    h.fd = p.a;

    Reactor r;
    r.watch(p.a, EPOLLIN, &h);
    int calls_before_new_edge = -1;
    r.after(50'000, [&] {
        calls_before_new_edge = h.calls;
        CHECK(unread(p.a) == 9000);        // data is waiting, yet nothing woke the handler
        REQUIRE(::write(p.b, "!", 1) == 1);  // a new edge: only now does the handler run again
        r.after(50'000, [&] { r.stop(); });
    });
    r.run();

    CHECK(calls_before_new_edge == 1);
    CHECK(h.calls == 2);
    CHECK(unread(p.a) == 10001 - 2000);
}

TEST_CASE("ET defer: a handler that stops early and defers runs again before the loop sleeps", "[reactor][et]") {
    Pair p;
    const std::string sent = pattern(10000);
    REQUIRE(::write(p.b, sent.data(), sent.size()) == 10000);

    struct Fair : Reactor::Handler {
        Reactor* r = nullptr;
        int fd = -1;
        int calls = 0;
        uint64_t first_iteration = 0, last_iteration = 0;
        std::string got;
        void on_events(uint32_t events) override {
            if (calls++ == 0) first_iteration = r->iterations();
            last_iteration = r->iterations();
            char chunk[1000];  // at most 1000 bytes per turn, as a fair server would
            IoResult res = read_some(fd, chunk, sizeof chunk);
            if (res.status == Io::Ok) {
                got.append(chunk, res.bytes);
                r->defer(fd, events);  // not drained to EAGAIN: come back before sleeping
            } else {
                r->stop();  // WouldBlock: drained
            }
        }
    } h;
    h.fd = p.a;

    Reactor r;
    h.r = &r;
    r.watch(p.a, EPOLLIN, &h);
    bool timed_out = false;
    r.after(kFailsafeUs, [&] {
        timed_out = true;  // epoll_wait(-1) slept with data still queued: the stall defer() prevents
        r.stop();
    });
    uint64_t start = mono_us();
    r.run();

    CHECK_FALSE(timed_out);
    CHECK(mono_us() - start < 1'000'000);
    CHECK(h.calls == 11);  // 10 chunks of 1000, then the EAGAIN that ends it
    CHECK(diff_at(h.got, sent) == -1);
    // The first deferred call runs in the same iteration, the rest one (non-sleeping) iteration each.
    CHECK(h.last_iteration - h.first_iteration == 9);
}

TEST_CASE("Close in batch: an fd closed and reused earlier in the batch gets no stale event", "[reactor]") {
    Pair p1, p2;
    REQUIRE(::write(p1.b, "x", 1) == 1);
    REQUIRE(::write(p2.b, "y", 1) == 1);

    // Both fds are readable before the loop starts, so one epoll_wait returns both events. Whichever
    // handler runs first closes the other fd and puts a fresh socket on the same fd number, watched by
    // `newcomer`. The event for the old fd is still in the batch array.
    Counter newcomer;
    int fresh_peer = -1;

    struct Closer : Reactor::Handler {
        Reactor* r = nullptr;
        int* fd = nullptr;  // points into the Pair, so the test's cleanup sees the change
        Closer* other = nullptr;
        Counter* newcomer = nullptr;
        int* fresh_peer = nullptr;
        int calls = 0;
        void on_events(uint32_t) override {
            if (++calls > 1 || other->calls > 0) return;  // the second of the pair: must never get here
            int victim = *other->fd;
            r->forget(victim);
            REQUIRE(::close(victim) == 0);
            int fds[2];
            REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
            // The lowest free number usually is `victim` already (as it would be for accept()); if
            // not, dup3 puts the new socket there, so the reuse is certain.
            int mine = fds[0], peer = fds[1];
            if (peer == victim) std::swap(mine, peer);
            if (mine != victim) {
                REQUIRE(::dup3(mine, victim, O_CLOEXEC) == victim);
                ::close(mine);
            }
            *fresh_peer = peer;
            r->watch(victim, EPOLLIN, newcomer);  // new generation; no data yet, so no event of its own
        }
    } c1, c2;
    Reactor r;
    c1.r = c2.r = &r;
    c1.fd = &p1.a;
    c2.fd = &p2.a;
    c1.other = &c2;
    c2.other = &c1;
    c1.newcomer = c2.newcomer = &newcomer;
    c1.fresh_peer = c2.fresh_peer = &fresh_peer;
    r.watch(p1.a, EPOLLIN, &c1);
    r.watch(p2.a, EPOLLIN, &c2);

    int newcomer_calls_in_batch = -1;
    r.after(20'000, [&] {
        newcomer_calls_in_batch = newcomer.calls;
        // Now a real event for the new owner: it must arrive, under the new generation.
        REQUIRE(fresh_peer >= 0);
        REQUIRE(::write(fresh_peer, "z", 1) == 1);
        r.after(20'000, [&] { r.stop(); });
    });
    r.run();

    CHECK(c1.calls + c2.calls == 1);  // the closed fd's handler was never called
    CHECK(newcomer_calls_in_batch == 0);  // nor was the new owner, with the stale EPOLLIN
    CHECK(newcomer.calls == 1);
    CHECK((newcomer.last & EPOLLIN) != 0);
    if (fresh_peer >= 0) ::close(fresh_peer);
}

TEST_CASE("defer() to an fd forgotten before the deferred call runs is dropped", "[reactor]") {
    Pair p1, p2;
    REQUIRE(::write(p1.b, "x", 1) == 1);
    Counter target;
    struct DeferThenForget : Reactor::Handler {
        Reactor* r = nullptr;
        int other = -1;
        void on_events(uint32_t) override {
            r->defer(other, EPOLLIN);
            r->forget(other);
            r->stop();
        }
    } h;
    Reactor r;
    h.r = &r;
    h.other = p2.a;
    r.watch(p2.a, EPOLLIN, &target);  // p2 has no data: only the deferred call could reach it
    r.watch(p1.a, EPOLLIN, &h);
    r.after(kFailsafeUs, [&] { r.stop(); });
    r.run();
    CHECK(target.calls == 0);
    CHECK_FALSE(r.watching(p2.a));
    CHECK(r.watching(p1.a));
}

TEST_CASE("watch() twice on one fd throws EEXIST and leaves the first registration intact", "[reactor]") {
    Pair p;
    Counter first, second;
    Reactor r;
    r.watch(p.a, EPOLLIN, &first);
    try {
        r.watch(p.a, EPOLLIN, &second);
        FAIL("second watch() did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == EEXIST);
        CHECK(std::string(e.what()) == "epoll_ctl(ADD, fd=" + std::to_string(p.a) + "): EEXIST (File exists)");
    }
    REQUIRE(::write(p.b, "x", 1) == 1);
    r.after(20'000, [&] { r.stop(); });
    r.run();
    CHECK(first.calls == 1);
    CHECK(second.calls == 0);
}

TEST_CASE("Signals: raise(SIGUSR1) reaches the callback inside the loop", "[reactor][signals]") {
    Reactor r;
    std::vector<int> got;
    r.on_signals({SIGUSR1, SIGUSR2}, [&](int signo) {
        got.push_back(signo);
        if (got.size() == 2) r.stop();
    });
    // Raised from a timer callback, i.e. from inside the loop: blocked, queued, then read from the
    // signalfd. Two signals, one edge: the signal handler must drain both.
    r.after(1'000, [&] {
        REQUIRE(::raise(SIGUSR1) == 0);
        REQUIRE(::raise(SIGUSR2) == 0);
    });
    bool timed_out = false;
    r.after(kFailsafeUs, [&] {
        timed_out = true;
        r.stop();
    });
    r.run();
    CHECK_FALSE(timed_out);
    REQUIRE(got.size() == 2);
    CHECK(got[0] == SIGUSR1);  // the kernel dequeues the lowest-numbered pending signal first
    CHECK(got[1] == SIGUSR2);
}
