// churn-server's command line: every bad value is one line on stderr and exit code 2.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "server/options.h"

namespace {

struct Cli {
    int rc;
    std::string out, err;
    churn::ServerOptions opt;
};

Cli run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "churn-server");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Cli c;
    std::ostringstream out, err;
    c.rc = churn::parse_cli(static_cast<int>(argv.size()), argv.data(), c.opt, out, err);
    c.out = out.str();
    c.err = err.str();
    return c;
}

}  // namespace

TEST_CASE("churn-server cli: defaults") {
    Cli c = run_cli({"--listen", "127.0.0.1:18080"});
    REQUIRE(c.rc == -1);
    CHECK(c.err.empty());
    CHECK(c.opt.endpoint.str() == "127.0.0.1:18080");
    CHECK(c.opt.size == 64);
    CHECK_FALSE(c.opt.close_server);
    CHECK_FALSE(c.opt.linger0);
    CHECK(c.opt.nodelay);
    CHECK(c.opt.response_pattern == churn::ServerOptions::Pattern::Single);  // today's answers, unchanged
    CHECK(c.opt.write == churn::ServerOptions::Write::Single);
    CHECK_FALSE(c.opt.quickack);
    CHECK(c.opt.backlog == 4096);
    CHECK_FALSE(c.opt.reuseport);
    CHECK(c.opt.max_conns == 0);
    CHECK(c.opt.evict);
    CHECK(c.opt.header_timeout_us == 10'000'000);
    CHECK(c.opt.body_timeout_us == 10'000'000);
    CHECK(c.opt.idle_timeout_us == 75'000'000);
    CHECK(c.opt.send_timeout_us == 10'000'000);
    CHECK(c.opt.duration_s == 0);
    CHECK(c.opt.accept_for_us == churn::ServerOptions::kAcceptAlways);  // accept for the whole run
    CHECK(c.opt.json_path.empty());
    CHECK_FALSE(c.opt.quiet);
}

TEST_CASE("churn-server cli: timeouts in s or ms, 0 = off; --evict") {
    Cli c = run_cli({"--listen", "127.0.0.1:18080", "--header-timeout", "500ms", "--body-timeout", "2.5s",
                     "--idle-timeout", "0", "--send-timeout", "100ms", "--evict", "off"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.send_timeout_us == 100'000);
    CHECK(c.opt.header_timeout_us == 500'000);
    CHECK(c.opt.body_timeout_us == 2'500'000);
    CHECK(c.opt.idle_timeout_us == 0);
    CHECK_FALSE(c.opt.evict);
    c = run_cli({"--listen", "127.0.0.1:18080", "--header-timeout", "3", "--idle-timeout", "0.0015ms"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.header_timeout_us == 3'000'000);  // a bare number is seconds, like --duration
    CHECK(c.opt.idle_timeout_us == 2);             // rounded up: a timeout never fires early
}

TEST_CASE("churn-server cli: every option") {
    Cli c = run_cli({"--listen", "[::1]:9000", "--size", "0", "--close", "server", "--linger0", "--nodelay", "off",
                     "--backlog", "16", "--reuseport", "--max-conns", "100", "--duration", "2.5", "--json",
                     "/tmp/x.json", "--quiet"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.endpoint.str() == "[::1]:9000");
    CHECK(c.opt.size == 0);
    CHECK(c.opt.close_server);
    CHECK(c.opt.linger0);
    CHECK_FALSE(c.opt.nodelay);
    CHECK(c.opt.backlog == 16);
    CHECK(c.opt.reuseport);
    CHECK(c.opt.max_conns == 100);
    CHECK(c.opt.duration_s == 2.5);
    CHECK(c.opt.json_path == "/tmp/x.json");
    CHECK(c.opt.quiet);
}

TEST_CASE("churn-server cli: --response-pattern, --write, --quickack") {
    using W = churn::ServerOptions::Write;
    using P = churn::ServerOptions::Pattern;
    Cli c = run_cli({"--listen", "127.0.0.1:18080", "--response-pattern", "split", "--write", "each", "--quickack"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.response_pattern == P::Split);
    CHECK(c.opt.write == W::Each);
    CHECK(c.opt.quickack);
    struct {
        const char* word;
        W mode;
    } modes[] = {{"single", W::Single}, {"each", W::Each}, {"gather", W::Gather}, {"cork", W::Cork}};
    for (const auto& m : modes) {
        INFO(m.word);
        c = run_cli({"--listen", "127.0.0.1:18080", "--write", m.word});
        REQUIRE(c.rc == -1);
        CHECK(c.opt.write == m.mode);
        CHECK(std::string(churn::write_name(m.mode)) == m.word);  // the JSON says what the command line said
    }
    c = run_cli({"--listen", "127.0.0.1:18080", "--cork"});  // the name for --write cork
    REQUIRE(c.rc == -1);
    CHECK(c.opt.write == W::Cork);
    c = run_cli({"--listen", "127.0.0.1:18080", "--response-pattern=single"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.response_pattern == P::Single);
    CHECK(std::string(churn::pattern_name(P::Split)) == "split");
    std::string help = run_cli({"--help"}).out;
    CHECK(help.find("--response-pattern") != std::string::npos);
    CHECK(help.find("--write") != std::string::npos);
    CHECK(help.find("--quickack") != std::string::npos);
}

TEST_CASE("churn-server cli: --accept-for in s or ms; 0 = never accept") {
    Cli c = run_cli({"--listen", "127.0.0.1:18080", "--accept-for", "2s"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.accept_for_us == 2'000'000);
    c = run_cli({"--listen", "127.0.0.1:18080", "--accept-for", "500ms"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.accept_for_us == 500'000);
    c = run_cli({"--listen", "127.0.0.1:18080", "--accept-for", "1.5"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.accept_for_us == 1'500'000);  // a bare number is seconds
    c = run_cli({"--listen", "127.0.0.1:18080", "--accept-for", "0"});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.accept_for_us == 0);  // not "off": never accept at all
    CHECK(run_cli({"--help"}).out.find("--accept-for") != std::string::npos);
}

TEST_CASE("churn-server cli: --help exits 0 with the usage on stdout") {
    Cli c = run_cli({"--help"});
    CHECK(c.rc == 0);
    CHECK(c.out.find("--listen") != std::string::npos);
    CHECK(c.err.empty());
}

TEST_CASE("churn-server cli: bad values: one line, exit 2") {
    struct Case {
        std::vector<std::string> args;
        std::string err;
    } cases[] = {
        {{"--listen", "127.0.0.1:18080", "--size", "-1"}, "churn-server: --size: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--size=abc"}, "churn-server: --size: 'abc' is not an integer\n"},
        {{"--listen", "127.0.0.1:18080", "--size", "67108865"}, "churn-server: --size: must be <= 67108864\n"},
        {{"--listen", "127.0.0.1:18080", "--close", "both"},
         "churn-server: --close: must be 'client' or 'server', got 'both'\n"},
        {{"--listen", "127.0.0.1:18080", "--nodelay", "1"},
         "churn-server: --nodelay: must be 'on' or 'off', got '1'\n"},
        {{"--listen", "127.0.0.1:18080", "--response-pattern", "pipeline"},
         "churn-server: --response-pattern: must be 'single' or 'split', got 'pipeline'\n"},
        {{"--listen", "127.0.0.1:18080", "--response-pattern", ""},
         "churn-server: --response-pattern: must be 'single' or 'split', got ''\n"},
        {{"--listen", "127.0.0.1:18080", "--cork", "--write", "each"}, "churn-server: --cork: contradicts --write each\n"},
        {{"--listen", "127.0.0.1:18080", "--write", "writev"},
         "churn-server: --write: must be 'single', 'each', 'gather' or 'cork', got 'writev'\n"},
        {{"--listen", "127.0.0.1:18080", "--write", "Each"},
         "churn-server: --write: must be 'single', 'each', 'gather' or 'cork', got 'Each'\n"},
        {{"--listen", "127.0.0.1:18080", "--backlog", "0"}, "churn-server: --backlog: must be >= 1\n"},
        {{"--listen", "127.0.0.1:18080", "--max-conns", "-5"}, "churn-server: --max-conns: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--duration", "soon"},
         "churn-server: --duration: 'soon' is not a number of seconds\n"},
        {{"--listen", "127.0.0.1:18080", "--duration", "-1"}, "churn-server: --duration: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--header-timeout", "nan"},
         "churn-server: --header-timeout: 'nan' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--idle-timeout", "inf"},
         "churn-server: --idle-timeout: 'inf' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--body-timeout", "-1s"}, "churn-server: --body-timeout: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--header-timeout", "-nan"},
         "churn-server: --header-timeout: '-nan' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--header-timeout", "10m"},
         "churn-server: --header-timeout: '10m' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--header-timeout", "ms"},
         "churn-server: --header-timeout: 'ms' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--idle-timeout", "1e300"}, "churn-server: --idle-timeout: must be <= 86400s\n"},
        {{"--listen", "127.0.0.1:18080", "--send-timeout", "nan"},
         "churn-server: --send-timeout: 'nan' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--send-timeout", "inf"},
         "churn-server: --send-timeout: 'inf' is not a duration (e.g. 10s, 500ms, 0 = off)\n"},
        {{"--listen", "127.0.0.1:18080", "--send-timeout", "-5ms"}, "churn-server: --send-timeout: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", "nan"},
         "churn-server: --accept-for: 'nan' is not a duration (e.g. 10s, 500ms, 0 = never)\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", "inf"},
         "churn-server: --accept-for: 'inf' is not a duration (e.g. 10s, 500ms, 0 = never)\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", "-1s"}, "churn-server: --accept-for: must be >= 0\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", "1e9"}, "churn-server: --accept-for: must be <= 86400s\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", "2m"},
         "churn-server: --accept-for: '2m' is not a duration (e.g. 10s, 500ms, 0 = never)\n"},
        {{"--listen", "127.0.0.1:18080", "--accept-for", ""},
         "churn-server: --accept-for: '' is not a duration (e.g. 10s, 500ms, 0 = never)\n"},
        {{"--listen", "127.0.0.1:18080", "--evict", "yes"}, "churn-server: --evict: must be 'on' or 'off', got 'yes'\n"},
        {{"--listen", "127.0.0.1:0"}, "churn-server: --listen: bad port '0' in '127.0.0.1:0' (want 1-65535)\n"},
        {{"--listen", "localhost:80"},
         "churn-server: --listen: bad address 'localhost' (want a numeric IPv4 or IPv6 address)\n"},
        {{}, "churn-server: --listen is required\n"},
    };
    for (const Case& c : cases) {
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        INFO(joined);
        Cli r = run_cli(c.args);
        CHECK(r.rc == 2);
        CHECK(r.err == c.err);
    }
}

TEST_CASE("churn-server cli: unknown options and stray arguments exit 2") {
    Cli c = run_cli({"--listen", "127.0.0.1:18080", "--bogus"});
    CHECK(c.rc == 2);
    CHECK(c.err.rfind("churn-server: ", 0) == 0);
    CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
}
