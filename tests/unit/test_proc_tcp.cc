// /proc/net/tcp and tcp6: real lines (copied from this machine's files, kernel 6.18) and odd ones. A line
// that does not parse is counted and skipped; the rest of the file still counts.
#include <sys/socket.h>

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "probe/proc_tcp.h"
#include "probe/tcp_states.h"

using namespace churn::probe;

namespace {

const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    "                                                     \n"
    "   0: 020012C6:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 10808001 1 "
    "00000000a1b2c3d4 100 0 0 10 0                      \n"
    "   1: 020012C6:1F90 010012C6:BCB2 01 00000000:00000000 00:00000000 00000000     0        0 10808002 1 "
    "00000000a1b2c3d5 20 4 30 10 -1                     \n"
    "   2: 020012C6:1F90 010012C6:BCBE 06 00000000:00000000 03:00001770 00000000     0        0 0 3 "
    "00000000a1b2c3d6\n"
    "   3: 040012C6:1F92 030012C6:E350 03 00000000:00000000 02:00000064 00000002     0        0 0 1 "
    "00000000a1b2c3d7\n"
    "   4: 020012C6:1F91 010012C6:B59A 08 00000001:0000002A 00:00000000 00000000  1000        0 10808003 1 "
    "00000000a1b2c3d8 20 4 30 10 -1                     \n";

const char* kTcp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
    "tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 "
    "00:00000000 00000000     0        0 10809001 1 0000000011112222 100 0 0 10 0\n"
    "   1: 0000000000000000FFFF0000020012C6:1F90 0000000000000000FFFF0000010012C6:9C40 01 00000000:00000000 "
    "00:00000000 00000000     0        0 10809002 1 0000000011113333 20 4 30 10 -1\n";

}  // namespace

TEST_CASE("proc tcp: IPv4 lines: addresses in host-order hex, ports, states, inodes", "[probe]") {
    std::map<int, int> by_state;
    std::vector<SockRecord> recs;
    ProcTcpStats st = parse_proc_tcp(kTcp, AF_INET, [&](const SockRecord& r) {
        ++by_state[r.state];
        recs.push_back(r);
    });
    CHECK(st.sockets == 5);
    CHECK(st.malformed == 0);
    CHECK(by_state == std::map<int, int>{{kListen, 1}, {kEstablished, 1}, {kTimeWait, 1}, {kSynRecv, 1}, {kCloseWait, 1}});
    CHECK(recs[0].local() == "198.18.0.2:8080");  // 020012C6 is the __be32 198.18.0.2 printed as a host-order int
    CHECK(recs[1].remote() == "198.18.0.1:48306");
    CHECK(recs[1].inode == 10808002);
    CHECK(recs[2].inode == 0);       // TIME-WAIT: no socket inode
    CHECK(recs[3].local() == "198.18.0.4:8082");
    CHECK(recs[4].uid == 1000);
    CHECK(recs[4].wqueue == 1);      // tx_queue
    CHECK(recs[4].rqueue == 42);     // rx_queue: the peer's unread 42 bytes
}

TEST_CASE("proc tcp6: 32 hex digits, four host-order words; v4-mapped addresses", "[probe]") {
    std::vector<SockRecord> recs;
    ProcTcpStats st = parse_proc_tcp(kTcp6, AF_INET6, [&](const SockRecord& r) { recs.push_back(r); });
    REQUIRE(st.sockets == 2);
    CHECK(st.malformed == 0);
    CHECK(recs[0].local() == "[::1]:8083");
    CHECK(recs[0].state == kListen);
    CHECK(recs[1].local() == "[::ffff:198.18.0.2]:8080");
    CHECK(recs[1].remote() == "[::ffff:198.18.0.1]:40000");
}

TEST_CASE("proc tcp: odd and malformed lines are counted and skipped", "[probe]") {
    std::string text = std::string(kTcp) +
                       "\n"                                                                   // blank: ignored
                       "   5: 020012C6:1F90 010012C6:BCB2 01\n"                               // too few fields
                       "   6: 020012C6:1F9 010012C6:BCB2 01 0:0 00:0 0 0 0 1\n"               // 3-digit port
                       "   7: 020012C6:1F90 010012C6:BCB2 0D 00000000:00000000 00:0 0 0 0 1\n"  // state 13
                       "   8: 02Z012C6:1F90 010012C6:BCB2 01 00000000:00000000 00:0 0 0 0 1\n"  // not hex
                       "   9  020012C6:1F90 010012C6:BCB2 01 00000000:00000000 00:0 0 0 0 1\n"  // no colon after sl
                       "  10: 020012C6:1F90 010012C6:BCB2 01 00000000-00000000 00:0 0 0 0 1\n"  // tx/rx without ':'
                       "  11: 020012C6:1F90 010012C6:BCB2 01 00000000:00000000 00:0 0 x 0 1\n"  // uid not a number
                       "\t 12: 020012C6:1F90 010012C6:BCB3 01 00000000:00000000 00:0 0 0 0 7\r\n";  // odd spacing, CRLF: fine
    int n = 0;
    ProcTcpStats st = parse_proc_tcp(text, AF_INET, [&](const SockRecord&) { ++n; });
    CHECK(st.sockets == 6);
    CHECK(n == 6);
    CHECK(st.malformed == 7);
    CHECK(st.first_malformed == 8);  // header, five good lines, the blank one, then line 8
    // An IPv6 line given as IPv4 (and the reverse) is malformed, not misread.
    CHECK(parse_proc_tcp(kTcp6, AF_INET, [](const SockRecord&) {}).malformed == 2);
    CHECK(parse_proc_tcp(kTcp, AF_INET6, [](const SockRecord&) {}).malformed == 5);
    CHECK(parse_proc_tcp("", AF_INET, [](const SockRecord&) {}).sockets == 0);
}
