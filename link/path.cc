#include "link/path.h"

#include <algorithm>

namespace churn {

uint64_t serialization_ns(uint64_t len, uint64_t rate_bps) {
    if (rate_bps == 0) return 0;
    // len * 8e9 fits in 64 bits for any len below 2^31 (2^31 * 8e9 < 1.8e19): packets are < 64 KiB.
    // Rounded up: a bottleneck that rounds down would run slightly faster than configured.
    return (len * 8'000'000'000ull + rate_bps - 1) / rate_bps;
}

void Bottleneck::forget_departed(uint64_t now_ns) {
    // Oldest first: the backlog is FIFO and departures are in order, so the departed ones are a prefix.
    while (!backlog_.empty() && backlog_.front().depart_ns <= now_ns) {
        backlog_bytes_ -= backlog_.front().len;
        backlog_.pop_front();
    }
}

bool Bottleneck::enqueue(uint64_t now_ns, uint64_t len, uint64_t& depart_ns) {
    forget_departed(now_ns);
    // Drop-tail: the newcomer is the one refused, never a packet already queued.
    if (cfg_.queue_pkts && backlog_.size() + 1 > cfg_.queue_pkts) return false;
    if (cfg_.queue_bytes && backlog_bytes_ + len > cfg_.queue_bytes) return false;
    // Back to back: the bottleneck starts this packet the moment the previous one is done, or now if idle.
    uint64_t start = std::max(now_ns, busy_until_ns_);
    depart_ns = start + serialization_ns(len, cfg_.rate_bps);
    busy_until_ns_ = depart_ns;
    // Without a bottleneck depart == now: the packet never waits, so it is not backlog.
    if (depart_ns > now_ns) {
        backlog_.push_back({depart_ns, len});
        backlog_bytes_ += len;
    }
    max_pkts_ = std::max<uint64_t>(max_pkts_, backlog_.size());
    max_bytes_ = std::max(max_bytes_, backlog_bytes_);
    return true;
}

Verdict PathModel::arrive(uint64_t now_ns, uint64_t len) {
    uint64_t n = stats_.packets_in++;  // this packet's index in its direction, 0-based
    stats_.bytes_in += len;
    // 1. Loss first, keyed by the index: packet n meets draw n whatever the queue did to the packets before
    //    it and whenever it arrives. That is what makes "same seed, same drops" hold.
    if (loss_.drop(n)) {
        ++stats_.dropped_loss;
        return {Fate::Lost, 0, 0};
    }
    // 2 + 3. The queue and the serializer.
    uint64_t depart = 0;
    if (!bottleneck_.enqueue(now_ns, len, depart)) {
        ++stats_.dropped_queue;
        return {Fate::QueueFull, 0, 0};
    }
    stats_.max_backlog_packets = bottleneck_.max_backlog_packets();
    stats_.max_backlog_bytes = bottleneck_.max_backlog_bytes();
    // 4. Propagation.
    return {Fate::Deliver, depart, depart + cfg_.delay_ns};
}

Fate PathModel::refuse(uint64_t len) {
    uint64_t n = stats_.packets_in++;
    stats_.bytes_in += len;
    if (loss_.drop(n)) {
        ++stats_.dropped_loss;
        return Fate::Lost;
    }
    ++stats_.dropped_no_buffer;
    return Fate::NoBuffer;
}

void PathModel::drop_synack(uint64_t len) {
    ++stats_.packets_in;
    stats_.bytes_in += len;
    ++stats_.dropped_synack;
}

}  // namespace churn
