// tcp_info.h: what `ss -tin` shows for a connection, decoded from the attributes sock_diag attaches
// when asked (idiag_ext): INET_DIAG_INFO (struct tcp_info), INET_DIAG_CONG (the congestion control's
// name) and INET_DIAG_BBRINFO (BBR's bandwidth and min_rtt estimate).
//
// struct tcp_info only grows: each kernel appends fields at the end, and the attribute's length says
// how much this kernel filled in. We copy min(attribute, our struct) and remember the length, so a
// newer kernel's longer struct and an older kernel's shorter one both decode; a field past the end is
// reported as absent, not as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "probe/sock_diag.h"

namespace churn::probe {

struct BbrInfo {
    uint64_t bw_bytes_per_s = 0;  // max-filtered delivery rate estimate
    uint32_t min_rtt_us = 0;
    uint32_t pacing_gain = 0, cwnd_gain = 0;  // << 8 (256 = 1.0)
};

struct ConnInfo {
    SockRecord rec;
    bool has_info = false;  // INET_DIAG_INFO present (not for TIME-WAIT or request socks)
    uint8_t ca_state = 0, retransmits = 0, probes = 0, backoff = 0, options = 0;
    uint8_t snd_wscale = 0, rcv_wscale = 0;
    uint32_t rto_us = 0, ato_us = 0, snd_mss = 0, rcv_mss = 0;
    uint32_t unacked = 0, sacked = 0, lost = 0, retrans = 0;
    uint32_t last_data_sent_ms = 0, last_data_recv_ms = 0, last_ack_recv_ms = 0;
    uint32_t pmtu = 0, rcv_ssthresh = 0, rtt_us = 0, rttvar_us = 0, snd_ssthresh = 0, snd_cwnd = 0;
    uint32_t advmss = 0, reordering = 0, rcv_rtt_us = 0, rcv_space = 0, total_retrans = 0;
    uint64_t pacing_rate = 0, max_pacing_rate = 0, bytes_acked = 0, bytes_received = 0;  // rates in bytes/s
    uint32_t segs_out = 0, segs_in = 0, notsent_bytes = 0, min_rtt_us = 0;
    std::optional<uint64_t> delivery_rate;  // bytes/s
    bool delivery_rate_app_limited = false;
    std::optional<uint64_t> bytes_sent, bytes_retrans;
    std::optional<uint32_t> snd_wnd;        // peer's advertised window, scaled (kernel >= 5.19)
    std::string cong;                       // "cubic", "bbr"; empty without INET_DIAG_CONG
    std::optional<BbrInfo> bbr;

    // ssthresh is "infinite" (TCP_INFINITE_SSTHRESH) until the first loss; ss then leaves it out.
    bool ssthresh_known() const { return snd_ssthresh < 0xFFFF; }
};

// Decode one socket message (the request must have asked for kExtInfo | kExtCong | kExtCcInfo).
ConnInfo decode_conn(const DiagMessage& m);

// One connection as JSON: times in ms (like ss), rates in bits/s (like ss), raw counts as they are.
nlohmann::ordered_json conn_json(const ConnInfo& c);

// Two lines like `ss -tin`: "ESTAB  198.18.0.1:40312  198.18.0.2:8080" and the indented details.
std::string conn_text(const ConnInfo& c);

// ss's rate format: 1.2Gbps, 340Mbps, 12kbps, 800bps (from bytes/s).
std::string rate_text(uint64_t bytes_per_s);

}  // namespace churn::probe
