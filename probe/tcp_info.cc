// tcp_info.cc: decode INET_DIAG_INFO / CONG / BBRINFO; see tcp_info.h.
//
// linux/tcp.h, not netinet/tcp.h: glibc's copy of struct tcp_info stops years of fields earlier.
#include "probe/tcp_info.h"

#include <linux/inet_diag.h>
#include <linux/tcp.h>

#include <cstdio>
#include <cstring>

#include "probe/tcp_states.h"

namespace churn::probe {

// The fields we read, at the offsets every kernel since 4.x puts them. The struct only ever grows at
// the end, so these never move; the header we compile against must agree.
static_assert(offsetof(tcp_info, tcpi_rto) == 8);
static_assert(offsetof(tcp_info, tcpi_rtt) == 68 && offsetof(tcp_info, tcpi_rttvar) == 72);
static_assert(offsetof(tcp_info, tcpi_snd_cwnd) == 80);
static_assert(offsetof(tcp_info, tcpi_total_retrans) == 100);
static_assert(offsetof(tcp_info, tcpi_pacing_rate) == 104);
static_assert(offsetof(tcp_info, tcpi_delivery_rate) == 160);
static_assert(sizeof(tcp_bbr_info) == 20);

namespace {

// Was field [offset, offset + size) inside what the kernel sent?
bool present(size_t len, size_t offset, size_t size) { return offset + size <= len; }

std::string ms(uint32_t us) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", us / 1000.0);
    return b;
}

}  // namespace

std::string rate_text(uint64_t bytes_per_s) {
    double bits = static_cast<double>(bytes_per_s) * 8;
    char b[32];
    if (bits >= 1e9) std::snprintf(b, sizeof b, "%.3gGbps", bits / 1e9);
    else if (bits >= 1e6) std::snprintf(b, sizeof b, "%.3gMbps", bits / 1e6);
    else if (bits >= 1e3) std::snprintf(b, sizeof b, "%.3gkbps", bits / 1e3);
    else std::snprintf(b, sizeof b, "%.0fbps", bits);
    return b;
}

ConnInfo decode_conn(const DiagMessage& m) {
    ConnInfo c;
    c.rec = m.rec;
    if (auto a = m.attr(INET_DIAG_INFO); !a.empty()) {
        tcp_info t{};
        size_t len = std::min(a.size(), sizeof t);
        std::memcpy(&t, a.data(), len);
        c.has_info = true;
        c.ca_state = t.tcpi_ca_state;
        c.retransmits = t.tcpi_retransmits;
        c.probes = t.tcpi_probes;
        c.backoff = t.tcpi_backoff;
        c.options = t.tcpi_options;
        c.snd_wscale = t.tcpi_snd_wscale;
        c.rcv_wscale = t.tcpi_rcv_wscale;
        c.delivery_rate_app_limited = t.tcpi_delivery_rate_app_limited;
        c.rto_us = t.tcpi_rto;
        c.ato_us = t.tcpi_ato;
        c.snd_mss = t.tcpi_snd_mss;
        c.rcv_mss = t.tcpi_rcv_mss;
        c.unacked = t.tcpi_unacked;
        c.sacked = t.tcpi_sacked;
        c.lost = t.tcpi_lost;
        c.retrans = t.tcpi_retrans;
        c.last_data_sent_ms = t.tcpi_last_data_sent;
        c.last_data_recv_ms = t.tcpi_last_data_recv;
        c.last_ack_recv_ms = t.tcpi_last_ack_recv;
        c.pmtu = t.tcpi_pmtu;
        c.rcv_ssthresh = t.tcpi_rcv_ssthresh;
        c.rtt_us = t.tcpi_rtt;
        c.rttvar_us = t.tcpi_rttvar;
        c.snd_ssthresh = t.tcpi_snd_ssthresh;
        c.snd_cwnd = t.tcpi_snd_cwnd;
        c.advmss = t.tcpi_advmss;
        c.reordering = t.tcpi_reordering;
        c.rcv_rtt_us = t.tcpi_rcv_rtt;
        c.rcv_space = t.tcpi_rcv_space;
        c.total_retrans = t.tcpi_total_retrans;
        c.pacing_rate = t.tcpi_pacing_rate;
        c.max_pacing_rate = t.tcpi_max_pacing_rate;
        c.bytes_acked = t.tcpi_bytes_acked;
        c.bytes_received = t.tcpi_bytes_received;
        c.segs_out = t.tcpi_segs_out;
        c.segs_in = t.tcpi_segs_in;
        c.notsent_bytes = t.tcpi_notsent_bytes;
        c.min_rtt_us = t.tcpi_min_rtt;
        if (present(len, offsetof(tcp_info, tcpi_delivery_rate), 8)) c.delivery_rate = t.tcpi_delivery_rate;
        if (present(len, offsetof(tcp_info, tcpi_bytes_sent), 8)) c.bytes_sent = t.tcpi_bytes_sent;
        if (present(len, offsetof(tcp_info, tcpi_bytes_retrans), 8)) c.bytes_retrans = t.tcpi_bytes_retrans;
        if (present(len, offsetof(tcp_info, tcpi_snd_wnd), 4)) c.snd_wnd = t.tcpi_snd_wnd;
    }
    if (auto a = m.attr(INET_DIAG_CONG); !a.empty()) {
        // A NUL-terminated string (nla_put_string); stop at the NUL, never past the attribute.
        const char* s = reinterpret_cast<const char*>(a.data());
        c.cong.assign(s, strnlen(s, a.size()));
        // Kernel module names are short printable ASCII ("cubic", "bbr"). Anything else is a corrupt or
        // hostile reply: keep it visible but harmless, since JSON output must be valid UTF-8 (fuzzing found
        // a reply whose bytes made the JSON writer throw, losing the whole output).
        for (char& ch : c.cong)
            if (ch < 0x21 || ch > 0x7e) ch = '?';
    }
    if (auto a = m.attr(INET_DIAG_BBRINFO); a.size() >= sizeof(tcp_bbr_info)) {
        tcp_bbr_info b;
        std::memcpy(&b, a.data(), sizeof b);
        c.bbr = BbrInfo{(static_cast<uint64_t>(b.bbr_bw_hi) << 32) | b.bbr_bw_lo, b.bbr_min_rtt, b.bbr_pacing_gain,
                        b.bbr_cwnd_gain};
    }
    return c;
}

nlohmann::ordered_json conn_json(const ConnInfo& c) {
    nlohmann::ordered_json j;
    j["state"] = std::string(state_name(c.rec.state));
    j["local"] = c.rec.local();
    j["remote"] = c.rec.remote();
    j["inode"] = c.rec.inode;
    j["uid"] = c.rec.uid;
    j["recv_q"] = c.rec.rqueue;
    j["send_q"] = c.rec.wqueue;
    if (!c.cong.empty()) j["cong"] = c.cong;
    if (!c.has_info) return j;
    j["rtt_ms"] = c.rtt_us / 1000.0;
    j["rttvar_ms"] = c.rttvar_us / 1000.0;
    j["min_rtt_ms"] = c.min_rtt_us / 1000.0;
    j["rto_ms"] = c.rto_us / 1000.0;
    j["cwnd"] = c.snd_cwnd;
    j["ssthresh"] = c.ssthresh_known() ? nlohmann::ordered_json(c.snd_ssthresh) : nlohmann::ordered_json(nullptr);
    j["mss"] = c.snd_mss;
    j["pmtu"] = c.pmtu;
    j["retrans"] = c.retrans;               // segments retransmitted and not yet acked (ss: retrans:cur/total)
    j["retrans_total"] = c.total_retrans;
    j["lost"] = c.lost;
    j["unacked"] = c.unacked;
    j["snd_wnd"] = c.snd_wnd ? nlohmann::ordered_json(*c.snd_wnd) : nlohmann::ordered_json(nullptr);
    j["rcv_space"] = c.rcv_space;
    j["rcv_ssthresh"] = c.rcv_ssthresh;
    j["snd_wscale"] = c.snd_wscale;
    j["rcv_wscale"] = c.rcv_wscale;
    j["options"] = {{"ts", (c.options & TCPI_OPT_TIMESTAMPS) != 0},
                    {"sack", (c.options & TCPI_OPT_SACK) != 0},
                    {"wscale", (c.options & TCPI_OPT_WSCALE) != 0},
                    {"ecn", (c.options & TCPI_OPT_ECN) != 0}};
    j["delivery_rate_bps"] = c.delivery_rate ? nlohmann::ordered_json(*c.delivery_rate * 8) : nlohmann::ordered_json(nullptr);
    j["delivery_rate_app_limited"] = c.delivery_rate_app_limited;
    j["pacing_rate_bps"] = c.pacing_rate * 8;
    j["bytes_acked"] = c.bytes_acked;
    j["bytes_received"] = c.bytes_received;
    if (c.bytes_retrans) j["bytes_retrans"] = *c.bytes_retrans;
    j["segs_out"] = c.segs_out;
    j["segs_in"] = c.segs_in;
    j["last_data_recv_ms"] = c.last_data_recv_ms;
    j["last_ack_recv_ms"] = c.last_ack_recv_ms;
    if (c.bbr)
        j["bbr"] = {{"bw_bps", c.bbr->bw_bytes_per_s * 8}, {"min_rtt_ms", c.bbr->min_rtt_us / 1000.0},
                    {"pacing_gain", c.bbr->pacing_gain / 256.0}, {"cwnd_gain", c.bbr->cwnd_gain / 256.0}};
    return j;
}

std::string conn_text(const ConnInfo& c) {
    std::string out = std::string(state_name(c.rec.state)) + "  " + c.rec.local() + "  " + c.rec.remote() + "\n\t";
    if (!c.cong.empty()) out += c.cong + " ";
    if (!c.has_info) return out + "(no tcp_info for this state)\n";
    auto add = [&](const std::string& s) { out += s + " "; };
    std::string opts;
    if (c.options & TCPI_OPT_TIMESTAMPS) opts += " ts";
    if (c.options & TCPI_OPT_SACK) opts += " sack";
    if (c.options & TCPI_OPT_ECN) opts += " ecn";
    if (!opts.empty()) out += opts.substr(1) + " ";
    if (c.options & TCPI_OPT_WSCALE) add("wscale:" + std::to_string(c.snd_wscale) + "," + std::to_string(c.rcv_wscale));
    add("rto:" + ms(c.rto_us));
    add("rtt:" + ms(c.rtt_us) + "/" + ms(c.rttvar_us));
    add("mss:" + std::to_string(c.snd_mss));
    add("cwnd:" + std::to_string(c.snd_cwnd));
    if (c.ssthresh_known()) add("ssthresh:" + std::to_string(c.snd_ssthresh));
    add("bytes_acked:" + std::to_string(c.bytes_acked));
    add("bytes_received:" + std::to_string(c.bytes_received));
    if (c.pacing_rate) add("pacing_rate " + rate_text(c.pacing_rate));
    if (c.delivery_rate) add("delivery_rate " + rate_text(*c.delivery_rate) + (c.delivery_rate_app_limited ? " app_limited" : ""));
    if (c.retrans || c.total_retrans) add("retrans:" + std::to_string(c.retrans) + "/" + std::to_string(c.total_retrans));
    if (c.lost) add("lost:" + std::to_string(c.lost));
    if (c.snd_wnd) add("snd_wnd:" + std::to_string(*c.snd_wnd));
    add("rcv_space:" + std::to_string(c.rcv_space));
    add("minrtt:" + ms(c.min_rtt_us));
    if (c.bbr)
        add("bbr:(bw:" + rate_text(c.bbr->bw_bytes_per_s) + ",mrtt:" + ms(c.bbr->min_rtt_us) + ")");
    out.back() = '\n';
    return out;
}

}  // namespace churn::probe
