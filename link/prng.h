// prng.h: the link's random numbers. Small, documented, and the same on every machine.
//
// Why not std::mt19937 + std::bernoulli_distribution: the engine is portable, but the distributions are
// not (libstdc++ and libc++ turn the same engine output into different booleans), and "the same seed drops
// the same packets" must hold on any machine that builds this file. So both the generator and the way a
// draw becomes "drop / keep" are written out here, in integer arithmetic only.
//
//   SplitMix64 (Steele, Lea, Flood 2014; Vigna's splitmix64.c): a 64-bit counter through a mixer. Used only
//     to expand the user's one 64-bit --seed into xoshiro's 256-bit state, as xoshiro's authors recommend
//     (a state of mostly zero bits would start xoshiro in a poor region). Reference: seed 0 gives
//     0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, ...
//   xoshiro256** (Blackman, Vigna 2018; xoshiro256starstar.c): the generator each direction draws from.
//     Reference: state {1, 2, 3, 4} gives 11520, 0, 1509978240, 1215971899390074240, ...
//     jump() advances it by 2^128 draws: the B->A stream is the A->B stream jumped once, so the two
//     directions never share draws and traffic in one direction cannot shift the losses of the other.
#pragma once

#include <cmath>
#include <cstdint>

namespace churn {

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : x_(seed) {}
    uint64_t next() {
        uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    uint64_t x_;
};

class Xoshiro256ss {
public:
    // From a user seed, through SplitMix64 (never all-zero: SplitMix64 cannot emit four zeros in a row).
    explicit Xoshiro256ss(uint64_t seed) {
        SplitMix64 sm(seed);
        for (uint64_t& w : s_) w = sm.next();
    }
    // Raw state, for the published reference vector.
    Xoshiro256ss(uint64_t a, uint64_t b, uint64_t c, uint64_t d) : s_{a, b, c, d} {}

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Equivalent to 2^128 calls to next(); the polynomial is the reference implementation's.
    void jump() {
        static constexpr uint64_t kJump[] = {0x180ec6d33cfd0aba, 0xd5a61266f0c9392c, 0xa9582618e03fc9aa,
                                             0x39abdc4529b1661c};
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (uint64_t word : kJump) {
            for (int b = 0; b < 64; ++b) {
                if (word & (1ull << b)) {
                    s0 ^= s_[0];
                    s1 ^= s_[1];
                    s2 ^= s_[2];
                    s3 ^= s_[3];
                }
                next();
            }
        }
        s_[0] = s0;
        s_[1] = s1;
        s_[2] = s2;
        s_[3] = s3;
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

// i.i.d. Bernoulli loss: drop when a 64-bit draw falls below threshold = p * 2^64. Integer comparison, so
// the same draw gives the same verdict everywhere (no floating point at decision time). p = 100 % needs
// 2^64, which does not fit: `all_` says so. One draw per packet whatever p is, so changing --loss keeps the
// stream aligned: packet k always meets draw k.
class LossDraw {
public:
    LossDraw(uint64_t seed, double loss_pct) : rng_(seed) {
        if (loss_pct >= 100.0) {
            all_ = true;
        } else if (loss_pct > 0.0) {
            // ldexp is exact (a power-of-two scale); the conversion truncates toward zero. Below 100 % the
            // product is < 2^64, so the cast is defined.
            threshold_ = static_cast<uint64_t>(std::ldexp(loss_pct / 100.0, 64));
        }
    }
    // The other direction's stream: same seed, jumped 2^128 draws ahead.
    LossDraw& jump() {
        rng_.jump();
        return *this;
    }
    bool drop() {
        uint64_t x = rng_.next();
        return all_ || x < threshold_;
    }
    uint64_t threshold() const { return threshold_; }

private:
    Xoshiro256ss rng_;
    uint64_t threshold_ = 0;
    bool all_ = false;
};

}  // namespace churn
