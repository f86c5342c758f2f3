#include "link/synack.h"

namespace churn {

namespace {
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
constexpr uint8_t kProtoTcp = 6;
}  // namespace

bool parse_tcp_head(const uint8_t* pkt, size_t len, TcpHead& out) {
    if (len < 1) return false;
    size_t l4 = 0;
    uint8_t version = pkt[0] >> 4;
    if (version == 4) {
        if (len < 20) return false;
        size_t ihl = static_cast<size_t>(pkt[0] & 0x0f) * 4;
        // Fragment offset != 0: a later piece of a datagram, whose bytes at "l4" are not a TCP header.
        if (ihl < 20 || pkt[9] != kProtoTcp || (be16(pkt + 6) & 0x1fff) != 0) return false;
        std::memcpy(out.src, pkt + 12, 4);
        std::memcpy(out.dst, pkt + 16, 4);
        std::memset(out.src + 4, 0, 12);
        std::memset(out.dst + 4, 0, 12);
        l4 = ihl;
    } else if (version == 6) {
        // Next header must be TCP itself: walking extension headers buys nothing here (the kernel sends
        // a SYN-ACK without them).
        if (len < 40 || pkt[6] != kProtoTcp) return false;
        std::memcpy(out.src, pkt + 8, 16);
        std::memcpy(out.dst, pkt + 24, 16);
        l4 = 40;
    } else {
        return false;
    }
    if (len < l4 + 20) return false;  // the TCP header's fixed 20 bytes, up to the flags and beyond
    const uint8_t* t = pkt + l4;
    out.family = version;
    out.sport = be16(t);
    out.dport = be16(t + 2);
    out.ack = be32(t + 8);
    out.flags = t[13];
    return true;
}

size_t SynAckDropper::KeyHash::operator()(const Key& k) const {
    // FNV-1a over the 37 bytes: small, and good enough for a table of ports and lab addresses.
    uint64_t h = 1469598103934665603ull;
    for (uint8_t c : k.b) h = (h ^ c) * 1099511628211ull;
    return static_cast<size_t>(h);
}

bool SynAckDropper::drop(const uint8_t* pkt, size_t len) {
    if (drop_first_ == 0) return false;
    TcpHead h;
    if (!parse_tcp_head(pkt, len, h) || !is_synack(h)) return false;
    Key k;
    k.b[0] = h.family;
    std::memcpy(k.b + 1, h.src, 16);
    std::memcpy(k.b + 17, h.dst, 16);
    k.b[33] = static_cast<uint8_t>(h.sport >> 8);
    k.b[34] = static_cast<uint8_t>(h.sport);
    k.b[35] = static_cast<uint8_t>(h.dport >> 8);
    k.b[36] = static_cast<uint8_t>(h.dport);
    auto it = flows_.find(k);
    if (it == flows_.end()) {
        if (flows_.size() >= max_flows_) {
            // Bounded: forget the oldest flow. Entries are never removed any other way, so the insertion
            // order in order_ and the map always hold the same keys.
            flows_.erase(order_.front());
            order_.pop_front();
            ++evicted_;
        }
        it = flows_.emplace(k, Flow{h.ack, 0}).first;
        order_.push_back(k);
    } else if (it->second.ack != h.ack) {
        // Same 4-tuple, another client ISN: a new connection on a reused port. Its SYN-ACKs count afresh.
        it->second = Flow{h.ack, 0};
    }
    if (it->second.dropped >= drop_first_) return false;
    ++it->second.dropped;
    return true;
}

}  // namespace churn
