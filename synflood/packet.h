// packet.h: one TCP SYN as the wire carries it, IPv4 header first, built into a caller's buffer.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------+-------+---------------+-------------------------------+
//   |Ver=4  |IHL=5  |    TOS = 0    |         Total Length          |   IPv4, 20 bytes, no options
//   |       Identification          |Flags=DF|   Fragment Offset=0  |
//   |   TTL = 64    | Protocol = 6  |   Header Checksum (ours)      |
//   |                  Source Address (spoofed)                     |
//   |                  Destination Address                          |
//   +---------------------------------------------------------------+
//   |        Source Port            |       Destination Port        |   TCP, 20 bytes + options
//   |                    Sequence Number (ISN)                      |
//   |                    Acknowledgment Number = 0                  |
//   | Offset|  Res  |  Flags = SYN  |            Window             |
//   |    Checksum (ours, over the pseudo-header too)|  Urgent = 0   |
//   |                    Options (MSS; or the Linux set)            |
//   +---------------------------------------------------------------+
//
// Both checksums are the Internet checksum of RFC 1071: the one's complement of the one's-complement sum
// of 16-bit big-endian words. The TCP one also covers a 12-byte pseudo-header (source, destination, zero,
// protocol 6, TCP length) that is never sent: so a packet whose addresses were rewritten (NAT, a spoofer
// that forgot) fails the check at the receiver, which counts it in TcpInCsumErrors and drops it silently.
//
// Who fills in what, on the way out of a raw IPPROTO_RAW socket (raw(7), measured here on 6.18): the kernel
// rewrites the IPv4 header checksum and total length every time, and the IP id and source only when they
// are 0. A SYN built with a wrong IP checksum still leaves correct (tried: 0x1234 went out fixed). The TCP
// checksum is nobody's but ours: the kernel never looks inside the payload of a raw socket. We compute
// the IP one anyway: the builder is then complete (the same bytes are valid on an AF_PACKET socket or in a
// pcap, where nothing fixes them), and the unit tests hold it to captured packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace churn::synflood {

// The TCP options a SYN carries.
//   Mss:   MSS 1460 only (4 bytes). No timestamps, so a cookie answer drops wscale and SACK.
//   None:  no options at all; the server assumes MSS 536 (RFC 9293 §3.7.1).
//   Linux: MSS, SACK-permitted, timestamps, NOP, window scale: the 20 bytes, in that order, of a Linux SYN.
enum class SynOptions { Mss, None, Linux };
const char* syn_options_name(SynOptions o);
bool parse_syn_options(const std::string& text, SynOptions& out);

// Everything that varies from one SYN to the next. Addresses and ports in host byte order: the builder
// does every htons/htonl, in one place.
struct SynSpec {
    uint32_t src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
    uint32_t isn = 0;
    uint16_t ip_id = 0;
    uint8_t ttl = 64;
    uint16_t window = 64240;      // what Linux puts in a SYN for MSS 1460 (44 * 1460)
    SynOptions options = SynOptions::Mss;
    uint16_t mss = 1460;
    uint8_t wscale = 7;           // Linux only
    uint32_t tsval = 0;           // Linux only
};

constexpr size_t kIpHeaderLen = 20;
constexpr size_t kTcpHeaderLen = 20;
constexpr size_t kMaxSynLen = kIpHeaderLen + kTcpHeaderLen + 20;  // the Linux option set is the longest

// RFC 1071's sum, folded to 16 bits but not complemented, over `len` bytes (an odd last byte is padded with
// a zero on the right), starting from `initial` (a partial sum: how the pseudo-header is chained in).
uint32_t ones_sum(const uint8_t* data, size_t len, uint32_t initial = 0);
// The checksum field's value, host byte order: ~sum. Store it big-endian.
uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t initial = 0);

// The IPv4 header checksum over `ihl_bytes` of header (the checksum field itself must be zero, or hold its
// value: then the result is 0 for a correct header, which is how a receiver checks it).
uint16_t ipv4_checksum(const uint8_t* ip_header, size_t ihl_bytes);
// The TCP checksum over the pseudo-header (addresses in host byte order) and `tcp_len` bytes of segment.
uint16_t tcp_checksum(uint32_t src, uint32_t dst, const uint8_t* segment, size_t tcp_len);

// Writes the SYN (IPv4 + TCP, both checksums filled in) to buf; returns its length, or 0 when cap is too
// small. Deterministic: the same spec gives the same bytes.
size_t build_syn(const SynSpec& spec, uint8_t* buf, size_t cap);

// For tests and for the flood's own self-check before it sends anything: both checksums of an IPv4+TCP
// packet verify (header and segment sum to 0xffff).
bool checksums_ok(const uint8_t* pkt, size_t len);

}  // namespace churn::synflood
