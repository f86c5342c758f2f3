// churn-sysctl check's rules on made-up values (never the host's): each warning appears exactly when its
// condition holds, and a profile's "would add" lists only what applying it would newly cause.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "sysctl/check.h"

using namespace churn::sysctl;

namespace {

// A fresh namespace's defaults on kernel 6.18 (measured in a lab namespace): nothing to warn about.
HostFacts defaults() {
    HostFacts f;
    f.values = {{"net.ipv4.ip_local_port_range", "32768 60999"}, {"net.ipv4.ip_local_reserved_ports", ""},
                {"net.ipv4.tcp_tw_reuse", "2"},                  {"net.ipv4.tcp_timestamps", "1"},
                {"net.ipv4.tcp_max_tw_buckets", "131072"},       {"net.ipv4.tcp_syncookies", "1"}};
    return f;
}

std::vector<std::string> keys(const std::vector<Finding>& fs, Level level = Level::Warning) {
    std::vector<std::string> out;
    for (const Finding& f : fs)
        if (f.level == level) out.push_back(f.key);
    return out;
}

Finding only(const std::vector<Finding>& fs) {
    REQUIRE(fs.size() == 1);
    return fs.front();
}

}  // namespace

TEST_CASE("check: kernel defaults give no finding") { CHECK(check_host(defaults()).empty()); }

TEST_CASE("check: tcp_max_tw_buckets below the ports in range, and only then") {
    HostFacts f = defaults();
    f.values["net.ipv4.tcp_max_tw_buckets"] = "28232";  // == 32768..60999: not below
    CHECK(check_host(f).empty());
    f.values["net.ipv4.tcp_max_tw_buckets"] = "1000";
    Finding w = only(check_host(f));
    CHECK(w.level == Level::Warning);
    CHECK(w.key == "net.ipv4.tcp_max_tw_buckets");
    CHECK(w.text.find("1000 is below the 28232 ports") != std::string::npos);
    CHECK(w.text.find("TcpExtTCPTimeWaitOverflow") != std::string::npos);
    CHECK(w.text.find("row 5") != std::string::npos);
}

TEST_CASE("check: tcp_syncookies=0") {
    HostFacts f = defaults();
    f.values["net.ipv4.tcp_syncookies"] = "2";
    CHECK(check_host(f).empty());
    f.values["net.ipv4.tcp_syncookies"] = "0";
    Finding w = only(check_host(f));
    CHECK(w.key == "net.ipv4.tcp_syncookies");
    CHECK(w.fix == "sysctl -w net.ipv4.tcp_syncookies=1");
}

TEST_CASE("check: a port range over listening ports, minus ip_local_reserved_ports") {
    HostFacts f = defaults();
    f.listen_ports = {22, 8080, 40000, 50000};
    f.values["net.ipv4.tcp_tw_reuse"] = "0";
    Finding w = only(check_host(f));  // 22 and 8080 are below the range
    CHECK(w.key == "net.ipv4.ip_local_port_range");
    CHECK(w.text.find("contains 2 listening port(s) not in ip_local_reserved_ports: 40000, 50000") != std::string::npos);
    CHECK(w.text.find("EADDRINUSE") != std::string::npos);
    CHECK(w.fix.find("sysctl -w net.ipv4.ip_local_reserved_ports=40000,50000") == 0);
    f.values["net.ipv4.ip_local_reserved_ports"] = "40000";
    CHECK(only(check_host(f)).fix.find("ip_local_reserved_ports=40000,50000 ") != std::string::npos);  // keeps the existing
    f.values["net.ipv4.ip_local_reserved_ports"] = "40000,49000-50001";
    CHECK(check_host(f).empty());
}

TEST_CASE("check: tcp_tw_recycle=1 where it still exists; absent or 0 is fine") {
    HostFacts f = defaults();
    f.values["net.ipv4.tcp_tw_recycle"] = "0";
    CHECK(check_host(f).empty());
    f.values["net.ipv4.tcp_tw_recycle"] = "1";
    Finding w = only(check_host(f));
    CHECK(w.text.find("NAT") != std::string::npos);
    CHECK(w.text.find("4.12") != std::string::npos);
}

TEST_CASE("check: tcp_tw_reuse=1 with tcp_timestamps=0 never reuses") {
    HostFacts f = defaults();
    f.values["net.ipv4.tcp_tw_reuse"] = "1";
    CHECK(check_host(f).empty());  // no listeners, timestamps on: nothing to say
    f.values["net.ipv4.tcp_timestamps"] = "0";
    Finding w = only(check_host(f));
    CHECK(w.key == "net.ipv4.tcp_tw_reuse");
    CHECK(w.text.find("reuse never happens") != std::string::npos);
}

TEST_CASE("check: tcp_tw_reuse=1 on a host that listens is a note, and says it is not the NAT problem") {
    HostFacts f = defaults();
    f.values["net.ipv4.tcp_tw_reuse"] = "1";
    f.listen_ports = {8080};
    std::vector<Finding> fs = check_host(f);
    CHECK(keys(fs, Level::Warning).empty());
    Finding n = only(fs);
    CHECK(n.level == Level::Note);
    CHECK(n.text.find("only affects connections this host opens") != std::string::npos);
    CHECK(n.text.find("tcp_tw_recycle (removed in Linux 4.12)") != std::string::npos);
    f.values["net.ipv4.tcp_tw_reuse"] = "2";
    CHECK(check_host(f).empty());
}

TEST_CASE("check: what a profile would add on this host, beside the current values") {
    HostFacts f = defaults();
    f.listen_ports = {2024};
    Profile legacy = parse_profile(
        "# why: rows 3a/3b; EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 1\n"
        "# why: row 2; EXPERIMENTS.md §6\nnet.ipv4.ip_local_port_range = 1024 65535\n",
        "legacy.conf");
    REQUIRE(legacy.problems.empty());
    std::vector<Finding> add = added_by(f, legacy);
    CHECK(keys(add) == std::vector<std::string>{"net.ipv4.ip_local_port_range"});
    CHECK(keys(add, Level::Note) == std::vector<std::string>{"net.ipv4.tcp_tw_reuse"});
    std::vector<Beside> b = beside(f.values, legacy);
    REQUIRE(b.size() == 2);
    CHECK(b[0].current == "2");
    CHECK_FALSE(b[0].same);
    CHECK(b[1].current == "32768 60999");
    // A warning the host already has is not "added" by the profile.
    f.values["net.ipv4.tcp_syncookies"] = "0";
    CHECK(added_by(f, legacy).size() == add.size());
    // A key this kernel lacks shows as absent.
    f.values.erase("net.ipv4.tcp_tw_reuse");
    CHECK_FALSE(beside(f.values, legacy)[0].present);
}
