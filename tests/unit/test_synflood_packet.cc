// churn-synflood's packet builder: the Internet checksum against RFC 1071's worked example, and whole SYNs
// against real ones captured from Linux (their bytes and checksums, as tcpdump -vv -x printed them).
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <vector>

#include "synflood/flood.h"
#include "synflood/packet.h"

using namespace churn::synflood;

namespace {

uint32_t ip4(int a, int b, int c, int d) { return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | uint32_t(d); }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

std::vector<uint8_t> build(const SynSpec& s) {
    std::vector<uint8_t> b(kMaxSynLen);
    b.resize(build_syn(s, b.data(), b.size()));
    return b;
}

// tests/pcap/tun_raw_syn.pcap, packet 1 (a Linux 6.18 SYN read from a TUN device, so with complete checksums):
//   198.18.1.1.58008 > 198.18.1.2.8080: Flags [S], cksum 0x6e81 (correct), seq 3677362707, win 64240,
//   options [mss 1460,sackOK,TS val 1509555964 ecr 0,nop,wscale 10]; IP id 28510, flags [DF], ttl 64.
const std::vector<uint8_t> kTunSyn = {
    0x45, 0x00, 0x00, 0x3c, 0x6f, 0x5e, 0x40, 0x00, 0x40, 0x06, 0x3d, 0x36, 0xc6, 0x12, 0x01, 0x01,
    0xc6, 0x12, 0x01, 0x02, 0xe2, 0x98, 0x1f, 0x90, 0xdb, 0x30, 0x1a, 0x13, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0x6e, 0x81, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x59, 0xf9, 0xfe, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a};

SynSpec tun_syn_spec() {
    SynSpec s;
    s.src = ip4(198, 18, 1, 1), s.dst = ip4(198, 18, 1, 2);
    s.sport = 58008, s.dport = 8080;
    s.isn = 3677362707u, s.ip_id = 28510;
    s.options = SynOptions::Linux, s.mss = 1460, s.wscale = 10, s.tsval = 1509555964u;
    return s;
}

}  // namespace

TEST_CASE("RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d", "[synflood]") {
    const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(ones_sum(bytes, sizeof bytes) == 0xddf2);
    CHECK(internet_checksum(bytes, sizeof bytes) == 0x220d);
    // The sum is order-independent (RFC 1071 §2(B)): swapping two words changes nothing.
    const uint8_t swapped[] = {0xf4, 0xf5, 0x00, 0x01, 0xf2, 0x03, 0xf6, 0xf7};
    CHECK(ones_sum(swapped, sizeof swapped) == 0xddf2);
    // An odd length pads the last byte on the right: 00 01 f2 = 0001 + f200.
    CHECK(ones_sum(bytes, 3) == 0xf201);
    // The end-around carry: ffff + 0001 = 1 0000, folded to 0001.
    const uint8_t carry[] = {0xff, 0xff, 0x00, 0x01};
    CHECK(ones_sum(carry, sizeof carry) == 0x0001);
    // A buffer with its checksum appended sums to ffff: what every receiver checks.
    const uint8_t with_sum[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
    CHECK(ones_sum(with_sum, sizeof with_sum) == 0xffff);
}

TEST_CASE("a real Linux SYN (TUN capture) is rebuilt byte for byte, both checksums included", "[synflood]") {
    std::vector<uint8_t> b = build(tun_syn_spec());
    REQUIRE(b.size() == kTunSyn.size());
    CHECK(be16(&b[10]) == 0x3d36);  // IPv4 header checksum, as captured
    CHECK(be16(&b[36]) == 0x6e81);  // TCP checksum, as captured (tcpdump: "correct")
    CHECK(b == kTunSyn);
    CHECK(checksums_ok(kTunSyn.data(), kTunSyn.size()));
    // The checksum functions on the captured bytes, with their fields zeroed, give the captured values.
    std::vector<uint8_t> z = kTunSyn;
    z[10] = z[11] = 0;
    CHECK(ipv4_checksum(z.data(), 20) == 0x3d36);
    z[36] = z[37] = 0;
    CHECK(tcp_checksum(ip4(198, 18, 1, 1), ip4(198, 18, 1, 2), z.data() + 20, 40) == 0x6e81);
}

TEST_CASE("the same SYN retransmitted 1 s later: IP id +1 and a new TSval give the captured checksums", "[synflood]") {
    // tun_raw_syn.pcap packet 2: id 28511, TS val 1509556981: cksum 0x6a88 (correct), IP checksum 0x3d35.
    SynSpec s = tun_syn_spec();
    s.ip_id = 28511, s.tsval = 1509556981u;
    std::vector<uint8_t> b = build(s);
    CHECK(be16(&b[10]) == 0x3d35);
    CHECK(be16(&b[36]) == 0x6a88);
}

TEST_CASE("a SYN captured on the sending veth has only a partial checksum; the builder computes the full one", "[synflood]") {
    // tests/pcap/churn_en10mb.pcap, first SYN (IP part): tcpdump says "cksum 0x8c56 (incorrect -> 0xb813)".
    // The sender's kernel left the TCP checksum to the device (CHECKSUM_PARTIAL: only the pseudo-header sum
    // is in the field), and a veth never finishes it because the receiver trusts it. A raw socket's packet
    // gets no such help: the checksum the builder writes is the one on the wire, so it must be the full one.
    const std::vector<uint8_t> captured = {
        0x45, 0x00, 0x00, 0x3c, 0x94, 0xb7, 0x40, 0x00, 0x40, 0x06, 0x19, 0xdd, 0xc6, 0x12, 0x00, 0x01,
        0xc6, 0x12, 0x00, 0x02, 0xdb, 0x50, 0x1f, 0x90, 0x1b, 0x7e, 0xab, 0x6f, 0x00, 0x00, 0x00, 0x00,
        0xa0, 0x02, 0xfa, 0xf0, 0x8c, 0x56, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
        0x00, 0x70, 0x46, 0x92, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a};
    CHECK_FALSE(checksums_ok(captured.data(), captured.size()));
    SynSpec s;
    s.src = ip4(198, 18, 0, 1), s.dst = ip4(198, 18, 0, 2), s.sport = 56144, s.dport = 8080;
    s.isn = 461286255u, s.ip_id = 38071, s.options = SynOptions::Linux, s.wscale = 10, s.tsval = 7358098u;
    std::vector<uint8_t> b = build(s);
    CHECK(be16(&b[10]) == 0x19dd);  // the IP checksum was complete in the capture
    CHECK(be16(&b[36]) == 0xb813);  // what tcpdump says the TCP checksum should have been
    b[36] = 0x8c, b[37] = 0x56;
    CHECK(b == captured);           // every other byte as Linux sent it
}

TEST_CASE("SYN option sets: mss (44 bytes), none (40), linux (60); offsets and lengths agree", "[synflood]") {
    SynSpec s = tun_syn_spec();
    s.options = SynOptions::Mss;
    std::vector<uint8_t> m = build(s);
    REQUIRE(m.size() == 44);
    CHECK(be16(&m[2]) == 44);                 // IP total length
    CHECK(m[32] >> 4 == 6);                   // data offset: 6 words
    CHECK(m[33] == 0x02);                     // SYN only
    CHECK(be16(&m[40]) == 0x0204);            // MSS, length 4
    CHECK(be16(&m[42]) == 1460);
    CHECK(checksums_ok(m.data(), m.size()));
    s.options = SynOptions::None;
    std::vector<uint8_t> n = build(s);
    REQUIRE(n.size() == 40);
    CHECK(n[32] >> 4 == 5);
    CHECK(checksums_ok(n.data(), n.size()));
    uint8_t small[43];
    s.options = SynOptions::Mss;
    CHECK(build_syn(s, small, sizeof small) == 0);  // too small a buffer: nothing written, says 0
}

TEST_CASE("checksums_ok catches one flipped bit in either header, and a spoofed source the TCP sum did not cover", "[synflood]") {
    std::vector<uint8_t> good = build(tun_syn_spec());
    REQUIRE(checksums_ok(good.data(), good.size()));
    for (size_t byte : {1u, 8u, 15u, 22u, 30u, 45u, 59u}) {
        std::vector<uint8_t> bad = good;
        bad[byte] ^= 0x10;
        CHECK_FALSE(checksums_ok(bad.data(), bad.size()));
    }
    // Rewrite the source address and fix only the IP checksum: the TCP checksum still covers the old
    // source through the pseudo-header, so the receiver would drop it (TcpInCsumErrors).
    std::vector<uint8_t> nat = good;
    nat[15] = 0x09;
    nat[10] = nat[11] = 0;
    uint16_t c = ipv4_checksum(nat.data(), 20);
    nat[10] = static_cast<uint8_t>(c >> 8), nat[11] = static_cast<uint8_t>(c);
    CHECK(ipv4_checksum(nat.data(), 20) == 0);
    CHECK_FALSE(checksums_ok(nat.data(), nat.size()));
}

TEST_CASE("syn_for: the flood's SYN n is a function of (seed, n), inside --spoof, ports above 1023", "[synflood]") {
    Options opt;
    opt.target = ip4(198, 18, 0, 2), opt.port = 8080;
    opt.spoof = Prefix{ip4(198, 19, 0, 0), 30};
    opt.seed = 7;
    std::set<uint32_t> sources;
    for (uint64_t n = 0; n < 1000; ++n) {
        SynSpec s = syn_for(opt, n);
        CHECK(opt.spoof.contains(s.src));
        CHECK(s.sport >= 1024);
        CHECK(s.ip_id != 0);
        CHECK(s.dst == opt.target);
        CHECK(s.dport == 8080);
        sources.insert(s.src);
        std::vector<uint8_t> b = build(s);
        CHECK(checksums_ok(b.data(), b.size()));
    }
    CHECK(sources.size() == 4);  // a /30 is 4 addresses, all of them used
    CHECK(build(syn_for(opt, 123)) == build(syn_for(opt, 123)));
    Options other = opt;
    other.seed = 8;
    CHECK(build(syn_for(opt, 123)) != build(syn_for(other, 123)));
}

TEST_CASE("the flood's schedule: every SYN due by now, never past count, a stall forgiven beyond max_burst", "[synflood]") {
    const uint64_t ms = 1'000'000;
    Schedule s;
    s.rate = 1000, s.count = 5000, s.max_burst = 64, s.start_ns = 1000 * ms;
    CHECK(s.take(999 * ms, 0) == 0);           // before the start: nothing
    CHECK(s.take(1000 * ms, 0) == 1);          // SYN 0 at once
    CHECK(s.take(1000 * ms + ms / 2, 1) == 0); // SYN 1 is due at +1 ms
    CHECK(s.take(1010 * ms, 1) == 10);         // SYNs 1..10 by +10 ms
    CHECK(s.due_ns(11) == 1011 * ms);
    // A 990 ms stall: 990 SYNs late; 64 are sent, the other 926 ms are forgiven.
    CHECK(s.take(2000 * ms, 11) == 64);
    CHECK(s.slip_s == Approx(0.926));
    CHECK(s.start_ns == 1926 * ms);
    CHECK(s.take(2000 * ms, 75) == 0);         // caught up: SYN 75 is due at 1926 + 75 = 2001 ms
    CHECK(s.take(2001 * ms, 75) == 1);
    // count bounds it: at +100 s, only what is left of the 5000.
    Schedule c;
    c.rate = 1000, c.count = 100, c.max_burst = 1000;
    CHECK(c.take(100'000 * ms, 90) == 10);
    CHECK(c.slip_s == 0);
}
