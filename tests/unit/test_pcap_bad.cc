// test_pcap_bad.cc: bad input, made byte by byte. Unusable files throw one Unusable (exit 2 in main);
// everything else is counted by kind and the rest of the file still decodes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

#include "tests/unit/test_pcap_util.h"

using namespace churn::test;

namespace {

// One ordinary connection, 10 records on Ethernet.
std::vector<uint8_t> good_file(uint32_t linktype = linktype_ethernet) {
    PcapWriter w(linktype);
    synth_flow(w, SynthFlow{});
    return w.bytes();
}

std::string unusable_reason(const std::vector<uint8_t>& b) {
    try {
        PcapFile::from_bytes(b.data(), b.size());
    } catch (const Unusable& e) {
        return e.what();
    }
    return "";
}

// A file of single frames, each built from `spec` and then edited by `edit`.
template <class Edit>
Capture one_frame(uint32_t linktype, const SegmentSpec& spec, Edit edit, uint32_t snaplen = 262144) {
    PcapWriter w(linktype, true, snaplen);
    std::vector<uint8_t> f = build_frame(linktype, spec);
    edit(f);
    w.add(1'000'000'000, f);
    return decode_bytes(w.bytes());
}

SegmentSpec syn_spec() {
    SegmentSpec s;
    s.flags = tcp_syn;
    s.opt = TcpOptions{1460, 7, true, true, 0, 0};
    return s;
}

}  // namespace

TEST_CASE("bad input: files that are not pcap at all are unusable, with a one-line reason") {
    CHECK_THAT(unusable_reason({}), Catch::Contains("empty"));
    std::string text = "GET / HTTP/1.1\r\n\r\n";
    CHECK_THAT(unusable_reason(std::vector<uint8_t>(text.begin(), text.end())), Catch::Contains("not a pcap file (magic 0x"));
    CHECK_THAT(unusable_reason({0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0}), Catch::Contains("pcapng"));
    std::vector<uint8_t> g = good_file();
    CHECK_THAT(unusable_reason(std::vector<uint8_t>(g.begin(), g.begin() + 10)),
               Catch::Contains("truncated pcap global header (10 of 24 bytes)"));
    CHECK_THAT(unusable_reason(std::vector<uint8_t>(g.begin(), g.begin() + 3)), Catch::Contains("shorter than a pcap magic"));
    std::vector<uint8_t> v = g;
    v[4] = 3;  // version 3.4
    CHECK_THAT(unusable_reason(v), Catch::Contains("pcap version 3.4"));
    CHECK(unusable_reason(g).empty());

    // Through the file system: a missing file names the syscall and errno; an empty one is not mapped.
    try {
        PcapFile::open("/nonexistent/x.pcap");
        FAIL("no exception");
    } catch (const Unusable& e) {
        CHECK_THAT(e.what(), Catch::Contains("open") && Catch::Contains("/nonexistent/x.pcap") && Catch::Contains("ENOENT"));
    }
    char path[] = "/tmp/churn-pcap-test-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    CHECK_THROWS_AS(PcapFile::open(path), Unusable);
    ::unlink(path);
}

TEST_CASE("bad input: a file cut short or with a broken record header keeps what came before") {
    std::vector<uint8_t> g = good_file();
    SECTION("cut inside a record header") {
        std::vector<uint8_t> b = g;
        b.insert(b.end(), {1, 2, 3, 4, 5, 6, 7});
        Capture cap = decode_bytes(b);
        CHECK(cap.issues[Issue::truncated_record_header] == 1);
        CHECK(cap.records == 10);
        CHECK(flow(cap, 0).handshake());
    }
    SECTION("cut inside a record's bytes") {
        std::vector<uint8_t> b(g.begin(), g.end() - 5);
        Capture cap = decode_bytes(b);
        CHECK(cap.issues[Issue::truncated_record] == 1);
        CHECK(cap.records == 9);
        CHECK(flow(cap, 0).handshake());
        CHECK_FALSE(flow(cap, 0).last_ack_seen);  // the last record, the final ACK, was the one cut
    }
    SECTION("a caplen no capture could have written: the framing is lost, stop there") {
        std::vector<uint8_t> b = g;
        poke32(b, record_offset(b, 3) + 8, 0x7fffffff);
        Capture cap = decode_bytes(b);
        CHECK(cap.issues[Issue::corrupt_record_header] == 1);
        CHECK(cap.records == 3);
        CHECK(flow(cap, 0).handshake());  // SYN, SYN-ACK, ACK were before it
    }
    SECTION("caplen > len: decoded, counted") {
        std::vector<uint8_t> b = g;
        poke32(b, record_offset(b, 0) + 12, 10);
        Capture cap = decode_bytes(b);
        CHECK(cap.issues[Issue::caplen_gt_len] == 1);
        CHECK(flow(cap, 0).syns == 1);
        CHECK(flow(cap, 0).handshake());
    }
    SECTION("every prefix of the file: never a crash, never more than one framing issue") {
        for (size_t n = global_header_len; n <= g.size(); ++n) {
            Capture cap = decode_bytes(std::vector<uint8_t>(g.begin(), g.begin() + n));
            CHECK(cap.issues[Issue::truncated_record_header] + cap.issues[Issue::truncated_record] <= 1);
        }
    }
}

TEST_CASE("bad input: an unknown link type is counted for every record") {
    std::vector<uint8_t> b = good_file();
    poke32(b, 20, 147);  // LINKTYPE_USER0
    Capture cap = decode_bytes(b);
    CHECK(cap.issues[Issue::unknown_link_type] == 10);
    CHECK(cap.table.flows().empty());
    auto j = to_json(cap, summarize(cap));
    CHECK(j["undecodable"]["unknown_link_type"] == 10);
    CHECK(j["file"]["linktype"] == "unknown");
    // The FCS bits in the high half of the field are not part of the type.
    b = good_file();
    poke32(b, 20, linktype_ethernet | 0x14000000u);
    CHECK(decode_bytes(b).table.flows().size() == 1);
}

TEST_CASE("bad input: link, IP and TCP headers that lie or are cut") {
    SegmentSpec s = syn_spec();
    auto none = [](std::vector<uint8_t>&) {};
    constexpr size_t ip = 14;  // IPv4 header offset in an Ethernet frame
    SECTION("link header cut") {
        auto c = one_frame(linktype_ethernet, s, [](std::vector<uint8_t>& f) { f.resize(10); });
        CHECK(c.issues[Issue::truncated_link_header] == 1);
        c = one_frame(linktype_linux_sll2, s, [](std::vector<uint8_t>& f) { f.resize(19); });
        CHECK(c.issues[Issue::truncated_link_header] == 1);
    }
    SECTION("IPv4: IHL below 5, a total length beyond the frame, a fragment, version 5 in an IPv4 frame") {
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[ip] = 0x44; }).issues[Issue::bad_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[ip + 2] = 0x05, f[ip + 3] = 0xdc; }).issues[Issue::bad_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[ip + 6] = 0x20; }).issues[Issue::ip_fragment] == 1);  // MF
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[ip + 7] = 0x10; }).issues[Issue::ip_fragment] == 1);  // offset
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[ip] = 0x55; }).issues[Issue::bad_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, none, 14 + 12).issues[Issue::truncated_ip_header] == 1);
    }
    SECTION("IPv4 options cut by the snaplen") {
        SegmentSpec o = s;
        o.ip_option_bytes = 24;
        CHECK(one_frame(linktype_ethernet, o, none, 14 + 30).issues[Issue::truncated_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, o, none).table.flows().size() == 1);
    }
    SECTION("TCP: data offset below 5 words, beyond the segment, options cut, an option of length 0") {
        constexpr size_t tcp = ip + 20;
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[tcp + 12] = 0x40; }).issues[Issue::bad_tcp_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, [](auto& f) { f[tcp + 12] = 0xf0; }).issues[Issue::bad_tcp_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, none, tcp + 30).issues[Issue::truncated_tcp_header] == 1);
        CHECK(one_frame(linktype_ethernet, s, none, tcp + 10).issues[Issue::truncated_tcp_header] == 1);
        // MSS first (kind 2, len 4) then SACK-permitted: make the second option's length 0.
        auto c = one_frame(linktype_ethernet, s, [](auto& f) { f[tcp + 20 + 5] = 0; });
        CHECK(c.issues[Issue::bad_tcp_option] == 1);
        REQUIRE(c.table.flows().size() == 1);
        CHECK(flow(c, 0).opt[client].mss == 1460);    // read before the bad option
        CHECK(flow(c, 0).opt[client].wscale == -1);   // after it: ignored
        // A length running past the header.
        c = one_frame(linktype_ethernet, s, [](auto& f) { f[tcp + 20 + 1] = 60; });
        CHECK(c.issues[Issue::bad_tcp_option] == 1);
    }
    SECTION("IPv6: extension headers cut, ESP, a fragment, and a chain longer than the packet") {
        SegmentSpec v6 = s;
        v6.v6 = true, v6.src = "2001:2::1", v6.dst = "2001:2::2", v6.ipv6_ext = true;
        constexpr size_t ext = 14 + 40;
        CHECK(one_frame(linktype_ethernet, v6, none).table.flows().size() == 1);
        CHECK(one_frame(linktype_ethernet, v6, none, ext + 12).issues[Issue::truncated_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, v6, [](auto& f) { f[14 + 6] = 50; }).issues[Issue::non_tcp] == 1);
        // Hop-by-hop's next header -> fragment (44) with a non-zero offset.
        auto frag = [](std::vector<uint8_t>& f) { f[ext] = 44, f[ext + 8 + 2] = 0x00, f[ext + 8 + 3] = 0x08; };
        CHECK(one_frame(linktype_ethernet, v6, frag).issues[Issue::ip_fragment] == 1);
        // Destination options claiming 2 KiB.
        CHECK(one_frame(linktype_ethernet, v6, [](auto& f) { f[ext + 9] = 255; }).issues[Issue::bad_ip_header] == 1);
        CHECK(one_frame(linktype_ethernet, v6, [](auto& f) { f[14] = 0x40; }).issues[Issue::bad_ip_header] == 1);
    }
    SECTION("RAW: neither IPv4 nor IPv6") {
        CHECK(one_frame(linktype_raw, s, [](auto& f) { f[0] = 0x00; }).issues[Issue::non_ip] == 1);
    }
}

TEST_CASE("bad input: random corruption never crashes and every record is accounted for") {
    std::vector<uint8_t> g;
    {
        PcapWriter w(linktype_ethernet);
        synth_churn(w, 20, 1000, 50'000);
        g = w.bytes();
    }
    std::mt19937 rng(42);  // fixed: a failure must reproduce
    for (int round = 0; round < 3000; ++round) {
        std::vector<uint8_t> b = g;
        int flips = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < flips; ++i) b[global_header_len + rng() % (b.size() - global_header_len)] = static_cast<uint8_t>(rng());
        if (round % 7 == 0) b.resize(global_header_len + rng() % (b.size() - global_header_len));
        Capture cap = decode_bytes(b);
        uint64_t undecodable = 0;
        for (int i = 0; i < static_cast<int>(Issue::unknown_link_type); ++i) undecodable += cap.issues.n[i];
        CHECK(undecodable <= 1);  // framing problems end the file: at most one
        uint64_t skipped = 0;
        for (int i = static_cast<int>(Issue::unknown_link_type); i < static_cast<int>(first_note); ++i) skipped += cap.issues.n[i];
        CHECK(cap.tcp_segments + skipped == cap.records);
        to_json(cap, summarize(cap)).dump();
        annotate_bytes(b, 0);
    }
}

TEST_CASE("bad input: the table says what was skipped") {
    std::vector<uint8_t> b = good_file();
    b.resize(b.size() - 5);
    PcapFile f = PcapFile::from_bytes(b.data(), b.size());
    Capture cap;
    cap.path = "cut.pcap";
    decode_file(f, cap);
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* out = ::open_memstream(&buf, &len);
    print_table(out, cap, summarize(cap), true);
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    CHECK_THAT(text, Catch::Contains("undecodable   truncated_record 1"));
    CHECK_THAT(text, Catch::Contains("1 handshakes"));
}

TEST_CASE("bad input: inputs the fuzzer once choked on (tests/pcap/fuzz/) decode, quickly") {
    // timeline-day-span.pcap: a record dated 18 h after the others once sized a 65 536-entry timeline of
    // JSON objects; the timeline is now a plain array and bounded to a day.
    for (const char* name : {"timeline-day-span.pcap"}) {
        INFO(name);
        Capture cap = decode_path(pcap_fixture(std::string("fuzz/") + name));
        Totals t = summarize(cap);
        CHECK(t.timeline.size() <= 86400);
        auto j = to_json(cap, t);
        CHECK(j["flows"].size() == cap.table.flows().size());
    }
}

TEST_CASE("bad input: decode --json of every fixture is valid JSON with the fields the lab reads") {
    for (const char* name : {"churn_en10mb.pcap", "churn_ipv6.pcap", "churn_sll.pcap", "churn_sll2.pcap",
                             "pooled_en10mb.pcap", "server_close.pcap", "tun_raw_syn.pcap", "synth_ipopt_vlan.pcap",
                             "synth_ipv6_ext_sll2.pcap", "synth_raw.pcap"}) {
        INFO(name);
        Capture cap = decode_path(pcap_fixture(name));
        auto j = nlohmann::json::parse(json_text(cap, summarize(cap)));
        for (const char* k : {"connections", "handshakes", "reused_requests"}) CHECK(j["totals"][k].is_number());
        REQUIRE(j["flows"].size() == cap.table.flows().size());
        for (auto& f : j["flows"])
            for (const char* k : {"client", "server", "syn_synack_us", "irtt_us", "mss", "wscale", "sack", "timestamps",
                                  "requests", "closed_by"})
                CHECK(f.contains(k));
    }
}
