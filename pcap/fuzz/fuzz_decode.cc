// fuzz_decode.cc: libFuzzer target for `make fuzz`. Arbitrary bytes as a pcap file, through everything
// `decode` and `annotate` do: the reader, every link type (the fuzzer mutates the header's link-type
// field too), IP, TCP options, the flow table, totals, JSON, the table, and flow 0's annotation.
// The only acceptable outcomes are a result or Unusable; ASan/UBSan turn anything else into a crash.
#include <cstdio>
#include <string>

#include "pcap/annotate.h"
#include "pcap/decode.h"
#include "pcap/summary.h"

using namespace churn::pcap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        PcapFile f = PcapFile::from_bytes(data, size);
        Capture cap;
        cap.path = "fuzz";
        decode_file(f, cap);
        Totals t = summarize(cap);
        std::string json = to_json(cap, t).dump();
        static std::FILE* null = std::fopen("/dev/null", "w");
        print_table(null, cap, t, false);
        f.rewind();
        std::string out;
        AnnotateOptions opt;
        opt.limit = 0;
        annotate(f, "fuzz", opt, out);
    } catch (const Unusable&) {
        // Not a pcap file: the one error decode reports and exits 2 on.
    }
    return 0;
}
