// cookie.h: does this handshake look like a SYN-cookie answer (net/ipv4/syncookies.c)?
//
// A listener that answers with a cookie keeps no state for the SYN: everything it needs later is packed
// into the SYN-ACK's sequence number (the MSS, as an index into msstab) and, when both sides use TCP
// timestamps, into the low 6 bits of the SYN-ACK's TSval (wscale, SACK, ECN). What that leaves on the wire:
//
//   no timestamps   the SYN-ACK carries neither wscale nor SACK, whatever the SYN offered (no room to
//                   remember them): window <= 64 KB, no SACK for the whole connection
//   timestamps      TSval = the server's ms clock rounded DOWN to a multiple of 64, options in bits 0-5
//                   (bits 0-3 the client's wscale, 0xf = none; bit 4 SACK; bit 5 ECN). On the wire the
//                   server adds its per-host-pair offset (tcp_timestamps=1, the default), which hides the
//                   bits, but not the rounding: the SYN-ACK's TSval lags the server's clock by 0-63 ms
//   MSS             rounded down to msstab {536, 1300, 1440, 1460}: a SYN's 1400 becomes 1300, and the
//                   server's segments stop there
//   SYN-ACK         never retransmitted (nothing to retransmit from): only a new SYN gets a new one
//
// None of these alone proves a cookie (a server may have wscale and SACK turned off), hence "likely".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace churn::pcap {

struct Flow;
struct Segment;
enum Side : uint8_t;

// msstab[] of net/ipv4/syncookies.c and of net/ipv6/syncookies.c (1280, 1480, 1500, 9000 minus 60)
inline constexpr int32_t msstab[4] = {536, 1300, 1440, 1460};
inline constexpr int32_t msstab6[4] = {1220, 1420, 1440, 8940};
inline constexpr int kSizeCandidates = 5;  // the four msstab values and the MSS the handshake allowed

// What the flow table notes per segment for the verdict (flows.cc calls cookie_observe).
struct CookieClues {
    uint8_t syn_flags = 0;              // the first SYN's flags (ECE|CWR: it asks for ECN)
    uint8_t synack_flags = 0;           // the first SYN-ACK's (ECE: the server agreed to ECN)
    bool synack_since_syn = false;      // a SYN-ACK came after the most recent SYN ...
    uint16_t synack_unprompted = 0;     // ... and another one without a new SYN: the server retransmits
    int64_t last_synack_ns = -1;
    bool client_after_synack = false;   // the client sent anything but a SYN after the first SYN-ACK
    uint32_t largest[2] = {0, 0};       // largest payload per side, as captured (may be a GSO/GRO aggregate)
    uint32_t server_data = 0;           // server segments with payload
    uint32_t multiples[kSizeCandidates] = {};  // server payloads that are whole multiples of candidate k
    int64_t next_ts_ns = -1;            // the server's first timestamped segment after its SYN-ACK
    uint32_t next_tsval = 0;
};

void cookie_observe(Flow& f, Side side, const Segment& seg, int64_t ts_ns);

enum class Cookie : uint8_t { unknown, likely, no };
const char* cookie_name(Cookie c);  // "unknown", "likely", "no" (the JSON values)

struct CookieFacts {
    Cookie verdict = Cookie::unknown;
    bool handshake = false;       // SYN and SYN-ACK both captured
    bool timestamps = false;      // SYN-ACK carries timestamps (the SYN did too: a server only echoes)
    bool syn_ws_sack = false;     // the SYN offered wscale or SACK
    bool synack_ws_sack = false;  // the SYN-ACK answered with wscale or SACK
    int ts_bits = -1, ts_expected = -1;  // SYN-ACK TSval & 63; what the SYN's options encode to
    bool lag_known = false;
    int64_t lag_ms = 0;           // how far the SYN-ACK's TSval runs behind the server's later TSval
    int64_t lag_gap_us = 0, lag_ticks = 0;  // ... from: capture time between them, TSval difference
    int32_t allowed = -1;         // the MSS the handshake allows the server: min(SYN MSS, SYN-ACK MSS)
    int32_t opt_bytes = 0;        // TCP option bytes on every data segment (12 with timestamps)
    int32_t server_mss = -1;      // inferred from the server's segment sizes (payload + opt_bytes)
    bool mss_capped = false;      // server_mss is a msstab value below `allowed`
    bool aggregates = false;      // the capture saw segments larger than the MSS (GSO/TSO/GRO)
    uint16_t synack_unprompted = 0;
    int64_t quiet_ms = -1;        // an unanswered SYN-ACK never sent again for this long, to the capture's end
};

// capture_end_ns: the capture's last record; without it (-1) an unanswered SYN-ACK is no clue.
CookieFacts cookie_facts(const Flow& f, int64_t capture_end_ns = -1);
// Sentences for `annotate`: on the SYN-ACK's row (what its options say) and after the timeline (the rest).
std::string cookie_synack_note(const Flow& f, const CookieFacts& c);
std::vector<std::string> cookie_details(const Flow& f, const CookieFacts& c);

}  // namespace churn::pcap
