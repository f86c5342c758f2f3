// trace.h: a request trace, the schedule that `churn-client --trace FILE` replays, and its seeded maker.
//
// One line per request, times in microseconds from the start of the run, never decreasing:
//
//   # churn-client --make-trace: seed=7 count=400 rate=50 head=100-200 body=8-64
//   # t_us head_bytes body_bytes
//   0 143 17
//   23190 118 52
//
// head_bytes: the request head is padded to this size (client/pieces.h; below the smallest head the URL
// allows, the head is that smallest one). body_bytes: the body (Content-Length), 0 = a GET with none.
// Replaying the same file is what makes "p99 before and after" comparable: every variant of a run
// (Nagle on, TCP_NODELAY, cork, gather) sends the same requests, of the same sizes, at the same times.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace churn {

struct TraceLine {
    uint64_t t_us = 0;
    uint32_t head = 0;
    uint32_t body = 0;
};

struct Trace {
    std::string path;
    std::vector<TraceLine> lines;
};

// Limits a line must respect, so a typo cannot ask for a 4 GB body. The head: churn-server refuses a
// head over 8 KiB with 431. The body: 16 MiB, far above anything a Nagle experiment needs.
inline constexpr uint32_t kMaxTraceHead = 8192;
inline constexpr uint32_t kMaxTraceBody = 16u << 20;
inline constexpr uint64_t kMaxTraceLines = 10'000'000;
// t_us: at most a day, the longest run -d allows. The replay adds t_us to a monotonic start time and
// main.cc turns the last one into the run's duration: a t_us near 2^64 would wrap that sum to a time in
// the past (the request "due" at once) and ask for a run of 584 000 years.
inline constexpr uint64_t kMaxTraceTimeUs = 86'400'000'000;

// Every send a run makes is built before it starts (load.cc): one per distinct (head, body) of a trace,
// each `pipeline` requests long. Their bytes together at most this, so that sizes every line may have
// (400 lines of up to 16 MiB, or --pipeline 1024 of them) are refused with a line, not a bad_alloc.
inline constexpr uint64_t kMaxBuiltBytes = 256u << 20;
// The bytes of those sends, counting each head as head_bytes (the smallest head, ~60 bytes, is left out).
uint64_t built_bytes(const Trace& t, uint32_t pipeline);

// Parse a trace from `in`. `name` is what errors call the input ("trace.txt"). On a bad line: false,
// `error` = "trace.txt:7: ..." naming the line and what is wrong with it, `out` left empty.
bool parse_trace(std::istream& in, const std::string& name, Trace& out, std::string& error);
// Open and parse `path`; an unreadable file is "cannot read trace.txt: ENOENT (No such file...)".
bool load_trace(const std::string& path, Trace& out, std::string& error);

// What --make-trace draws a trace from.
struct TraceSpec {
    uint64_t seed = 1;
    uint64_t count = 400;
    double rate = 50;                     // requests/s on average (exponential gaps: a Poisson process);
                                          // count / rate at most a day (options.cc), as kMaxTraceTimeUs
    uint32_t head_lo = 100, head_hi = 200;  // head_bytes uniform in [lo, hi]
    uint32_t body_lo = 8, body_hi = 64;     // body_bytes uniform in [lo, hi]
};

// "A-B" (or "A", meaning A-A) into lo and hi, each in [0, max], lo <= hi; false with a one-line reason.
bool parse_range(const std::string& text, uint32_t max, uint32_t& lo, uint32_t& hi, std::string& error);

// The trace file's text for `spec`: the same spec gives the same bytes, on every run and every host with
// the same libm (the draws are our own splitmix64, not <random>'s distributions, whose algorithms the
// C++ standard leaves to each library).
std::string make_trace(const TraceSpec& spec);

}  // namespace churn
