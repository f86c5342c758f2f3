// Netlink sock_diag replies, parsed from bytes a real kernel sent.
//
// The constants below were recorded on kernel 6.18 in a two-host lab (tests/integration/probe_fixtures.sh
// builds the same sockets) with `churn-probe states --netns SERVER --record FILE` and `churn-probe info
// --netns CLIENT --dport 8080 --record FILE`: --record writes every datagram recvmsg() returned, as hex,
// one per line. The NLMSG_ERROR was recorded with a scratch program that sent build_request() with broken
// bytecode. The server host held:
//   LISTEN     198.18.0.2:8080, 198.18.0.2:8081, 198.18.0.4:8082, [::1]:8083
//   ESTAB      198.18.0.2:8080 <- 198.18.0.1:48306      CLOSE-WAIT 198.18.0.2:8081 <- 198.18.0.1:46490
//   SYN-RECV   198.18.0.4:8082 <- 198.18.0.3:58192      TIME-WAIT  2 x 198.18.0.2:8080 (server closed first)
//   ESTAB      [::1]:52922 <-> [::1]:8083 (both ends)
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "probe/sock_diag.h"
#include "probe/tcp_info.h"
#include "probe/tcp_states.h"

using namespace churn::probe;

namespace {

// AF_INET dump (seq 1): 3 LISTEN, ESTAB, CLOSE-WAIT, SYN-RECV, 2 TIME-WAIT; one datagram.
constexpr const char* kStatesV4 =
    "7c000000140002000100000034020000020a00001f920000c61200040000000000000000000000000000000000000000"
    "00000000000000000000000082db07000000000000000000000000000010000000000000c2eda4000500080000000000"
    "08000f00000000000c001500010000000000000006001600520000007c000000140002000100000034020000020a0000"
    "1f910000c6120002000000000000000000000000000000000000000000000000000000000000000083db070000000000"
    "00000000000000000010000000000000baeda400050008000000000008000f00000000000c0015000100000000000000"
    "06001600520000007c000000140002000100000034020000020a00001f900000c6120002000000000000000000000000"
    "000000000000000000000000000000000000000084db07000000000000000000000000000010000000000000b2eda400"
    "050008000000000008000f00000000000c00150001000000000000000600160052000000600000001400020001000000"
    "34020000020603001f90bcb6c6120002000000000000000000000000c612000100000000000000000000000000000000"
    "85db07000000000090e000000000000000000000000000000000000008000f0000000000600000001400020001000000"
    "34020000020301031f92e350c6120004000000000000000000000000c612000300000000000000000000000000000000"
    "86db070000000000f00500000000000000000000000000000000000008000f00000000007c0000001400020001000000"
    "34020000020100001f90bcb2c6120002000000000000000000000000c612000100000000000000000000000000000000"
    "87db07000000000000000000000000000000000000000000d4eda400050008000000000008000f00000000000c001500"
    "010000000000000006001600520000007c000000140002000100000034020000020800001f91b59ac612000200000000"
    "0000000000000000c61200010000000000000000000000000000000088db070000000000000000000000000000000000"
    "00000000d9eda400050008000100000008000f00000000000c0015000100000000000000060016005200000060000000"
    "140002000100000034020000020603001f90bcbec6120002000000000000000000000000c61200010000000000000000"
    "000000000000000089db07000000000098e000000000000000000000000000000000000008000f0000000000";
// Then NLMSG_DONE in a datagram of its own (status 0).
constexpr const char* kStatesV4Done =
    "1400000003000200010000003402000000000000";
// AF_INET6 dump (seq 2): LISTEN [::1]:8083 and both ends of one [::1] connection.
constexpr const char* kStatesV6 =
    "840000001400020002000000340200000a0a00001f930000000000000000000000000000000000010000000000000000"
    "0000000000000000000000008adb07000000000000000000000000000010000000000000caeda4000500080000000000"
    "05000b000100000008000f00000000000c001500010000000000000006001600120000007c0000001400020002000000"
    "340200000a010000ceba1f93000000000000000000000000000000010000000000000000000000000000000100000000"
    "8bdb07000000000000000000000000000000000000000000e1eda400050008000000000008000f00000000000c001500"
    "010000000000000006001600120000007c0000001400020002000000340200000a0100001f93ceba0000000000000000"
    "000000000000000100000000000000000000000000000001000000008cdb070000000000000000000000000000000000"
    "00000000e2eda400050008000000000008000f00000000000c00150001000000000000000600160012000000";
// Its NLMSG_DONE.
constexpr const char* kStatesV6Done =
    "1400000003000200020000003402000000000000";
// churn-probe info --dport 8080 (seq 1, ext INFO|CONG|VEGASINFO): one ESTAB socket, bbr.
constexpr const char* kInfoV4 =
    "b801000014000200010000003502000002010000bcb21f90c6120001000000000000000000000000c612000200000000"
    "0000000000000000000000008ddb07000000000000000000000000000000000000000000d3eda4000500080000000000"
    "08000f00000000000c001500010000000000000006001600520000001c010200010000000007aa01e01c030000000000"
    "a8050000180200000000000000000000000000000000000000000000880a000000000000880a0000880a0000dc050000"
    "58fa00002a00000015000000ffffff7f0a000000a8050000030000000000000090380000000000005127ba3a00000000"
    "ffffffffffffffff010000000000000000000000000000000200000001000000000000002a0000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000"
    "000000000000000000000000000000000000000088fe000000fc00000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000008000400626272001800100000000000000000002a000000"
    "0001000000010000";
// NLMSG_ERROR -EINVAL (seq 42) for bytecode whose first op has yes = 3 (the audit wants 4-aligned
// jumps); the kernel echoes our request after the error code.
constexpr const char* kBadBytecodeError =
    "68000000020000002a000000b9010000eaffffff54000000140001032a0000000000000002060000fe1f000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c000100"
    "0b030c000000901f";

std::vector<uint8_t> bytes(const char* hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
    return out;
}

struct Seen {
    std::map<std::string, int> by_state;
    std::vector<SockRecord> recs;
};

ReplyChunk parse(const std::vector<uint8_t>& b, uint32_t seq, Seen& seen) {
    return parse_reply(b, seq, [&](const DiagMessage& m) {
        ++seen.by_state[std::string(state_name(m.rec.state))];
        seen.recs.push_back(m.rec);
    });
}

// Offsets of the messages in a datagram, walking nlmsg_len the way the kernel laid them out.
std::vector<size_t> message_starts(const std::vector<uint8_t>& b) {
    std::vector<size_t> starts;
    for (size_t off = 0; off < b.size();) {
        starts.push_back(off);
        uint32_t len;
        std::memcpy(&len, b.data() + off, 4);
        off += NLMSG_ALIGN(len);
    }
    return starts;
}

}  // namespace

TEST_CASE("sock_diag: one recorded IPv4 datagram, then NLMSG_DONE in the next", "[probe]") {
    Seen seen;
    ReplyChunk c = parse(bytes(kStatesV4), 1, seen);
    CHECK_FALSE(c.done);  // the kernel sends DONE in a datagram of its own after a small dump
    CHECK(c.sockets == 8);
    CHECK(seen.by_state == std::map<std::string, int>{{"LISTEN", 3}, {"TIME-WAIT", 2}, {"SYN-RECV", 1}, {"ESTAB", 1}, {"CLOSE-WAIT", 1}});

    bool found_cw = false, found_syn = false;
    for (const SockRecord& r : seen.recs) {
        CHECK(r.family == AF_INET);
        if (r.state == kCloseWait) {
            found_cw = true;
            CHECK(r.local() == "198.18.0.2:8081");
            CHECK(r.remote() == "198.18.0.1:46490");
            CHECK(r.inode != 0);  // a full socket has an inode: the key to its owner's fd
        }
        if (r.state == kSynRecv) {  // NEW_SYN_RECV is reported as SYN_RECV by the kernel itself
            found_syn = true;
            CHECK(r.local() == "198.18.0.4:8082");
            CHECK(r.remote() == "198.18.0.3:58192");
        }
        if (r.state == kTimeWait) CHECK(r.inode == 0);  // no struct socket, no fd
    }
    CHECK(found_cw);
    CHECK(found_syn);

    Seen none;
    ReplyChunk done = parse(bytes(kStatesV4Done), 1, none);
    CHECK(done.done);
    CHECK(done.sockets == 0);
}

TEST_CASE("sock_diag: IPv6 datagram: [::1] addresses and ports", "[probe]") {
    Seen seen;
    ReplyChunk c = parse(bytes(kStatesV6), 2, seen);
    CHECK(c.sockets == 3);
    CHECK(seen.by_state == std::map<std::string, int>{{"LISTEN", 1}, {"ESTAB", 2}});
    for (const SockRecord& r : seen.recs) {
        CHECK(r.family == AF_INET6);
        if (r.state == kListen) CHECK(r.local() == "[::1]:8083");
    }
    CHECK(parse(bytes(kStatesV6Done), 2, seen).done);
}

TEST_CASE("sock_diag: a multi-part reply split over several datagrams counts every socket once", "[probe]") {
    // A large dump arrives as many datagrams, each holding whole messages (NLM_F_MULTI), the last one
    // NLMSG_DONE. Cut the recorded datagram at message boundaries into three datagrams and feed them in
    // order, as three recvmsg() calls would.
    std::vector<uint8_t> all = bytes(kStatesV4);
    std::vector<size_t> starts = message_starts(all);
    REQUIRE(starts.size() == 8);
    std::vector<std::vector<uint8_t>> parts = {{all.begin(), all.begin() + starts[3]},
                                               {all.begin() + starts[3], all.begin() + starts[6]},
                                               {all.begin() + starts[6], all.end()},
                                               bytes(kStatesV4Done)};
    Seen seen;
    size_t total = 0;
    bool done = false;
    for (size_t i = 0; i < parts.size(); ++i) {
        ReplyChunk c = parse(parts[i], 1, seen);
        total += c.sockets;
        CHECK(c.done == (i == parts.size() - 1));
        done = c.done;
    }
    CHECK(done);
    CHECK(total == 8);
    CHECK(seen.by_state["LISTEN"] == 3);
    CHECK(seen.by_state["TIME-WAIT"] == 2);
}

TEST_CASE("sock_diag: truncated datagrams are errors, never a read past the end", "[probe]") {
    std::vector<uint8_t> all = bytes(kStatesV4);
    Seen seen;
    SECTION("cut inside a message") {
        std::vector<uint8_t> cut(all.begin(), all.begin() + 100);
        CHECK_THROWS_AS(parse(cut, 1, seen), DiagTruncated);
        CHECK(seen.recs.empty());  // the first message (124 bytes) is incomplete: nothing delivered
    }
    SECTION("cut after the first message, inside the second header") {
        std::vector<size_t> starts = message_starts(all);
        std::vector<uint8_t> cut(all.begin(), all.begin() + starts[1] + 10);
        CHECK_THROWS_AS(parse(cut, 1, seen), DiagTruncated);
        CHECK(seen.recs.size() == 1);  // the complete first message was delivered before the error
    }
    SECTION("a length field larger than the datagram") {
        std::vector<uint8_t> bad = all;
        uint32_t huge = 100000;
        std::memcpy(bad.data(), &huge, 4);
        CHECK_THROWS_AS(parse(bad, 1, seen), DiagTruncated);
    }
    SECTION("a message too short for inet_diag_msg") {
        std::vector<uint8_t> bad(all.begin(), all.begin() + 16 + 40);
        uint32_t len = 16 + 40;
        std::memcpy(bad.data(), &len, 4);
        CHECK_THROWS_AS(parse(bad, 1, seen), DiagTruncated);
    }
}

TEST_CASE("sock_diag: NLMSG_ERROR carries -errno; DONE can carry one too", "[probe]") {
    Seen seen;
    try {
        parse(bytes(kBadBytecodeError), 42, seen);
        FAIL("no exception");
    } catch (const DiagError& e) {
        CHECK(e.err == EINVAL);
        CHECK(std::string(e.what()).find("EINVAL") != std::string::npos);
    }
    std::vector<uint8_t> done = bytes(kStatesV4Done);
    int32_t status = -ENOENT;  // what a dump with no TCP handler would end with
    std::memcpy(done.data() + NLMSG_HDRLEN, &status, 4);
    try {
        parse(done, 1, seen);
        FAIL("no exception");
    } catch (const DiagError& e) {
        CHECK(e.err == ENOENT);
        CHECK(diag_unavailable(e.err));  // -> fall back to /proc
    }
    CHECK_FALSE(diag_unavailable(EINVAL));
}

TEST_CASE("sock_diag: messages of another dump (other seq) are skipped", "[probe]") {
    Seen seen;
    ReplyChunk c = parse(bytes(kStatesV4), 7, seen);
    CHECK(c.sockets == 0);
    CHECK(c.foreign == 8);
    CHECK_FALSE(parse(bytes(kStatesV4Done), 7, seen).done);
}

TEST_CASE("sock_diag: tcp_info, congestion control and BBR from a recorded info reply", "[probe]") {
    std::vector<ConnInfo> conns;
    ReplyChunk c = parse_reply(bytes(kInfoV4), 1, [&](const DiagMessage& m) { conns.push_back(decode_conn(m)); });
    REQUIRE(c.sockets == 1);
    const ConnInfo& x = conns[0];
    CHECK(x.rec.state == kEstablished);
    CHECK(x.rec.local() == "198.18.0.1:48306");
    CHECK(x.rec.remote() == "198.18.0.2:8080");
    REQUIRE(x.has_info);
    CHECK(x.cong == "bbr");
    CHECK(x.rtt_us == 42);
    CHECK(x.rttvar_us == 21);
    CHECK(x.rto_us == 204000);
    CHECK(x.snd_cwnd == 10);
    CHECK(x.snd_mss == 1448);
    CHECK_FALSE(x.ssthresh_known());  // no loss yet: "infinite", and ss leaves it out
    CHECK(x.snd_wscale == 10);
    CHECK(x.rcv_wscale == 10);
    CHECK((x.options & 1) != 0);  // TCPI_OPT_TIMESTAMPS
    CHECK((x.options & 2) != 0);  // TCPI_OPT_SACK
    REQUIRE(x.snd_wnd);
    CHECK(*x.snd_wnd == 65160);
    REQUIRE(x.bbr);
    CHECK(x.bbr->min_rtt_us == 42);
    CHECK(x.bbr->pacing_gain == 256);
    nlohmann::ordered_json j = conn_json(x);
    CHECK(j["rtt_ms"] == Approx(0.042));
    CHECK(j["ssthresh"].is_null());
    CHECK(j["options"]["sack"] == true);
    CHECK(conn_text(x).find("rtt:0.042/0.021") != std::string::npos);
}

TEST_CASE("sock_diag: attribute lookup stops at a malformed attribute", "[probe]") {
    std::vector<uint8_t> attrs = {8, 0, INET_DIAG_SHUTDOWN, 0, 0, 0, 0, 0,   // a good one
                                  0, 0, INET_DIAG_CONG, 0};                    // nla_len 0: malformed
    DiagMessage m;
    m.attrs = attrs;
    CHECK(m.attr(INET_DIAG_SHUTDOWN).size() == 4);
    CHECK(m.attr(INET_DIAG_CONG).empty());
    std::vector<uint8_t> overrun = {200, 0, INET_DIAG_CONG, 0, 'b', 'b', 'r', 0};  // says 200 bytes, has 8
    m.attrs = overrun;
    CHECK(m.attr(INET_DIAG_CONG).empty());
}

TEST_CASE("sock_diag: the request datagram", "[probe]") {
    DiagRequest r;
    r.family = AF_INET6;
    r.states = kAllStates;
    r.ext = kExtInfo | kExtCong;
    std::vector<uint8_t> plain = build_request(r, 9);
    REQUIRE(plain.size() == 16 + 56);
    nlmsghdr h;
    std::memcpy(&h, plain.data(), sizeof h);
    CHECK(h.nlmsg_len == 72);
    CHECK(h.nlmsg_type == SOCK_DIAG_BY_FAMILY);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
    CHECK(h.nlmsg_seq == 9);
    inet_diag_req_v2 req;
    std::memcpy(&req, plain.data() + 16, sizeof req);
    CHECK(req.sdiag_family == AF_INET6);
    CHECK(req.sdiag_protocol == IPPROTO_TCP);
    CHECK(req.idiag_states == 0x1ffe);
    CHECK(req.idiag_ext == ((1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1))));

    r.bytecode = {1, 2, 3, 4, 5, 6};  // 6 bytes: the attribute is padded to 8 + 4-byte header
    std::vector<uint8_t> with = build_request(r, 9);
    CHECK(with.size() == 72 + 12);
    nlattr a;
    std::memcpy(&a, with.data() + 72, sizeof a);
    CHECK(a.nla_type == INET_DIAG_REQ_BYTECODE);
    CHECK(a.nla_len == 4 + 6);
    CHECK(with[76] == 1);
    CHECK(with[81] == 6);
}

TEST_CASE("tcp states: ss names and the request mask", "[probe]") {
    CHECK(state_name(kEstablished) == "ESTAB");
    CHECK(state_name(kNewSynRecv) == "SYN-RECV");
    CHECK(state_name(kClose) == "UNCONN");
    CHECK(state_from_name("time-wait") == kTimeWait);
    CHECK(state_from_name("CLOSE-WAIT") == kCloseWait);
    CHECK_FALSE(state_from_name("TIMEWAIT"));
    CHECK(request_mask(state_bit(kSynRecv)) == (state_bit(kSynRecv) | state_bit(kNewSynRecv)));
    CHECK(request_mask(state_bit(kTimeWait)) == state_bit(kTimeWait));
}

// Found by make fuzz-sock_diag: a congestion-control name that is not UTF-8 made conn_json().dump() throw,
// and churn-probe lost its whole output. The kernel's names are printable ASCII; anything else is shown as '?'.
TEST_CASE("sock_diag: a congestion-control name with non-ASCII bytes still gives valid JSON", "[probe]") {
    std::vector<uint8_t> reply = bytes(kInfoV4);
    const uint8_t bbr[] = {'b', 'b', 'r', 0};
    auto at = std::search(reply.begin(), reply.end(), std::begin(bbr), std::end(bbr));
    REQUIRE(at != reply.end());
    at[1] = 0xed;  // the first byte of a 3-byte UTF-8 sequence, cut short
    at[2] = 0x01;  // a control character
    std::vector<ConnInfo> conns;
    parse_reply(reply, 1, [&](const DiagMessage& m) { conns.push_back(decode_conn(m)); });
    REQUIRE(conns.size() == 1);
    CHECK(conns[0].cong == "b??");
    std::string text;
    CHECK_NOTHROW(text = conn_json(conns[0]).dump());
    CHECK(text.find("\"b??\"") != std::string::npos);
}
