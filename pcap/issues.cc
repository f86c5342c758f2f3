// issues.cc: the names of the issue counters, as they appear in JSON and in the table.
#include "pcap/issues.h"

namespace churn::pcap {

const char* issue_name(Issue i) {
    switch (i) {
        case Issue::truncated_record_header: return "truncated_record_header";
        case Issue::truncated_record: return "truncated_record";
        case Issue::corrupt_record_header: return "corrupt_record_header";
        case Issue::unknown_link_type: return "unknown_link_type";
        case Issue::truncated_link_header: return "truncated_link_header";
        case Issue::non_ip: return "non_ip";
        case Issue::non_tcp: return "non_tcp";
        case Issue::truncated_ip_header: return "truncated_ip_header";
        case Issue::bad_ip_header: return "bad_ip_header";
        case Issue::ip_fragment: return "ip_fragment";
        case Issue::truncated_tcp_header: return "truncated_tcp_header";
        case Issue::bad_tcp_header: return "bad_tcp_header";
        case Issue::caplen_gt_len: return "caplen_gt_len";
        case Issue::snaplen_cut: return "snaplen_cut";
        case Issue::ip_options: return "ip_options";
        case Issue::ipv6_ext_headers: return "ipv6_ext_headers";
        case Issue::vlan_tag: return "vlan_tag";
        case Issue::bad_tcp_option: return "bad_tcp_option";
        case Issue::count_: break;
    }
    return "?";
}

}  // namespace churn::pcap
