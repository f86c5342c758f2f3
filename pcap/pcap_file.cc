// pcap_file.cc: the savefile reader. See pcap_file.h for the layout and why it is hand-written.
#include "pcap/pcap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "loop/sys.h"

namespace churn::pcap {

namespace {

// The four magics. The writer stores 0xa1b2c3d4 in ITS byte order, so reading d4 c3 b2 a1 as a native
// little-endian u32 gives 0xa1b2c3d4 on a little-endian writer and 0xd4c3b2a1 on a big-endian one:
// the magic is the byte-order mark. 0xa1b23c4d is the same format with nanosecond fractions (libpcap
// writes it when the capture asked for PCAP_TSTAMP_PRECISION_NANO, as churn-pcap capture does).
constexpr uint32_t magic_us = 0xa1b2c3d4, magic_us_swapped = 0xd4c3b2a1;
constexpr uint32_t magic_ns = 0xa1b23c4d, magic_ns_swapped = 0x4d3cb2a1;
// Formats that look alike and that we refuse by name, so the error says what to do.
constexpr uint32_t magic_pcapng = 0x0a0d0d0a;                            // same in both byte orders
constexpr uint32_t magic_kuznetzov = 0xa1b2cd34, magic_kuznetzov_swapped = 0x34cdb2a1;  // 24-byte records

}  // namespace

const char* linktype_name(uint32_t lt) {
    switch (lt) {
        case linktype_ethernet: return "EN10MB";
        case linktype_raw: return "RAW";
        case linktype_linux_sll: return "LINUX_SLL";
        case linktype_linux_sll2: return "LINUX_SLL2";
        case linktype_ipv4: return "IPV4";
        case linktype_ipv6: return "IPV6";
        default: return "unknown";
    }
}

PcapFile PcapFile::open(const std::string& path) {
    PcapFile f;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Unusable(sys_message("open", path, errno));
    struct stat st;
    if (::fstat(fd, &st) < 0) {
        int e = errno;
        ::close(fd);
        throw Unusable(sys_message("fstat", path, e));
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        // MAP_PRIVATE + PROT_READ: we never write, and a private mapping does not care whether someone else
        // has the file open for writing (a capture still running).
        void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        int e = errno;
        ::close(fd);  // the mapping keeps the file referenced
        if (m == MAP_FAILED) throw Unusable(sys_message("mmap", path, e));
        // One pass front to back: let the kernel read ahead aggressively. Advisory, so its result is ignored.
        ::madvise(m, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        f.map_ = m;
        f.map_len_ = static_cast<size_t>(st.st_size);
        f.all_ = Bytes{static_cast<const uint8_t*>(m), f.map_len_};
    } else {
        // A pipe (`tcpdump -w - | churn-pcap decode /dev/stdin`) cannot be mapped: read it whole, 64 KiB at
        // a time. An empty regular file lands here too and fails the header check below.
        uint8_t chunk[1 << 16];
        for (;;) {
            IoResult r = read_some(fd, chunk, sizeof chunk);
            if (r.status == Io::Ok) f.owned_.insert(f.owned_.end(), chunk, chunk + r.bytes);
            else if (r.status == Io::Eof) break;
            else {
                ::close(fd);
                throw Unusable(sys_message("read", path, r.status == Io::Error ? r.err : EAGAIN));
            }
        }
        ::close(fd);
        f.all_ = Bytes{f.owned_.data(), f.owned_.size()};
    }
    try {
        f.parse_header();
    } catch (const Unusable& e) {
        throw Unusable(path + ": " + e.what());
    }
    return f;
}

PcapFile PcapFile::from_bytes(const uint8_t* p, size_t n) {
    PcapFile f;
    f.all_ = Bytes{p, n};
    f.parse_header();
    return f;
}

PcapFile::PcapFile(PcapFile&& o) noexcept
    : all_(o.all_), pos_(o.pos_), hdr_(o.hdr_), map_(std::exchange(o.map_, nullptr)),
      map_len_(o.map_len_), owned_(std::move(o.owned_)) {}  // a moved vector keeps its buffer: all_ stays valid

PcapFile::~PcapFile() {
    if (map_) ::munmap(map_, map_len_);
}

void PcapFile::parse_header() {
    if (all_.n == 0) throw Unusable("empty file, not a pcap file");
    if (!all_.has(0, 4)) throw Unusable("shorter than a pcap magic number (" + std::to_string(all_.n) + " bytes)");
    uint32_t magic = all_.u32(0, false);
    switch (magic) {
        case magic_us: break;
        case magic_us_swapped: hdr_.swapped = true; break;
        case magic_ns: hdr_.nanosecond = true; break;
        case magic_ns_swapped: hdr_.swapped = hdr_.nanosecond = true; break;
        case magic_pcapng:
            throw Unusable("pcapng, not pcap (convert it: editcap -F pcap IN OUT, or capture with -F pcap)");
        case magic_kuznetzov:
        case magic_kuznetzov_swapped: throw Unusable("Kuznetzov's modified pcap (0xa1b2cd34) is not supported");
        default: {
            char m[16];
            std::snprintf(m, sizeof m, "0x%08x", magic);
            throw Unusable(std::string("not a pcap file (magic ") + m + ")");
        }
    }
    // A right magic followed by less than a full header is a capture cut short before its first record:
    // nothing after the magic can be trusted, so it is unusable rather than "0 packets".
    if (!all_.has(0, global_header_len))
        throw Unusable("truncated pcap global header (" + std::to_string(all_.n) + " of 24 bytes)");
    hdr_.version_major = all_.u16(4, hdr_.swapped);
    hdr_.version_minor = all_.u16(6, hdr_.swapped);
    // thiszone (8) is always 0 in practice and sigfigs (12) always 0: both ignored, as libpcap does.
    hdr_.snaplen = all_.u32(16, hdr_.swapped);
    // The high 16 bits of the link-type field carry "FCS present" and its length (LINKTYPE_FCS flags),
    // not the type: mask them off, or an Ethernet capture with FCS bits would look like an unknown type.
    hdr_.linktype = all_.u32(20, hdr_.swapped) & 0xffff;
    // Version 2.4 is the only one written since 1998; 2.2/2.3 differ only in caplen/len order (libpcap
    // swaps them for 2.3 and earlier, see below). A major version other than 2 is not this format.
    if (hdr_.version_major != 2) throw Unusable("pcap version " + std::to_string(hdr_.version_major) + "." +
                                                std::to_string(hdr_.version_minor) + " (expected 2.4)");
    pos_ = global_header_len;
}

bool PcapFile::next(Record& r, IssueCounts& issues) {
    if (pos_ >= all_.n) return false;  // clean end of file
    if (!all_.has(pos_, record_header_len)) {
        issues.add(Issue::truncated_record_header);
        pos_ = all_.n;
        return false;
    }
    Bytes h = all_.from(pos_);
    uint32_t sec = h.u32(0, hdr_.swapped), frac = h.u32(4, hdr_.swapped);
    uint32_t caplen = h.u32(8, hdr_.swapped), len = h.u32(12, hdr_.swapped);
    // Files older than 2.3 stored len before caplen, and some 2.3 writers kept that order: swap them back
    // the way libpcap's sf-pcap.c does (always below 2.3; at 2.3 only when the order is visibly wrong).
    if (hdr_.version_minor < 3 || (hdr_.version_minor == 3 && caplen > len)) std::swap(caplen, len);
    // A caplen larger than any snaplen cannot be a real record: the header is garbage (a flipped bit, a
    // file concatenated or cut and resumed). Records are only framed by caplen, so we cannot find the next
    // one either: stop here, count it, and keep what was decoded so far.
    if (caplen > max_caplen) {
        issues.add(Issue::corrupt_record_header);
        pos_ = all_.n;
        return false;
    }
    if (!all_.has(pos_ + record_header_len, caplen)) {
        // The writer was killed mid-record (a capture stopped with SIGKILL, a disk full).
        issues.add(Issue::truncated_record);
        pos_ = all_.n;
        return false;
    }
    // caplen > len: the writer claims it captured more than the frame had. Some tools write len = 0 or
    // forget to fill it in; the bytes are there (the record is framed by caplen), so decode them and take
    // len = caplen, as Wireshark does, but count it.
    if (caplen > len) {
        issues.add(Issue::caplen_gt_len);
        len = caplen;
    }
    r.ts_ns = static_cast<int64_t>(sec) * 1'000'000'000 + static_cast<int64_t>(frac) * (hdr_.nanosecond ? 1 : 1000);
    r.caplen = caplen;
    r.len = len;
    r.data = Bytes{all_.p + pos_ + record_header_len, caplen};
    pos_ += record_header_len + caplen;
    return true;
}

}  // namespace churn::pcap
