// issues.h: what the decoder met in a capture that it could not decode, or decoded despite a quirk.
//
// Bad input is counted, never fatal (only "this is not a pcap file at all" is): one truncated record or
// one ICMP packet must not hide the 200 000 handshakes around it. The counters are a fixed array indexed
// by enum, not a map keyed by string, because the hot loop bumps one per odd packet.
#pragma once

#include <array>
#include <cstdint>

namespace churn::pcap {

enum class Issue : uint8_t {
    // ---- undecodable: the packet (or the rest of the file) was skipped ----
    truncated_record_header,  // the file ends inside a 16-byte record header
    truncated_record,         // the file ends inside a record's captured bytes
    corrupt_record_header,    // caplen beyond any sane snaplen: the framing is lost, the rest is unreadable
    unknown_link_type,        // a link-layer header type the decoder does not know (every record counted)
    truncated_link_header,    // caplen shorter than the Ethernet / SLL / SLL2 header
    non_ip,                   // ARP, LLDP, ...: an EtherType that is neither IPv4 nor IPv6
    non_tcp,                  // IPv4/IPv6 carrying UDP, ICMP, ...
    truncated_ip_header,      // caplen ends inside the IPv4/IPv6 header or an IPv6 extension header
    bad_ip_header,            // version/IHL/length fields that contradict each other
    ip_fragment,              // a fragment: the TCP header is in the first one only, reassembly is not ours
    truncated_tcp_header,     // caplen ends inside the TCP header (options included)
    bad_tcp_header,           // data offset < 5 words, or beyond the IP payload
    // ---- decoded, with a note: the packet counts, the quirk is reported ----
    caplen_gt_len,            // record header claims more captured than on-wire bytes: wire length taken = caplen
    snaplen_cut,              // caplen < len: payload bytes missing, lengths come from the IP header
    ip_options,               // IPv4 IHL > 5: options skipped
    ipv6_ext_headers,         // IPv6 extension headers walked to reach TCP
    vlan_tag,                 // 802.1Q / 802.1ad tag(s) skipped
    bad_tcp_option,           // an option whose length runs past the header: options after it ignored
    count_
};

inline constexpr int issue_count = static_cast<int>(Issue::count_);
// Issues before this one made the packet undecodable; the rest are notes on decoded packets.
inline constexpr Issue first_note = Issue::caplen_gt_len;

const char* issue_name(Issue i);
inline bool is_undecodable(Issue i) { return static_cast<int>(i) < static_cast<int>(first_note); }

struct IssueCounts {
    std::array<uint64_t, issue_count> n{};
    void add(Issue i) { ++n[static_cast<int>(i)]; }
    uint64_t operator[](Issue i) const { return n[static_cast<int>(i)]; }
};

}  // namespace churn::pcap
