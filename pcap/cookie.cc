// cookie.cc: the clues a SYN cookie leaves, and the verdict; see cookie.h.
#include "pcap/cookie.h"

#include <algorithm>
#include <cstdio>

#include "pcap/flows.h"
#include "pcap/summary.h"

namespace churn::pcap {

namespace {

constexpr int ts_option_bytes = 12;  // NOP, NOP, kind 8 len 10: on every segment once both sides agreed
// syncookies.c: TSBITS 6; the wscale nibble, then SACK and ECN.
constexpr uint32_t ts_bits_mask = 0x3f, ts_wscale_none = 0xf, ts_sack = 1u << 4, ts_ecn = 1u << 5;
constexpr int max_wscale = 14;  // TCP_MAX_WSCALE: the kernel clamps a larger shift before encoding it
// The SYN-ACK's TSval vs the server's next one: a 1 kHz clock (Linux since 4.13) read through the
// capture's clock gives +-1 ms; a cookie's rounding lags 0-63 ms. Beyond this gap, drift and other clock
// rates make the comparison meaningless.
constexpr int64_t lag_max_gap_us = 10'000'000;
// A listener resends an unanswered SYN-ACK after 1 s (TCP_TIMEOUT_INIT), from its request sock; half a
// second more for a slow host. A cookie answer has no request sock, so it is never sent again.
constexpr int64_t synack_rto_slack_ns = 1'500'000'000;

bool both_timestamps(const Flow& f) { return f.opt[client].timestamps && f.opt[server].timestamps; }

// The MSS the handshake lets the server send: the SYN's (536 when it has none, RFC 9293 3.7.1), and no
// more than the server's own SYN-ACK MSS, which comes from the same route MTU it sends over.
int32_t allowed_mss(const Flow& f) {
    int32_t syn = f.opt[client].mss >= 0 ? f.opt[client].mss : 536;
    return f.opt[server].mss >= 0 ? std::min(syn, f.opt[server].mss) : syn;
}

// Payload sizes a full segment would have under each candidate MSS: msstab's four, then `allowed`.
const int32_t* table(const Flow& f) { return f.key.v6 ? msstab6 : msstab; }

void size_candidates(const Flow& f, int32_t out[kSizeCandidates]) {
    int32_t opt = both_timestamps(f) ? ts_option_bytes : 0;
    for (int k = 0; k < 4; ++k) out[k] = table(f)[k] - opt;
    out[4] = allowed_mss(f) - opt;
}

std::string ts_options_str(int bits) {
    std::string s = (bits & 0xf) == ts_wscale_none ? "no wscale" : "wscale " + std::to_string(bits & 0xf);
    s += bits & ts_sack ? ", SACK" : ", no SACK";
    s += bits & ts_ecn ? ", ECN" : ", no ECN";
    return s;
}

bool in_msstab(const Flow& f, int32_t mss) { return std::find(table(f), table(f) + 4, mss) != table(f) + 4; }

std::string msstab_str(const Flow& f) {
    std::string s;
    for (int k = 0; k < 4; ++k) s += (k ? "/" : "") + std::to_string(table(f)[k]);
    return s;
}

}  // namespace

const char* cookie_name(Cookie c) {
    switch (c) {
        case Cookie::likely: return "likely";
        case Cookie::no: return "no";
        default: return "unknown";
    }
}

void cookie_observe(Flow& f, Side side, const Segment& seg, int64_t ts_ns) {
    CookieClues& k = f.cookie;
    if ((seg.flags & (tcp_syn | tcp_ack)) == tcp_syn) {
        if (!k.syn_flags) k.syn_flags = seg.flags;
        k.synack_since_syn = false;
        return;
    }
    if (seg.flags & tcp_syn) {  // SYN-ACK
        if (!k.synack_flags) k.synack_flags = seg.flags;
        // A second SYN-ACK with no SYN between: the server's own retransmit timer, so it kept a request
        // sock. A cookie answer keeps nothing and answers only SYNs.
        if (k.synack_since_syn && f.syns) ++k.synack_unprompted;
        k.synack_since_syn = true;
        k.last_synack_ns = ts_ns;
        return;
    }
    if (side == client && f.synacks) k.client_after_synack = true;
    if (side == server && f.synacks && k.next_ts_ns < 0 && seg.opt.timestamps) {
        k.next_ts_ns = ts_ns;
        k.next_tsval = seg.opt.tsval;
    }
    if (!seg.payload) return;
    k.largest[side] = std::max(k.largest[side], seg.payload);
    if (side != server || !f.opt_seen[client] || !f.opt_seen[server]) return;
    ++k.server_data;
    // A capture before segmentation (TSO/GSO on the sender) or after GRO (receiver) holds aggregates of
    // several full segments, each a whole multiple of the real size: 7300 = 5 x 1460. So count, per
    // candidate size, the payloads that are whole multiples of it; the tail of a write is not.
    int32_t cand[kSizeCandidates];
    size_candidates(f, cand);
    for (int i = 0; i < kSizeCandidates; ++i)
        if (cand[i] > 0 && seg.payload >= static_cast<uint32_t>(cand[i]) && seg.payload % cand[i] == 0) ++k.multiples[i];
}

CookieFacts cookie_facts(const Flow& f, int64_t capture_end_ns) {
    CookieFacts c;
    const CookieClues& k = f.cookie;
    c.synack_unprompted = k.synack_unprompted;
    c.handshake = f.opt_seen[client] && f.opt_seen[server];
    if (!c.handshake) return c;
    const TcpOptions &syn = f.opt[client], &sa = f.opt[server];
    c.syn_ws_sack = syn.wscale >= 0 || syn.sack_ok;
    c.synack_ws_sack = sa.wscale >= 0 || sa.sack_ok;
    c.timestamps = both_timestamps(f);
    if (c.timestamps) {
        // What the server would have packed: the options it accepted, as its SYN-ACK answered them.
        c.ts_bits = static_cast<int>(sa.tsval & ts_bits_mask);
        c.ts_expected = static_cast<int>((sa.wscale >= 0 && syn.wscale >= 0 ? std::min<int>(syn.wscale, max_wscale) : ts_wscale_none) |
                                         (sa.sack_ok ? ts_sack : 0) | (k.synack_flags & tcp_ece ? ts_ecn : 0));
        if (k.next_ts_ns >= 0 && k.next_ts_ns - f.synack_ns <= lag_max_gap_us * 1000) {
            c.lag_gap_us = us(k.next_ts_ns - f.synack_ns);
            c.lag_ticks = static_cast<int32_t>(k.next_tsval - sa.tsval);  // modulo 2^32, like the TCP clock
            c.lag_ms = c.lag_ticks - (c.lag_gap_us + 500) / 1000;
            c.lag_known = c.lag_ms >= -3 && c.lag_ms <= 67;  // else not a 1 kHz clock: no comparison
        }
    }
    c.allowed = allowed_mss(f);
    c.opt_bytes = c.timestamps ? ts_option_bytes : 0;
    int32_t cand[kSizeCandidates];
    size_candidates(f, cand);
    int best = -1;
    for (int i = 0; i < kSizeCandidates; ++i)
        if (k.multiples[i] && (best < 0 || k.multiples[i] > k.multiples[best] ||
                               (k.multiples[i] == k.multiples[best] && cand[i] > cand[best])))
            best = i;
    if (best >= 0) c.server_mss = cand[best] + c.opt_bytes;
    c.mss_capped = c.server_mss > 0 && c.server_mss < c.allowed && in_msstab(f, c.server_mss);
    c.aggregates = k.largest[server] > static_cast<uint32_t>(std::max(0, c.allowed - c.opt_bytes));

    // The verdict: clues for and against; "likely" only with some for and none against.
    bool pro = false, con = false;
    if (!c.timestamps && c.syn_ws_sack) (c.synack_ws_sack ? con : pro) = true;
    if (c.timestamps) {
        // The lag decides when it can be measured: matching bits happen by chance to 1 ordinary SYN-ACK in
        // 64 (seen in tests/pcap/churn_ipv6.pcap), and the default per-host offset scrambles a cookie's.
        if (c.lag_known && c.lag_ms >= 3) pro = true;
        else if (c.lag_known && c.lag_ms <= 1) con = true;
        else if (c.ts_bits == c.ts_expected) pro = true;
    }
    if (c.mss_capped) pro = true;
    else if (c.server_mss > 0 && c.server_mss == c.allowed && !in_msstab(f, c.allowed)) con = true;
    if (c.synack_unprompted) con = true;
    // No ACK, no RST, no data from the client after the SYN-ACK (a spoofed source, or the SYN-ACK lost),
    // and yet the server never resent it, though the capture went on long enough to see that.
    if (!k.client_after_synack && !k.synack_unprompted && k.last_synack_ns >= 0 && capture_end_ns >= 0 &&
        capture_end_ns - k.last_synack_ns >= synack_rto_slack_ns) {
        c.quiet_ms = (capture_end_ns - k.last_synack_ns) / 1'000'000;
        pro = true;
    }
    c.verdict = pro && !con ? Cookie::likely : con && !pro ? Cookie::no : Cookie::unknown;
    return c;
}

std::string cookie_synack_note(const Flow& f, const CookieFacts& c) {
    if (!c.handshake) return "";
    if (!c.timestamps) {
        if (!c.syn_ws_sack || c.synack_ws_sack) return "";
        return std::string("SYN-ACK without wscale/SACK though the SYN offered them (and ") +
               (f.opt[client].timestamps ? "the SYN-ACK has" : "had") +
               " no timestamps): what a SYN cookie answer looks like (tcp_syncookies); no window scaling, so the "
               "window stays <= 64 KB on this connection";
    }
    std::string s = "TSval low 6 bits " + std::to_string(c.ts_bits) + " (" + ts_options_str(c.ts_bits) + ")";
    if (c.ts_bits == c.ts_expected)
        return s + " match the SYN's options as the server took them: how a SYN cookie carries them (1 chance in "
                   "64 for an ordinary SYN-ACK)";
    return s + " do not match the SYN's options as the server took them (" + std::to_string(c.ts_expected) + ": " +
           ts_options_str(c.ts_expected) + "): no cookie, or the server's per-host-pair timestamp offset "
           "(tcp_timestamps=1, the default) hides them";
}

std::vector<std::string> cookie_details(const Flow& f, const CookieFacts& c) {
    std::vector<std::string> out;
    if (!c.handshake) {
        out.push_back("no SYN and SYN-ACK pair in this capture to judge");
        return out;
    }
    char b[400];
    std::string note = cookie_synack_note(f, c);
    if (!note.empty()) out.push_back(note);
    else if (!c.timestamps && !c.syn_ws_sack) out.push_back("the SYN offered neither wscale nor SACK: its options say nothing either way");
    else if (!c.timestamps) out.push_back("the SYN-ACK answered the SYN's wscale/SACK without timestamps: a cookie could not have");
    if (c.timestamps && c.lag_known) {
        std::snprintf(b, sizeof b, "the server's next TSval, %.1f ms after the SYN-ACK, is %lld higher: the SYN-ACK's "
                      "TSval %s %lld ms behind the server's clock%s", c.lag_gap_us / 1e3, (long long)c.lag_ticks,
                      c.lag_ms >= 3 ? "ran" : "was", (long long)c.lag_ms,
                      c.lag_ms >= 3 ? ": a cookie's TSval is the clock rounded down to a multiple of 64 ms"
                      : c.lag_ms <= 1 ? ": no cookie rounding (a cookie lags 0-63 ms; 0-1 in 1 of 32)" : " (too close to call)");
        out.push_back(b);
    } else if (c.timestamps) {
        out.push_back("no later server timestamp on a 1 kHz clock to compare the SYN-ACK's TSval with");
    }
    std::string mss = "MSS: SYN " + (f.opt[client].mss >= 0 ? std::to_string(f.opt[client].mss) : "none (536)") +
                      ", SYN-ACK " + (f.opt[server].mss >= 0 ? std::to_string(f.opt[server].mss) : "none");
    std::snprintf(b, sizeof b, "; largest data segment captured: client %u B, server %u B%s", f.cookie.largest[client],
                  f.cookie.largest[server],
                  c.aggregates ? " (more than one MSS: a GSO/TSO or GRO aggregate, cut into segments after the capture point)" : "");
    out.push_back(mss + b);
    if (c.server_mss > 0) {
        std::string seg = "server segments <= " + std::to_string(c.server_mss) + " B";
        if (c.opt_bytes) seg += " (" + std::to_string(c.server_mss - c.opt_bytes) + " B of data + 12 B of timestamps)";
        if (c.mss_capped)
            seg += " although the SYN allowed " + std::to_string(c.allowed) + ": a cookie's MSS table (msstab " + msstab_str(f) + ")";
        else if (c.server_mss == c.allowed)
            seg += in_msstab(f, c.allowed) ? ": what the SYN allows, itself a msstab value, so no clue either way"
                                        : ": what the SYN allows (" + std::to_string(c.allowed) + "), not rounded down: no cookie";
        else
            seg += ", below the " + std::to_string(c.allowed) + " the SYN allows (a path MTU, or the server's own limit)";
        out.push_back(seg);
    } else if (f.cookie.server_data) {
        out.push_back("the server's segment size: not told by these segments (none a whole multiple of a candidate MSS)");
    }
    if (c.synack_unprompted)
        out.push_back("the server retransmitted its SYN-ACK without a new SYN: it kept a request sock, so no cookie");
    if (c.quiet_ms >= 0) {
        std::snprintf(b, sizeof b, "no answer from the client, and the server never sent its SYN-ACK again in the %.1f s "
                      "the capture went on: a cookie answer keeps nothing to resend (a request sock resends after 1 s, "
                      "unless tcp_synack_retries is 0)", c.quiet_ms / 1e3);
        out.push_back(b);
    }
    return out;
}

}  // namespace churn::pcap
