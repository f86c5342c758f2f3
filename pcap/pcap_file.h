// pcap_file.h: the classic libpcap savefile format, read by hand.
//
//   global header, 24 bytes          record header, 16 bytes          captured bytes
//   +-------+-----+-----+----+----+  +------+-------+--------+-----+  +----------------------+
//   | magic | maj | min | tz | sf |  | sec  | frac  | caplen | len |  | caplen bytes of frame |  ...
//   |snaplen| linktype  |           +------+-------+--------+-----+  +----------------------+
//   +-------+-----------+
//
// Why not pcap_open_offline()? libpcap stops at the first bad record header with one error string and
// no count, hides caplen > len, and calls us back once per packet through a function pointer; the whole
// point of `decode` is to say *what* was wrong and keep going where it can, and to be faster than
// tcpdump, which uses exactly that reader. The format is small enough to read by hand, and doing so is
// the lesson: the magic number tells the byte order AND the timestamp unit, caplen is not len.
//
// The file is mmap()ed (no copy, no per-packet read(): the kernel pages it in, MADV_SEQUENTIAL asks it
// to read ahead). Pipes and other non-regular files are read whole into memory instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "pcap/bytes.h"
#include "pcap/issues.h"

namespace churn::pcap {

// Sizes the format fixes; a struct is not used to read them (padding and byte order), but the numbers
// are asserted against the layout they describe so a typo cannot go unnoticed.
inline constexpr size_t global_header_len = 24;
inline constexpr size_t record_header_len = 16;
static_assert(global_header_len == 4 + 2 + 2 + 4 + 4 + 4 + 4, "magic, version x2, thiszone, sigfigs, snaplen, linktype");
static_assert(record_header_len == 4 + 4 + 4 + 4, "ts_sec, ts_frac, caplen, len");

// libpcap's MAXIMUM_SNAPLEN: no capture it writes has a record larger than this. A caplen above it means
// the record header is garbage, and with it the position of every record after it.
inline constexpr uint32_t max_caplen = 262144;

// LINKTYPE_* values as stored in files (tcpdump.org/linktypes.html). Not the DLT_* of the capturing OS:
// DLT_RAW is 12 on Linux but 14 on OpenBSD, so files store LINKTYPE_RAW = 101 for both.
enum LinkType : uint32_t {
    linktype_ethernet = 1,    // DLT_EN10MB: veth, lo, real NICs
    linktype_raw = 101,       // DLT_RAW: TUN devices, bare IP
    linktype_linux_sll = 113,  // DLT_LINUX_SLL: the "any" pseudo-interface
    linktype_linux_sll2 = 276,  // DLT_LINUX_SLL2: "any" with the interface index
    linktype_ipv4 = 228,
    linktype_ipv6 = 229,
};
const char* linktype_name(uint32_t linktype);  // "EN10MB", "RAW", ..., "unknown"

// The input is not a pcap file we can read at all (missing, empty, pcapng, wrong magic, cut inside the
// global header). main() prints what() on one line and exits 2.
struct Unusable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct FileHeader {
    bool swapped = false;    // written on a machine of the other byte order
    bool nanosecond = false;  // magic 0xa1b23c4d: ts_frac is ns, else µs
    uint16_t version_major = 0, version_minor = 0;
    uint32_t snaplen = 0;
    uint32_t linktype = 0;  // low 16 bits of the header's field (the high bits carry FCS information)
};

struct Record {
    int64_t ts_ns;    // since the epoch, whatever the file's precision
    uint32_t caplen;  // bytes in `data`
    uint32_t len;     // bytes the frame had on the wire
    Bytes data;
};

class PcapFile {
public:
    // Opens and checks the global header. Throws Unusable.
    static PcapFile open(const std::string& path);
    // Reads from memory owned by the caller (tests, the fuzzer). Throws Unusable.
    static PcapFile from_bytes(const uint8_t* p, size_t n);

    PcapFile(PcapFile&& o) noexcept;
    PcapFile& operator=(PcapFile&&) = delete;
    PcapFile(const PcapFile&) = delete;
    ~PcapFile();

    const FileHeader& header() const { return hdr_; }
    size_t size() const { return all_.n; }

    // The next record, or false at the end of the file or where the rest of it cannot be framed.
    // What was wrong is counted in `issues` (truncated_record, corrupt_record_header, caplen_gt_len).
    bool next(Record& r, IssueCounts& issues);
    // Back to the first record (annotate reads the file twice).
    void rewind() { pos_ = global_header_len; }

private:
    PcapFile() = default;
    void parse_header();  // throws Unusable

    Bytes all_;
    size_t pos_ = global_header_len;
    FileHeader hdr_;
    void* map_ = nullptr;  // munmap()ed in the destructor when the file was mapped
    size_t map_len_ = 0;
    std::vector<uint8_t> owned_;  // a pipe's bytes
};

}  // namespace churn::pcap
