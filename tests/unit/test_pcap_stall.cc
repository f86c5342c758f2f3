// test_pcap_stall.cc: the Nagle + delayed-ACK stall detector (pcap/stall.h).
// Real captures first: tcpdump of a python3 write-write-read client and a server that answers only after
// the whole 48-byte message, Nagle on vs TCP_NODELAY (tests/pcap/make-nagle-captures.sh says how and what
// they hold). Then conversations written byte by byte, one edge each, whose answer follows from how they
// were built: a gap just below the threshold, an ACK carrying data, full-size segments, retransmissions,
// GRO aggregates, a capture without the handshake, every link type.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>

#include <catch2/catch.hpp>

#include "tests/unit/test_pcap_util.h"

using namespace churn::test;

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Capture decode_with(const std::vector<uint8_t>& b, double stall_ms = default_stall_ms) {
    PcapFile f = PcapFile::from_bytes(b.data(), b.size());
    Capture cap;
    cap.path = "memory";
    cap.table.set_stall_threshold_ns(static_cast<int64_t>(stall_ms * 1e6));
    decode_file(f, cap);
    return cap;
}

size_t stalls_in(const std::vector<uint8_t>& b, double stall_ms = default_stall_ms) {
    Capture cap = decode_with(b, stall_ms);
    REQUIRE(cap.table.flows().size() == 1);
    return stall_facts(flow(cap, 0)).stalls.size();
}

std::string table_text(const Capture& cap) {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* out = ::open_memstream(&buf, &len);
    REQUIRE(out);
    print_table(out, cap, summarize(cap), false);
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    return text;
}

// The same capture as DLT_RAW (what tcpdump writes on a TUN device): every Ethernet header cut off.
std::vector<uint8_t> ethernet_to_raw(const std::vector<uint8_t>& in) {
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

// The file without its first `n` records: a capture started after the handshake.
std::vector<uint8_t> drop_records(const std::vector<uint8_t>& in, size_t n) {
    std::vector<uint8_t> out(in.begin(), in.begin() + global_header_len);
    out.insert(out.end(), in.begin() + record_offset(in, n), in.end());
    return out;
}

// A conversation written packet by packet: client 198.18.0.1:40000 -> server 198.18.0.2:8080, no TCP
// timestamps (so a full segment is the MSS itself: 1460). Times in µs from the previous packet.
struct Conv {
    PcapWriter w;
    SegmentSpec c, s;
    uint32_t cseq = 1000, sseq = 900000, clast = 0, slast = 0;
    int64_t t = 1'700'000'000'000'000'000;
    explicit Conv(uint32_t lt = linktype_ethernet, bool handshake = true, int64_t server_rt_us = 100) : w(lt) {
        c.outgoing = true, s.outgoing = false;
        s.src = c.dst, s.dst = c.src, s.sport = c.dport, s.dport = c.sport;
        if (!handshake) return;
        TcpOptions o{1460, 7, true, false, 0, 0};
        put(c, 0, tcp_syn, cseq, 0, 0, &o);
        put(s, server_rt_us, tcp_syn | tcp_ack, sseq, cseq, 0, &o);  // SYN -> SYN-ACK: the server's round trip
        put(c, 10, tcp_ack, cseq, sseq, 0);                  // SYN-ACK -> ACK: the client's 10 µs
    }
    void put(SegmentSpec& sp, int64_t dt_us, uint8_t flags, uint32_t& seq, uint32_t ack, uint32_t len,
             const TcpOptions* o = nullptr) {
        t += dt_us * 1000;
        sp.flags = flags, sp.seq = seq, sp.ack = ack, sp.payload = len;
        sp.opt = o ? *o : TcpOptions{};
        w.add(t, build_frame(w.linktype(), sp));
        (&sp == &c ? clast : slast) = seq;
        seq += len + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
    }
    void cdata(int64_t dt, uint32_t len) { put(c, dt, tcp_psh | tcp_ack, cseq, sseq, len); }
    void sdata(int64_t dt, uint32_t len) { put(s, dt, tcp_psh | tcp_ack, sseq, cseq, len); }
    void cack(int64_t dt) { put(c, dt, tcp_ack, cseq, sseq, 0); }
    void sack(int64_t dt) { put(s, dt, tcp_ack, sseq, cseq, 0); }
    void cagain(int64_t dt, uint32_t len) {  // the client's last data segment sent again
        uint32_t seq = clast;
        put(c, dt, tcp_psh | tcp_ack, seq, sseq, len);
    }
    std::vector<uint8_t> bytes() const { return w.bytes(); }
};

// The textbook stall: 40 B, the server's pure ACK 43 ms later, the 8 B 20 µs after it, then the answer.
Conv nagle(int64_t gap_us = 43'000, int64_t after_us = 20, uint32_t first = 40, uint32_t next = 8,
           uint32_t lt = linktype_ethernet, bool handshake = true) {
    Conv v(lt, handshake);
    v.cdata(5, first);
    v.sack(gap_us);
    v.cdata(after_us, next);
    v.sdata(100, 20);
    return v;
}

}  // namespace

TEST_CASE("stall: the tcpdump capture with Nagle on has stalls, each ACK held about 40 ms") {
    Capture cap = decode_path(pcap_fixture("nagle_en10mb.pcap"));
    REQUIRE(cap.table.flows().size() == 1);
    const Flow& f = flow(cap, 0);
    StallFacts s = stall_facts(f);
    REQUIRE(s.stalls.size() >= 1);
    CHECK(s.from[client] == MssFrom::handshake);
    for (const Stall& x : s.stalls) {
        INFO("stall at packet " << x.c.ack_pkt << ": gap " << x.gap_ns << " ns, hold " << x.hold_ns << " ns");
        CHECK(x.c.writer == client);
        CHECK(x.c.seg_len == 40);
        CHECK(x.c.next_len == 8);
        // Linux's delayed ACK: TCP_DELACK_MIN 40 ms, rounded up to the timer's jiffies.
        CHECK(x.hold_ns >= 39'000'000);
        CHECK(x.hold_ns <= 60'000'000);
        CHECK(x.after_ns < 1'000'000);  // the 8 bytes leave as the ACK arrives (capture on the client)
    }
    auto js = to_json(cap, summarize(cap));
    CHECK(js["totals"]["stalls"].get<uint64_t>() == s.stalls.size());
    CHECK(js["flows"][0]["stalls"].get<uint64_t>() == s.stalls.size());
    CHECK(js["flows"][0]["stall_acks"].size() == s.stalls.size());
    CHECK(js["flows"][0]["stall_mss_from"]["client"].get<std::string>() == "handshake");
    CHECK_THAT(table_text(cap), Catch::Contains("Nagle stalls  " + std::to_string(s.stalls.size()) + " in 1 flows"));

    std::string out, path = pcap_fixture("nagle_en10mb.pcap");
    PcapFile pf = PcapFile::open(path);
    REQUIRE(annotate(pf, path, all_of_flow(0), out));
    CHECK_THAT(out, Catch::Contains("stall 1 begins: a small segment (40 B"));
    // regex_search, not Catch::Matches: a (.|\n)* around a page of text overflows std::regex's recursion.
    CHECK(std::regex_search(out, std::regex("Nagle \\+ delayed ACK \\(stall 1\\): the ACK was held 4[0-9]\\.[0-9] ms \\(the "
                                            "receiver's delayed ACK, >= 40 ms on Linux\\), and the client's next small "
                                            "segment waited for it \\(Nagle\\)")));
    CHECK(std::regex_search(out, std::regex("\nNagle \\+ delayed ACK: [0-9]+ stalls?, [0-9.]+ ms in all")));
    CHECK_THAT(out, Catch::Contains("the bytes Nagle held (stall 1)"));
}

TEST_CASE("stall: the tcpdump capture of a response split in two writes: the server is the writer") {
    Capture cap = decode_path(pcap_fixture("nagle_resp_en10mb.pcap"));
    REQUIRE(cap.table.flows().size() == 1);
    StallFacts s = stall_facts(flow(cap, 0));
    REQUIRE(s.stalls.size() >= 1);
    for (const Stall& x : s.stalls) {
        INFO("stall at packet " << x.c.ack_pkt << ": hold " << x.hold_ns << " ns");
        CHECK(x.c.writer == server);
        CHECK(x.c.seg_len == 100);
        CHECK(x.c.next_len == 16);
        CHECK(x.hold_ns >= 39'000'000);  // the CLIENT's delayed ACK this time
        CHECK(x.hold_ns <= 60'000'000);
    }
    std::string out, path = pcap_fixture("nagle_resp_en10mb.pcap");
    PcapFile pf = PcapFile::open(path);
    REQUIRE(annotate(pf, path, all_of_flow(0), out));
    CHECK_THAT(out, Catch::Contains("and the server's next small segment waited for it (Nagle)"));
}

TEST_CASE("stall: the same exchange with TCP_NODELAY has none") {
    for (const char* name : {"nodelay_en10mb.pcap", "nodelay_srv.pcap"}) {
        INFO(name);
        Capture cap = decode_path(pcap_fixture(name));
        REQUIRE(cap.table.flows().size() == 1);
        CHECK(flow(cap, 0).requests >= 1);
        CHECK(stall_facts(flow(cap, 0)).stalls.empty());
        CHECK(to_json(cap, summarize(cap))["totals"]["stalls"].get<uint64_t>() == 0);
        CHECK_THAT(table_text(cap), Catch::Contains("Nagle stalls  0 in 0 flows"));
    }
    std::string out, path = pcap_fixture("nodelay_en10mb.pcap");
    PcapFile pf = PcapFile::open(path);
    REQUIRE(annotate(pf, path, all_of_flow(0), out));
    CHECK_THAT(out, Catch::Contains("\nNagle + delayed ACK: no stall (none of: a small segment, its pure ACK >= 30 ms later"));
}

TEST_CASE("stall: captured on the receiver, on 'any' (SLL/SLL2), as raw IP, and without the handshake") {
    size_t n = stall_facts(flow(decode_path(pcap_fixture("nagle_en10mb.pcap")), 0)).stalls.size();
    // The server's veth, the same run: the ACK is seen as it leaves, the 8 bytes one round trip later.
    StallFacts srv = stall_facts(flow(decode_path(pcap_fixture("nagle_srv.pcap")), 0));
    CHECK(srv.stalls.size() == n);
    for (const Stall& x : srv.stalls) CHECK(x.hold_ns >= 39'000'000);
    Capture any = decode_path(pcap_fixture("nagle_sll.pcap"));
    CHECK((any.header.linktype == linktype_linux_sll || any.header.linktype == linktype_linux_sll2));
    CHECK(stall_facts(flow(any, 0)).stalls.size() == n);
    std::vector<uint8_t> eth = file_bytes(pcap_fixture("nagle_en10mb.pcap"));
    CHECK(stalls_in(ethernet_to_raw(eth)) == n);
    // Without SYN, SYN-ACK, ACK: no MSS (the largest segment, 40 B, is under 536: the default is used) and
    // no round trip (the hold is not known, the window is 1 ms).
    Capture cut = decode_with(drop_records(eth, 3));
    REQUIRE(cut.table.flows().size() == 1);
    StallFacts s = stall_facts(flow(cut, 0));
    CHECK(s.from[client] == MssFrom::fallback_536);
    CHECK(s.stalls.size() == n);
    for (const Stall& x : s.stalls) CHECK(x.hold_ns == -1);
    CHECK(to_json(cut, summarize(cut))["flows"][0]["stall_acks"][0]["hold_us"].is_null());
}

TEST_CASE("stall: synthetic, the textbook case on every link type, with its numbers") {
    for (uint32_t lt : {linktype_ethernet, linktype_raw, linktype_linux_sll, linktype_linux_sll2}) {
        INFO("linktype " << lt);
        Capture cap = decode_with(nagle(43'000, 20, 40, 8, lt).bytes());
        StallFacts s = stall_facts(flow(cap, 0));
        REQUIRE(s.stalls.size() == 1);
        CHECK(s.mss[client] == 1460);
        CHECK(s.stalls[0].gap_ns == 43'000'000);
        CHECK(s.stalls[0].hold_ns == 42'900'000);  // minus SYN -> SYN-ACK, the round trip to the server
        CHECK(s.stalls[0].after_ns == 20'000);
        CHECK(s.stalls[0].c.seg_pkt == 4);
        CHECK(s.stalls[0].c.ack_pkt == 5);
        CHECK(s.stalls[0].c.next_pkt == 6);
    }
    Capture cap = decode_with(nagle().bytes());
    auto js = to_json(cap, summarize(cap));
    CHECK(js["totals"]["stalls"].get<int>() == 1);
    CHECK(js["totals"]["stall_ms"].get<double>() == 43.0);
    auto& f = js["flows"][0];
    CHECK(f["stalls"].get<int>() == 1);
    CHECK(f["stall_ms"].get<double>() == 43.0);
    CHECK(f["stall_acks"][0]["gap_us"].get<int>() == 43'000);
    CHECK(f["stall_acks"][0]["hold_us"].get<int>() == 42'900);
    CHECK(f["stall_acks"][0]["after_us"].get<int>() == 20);
    CHECK(f["stall_acks"][0]["ack_us"].get<int>() == 100 + 10 + 5 + 43'000);
    CHECK(f["stall_acks"][0]["writer"].get<std::string>() == "client");
    std::string a = annotate_bytes(nagle().bytes(), 0);
    CHECK_THAT(a, Catch::Contains("the ACK was held 42.9 ms (the receiver's delayed ACK, >= 40 ms on Linux), and "
                                  "the client's next small segment waited for it (Nagle)"));
    CHECK_THAT(a, Catch::Contains("sent 20 µs after that ACK"));
}

TEST_CASE("stall: the gap threshold, just below and at it; --stall-ms moves it") {
    CHECK(stalls_in(nagle(29'999).bytes()) == 0);
    CHECK(stalls_in(nagle(30'000).bytes()) == 1);
    CHECK(stalls_in(nagle(29'999).bytes(), 20) == 1);
    CHECK(stalls_in(nagle(43'000).bytes(), 50) == 0);
}

TEST_CASE("stall: an ACK carrying data is an answer, not a held ACK") {
    Conv v;
    v.cdata(5, 40);
    v.sdata(43'000, 5);  // the server answered: the ACK rides on its data
    v.cdata(20, 8);
    v.sdata(100, 20);
    CHECK(stalls_in(v.bytes()) == 0);
}

TEST_CASE("stall: full-size segments are never held by Nagle") {
    CHECK(stalls_in(nagle(43'000, 20, 1460, 8).bytes()) == 0);
    CHECK(stalls_in(nagle(43'000, 20, 40, 1460).bytes()) == 0);
    CHECK(stalls_in(nagle(43'000, 20, 1459, 1459).bytes()) == 1);
    // GRO/GSO aggregates: 2 full segments is not small; 1 full + 8 bytes ends in the small piece Nagle held.
    CHECK(stalls_in(nagle(43'000, 20, 40, 2920).bytes()) == 0);
    CHECK(stalls_in(nagle(43'000, 20, 40, 1468).bytes()) == 1);
}

TEST_CASE("stall: retransmissions are losses, not stalls") {
    Conv a;  // the segment sent again before its ACK: the ACK that follows is about the loss
    a.cdata(5, 40);
    a.cagain(35'000, 40);
    a.sack(8'000);
    a.cdata(20, 8);
    CHECK(stalls_in(a.bytes()) == 0);
    Conv b;  // the "next" segment is old bytes again
    b.cdata(5, 40);
    b.sack(43'000);
    b.cagain(20, 40);
    b.cdata(20, 8);
    CHECK(stalls_in(b.bytes()) == 0);
}

TEST_CASE("stall: the next segment must come right after the ACK, as the writer's first packet") {
    CHECK(stalls_in(nagle(43'000, 900).bytes()) == 1);
    CHECK(stalls_in(nagle(43'000, 1'250).bytes()) == 0);  // 1 ms + 2 x the client's 10 µs round trip
    CHECK(stalls_in(nagle(43'000, 5'000).bytes()) == 0);  // think time, not Nagle
    Conv v;  // another packet from the writer first
    v.cdata(5, 40);
    v.sack(43'000);
    v.cack(10);
    v.cdata(10, 8);
    CHECK(stalls_in(v.bytes()) == 0);
}

TEST_CASE("stall: over a long path the gap is the round trip, not a held ACK (Nagle waits all the same)") {
    // Captured on the client, 50 ms from the server: the ACK comes 50.5 ms after the segment, 0.5 ms held.
    Conv v(linktype_ethernet, true, 50'000);
    v.cdata(5, 40);
    v.sack(50'500);
    v.cdata(20, 8);
    Capture cap = decode_with(v.bytes());
    StallFacts s = stall_facts(flow(cap, 0));
    REQUIRE(s.stalls.size() == 1);
    CHECK(s.stalls[0].hold_ns == 500'000);
    CHECK_THAT(annotate_bytes(v.bytes(), 0),
               Catch::Contains("Nagle + round trip (stall 1): the ACK came 50.5 ms after the segment, 50.0 ms of that the "
                               "path's round trip, so the server did not hold it; the client's next small segment "
                               "waited for it all the same (Nagle)"));
}

TEST_CASE("stall: the server as the writer (a response in two writes), and three in a row") {
    Conv v;
    v.cdata(5, 48);   // the request, whole
    v.sdata(50, 100); // the response head ...
    v.cack(41'000);   // ... the client holds its ACK: it waits for the body
    v.sdata(15, 16);  // the body, released by that ACK
    Capture cap = decode_with(v.bytes());
    StallFacts s = stall_facts(flow(cap, 0));
    REQUIRE(s.stalls.size() == 1);
    CHECK(s.stalls[0].c.writer == server);
    CHECK(s.stalls[0].hold_ns == 41'000'000 - 10'000);  // minus SYN-ACK -> ACK: the round trip to the client
    CHECK_THAT(annotate_bytes(v.bytes(), 0), Catch::Contains("and the server's next small segment waited for it"));

    Conv p;  // pipelined small requests: each one waits for the ACK of the one before
    for (int i = 0; i < 3; ++i) {
        p.cdata(i ? 15 : 5, 30);
        p.sack(40'500);
    }
    p.cdata(15, 30);
    p.sdata(100, 80);
    CHECK(stalls_in(p.bytes()) == 3);
}

TEST_CASE("stall: without the handshake, the MSS is the largest segment seen or 536") {
    // No MSS option seen and a 1000-byte segment earlier: full = 1000, so 40 and 8 are small.
    Conv v(linktype_ethernet, false);
    v.cdata(0, 1000);
    v.sack(100);
    v.cdata(5, 40);
    v.sack(43'000);
    v.cdata(20, 8);
    Capture cap = decode_with(v.bytes());
    StallFacts s = stall_facts(flow(cap, 0));
    CHECK(s.from[client] == MssFrom::largest);
    CHECK(s.mss[client] == 1000);
    REQUIRE(s.stalls.size() == 1);
    CHECK(s.stalls[0].hold_ns == -1);  // no round trip known: the gap is all there is
    CHECK(to_json(cap, summarize(cap))["flows"][0]["stall_mss_from"]["client"].get<std::string>() == "largest");
    CHECK_THAT(annotate_bytes(v.bytes(), 0), Catch::Contains("MSS from the largest segment seen, no handshake captured"));
    // 40 is the largest: under 536, so 536 it is. A segment as large as the largest seen is never small.
    CHECK(stalls_in(nagle(43'000, 20, 40, 8, linktype_ethernet, false).bytes()) == 1);
    CHECK(stalls_in(nagle(43'000, 20, 40, 544, linktype_ethernet, false).bytes()) == 0);
}
