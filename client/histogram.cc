// histogram.cc: see the bucket layout diagram in histogram.h.
#include "client/histogram.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace churn {

static_assert(Histogram::kBuckets == 3328, "layout in histogram.h's diagram");
static_assert(Histogram::kMaxTrackable >= 3'600'000'000ull, "must track at least one hour in us");

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::bucket_of(uint64_t v) {
    if (v > kMaxTrackable) v = kMaxTrackable;
    if (v < 2 * kSubBuckets) return static_cast<size_t>(v);  // 0..255: width 1, index == value
    int msb = 63 - __builtin_clzll(v);                       // v >= 256, so clz is defined
    int shift = msb - kSubBits;
    return static_cast<size_t>(shift) * kSubBuckets + static_cast<size_t>(v >> shift);
}

uint64_t Histogram::bucket_width(size_t index) {
    if (index < 2 * kSubBuckets) return 1;
    return uint64_t{1} << (index / kSubBuckets - 1);
}

uint64_t Histogram::bucket_low(size_t index) {
    if (index < 2 * kSubBuckets) return index;
    uint64_t shift = index / kSubBuckets - 1;
    uint64_t sub = index - shift * kSubBuckets;  // 128..255: the top 8 bits of the value
    return sub << shift;
}

void Histogram::record_n(uint64_t value_us, uint64_t n) {
    if (n == 0) return;  // an empty batch must not move min/max
    if (value_us > kMaxTrackable) saturated_ += n;
    counts_[bucket_of(value_us)] += n;
    count_ += n;
    sum_ += static_cast<unsigned __int128>(value_us) * n;
    min_ = std::min(min_, value_us);
    max_ = std::max(max_, value_us);
}

double Histogram::mean() const {
    if (count_ == 0) return 0.0;
    return static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t percentile_rank(double p, uint64_t n) {
    if (n == 0) return 0;
    if (!(p > 0.0)) return 1;  // also catches NaN
    if (p >= 100.0) return n;
    // Shave a relative 1e-12 before ceil(): 99.9 is stored as 99.90000000000000568, and p/100*N for
    // N = 100 000 would otherwise land just above 99 900 and round up to the next rank.
    double x = p / 100.0 * static_cast<double>(n);
    auto rank = static_cast<uint64_t>(std::ceil(x * (1.0 - 1e-12)));
    return std::clamp<uint64_t>(rank, 1, n);
}

uint64_t Histogram::percentile(double p) const {
    if (count_ == 0) return 0;
    uint64_t rank = percentile_rank(p, count_);
    // The first and last ranks are the exact min and max: no bucket needed, and this keeps p100 exact
    // even when the largest sample was clamped into the top bucket.
    if (rank == count_) return max_;
    if (rank == 1) return min_;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            // Midpoint of the integers low .. low + w - 1. Clamping makes the bucket holding the
            // smallest (largest) sample answer with the exact min (max) instead of a midpoint past it.
            uint64_t mid = bucket_low(i) + (bucket_width(i) - 1) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;  // unreachable while counts_ sums to count_
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    saturated_ += other.saturated_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
    sum_ = 0;
    saturated_ = 0;
}

nlohmann::json Histogram::summary_json() const {
    return nlohmann::json{
        {"count", count()},         {"min", min()},           {"mean", mean()},
        {"p50", percentile(50.0)},  {"p90", percentile(90.0)}, {"p99", percentile(99.0)},
        {"p999", percentile(99.9)}, {"max", max()},
    };
}

}  // namespace churn
