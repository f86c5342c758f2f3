// synack.h: churn-link --drop-synack N, "the SYN-ACK is lost on the link", made deterministic.
//
// Why a filter of its own and not --loss: random loss hits any packet, so "connect took 1 s" could be a
// lost SYN, a lost SYN-ACK or a lost third ACK, and each one is recovered by a different timer. What the
// SYN cookie experiment needs is exactly one of them: the SYN-ACK. Who recovers from that loss is the
// question:
//   - a server that keeps a request socket (no cookie) retransmits its SYN-ACK on its own timer (1 s,
//     then 2 s, 4 s ...; tcp_synack_retries), and a client SYN retransmit that reaches it makes it
//     resend the SYN-ACK as well: two SYN-ACKs about 1 s after the first;
//   - a server that answered with a cookie kept no state, so nothing is retransmitted: the connection
//     waits for the client's own SYN retransmit (its RTO, 1 s), which gets one fresh cookie SYN-ACK.
// Both timers start at 1 s, so with N = 1 connect() takes about 1 s + 1 RTT either way (measured at a
// 200 ms RTT: 1.208 s, cookies or not). N = 2 tells them apart: with a cookie nothing but the client's
// next SYN retransmit can help (2 s on this kernel, tcp_syn_linear_timeouts=4; 3 s on older ones;
// measured 2.24 s at 200 ms); without one, the server's timer and its answer to the client's SYN
// retransmit race at ~1 s (an answered SYN restarts the timer, tcp_check_req), so 1.2 s or 2.2 s.
//
// A flow is the SYN-ACK's 4-tuple (source and destination address and port, as the SYN-ACK carries them)
// and the connection's client ISN, read from the SYN-ACK's ACK number (ISN + 1). The ISN makes it "the
// first N SYN-ACKs of each connection": a later connection that reuses the 4-tuple (a port out of
// TIME-WAIT) has a new ISN and is counted afresh, while a cookie SYN-ACK answering a retransmitted SYN
// acks the same ISN and counts as the same connection's second.
//
// The table is bounded (a SYN flood through the link must not grow it without end): at kMaxFlows entries,
// the oldest flow is forgotten. A forgotten flow that sends another SYN-ACK is new again, and loses N more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "link/ring.h"

namespace churn {

// What the filter reads of a packet: its TCP 4-tuple, flags and ACK number. IPv4 (any IHL) and IPv6
// whose first header is TCP (a SYN-ACK never carries extension headers or fragments in the lab).
struct TcpHead {
    uint8_t family = 0;        // 4 or 6
    uint8_t src[16] = {}, dst[16] = {};
    uint16_t sport = 0, dport = 0;  // host byte order
    uint8_t flags = 0;         // the TCP flags byte: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
    uint32_t ack = 0;          // host byte order
};

// False for anything that is not a whole TCP header in an IPv4/IPv6 packet (too short, another protocol,
// a non-first fragment, IPv6 extension headers): such packets are never SYN-ACKs to the filter.
bool parse_tcp_head(const uint8_t* pkt, size_t len, TcpHead& out);

inline bool is_synack(const TcpHead& h) {
    // SYN and ACK set, RST not: a SYN-ACK. (ECE/CWR may ride along when ECN is negotiated.)
    return (h.flags & (0x02 | 0x10 | 0x04)) == (0x02 | 0x10);
}

class SynAckDropper {
public:
    static constexpr size_t kMaxFlows = 65536;

    explicit SynAckDropper(uint64_t drop_first, size_t max_flows = kMaxFlows)
        : drop_first_(drop_first), max_flows_(max_flows ? max_flows : 1) {}

    // True when `pkt` is a SYN-ACK and its connection has had fewer than N dropped: drop this one.
    bool drop(const uint8_t* pkt, size_t len);

    size_t flows() const { return flows_.size(); }
    uint64_t evicted() const { return evicted_; }

private:
    // Bytes, not a struct of fields: no padding, so == and the hash see only what was written.
    // family, src[16], dst[16], sport[2], dport[2]
    struct Key {
        uint8_t b[37];
        bool operator==(const Key& o) const { return std::memcmp(b, o.b, sizeof b) == 0; }
    };
    struct KeyHash {
        size_t operator()(const Key& k) const;
    };
    struct Flow {
        uint32_t ack;       // the client ISN + 1 this flow's SYN-ACKs acknowledge
        uint64_t dropped;   // SYN-ACKs of this connection dropped so far
    };

    uint64_t drop_first_;
    size_t max_flows_;
    std::unordered_map<Key, Flow, KeyHash> flows_;
    Ring<Key> order_;  // insertion order: the front is the oldest flow, evicted first
    uint64_t evicted_ = 0;
};

}  // namespace churn
