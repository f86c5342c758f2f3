// decode.h: a whole capture file through pcap_file -> packet -> flows, in one pass.
#pragma once

#include <cstdint>
#include <string>

#include "pcap/flows.h"
#include "pcap/issues.h"
#include "pcap/packet.h"
#include "pcap/pcap_file.h"

namespace churn::pcap {

struct Capture {
    std::string path;
    FileHeader header;
    uint64_t bytes = 0;         // file size
    uint64_t records = 0;       // records read (decodable or not)
    uint64_t tcp_segments = 0;  // records decoded to a TCP segment
    int64_t first_ns = -1, last_ns = -1;  // timestamps of the first and last record
    IssueCounts issues;
    FlowTable table;
};

// Who wants to see every segment with its meaning (annotate). Null for a plain decode: the hot loop then
// pays one predictable branch per packet.
struct Tap {
    virtual void on_segment(const Event& ev, const Segment& seg, const Record& rec) = 0;
    virtual ~Tap() = default;
};

// Reads every record of `file` into `out`. Never throws for bad records: they are counted in out.issues.
void decode_file(PcapFile& file, Capture& out, Tap* tap = nullptr);

}  // namespace churn::pcap
