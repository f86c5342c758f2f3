// Histogram against exact percentiles of the same samples.
//
// Percentile definition used on both sides: nearest rank. The p-th percentile of N sorted samples is
// sorted[rank - 1] with rank = ceil(p/100 * N), at least 1 (churn::percentile_rank).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "client/histogram.h"

using churn::Histogram;

namespace {

uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
    return sorted[churn::percentile_rank(p, sorted.size()) - 1];
}

// histogram.h's promise: a reported value is off by at most 1/256 (0.39 %) of the true one, i.e.
// |got - exact| * 256 <= exact, in integers (no rounding on the test's side).
bool within_promise(uint64_t got, uint64_t exact) {
    uint64_t err = got > exact ? got - exact : exact - got;
    return static_cast<unsigned __int128>(err) * 256 <= exact;
}

// Every reported percentile within 1/256 of the exact one, over a fine grid of p (not just p50/p99).
void check_against_exact(std::vector<uint64_t> values) {
    Histogram h;
    for (uint64_t v : values) h.record(v);
    std::sort(values.begin(), values.end());

    REQUIRE(h.count() == values.size());
    REQUIRE(h.min() == values.front());
    REQUIRE(h.max() == values.back());
    long double sum = 0;
    for (uint64_t v : values) sum += v;
    REQUIRE(h.mean() == Approx(static_cast<double>(sum / values.size())).epsilon(1e-12));

    std::vector<double> ps = {0, 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100};
    for (int i = 1; i < 1000; ++i) ps.push_back(i / 10.0);
    for (double p : ps) {
        uint64_t exact = exact_percentile(values, p);
        uint64_t got = h.percentile(p);
        INFO("p=" << p << " exact=" << exact << " histogram=" << got);
        REQUIRE(within_promise(got, exact));
        REQUIRE(got <= h.max());
    }
    REQUIRE(h.percentile(0) == values.front());
    REQUIRE(h.percentile(100) == values.back());
}

}  // namespace

TEST_CASE("bucket layout matches the diagram", "[histogram]") {
    REQUIRE(Histogram::bucket_of(0) == 0);
    REQUIRE(Histogram::bucket_of(127) == 127);
    REQUIRE(Histogram::bucket_of(255) == 255);
    REQUIRE(Histogram::bucket_of(256) == 256);
    REQUIRE(Histogram::bucket_of(257) == 256);
    REQUIRE(Histogram::bucket_of(511) == 383);
    REQUIRE(Histogram::bucket_of(512) == 384);
    REQUIRE(Histogram::bucket_of(Histogram::kMaxTrackable) == Histogram::kBuckets - 1);
    REQUIRE(Histogram::bucket_of(UINT64_MAX) == Histogram::kBuckets - 1);
    REQUIRE(Histogram::bucket_low(Histogram::kBuckets - 1) == (uint64_t{255} << 24));
    REQUIRE(Histogram::bucket_width(Histogram::kBuckets - 1) == (uint64_t{1} << 24));

    // Buckets tile the value range with no gap or overlap, and width <= low / 128 above 255.
    for (size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
        uint64_t lo = Histogram::bucket_low(i), w = Histogram::bucket_width(i);
        REQUIRE(Histogram::bucket_low(i + 1) == lo + w);
        REQUIRE(Histogram::bucket_of(lo) == i);
        REQUIRE(Histogram::bucket_of(lo + w - 1) == i);
        if (lo >= 256) REQUIRE(w * 128 <= lo);
    }
}

TEST_CASE("uniform 100k: percentiles within 1/256 of exact", "[histogram]") {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<uint64_t> d(1, 2'000'000);  // 1 us .. 2 s
    std::vector<uint64_t> v(100'000);
    for (auto& x : v) x = d(rng);
    check_against_exact(std::move(v));
}

TEST_CASE("exponential 100k: percentiles within 1/256 of exact", "[histogram]") {
    std::mt19937_64 rng(7);
    std::exponential_distribution<double> d(1.0 / 800.0);  // mean 800 us, long tail
    std::vector<uint64_t> v(100'000);
    for (auto& x : v) x = static_cast<uint64_t>(d(rng)) + 50;
    check_against_exact(std::move(v));
}

TEST_CASE("bimodal 100k: percentiles within 1/256 of exact", "[histogram]") {
    // 95 % fast (~120 us), 5 % slow (~1 s, a SYN retransmit): p99 lands in the far mode.
    std::mt19937_64 rng(1234);
    std::normal_distribution<double> fast(120.0, 15.0), slow(1'000'000.0, 50'000.0);
    std::bernoulli_distribution is_slow(0.05);
    std::vector<uint64_t> v(100'000);
    for (auto& x : v) x = static_cast<uint64_t>(std::max(1.0, is_slow(rng) ? slow(rng) : fast(rng)));
    check_against_exact(std::move(v));
}

TEST_CASE("log-uniform 200k over every magnitude 1 us .. 71 min: within 1/256 of exact", "[histogram]") {
    // Each power of two from 2^0 to 2^31 gets about the same share of samples, so every range of the
    // layout (exact, width 2, ..., width 2^24) holds percentiles that are checked.
    std::mt19937_64 rng(2026);
    std::uniform_real_distribution<double> exponent(0.0, 32.0);
    std::vector<uint64_t> v(200'000);
    for (auto& x : v) x = std::min<uint64_t>(static_cast<uint64_t>(std::exp2(exponent(rng))), Histogram::kMaxTrackable);
    check_against_exact(std::move(v));
}

TEST_CASE("every bucket: its lowest, highest and middle value answered within 1/256", "[histogram]") {
    // The worst cases of the promise are a bucket's edges (farthest from the midpoint reported). One
    // sample of value v between 0 and kMaxTrackable: p50 is rank 2 of 3, answered from v's bucket (ranks
    // 1 and 3 are the exact min and max, which would hide the bucket arithmetic).
    Histogram h;
    for (size_t i = 0; i < Histogram::kBuckets; ++i) {
        uint64_t lo = Histogram::bucket_low(i), hi = lo + Histogram::bucket_width(i) - 1;
        for (uint64_t v : {lo, lo + (hi - lo) / 3, hi}) {
            h.reset();
            h.record(0);
            h.record(v);
            h.record(Histogram::kMaxTrackable);
            uint64_t got = h.percentile(50);
            INFO("bucket " << i << " [" << lo << ", " << hi << "] value " << v << " answered " << got);
            REQUIRE(within_promise(got, v));
        }
    }
}

TEST_CASE("merge equals recording both", "[histogram]") {
    std::mt19937_64 rng(99);
    std::uniform_int_distribution<uint64_t> d(0, 50'000'000);
    Histogram a, b, both;
    for (int i = 0; i < 20'000; ++i) {
        uint64_t x = d(rng) >> (i % 20);  // spread over many magnitudes
        (i % 3 ? a : b).record(x);
        both.record(x);
    }
    b.record(UINT64_MAX);
    both.record(UINT64_MAX);
    a.merge(b);
    REQUIRE(a.count() == both.count());
    REQUIRE(a.min() == both.min());
    REQUIRE(a.max() == both.max());
    REQUIRE(a.mean() == both.mean());
    REQUIRE(a.saturated() == both.saturated());
    for (double p = 0; p <= 100; p += 0.5) REQUIRE(a.percentile(p) == both.percentile(p));
    REQUIRE(a.summary_json() == both.summary_json());

    Histogram empty;
    a.merge(empty);  // merging an empty one must not disturb min
    REQUIRE(a.min() == both.min());
    empty.merge(a);
    REQUIRE(empty.summary_json() == a.summary_json());
}

TEST_CASE("empty histogram", "[histogram]") {
    Histogram h;
    REQUIRE(h.count() == 0);
    REQUIRE(h.min() == 0);
    REQUIRE(h.max() == 0);
    REQUIRE(h.mean() == 0.0);
    REQUIRE(h.percentile(50) == 0);
    REQUIRE(h.saturated() == 0);
    auto j = h.summary_json();
    REQUIRE(j["count"] == 0);
    REQUIRE(j["p99"] == 0);
    h.record_n(500, 0);  // an empty batch records nothing
    REQUIRE(h.count() == 0);
    REQUIRE(h.min() == 0);
}

TEST_CASE("single value and exact max", "[histogram]") {
    Histogram h;
    h.record(123'457);  // not a bucket boundary: bucket width is 1024 here
    for (double p : {0.0, 1.0, 50.0, 99.9, 100.0}) REQUIRE(h.percentile(p) == 123'457);
    REQUIRE(h.mean() == 123'457.0);

    h.record_n(200, 999);
    REQUIRE(h.count() == 1000);
    REQUIRE(h.max() == 123'457);  // exact, not the bucket's upper edge
    REQUIRE(h.percentile(99.9) == 200);
    REQUIRE(h.percentile(100) == 123'457);

    h.reset();
    REQUIRE(h.count() == 0);
    REQUIRE(h.percentile(50) == 0);
}

TEST_CASE("zero and huge values", "[histogram]") {
    Histogram h;
    h.record(0);
    h.record(0);
    REQUIRE(h.percentile(50) == 0);
    REQUIRE(h.min() == 0);

    h.record(Histogram::kMaxTrackable);          // 71.6 min: still tracked
    REQUIRE(h.saturated() == 0);
    h.record(uint64_t{10} * 3'600'000'000ull);   // 10 h: clamps into the top bucket
    h.record(UINT64_MAX);
    REQUIRE(h.saturated() == 2);
    REQUIRE(h.count() == 5);
    REQUIRE(h.max() == UINT64_MAX);              // max stays exact
    REQUIRE(h.percentile(100) == UINT64_MAX);
    uint64_t p80 = h.percentile(80);             // a saturated sample: reported as the top bucket
    REQUIRE(p80 >= Histogram::bucket_low(Histogram::kBuckets - 1));
    REQUIRE(p80 <= Histogram::kMaxTrackable);
    double expect_mean = (static_cast<double>(Histogram::kMaxTrackable) + 3.6e10 + 0x1p64) / 5;
    REQUIRE(h.mean() == Approx(expect_mean));

    // One hour is tracked within the promised 1/256.
    Histogram hour;
    hour.record(3'600'000'000ull);
    hour.record(3'600'000'000ull);
    hour.record(1);
    REQUIRE(hour.saturated() == 0);
    REQUIRE(within_promise(hour.percentile(50), 3'600'000'000ull));
}

TEST_CASE("summary_json keys and types", "[histogram]") {
    Histogram h;
    for (uint64_t v = 1; v <= 1000; ++v) h.record(v);
    auto j = h.summary_json();
    for (const char* k : {"count", "min", "p50", "p90", "p99", "p999", "max"}) {
        INFO(k);
        REQUIRE(j.contains(k));
        REQUIRE(j[k].is_number_unsigned());
    }
    REQUIRE(j["mean"].is_number_float());
    REQUIRE(j.size() == 8);
    REQUIRE(j["p50"] == 500);  // values <= 255 exact; 500 sits in a width-2 bucket {500, 501}
    REQUIRE(j["p999"] == 997);  // exact 999 sits in the width-4 bucket 996..999: midpoint 997
    REQUIRE(j["max"] == 1000);
    REQUIRE(j["mean"] == 500.5);
}
