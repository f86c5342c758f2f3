// annotate.h: one flow's packets as a timeline a person can read, each packet explained.
//
//        µs  dir    flags       len  what it means
//         0  C->S   SYN           0  SYN: the client asks to connect, offering MSS 1460, wscale 7, SACK, timestamps
//        57  S->C   SYN-ACK       0  SYN-ACK after 57 µs: ... one round trip paid before any data
//   ...
// For a connection that was already open when the capture began (a pooled connection), it says so and
// writes out the round trip each request saved: the median iRTT of the capture's other flows. A Nagle +
// delayed-ACK stall (stall.h) is named on its three packets: the small segment, the held ACK (how long it
// was held), the segment that waited for it.
#pragma once

#include <cstdint>
#include <string>

#include "pcap/pcap_file.h"
#include "pcap/stall.h"

namespace churn::pcap {

struct AnnotateOptions {
    uint32_t flow = 0;     // Wireshark's tcp.stream number
    uint32_t limit = 60;   // packets shown at most (0: all); the rest is summarized in one line
    // The round trip a reused connection saves, measured elsewhere (--irtt-from another capture: its median
    // iRTT over `reference_handshakes`). Used when this capture has no handshake of its own; -1: none.
    int64_t reference_irtt_us = -1;
    uint64_t reference_handshakes = 0;
    std::string reference_name;
    double stall_ms = default_stall_ms;  // segment -> pure ACK gap from which a Nagle stall counts (stall.h)
};

// Appends the timeline of flow opt.flow to `out`. Returns false, with a one-line reason in `out`, when
// the capture has no such flow. `path` is only printed.
bool annotate(PcapFile& file, const std::string& path, const AnnotateOptions& opt, std::string& out);

}  // namespace churn::pcap
