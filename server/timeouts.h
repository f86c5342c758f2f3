// timeouts.h: the server's four connection clocks, and the order in which --max-conns evicts.
//
//   Head  a request head must be complete within --header-timeout of its first byte (of the accept, for
//         a new connection). Later bytes do not restart it: one byte every 2 s is the slowloris attack.
//   Body  a declared Content-Length: at most --body-timeout between two reads that bring body bytes
//         (nginx's client_body_timeout: a big upload over a slow path is not punished, a stalled one is).
//   Idle  keep-alive with nothing buffered and nothing to send: closed after --idle-timeout.
//   Send  answers pending (Writing, or Closing with its last answer unsent): at most --send-timeout
//         between two writes that the kernel takes bytes from (nginx's send_timeout). A peer that
//         pipelines requests for large answers and never reads would otherwise hold its slot, our
//         output_cap of memory and a full send buffer forever: servers never wait forever on a peer.
//
// Why lists and not a timer each: every connection on one clock has the same timeout, so a list kept in
// the order connections entered it is also in deadline order. Starting, stopping or restarting a clock
// (unlink, append at the tail) is pointer work with no syscall, done on every request; one periodic sweep
// on the reactor's timerfd looks only at the list heads. A timerfd per connection would cost a
// timerfd_settime per request, and a heap entry per request O(log n) plus the cancelled entries left
// behind. The price is precision: a timeout fires up to one sweep interval late (sweep_interval_us()).
//
// The same lists give eviction its order for free: the head of Head is the connection that has gone
// longest without completing a request head (the least progress), the head of Idle the longest idle,
// the head of Send the one whose peer has gone longest without taking a byte.
#pragma once

#include <cstddef>
#include <cstdint>

namespace churn {

class Connection;

class Timeouts {
public:
    enum class Clock : uint8_t { None, Head, Body, Idle, Send };
    static constexpr int kClocks = 5;
    // Each Connection carries one of these: which list it is on, its neighbours, when its clock started.
    struct Link {
        Connection* prev = nullptr;
        Connection* next = nullptr;
        Clock clock = Clock::None;
        uint64_t since_us = 0;
    };

    // Timeouts in microseconds; 0 turns that clock's expiry off (the list still orders evictions).
    Timeouts(uint64_t head_us, uint64_t body_us, uint64_t idle_us, uint64_t send_us);
    Timeouts(const Timeouts&) = delete;
    Timeouts& operator=(const Timeouts&) = delete;

    // Leave c's current list and (unless k is None) join the tail of k's, its clock started at now_us.
    void start(Connection& c, Clock k, uint64_t now_us);
    void stop(Connection& c) { start(c, Clock::None, 0); }
    // Expire every connection whose clock has run out (Connection::expire), oldest first.
    void sweep(uint64_t now_us);
    // The connection that has been on clock k longest, or nullptr.
    Connection* oldest(Clock k) const { return lists_[idx(k)].head; }
    size_t count(Clock k) const { return lists_[idx(k)].n; }
    uint64_t limit_us(Clock k) const { return limit_us_[idx(k)]; }
    // How often to sweep: 1/8 of the shortest timeout that is on, within [10 ms, 1 s]; 0 when all are off.
    uint64_t sweep_interval_us() const;

private:
    struct List {
        Connection* head = nullptr;
        Connection* tail = nullptr;
        size_t n = 0;
    };
    static int idx(Clock k) { return static_cast<int>(k); }
    void unlink(Connection& c);

    List lists_[kClocks];
    uint64_t limit_us_[kClocks];
};

const char* clock_name(Timeouts::Clock k);

}  // namespace churn
