// signalfd.h: signals as just another fd.
//
// A signal handler may only call async-signal-safe functions, so "stop the run and write the JSON"
// cannot live in one. With signalfd the signal becomes a readable fd and is handled in the loop, between
// events, like any other input. The signals must be blocked first (sigprocmask), or the default action
// (terminate) still runs before the fd ever becomes readable.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace churn {

class SignalFd {
public:
    explicit SignalFd(std::initializer_list<int> signals);
    ~SignalFd();
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;

    int fd() const { return fd_; }
    // Next pending signal number, or 0 when none is left (EAGAIN).
    int next();

private:
    int fd_;
    sigset_t mask_;
};

}  // namespace churn
