// histogram.h: latency histogram with fixed memory and bounded relative error, after HdrHistogram.
//
// Why not keep every sample: at 200 k req/s a 60 s run is 12 M samples per thread; a log-linear histogram
// is 26 KiB whatever the run length, merges by adding counts, and is within 1/256 of the true value.
//
// Layout: the bucket of a value is chosen by the position of its most significant bit (the power-of-two
// range it falls in), then linearly inside that range with 128 sub-buckets. Ranges below 2^8 have
// sub-bucket width 1, so values 0..255 are stored exactly.
//
//   index   0 .. 127 | 128 .. 255 | 256 ..... 383 | 384 ..... 511 |     | 3200 ............ 3327
//   value   0 .. 127 | 128 .. 255 | 256 ..... 511 | 512 .... 1023 | ... | 2^31 ......... 2^32-1
//   width       1    |     1      |       2       |       4       |     |        2^24
//           `------ exact ------'  msb = 8          msb = 9               msb = 31
//
//   shift = max(0, msb - 7)            (how many low bits a bucket ignores)
//   index = shift * 128 + (v >> shift)  (v >> shift is in 128..255 once shift > 0)
//
// A bucket of width w starts at a value >= 128 w, so reporting its midpoint is off by at most w/2, i.e.
// by at most 1/256 = 0.39 % of the value. The top bucket ends at 2^32 - 1 us = 71.6 min; larger values
// are clamped into it and counted in saturated(). count, min, max and the sum (mean) are kept exactly.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace churn {

class Histogram {
public:
    static constexpr int kSubBits = 7;                        // 2^7 = 128 sub-buckets per power of two
    static constexpr uint64_t kSubBuckets = 1u << kSubBits;   // 128
    static constexpr int kTopBit = 31;                        // msb of the largest trackable value
    static constexpr uint64_t kMaxTrackable = (uint64_t{1} << (kTopBit + 1)) - 1;  // 2^32 - 1 us
    static constexpr size_t kBuckets = (kTopBit - kSubBits + 1) * kSubBuckets + kSubBuckets;  // 3328

    Histogram();

    void record(uint64_t value_us) { record_n(value_us, 1); }
    void record_n(uint64_t value_us, uint64_t n);

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }  // exact; 0 when empty
    uint64_t max() const { return max_; }               // exact (even for saturated values); 0 when empty
    double mean() const;                                // exact sum / count; 0 when empty
    // Nearest-rank percentile (see percentile_rank), p in [0,100]. The value reported is the midpoint of
    // the bucket holding that rank, clamped to [min(), max()]; ranks 1 and count() answer the exact min()
    // and max(). So a percentile is never above max(). A rank among saturated samples answers the top
    // bucket (< 2^32 us). 0 when empty.
    uint64_t percentile(double p) const;
    void merge(const Histogram& other);
    void reset();
    uint64_t saturated() const { return saturated_; }  // samples above kMaxTrackable (clamped to the top)

    // {"count","min","mean","p50","p90","p99","p999","max"}: integers (us), except mean (double, us).
    nlohmann::json summary_json() const;

    // Bucket arithmetic, public for tests and for readers checking the diagram above.
    static size_t bucket_of(uint64_t v);
    static uint64_t bucket_low(size_t index);    // smallest value in the bucket
    static uint64_t bucket_width(size_t index);  // 1 << shift

private:
    std::vector<uint64_t> counts_;  // kBuckets, allocated once: moves stay cheap, memory stays fixed
    uint64_t count_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
    unsigned __int128 sum_ = 0;  // exact even for saturated UINT64_MAX samples; 64 bits could wrap
    uint64_t saturated_ = 0;
};

// Nearest-rank definition: the p-th percentile of N sorted samples is the sample at 1-based rank
// ceil(p/100 * N), at least 1. Shared by Histogram::percentile and by tests computing exact percentiles,
// so both sides agree on e.g. p99.9 of 100 000 samples = rank 99 900 (floating point would say 99 901).
uint64_t percentile_rank(double p, uint64_t n);

}  // namespace churn
