// ring.h: a FIFO on a power-of-two array that grows by doubling and never shrinks.
//
//        head                     head + count
//         v                            v
//   [ . . A B C D E . . . . . . . . . . ]   (indices wrap: slot = (head + i) & mask)
//
// Why not std::deque: libstdc++'s deque allocates a new block every few hundred bytes of push_back and
// frees one on pop_front, so a queue that stays at a steady depth still calls malloc/free over and over.
// The link pushes and pops one entry per packet; this ring reaches its working size once and then moves
// only two indices.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace churn {

template <class T>
class Ring {
public:
    explicit Ring(size_t initial = 64) {
        size_t n = 1;
        while (n < initial) n <<= 1;
        slots_.resize(n);
    }

    bool empty() const { return count_ == 0; }
    size_t size() const { return count_; }
    size_t capacity() const { return slots_.size(); }

    T& front() { return slots_[head_]; }
    const T& front() const { return slots_[head_]; }
    T& back() { return slots_[(head_ + count_ - 1) & (slots_.size() - 1)]; }

    void push_back(T v) {
        if (count_ == slots_.size()) grow();
        slots_[(head_ + count_) & (slots_.size() - 1)] = std::move(v);
        ++count_;
    }
    void pop_front() {
        head_ = (head_ + 1) & (slots_.size() - 1);
        --count_;
    }
    void clear() { head_ = count_ = 0; }

private:
    void grow() {
        std::vector<T> bigger(slots_.size() * 2);
        for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
        slots_.swap(bigger);
        head_ = 0;
    }
    std::vector<T> slots_;
    size_t head_ = 0;
    size_t count_ = 0;
};

}  // namespace churn
