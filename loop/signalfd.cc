#include "loop/signalfd.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "loop/sys.h"

namespace churn {

SignalFd::SignalFd(std::initializer_list<int> signals) {
    sigemptyset(&mask_);
    for (int s : signals) sigaddset(&mask_, s);
    // Block before creating the fd: a SIGTERM that arrives in between must be queued, not fatal.
    // SIG_BLOCK (not SETMASK) keeps whatever the caller had blocked already.
    if (::sigprocmask(SIG_BLOCK, &mask_, nullptr) < 0) throw_sys("sigprocmask", "SIG_BLOCK", errno);
    fd_ = ::signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw_sys("signalfd", "-1", errno);
}

SignalFd::~SignalFd() {
    ::close(fd_);
    // Restore default delivery so a second Ctrl-C after the loop has gone still ends the process.
    ::sigprocmask(SIG_UNBLOCK, &mask_, nullptr);
}

int SignalFd::next() {
    signalfd_siginfo info;
    IoResult r = read_some(fd_, &info, sizeof info);
    if (r.status == Io::Ok && r.bytes == sizeof info) return static_cast<int>(info.ssi_signo);
    if (r.status == Io::WouldBlock) return 0;
    throw_sys("read", "signalfd=" + std::to_string(fd_), r.status == Io::Error ? r.err : EIO);
}

}  // namespace churn
