// bytes.h: a bounds-checked view of captured bytes, and big/little-endian loads that never read past it.
//
// Every header the decoder parses comes from a file we did not write: a length field may claim more bytes
// than the record holds, and a record may hold fewer bytes than the packet had on the wire (snaplen). So
// no parser touches a pointer directly: it asks the view `has(off, n)` first, and loads through memcpy
// (captured headers are not aligned: an IPv4 header after a 14-byte Ethernet header starts at offset 14,
// and dereferencing a uint32_t* there is undefined behaviour, which UBSan in `make fuzz` reports).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace churn::pcap {

struct Bytes {
    const uint8_t* p = nullptr;
    size_t n = 0;

    // True when [off, off+len) lies inside the view. Written so that off+len cannot overflow.
    bool has(size_t off, size_t len) const { return off <= n && len <= n - off; }
    // The rest of the view from `off` (empty when off is past the end: callers check has() first).
    Bytes from(size_t off) const { return off <= n ? Bytes{p + off, n - off} : Bytes{p + n, 0}; }
    // The first `len` bytes (all of them if the view is shorter).
    Bytes first(size_t len) const { return Bytes{p, len < n ? len : n}; }

    uint8_t u8(size_t off) const { return p[off]; }
    // Network byte order: every IP and TCP field.
    uint16_t be16(size_t off) const { return static_cast<uint16_t>(p[off] << 8 | p[off + 1]); }
    uint32_t be32(size_t off) const {
        return static_cast<uint32_t>(p[off]) << 24 | static_cast<uint32_t>(p[off + 1]) << 16 |
               static_cast<uint32_t>(p[off + 2]) << 8 | p[off + 3];
    }
    // The pcap file's own headers are in the byte order of the machine that wrote them (see pcap_file.h).
    uint32_t u32(size_t off, bool swapped) const {
        uint32_t v;
        std::memcpy(&v, p + off, sizeof v);
        return swapped ? __builtin_bswap32(v) : v;
    }
    uint16_t u16(size_t off, bool swapped) const {
        uint16_t v;
        std::memcpy(&v, p + off, sizeof v);
        return swapped ? __builtin_bswap16(v) : v;
    }
};

}  // namespace churn::pcap
