// test_bench_counters.cc: the reactor's own syscall counts that `make bench` divides by the requests
// (Reactor::epoll_waits, epoll_ctls): one per call made to the kernel, no more, no fewer.
#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

#include "loop/reactor.h"

using namespace churn;

namespace {
struct Count : Reactor::Handler {
    int calls = 0;
    void on_events(uint32_t) override { ++calls; }
};
}  // namespace

TEST_CASE("reactor counts its epoll_ctl calls, the skipped and the failed ones as they are", "[reactor][bench]") {
    Reactor r;
    test::Pair p;
    Count h;
    uint64_t c0 = r.epoll_ctls();  // the timerfd, registered by the constructor
    CHECK(c0 == 1);
    r.watch(p.a, EPOLLIN, &h);
    CHECK(r.epoll_ctls() == c0 + 1);
    r.rewatch(p.a, EPOLLIN);  // same mask: no syscall, so no count
    CHECK(r.epoll_ctls() == c0 + 1);
    r.rewatch(p.a, EPOLLIN | EPOLLOUT);
    CHECK(r.epoll_ctls() == c0 + 2);
    // A second ADD fails with EEXIST, but it was a syscall all the same.
    CHECK_THROWS(r.watch(p.a, EPOLLIN, &h));
    CHECK(r.epoll_ctls() == c0 + 3);
    r.forget(p.a);
    CHECK(r.epoll_ctls() == c0 + 4);
    r.forget(p.a);  // not watched any more: no syscall
    CHECK(r.epoll_ctls() == c0 + 4);
}

TEST_CASE("reactor counts one epoll_wait per loop iteration", "[reactor][bench]") {
    Reactor r;
    uint64_t w0 = r.epoll_waits(), i0 = r.iterations();
    CHECK(w0 == 0);
    int ticks = 0;
    r.every(1000, [&] {
        if (++ticks == 5) r.stop();
    });
    r.run();
    // A late wakeup may run several overdue ticks at once, so fewer waits than ticks is fine; but every
    // iteration is exactly one epoll_wait.
    CHECK(r.epoll_waits() - w0 >= 1);
    CHECK(r.epoll_waits() - w0 == r.iterations() - i0);
}
