#include "loop/reactor.h"

#include <unistd.h>

#include "loop/clock.h"
#include "loop/sys.h"

namespace churn {

namespace {
// The timerfd and signalfd are registered like any socket, through these two small handlers.
struct TimerHandler : Reactor::Handler {
    std::function<void()> fire;
    void on_events(uint32_t) override { fire(); }
};
struct SignalHandler : Reactor::Handler {
    std::function<void()> fire;
    void on_events(uint32_t) override { fire(); }
};
constexpr int kMaxEvents = 256;
}  // namespace

Reactor::Reactor() {
    auto th = std::make_unique<TimerHandler>();
    th->fire = [this] {
        timerfd_.drain();
        armed_for_ = 0;
        // The timerfd is one-shot per arming; run_due() tells us the next deadline to arm.
        timers_.run_due(mono_us());
        rearm_timer();
    };
    watch(timerfd_.fd(), EPOLLIN, th.get());
    internal_[0] = std::move(th);
}

Reactor::~Reactor() = default;

void Reactor::watch(int fd, uint32_t events, Handler* h) {
    if (fd < 0) throw_sys("Reactor::watch", "fd=" + std::to_string(fd), EBADF);
    if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(static_cast<size_t>(fd) + 64);
    Slot& s = slots_[static_cast<size_t>(fd)];
    // Kernel first, bookkeeping second: if epoll_ctl throws (EEXIST: fd already watched), the slot
    // must still describe the registration the kernel has, or its events go to the wrong handler.
    epoll_.add(fd, events, token(fd, s.gen));
    s.handler = h;
    s.events = events;
}

void Reactor::rewatch(int fd, uint32_t events) {
    Slot& s = slots_.at(static_cast<size_t>(fd));
    if (s.events == events) return;  // skip the syscall: EPOLLOUT toggling is on the hot path
    epoll_.modify(fd, events, token(fd, s.gen));
    s.events = events;  // only once the kernel agreed, or the skip above would lie next time
}

void Reactor::forget(int fd) {
    if (!slots_.at(static_cast<size_t>(fd)).handler) return;
    epoll_.remove(fd);  // kernel first: if DEL throws, the slot still describes what the kernel has
    unslot(fd);
}

void Reactor::forget_before_close(int fd) {
    // No epoll_ctl(DEL): close() is about to drop the registration (reactor.h says when that holds).
    unslot(fd);
}

void Reactor::unslot(int fd) {
    Slot& s = slots_.at(static_cast<size_t>(fd));
    if (!s.handler) return;
    s.handler = nullptr;
    // Bump the generation: events already fetched for this fd in the current batch carry the old
    // one and will be dropped by dispatch(), even if the fd number is reused before we get to them.
    // That also covers a close() without DEL whose file outlives it for a moment (someone reading
    // /proc/PID/fdinfo holds a reference): its last events carry the old generation too.
    ++s.gen;
}

bool Reactor::watching(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < slots_.size() && slots_[static_cast<size_t>(fd)].handler;
}

void Reactor::defer(int fd, uint32_t events) {
    deferred_.push_back({fd, slots_.at(static_cast<size_t>(fd)).gen, events});
}

bool Reactor::deferred(int fd) const {
    if (!watching(fd)) return false;
    uint32_t gen = slots_[static_cast<size_t>(fd)].gen;
    for (const Deferred& d : deferred_)
        if (d.fd == fd && d.gen == gen) return true;
    return false;
}

void Reactor::dispatch(uint64_t tok, uint32_t events) {
    size_t fd = static_cast<uint32_t>(tok);
    uint32_t gen = static_cast<uint32_t>(tok >> 32);
    if (fd >= slots_.size()) return;
    Slot& s = slots_[fd];
    if (!s.handler || s.gen != gen) return;  // closed earlier in this batch (see header)
    s.handler->on_events(events);
}

TimerId Reactor::at(uint64_t when_us, std::function<void()> cb) {
    TimerId id = timers_.add(when_us, 0, std::move(cb));
    rearm_timer();
    return id;
}

TimerId Reactor::after(uint64_t delay_us, std::function<void()> cb) { return at(mono_us() + delay_us, std::move(cb)); }

TimerId Reactor::every(uint64_t interval_us, std::function<void()> cb) {
    TimerId id = timers_.add(mono_us() + interval_us, interval_us, std::move(cb));
    rearm_timer();
    return id;
}

void Reactor::cancel(TimerId id) { timers_.cancel(id); }

void Reactor::rearm_timer() {
    uint64_t next = timers_.next_deadline();
    // Only touch the kernel when the earliest deadline moved earlier (or the timer is idle): a later
    // deadline will be re-armed when the current one fires and finds nothing due.
    if (next == 0 || (armed_for_ != 0 && armed_for_ <= next)) return;
    timerfd_.arm_at(next);
    armed_for_ = next;
}

void Reactor::on_signals(std::initializer_list<int> signals, std::function<void(int)> cb) {
    // Once per reactor: replacing the SignalFd would unblock the signals the new one just blocked.
    if (signals_) throw_sys("Reactor::on_signals", "called twice", EBUSY);
    signals_ = std::make_unique<SignalFd>(signals);
    signal_cb_ = std::move(cb);
    auto sh = std::make_unique<SignalHandler>();
    sh->fire = [this] {
        // Drain until EAGAIN: two signals may have arrived for one edge.
        while (int signo = signals_->next()) signal_cb_(signo);
    };
    watch(signals_->fd(), EPOLLIN, sh.get());
    internal_[1] = std::move(sh);
}

void Reactor::stop() { stop_ = true; }

void Reactor::run() {
    epoll_event events[kMaxEvents];
    // stop_ is not reset here: a stop() that came before run() (a signal during setup) must hold.
    while (!stop_) {
        ++iterations_;
        // Deferred work pending means "do not sleep": poll with timeout 0 so new events still get in.
        int n = epoll_.wait(events, kMaxEvents, deferred_.empty() ? -1 : 0);
        for (int i = 0; i < n; ++i) dispatch(events[i].data.u64, events[i].events);
        if (!deferred_.empty()) {
            // Swap first: a handler may defer itself again, and that belongs to the next round.
            std::vector<Deferred> batch;
            batch.swap(deferred_);
            for (const Deferred& d : batch) dispatch(token(d.fd, d.gen), d.events);
        }
    }
}

}  // namespace churn
