// packet.cc: link layer -> IPv4/IPv6 -> TCP, every read bounds-checked (see bytes.h, packet.h).
#include "pcap/packet.h"

#include <cstdio>
#include <cstring>

namespace churn::pcap {

namespace {

// Header sizes fixed by the standards; the parsers below index into these layouts by constant offsets.
constexpr size_t ethernet_len = 14;  // dst MAC 6, src MAC 6, EtherType 2
constexpr size_t vlan_tag_len = 4;   // TPID 2 (already read as the EtherType), TCI 2, inner EtherType 2
constexpr size_t sll_len = 16;       // pkttype 2, ARPHRD 2, addr len 2, addr 8, protocol 2
constexpr size_t sll2_len = 20;      // protocol 2, reserved 2, ifindex 4, ARPHRD 2, pkttype 1, addr len 1, addr 8
constexpr size_t ipv4_min_len = 20;
constexpr size_t ipv6_len = 40;
constexpr size_t tcp_min_len = 20;
static_assert(ethernet_len == 6 + 6 + 2 && vlan_tag_len == 2 + 2);
static_assert(sll_len == 2 + 2 + 2 + 8 + 2 && sll2_len == 2 + 2 + 4 + 2 + 1 + 1 + 8);
static_assert(ipv6_len == 4 + 2 + 1 + 1 + 16 + 16, "ver/tc/flow, payload len, next hdr, hop limit, src, dst");
static_assert(tcp_min_len == 2 + 2 + 4 + 4 + 2 + 2 + 2 + 2, "ports, seq, ack, off/flags, window, csum, urg");

constexpr uint16_t ethertype_ipv4 = 0x0800, ethertype_ipv6 = 0x86dd;
constexpr uint16_t ethertype_vlan = 0x8100, ethertype_qinq = 0x88a8, ethertype_qinq_old = 0x9100;
constexpr uint8_t ipproto_tcp = 6;

// Where the IP packet starts and which version the link layer says it is (0: let the version nibble say).
struct L3 {
    size_t off;
    int version;
};

bool link_layer(uint32_t linktype, Bytes b, L3& l3, IssueCounts& issues) {
    uint16_t type;
    switch (linktype) {
        case linktype_ethernet: {
            if (!b.has(0, ethernet_len)) return issues.add(Issue::truncated_link_header), false;
            size_t off = ethernet_len;
            type = b.be16(12);
            // 802.1Q and 802.1ad tags sit between the MACs and the real EtherType; a veth never adds one,
            // but a capture from a trunk port has them. Two at most (QinQ); more is not a frame we know.
            for (int tags = 0; type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old; ++tags) {
                if (tags == 2 || !b.has(off, vlan_tag_len)) return issues.add(Issue::truncated_link_header), false;
                type = b.be16(off + 2);
                off += vlan_tag_len;
                if (tags == 0) issues.add(Issue::vlan_tag);
            }
            l3.off = off;
            break;
        }
        case linktype_linux_sll:
            // The "any" device has no common link header, so libpcap makes one up ("cooked" capture); its
            // protocol field is an EtherType for IP, whatever the real interface was.
            if (!b.has(0, sll_len)) return issues.add(Issue::truncated_link_header), false;
            type = b.be16(14);
            l3.off = sll_len;
            break;
        case linktype_linux_sll2:
            // SLL2 moved the protocol to the front and added the interface index.
            if (!b.has(0, sll2_len)) return issues.add(Issue::truncated_link_header), false;
            type = b.be16(0);
            l3.off = sll2_len;
            break;
        case linktype_raw:
            // TUN: the frame IS the IP packet; the version nibble says which.
            l3 = {0, 0};
            return true;
        case linktype_ipv4: l3 = {0, 4}; return true;
        case linktype_ipv6: l3 = {0, 6}; return true;
        default: return issues.add(Issue::unknown_link_type), false;
    }
    if (type == ethertype_ipv4) l3.version = 4;
    else if (type == ethertype_ipv6) l3.version = 6;
    else return issues.add(Issue::non_ip), false;  // ARP, LLDP, an 802.3 length field (< 0x0600), ...
    return true;
}

// IPv4 (RFC 791). On success: seg addresses set, tcp_off/tcp_len = where TCP starts and its on-wire length.
bool ipv4(Bytes b, size_t wire, Segment& seg, size_t& tcp_off, size_t& tcp_len, IssueCounts& issues) {
    if (!b.has(0, ipv4_min_len)) return issues.add(Issue::truncated_ip_header), false;
    uint8_t vihl = b.u8(0);
    if (vihl >> 4 != 4) return issues.add(Issue::bad_ip_header), false;
    size_t ihl = (vihl & 0x0f) * 4u;
    if (ihl < ipv4_min_len) return issues.add(Issue::bad_ip_header), false;
    if (!b.has(0, ihl)) return issues.add(Issue::truncated_ip_header), false;
    size_t total = b.be16(2);
    // Total length 0: a TSO/GSO super-packet captured before segmentation may exceed 64 KiB (BIG TCP) and
    // the kernel then leaves the field 0. The frame's on-wire length is the only length left.
    if (total == 0) total = wire;
    if (total < ihl || total > wire) return issues.add(Issue::bad_ip_header), false;
    // MF set or a non-zero offset: a fragment. Only the first carries the TCP header, and TCP avoids
    // fragmentation (DF + path MTU), so we count these rather than reassemble them.
    uint16_t frag = b.be16(6);
    if ((frag & 0x2000) || (frag & 0x1fff)) return issues.add(Issue::ip_fragment), false;
    if (b.u8(9) != ipproto_tcp) return issues.add(Issue::non_tcp), false;
    if (ihl > ipv4_min_len) issues.add(Issue::ip_options);  // record route, timestamps, router alert: skipped
    seg.v6 = false;
    std::memset(seg.src, 0, sizeof seg.src);
    std::memset(seg.dst, 0, sizeof seg.dst);
    std::memcpy(seg.src, b.p + 12, 4);
    std::memcpy(seg.dst, b.p + 16, 4);
    tcp_off = ihl;
    tcp_len = total - ihl;
    return true;
}

// IPv6 (RFC 8200): the fixed header, then a chain of extension headers until TCP (next header 6).
bool ipv6(Bytes b, size_t wire, Segment& seg, size_t& tcp_off, size_t& tcp_len, IssueCounts& issues) {
    if (!b.has(0, ipv6_len)) return issues.add(Issue::truncated_ip_header), false;
    if (b.u8(0) >> 4 != 6) return issues.add(Issue::bad_ip_header), false;
    size_t total = ipv6_len + b.be16(4);
    // Payload length 0: a jumbogram (RFC 2675) or a BIG TCP GSO packet; the frame's length is all we have.
    if (total == ipv6_len) total = wire;
    if (total > wire) return issues.add(Issue::bad_ip_header), false;
    uint8_t next = b.u8(6);
    size_t off = ipv6_len;
    // Bounded: a crafted chain of 8-byte headers could otherwise loop through a whole 64 KiB packet.
    for (int hops = 0; next != ipproto_tcp; ++hops) {
        if (hops == 16) return issues.add(Issue::bad_ip_header), false;
        size_t len;
        switch (next) {
            case 0:    // hop-by-hop options
            case 43:   // routing
            case 60:   // destination options
            case 135:  // mobility
                // All share one shape: next header, length in 8-byte units not counting the first 8.
                if (!b.has(off, 2)) return issues.add(Issue::truncated_ip_header), false;
                len = (b.u8(off + 1) + 1u) * 8;
                break;
            case 44:  // fragment: fixed 8 bytes; offset != 0 or M set means TCP is not (all) here
                if (!b.has(off, 8)) return issues.add(Issue::truncated_ip_header), false;
                if (b.be16(off + 2) & 0xfff9) return issues.add(Issue::ip_fragment), false;  // offset<<3 | M
                len = 8;
                break;
            case 51:  // AH counts in 4-byte units, minus 2 (RFC 4302)
                if (!b.has(off, 2)) return issues.add(Issue::truncated_ip_header), false;
                len = (b.u8(off + 1) + 2u) * 4;
                break;
            default:  // ESP (50, encrypted), no next header (59), UDP, ICMPv6, ...: not TCP we can read
                return issues.add(Issue::non_tcp), false;
        }
        if (off + len > total) return issues.add(Issue::bad_ip_header), false;
        if (!b.has(off, len)) return issues.add(Issue::truncated_ip_header), false;
        next = b.u8(off);
        off += len;
        if (hops == 0) issues.add(Issue::ipv6_ext_headers);
    }
    seg.v6 = true;
    std::memcpy(seg.src, b.p + 8, 16);
    std::memcpy(seg.dst, b.p + 24, 16);
    tcp_off = off;
    tcp_len = total - off;
    return true;
}

// TCP options (RFC 9293 3.1, RFC 7323, RFC 2018): kind, length, value; EOL ends, NOP pads.
void tcp_options(Bytes o, TcpOptions& opt, IssueCounts& issues) {
    size_t i = 0;
    while (i < o.n) {
        uint8_t kind = o.u8(i);
        if (kind == 0) break;           // end of option list
        if (kind == 1) { ++i; continue; }  // NOP
        // Every other kind has a length byte that counts kind and length themselves; a length < 2 would
        // loop forever, one past the header would read the payload as options.
        if (!o.has(i, 2) || o.u8(i + 1) < 2 || !o.has(i, o.u8(i + 1))) {
            issues.add(Issue::bad_tcp_option);
            return;
        }
        uint8_t len = o.u8(i + 1);
        if (kind == 2 && len == 4) opt.mss = o.be16(i + 2);
        else if (kind == 3 && len == 3) opt.wscale = o.u8(i + 2);
        else if (kind == 4 && len == 2) opt.sack_ok = true;
        else if (kind == 8 && len == 10) {
            opt.timestamps = true;
            opt.tsval = o.be32(i + 2);
            opt.tsecr = o.be32(i + 6);
        }
        i += len;  // SACK blocks (5), MD5 (19), TFO (34), MPTCP (30), ...: skipped by their length
    }
}

}  // namespace

bool decode_packet(uint32_t linktype, const Record& r, Segment& seg, IssueCounts& issues) {
    L3 l3{};
    if (!link_layer(linktype, r.data, l3, issues)) return false;
    Bytes ip = r.data.from(l3.off);
    // On-wire bytes left for IP once the link header is gone: the upper bound for any IP length field.
    size_t wire = r.len > l3.off ? r.len - l3.off : 0;
    int version = l3.version;
    if (version == 0) {
        if (!ip.has(0, 1)) return issues.add(Issue::truncated_ip_header), false;
        version = ip.u8(0) >> 4;
        if (version != 4 && version != 6) return issues.add(Issue::non_ip), false;
    }
    size_t tcp_off = 0, tcp_len = 0;
    if (!(version == 4 ? ipv4(ip, wire, seg, tcp_off, tcp_len, issues) : ipv6(ip, wire, seg, tcp_off, tcp_len, issues)))
        return false;

    if (tcp_len < tcp_min_len) return issues.add(Issue::bad_tcp_header), false;
    if (!ip.has(tcp_off, tcp_min_len)) return issues.add(Issue::truncated_tcp_header), false;
    Bytes tcp = ip.from(tcp_off);
    size_t doff = (tcp.u8(12) >> 4) * 4u;
    if (doff < tcp_min_len || doff > tcp_len) return issues.add(Issue::bad_tcp_header), false;
    // Options cut by a small snaplen: the MSS of a SYN would be silently missing, so refuse the segment.
    if (!tcp.has(0, doff)) return issues.add(Issue::truncated_tcp_header), false;
    seg.sport = tcp.be16(0);
    seg.dport = tcp.be16(2);
    seg.seq = tcp.be32(4);
    seg.ack = tcp.be32(8);
    seg.flags = tcp.u8(13);
    seg.window = tcp.be16(14);
    seg.payload = static_cast<uint32_t>(tcp_len - doff);
    seg.opt = TcpOptions{};
    if (doff > tcp_min_len) tcp_options(Bytes{tcp.p + tcp_min_len, doff - tcp_min_len}, seg.opt, issues);
    if (r.caplen < r.len) issues.add(Issue::snaplen_cut);
    return true;
}

const char* flags_name(uint8_t f, char* buf, unsigned len) {
    static const char* names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    // People say SYN-ACK and FIN-ACK: SYN/FIN/RST first, then the rest in bit order.
    static const int order[8] = {1, 0, 2, 3, 4, 5, 6, 7};
    size_t used = 0;
    buf[0] = '\0';
    for (int k : order) {
        if (!(f & (1u << k))) continue;
        int w = std::snprintf(buf + used, len - used, "%s%s", used ? "-" : "", names[k]);
        if (w < 0 || static_cast<size_t>(w) >= len - used) break;
        used += static_cast<size_t>(w);
    }
    if (!used) std::snprintf(buf, len, "none");
    return buf;
}

}  // namespace churn::pcap
