#include "loop/epoll.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "loop/sys.h"

namespace churn {

Epoll::Epoll() {
    // EPOLL_CLOEXEC: the lab's scripts exec tools from our processes' children (none today), and a
    // leaked epoll fd would keep our registrations alive in them.
    fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd_ < 0) throw_sys("epoll_create1", "EPOLL_CLOEXEC", errno);
}

Epoll::~Epoll() { ::close(fd_); }

static void ctl(int epfd, int op, const char* opname, int fd, uint32_t events, uint64_t token, uint64_t& count) {
    ++count;
    epoll_event ev{};
    ev.events = events | EPOLLET;
    ev.data.u64 = token;
    if (::epoll_ctl(epfd, op, fd, &ev) < 0) {
        int saved = errno;
        // Like libuv, we treat a failed epoll_ctl as a bug in our bookkeeping (EBADF, EEXIST, ENOENT),
        // so it throws with the fd named rather than limping on with an fd that will never fire.
        throw_sys("epoll_ctl", std::string(opname) + ", fd=" + std::to_string(fd), saved);
    }
}

void Epoll::add(int fd, uint32_t events, uint64_t token) { ctl(fd_, EPOLL_CTL_ADD, "ADD", fd, events, token, ctls_); }

void Epoll::modify(int fd, uint32_t events, uint64_t token) {
    ctl(fd_, EPOLL_CTL_MOD, "MOD", fd, events, token, ctls_);
}

void Epoll::remove(int fd) {
    // Kernels before 2.6.9 required a non-null event pointer even for DEL; harmless to keep passing one.
    epoll_event ev{};
    ++ctls_;
    if (::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, &ev) < 0) {
        int saved = errno;
        throw_sys("epoll_ctl", "DEL, fd=" + std::to_string(fd), saved);
    }
}

int Epoll::wait(epoll_event* out, int max, int timeout_ms) {
    ++waits_;
    int n = ::epoll_wait(fd_, out, max, timeout_ms);
    if (n < 0) {
        int saved = errno;
        // Signals are delivered through signalfd, but a debugger or SIGSTOP/SIGCONT still interrupts.
        if (saved == EINTR) return 0;
        throw_sys("epoll_wait", "epfd=" + std::to_string(fd_), saved);
    }
    return n;
}

std::string epoll_events_str(uint32_t events) {
    static const struct {
        uint32_t bit;
        const char* name;
    } names[] = {{EPOLLIN, "EPOLLIN"},       {EPOLLPRI, "EPOLLPRI"}, {EPOLLOUT, "EPOLLOUT"},
                 {EPOLLERR, "EPOLLERR"},     {EPOLLHUP, "EPOLLHUP"}, {EPOLLRDHUP, "EPOLLRDHUP"},
                 {EPOLLET, "EPOLLET"},       {EPOLLONESHOT, "EPOLLONESHOT"}};
    std::string s;
    for (const auto& n : names) {
        if (events & n.bit) {
            if (!s.empty()) s += '|';
            s += n.name;
            events &= ~n.bit;
        }
    }
    if (events) {
        if (!s.empty()) s += '|';
        s += "0x" + [&] {
            char buf[16];
            snprintf(buf, sizeof buf, "%x", events);
            return std::string(buf);
        }();
    }
    return s.empty() ? "0" : s;
}

}  // namespace churn
