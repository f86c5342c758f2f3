// churn-link's command line: defaults, per-direction knobs, and bad values as one line with exit 2.
#include <algorithm>
#include <catch2/catch.hpp>

#include "loop/netns.h"
#include <sstream>
#include <string>
#include <vector>

#include "link/options.h"

namespace {

struct Cli {
    int rc;
    std::string out, err;
    churn::LinkOptions opt;
};

Cli run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "churn-link");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Cli c;
    std::ostringstream out, err;
    c.rc = churn::parse_link_cli(static_cast<int>(argv.size()), argv.data(), c.opt, out, err);
    c.out = out.str();
    c.err = err.str();
    return c;
}

const std::vector<std::string> ns = {"--ns-a", "a", "--ns-b", "b"};
std::vector<std::string> with_ns(std::vector<std::string> more) {
    std::vector<std::string> v = ns;
    v.insert(v.end(), more.begin(), more.end());
    return v;
}

}  // namespace

TEST_CASE("churn-link cli: defaults") {
    Cli c = run_cli(ns);
    REQUIRE(c.rc == -1);
    CHECK(c.err.empty());
    CHECK(c.opt.dev_a == "churn-a");
    CHECK(c.opt.ab.delay_ns == 0);
    CHECK(c.opt.ab.loss_pct == 0);
    CHECK(c.opt.ab.rate_bps == 0);
    CHECK(c.opt.ab.queue_pkts == 1000);
    CHECK(c.opt.ba.queue_pkts == 1000);
    CHECK(c.opt.seed == 1);
    CHECK(c.opt.duration_s == 600);
    CHECK(c.opt.rt_priority == 10);
    CHECK(c.opt.cpu == -1);  // not pinned: measured no gain, and a pinned link cannot escape a stalled vCPU
    CHECK(c.opt.mlock);
    CHECK(c.opt.spin_max_us == 100);
    CHECK(churn::netns_path("churnlab-x-cli") == "/run/netns/churnlab-x-cli");
    CHECK(churn::netns_path("/proc/1/ns/net") == "/proc/1/ns/net");
}

TEST_CASE("churn-link cli: both directions, then one direction overrides") {
    Cli c = run_cli(with_ns({"--delay", "25", "--delay-ba", "5.5", "--loss", "1", "--loss-ab", "2", "--rate", "100",
                             "--queue-pkts", "417", "--queue-bytes-ba", "30000", "--seed", "9", "--duration", "2.5"}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.ab.delay_ns == 25'000'000);
    CHECK(c.opt.ba.delay_ns == 5'500'000);
    CHECK(c.opt.ab.loss_pct == 2);
    CHECK(c.opt.ba.loss_pct == 1);
    CHECK(c.opt.ab.rate_bps == 100'000'000);
    CHECK(c.opt.ba.rate_bps == 100'000'000);
    CHECK(c.opt.ab.queue_pkts == 417);
    CHECK(c.opt.ba.queue_pkts == 417);
    CHECK(c.opt.ba.queue_bytes == 30000);
    CHECK(c.opt.ab.queue_bytes == 0);
    CHECK(c.opt.seed == 9);
    CHECK(c.opt.duration_s == 2.5);
}

TEST_CASE("churn-link cli: a bytes limit alone replaces the 1000-packet default") {
    Cli c = run_cli(with_ns({"--queue-bytes", "15000"}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.ab.queue_pkts == 0);
    CHECK(c.opt.ab.queue_bytes == 15000);
}

TEST_CASE("churn-link cli: --help exits 0 with the usage on stdout") {
    Cli c = run_cli({"--help"});
    CHECK(c.rc == 0);
    CHECK(c.out.find("--delay-ab") != std::string::npos);
}

TEST_CASE("churn-link cli: the timing knobs: --cpu N, --spin-max-us 0, --no-mlock") {
    Cli c = run_cli(with_ns({"--cpu", "1", "--spin-max-us", "0", "--no-mlock"}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.cpu == 1);
    CHECK(c.opt.spin_max_us == 0);
    CHECK_FALSE(c.opt.mlock);
    CHECK(run_cli(with_ns({"--cpu", "none"})).opt.cpu == -1);
}

TEST_CASE("churn-link cli: --drop-synack N, default 0, at most 100") {
    Cli c = run_cli(with_ns({}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.drop_synack == 0);
    c = run_cli(with_ns({"--drop-synack", "1"}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.drop_synack == 1);
    c = run_cli(with_ns({"--drop-synack=100"}));
    REQUIRE(c.rc == -1);
    CHECK(c.opt.drop_synack == 100);
    CHECK(run_cli({"--help"}).out.find("--drop-synack") != std::string::npos);
}

TEST_CASE("churn-link cli: bad values: one line, exit 2") {
    struct Case {
        std::vector<std::string> args;
        std::string err;
    } cases[] = {
        {{"--delay=-5"}, "churn-link: --delay: must be >= 0 ms, got -5\n"},
        {{"--delay", "-5"}, "churn-link: --delay: must be >= 0 ms, got -5\n"},
        {{"--delay-ba", "-0.1"}, "churn-link: --delay-ba: must be >= 0 ms, got -0.1\n"},
        {{"--loss", "150"}, "churn-link: --loss: must be between 0 and 100 %, got 150\n"},
        {{"--loss-ab", "100.5"}, "churn-link: --loss-ab: must be between 0 and 100 %, got 100.5\n"},
        {{"--loss", "-1"}, "churn-link: --loss: must be between 0 and 100 %, got -1\n"},
        {{"--rate", "0"}, "churn-link: --rate: must be > 0 Mbit/s, got 0\n"},
        {{"--rate-ba", "0"}, "churn-link: --rate-ba: must be > 0 Mbit/s, got 0\n"},
        {{"--rate", "fast"}, "churn-link: --rate: 'fast' is not a number\n"},
        {{"--queue-pkts", "0"}, "churn-link: --queue-pkts: must be >= 1, got 0\n"},
        {{"--queue-bytes", "-3"}, "churn-link: --queue-bytes: must be >= 1, got -3\n"},
        {{"--duration", "0"}, "churn-link: --duration: must be > 0 s (every link run stops by itself), got 0\n"},
        {{"--dev-a", "a-name-longer-than-15"},
         "churn-link: --dev-a: 'a-name-longer-than-15' is not a device name (1-15 characters, no '/')\n"},
        {{"--rt-priority", "100"}, "churn-link: --rt-priority: must be between 0 and 99, got 100\n"},
        {{"--cpu", "-1"}, "churn-link: --cpu: must be >= 0, got -1\n"},
        {{"--cpu", "one"}, "churn-link: --cpu: 'one' is not a whole number\n"},
        {{"--cpu", "4096"}, "churn-link: --cpu: must be a CPU number below 1024 or 'none', got 4096\n"},
        {{"--spin-max-us", "20000"}, "churn-link: --spin-max-us: must be <= 10000 us, got 20000\n"},
        {{"--spin-max-us", "nan"}, "churn-link: --spin-max-us: 'nan' is not a whole number\n"},
        {{"--drop-synack", "-1"}, "churn-link: --drop-synack: must be >= 0, got -1\n"},
        {{"--drop-synack", "nan"}, "churn-link: --drop-synack: 'nan' is not a whole number\n"},
        {{"--drop-synack", "inf"}, "churn-link: --drop-synack: 'inf' is not a whole number\n"},
        {{"--drop-synack", "1.5"}, "churn-link: --drop-synack: '1.5' is not a whole number\n"},
        {{"--drop-synack", ""}, "churn-link: --drop-synack: '' is not a whole number\n"},
        {{"--drop-synack", "101"}, "churn-link: --drop-synack: must be <= 100, got 101\n"},
        {{"--drop-synack", "99999999999999999999"},
         "churn-link: --drop-synack: '99999999999999999999' is not a whole number\n"},
    };
    for (const Case& k : cases) {
        Cli c = run_cli(with_ns(k.args));
        INFO(k.args[0]);
        CHECK(c.rc == 2);
        CHECK(c.err == k.err);
        CHECK(c.out.empty());
    }
}

TEST_CASE("churn-link cli: a missing namespace is a usage error") {
    Cli c = run_cli({"--ns-a", "a"});
    CHECK(c.rc == 2);
    CHECK(c.err.find("--ns-b") != std::string::npos);
    CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
}
