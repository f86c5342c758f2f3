// test_pcap_files.cc: the decoder against real captures (tests/pcap/, made by make-captures.sh in a lab).
// Every number below was checked against tshark on the same file when the file was made
// (tcp.analysis.initial_rtt per tcp.stream, to the µs; t_pcap_tshark.sh repeats that check live).
#include <catch2/catch.hpp>

#include "tests/unit/test_pcap_util.h"

using namespace churn::test;

namespace {

std::vector<int64_t> irtts(const Capture& cap) {
    std::vector<int64_t> v;
    for (const Flow& f : cap.table.flows()) v.push_back(f.handshake() ? us(f.irtt_ns) : -1);
    return v;
}
std::vector<int64_t> synacks(const Capture& cap) {
    std::vector<int64_t> v;
    for (const Flow& f : cap.table.flows()) v.push_back(f.synacks ? us(f.synack_ns - f.syn_ns) : -1);
    return v;
}

// What every churn connection on the lab's veth looks like: Linux's SYN options, one request, one
// response, the client closes first and ends in TIME-WAIT.
void check_linux_churn_flow(const Flow& f, int32_t mss) {
    CHECK(f.syns == 1);
    CHECK(f.synacks == 1);
    CHECK(f.handshake());
    CHECK_FALSE(f.client_guessed);
    CHECK(f.opt[client].mss == mss);
    CHECK(f.opt[server].mss == mss);
    CHECK(f.opt[client].wscale == 10);  // this kernel's default receive buffer needs shift 10
    CHECK(f.opt[server].wscale == 10);
    CHECK(f.opt[client].sack_ok);
    CHECK(f.opt[server].timestamps);
    CHECK(f.requests == 1);
    CHECK(f.responses == 1);
    CHECK(f.reused_requests() == 0);
    CHECK(f.packets == 10);
}

}  // namespace

TEST_CASE("pcap file: churn on the client's veth (Ethernet, ns timestamps)") {
    Capture cap = decode_path(pcap_fixture("churn_en10mb.pcap"));
    CHECK(cap.header.linktype == linktype_ethernet);
    CHECK(cap.header.nanosecond);
    CHECK(cap.records == 30);
    CHECK(cap.tcp_segments == 30);
    CHECK(irtts(cap) == std::vector<int64_t>{33, 37, 45});
    CHECK(synacks(cap) == std::vector<int64_t>{22, 26, 32});
    for (const Flow& f : cap.table.flows()) {
        check_linux_churn_flow(f, 1460);
        CHECK(f.closed_by == client);
        CHECK_FALSE(f.reset);
        CHECK(f.last_ack_seen);
        CHECK(f.bytes[client] == 67);   // "GET / HTTP/1.1\r\nHost: ...\r\n\r\n"
        CHECK(f.bytes[server] == 151);  // headers + 64-byte body
    }
    CHECK(endpoint_str(flow(cap, 0).key, end_of(flow(cap, 0), client)) == "198.18.0.1:56144");
    CHECK(endpoint_str(flow(cap, 0).key, end_of(flow(cap, 0), server)) == "198.18.0.2:8080");
    Totals t = summarize(cap);
    CHECK(t.connections == 3);
    CHECK(t.handshakes == 3);
    CHECK(t.reused_requests == 0);
    CHECK(t.closed_by_client == 3);
    CHECK(t.irtt.p50 == 37);
    CHECK(t.timeline == std::vector<uint32_t>{3});
    for (int i = 0; i < issue_count; ++i) CHECK(cap.issues.n[i] == 0);
}

TEST_CASE("pcap file: Linux cooked captures on any (SLL and SLL2)") {
    Capture sll = decode_path(pcap_fixture("churn_sll.pcap"));
    CHECK(sll.header.linktype == linktype_linux_sll);
    CHECK(irtts(sll) == std::vector<int64_t>{42, 34});
    Capture sll2 = decode_path(pcap_fixture("churn_sll2.pcap"));
    CHECK(sll2.header.linktype == linktype_linux_sll2);
    CHECK(irtts(sll2) == std::vector<int64_t>{48, 45});
    for (const Capture* c : {&sll, &sll2})
        for (const Flow& f : c->table.flows()) {
            check_linux_churn_flow(f, 1460);
            CHECK(f.closed_by == client);
        }
}

TEST_CASE("pcap file: IPv6 (MSS 1440: 20 more bytes of IP header than IPv4)") {
    Capture cap = decode_path(pcap_fixture("churn_ipv6.pcap"));
    CHECK(irtts(cap) == std::vector<int64_t>{34, 47});
    for (const Flow& f : cap.table.flows()) {
        CHECK(f.key.v6);
        check_linux_churn_flow(f, 1440);
    }
    CHECK(endpoint_str(flow(cap, 1).key, end_of(flow(cap, 1), server)) == "[2001:2::2]:8080");
}

TEST_CASE("pcap file: the server closes first (TIME-WAIT on the server)") {
    Capture cap = decode_path(pcap_fixture("server_close.pcap"));
    CHECK(irtts(cap) == std::vector<int64_t>{42, 43});
    for (const Flow& f : cap.table.flows()) {
        CHECK(f.closed_by == server);
        CHECK(f.last_ack_seen);
    }
    CHECK(summarize(cap).closed_by_server == 2);
    PcapFile f = PcapFile::open(pcap_fixture("server_close.pcap"));
    std::string out;
    REQUIRE(annotate(f, "server_close.pcap", all_of_flow(1), out));
    CHECK_THAT(out, Catch::Contains("FIN from the server: it closes first, so TIME-WAIT (60 s) lands on the server"));
    CHECK_THAT(out, Catch::Contains("ACK of the client's FIN: the server's socket is now in TIME-WAIT"));
}

TEST_CASE("pcap file: half a second of a keep-alive pool, no SYN in the capture") {
    Capture cap = decode_path(pcap_fixture("pooled_en10mb.pcap"));
    REQUIRE(cap.table.flows().size() == 1);
    const Flow& f = flow(cap, 0);
    CHECK(f.syns == 0);
    CHECK_FALSE(f.handshake());
    CHECK(f.client_guessed);
    CHECK(endpoint_str(f.key, end_of(f, client)) == "198.18.0.1:56208");  // the higher port is the client
    CHECK(f.requests == 10);
    CHECK(f.responses == 10);
    CHECK(f.reused_requests() == 10);
    CHECK(f.closed_by == -1);
    Totals t = summarize(cap);
    CHECK(t.handshakes == 0);
    CHECK(t.already_open == 1);
    CHECK(t.reused_requests == 10);

    PcapFile pf = PcapFile::open(pcap_fixture("pooled_en10mb.pcap"));
    std::string out;
    REQUIRE(annotate(pf, "pooled", all_of_flow(0), out));
    CHECK_THAT(out, Catch::Contains("no SYN in this capture"));
    CHECK_THAT(out, Catch::Contains("request 2 on an established connection: no SYN, the handshake's round trip"));
    CHECK_THAT(out, Catch::Contains("unknown"));  // no handshake in this file to measure the saved round trip
}

TEST_CASE("pcap file: a SYN into a TUN device nobody answers (DLT_RAW, retransmitted SYNs)") {
    Capture cap = decode_path(pcap_fixture("tun_raw_syn.pcap"));
    CHECK(cap.header.linktype == linktype_raw);
    REQUIRE(cap.table.flows().size() == 2);  // the client's retry after its 3.5 s timeout is a new connection
    const Flow& f = flow(cap, 0);
    CHECK(f.syns == 4);  // this kernel: SYN at 0, then 1 s apart (tcp_syn_linear_timeouts)
    CHECK(f.synacks == 0);
    CHECK_FALSE(f.handshake());
    CHECK(f.irtt_ns == -1);
    CHECK(f.opt[client].mss == 1460);
    CHECK(flow(cap, 1).syns == 3);
    Totals t = summarize(cap);
    CHECK(t.handshakes == 0);
    CHECK(t.syn_without_handshake == 2);
    CHECK(t.syn_retransmits == 5);
    auto j = to_json(cap, t);
    CHECK(j["flows"][0]["irtt_us"].is_null());
    CHECK(j["flows"][0]["syn_retransmits"] == 3);
}

TEST_CASE("pcap file: annotate explains the churn handshake") {
    PcapFile f = PcapFile::open(pcap_fixture("churn_en10mb.pcap"));
    std::string out;
    REQUIRE(annotate(f, "churn", all_of_flow(0), out));
    CHECK_THAT(out, Catch::Contains("SYN: the client asks to connect, offering MSS 1460, wscale 10, SACK, timestamps"));
    CHECK_THAT(out, Catch::Contains("SYN-ACK after 22 µs"));
    CHECK_THAT(out, Catch::Contains("one round trip paid before any data"));
    CHECK_THAT(out, Catch::Contains("handshake complete, iRTT 33 µs"));
    CHECK_THAT(out, Catch::Contains("request 1: 67 bytes from the client"));
    CHECK_THAT(out, Catch::Contains("response 1: 151 bytes from the server"));
    CHECK_THAT(out, Catch::Contains("FIN from the client: it closes first, so TIME-WAIT (60 s) lands on the client"));
    CHECK_THAT(out, Catch::Contains("tcp.stream == 0"));
    std::string none;
    f.rewind();
    CHECK_FALSE(annotate(f, "churn", all_of_flow(3), none));
    CHECK_THAT(none, Catch::Contains("no flow 3"));
}
