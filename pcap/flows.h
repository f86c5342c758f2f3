// flows.h: TCP segments -> connections. Who is the client, when the handshake happened and what it
// negotiated, how many requests rode on the connection, and who closed it first.
//
// A flow is one connection, not one 4-tuple: after a connection closes, the same ports may carry the next
// one (tcp_tw_reuse, or a server's TIME-WAIT accepting a new SYN). As in Wireshark, a SYN with a new
// initial sequence number on a known 4-tuple starts a new flow, and flows are numbered in the order of
// their first packet, so flow N here is tcp.stream == N in Wireshark for the same file.
//
// Hot path: one hash lookup per segment in an unordered_map keyed by the 4-tuple (both directions map to
// the same key), flows in a vector. Nothing is allocated per packet; only a new flow allocates (and a Nagle
// stall candidate, stall.h).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "pcap/cookie.h"
#include "pcap/packet.h"
#include "pcap/stall.h"

namespace churn::pcap {

// The 4-tuple with its two endpoints in a canonical order (the smaller address/port first), so that a
// segment and its reply find the same flow.
struct FlowKey {
    uint8_t addr[2][16];
    uint16_t port[2];
    uint8_t v6;
    uint8_t pad_[3];  // zeroed: the key is hashed and compared as raw bytes
    bool operator==(const FlowKey& o) const;
};
static_assert(sizeof(FlowKey) == 40, "hashed as five 64-bit words");

struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const;
};

// Sides are named after roles, not key order: 0 = client (sent the SYN), 1 = server.
enum Side : uint8_t { client = 0, server = 1 };

struct Flow {
    FlowKey key;
    uint8_t client_end = 0;       // which key endpoint (0/1) is the client
    bool client_guessed = false;  // no SYN or SYN-ACK seen: the client is the side with the higher port
    uint32_t index = 0;           // Wireshark's tcp.stream for the same file
    int64_t first_ns = 0, last_ns = 0;
    int64_t syn_ns = -1;      // the first SYN
    int64_t mru_syn_ns = -1;  // the most recent SYN: a retransmitted SYN restarts the iRTT clock (Wireshark)
    int64_t synack_ns = -1;   // the first SYN-ACK
    int64_t ack_ns = -1;      // the first pure ACK after a SYN: the third packet of the handshake
    int64_t irtt_ns = -1;     // ack_ns - mru_syn_ns, Wireshark's tcp.analysis.initial_rtt
    int64_t request_ns = -1, response_ns = -1;  // first payload byte from the client / from the server
    int64_t close_ns = -1;    // the first FIN or RST
    uint32_t packets = 0, syns = 0, synacks = 0;
    uint32_t requests = 0, responses = 0;
    uint64_t bytes[2] = {0, 0};  // payload bytes per side, retransmissions excluded
    uint32_t isn[2] = {0, 0};
    uint32_t next_seq[2] = {0, 0};
    bool seq_known[2] = {false, false};
    bool server_spoke = false;  // the server sent data since the client's last request started
    bool fin[2] = {false, false};
    bool last_ack_seen = false;
    int8_t closed_by = -1;  // Side that sent the first FIN or RST
    bool reset = false;     // ... and it was a RST
    bool opt_seen[2] = {false, false};
    TcpOptions opt[2];      // from the client's SYN and the server's SYN-ACK
    CookieClues cookie;     // segment sizes and timestamps a SYN-cookie verdict needs (cookie.h)
    StallState stall;       // the Nagle + delayed-ACK detector's state and candidates (stall.h)

    bool handshake() const { return syns && synacks && irtt_ns >= 0; }
    // Requests that did not pay for a handshake of their own: all but the first on a connection whose SYN
    // we saw, all of them on a connection that was already open when the capture began.
    uint32_t reused_requests() const { return syns ? (requests > 1 ? requests - 1 : 0) : requests; }
};

// What one segment meant for its flow; annotate turns this into a sentence, decode ignores it.
enum class Data : uint8_t { none, request, request_more, response, response_more, retransmission };
struct Event {
    uint32_t flow;
    Side side;
    Data data = Data::none;
    uint32_t n = 0;  // request / response number, from 1
    bool syn = false, syn_again = false, synack = false, synack_again = false;
    bool completes_handshake = false;  // the iRTT ACK
    bool fin_first = false, fin_second = false, fin_again = false, rst = false;
    bool last_ack = false;  // the first closer ACKs the other side's FIN: TIME-WAIT starts now
};

class FlowTable {
public:
    // Room for `flows` connections without a rehash in the middle of a capture (decode_file sizes it from
    // the file: a churn connection is ~10 packets, ~800 bytes of capture).
    void reserve(size_t flows);
    // The segment -> pure ACK gap from which a Nagle + delayed-ACK stall counts (stall.h); before the first
    // observe(): every flow keeps the value it was created with.
    void set_stall_threshold_ns(int64_t ns) { stall_threshold_ns_ = ns; }
    int64_t stall_threshold_ns() const { return stall_threshold_ns_; }
    // Accounts one decoded segment captured at ts_ns; returns what it meant.
    Event observe(const Segment& seg, int64_t ts_ns);
    const std::vector<Flow>& flows() const { return flows_; }

private:
    uint32_t new_flow(const FlowKey& key, const Segment& seg, bool src_is_end0, int64_t ts_ns);
    std::unordered_map<FlowKey, uint32_t, FlowKeyHash> by_tuple_;  // 4-tuple -> its latest flow
    std::vector<Flow> flows_;
    int64_t stall_threshold_ns_ = static_cast<int64_t>(default_stall_ms * 1e6);
};

// "198.18.0.1:40312" or "[2001:2::1]:40312" for one endpoint of a key.
std::string endpoint_str(const FlowKey& k, int end);
inline int end_of(const Flow& f, Side s) { return s == client ? f.client_end : 1 - f.client_end; }

}  // namespace churn::pcap
