// stall.cc: the Nagle + delayed-ACK stall detector; see stall.h for what it looks for and why.
#include "pcap/stall.h"

#include <algorithm>
#include <cstdio>

#include "pcap/flows.h"
#include "pcap/summary.h"

namespace churn::pcap {

namespace {

constexpr int32_t default_mss = 536;     // RFC 9293 3.7.1: the MSS when the SYN has none; any path carries it
constexpr int32_t ethernet_mss4 = 1460;  // 1500 - 20 (IPv4) - 20 (TCP)
constexpr int32_t ethernet_mss6 = 1440;  // 1500 - 40 (IPv6) - 20
constexpr int32_t ts_option_bytes = 12;  // NOP, NOP, kind 8 len 10: on every segment once both sides agreed
// Under this, the gap was the path, not the receiver's timer: a delayed ACK waits >= 40 ms on Linux
// (TCP_DELACK_MIN), ~200 ms on Windows, and never less than ~10 ms anywhere (HZ=100 rounds 40 ms to 1 tick).
constexpr int64_t held_min_ns = 10'000'000;

bool seq_after_eq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) >= 0; }

Side peer_of(Side s) { return s == client ? server : client; }

// The round trip between the capture point and `host`, from the handshake: the client's SYN passes the
// capture point, goes to the server and its SYN-ACK comes back past it (SYN -> SYN-ACK: the server's side
// of the capture point); the client's ACK answers the SYN-ACK (SYN-ACK -> ACK: the client's side). A
// capture on the client's veth sees ~0 for the client and the whole RTT for the server. -1: not captured.
int64_t round_trip_to(const Flow& f, Side host) {
    if (host == server) {
        if (!f.syns || !f.synacks || f.synack_ns < f.mru_syn_ns) return -1;
        return f.synack_ns - f.mru_syn_ns;
    }
    if (!f.handshake() || f.ack_ns < f.synack_ns) return -1;
    return f.ack_ns - f.synack_ns;
}

// "Right after" the ACK, for the writer's next segment: 1 ms, plus twice the round trip from the capture
// point to the writer (the ACK must travel there and the segment back; twice, for a loaded host's jitter).
int64_t next_window_ns(const Flow& f, Side writer) {
    int64_t rt = round_trip_to(f, writer);
    return stall_next_window_ns + (rt > 0 ? 2 * rt : 0);
}

// The payload of a full segment from `writer`: what a segment smaller than this is, Nagle holds.
int32_t full_payload(const Flow& f, Side writer, MssFrom& from) {
    if (f.opt_seen[client] && f.opt_seen[server]) {
        from = MssFrom::handshake;
        // A side announces the MSS it will RECEIVE; the writer sends no more than its peer's, and the
        // kernel also caps it by the writer's own (tcp_sync_mss: the same route MTU). 536 for a missing one.
        // Timestamps, once both SYNs offered them, take 12 bytes of every segment (Linux's mss_cache).
        int32_t peer = f.opt[peer_of(writer)].mss >= 0 ? f.opt[peer_of(writer)].mss : default_mss;
        int32_t own = f.opt[writer].mss >= 0 ? f.opt[writer].mss : peer;
        bool ts = f.opt[client].timestamps && f.opt[server].timestamps;
        return std::min(peer, own) - (ts ? ts_option_bytes : 0);
    }
    int32_t opt = f.stall.timestamps[writer] ? ts_option_bytes : 0;
    int32_t cap = (f.key.v6 ? ethernet_mss6 : ethernet_mss4) - opt;
    int32_t largest = static_cast<int32_t>(std::min<uint32_t>(f.cookie.largest[writer], 1u << 30));
    if (largest > default_mss - opt) {
        from = MssFrom::largest;
        return std::min(largest, cap);
    }
    from = MssFrom::fallback_536;
    return default_mss - opt;
}

// The segment (or GSO/GRO aggregate) ends in a piece smaller than a full segment. An aggregate's size is
// trusted only against an MSS from the handshake; a guessed MSS makes every aggregate look ragged.
bool ends_small(uint32_t len, int32_t full, MssFrom from) {
    if (full <= 0 || len == 0) return false;
    if (len < static_cast<uint32_t>(full)) return true;
    return from == MssFrom::handshake && len % static_cast<uint32_t>(full) != 0;
}

const char* who(Side s) { return s == client ? "client" : "server"; }

double ms(int64_t ns) { return ns / 1e6; }

}  // namespace

const char* mss_from_name(MssFrom m) {
    switch (m) {
        case MssFrom::handshake: return "handshake";
        case MssFrom::largest: return "largest";
        default: return "536";
    }
}

void stall_observe(Flow& f, Side side, const Segment& seg, bool fresh, int64_t ts_ns) {
    StallState& st = f.stall;
    if (seg.flags & (tcp_syn | tcp_rst)) {
        st.w[0] = st.w[1] = StallState::Writer{};  // a new or a torn-down connection: nothing held across it
        return;
    }
    if (seg.payload && seg.opt.timestamps) st.timestamps[side] = true;

    // ---- this side as the writer ----
    StallState::Writer& me = st.w[side];
    if (me.held) {
        // The first packet from the writer after the held ACK decides: the bytes that waited, at once.
        me.held = false;
        if (fresh && seg.payload && seg.seq == me.end && ts_ns - me.ack_ns <= next_window_ns(f, side))
            st.found.push_back({side, me.pkt, me.ack_pkt, f.packets, me.len, seg.payload, me.ns, me.ack_ns, ts_ns});
    }
    if (seg.payload) {
        if (fresh) {
            me.pending = true;  // the latest data: the one a held ACK would be holding back
            me.end = seg.seq + seg.payload;
            me.pkt = f.packets;
            me.len = seg.payload;
            me.ns = ts_ns;
        } else {
            me.pending = false;  // a retransmission: whatever the ACK does next is about a loss, not a hold
        }
    }

    // ---- this side as the reader, acknowledging the other ----
    StallState::Writer& other = st.w[peer_of(side)];
    if (seg.payload) other.held = false;  // the reader answered: the writer's next segment may be a reply to it
    if (!other.pending || !(seg.flags & tcp_ack) || !seq_after_eq(seg.ack, other.end)) return;
    other.pending = false;
    // Only a pure ACK (no data, no FIN) was held by the delayed-ACK timer: an answer carries its own ACK.
    if (seg.payload || (seg.flags & tcp_fin) || ts_ns - other.ns < st.threshold_ns) return;
    other.held = true;
    other.ack_pkt = f.packets;
    other.ack_ns = ts_ns;
}

StallFacts stall_facts(const Flow& f) {
    StallFacts s;
    for (Side w : {client, server}) s.mss[w] = full_payload(f, w, s.from[w]);
    for (const StallCandidate& c : f.stall.found) {
        // Nagle holds only a small segment behind a small one: full-size data is sent whatever is in flight.
        if (!ends_small(c.seg_len, s.mss[c.writer], s.from[c.writer]) ||
            !ends_small(c.next_len, s.mss[c.writer], s.from[c.writer]))
            continue;
        Stall x{c, c.ack_ns - c.seg_ns, -1, c.next_ns - c.ack_ns};
        int64_t rt = round_trip_to(f, peer_of(c.writer));
        if (rt >= 0) x.hold_ns = std::max<int64_t>(0, x.gap_ns - rt);
        s.total_gap_ns += x.gap_ns;
        s.stalls.push_back(x);
    }
    return s;
}

std::string stall_note(const Flow& /*f*/, const StallFacts& s, uint32_t pkt) {
    std::string out;
    char b[480];
    for (size_t i = 0; i < s.stalls.size(); ++i) {
        const Stall& x = s.stalls[i];
        const StallCandidate& c = x.c;
        const char *w = who(c.writer), *r = who(peer_of(c.writer));
        int n = 0;
        if (pkt == c.seg_pkt) {
            n = std::snprintf(b, sizeof b, "stall %zu begins: a small segment (%u B, a full one is %d B: MSS from the "
                              "%s); no answer from the %s, so nothing carries its ACK back, and the %s's next small "
                              "segment waits for that ACK (Nagle)", i + 1, c.seg_len, s.mss[c.writer],
                              s.from[c.writer] == MssFrom::handshake ? "handshake"
                              : s.from[c.writer] == MssFrom::largest ? "largest segment seen, no handshake captured"
                                                                     : "default 536, no handshake captured",
                              r, w);
        } else if (pkt == c.ack_pkt && x.hold_ns >= held_min_ns) {
            n = std::snprintf(b, sizeof b, "Nagle + delayed ACK (stall %zu): the ACK was held %.1f ms (the receiver's "
                              "delayed ACK, >= 40 ms on Linux), and the %s's next small segment waited for it (Nagle); "
                              "%.1f ms after the segment, %.2f ms of that the round trip to the %s",
                              i + 1, ms(x.hold_ns), w, ms(x.gap_ns), ms(x.gap_ns - x.hold_ns), r);
        } else if (pkt == c.ack_pkt && x.hold_ns >= 0) {
            n = std::snprintf(b, sizeof b, "Nagle + round trip (stall %zu): the ACK came %.1f ms after the segment, "
                              "%.1f ms of that the path's round trip, so the %s did not hold it; the %s's next small "
                              "segment waited for it all the same (Nagle)", i + 1, ms(x.gap_ns),
                              ms(x.gap_ns - x.hold_ns), r, w);
        } else if (pkt == c.ack_pkt) {
            n = std::snprintf(b, sizeof b, "Nagle + delayed ACK (stall %zu): the ACK came %.1f ms after the segment "
                              "(a delayed ACK is held >= 40 ms on Linux; this includes the round trip, which no "
                              "handshake here measures), and the %s's next small segment waited for it (Nagle)",
                              i + 1, ms(x.gap_ns), w);
        } else if (pkt == c.next_pkt) {
            n = std::snprintf(b, sizeof b, "the bytes Nagle held (stall %zu): sent %lld µs after that ACK; they waited "
                              "%.1f ms behind the first segment", i + 1, (long long)us(x.after_ns),
                              ms(c.next_ns - c.seg_ns));
        }
        if (n > 0) out += (out.empty() ? "" : "; ") + std::string(b);
    }
    return out;
}

std::string stall_summary(const Flow& f, const StallFacts& s) {
    char b[400];
    if (s.stalls.empty()) {
        std::snprintf(b, sizeof b, "no stall (none of: a small segment, its pure ACK >= %.0f ms later, the next small "
                      "segment right after that ACK)", ms(f.stall.threshold_ns));
        return b;
    }
    std::vector<int64_t> gaps;
    for (const Stall& x : s.stalls) gaps.push_back(x.gap_ns);
    std::sort(gaps.begin(), gaps.end());
    Side w = s.stalls.front().c.writer;
    std::snprintf(b, sizeof b, "%zu stall%s, %.1f ms in all (segment -> ACK: median %.1f ms, max "
                  "%.1f); small = under %d B for the %s (MSS from the %s). Fixes: TCP_NODELAY or one write per message "
                  "on the writer, TCP_QUICKACK on the reader", s.stalls.size(), s.stalls.size() == 1 ? "" : "s",
                  ms(s.total_gap_ns), ms(gaps[gaps.size() / 2]), ms(gaps.back()), s.mss[w], who(w),
                  s.from[w] == MssFrom::handshake ? "handshake" : s.from[w] == MssFrom::largest ? "largest segment" : "default, 536");
    return b;
}

}  // namespace churn::pcap
