// pool.h: packet buffers, recycled. Reading a packet takes a slot, delivering or dropping it gives the
// slot back, so in steady state the link moves packets without calling malloc.
//
//   chunk 0: [slot 0 | slot 1 | ... | slot 255]    each slot kSlotBytes, one IP packet
//   chunk 1: [slot 256 | ...]                       added only when every slot is in use
//   free_:   stack of slot numbers ready to take (LIFO: the slot just freed is still warm in cache)
//
// The pool grows in chunks up to max_slots and never shrinks. Its high-water mark is the most packets the
// link ever held at once (queue + delay line), about rate x delay / size + queue: 100 Mbit/s x 25 ms of
// 1500-byte packets is ~210.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace churn {

class PacketPool {
public:
    // Larger than any packet: lab/link.sh sets the TUN MTU to 1500, and without IFF_VNET_HDR the kernel
    // never hands a TUN device a GSO super-packet, so a read returns at most one MTU.
    static constexpr size_t kSlotBytes = 2048;
    static constexpr uint32_t kNone = UINT32_MAX;

    explicit PacketPool(size_t max_slots) : max_slots_(max_slots) {}

    // A free slot, or kNone when max_slots are all in use.
    uint32_t take() {
        if (free_.empty() && !grow()) return kNone;
        uint32_t s = free_.back();
        free_.pop_back();
        return s;
    }
    void give(uint32_t slot) { free_.push_back(slot); }
    char* data(uint32_t slot) { return chunks_[slot / kChunk].get() + (slot % kChunk) * kSlotBytes; }

    size_t allocated() const { return chunks_.size() * kChunk; }
    size_t in_use() const { return allocated() - free_.size(); }

private:
    static constexpr size_t kChunk = 256;
    bool grow() {
        if (allocated() + kChunk > max_slots_) return false;
        chunks_.push_back(std::make_unique<char[]>(kChunk * kSlotBytes));
        // Reserve now so give() never reallocates: the free list can hold every slot there is.
        free_.reserve(allocated());
        for (size_t i = kChunk; i-- > 0;) free_.push_back(static_cast<uint32_t>(allocated() - kChunk + i));
        return true;
    }
    size_t max_slots_;
    std::vector<std::unique_ptr<char[]>> chunks_;
    std::vector<uint32_t> free_;
};

}  // namespace churn
