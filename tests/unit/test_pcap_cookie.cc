// test_pcap_cookie.cc: the SYN-cookie verdict (pcap/cookie.h) on real captures of the same download with
// the server's tcp_syncookies at 2 (every SYN answered with a cookie) and at 0 (never). The captures are
// tcpdump's, made by tests/pcap/make-cookie-captures.sh; what each one shows is written there.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "tests/unit/test_pcap_util.h"

using namespace churn::test;

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string annotate_file(const std::string& name) {
    std::string path = pcap_fixture(name), out;
    PcapFile f = PcapFile::open(path);
    annotate(f, path, all_of_flow(0), out);
    return out;
}

// The one flow of a capture, its facts, and what decode --json says about it.
struct Judged {
    Capture cap;
    CookieFacts facts;
    std::string json_cookie;
    uint64_t likely, no, unknown;
};
Judged judge(Capture cap) {
    Judged j{std::move(cap), {}, "", 0, 0, 0};
    REQUIRE(j.cap.table.flows().size() == 1);
    j.facts = cookie_facts(flow(j.cap, 0), j.cap.last_ns);
    auto js = to_json(j.cap, summarize(j.cap));
    j.json_cookie = js["flows"][0]["cookie"].get<std::string>();
    j.likely = js["totals"]["syn_cookies"]["likely"].get<uint64_t>();
    j.no = js["totals"]["syn_cookies"]["no"].get<uint64_t>();
    j.unknown = js["totals"]["syn_cookies"]["unknown"].get<uint64_t>();
    return j;
}
Judged judge_file(const std::string& name) { return judge(decode_path(pcap_fixture(name))); }

void check_verdict(const Judged& j, Cookie want) {
    CHECK(j.facts.verdict == want);
    CHECK(j.json_cookie == cookie_name(want));
    CHECK(j.likely == (want == Cookie::likely ? 1u : 0u));
    CHECK(j.no == (want == Cookie::no ? 1u : 0u));
    CHECK(j.unknown == 0u);
    // decode's text: the totals line counts it too, and the flow's row names the verdict.
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* out = ::open_memstream(&buf, &len);
    REQUIRE(out);
    print_table(out, j.cap, summarize(j.cap), false);
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    CHECK_THAT(text, Catch::Contains(std::string("SYN cookies   ") + (want == Cookie::likely ? "1" : "0") +
                                     " flows look like cookie answers, " + (want == Cookie::no ? "1" : "0") + " do not"));
    CHECK_THAT(text, Catch::Contains(std::string(" ") + cookie_name(want) + " "));
}

}  // namespace

TEST_CASE("cookie: no timestamps, tcp_syncookies=2: a SYN-ACK without wscale/SACK") {
    Judged j = judge_file("cookie_nots.pcap");
    check_verdict(j, Cookie::likely);
    CHECK(j.facts.syn_ws_sack);
    CHECK_FALSE(j.facts.synack_ws_sack);
    CHECK_FALSE(j.facts.timestamps);
    CHECK(j.facts.server_mss == 1460);  // from 7300-byte GSO aggregates: 5 x 1460
    CHECK(j.facts.aggregates);
    std::string a = annotate_file("cookie_nots.pcap");
    CHECK_THAT(a, Catch::Contains("SYN-ACK without wscale/SACK though the SYN offered them (and had no timestamps): "
                                  "what a SYN cookie answer looks like (tcp_syncookies); no window scaling, so the "
                                  "window stays <= 64 KB on this connection"));
    CHECK_THAT(a, Catch::Contains("SYN cookie: likely"));
}

TEST_CASE("cookie: no timestamps, tcp_syncookies=0: the same SYN, a full SYN-ACK") {
    Judged j = judge_file("nocookie_nots.pcap");
    check_verdict(j, Cookie::no);
    CHECK(j.facts.synack_ws_sack);
    std::string a = annotate_file("nocookie_nots.pcap");
    CHECK_THAT(a, !Catch::Contains("SYN-ACK without wscale/SACK"));
    CHECK_THAT(a, Catch::Contains("SYN cookie: no"));
}

TEST_CASE("cookie: the no-timestamp cookie on Linux cooked (SLL2) and cut down to raw IP (DLT_RAW)") {
    check_verdict(judge_file("cookie_nots_sll.pcap"), Cookie::likely);
    Judged raw = judge(decode_bytes(ethernet_to_raw(file_bytes(pcap_fixture("cookie_nots.pcap")))));
    CHECK(raw.cap.header.linktype == linktype_raw);
    check_verdict(raw, Cookie::likely);
    check_verdict(judge(decode_bytes(ethernet_to_raw(file_bytes(pcap_fixture("nocookie_nots.pcap"))))), Cookie::no);
}

TEST_CASE("cookie: timestamps: the SYN-ACK's TSval lags the server's clock (rounded down to 64 ms)") {
    Judged c = judge_file("cookie_ts.pcap");
    check_verdict(c, Cookie::likely);
    CHECK(c.facts.timestamps);
    CHECK(c.facts.synack_ws_sack);  // wscale and SACK survive: they ride in TSval
    REQUIRE(c.facts.lag_known);
    CHECK(c.facts.lag_ms == 35);    // 42 ticks in 6.6 ms
    CHECK(c.facts.ts_expected == 26);  // wscale 10 | SACK (16)
    CHECK(c.facts.ts_bits == 9);       // hidden by the per-host-pair offset (tcp_timestamps=1)

    Judged n = judge_file("nocookie_ts.pcap");
    check_verdict(n, Cookie::no);
    REQUIRE(n.facts.lag_known);
    CHECK(n.facts.lag_ms == 0);  // 6 ticks in 5.9 ms
    CHECK_THAT(annotate_file("nocookie_ts.pcap"), Catch::Contains("no cookie rounding"));
}

TEST_CASE("cookie: timestamps without the per-host offset (server tcp_timestamps=2): the options in TSval") {
    Judged j = judge_file("cookie_ts_nooff.pcap");
    check_verdict(j, Cookie::likely);
    CHECK(j.facts.ts_bits == 26);
    CHECK(j.facts.ts_expected == 26);
    CHECK_THAT(annotate_file("cookie_ts_nooff.pcap"),
               Catch::Contains("TSval low 6 bits 26 (wscale 10, SACK, no ECN) match the SYN's options"));
}

TEST_CASE("cookie: MSS 1400 becomes msstab's 1300 with a cookie, stays 1400 without") {
    Judged c = judge_file("cookie_mss1400.pcap");
    check_verdict(c, Cookie::likely);
    CHECK(c.facts.allowed == 1400);
    CHECK(c.facts.server_mss == 1300);  // 2576-byte aggregates: 2 x 1288 + 12 B of timestamps each
    CHECK(c.facts.mss_capped);
    CHECK_THAT(annotate_file("cookie_mss1400.pcap"),
               Catch::Contains("server segments <= 1300 B (1288 B of data + 12 B of timestamps) although the SYN "
                               "allowed 1400: a cookie's MSS table"));
    Judged n = judge_file("nocookie_mss1400.pcap");
    check_verdict(n, Cookie::no);
    CHECK(n.facts.server_mss == 1400);
    CHECK_FALSE(n.facts.mss_capped);
}

TEST_CASE("cookie: without a captured handshake there is nothing to judge") {
    Capture cap = decode_path(pcap_fixture("pooled_en10mb.pcap"));
    CookieFacts f = cookie_facts(flow(cap, 0));
    CHECK(f.verdict == Cookie::unknown);
    CHECK_FALSE(f.handshake);
    CHECK(to_json(cap, summarize(cap))["flows"][0]["cookie"] == "unknown");
}

TEST_CASE("cookie: the older lab captures (tcp_syncookies=1, a queue never full) all say no") {
    // Ordinary handshakes with timestamps and a small response: the server's next TSval keeps pace.
    for (const char* name : {"churn_en10mb.pcap", "churn_sll.pcap", "churn_sll2.pcap", "churn_ipv6.pcap", "server_close.pcap"}) {
        INFO(name);
        Capture cap = decode_path(pcap_fixture(name));
        for (const Flow& f : cap.table.flows()) {
            CookieFacts c = cookie_facts(f);
            CHECK(c.verdict == Cookie::no);
            CHECK(c.lag_known);
            CHECK(c.lag_ms <= 1);
        }
        CHECK(summarize(cap).cookie_no == cap.table.flows().size());
    }
}

TEST_CASE("cookie: tcpdump on a TUN over churn-link (DLT_RAW, 20 ms RTT): segments as sent, no aggregates") {
    Judged c = judge_file("cookie_nots_tun.pcap");
    CHECK(c.cap.header.linktype == linktype_raw);
    check_verdict(c, Cookie::likely);
    CHECK_FALSE(c.facts.aggregates);
    CHECK(flow(c.cap, 0).cookie.largest[server] == 1460);
    check_verdict(judge_file("nocookie_nots_tun.pcap"), Cookie::no);

    Judged m = judge_file("cookie_mss1400_tun.pcap");
    check_verdict(m, Cookie::likely);
    CHECK(flow(m.cap, 0).cookie.largest[server] == 1288);  // 1300 - 12 B of timestamps, segment by segment
    CHECK(m.facts.server_mss == 1300);
    CHECK(m.facts.mss_capped);
    CHECK(m.facts.lag_ms == 7);  // the next server TSval comes a round trip (21.3 ms) later, 28 higher
    Judged n = judge_file("nocookie_mss1400_tun.pcap");
    check_verdict(n, Cookie::no);
    CHECK(flow(n.cap, 0).cookie.largest[server] == 1388);
    CHECK(n.facts.server_mss == 1400);
    CHECK(n.facts.lag_ms == 0);
}

TEST_CASE("cookie: an ECN SYN (ECE|CWR) with a cookie: TSval bit 5 set, 58 = wscale 10 | SACK | ECN") {
    Judged j = judge_file("cookie_ecn_nooff.pcap");
    check_verdict(j, Cookie::likely);
    CHECK(j.facts.ts_bits == 58);
    CHECK(j.facts.ts_expected == 58);
    CHECK_THAT(annotate_file("cookie_ecn_nooff.pcap"), Catch::Contains("TSval low 6 bits 58 (wscale 10, SACK, ECN) match"));
}

TEST_CASE("cookie: a SYN-ACK the server sends again without a new SYN means it kept state: no cookie") {
    // cookie_nots.pcap with its SYN-ACK (record 1) captured twice, the copy 1 s later: the server's own
    // retransmit timer, which a cookie answer does not have.
    std::vector<uint8_t> b = file_bytes(pcap_fixture("cookie_nots.pcap"));
    size_t r1 = record_offset(b, 1), r2 = record_offset(b, 2);
    std::vector<uint8_t> copy(b.begin() + r1, b.begin() + r2);
    copy[0] = static_cast<uint8_t>(copy[0] + 1);  // ts_sec + 1 (little-endian; no carry for these files)
    b.insert(b.begin() + r2, copy.begin(), copy.end());
    Judged j = judge(decode_bytes(b));
    CHECK(j.facts.synack_unprompted == 1);
    CHECK(j.facts.verdict == Cookie::unknown);  // its options still look like a cookie's: the clues disagree
    PcapFile f = PcapFile::from_bytes(b.data(), b.size());
    std::string out;
    annotate(f, "memory", all_of_flow(0), out);
    CHECK_THAT(out, Catch::Contains("retransmitted its SYN-ACK without a new SYN"));
    CHECK_THAT(out, Catch::Contains("SYN cookie: unknown"));
}

TEST_CASE("cookie: IPv6 has its own msstab (1220, 1420, 1440, 8940): a SYN's MSS 1400 becomes 1220") {
    Judged j = judge_file("cookie_v6_mss1400.pcap");
    CHECK(flow(j.cap, 0).key.v6);
    check_verdict(j, Cookie::likely);
    CHECK(j.facts.allowed == 1400);
    CHECK(j.facts.server_mss == 1220);  // aggregates of 1208-byte segments + 12 B of timestamps
    CHECK(j.facts.mss_capped);
    CHECK_THAT(annotate_file("cookie_v6_mss1400.pcap"), Catch::Contains("(msstab 1220/1420/1440/8940)"));
}

TEST_CASE("cookie: a small flood on the server's veth: the verdicts count what the kernel counted") {
    // flood_srv.pcap: 20 spoofed SYNs at a listener with backlog 4 (tcp_syncookies=1), then one real
    // download. The server's nstat said TcpExtSyncookiesSent 16, TcpExtSyncookiesRecv 1: the SYN queue
    // took 5 (backlog + 1), 15 spoofed SYNs and the real client got cookies.
    Capture cap = decode_path(pcap_fixture("flood_srv.pcap"));
    REQUIRE(cap.table.flows().size() == 21);
    Totals t = summarize(cap);
    CHECK(t.cookie_likely == 16);
    CHECK(t.cookie_no == 5);
    CHECK(t.cookie_unknown == 0);
    for (const Flow& f : cap.table.flows()) {
        INFO("flow " << f.index);
        CookieFacts c = cookie_facts(f, cap.last_ns);
        if (f.index < 5) {  // request socks: their SYN-ACKs resent at 1 s and 3 s, no SYN between
            CHECK(c.verdict == Cookie::no);
            CHECK(c.synack_unprompted == 2);
        } else if (f.index < 20) {  // cookies to nobody: sent once, never again
            CHECK(c.verdict == Cookie::likely);
            CHECK(c.quiet_ms >= 1500);
            CHECK(f.synacks == 1);
        } else {  // the real client: answered with a cookie, its TSval rounded down
            CHECK(c.verdict == Cookie::likely);
            CHECK(c.lag_known);
            CHECK(c.lag_ms >= 3);
        }
    }
    CHECK(cookie_facts(flow(cap, 7)).verdict == Cookie::unknown);  // without the capture's end: no clue
}
