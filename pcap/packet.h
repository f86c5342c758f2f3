// packet.h: one captured frame -> one TCP segment, or the reason it is not one.
//
//   link header          IP header (+ options / extension headers)      TCP header (+ options)  payload
//   Ethernet 14 (+4/tag) IPv4 20..60, IPv6 40 + ext headers             20..60                  ...
//   SLL 16, SLL2 20
//   RAW 0
//
// The only lengths trusted for the payload are the IP header's: a frame may be cut by the snaplen (caplen <
// len: the payload bytes are missing but the segment still had them on the wire) or padded (Ethernet pads
// a 54-byte ACK to its 60-byte minimum: caplen > IP length, and those 6 zero bytes are not TCP payload).
// Counting caplen - headers as payload would turn every padded ACK into a 6-byte "request".
#pragma once

#include <cstdint>

#include "pcap/issues.h"
#include "pcap/pcap_file.h"

namespace churn::pcap {

// TCP header flag bits (RFC 9293 3.1), byte 13 of the header.
enum TcpFlag : uint8_t {
    tcp_fin = 0x01,
    tcp_syn = 0x02,
    tcp_rst = 0x04,
    tcp_psh = 0x08,
    tcp_ack = 0x10,
    tcp_urg = 0x20,
    tcp_ece = 0x40,
    tcp_cwr = 0x80,
};

// What a SYN or SYN-ACK offers. -1: the option was absent.
struct TcpOptions {
    int32_t mss = -1;    // kind 2: the largest segment this side wants to RECEIVE
    int16_t wscale = -1;  // kind 3: shift count for this side's advertised windows (RFC 7323)
    bool sack_ok = false;  // kind 4: SACK-permitted
    bool timestamps = false;  // kind 8: TSval/TSecr present
    uint32_t tsval = 0, tsecr = 0;
};

struct Segment {
    bool v6 = false;
    uint8_t src[16], dst[16];  // IPv4 uses the first 4 bytes
    uint16_t sport = 0, dport = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t window = 0;
    uint32_t payload = 0;  // TCP payload bytes the segment had on the wire (from the IP lengths)
    TcpOptions opt;
};

// Decodes r.data for the file's link type into `seg`. Returns false (and counts why in `issues`) when the
// frame is not a decodable TCP segment; notes on decodable ones (IP options, snaplen cut) are counted too.
bool decode_packet(uint32_t linktype, const Record& r, Segment& seg, IssueCounts& issues);

// "SYN", "SYN-ACK", "FIN-ACK", "PSH-ACK", "RST" ...: flags the way people say them.
const char* flags_name(uint8_t flags, char* buf, unsigned len);

}  // namespace churn::pcap
