// summary.h: what `decode` prints. Totals over the flows, then JSON or a table.
//
// JSON (every time in µs, integers, rounded to the nearest µs; null where the packet was not captured):
//   { "file": {path, linktype, precision, snaplen, records, tcp_segments, duration_s},
//     "totals": {connections, handshakes, syn_without_handshake, already_open, requests, reused_requests,
//                closed_by_client, closed_by_server, resets, syn_retransmits, handshakes_per_s,
//                irtt_us {p50,p90,p99,max}, syn_synack_us {...}, syn_cookies {likely, no, unknown},
//                stalls, stall_flows, stall_ms (Nagle + delayed-ACK stalls, stall.h; --stall-ms sets the gap)},
//     "handshakes_per_second": [N0, N1, ...]   complete handshakes by the second of their SYN, counted from the
//                                              first record (a day at most)
//     "undecodable": {"truncated_record": 1, ...}, "decoded_with": {"ip_options": 2, ...},
//     "flows": [{index, client, server, client_guessed, start_us, packets, syn_us, synack_us, ack_us,
//                syn_synack_us, irtt_us, syn_retransmits, synack_retransmits, mss, wscale, sack, timestamps,
//                options {client {...}, server {...}}, cookie ("likely" | "no" | "unknown", cookie.h),
//                largest_segment {client, server}, server_mss (from its segment sizes, or null), request_us, response_us, requests, responses,
//                reused_requests, bytes {client, server}, closed_by, close, close_us, last_us,
//                stalls, stall_ms (the segment -> ACK gaps summed, 3 decimals), stall_mss {client, server} (a
//                full segment's payload: smaller is "small"), stall_mss_from ("handshake" | "largest" | "536"),
//                stall_acks [{writer, ack_us (since the capture's first record, as tshark's frame.time_relative),
//                gap_us (tshark's tcp.analysis.ack_rtt on that ACK), hold_us (minus the round trip; null: unknown),
//                after_us (ACK -> the held segment)}]}, ...] }
// Times inside a flow count from that flow's first packet; start_us from the capture's first record.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pcap/decode.h"

namespace churn::pcap {

struct Percentiles {
    size_t n = 0;
    int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;  // µs
};

struct Totals {
    uint64_t connections = 0;            // flows
    uint64_t handshakes = 0;             // SYN, SYN-ACK and the ACK all captured
    uint64_t syn_without_handshake = 0;  // a SYN, but no SYN-ACK or no ACK (refused, lost, cut by the capture end)
    uint64_t already_open = 0;           // no SYN: open before the capture began
    uint64_t requests = 0, reused_requests = 0;
    uint64_t closed_by_client = 0, closed_by_server = 0, resets = 0;
    uint64_t syn_retransmits = 0;
    uint64_t cookie_likely = 0, cookie_no = 0, cookie_unknown = 0;  // per flow, cookie.h's verdict
    uint64_t stalls = 0, stall_flows = 0;  // Nagle + delayed-ACK stalls (stall.h), flows with at least one
    int64_t stall_ns = 0;                  // their segment -> ACK gaps, summed
    double duration_s = 0;       // first to last record
    double handshakes_per_s = 0;  // handshakes / duration
    std::vector<uint32_t> timeline;  // handshakes per whole second since the first record, by SYN time
    Percentiles irtt, syn_synack;
};

Totals summarize(const Capture& cap);
// The median iRTT of the capture's handshakes in µs, or -1 without any (annotate's "round trip saved").
int64_t median_irtt_us(const Capture& cap);
// ns -> µs rounded to nearest (as tshark's 6-decimal seconds would be)
inline int64_t us(int64_t ns) { return ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000); }

// The JSON text decode --json prints (flows one per line).
std::string json_text(const Capture& cap, const Totals& t, bool with_flows = true);
// The same as a json value (tests, the fuzzer): parsed back from json_text when with_flows.
nlohmann::ordered_json to_json(const Capture& cap, const Totals& t, bool with_flows = true);
nlohmann::ordered_json to_json_with_flows(const Capture& cap, const Totals& t);
// Totals block, then one line per flow unless summary_only.
void print_table(std::FILE* out, const Capture& cap, const Totals& t, bool summary_only);

}  // namespace churn::pcap
