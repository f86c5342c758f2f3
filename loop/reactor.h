// reactor.h: the event loop every churn binary runs on.
//
//   EDGE-TRIGGERED: each fd is notified once per edge. A handler that reads, accepts or flushes must
//   loop until EAGAIN. A handler that stops early on purpose (fairness: one busy socket must not starve
//   the rest) calls defer() so it runs again before the loop next sleeps; otherwise no new edge will
//   ever come and that fd stalls for good.
//
// One iteration:  epoll_wait → dispatch each event → run deferred handlers → (timers arrive as the
// timerfd's own event, signals as the signalfd's) → repeat until stop().
//
// Closing inside a batch: epoll_wait may return events for fds 7 and 9, and the handler for 7 may close
// 9 (or close 9 and accept a new connection that gets fd 9 again). Every registration carries a
// generation number in epoll_event.data, and forget() (or forget_before_close()) bumps it, so the stale
// event for the old 9 is dropped instead of being delivered to whatever owns fd 9 now.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "loop/epoll.h"
#include "loop/signalfd.h"
#include "loop/timerfd.h"

namespace churn {

class Reactor {
public:
    // Whoever owns an fd implements this. `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, ...).
    struct Handler {
        virtual void on_events(uint32_t events) = 0;
        virtual ~Handler() = default;
    };

    Reactor();
    ~Reactor();
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    // Register `fd` (EPOLLET is added by Epoll). The handler must outlive the registration.
    void watch(int fd, uint32_t events, Handler* h);
    // Change the interest set, e.g. add EPOLLOUT only while output is pending.
    void rewatch(int fd, uint32_t events);
    // Unregister an fd that stays open (a listener that stops accepting, a socket kept on purpose):
    // epoll_ctl(DEL). Pending events for fd in the current batch are dropped.
    void forget(int fd);
    // Unregister an fd that the caller close()s right after: the same bookkeeping as forget(), and NO
    // epoll_ctl(DEL), one syscall less per connection. The kernel drops the registration itself when
    // close() releases the last reference to the open file (epoll(7), Q6), because epoll keys it on
    // the (file, fd) pair and the file is gone. Only for an fd nobody else shares: a dup()ed fd, a
    // fork()ed child holding it, or one passed away with SCM_RIGHTS keeps the file open after our
    // close(), and its registration with it, still firing events we can then never DEL (the number
    // is closed). Those few stale events would still be dropped here (the generation below), but a
    // long-lived shared fd would wake the loop for nothing: use forget() for such fds. The caller
    // MUST close(fd) next: until then the kernel still has it registered, and watch(fd) = EEXIST.
    void forget_before_close(int fd);
    bool watching(int fd) const;

    // Run h->on_events(events) before the next sleep, if fd is still registered to h by then.
    void defer(int fd, uint32_t events);
    // Whether fd (its current registration) is on the ready list: for tests of the rule above, which
    // the kernel alone cannot show (an EPOLL_CTL_MOD re-arms a ready fd and hides a missing defer).
    bool deferred(int fd) const;

    // Timers on CLOCK_MONOTONIC, microseconds. Callbacks run on the loop thread.
    TimerId at(uint64_t when_us, std::function<void()> cb);
    TimerId after(uint64_t delay_us, std::function<void()> cb);
    TimerId every(uint64_t interval_us, std::function<void()> cb);
    void cancel(TimerId id);

    // SIGINT/SIGTERM (or any set) delivered through signalfd; cb gets the signal number.
    void on_signals(std::initializer_list<int> signals, std::function<void(int)> cb);

    void run();   // until stop()
    void stop();  // takes effect after the current iteration
    // Undo a stop() so that run() can be called again: for tests that drive one loop in phases. (A stop()
    // that comes before run() otherwise holds, on purpose: a signal during setup must end the run.)
    void resume() { stop_ = false; }
    bool stopping() const { return stop_; }

    uint64_t iterations() const { return iterations_; }
    // Syscalls the reactor itself made (see Epoll::waits): churn-client and churn-server report them in
    // their --json ("epoll_waits", "epoll_ctls") so that `make bench` can count syscalls per request.
    uint64_t epoll_waits() const { return epoll_.waits(); }
    uint64_t epoll_ctls() const { return epoll_.ctls(); }
    // The epoll fd, for tests: /proc/self/fdinfo/<it> lists the registrations the kernel really holds.
    int epoll_fd() const { return epoll_.fd(); }

private:
    struct Slot {
        Handler* handler = nullptr;
        uint32_t gen = 0;
        uint32_t events = 0;
    };
    struct Deferred {
        int fd;
        uint32_t gen;
        uint32_t events;
    };
    static uint64_t token(int fd, uint32_t gen) { return (static_cast<uint64_t>(gen) << 32) | static_cast<uint32_t>(fd); }
    void dispatch(uint64_t token, uint32_t events);
    void unslot(int fd);  // the bookkeeping both forgets share
    void rearm_timer();

    Epoll epoll_;
    TimerFd timerfd_;
    TimerQueue timers_;
    uint64_t armed_for_ = 0;
    std::vector<Slot> slots_;  // indexed by fd
    std::vector<Deferred> deferred_;
    std::unique_ptr<SignalFd> signals_;
    std::function<void(int)> signal_cb_;
    std::unique_ptr<Handler> internal_[2];
    bool stop_ = false;
    uint64_t iterations_ = 0;
};

}  // namespace churn
