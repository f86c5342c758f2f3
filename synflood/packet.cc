#include "synflood/packet.h"

#include <cstring>

namespace churn::synflood {

namespace {

// Big-endian stores, byte by byte: no alignment assumption about buf, no htons on a misaligned pointer.
void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, static_cast<uint16_t>(v >> 16));
    put16(p + 2, static_cast<uint16_t>(v));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t(get16(p)) << 16 | get16(p + 2); }

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpSyn = 0x02;

// Option kinds (IANA "TCP Option Kind Numbers").
constexpr uint8_t kOptNop = 1, kOptMss = 2, kOptWscale = 3, kOptSackPerm = 4, kOptTimestamps = 8;

size_t options_len(SynOptions o) {
    switch (o) {
        case SynOptions::Mss: return 4;
        case SynOptions::None: return 0;
        case SynOptions::Linux: return 20;
    }
    return 0;
}

}  // namespace

const char* syn_options_name(SynOptions o) {
    switch (o) {
        case SynOptions::Mss: return "mss";
        case SynOptions::None: return "none";
        case SynOptions::Linux: return "linux";
    }
    return "?";
}

bool parse_syn_options(const std::string& text, SynOptions& out) {
    for (SynOptions o : {SynOptions::Mss, SynOptions::None, SynOptions::Linux})
        if (text == syn_options_name(o)) {
            out = o;
            return true;
        }
    return false;
}

uint32_t ones_sum(const uint8_t* data, size_t len, uint32_t initial) {
    // RFC 1071 §4.1: add 16-bit words into a wider accumulator, then fold the carries back in (end-around
    // carry). 64 bits cannot overflow for any length a packet has; a SYN is at most 30 words.
    uint64_t sum = initial;
    size_t i = 0;
    for (; i + 1 < len; i += 2) sum += get16(data + i);
    if (i < len) sum += uint32_t(data[i]) << 8;  // odd length: the last byte is the high half of a word
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint32_t>(sum);
}

uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t initial) {
    return static_cast<uint16_t>(~ones_sum(data, len, initial));
}

uint16_t ipv4_checksum(const uint8_t* ip_header, size_t ihl_bytes) { return internet_checksum(ip_header, ihl_bytes); }

uint16_t tcp_checksum(uint32_t src, uint32_t dst, const uint8_t* segment, size_t tcp_len) {
    // The pseudo-header (RFC 9293 §3.1): source, destination, a zero byte, the protocol, the TCP length.
    uint8_t pseudo[12];
    put32(pseudo, src);
    put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = kProtoTcp;
    put16(pseudo + 10, static_cast<uint16_t>(tcp_len));
    return internet_checksum(segment, tcp_len, ones_sum(pseudo, sizeof pseudo));
}

size_t build_syn(const SynSpec& s, uint8_t* buf, size_t cap) {
    const size_t opt_len = options_len(s.options);
    const size_t tcp_len = kTcpHeaderLen + opt_len;
    const size_t total = kIpHeaderLen + tcp_len;
    if (cap < total) return 0;
    std::memset(buf, 0, total);

    uint8_t* ip = buf;
    ip[0] = 0x45;                                  // version 4, IHL 5 words: no IP options
    put16(ip + 2, static_cast<uint16_t>(total));
    put16(ip + 4, s.ip_id);
    put16(ip + 6, 0x4000);                         // DF, as Linux sets on TCP (path MTU discovery)
    ip[8] = s.ttl;
    ip[9] = kProtoTcp;
    put32(ip + 12, s.src);
    put32(ip + 16, s.dst);
    // Computed with the field at zero, then stored: the header then sums to 0xffff, as a receiver checks.
    put16(ip + 10, ipv4_checksum(ip, kIpHeaderLen));

    uint8_t* tcp = buf + kIpHeaderLen;
    put16(tcp, s.sport);
    put16(tcp + 2, s.dport);
    put32(tcp + 4, s.isn);
    // ack 0: a SYN acknowledges nothing (the ACK flag is off, so the field is ignored; zero is what stacks send).
    tcp[12] = static_cast<uint8_t>((tcp_len / 4) << 4);  // data offset in 32-bit words
    tcp[13] = kTcpSyn;
    put16(tcp + 14, s.window);
    uint8_t* o = tcp + kTcpHeaderLen;
    switch (s.options) {
        case SynOptions::None: break;
        case SynOptions::Mss:
            o[0] = kOptMss, o[1] = 4, put16(o + 2, s.mss);
            break;
        case SynOptions::Linux:
            // Linux's order (tcp_options_write): MSS, then SACK-permitted and timestamps packed together in
            // 12 bytes, then NOP + wscale: every option stays 4-byte aligned with a single NOP of padding.
            o[0] = kOptMss, o[1] = 4, put16(o + 2, s.mss);
            o[4] = kOptSackPerm, o[5] = 2;
            o[6] = kOptTimestamps, o[7] = 10, put32(o + 8, s.tsval);  // TSecr (o + 12) stays 0 in a SYN
            o[16] = kOptNop;
            o[17] = kOptWscale, o[18] = 3, o[19] = s.wscale;
            break;
    }
    put16(tcp + 16, tcp_checksum(s.src, s.dst, tcp, tcp_len));
    return total;
}

bool checksums_ok(const uint8_t* pkt, size_t len) {
    if (len < kIpHeaderLen || (pkt[0] >> 4) != 4) return false;
    size_t ihl = size_t(pkt[0] & 0x0f) * 4;
    size_t total = get16(pkt + 2);
    if (ihl < kIpHeaderLen || total > len || total < ihl + kTcpHeaderLen || pkt[9] != kProtoTcp) return false;
    // Summed with the checksum fields in place, a correct header or segment gives 0xffff (~ = 0).
    return ipv4_checksum(pkt, ihl) == 0 && tcp_checksum(get32(pkt + 12), get32(pkt + 16), pkt + ihl, total - ihl) == 0;
}

}  // namespace churn::synflood
