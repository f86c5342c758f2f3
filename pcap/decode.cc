// decode.cc: the one loop over the records.
#include "pcap/decode.h"

namespace churn::pcap {

void decode_file(PcapFile& file, Capture& out, Tap* tap) {
    out.header = file.header();
    out.bytes = file.size();
    out.table.reserve(file.size() / 800 + 16);
    Record rec;
    Segment seg;
    uint32_t linktype = file.header().linktype;
    while (file.next(rec, out.issues)) {
        ++out.records;
        if (out.first_ns < 0) out.first_ns = rec.ts_ns;
        out.last_ns = rec.ts_ns;
        if (!decode_packet(linktype, rec, seg, out.issues)) continue;
        ++out.tcp_segments;
        Event ev = out.table.observe(seg, rec.ts_ns);
        if (tap) tap->on_segment(ev, seg, rec);
    }
}

}  // namespace churn::pcap
