// timerfd.h: timers as just another fd.
//
// One timerfd per reactor, always armed (TFD_TIMER_ABSTIME, CLOCK_MONOTONIC) for the earliest deadline in
// a min-heap. A thousand per-connection timeouts cost one fd, not a thousand. Cancelled timers are left in
// the heap and skipped when they surface ("lazy deletion"), so cancel is O(1).
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace churn {

using TimerId = uint64_t;

class TimerFd {
public:
    TimerFd();
    ~TimerFd();
    TimerFd(const TimerFd&) = delete;
    TimerFd& operator=(const TimerFd&) = delete;

    int fd() const { return fd_; }
    // Arm for an absolute CLOCK_MONOTONIC time in microseconds; 0 disarms.
    void arm_at(uint64_t when_us);
    // Read the expiration count so the fd stops being readable. Returns 0 when it was not expired (EAGAIN).
    uint64_t drain();

private:
    int fd_;
};

class TimerQueue {
public:
    // Fires at `when_us` (absolute, mono_us()) and then every `interval_us` if non-zero.
    TimerId add(uint64_t when_us, uint64_t interval_us, std::function<void()> cb);
    void cancel(TimerId id);
    // Run every timer due at `now_us`, in deadline order (ties in the order they were added).
    // Returns the next deadline to arm, or 0 when the queue is empty.
    uint64_t run_due(uint64_t now_us);
    uint64_t next_deadline();
    size_t size() const { return timers_.size(); }

private:
    struct Entry {
        uint64_t when_us;
        uint64_t seq;  // tie-break: equal deadlines fire in the order they were added
        TimerId id;
        bool operator>(const Entry& o) const { return when_us != o.when_us ? when_us > o.when_us : seq > o.seq; }
    };
    struct Timer {
        uint64_t interval_us;
        std::function<void()> cb;
    };
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
    std::unordered_map<TimerId, Timer> timers_;
    uint64_t next_id_ = 1;
    uint64_t seq_ = 0;
};

}  // namespace churn
