// test_pcap_util.h: decoding helpers shared by the test_pcap_*.cc files.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pcap/annotate.h"
#include "pcap/decode.h"
#include "pcap/summary.h"
#include "pcap/synth.h"

namespace churn::test {

using namespace churn::pcap;

// The real captures in tests/pcap/ (see tests/pcap/make-captures.sh). The unit tests run from the
// repository root (tests/run.sh, make unit); say so plainly when they do not.
inline std::string pcap_fixture(const std::string& name) {
    std::string p = "tests/pcap/" + name;
    struct stat st;
    INFO("tests/pcap/" << name << " not found: run the unit tests from the repository root");
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return p;
}

inline Capture decode_path(const std::string& path) {
    PcapFile f = PcapFile::open(path);
    Capture cap;
    cap.path = path;
    decode_file(f, cap);
    return cap;
}

inline Capture decode_bytes(const std::vector<uint8_t>& b) {
    PcapFile f = PcapFile::from_bytes(b.data(), b.size());
    Capture cap;
    cap.path = "memory";
    decode_file(f, cap);
    return cap;
}

inline const Flow& flow(const Capture& cap, size_t i) {
    REQUIRE(cap.table.flows().size() > i);
    return cap.table.flows()[i];
}

// Annotate flow N, every packet shown.
inline AnnotateOptions all_of_flow(uint32_t n) {
    AnnotateOptions o;
    o.flow = n;
    o.limit = 0;
    return o;
}

inline std::string annotate_bytes(const std::vector<uint8_t>& b, uint32_t flow_no) {
    PcapFile f = PcapFile::from_bytes(b.data(), b.size());
    std::string out;
    AnnotateOptions opt;
    opt.flow = flow_no;
    opt.limit = 0;
    annotate(f, "memory", opt, out);
    return out;
}

// Little-endian u32 written into a file image at `off` (the writer produces little-endian files).
inline void poke32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Offset of record `n`'s header in a file image (records are framed by caplen).
inline size_t record_offset(const std::vector<uint8_t>& b, size_t n) {
    size_t off = global_header_len;
    for (size_t i = 0; i < n; ++i) {
        uint32_t cap = b[off + 8] | b[off + 9] << 8 | b[off + 10] << 16 | static_cast<uint32_t>(b[off + 11]) << 24;
        off += record_header_len + cap;
    }
    return off;
}

// The same capture as DLT_RAW (what tcpdump writes on a TUN device): every Ethernet header cut off.
inline std::vector<uint8_t> ethernet_to_raw(const std::vector<uint8_t>& in) {
    REQUIRE(in.size() >= global_header_len);
    std::vector<uint8_t> out(in.begin(), in.begin() + global_header_len);
    poke32(out, 20, linktype_raw);
    auto le32 = [&](size_t off) {
        return in[off] | in[off + 1] << 8 | in[off + 2] << 16 | static_cast<uint32_t>(in[off + 3]) << 24;
    };
    for (size_t off = global_header_len; off + record_header_len <= in.size();) {
        uint32_t cap = le32(off + 8), len = le32(off + 12);
        REQUIRE(cap >= 14);
        size_t at = out.size();
        out.insert(out.end(), in.begin() + off, in.begin() + off + record_header_len);
        poke32(out, at + 8, cap - 14);
        poke32(out, at + 12, len - 14);
        out.insert(out.end(), in.begin() + off + record_header_len + 14, in.begin() + off + record_header_len + cap);
        off += record_header_len + cap;
    }
    return out;
}

}  // namespace churn::test
