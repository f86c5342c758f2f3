// churn-link --drop-synack (link/synack.h): which packets are SYN-ACKs, the first N of each connection
// dropped and the rest passed, a new connection on a reused 4-tuple counted afresh, the bounded table,
// and the path's books (a dropped SYN-ACK keeps every later packet's loss draw).
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "link/path.h"
#include "link/synack.h"

using namespace churn;

namespace {

constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10, ECE = 0x40;

// An IPv4 packet with a 20-byte TCP header (checksums left 0: the filter does not read them).
std::vector<uint8_t> v4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t ack,
                        uint8_t proto = 6, uint16_t frag = 0) {
    std::vector<uint8_t> p(40, 0);
    p[0] = 0x45;  // version 4, IHL 5
    p[3] = 40;    // total length
    p[6] = static_cast<uint8_t>(frag >> 8);
    p[7] = static_cast<uint8_t>(frag);
    p[8] = 64;
    p[9] = proto;
    for (int i = 0; i < 4; ++i) {
        p[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
        p[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
    }
    uint8_t* t = p.data() + 20;
    t[0] = static_cast<uint8_t>(sport >> 8), t[1] = static_cast<uint8_t>(sport);
    t[2] = static_cast<uint8_t>(dport >> 8), t[3] = static_cast<uint8_t>(dport);
    for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
    t[12] = 0x50;  // data offset 5
    t[13] = flags;
    return p;
}

constexpr uint32_t kSrv = 0xC6120002, kCli = 0xC6120001;  // 198.18.0.2, 198.18.0.1

// The server's SYN-ACK to client port `port`, acknowledging client ISN `isn`.
std::vector<uint8_t> synack(uint16_t port, uint32_t isn = 1000) { return v4(kSrv, 8080, kCli, port, SYN | ACK, isn + 1); }

bool drop(SynAckDropper& d, const std::vector<uint8_t>& p) { return d.drop(p.data(), p.size()); }

}  // namespace

TEST_CASE("link synack: the TCP head of IPv4 and IPv6 packets, and what is not one") {
    TcpHead h;
    auto p = v4(kSrv, 8080, kCli, 40000, SYN | ACK, 0xDEADBEEF);
    REQUIRE(parse_tcp_head(p.data(), p.size(), h));
    CHECK(h.family == 4);
    CHECK(h.sport == 8080);
    CHECK(h.dport == 40000);
    CHECK(h.ack == 0xDEADBEEF);
    CHECK(h.src[0] == 198);
    CHECK(h.dst[3] == 1);
    CHECK(is_synack(h));

    // IPv4 with options (IHL 6): the TCP header starts 4 bytes later.
    auto o = v4(kSrv, 8080, kCli, 40000, SYN | ACK, 7);
    o.insert(o.begin() + 20, {1, 1, 1, 0});
    o[0] = 0x46;
    REQUIRE(parse_tcp_head(o.data(), o.size(), h));
    CHECK(h.sport == 8080);
    CHECK(h.ack == 7);

    std::vector<uint8_t> six(60, 0);
    six[0] = 0x60;
    six[6] = 6;  // next header TCP
    six[8] = 0xfd, six[39] = 2;
    six[40] = 0x1f, six[41] = 0x90;  // 8080
    six[40 + 13] = SYN | ACK;
    REQUIRE(parse_tcp_head(six.data(), six.size(), h));
    CHECK(h.family == 6);
    CHECK(h.sport == 8080);
    CHECK(h.src[0] == 0xfd);
    CHECK(is_synack(h));

    CHECK_FALSE(parse_tcp_head(p.data(), 39, h));                           // TCP header cut short
    CHECK_FALSE(parse_tcp_head(p.data(), 0, h));
    auto udp = v4(kSrv, 8080, kCli, 40000, SYN | ACK, 1, 17);
    CHECK_FALSE(parse_tcp_head(udp.data(), udp.size(), h));                 // not TCP
    auto frag = v4(kSrv, 8080, kCli, 40000, SYN | ACK, 1, 6, 0x0010);
    CHECK_FALSE(parse_tcp_head(frag.data(), frag.size(), h));               // a later fragment
    six[6] = 0;                                                             // hop-by-hop header first
    CHECK_FALSE(parse_tcp_head(six.data(), six.size(), h));
    std::vector<uint8_t> junk(40, 0x20);                                    // version 2
    CHECK_FALSE(parse_tcp_head(junk.data(), junk.size(), h));

    for (uint8_t f : {uint8_t(SYN), uint8_t(ACK), uint8_t(SYN | ACK | RST), uint8_t(FIN | ACK)}) {
        auto q = v4(kSrv, 8080, kCli, 40000, f, 1);
        REQUIRE(parse_tcp_head(q.data(), q.size(), h));
        CHECK_FALSE(is_synack(h));
    }
    auto ecn = v4(kSrv, 8080, kCli, 40000, SYN | ACK | ECE, 1);  // an ECN-setup SYN-ACK is one too
    REQUIRE(parse_tcp_head(ecn.data(), ecn.size(), h));
    CHECK(is_synack(h));
}

TEST_CASE("link synack: N = 1 drops the first SYN-ACK of each connection, then passes") {
    SynAckDropper d(1);
    CHECK(drop(d, synack(40000)));        // the first: dropped
    CHECK_FALSE(drop(d, synack(40000)));  // its retransmit (or a cookie answer to the SYN retransmit)
    CHECK_FALSE(drop(d, synack(40000)));
    CHECK(drop(d, synack(40001)));        // another connection: its own first
    CHECK_FALSE(drop(d, synack(40001)));
    // Other packets of the flow never count: the SYN, the ACKs, data.
    SynAckDropper e(1);
    CHECK_FALSE(drop(e, v4(kCli, 40002, kSrv, 8080, SYN, 0)));
    CHECK_FALSE(drop(e, v4(kCli, 40002, kSrv, 8080, ACK, 5)));
    CHECK_FALSE(drop(e, v4(kSrv, 8080, kCli, 40002, SYN | ACK | RST, 1001)));
    CHECK(drop(e, synack(40002)));
    // Either direction: a SYN-ACK from the client host's side (a server there) is a flow like any other.
    CHECK(drop(e, v4(kCli, 9000, kSrv, 50000, SYN | ACK, 77)));
    CHECK(e.flows() == 2);
}

TEST_CASE("link synack: N = 2 drops two; N = 0 drops none") {
    SynAckDropper two(2);
    CHECK(drop(two, synack(40000)));
    CHECK(drop(two, synack(40000)));
    CHECK_FALSE(drop(two, synack(40000)));
    SynAckDropper none(0);
    CHECK_FALSE(drop(none, synack(40000)));
    CHECK(none.flows() == 0);
}

TEST_CASE("link synack: the same 4-tuple with a new client ISN is a new connection") {
    SynAckDropper d(1);
    CHECK(drop(d, synack(40000, 1000)));
    CHECK_FALSE(drop(d, synack(40000, 1000)));
    CHECK(drop(d, synack(40000, 555555)));  // the port came back out of TIME-WAIT: a new ISN
    CHECK_FALSE(drop(d, synack(40000, 555555)));
    CHECK(d.flows() == 1);
}

TEST_CASE("link synack: the table is bounded; the oldest flow is forgotten first") {
    SynAckDropper d(1, 2);
    CHECK(drop(d, synack(1)));
    CHECK(drop(d, synack(2)));
    CHECK(drop(d, synack(3)));  // table full: flow 1 is evicted
    CHECK(d.flows() == 2);
    CHECK(d.evicted() == 1);
    CHECK_FALSE(drop(d, synack(3)));  // still known
    CHECK_FALSE(drop(d, synack(2)));
    CHECK(drop(d, synack(1)));        // forgotten, so new again (and flow 2, now the oldest, goes)
    CHECK(d.evicted() == 2);
    CHECK(drop(d, synack(2)));
    // A flood of distinct connections never grows it past the bound.
    SynAckDropper big(1, 1000);
    for (uint32_t i = 0; i < 5000; ++i) CHECK(drop(big, synack(static_cast<uint16_t>(i), i)));
    CHECK(big.flows() == 1000);
    CHECK(big.evicted() == 4000);
}

TEST_CASE("link synack: a dropped SYN-ACK is in the books and keeps later packets' loss draws") {
    DirectionConfig c;
    c.loss_pct = 20;
    PathModel with(c, LossDraw(3, 20)), plain(c, LossDraw(3, 20));
    LossDraw truth(3, 20);
    uint64_t delivered = 0;
    for (uint64_t n = 0; n < 1000; ++n) {
        if (n % 10 == 0) {
            with.drop_synack(60);  // packet n was a SYN-ACK the filter took
        } else {
            Fate f = with.arrive(n, 1500).fate;
            REQUIRE((f == Fate::Lost) == truth.drop(n));
            delivered += f == Fate::Deliver;
        }
        plain.arrive(n, 1500);
    }
    const DirectionStats& s = with.stats();
    CHECK(s.dropped_synack == 100);
    CHECK(s.packets_in == 1000);
    CHECK(s.bytes_in == 100 * 60 + 900 * 1500);
    CHECK(s.packets_in == delivered + s.dropped_synack + s.dropped_loss + s.dropped_queue + s.dropped_no_buffer);
}
