// epoll.h: the kernel's readiness interface, and nothing else.
//
// churn registers every fd EDGE-TRIGGERED (EPOLLET): the kernel notifies once per edge (new data, new
// connection, buffer space freed), not once per wakeup while the condition holds. The rule that follows
// for every handler in this project: drain until EAGAIN, or remember that you stopped early.
// This is the only file that passes EPOLLET to the kernel.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>

namespace churn {

class Epoll {
public:
    Epoll();
    ~Epoll();
    Epoll(const Epoll&) = delete;
    Epoll& operator=(const Epoll&) = delete;

    // `events` without EPOLLET; it is added here. `token` comes back in epoll_event.data.u64.
    void add(int fd, uint32_t events, uint64_t token);
    void modify(int fd, uint32_t events, uint64_t token);
    // EPOLL_CTL_DEL. Not needed before close() of an fd nobody else shares: close drops the registration
    // when the last reference to the open file goes (Reactor::forget_before_close relies on that). It
    // is for fds that stay open (or are shared: a dup()ed or fork-shared fd would keep firing).
    void remove(int fd);

    // Returns the number of events in out[0..n); 0 on timeout or EINTR. timeout_ms < 0 blocks.
    int wait(epoll_event* out, int max, int timeout_ms);

    int fd() const { return fd_; }

    // How often we asked the kernel: epoll_wait() calls (timeouts and EINTR included) and epoll_ctl()
    // calls (ADD, MOD, DEL). /proc/PID/io counts only read- and write-like syscalls, so these are the
    // reactor's own share of a request's syscalls, for `make bench`. Plain increments: one thread.
    uint64_t waits() const { return waits_; }
    uint64_t ctls() const { return ctls_; }

private:
    int fd_;
    uint64_t waits_ = 0, ctls_ = 0;
};

// "EPOLLIN|EPOLLOUT|EPOLLRDHUP" for debug output, never a bare 0x2005.
std::string epoll_events_str(uint32_t events);

}  // namespace churn
