// churn-link's PRNG: the published reference outputs, the per-direction streams, and the loss rate it
// gives over a million draws. "Same seed, same drops on every machine" rests on these.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "link/prng.h"

using churn::LossDraw;
using churn::SplitMix64;

TEST_CASE("link prng: SplitMix64 seed 0 gives the published first outputs") {
    SplitMix64 sm(0);
    CHECK(sm.next() == 0xe220a8397b1dcdafull);
    CHECK(sm.next() == 0x6e789e6aa1b965f4ull);
    CHECK(sm.next() == 0x06c45d188009454full);
    CHECK(sm.next() == 0xf88bb8a8724c81ecull);
}

TEST_CASE("link prng: SplitMix64::at(seed, n) is the n-th output of the generator (counter-based)") {
    for (uint64_t seed : {0ull, 1ull, 0xdeadbeefull, ~0ull}) {
        SplitMix64 sm(seed);
        for (uint64_t n = 0; n < 1000; ++n) REQUIRE(SplitMix64::at(seed, n) == sm.next());
    }
    CHECK(SplitMix64::at(0, 2) == 0x06c45d188009454full);
}

TEST_CASE("link prng: a packet's verdict depends on (seed, n) only, not on the order or gaps of the draws") {
    // What "whatever the timing" means for the code: asking about packet n first, last, twice, or after
    // skipping packets gives the same answer, because nothing is consumed.
    LossDraw d(42, 5.0), again(42, 5.0);
    std::vector<bool> forward;
    for (uint64_t n = 0; n < 10'000; ++n) forward.push_back(d.drop(n));
    for (uint64_t n = 10'000; n-- > 0;) REQUIRE(again.drop(n) == forward[n]);
    for (uint64_t n = 0; n < 10'000; n += 7) REQUIRE(d.drop(n) == forward[n]);
    // A different seed is a different pattern.
    LossDraw other(43, 5.0);
    int differ = 0;
    for (uint64_t n = 0; n < 10'000; ++n) differ += other.drop(n) != forward[n];
    CHECK(differ > 500);
}

TEST_CASE("link prng: 1 % loss over 1e6 draws is 1 % (within 0.05 points, 5 sigma)") {
    for (uint64_t seed : {1ull, 2ull, 12345ull}) {
        LossDraw d(seed, 1.0);
        int dropped = 0;
        for (uint64_t n = 0; n < 1'000'000; ++n) dropped += d.drop(n);
        INFO("seed " << seed << ": " << dropped << " of 1e6");
        CHECK(dropped >= 9'500);
        CHECK(dropped <= 10'500);
    }
}

TEST_CASE("link prng: 0 % never drops, 100 % always drops, 50 % about half") {
    LossDraw none(1, 0.0), all(1, 100.0), half(1, 50.0);
    int n = 0, a = 0, h = 0;
    for (uint64_t i = 0; i < 100'000; ++i) {
        n += none.drop(i);
        a += all.drop(i);
        h += half.drop(i);
    }
    CHECK(n == 0);
    CHECK(a == 100'000);
    CHECK(h > 49'000);
    CHECK(h < 51'000);
}

TEST_CASE("link prng: the verdicts of a seed are fixed (golden: first drops of seed 1 at 1 %)") {
    // A tripwire: if this changes, every recorded "same seed, same drops" result changes with it. The
    // generator itself is pinned to the published vectors above; this pins seeding and the threshold.
    // 1 % of 2^64, from the double 0.01 (= 5764607523034235 * 2^-59) scaled by 2^64 exactly.
    CHECK(LossDraw(1, 1.0).threshold() == 184467440737095520ull);
    LossDraw d(1, 1.0);
    std::vector<int> drops;
    for (int i = 0; i < 2000 && drops.size() < 5; ++i)
        if (d.drop(i)) drops.push_back(i);
    CHECK(drops == std::vector<int>{145, 376, 584, 649, 703});
}

TEST_CASE("link prng: the B->A stream (key 1) drops different packets than A->B (key 0)") {
    LossDraw ab(9, 5.0, 0), ba(9, 5.0, 1);
    int same = 0, both = 0;
    for (uint64_t i = 0; i < 100'000; ++i) {
        bool x = ab.drop(i), y = ba.drop(i);
        same += x && y;
        both += x;
    }
    // Independent at 5 %: about 0.25 % of packets dropped by both, not 5 %.
    CHECK(same < both / 5);
}
