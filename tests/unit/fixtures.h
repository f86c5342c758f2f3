// fixtures.h: small helpers shared by the unit tests that push bytes through real sockets.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "loop/reactor.h"

namespace churn::test {

// A connected AF_UNIX stream pair, both ends non-blocking like every fd in the project.
// a: watched by the reactor (or read by the code under test), b: the test writes here.
struct Pair {
    int a = -1, b = -1;
    Pair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        a = fds[0];
        b = fds[1];
    }
    ~Pair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;
};

// Bytes 0..250 repeating: a shifted or dropped chunk shows up as a mismatch, unlike all-'x'.
inline std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
    return s;
}

// -1 when equal, else the first offset where they differ. Comparing 1 MiB strings directly would make
// Catch print both, binary, on failure; an offset says more.
inline long diff_at(std::string_view x, std::string_view y) {
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return static_cast<long>(i);
    return x.size() == y.size() ? -1 : static_cast<long>(n);
}

// Run the reactor until pred() holds (checked every millisecond) or failsafe_us passes; returns pred().
// The failsafe turns a broken loop into a failed check instead of a hung test binary.
inline bool run_until(Reactor& r, const std::function<bool()>& pred, uint64_t failsafe_us = 10'000'000) {
    r.resume();
    TimerId check = r.every(1000, [&] {
        if (pred()) r.stop();
    });
    TimerId failsafe = r.after(failsafe_us, [&] { r.stop(); });
    r.run();
    r.cancel(check);
    r.cancel(failsafe);
    return pred();
}

}  // namespace churn::test
