// synth.h: pcap files written from scratch, with answers known by construction.
//
// For the unit tests (every link type, IP options, IPv6 extension headers, a retransmitted SYN, a RST,
// files cut or corrupted byte by byte), for the fuzzer's seed corpus, and for `churn-pcap synth`, which
// writes a large churn-shaped capture when capturing one is not wanted. Real captures in tests/pcap/
// check the decoder against the kernel; these check it against arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pcap/packet.h"
#include "pcap/pcap_file.h"

namespace churn::pcap {

class PcapWriter {
public:
    explicit PcapWriter(uint32_t linktype, bool nanosecond = true, uint32_t snaplen = 262144)
        : linktype_(linktype), nano_(nanosecond), snaplen_(snaplen) {}
    // One record. wire_len 0: the frame's size. Frames longer than the snaplen are cut to it, as a capture
    // would (caplen < len).
    void add(int64_t ts_ns, std::vector<uint8_t> frame, uint32_t wire_len = 0);
    // The file: global header, then the records sorted by time (stable: equal times keep their order).
    std::vector<uint8_t> bytes() const;
    bool write(const std::string& path) const;  // false with errno set
    uint32_t linktype() const { return linktype_; }
    size_t records() const { return recs_.size(); }

private:
    struct Rec {
        int64_t ts_ns;
        uint32_t wire_len;
        std::vector<uint8_t> frame;
    };
    uint32_t linktype_;
    bool nano_;
    uint32_t snaplen_;
    std::vector<Rec> recs_;
};

// One TCP segment to build, down to the link layer.
struct SegmentSpec {
    bool v6 = false;
    std::string src = "198.18.0.1", dst = "198.18.0.2";
    uint16_t sport = 40000, dport = 8080;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = tcp_ack;
    uint32_t payload = 0;         // bytes of payload ("GET / ..." then 'x')
    TcpOptions opt;               // written when set (SYN, SYN-ACK) in Linux's order: MSS SACK TS NOP WS
    bool timestamps_option = false;  // TS on a non-SYN segment (Linux sends it on every one when negotiated)
    int ip_option_bytes = 0;      // IPv4: router alert + NOPs, a multiple of 4 up to 40
    bool ipv6_ext = false;        // IPv6: hop-by-hop and destination options headers before TCP
    bool vlan = false;            // Ethernet: one 802.1Q tag
    bool outgoing = true;         // SLL/SLL2 packet type: sent by this host (4) or to it (0)
};
std::vector<uint8_t> build_frame(uint32_t linktype, const SegmentSpec& s);

// A whole HTTP-like connection as seen from the client's host. Times follow from start_ns and rtt_ns.
struct SynthFlow {
    bool v6 = false;
    std::string client = "198.18.0.1", server = "198.18.0.2";
    uint16_t cport = 40000, sport = 8080;
    int64_t start_ns = 1'700'000'000'000'000'000;
    int64_t rtt_ns = 50'000;         // SYN -> SYN-ACK
    int64_t ack_delay_ns = 3'000;    // SYN-ACK -> the client's ACK (so iRTT = rtt + this)
    int64_t server_time_ns = 20'000;  // request -> response, beyond the round trip
    bool handshake = true;           // false: the connection was open before the capture (pooled)
    bool synack = true;              // false: no answer at all (a SYN into a void)
    int syn_retransmits = 0;         // SYN again after 1 s, 3 s, 7 s ... (then the SYN-ACK, if any)
    int requests = 1;
    uint32_t request_len = 78, response_len = 150;
    enum class Close { client, server, client_rst, none } close = Close::client;
    TcpOptions copt{1460, 7, true, true, 0, 0}, sopt{1460, 7, true, true, 0, 0};
    int ip_option_bytes = 0;
    bool ipv6_ext = false;
    bool vlan = false;
};
// Appends the flow's records; returns the time of its last packet.
int64_t synth_flow(PcapWriter& w, const SynthFlow& f);

// A churn capture: `connections` connections at `rate` per second from consecutive client ports, each
// SYN / SYN-ACK / ACK / request / ACK / response / FIN ... : about 10 packets each. `shape` gives
// everything but the port and start time (RTT, IPv6, IP options, requests per connection, ...).
void synth_churn(PcapWriter& w, uint32_t connections, double rate, const SynthFlow& shape);
inline void synth_churn(PcapWriter& w, uint32_t connections, double rate, int64_t rtt_ns) {
    SynthFlow f;
    f.rtt_ns = rtt_ns;
    synth_churn(w, connections, rate, f);
}

}  // namespace churn::pcap
