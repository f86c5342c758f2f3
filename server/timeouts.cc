#include "server/timeouts.h"

#include <algorithm>

#include "server/connection.h"

namespace churn {

namespace {
constexpr Timeouts::Clock kRunning[] = {Timeouts::Clock::Head, Timeouts::Clock::Body, Timeouts::Clock::Idle,
                                        Timeouts::Clock::Send};
}  // namespace

Timeouts::Timeouts(uint64_t head_us, uint64_t body_us, uint64_t idle_us, uint64_t send_us)
    : limit_us_{0, head_us, body_us, idle_us, send_us} {}

void Timeouts::unlink(Connection& c) {
    Link& l = c.link_;
    if (l.clock == Clock::None) return;
    List& list = lists_[idx(l.clock)];
    (l.prev ? l.prev->link_.next : list.head) = l.next;
    (l.next ? l.next->link_.prev : list.tail) = l.prev;
    --list.n;
    l = Link{};
}

void Timeouts::start(Connection& c, Clock k, uint64_t now_us) {
    unlink(c);
    if (k == Clock::None) return;
    List& list = lists_[idx(k)];
    Link& l = c.link_;
    l.clock = k;
    l.since_us = now_us;
    l.prev = list.tail;
    (list.tail ? list.tail->link_.next : list.head) = &c;
    list.tail = &c;
    ++list.n;
}

void Timeouts::sweep(uint64_t now_us) {
    for (Clock k : kRunning) {
        uint64_t limit = limit_us_[idx(k)];
        if (limit == 0) continue;
        List& list = lists_[idx(k)];
        // In deadline order: stop at the first connection whose time has not come.
        while (list.head && list.head->link_.since_us + limit <= now_us) {
            Connection* c = list.head;
            c->expire(k);
            // expire() closes c, and closing takes it off the list; make sure, or this loop never ends.
            if (list.head == c) unlink(*c);
        }
    }
}

uint64_t Timeouts::sweep_interval_us() const {
    uint64_t shortest = 0;
    for (Clock k : kRunning) {
        uint64_t t = limit_us_[idx(k)];
        if (t && (!shortest || t < shortest)) shortest = t;
    }
    if (!shortest) return 0;
    return std::clamp<uint64_t>(shortest / 8, 10'000, 1'000'000);
}

const char* clock_name(Timeouts::Clock k) {
    switch (k) {
        case Timeouts::Clock::Head: return "header";
        case Timeouts::Clock::Body: return "body";
        case Timeouts::Clock::Idle: return "idle";
        case Timeouts::Clock::Send: return "send";
        case Timeouts::Clock::None: break;
    }
    return "none";
}

}  // namespace churn
