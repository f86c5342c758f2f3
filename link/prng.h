// prng.h: the link's random numbers. Small, documented, and the same on every machine.
//
// Why not std::mt19937 + std::bernoulli_distribution: the engine is portable, but the distributions are
// not (libstdc++ and libc++ turn the same engine output into different booleans), and "the same seed drops
// the same packets" must hold on any machine that builds this file. So both the generator and the way a
// draw becomes "drop / keep" are written out here, in integer arithmetic only.
//
// Why counter-based (a draw is a pure function of (seed, n)), not a stream (the next draw of a generator):
// with a stream, "packet n meets draw n" holds only if every earlier packet took exactly one draw. A packet
// that skipped the draw (a code path that forgot it), or a draw spent on something else, shifts every later
// verdict, and the two runs of "same seed, same drops" then differ from that packet on. Keyed by the
// packet's index, the verdict for packet n cannot depend on what happened to packets 0..n-1, nor on when
// anything happened: the property is in the arithmetic, not in the discipline of the callers.
//
//   SplitMix64 (Steele, Lea, Flood 2014; Vigna's splitmix64.c) is counter-based at heart: its state is a
//   counter advanced by the odd constant gamma, and its output is a bijective mixer of that counter. So
//   its n-th output (0-based) is mix(seed + (n + 1) * gamma), computable directly: at(seed, n).
//   Reference: seed 0 gives 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, ...
//   It passes BigCrush (Vigna's tests), which is far more than a Bernoulli loss draw needs.
#pragma once

#include <cmath>
#include <cstdint>

namespace churn {

class SplitMix64 {
public:
    static constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio, odd

    explicit SplitMix64(uint64_t seed) : x_(seed) {}
    uint64_t next() { return mix(x_ += kGamma); }

    // The n-th output of SplitMix64(seed), without producing the n before it.
    static uint64_t at(uint64_t seed, uint64_t n) { return mix(seed + (n + 1) * kGamma); }

    // Stafford's "Mix13" finalizer: every input bit affects every output bit.
    static uint64_t mix(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    uint64_t x_;
};

// i.i.d. Bernoulli loss: packet n is dropped when its 64-bit draw falls below threshold = p * 2^64.
// Integer comparison, so the same draw gives the same verdict everywhere (no floating point at decision
// time). p = 100 % needs 2^64, which does not fit: `all_` says so.
//
// Each direction has its own key (stream 0 = A->B, 1 = B->A), derived from the seed, so traffic in one
// direction cannot shift the losses of the other. The two keyed sequences would coincide only if the keys
// differed by a small multiple of gamma: a chance of about n / 2^64.
class LossDraw {
public:
    LossDraw(uint64_t seed, double loss_pct, uint64_t stream = 0) : key_(SplitMix64::at(seed, stream)) {
        if (loss_pct >= 100.0) {
            all_ = true;
        } else if (loss_pct > 0.0) {
            // ldexp is exact (a power-of-two scale); the conversion truncates toward zero. Below 100 % the
            // product is < 2^64, so the cast is defined.
            threshold_ = static_cast<uint64_t>(std::ldexp(loss_pct / 100.0, 64));
        }
    }
    // The verdict for the n-th packet (0-based) of this direction: a function of (seed, stream, n) only.
    bool drop(uint64_t n) const { return all_ || SplitMix64::at(key_, n) < threshold_; }
    uint64_t threshold() const { return threshold_; }

private:
    uint64_t key_;
    uint64_t threshold_ = 0;
    bool all_ = false;
};

}  // namespace churn
