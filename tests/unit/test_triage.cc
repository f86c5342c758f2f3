// triage's decisions on made-up hosts: which side closes first, the rate a TIME-WAIT count implies
// against the port range, CLOSE-WAIT owners oldest first, and the next rung of the fix ladder.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "probe/owners.h"
#include "probe/triage.h"

using namespace churn::probe;

namespace {

SockRecord tw(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t state = kTimeWait) {
    SockRecord r;
    r.family = AF_INET;
    r.state = state;
    inet_pton(AF_INET, src, r.src.data());
    inet_pton(AF_INET, dst, r.dst.data());
    r.sport = sport;
    r.dport = dport;
    return r;
}

// A client host with `n` TIME-WAIT sockets to 198.18.0.2:8080 and a few to another service.
TriageInput client_host(int n, long lo = 32768, long hi = 60999, long tw_reuse = 2) {
    TriageInput in;
    for (int i = 0; i < n; ++i) {
        in.time_wait.push_back(tw("198.18.0.1", static_cast<uint16_t>(lo + i), "198.18.0.2", 8080));
        in.counts.add(kTimeWait);
    }
    for (int i = 0; i < 3; ++i) {
        in.time_wait.push_back(tw("198.18.0.1", static_cast<uint16_t>(lo + i), "198.18.0.9", 443));
        in.counts.add(kTimeWait);
    }
    in.sysctls.port_lo = lo;
    in.sysctls.port_hi = hi;
    in.sysctls.tw_reuse = tw_reuse;
    in.sysctls.tw_reuse_delay_ms = 1000;
    return in;
}

}  // namespace

TEST_CASE("triage: a churning client: implied rate vs the port-range ceiling, next rung pool", "[probe]") {
    TriageInput in = client_host(28000);
    Triage t = analyze(in);
    CHECK(t.tw == 28003);
    CHECK(t.tw_as_client == 28003);
    CHECK(t.tw_as_server == 0);
    CHECK(t.implied_rate_per_s == Approx(28003 / 60.0));
    CHECK(t.ceiling_per_s == Approx(28232 / 60.0));
    REQUIRE(t.top_remote.size() == 2);
    CHECK(t.top_remote[0].remote == "198.18.0.2:8080");
    CHECK(t.top_remote[0].count == 28000);
    CHECK(t.top_remote[0].fraction == Approx(28000.0 / 28232));
    CHECK(t.rung == "pool");
    CHECK(t.reason.find("198.18.0.2:8080") != std::string::npos);
    bool warned = false;
    for (const std::string& n : t.notes) warned = warned || n.find("exhausted") != std::string::npos;
    CHECK(warned);

    nlohmann::ordered_json j = triage_json(t);
    CHECK(j["time_wait"]["closes_first"] == true);
    CHECK(j["time_wait"]["closes_first_as"] == "client");
    CHECK(j["next"]["rung"] == "pool");
    CHECK(j["states"]["TIME-WAIT"] == 28003);
    CHECK(triage_text(t).find("this host closes first, as a client") != std::string::npos);
}

TEST_CASE("triage: the ladder skips rungs already taken or already in place", "[probe]") {
    TriageInput in = client_host(20000);
    in.tried = {"pool"};
    CHECK(analyze(in).rung == "tw_reuse");
    in.sysctls.tw_reuse = 1;  // already on: next is the port range
    CHECK(analyze(in).rung == "port_range");
    TriageInput wide = client_host(40000, 1024, 65535, 1);
    wide.tried = {"pool"};
    Triage t = analyze(wide);
    CHECK(t.rung == "msl");  // range already as wide as it gets: nothing left but fewer connections
    CHECK(t.reason.find("nothing shortens TIME-WAIT") == 0);
    in.tried = {"pool", "tw_reuse", "port_range"};
    CHECK(analyze(in).rung == "msl");
}

TEST_CASE("triage: no pressure, or server-side TIME-WAIT, means no rung", "[probe]") {
    CHECK(analyze(client_host(100)).rung == "none");
    TriageInput server;
    server.listen_ports = {8080};
    for (int i = 0; i < 5000; ++i) {
        server.time_wait.push_back(tw("198.18.0.2", 8080, "198.18.0.1", static_cast<uint16_t>(30000 + i)));
        server.counts.add(kTimeWait);
    }
    Triage t = analyze(server);
    CHECK(t.tw_as_server == 5000);
    CHECK(t.tw_as_client == 0);
    CHECK(t.rung == "none");
    CHECK(t.reason.find("server-side") != std::string::npos);
    CHECK(triage_json(t)["time_wait"]["closes_first_as"] == "server");
    Triage empty = analyze(TriageInput{});
    CHECK(empty.rung == "none");
    CHECK(triage_json(empty)["time_wait"]["closes_first"] == false);
}

TEST_CASE("triage: CLOSE-WAIT grouped by owner, longest-waiting first", "[probe]") {
    TriageInput in;
    auto cw = [&](uint64_t inode, uint64_t idle) {
        SockRecord r = tw("198.18.0.2", 8081, "198.18.0.1", static_cast<uint16_t>(40000 + inode), kCloseWait);
        r.inode = inode;
        in.close_wait.push_back({r, idle});
        in.counts.add(kCloseWait);
    };
    cw(1, 500);
    cw(2, 90000);
    cw(3, 1000);
    cw(4, 2000);
    cw(5, 10);  // no owner found
    in.owners.by_inode[1] = {100, 3, "fresh"};
    in.owners.by_inode[2] = {200, 4, "leaky"};
    in.owners.by_inode[3] = {200, 5, "leaky"};
    in.owners.by_inode[4] = {100, 6, "fresh"};
    Triage t = analyze(in);
    CHECK(t.close_wait == 5);
    REQUIRE(t.owners.size() == 3);
    CHECK(t.owners[0].pid == 200);
    CHECK(t.owners[0].comm == "leaky");
    CHECK(t.owners[0].count == 2);
    CHECK(t.owners[0].oldest_idle_ms == 90000);
    CHECK(t.owners[0].sockets[0].idle_ms == 90000);
    CHECK(t.owners[1].pid == 100);
    CHECK(t.owners[2].pid == 0);
    nlohmann::ordered_json j = triage_json(t);
    CHECK(j["close_wait"]["owners"][0]["pid"] == 200);
    CHECK(j["close_wait"]["owners"][2]["pid"].is_null());
    CHECK(triage_text(t).find("pid 200") != std::string::npos);
}

TEST_CASE("triage: tcp_max_tw_buckets overflow and tw_reuse at work are noted", "[probe]") {
    TriageInput in = client_host(1000);
    in.sysctls.max_tw_buckets = 4096;
    in.counters = {{"TcpExtTCPTimeWaitOverflow", 12}, {"TcpExtTWRecycled", 5}};
    Triage t = analyze(in);
    std::string all;
    for (const std::string& n : t.notes) all += n + "\n";
    CHECK(all.find("tcp_max_tw_buckets (4096) overflowed") != std::string::npos);
    CHECK(all.find("TcpExtTWRecycled 5") != std::string::npos);
}

TEST_CASE("owners: socket:[INODE] links", "[probe]") {
    const char* a = "socket:[12345]";
    CHECK(socket_inode_of_link(a, std::strlen(a)) == 12345);
    const char* b = "pipe:[12345]";
    CHECK(socket_inode_of_link(b, std::strlen(b)) == 0);
    const char* c = "socket:[12x]";
    CHECK(socket_inode_of_link(c, std::strlen(c)) == 0);
    const char* d = "socket:[]";
    CHECK(socket_inode_of_link(d, std::strlen(d)) == 0);
}
