// test_pcap_synth.cc: the decoder against captures written byte by byte (pcap/synth.h), whose answers
// follow from how they were built: iRTT = rtt + ack delay, SYN->SYN-ACK = rtt, N requests, who closed.
#include <catch2/catch.hpp>

#include "tests/unit/test_pcap_util.h"

using namespace churn::test;

namespace {

std::vector<uint8_t> one_flow(uint32_t linktype, const SynthFlow& f, bool nano = true, uint32_t snaplen = 262144) {
    PcapWriter w(linktype, nano, snaplen);
    synth_flow(w, f);
    return w.bytes();
}

void check_basic(const Capture& cap, const SynthFlow& sf, bool clean = true) {
    REQUIRE(cap.table.flows().size() == 1);
    const Flow& f = flow(cap, 0);
    CHECK(f.handshake());
    CHECK(f.irtt_ns == sf.rtt_ns + sf.ack_delay_ns);
    CHECK(f.synack_ns - f.syn_ns == sf.rtt_ns);
    CHECK(f.requests == static_cast<uint32_t>(sf.requests));
    CHECK(f.responses == static_cast<uint32_t>(sf.requests));
    CHECK(f.bytes[client] == uint64_t{sf.request_len} * sf.requests);
    CHECK(f.bytes[server] == uint64_t{sf.response_len} * sf.requests);
    CHECK(f.opt[client].mss == 1460);
    CHECK(f.opt[client].wscale == 7);
    CHECK(f.opt[server].sack_ok);
    CHECK(f.opt[server].timestamps);
    CHECK(f.closed_by == client);
    CHECK_FALSE(f.client_guessed);
    CHECK(endpoint_str(f.key, end_of(f, client)) == (sf.v6 ? "[" + sf.client + "]:40000" : sf.client + ":40000"));
    if (clean)
        for (int i = 0; i < static_cast<int>(first_note); ++i) CHECK(cap.issues.n[i] == 0);
}

}  // namespace

TEST_CASE("synth: every link type decodes the same connection to the same answer") {
    SynthFlow sf;
    sf.requests = 2;
    for (uint32_t lt : {linktype_ethernet, linktype_raw, linktype_linux_sll, linktype_linux_sll2, linktype_ipv4}) {
        INFO("linktype " << lt);
        check_basic(decode_bytes(one_flow(lt, sf)), sf);
    }
    sf.v6 = true;
    sf.client = "2001:2::1", sf.server = "2001:2::2";
    for (uint32_t lt : {linktype_ethernet, linktype_raw, linktype_linux_sll2, linktype_ipv6}) {
        INFO("IPv6, linktype " << lt);
        check_basic(decode_bytes(one_flow(lt, sf)), sf);
    }
}

TEST_CASE("synth: Ethernet padding of a bare ACK is not payload") {
    // A 54-byte ACK is padded to 60 on Ethernet: if the decoder took caplen - headers, every ACK would carry
    // 6 bytes and start a "request".
    SynthFlow sf;
    Capture cap = decode_bytes(one_flow(linktype_ethernet, sf));
    CHECK(flow(cap, 0).requests == 1);
    CHECK(flow(cap, 0).bytes[client] == sf.request_len);
}

TEST_CASE("synth: IPv4 options, IPv6 extension headers and a VLAN tag are skipped, and noted") {
    SynthFlow sf;
    sf.ip_option_bytes = 8;
    Capture cap = decode_bytes(one_flow(linktype_ethernet, sf));
    check_basic(cap, sf);
    CHECK(cap.issues[Issue::ip_options] == flow(cap, 0).packets);

    SynthFlow v6;
    v6.v6 = true, v6.client = "2001:2::1", v6.server = "2001:2::2", v6.ipv6_ext = true;
    cap = decode_bytes(one_flow(linktype_ethernet, v6));
    check_basic(cap, v6);
    CHECK(cap.issues[Issue::ipv6_ext_headers] == flow(cap, 0).packets);

    SynthFlow vl;
    vl.vlan = true;
    cap = decode_bytes(one_flow(linktype_ethernet, vl));
    check_basic(cap, vl);
    CHECK(cap.issues[Issue::vlan_tag] == flow(cap, 0).packets);
}

TEST_CASE("synth: retransmitted SYNs; iRTT counts from the last SYN, as Wireshark does") {
    SynthFlow sf;
    sf.syn_retransmits = 2;  // SYNs at 0, 1 s, 3 s
    Capture cap = decode_bytes(one_flow(linktype_ethernet, sf));
    const Flow& f = flow(cap, 0);
    CHECK(f.syns == 3);
    CHECK(f.mru_syn_ns - f.syn_ns == 3'000'000'000);
    CHECK(f.irtt_ns == sf.rtt_ns + sf.ack_delay_ns);
    // SYN->SYN-ACK is from the FIRST SYN: what the client waited, retransmission timeouts included.
    CHECK(f.synack_ns - f.syn_ns == 3'000'000'000 + sf.rtt_ns);
    CHECK(summarize(cap).syn_retransmits == 2);
    CHECK_THAT(annotate_bytes(one_flow(linktype_ethernet, sf), 0), Catch::Contains("SYN again, 1.000 s after the first"));
}

TEST_CASE("synth: requests on one connection; reused ones did not pay a handshake") {
    SynthFlow sf;
    sf.requests = 5;
    Capture cap = decode_bytes(one_flow(linktype_ethernet, sf));
    CHECK(flow(cap, 0).requests == 5);
    CHECK(flow(cap, 0).reused_requests() == 4);
    std::string a = annotate_bytes(one_flow(linktype_ethernet, sf), 0);
    CHECK_THAT(a, Catch::Contains("request 2 on the same connection: no new SYN, the handshake's round trip (iRTT 53 µs on this flow) saved"));

    // Already open when the capture began: every request is a reused one, and the round trip they saved is
    // the median iRTT of the capture's other connections.
    PcapWriter w(linktype_ethernet);
    SynthFlow pooled;
    pooled.handshake = false;
    pooled.requests = 3;
    pooled.close = SynthFlow::Close::none;
    synth_flow(w, pooled);
    SynthFlow other;
    other.cport = 40001;
    other.rtt_ns = 80'000;
    other.start_ns += 1'000'000;  // after the pooled flow's first request: flow 1
    synth_flow(w, other);
    cap = decode_bytes(w.bytes());
    REQUIRE(cap.table.flows().size() == 2);
    const Flow& p = flow(cap, 0);
    CHECK(p.syns == 0);
    CHECK(p.client_guessed);
    CHECK(endpoint_str(p.key, end_of(p, client)) == "198.18.0.1:40000");
    CHECK(p.requests == 3);
    CHECK(p.reused_requests() == 3);
    Totals t = summarize(cap);
    CHECK(t.handshakes == 1);
    CHECK(t.already_open == 1);
    CHECK(t.reused_requests == 3);
    CHECK_THAT(annotate_bytes(w.bytes(), 0),
               Catch::Contains("request 3 on an established connection: no SYN, the handshake's round trip (≈ 83 µs, the median iRTT of 1 handshake in this capture) saved"));
}

TEST_CASE("synth: who closed first; RST; a SYN nobody answers") {
    SynthFlow s;
    s.close = SynthFlow::Close::server;
    Capture cap = decode_bytes(one_flow(linktype_ethernet, s));
    CHECK(flow(cap, 0).closed_by == server);
    CHECK(flow(cap, 0).last_ack_seen);

    SynthFlow r;
    r.close = SynthFlow::Close::client_rst;
    cap = decode_bytes(one_flow(linktype_ethernet, r));
    CHECK(flow(cap, 0).closed_by == client);
    CHECK(flow(cap, 0).reset);
    CHECK(summarize(cap).resets == 1);
    CHECK(to_json(cap, summarize(cap))["flows"][0]["close"] == "rst");

    SynthFlow n;
    n.synack = false;
    cap = decode_bytes(one_flow(linktype_ethernet, n));
    CHECK_FALSE(flow(cap, 0).handshake());
    CHECK(summarize(cap).syn_without_handshake == 1);
}

TEST_CASE("synth: a new SYN on the same 4-tuple is a new flow, numbered by first packet") {
    PcapWriter w(linktype_ethernet);
    SynthFlow a, b, c;
    b.start_ns = a.start_ns + 500'000'000;  // same ports, later, new ISN
    c.cport = 40001;
    c.start_ns = a.start_ns + 100'000;  // starts while a is still open
    synth_flow(w, a);
    synth_flow(w, b);
    synth_flow(w, c);
    Capture cap = decode_bytes(w.bytes());
    REQUIRE(cap.table.flows().size() == 3);
    CHECK(flow(cap, 0).key.port[0] == 40000);  // a (end 0 is 198.18.0.1, the smaller address)
    CHECK(flow(cap, 1).key.port[0] == 40001);  // c, whose SYN came before b's
    CHECK(flow(cap, 2).first_ns == b.start_ns);
    for (const Flow& f : cap.table.flows()) CHECK(f.handshake());
}

TEST_CASE("synth: snaplen-cut packets keep their on-wire payload length") {
    SynthFlow sf;
    sf.request_len = 500, sf.response_len = 1000;
    Capture cap = decode_bytes(one_flow(linktype_ethernet, sf, true, 96));
    check_basic(cap, sf);
    CHECK(cap.issues[Issue::snaplen_cut] == 2);  // the request and the response
}

TEST_CASE("synth: microsecond files, and files written big-endian") {
    SynthFlow sf;
    sf.rtt_ns = 50'000, sf.ack_delay_ns = 3'000;
    Capture us_cap = decode_bytes(one_flow(linktype_raw, sf, false));
    CHECK_FALSE(us_cap.header.nanosecond);
    CHECK(flow(us_cap, 0).irtt_ns == 53'000);

    // Swap every header field of the little-endian file: the magic then reads 0xd4c3b2a1.
    std::vector<uint8_t> b = one_flow(linktype_raw, sf);
    auto swap = [&](size_t off, int n) { std::reverse(b.begin() + off, b.begin() + off + n); };
    swap(0, 4), swap(4, 2), swap(6, 2), swap(8, 4), swap(12, 4), swap(16, 4), swap(20, 4);
    size_t off = global_header_len;
    while (off < b.size()) {
        uint32_t cap = b[off + 8] | b[off + 9] << 8 | b[off + 10] << 16 | static_cast<uint32_t>(b[off + 11]) << 24;
        for (int k = 0; k < 4; ++k) swap(off + 4 * k, 4);
        off += record_header_len + cap;
    }
    Capture be = decode_bytes(b);
    CHECK(be.header.swapped);
    check_basic(be, sf);
}

TEST_CASE("synth: non-TCP traffic is counted, not decoded") {
    PcapWriter w(linktype_ethernet);
    SynthFlow sf;
    synth_flow(w, sf);
    SegmentSpec udp;
    std::vector<uint8_t> f = build_frame(linktype_ethernet, udp);
    f[14 + 9] = 17;  // IPv4 protocol: UDP
    w.add(sf.start_ns + 1, f);
    std::vector<uint8_t> arp = build_frame(linktype_ethernet, udp);
    arp[12] = 0x08, arp[13] = 0x06;  // EtherType ARP
    w.add(sf.start_ns + 2, arp);
    Capture cap = decode_bytes(w.bytes());
    CHECK(cap.issues[Issue::non_tcp] == 1);
    CHECK(cap.issues[Issue::non_ip] == 1);
    check_basic(cap, sf, false);
    auto j = to_json(cap, summarize(cap));
    CHECK(j["undecodable"]["non_tcp"] == 1);
    CHECK(j["undecodable"]["non_ip"] == 1);
}

TEST_CASE("synth: JSON carries the fields the lab reads") {
    PcapWriter w(linktype_ethernet);
    synth_churn(w, 3000, 1000, 50'000);  // 3 s at 1000 connections/s
    Capture cap = decode_bytes(w.bytes());
    Totals t = summarize(cap);
    CHECK(t.connections == 3000);
    CHECK(t.handshakes == 3000);
    CHECK(t.timeline == std::vector<uint32_t>{1000, 1000, 1000});
    auto j = to_json(cap, t);
    CHECK(j["totals"]["connections"] == 3000);
    CHECK(j["totals"]["handshakes"] == 3000);
    CHECK(j["totals"]["reused_requests"] == 0);
    auto& f = j["flows"][7];
    CHECK(f["client"] == "198.18.0.1:32775");
    CHECK(f["server"] == "198.18.0.2:8080");
    CHECK(f["syn_synack_us"] == 50);
    CHECK(f["irtt_us"] == 53);
    CHECK(f["mss"] == 1460);
    CHECK(f["wscale"]["client"] == 7);
    CHECK(f["sack"] == true);
    CHECK(f["timestamps"] == true);
    CHECK(f["requests"] == 1);
    CHECK(f["closed_by"] == "client");
}
