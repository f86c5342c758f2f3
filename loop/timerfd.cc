#include "loop/timerfd.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>

#include "loop/sys.h"

namespace churn {

TimerFd::TimerFd() {
    // CLOCK_MONOTONIC: the project's one clock (loop/clock.h). NONBLOCK because the fd is drained from an
    // edge-triggered handler, and CLOEXEC as for every fd we own.
    fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) throw_sys("timerfd_create", "CLOCK_MONOTONIC", errno);
}

TimerFd::~TimerFd() { ::close(fd_); }

void TimerFd::arm_at(uint64_t when_us) {
    itimerspec its{};
    // An all-zero it_value disarms the timer, so a deadline of "time 0" would silently never fire.
    // mono_us() is never 0 after boot, and callers pass 0 only to disarm.
    its.it_value.tv_sec = static_cast<time_t>(when_us / 1'000'000);
    its.it_value.tv_nsec = static_cast<long>((when_us % 1'000'000) * 1000);
    // ABSTIME: a deadline computed earlier stays exact however long we took to get here; a relative
    // timeout would drift by the time spent between computing it and this call. A deadline already
    // in the past fires at once.
    if (::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &its, nullptr) < 0)
        throw_sys("timerfd_settime", "fd=" + std::to_string(fd_) + ", ABSTIME", errno);
}

uint64_t TimerFd::drain() {
    uint64_t expirations = 0;
    IoResult r = read_some(fd_, &expirations, sizeof expirations);
    if (r.status == Io::Ok) return expirations;
    if (r.status == Io::WouldBlock) return 0;  // re-armed for a later time before we read: not expired
    throw_sys("read", "timerfd=" + std::to_string(fd_), r.err);
}

TimerId TimerQueue::add(uint64_t when_us, uint64_t interval_us, std::function<void()> cb) {
    TimerId id = next_id_++;
    timers_.emplace(id, Timer{interval_us, std::move(cb)});
    heap_.push({when_us, seq_++, id});
    return id;
}

void TimerQueue::cancel(TimerId id) { timers_.erase(id); }

uint64_t TimerQueue::next_deadline() {
    // Drop cancelled entries from the top so the timerfd is never armed for a timer that is gone.
    while (!heap_.empty() && !timers_.count(heap_.top().id)) heap_.pop();
    return heap_.empty() ? 0 : heap_.top().when_us;
}

uint64_t TimerQueue::run_due(uint64_t now_us) {
    while (!heap_.empty() && heap_.top().when_us <= now_us) {
        Entry e = heap_.top();
        heap_.pop();
        auto it = timers_.find(e.id);
        if (it == timers_.end()) continue;  // cancelled
        if (it->second.interval_us) {
            // Periodic: schedule from the intended time, not from now, so a late tick does not push
            // every later tick back (the per-second timeline must not drift).
            heap_.push({e.when_us + it->second.interval_us, seq_++, e.id});
            auto cb = it->second.cb;  // copy: the callback may cancel itself
            cb();
        } else {
            auto cb = std::move(it->second.cb);
            timers_.erase(it);
            cb();
        }
    }
    return next_deadline();
}

}  // namespace churn
