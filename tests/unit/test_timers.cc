// test_timers.cc: the timer heap with made-up clocks (exact, never flaky), then the Reactor's timers on
// the real CLOCK_MONOTONIC. A timer must never be early, and order and counts are exact: checked on every
// run. Lateness is the host's, not ours: on a shared 2-CPU VM a woken thread may wait for a CPU behind the
// other runnable tasks (the scheduler hands out slices of a few ms: with a handful of compilers and
// tests per CPU that is several ms), and the hypervisor may take the vCPU away on top (steal; measured:
// 40+ ms stalls under load). So a real-clock
// test whose only fault is lateness measures the host's steal and CPU pressure over its window, says so,
// and is tried again, up to 5 times, before lateness counts as a failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/timerfd.h"

using namespace churn;

namespace {
constexpr uint64_t kMs = 1000;             // microseconds
// A few scheduler slices behind a handful of runnable tasks (~3 ms each on 2 CPUs), the timerfd's own
// slack (50 us), and a margin: a wake-up later than this means the host stalled us (steal, overload).
constexpr uint64_t kLateSlack = 20 * kMs;  // earliness gets no slack at all
constexpr int kTries = 5;

// The host's noise over a window, as tests/integration/lib.sh's noise_sample/noise_since report it:
// steal ticks over all ticks (/proc/stat), and the share of wall time some task waited for a CPU
// (/proc/pressure/cpu, "some" total in us; absent on kernels without PSI).
struct Noise {
    uint64_t steal = 0, total = 0, psi_us = 0, at_us = 0;
    static Noise now() {
        Noise n;
        n.at_us = mono_us();
        std::ifstream stat("/proc/stat");
        std::string cpu;
        uint64_t v[8] = {};
        stat >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
        for (uint64_t x : v) n.total += x;  // user .. steal (guest is already inside user)
        n.steal = v[7];
        std::ifstream psi("/proc/pressure/cpu");
        std::string word;
        while (psi >> word)
            if (word.rfind("total=", 0) == 0) { n.psi_us = std::stoull(word.substr(6)); break; }
        return n;
    }
    std::string since(const Noise& a) const {
        std::ostringstream o;
        o.precision(1);
        o << std::fixed << "steal " << (total > a.total ? 100.0 * (steal - a.steal) / (total - a.total) : 0.0)
          << " %, cpu pressure "
          << std::min(100.0, at_us > a.at_us ? 100.0 * (psi_us - a.psi_us) / (at_us - a.at_us) : 0.0) << " %";
        return o.str();
    }
};

// Runs try_once(last_try) until it reports "on time" or kTries tries are used. Inside, CHECK what must
// hold on every run and use CHECK_ON_TIME for lateness bounds: only the last try reports them as failures.
template <class Try>
void on_time_within_tries(Try try_once) {
    for (int i = 1; i <= kTries; ++i) {
        Noise before = Noise::now();
        if (try_once(i == kTries)) return;
        if (i < kTries)
            WARN("NOISY HOST? late on try " << i << "/" << kTries << " (" << Noise::now().since(before)
                                            << "); trying again");
    }
}
#define CHECK_ON_TIME(expr)          \
    do {                             \
        if (!(expr)) {               \
            on_time = false;         \
            if (last_try) CHECK(expr); \
        }                            \
    } while (0)
}  // namespace

// ---- TimerQueue alone: time is whatever we pass to run_due() ----

TEST_CASE("TimerQueue: timers added out of order fire in deadline order", "[timers]") {
    TimerQueue q;
    std::string order;
    q.add(300, 0, [&] { order += 'C'; });
    q.add(100, 0, [&] { order += 'A'; });
    q.add(200, 0, [&] { order += 'B'; });
    CHECK(q.next_deadline() == 100);

    CHECK(q.run_due(99) == 100);  // nothing due yet
    CHECK(order == "");
    CHECK(q.run_due(200) == 300);  // deadline == now is due
    CHECK(order == "AB");
    CHECK(q.run_due(1000) == 0);
    CHECK(order == "ABC");
    CHECK(q.size() == 0);
}

TEST_CASE("TimerQueue: equal deadlines fire in insertion order", "[timers]") {
    TimerQueue q;
    std::string order;
    q.add(500, 0, [&] { order += '1'; });
    q.add(500, 0, [&] { order += '2'; });
    q.add(400, 0, [&] { order += '0'; });
    q.add(500, 0, [&] { order += '3'; });
    q.add(500, 0, [&] { order += '4'; });
    q.run_due(500);
    CHECK(order == "01234");
}

TEST_CASE("TimerQueue: a periodic timer is scheduled from its intended time, not from now", "[timers]") {
    TimerQueue q;
    int ticks = 0;
    q.add(100, 10, [&] { ++ticks; });
    CHECK(q.run_due(105) == 110);  // late by 5: the next tick is still at 110, not 115
    CHECK(ticks == 1);
    CHECK(q.run_due(135) == 140);  // 110, 120, 130 were all due
    CHECK(ticks == 4);
    CHECK(q.size() == 1);
}

TEST_CASE("TimerQueue: cancel prevents firing and drops the deadline", "[timers]") {
    TimerQueue q;
    bool a = false, b = false;
    TimerId ia = q.add(100, 0, [&] { a = true; });
    q.add(200, 0, [&] { b = true; });
    q.cancel(ia);
    CHECK(q.next_deadline() == 200);  // the timerfd must not be armed for a timer that is gone
    q.run_due(1000);
    CHECK_FALSE(a);
    CHECK(b);
    q.cancel(ia);     // twice: harmless
    q.cancel(12345);  // unknown: harmless
    CHECK(q.next_deadline() == 0);
}

TEST_CASE("TimerQueue: callbacks may cancel themselves and add timers", "[timers]") {
    TimerQueue q;
    int ticks = 0;
    TimerId self = 0;
    self = q.add(100, 10, [&] {
        if (++ticks == 3) q.cancel(self);
    });
    CHECK(q.run_due(1000) == 0);  // due 100..1000, but it cancelled itself on the third
    CHECK(ticks == 3);

    std::string order;
    q.add(100, 0, [&] {
        order += 'a';
        q.add(150, 0, [&] { order += 'c'; });  // later than now: waits
        q.add(90, 0, [&] { order += 'b'; });   // already due: runs in this same pass
    });
    CHECK(q.run_due(100) == 150);
    CHECK(order == "ab");
    q.run_due(150);
    CHECK(order == "abc");
}

// ---- Reactor timers on the real clock ----

TEST_CASE("Reactor: a 20 ms timer fires no earlier than 20 ms", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        uint64_t start = mono_us();
        uint64_t fired = 0;
        r.after(20 * kMs, [&] {
            fired = mono_us();
            r.stop();
        });
        r.run();
        REQUIRE(fired != 0);
        CHECK(fired - start >= 20 * kMs);
        CHECK_ON_TIME(fired - start < 20 * kMs + kLateSlack);
        return on_time;
    });
}

TEST_CASE("Reactor: timers added out of order, and equal deadlines, fire in order", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        std::string order;
        std::vector<int64_t> late;  // fire time minus deadline, per timer; negative = early
        uint64_t base = mono_us() + 5 * kMs;
        auto timer = [&](uint64_t when, char c) {
            r.at(when, [&, when, c] {
                late.push_back(static_cast<int64_t>(mono_us() - when));
                order += c;
            });
        };
        timer(base + 20 * kMs, 'E');
        timer(base, 'A');
        timer(base + 10 * kMs, 'B');
        timer(base + 10 * kMs, 'C');
        timer(base + 10 * kMs, 'D');
        r.at(base + 30 * kMs, [&] { r.stop(); });
        r.run();
        CHECK(order == "ABCDE");
        for (int64_t l : late) {
            CHECK(l >= 0);
            CHECK_ON_TIME(l < static_cast<int64_t>(kLateSlack));
        }
        return on_time;
    });
}

TEST_CASE("Reactor: a periodic timer does not accumulate drift", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        constexpr uint64_t kInterval = 10 * kMs;
        constexpr size_t kTicks = 10;
        std::vector<uint64_t> at;
        uint64_t start = mono_us();
        TimerId id = 0;
        id = r.every(kInterval, [&] {
            at.push_back(mono_us() - start);
            if (at.size() == kTicks) {
                r.cancel(id);
                r.after(3 * kInterval, [&] { r.stop(); });  // would see an 11th tick if cancel failed
            }
        });
        r.run();
        REQUIRE(at.size() == kTicks);
        for (size_t k = 1; k <= kTicks; ++k) {
            INFO("tick " << k << " at " << at[k - 1] << " us");
            CHECK(at[k - 1] >= k * kInterval);
            // Same slack for the 10th tick as for the 1st: lateness must not add up tick after tick.
            CHECK_ON_TIME(at[k - 1] < k * kInterval + kLateSlack);
        }
        return on_time;
    });
}

TEST_CASE("Reactor: cancel prevents firing; the next timer still fires on time", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        bool cancelled_fired = false;
        uint64_t start = mono_us();
        uint64_t fired = 0;
        TimerId early = r.after(10 * kMs, [&] { cancelled_fired = true; });
        r.after(30 * kMs, [&] {
            fired = mono_us() - start;
            r.stop();
        });
        r.cancel(early);
        r.run();
        CHECK_FALSE(cancelled_fired);
        CHECK(fired >= 30 * kMs);
        CHECK_ON_TIME(fired < 30 * kMs + kLateSlack);
        return on_time;
    });
}

TEST_CASE("Reactor: a timer added earlier than the armed one re-arms the timerfd", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        bool late_fired = false;
        uint64_t start = mono_us();
        uint64_t fired = 0;
        TimerId late = r.after(500 * kMs, [&] { late_fired = true; });
        r.after(10 * kMs, [&] {
            fired = mono_us() - start;
            r.stop();
        });
        r.run();
        CHECK(fired >= 10 * kMs);
        CHECK_FALSE(late_fired);
        // Held back until the 500 ms deadline is the bug's own signature (the timerfd still armed for the
        // later timer): exact, checked on every try. Any lesser lateness is the host's.
        CHECK(fired < 500 * kMs);
        CHECK_ON_TIME(fired < 10 * kMs + kLateSlack);
        r.cancel(late);
        return on_time;
    });
}

TEST_CASE("Reactor: a timer callback cancels itself and adds a new timer", "[timers][reactor]") {
    on_time_within_tries([](bool last_try) {
        bool on_time = true;
        Reactor r;
        int ticks = 0;
        uint64_t start = mono_us();
        uint64_t done = 0;
        TimerId self = 0;
        self = r.every(5 * kMs, [&] {
            if (++ticks < 3) return;
            r.cancel(self);
            r.after(5 * kMs, [&] {
                done = mono_us() - start;
                r.after(20 * kMs, [&] { r.stop(); });  // room for a stray 4th tick to show up
            });
        });
        r.run();
        CHECK(ticks == 3);
        CHECK(done >= 20 * kMs);  // 3 ticks of 5 ms, then 5 ms more
        CHECK_ON_TIME(done < 20 * kMs + kLateSlack);
        return on_time;
    });
}
