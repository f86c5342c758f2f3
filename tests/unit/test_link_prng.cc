// churn-link's PRNG: the published reference outputs, the per-direction streams, and the loss rate it
// gives over a million draws. "Same seed, same drops on every machine" rests on these.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "link/prng.h"

using churn::LossDraw;
using churn::SplitMix64;
using churn::Xoshiro256ss;

TEST_CASE("link prng: SplitMix64 seed 0 gives the published first outputs") {
    SplitMix64 sm(0);
    CHECK(sm.next() == 0xe220a8397b1dcdafull);
    CHECK(sm.next() == 0x6e789e6aa1b965f4ull);
    CHECK(sm.next() == 0x06c45d188009454full);
    CHECK(sm.next() == 0xf88bb8a8724c81ecull);
}

TEST_CASE("link prng: xoshiro256** from state {1,2,3,4} gives the reference implementation's outputs") {
    Xoshiro256ss x(1, 2, 3, 4);
    const uint64_t want[] = {11520ull,
                             0ull,
                             1509978240ull,
                             1215971899390074240ull,
                             1216172134540287360ull,
                             607988272756665600ull,
                             16172922978634559625ull,
                             8476171486693032832ull,
                             10595114339597558777ull,
                             2904607092377533576ull};
    for (uint64_t w : want) CHECK(x.next() == w);
}

TEST_CASE("link prng: a seed is a fixed sequence, and different seeds differ") {
    Xoshiro256ss a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        uint64_t va = a.next();
        REQUIRE(va == b.next());
        differs |= va != c.next();
    }
    CHECK(differs);
}

TEST_CASE("link prng: jump() gives a stream that does not start where the original continues") {
    Xoshiro256ss a(7), b(7);
    b.jump();
    int equal = 0;
    for (int i = 0; i < 1000; ++i) equal += a.next() == b.next();
    CHECK(equal == 0);
}

TEST_CASE("link prng: 1 % loss over 1e6 draws is 1 % (within 0.05 points, 5 sigma)") {
    for (uint64_t seed : {1ull, 2ull, 12345ull}) {
        LossDraw d(seed, 1.0);
        int dropped = 0;
        for (int i = 0; i < 1'000'000; ++i) dropped += d.drop();
        INFO("seed " << seed << ": " << dropped << " of 1e6");
        CHECK(dropped >= 9'500);
        CHECK(dropped <= 10'500);
    }
}

TEST_CASE("link prng: 0 % never drops, 100 % always drops, 50 % about half") {
    LossDraw none(1, 0.0), all(1, 100.0), half(1, 50.0);
    int n = 0, a = 0, h = 0;
    for (int i = 0; i < 100'000; ++i) {
        n += none.drop();
        a += all.drop();
        h += half.drop();
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
        if (d.drop()) drops.push_back(i);
    CHECK(drops == std::vector<int>{415, 467, 573, 614, 640});
}

TEST_CASE("link prng: the B->A stream (jumped) drops different packets than A->B") {
    LossDraw ab(9, 5.0), ba = LossDraw(9, 5.0).jump();
    int same = 0, both = 0;
    for (int i = 0; i < 100'000; ++i) {
        bool x = ab.drop(), y = ba.drop();
        same += x && y;
        both += x;
    }
    // Independent at 5 %: about 0.25 % of packets dropped by both, not 5 %.
    CHECK(same < both / 5);
}
