// churn-client's command line (client/options.cc): --linger0, --source, --bytes, --mss and the checks between
// options. Bad input is one line on stderr and exit code 2; nothing here touches the network.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "client/options.h"
#include "tests/unit/test_client_util.h"

namespace {

using churn::test::Cli;
using churn::test::check_bad;
using churn::test::run_cli;
using churn::test::U;

std::string addr_of(const churn::Endpoint& ep) {
    char b[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ep.addr)->sin_addr, b, sizeof b);
    return b;
}

}  // namespace

TEST_CASE("churn-client cli: defaults: no linger0, no sources, no --bytes", "[client][cli]") {
    Cli c = run_cli({U});
    REQUIRE(c.rc == -1);
    CHECK(c.err.empty());
    CHECK(c.opt.mode == churn::Options::Mode::Pool);
    CHECK_FALSE(c.opt.linger0);
    CHECK(c.opt.sources.empty());
    CHECK(c.opt.bytes == 0);
    CHECK(c.opt.mss == 0);  // not set: no TCP_MAXSEG, JSON "mss": null
    CHECK(c.opt.url.endpoint.str() == "198.18.0.2:8080");
}

TEST_CASE("churn-client cli: --linger0 in churn and pool; in bulk only with --bytes", "[client][cli]") {
    CHECK(run_cli({"--mode", "churn", "--linger0", U}).opt.linger0);
    CHECK(run_cli({"--mode", "pool", "--linger0", U}).opt.linger0);
    Cli b = run_cli({"--mode", "bulk", "--linger0", "--bytes", "4194304", U});
    REQUIRE(b.rc == -1);
    CHECK(b.opt.linger0);
    CHECK(b.opt.bytes == 4194304);
    // Without --bytes a bulk run ends with an RST anyway: the flag would change nothing, so it is refused.
    check_bad({"--mode", "bulk", "--linger0", U}, "--linger0");
}

TEST_CASE("churn-client cli: --source, in turn, as given", "[client][cli]") {
    Cli c = run_cli({"--mode", "churn", "--source", "198.18.0.1,198.18.0.3", U});
    REQUIRE(c.rc == -1);
    REQUIRE(c.opt.sources.size() == 2);
    CHECK(addr_of(c.opt.sources[0]) == "198.18.0.1");
    CHECK(addr_of(c.opt.sources[1]) == "198.18.0.3");
    // Port 0: bind() fixes only the address, connect() picks the port (IP_BIND_ADDRESS_NO_PORT).
    CHECK(c.opt.sources[0].str() == "198.18.0.1:0");
    CHECK(c.opt.sources[0].family() == AF_INET);
    CHECK(run_cli({"--mode", "pool", "--source", "127.0.0.1", U}).opt.sources.size() == 1);
}

TEST_CASE("churn-client cli: bad --source: one line, exit 2", "[client][cli]") {
    check_bad({"--mode", "churn", "--source", "", U}, "--source: needs at least one address");
    check_bad({"--mode", "churn", "--source", "198.18.0.1,", U}, "--source: empty address");
    check_bad({"--mode", "churn", "--source", ",198.18.0.1", U}, "--source: empty address");
    check_bad({"--mode", "churn", "--source", "198.18.0.1,,198.18.0.3", U}, "--source: empty address");
    check_bad({"--mode", "churn", "--source", "198.18.0.1,198.18.0.1", U}, "'198.18.0.1' is given twice");
    check_bad({"--mode", "churn", "--source", "198.18.0.1,198.18.0.3,198.18.0.1", U}, "given twice");
    for (const char* bad : {"198.18.0", "198.18.0.256", "1", "0x7f.0.0.1", "host", "::1", "198.18.0.1:80", " 198.18.0.1",
                            "198.18.0.1 "})
        check_bad({"--mode", "churn", "--source", bad, U}, "is not a numeric IPv4 address");
    check_bad({"--mode", "bulk", "--source", "198.18.0.1", U}, "--source: only with --mode churn or pool");
    check_bad({"--mode", "churn", "--source", "198.18.0.1", "http://[::1]:8080/"}, "--source: IPv4");
}

TEST_CASE("churn-client cli: --bytes is bulk's, a plain positive integer", "[client][cli]") {
    Cli c = run_cli({"--mode", "bulk", "--bytes", "1", U});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.bytes == 1);
    check_bad({"--mode", "churn", "--bytes", "100", U}, "--bytes: only with --mode bulk");
    check_bad({"--mode", "pool", "--bytes", "100", U}, "--bytes: only with --mode bulk");
    for (const char* bad : {"0", "-1", "4M", "1.5", "1e6", "nan", "", "0x10", "1099511627777"})
        check_bad({"--mode", "bulk", "--bytes", bad, U}, "--bytes");
}

TEST_CASE("churn-client cli: --mss in every mode, 88..32767 (what TCP_MAXSEG takes)", "[client][cli]") {
    for (const char* mode : {"churn", "pool", "bulk"}) {
        Cli c = run_cli({"--mode", mode, "--mss", "1400", U});
        INFO(mode << ": " << c.err);
        REQUIRE(c.rc == -1);
        CHECK(c.opt.mss == 1400);
    }
    CHECK(run_cli({"--mss", "88", U}).opt.mss == 88);
    CHECK(run_cli({"--mss", "32767", U}).opt.mss == 32767);
    for (const char* bad : {"87", "0", "-1", "32768", "65535", "65536", "1e3", "1400.5", "nan", "inf", "-inf", "",
                            "0x578", "99999999999999999999"})
        check_bad({"--mode", "churn", "--mss", bad, U}, "--mss");
    Cli c = run_cli({"--mss", "nan", U});
    CHECK(c.err == "churn-client: --mss: 'nan' is not a whole number (see --help)\n");
    c = run_cli({"--mss", "65535", U});
    CHECK(c.err.find("must be between 88 and 32767, got 65535") != std::string::npos);
}

TEST_CASE("churn-client cli: --smart-connect on|off (default on), churn and pool", "[client][cli][smart]") {
    CHECK(run_cli({U}).opt.smart_connect);
    CHECK(run_cli({"--mode", "churn", U}).opt.smart_connect);
    for (const char* mode : {"churn", "pool"}) {
        Cli on = run_cli({"--mode", mode, "--smart-connect", "on", U});
        INFO(mode << ": " << on.err);
        REQUIRE(on.rc == -1);
        CHECK(on.opt.smart_connect);
        Cli off = run_cli({"--mode", mode, "--smart-connect", "off", U});
        REQUIRE(off.rc == -1);
        CHECK_FALSE(off.opt.smart_connect);
    }
    for (const char* bad : {"maybe", "", "ON", "1", "true", "on,off"})
        check_bad({"--mode", "churn", "--smart-connect", bad, U}, "--smart-connect: must be 'on' or 'off'");
    CHECK(run_cli({"--smart-connect", "maybe", U}).err ==
          "churn-client: --smart-connect: must be 'on' or 'off', got 'maybe'\n");
}

TEST_CASE("churn-client cli: --close client|server (default client); server only in churn", "[client][cli][close]") {
    CHECK_FALSE(run_cli({"--mode", "churn", U}).opt.close_server);
    Cli c = run_cli({"--mode", "churn", "--close", "server", U});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.close_server);
    Cli k = run_cli({"--mode", "churn", "--close", "client", U});
    REQUIRE(k.rc == -1);
    CHECK_FALSE(k.opt.close_server);
    for (const char* bad : {"x", "", "Server", "both", "server,client"})
        check_bad({"--mode", "churn", "--close", bad, U}, "--close: must be 'client' or 'server'");
    CHECK(run_cli({"--mode", "churn", "--close", "x", U}).err ==
          "churn-client: --close: must be 'client' or 'server', got 'x'\n");
    // A pool keeps its connections open: nobody closes per request, so "server first" has no meaning.
    check_bad({"--mode", "pool", "--close", "server", U}, "--close server: only with --mode churn");
    check_bad({"--close", "server", U}, "--close server: only with --mode churn");  // pool is the default
    check_bad({"--mode", "bulk", "--close", "server", U}, "--close server: only with --mode churn");
    check_bad({"--mode", "churn", "--close", "server", "--pattern", "pipeline", U},
              "--close server: the server closes after the first answer, so --pattern pipeline cannot work");
    check_bad({"--mode", "bulk", "--smart-connect", "off", U}, "--smart-connect: only with --mode churn or pool");
}

TEST_CASE("churn-client cli: the checks that were in main.cc still hold", "[client][cli]") {
    check_bad({"--mode", "churn", "--cc", "bbr", U}, "--cc: only with --mode bulk");
    check_bad({"--mode", "foo", U}, "--mode");
    check_bad({"--mode", "churn", "https://198.18.0.2/"}, "https is not supported");
    check_bad({"--mode", "churn"}, "URL");
    Cli h = run_cli({"--help"});
    CHECK(h.rc == 0);
    for (const char* flag : {"--linger0", "--source", "--bytes", "--mss", "--smart-connect", "--close"}) CHECK(h.out.find(flag) != std::string::npos);
}

TEST_CASE("parse_sources: the pure helper", "[client][cli]") {
    std::vector<churn::Endpoint> out;
    std::string why;
    REQUIRE(churn::parse_sources("10.0.0.1,10.0.0.2,10.0.0.3", out, why));
    REQUIRE(out.size() == 3);
    CHECK(addr_of(out[2]) == "10.0.0.3");
    // A failed parse leaves nothing half-filled behind for a caller that ignores the result.
    CHECK_FALSE(churn::parse_sources("10.0.0.1,nope", out, why));
    CHECK(why == "'nope' is not a numeric IPv4 address");
    CHECK(out.empty());
}
