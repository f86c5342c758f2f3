// clock.h: the project's one clock. CLOCK_MONOTONIC in microseconds (or nanoseconds where a histogram
// wants them). Wall time jumps (NTP, an operator's date -s); latency measured across a jump is fiction.
#pragma once

#include <time.h>

#include <cstdint>

namespace churn {

inline uint64_t mono_ns() {
    timespec ts;
    // Cannot fail for CLOCK_MONOTONIC with a valid pointer (clock_gettime(2)), so no check here.
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t mono_us() { return mono_ns() / 1000; }

}  // namespace churn
