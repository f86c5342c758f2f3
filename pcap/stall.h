// stall.h: the Nagle + delayed-ACK stall, found in a capture of anyone's traffic.
//
// Two rules on two different hosts meet on a write-write-read exchange:
//   the writer   Nagle (RFC 896, tcp_nagle_check): a segment smaller than the MSS is held while an earlier
//                one is still unacknowledged;
//   the reader   delayed ACK (RFC 1122 4.2.3.2): a lone segment is acknowledged only when there is
//                something to send back, or after a timer (TCP_DELACK_MIN = 40 ms on Linux, ~200 ms on
//                Windows). The reader waits for the rest of the message before it answers, so nothing
//                comes back: the ACK waits for the timer.
// On the wire, as three packets of one flow:
//
//     t0        writer -> reader   small segment (payload < MSS)          "stall begins"
//     t0 + gap  reader -> writer   pure ACK covering it (gap >= --stall-ms, 30 ms by default)
//     right after                  writer -> reader: its next small segment, the bytes that waited
//
// "Right after" is measured where the capture was taken: on the writer's host the segment leaves
// microseconds after the ACK arrives; captured on the reader's host it comes one round trip later. The
// handshake tells that round trip (capture point -> writer -> capture point), so the window is 1 ms plus
// twice it (jitter on a loaded host); without a handshake, 1 ms. And it must be the writer's FIRST packet
// after the ACK: a Nagle-held segment goes out as soon as the ACK is processed, before anything else.
//
// The gap is the segment -> ACK time as captured (Wireshark's tcp.analysis.ack_rtt on the ACK). The
// receiver's own hold is the gap minus the round trip between the capture point and the receiver (from
// the handshake): about 40 ms for a delayed ACK; about 0 when the gap is just a long path (Nagle then
// waited one round trip, not a held ACK: over an RTT >= 40 ms that is what dominates).
//
// Not a stall: a gap below the threshold; an ACK that carries data (the reader answered); a retransmission
// of the segment before the ACK (a loss, not a hold) or as the "next" segment; full-size segments (Nagle
// never holds them); the writer's next data long after the ACK (think time).
//
// "Small" needs the writer's MSS: the handshake's (the peer's MSS option, no more than the writer's own,
// minus 12 bytes of timestamps when both sides use them). A capture without the handshake: the largest
// segment the writer sent in the flow, kept within [536, the 1500-byte Ethernet MSS] (536: RFC 9293's
// default MSS, which any path carries; above the Ethernet MSS a "segment" is a GSO/GRO aggregate). So the
// decision is made at the end of the flow; during the pass the detector only records candidates.
// GRO/GSO aggregates (a capture before segmentation on the writer, after GRO on the reader): several
// segments in one record. Its last segment is small exactly when the aggregate is not a whole multiple of
// the full payload, and that tail is what Nagle held, so a segment "ends small" under that rule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace churn::pcap {

struct Flow;
struct Segment;
enum Side : uint8_t;

inline constexpr double default_stall_ms = 30;
inline constexpr int64_t stall_next_window_ns = 1'000'000;  // "right after": 1 ms (+ 2 x the round trip)

// One candidate: the three packets (numbered from 1 within the flow, as annotate shows them).
struct StallCandidate {
    Side writer;
    uint32_t seg_pkt, ack_pkt, next_pkt;
    uint32_t seg_len, next_len;
    int64_t seg_ns, ack_ns, next_ns;
};

// Per flow, per writer side: where the state machine stands (flows.cc calls stall_observe on every segment).
struct StallState {
    struct Writer {
        bool pending = false;    // its latest fresh data segment, not yet covered by an ACK ...
        uint32_t end = 0;        // ... its sequence end
        uint32_t pkt = 0, len = 0;
        int64_t ns = 0;
        bool held = false;       // a pure ACK covered it after >= the threshold: waiting for the next segment
        uint32_t ack_pkt = 0;
        int64_t ack_ns = 0;
    } w[2];
    bool timestamps[2] = {false, false};  // the side's data segments carry TCP timestamps (12 option bytes)
    int64_t threshold_ns = static_cast<int64_t>(default_stall_ms * 1e6);
    std::vector<StallCandidate> found;  // allocates once per candidate, never per packet
};

// `fresh`: the segment's payload ends past everything its side sent before (flows.cc's retransmission test).
void stall_observe(Flow& f, Side side, const Segment& seg, bool fresh, int64_t ts_ns);

enum class MssFrom : uint8_t { handshake, largest, fallback_536 };
const char* mss_from_name(MssFrom m);  // "handshake", "largest", "536" (the JSON values)

struct Stall {
    StallCandidate c;
    int64_t gap_ns;       // segment -> ACK as captured
    int64_t hold_ns;      // gap minus the capture point's round trip to the receiver; -1: round trip unknown
    int64_t after_ns;     // ACK -> next segment
};
struct StallFacts {
    int32_t mss[2] = {0, 0};  // full-segment payload per writer side
    MssFrom from[2] = {MssFrom::fallback_536, MssFrom::fallback_536};
    std::vector<Stall> stalls;
    int64_t total_gap_ns = 0;
};
StallFacts stall_facts(const Flow& f);

// annotate's sentence for packet `pkt` (1-based within the flow), "" when it is not part of a stall.
std::string stall_note(const Flow& f, const StallFacts& s, uint32_t pkt);
// One line for after the timeline: how many, how long, the MSS they were judged against.
std::string stall_summary(const Flow& f, const StallFacts& s);

}  // namespace churn::pcap
