// sysctl/ profiles: the sysctl.d parser, each lint rule on a made-up file, and the committed profiles
// themselves (read from the source tree: run the unit tests from the repository root).
#include <string>

#include <catch2/catch.hpp>

#include "sysctl/known.h"
#include "sysctl/proc_sys.h"
#include "sysctl/profile.h"

using namespace churn::sysctl;

namespace {

const char* const kWhy = "# why: row 3a (tw-reuse-under): holds below its line; EXPERIMENTS.md §6\n";

// The one problem a profile has, as "file:line: message"; "" when clean. Fails if there are several.
std::string only_problem(const std::string& text) {
    Profile p = parse_profile(text, "t.conf");
    INFO(text);
    REQUIRE(p.problems.size() <= 1);
    return p.problems.empty() ? "" : p.problems.front().str();
}

}  // namespace

TEST_CASE("sysctl keys: dotted and slashed forms, the /proc/sys path, whitespace squeezed") {
    CHECK(dotted_key("net.ipv4.tcp_tw_reuse") == "net.ipv4.tcp_tw_reuse");
    CHECK(dotted_key("net/ipv4/tcp_tw_reuse") == "net.ipv4.tcp_tw_reuse");
    // sysctl.d(5): a slashed key is a path as it stands, so a dot in it belongs to a name (a VLAN device).
    CHECK(dotted_key("net/ipv4/conf/eth0.100/forwarding") == "net.ipv4.conf.eth0/100.forwarding");
    CHECK(proc_path("net.ipv4.conf.eth0/100.forwarding") == "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
    CHECK(proc_path("net/ipv4/ip_local_port_range") == "/proc/sys/net/ipv4/ip_local_port_range");
    CHECK(squeeze("32768\t60999\n") == "32768 60999");
    CHECK(squeeze("  a  \t b ") == "a b");
}

TEST_CASE("sysctl read: this namespace's values through /proc/sys; an absent key is nullopt") {
    std::vector<long> range = read_longs("net.ipv4.ip_local_port_range");
    REQUIRE(range.size() == 2);
    CHECK(range[0] <= range[1]);
    CHECK(read_value("net/ipv4/ip_local_port_range") == std::to_string(range[0]) + " " + std::to_string(range[1]));
    CHECK_FALSE(read_value("net.ipv4.churnlab_no_such_sysctl").has_value());
    CHECK(read_longs("net.ipv4.churnlab_no_such_sysctl").empty());
    CHECK(read_longs("net.ipv4.tcp_congestion_control").empty());  // a name, not numbers
}

TEST_CASE("profile parser: both spellings, both comment marks, '-' prefix, settings in order") {
    std::string text = std::string("; a header comment, sysctl.d style\n# never: net.ipv4.tcp_fin_timeout: row 4\n\n") + kWhy +
                       "net.ipv4.tcp_tw_reuse=1\n\n"
                       "# why: row 2 (wide-range): later, still comes; EXPERIMENTS.md §6\n"
                       "-net/ipv4/ip_local_port_range =\t1024   65535  \r\n";
    Profile p = parse_profile(text, "good.conf");
    CHECK(p.problems.empty());
    REQUIRE(p.settings.size() == 2);
    CHECK(p.settings[0].key == "net.ipv4.tcp_tw_reuse");
    CHECK(p.settings[0].value == "1");
    CHECK_FALSE(p.settings[0].ignore_errors);
    CHECK(p.settings[0].line == 5);
    CHECK(p.settings[0].rows == std::vector<std::string>{"3a"});
    CHECK(p.settings[1].key == "net.ipv4.ip_local_port_range");
    CHECK(p.settings[1].value == "1024 65535");
    CHECK(p.settings[1].ignore_errors);
    CHECK(p.settings[1].rows == std::vector<std::string>{"2"});
    REQUIRE(p.never.size() == 1);
    CHECK(p.never[0] == "net.ipv4.tcp_fin_timeout: row 4");
}

TEST_CASE("lint: malformed lines, one message each, with file and line") {
    std::string w = kWhy;
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse 1\n") == "t.conf:2: malformed line: expected 'key = value', got 'net.ipv4.tcp_tw_reuse 1'");
    CHECK(only_problem(w + " = 1\n") == "t.conf:2: malformed line: no key before '='");
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse =\n") == "t.conf:2: net.ipv4.tcp_tw_reuse: no value after '='");
    CHECK(only_problem(w + "net ipv4 = 1\n").find("t.conf:2: malformed key 'net ipv4'") == 0);
    CHECK(only_problem(w + "net.ipv4.conf.*.rp_filter = 1\n").find("globs are not supported") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse = 1 # on\n").find("inline comments are not allowed") != std::string::npos);
}

TEST_CASE("lint: every setting needs a '# why:' naming a run-levers row and EXPERIMENTS.md §6") {
    CHECK(only_problem("net.ipv4.tcp_tw_reuse = 1\n").find("t.conf:1: net.ipv4.tcp_tw_reuse: no '# why:' comment") == 0);
    // A blank line ends the comment block: the why above it belongs to nothing.
    CHECK(only_problem(std::string(kWhy) + "\nnet.ipv4.tcp_tw_reuse = 1\n").find("no '# why:' comment") != std::string::npos);
    // One why covers one setting, not the next one too.
    CHECK(only_problem(std::string(kWhy) + "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 1\n").find("t.conf:3: net.ipv4.tcp_timestamps: no '# why:'") == 0);
    CHECK(only_problem("# why: it felt right; EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 1\n") ==
          "t.conf:1: net.ipv4.tcp_tw_reuse: '# why:' names no run-levers row (\"row 3a\", \"rows 3a/3b\")");
    CHECK(only_problem("# why: row 11: EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 1\n").find("names '11', not a run-levers row") != std::string::npos);
    CHECK(only_problem("# why: row 3: EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 1\n").find("names '3', not a run-levers row") != std::string::npos);
    CHECK(only_problem("# why: row 3a, measured\nnet.ipv4.tcp_tw_reuse = 1\n") ==
          "t.conf:1: net.ipv4.tcp_tw_reuse: '# why:' does not cite EXPERIMENTS.md §6");
    Profile two = parse_profile(std::string(kWhy) + kWhy + "net.ipv4.tcp_tw_reuse = 1\n", "t.conf");
    REQUIRE(two.problems.size() == 1);
    CHECK(two.problems[0].message.find("more than one '# why:'") != std::string::npos);
}

TEST_CASE("lint: rows named in a why") {
    std::vector<std::string> unknown;
    CHECK(rows_named("rows 3a/3b: holds below", unknown) == std::vector<std::string>{"3a", "3b"});
    CHECK(rows_named("row 3a (tw-reuse-under): safe; row 10 vs 9: costs nothing", unknown) == std::vector<std::string>{"3a", "10", "9"});
    CHECK(rows_named("run-levers Row 2 (wide-range)", unknown) == std::vector<std::string>{"2"});
    CHECK(unknown.empty());
    CHECK(rows_named("rows 3c and 12", unknown).empty());
    CHECK(unknown == std::vector<std::string>{"3c", "12"});
}

TEST_CASE("lint: a duplicate key, also when spelled the other way") {
    std::string w = kWhy;
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse = 1\n" + w + "net/ipv4/tcp_tw_reuse = 0\n") ==
          "t.conf:4: duplicate key net.ipv4.tcp_tw_reuse (first set at line 2)");
}

TEST_CASE("lint: values of the form the key takes; only net.*; never the keys rows 4 and 5 rule out") {
    std::string w = kWhy;
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 1024 65535\n").empty());
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 1024\n").find("is not two ports LO HI") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 60000 1024\n").find("is not two ports LO HI") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 0 1024\n").find("is not two ports LO HI") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 1024 65536\n").find("is not two ports LO HI") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.ip_local_port_range = 1024 x\n").find("is not two ports LO HI") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse = 3\n") == "t.conf:2: net.ipv4.tcp_tw_reuse: '3' is not a whole number in 0..2");
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse = yes\n").find("'yes' is not a whole number") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_tw_reuse_delay = 0\n").find("in 1..60000") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.ip_local_reserved_ports = 8080,9000-9010\n").empty());
    CHECK(only_problem(w + "net.ipv4.ip_local_reserved_ports = 8080,9010-9000\n").find("'9010-9000' is not a port") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_congestion_control = Cubic!\n").find("is not a name") != std::string::npos);
    CHECK(only_problem(w + "vm.swappiness = 10\n").find("not a net.* sysctl") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_fin_timeout = 10\n").find("never goes in a profile: run-levers row 4") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_max_tw_buckets = 1000\n").find("never goes in a profile: run-levers row 5") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.tcp_tw_recycle = 0\n").find("never goes in a profile: removed in Linux 4.12") != std::string::npos);
    CHECK(only_problem(w + "net.ipv4.some_future_knob = anything at all\n").empty());  // unknown: form not checked
}

TEST_CASE("the committed profiles parse and lint clean, with exactly the settings issue 9's spec lists") {
    Profile legacy = load_profile("sysctl/legacy-churn-client.conf");
    for (const Problem& pr : legacy.problems) FAIL_CHECK(pr.str());
    REQUIRE(legacy.settings.size() == 2);
    CHECK(legacy.settings[0].key == "net.ipv4.tcp_tw_reuse");
    CHECK(legacy.settings[0].value == "1");
    CHECK(legacy.settings[0].rows == std::vector<std::string>{"3a", "3b"});
    CHECK(legacy.settings[1].key == "net.ipv4.ip_local_port_range");
    CHECK(legacy.settings[1].value == "1024 65535");
    CHECK(legacy.settings[1].rows == std::vector<std::string>{"2"});
    CHECK(legacy.never.size() >= 3);

    Profile pooled = load_profile("sysctl/pooled-service.conf");
    for (const Problem& pr : pooled.problems) FAIL_CHECK(pr.str());
    REQUIRE(pooled.settings.size() == 1);
    CHECK(pooled.settings[0].key == "net.ipv4.tcp_tw_reuse");
    CHECK(pooled.settings[0].value == "1");
    CHECK(pooled.settings[0].rows == std::vector<std::string>{"3a", "10", "9"});

    CHECK_THROWS_AS(load_profile("sysctl/no-such-profile.conf"), SysctlError);
    CHECK_THROWS_WITH(load_profile("sysctl"), Catch::Contains("read(sysctl)"));  // a directory: EISDIR
}
