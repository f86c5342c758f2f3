// churn-synflood's fences: the lab address range, --spoof's bounds, the default-route check on /proc text
// recorded on this machine (host namespace, a lab namespace, the same lab namespace with a default route
// added), and bad numbers on the command line.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "synflood/guard.h"
#include "synflood/options.h"

using namespace churn::synflood;

namespace {

uint32_t ip4(int a, int b, int c, int d) { return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | uint32_t(d); }

// /proc/net/route as recorded (cat -A showed the tabs; the kernel pads each line with spaces).
const char* kRouteHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT   \n";
// The host: a default route via 192.0.2.1 (010200C0: the __be32 printed as a little-endian integer).
const std::string kHostRoute = std::string(kRouteHeader) +
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0    \n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0    \n";
// A lab namespace (lab/netns.sh): only the connected 198.18.0.0/24.
const std::string kLabRoute = std::string(kRouteHeader) + "clf108dc\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n";
// The same after `ip route add default via 198.18.0.2`.
const std::string kLabDefault = std::string(kRouteHeader) +
    "clf108dc\t00000000\t020012C6\t0003\t0\t0\t0\t00000000\t0\t0\t0   \n"
    "clf108dc\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n";
// `ip route add default dev X`: no gateway, still a way out.
const std::string kLabDevDefault = std::string(kRouteHeader) +
    "clf108dc\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0   \n"
    "clf108dc\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n";
// `ip route add unreachable default`: RTF_REJECT (0x0200) on "*", sends nothing anywhere.
const std::string kLabUnreachable = std::string(kRouteHeader) +
    "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0   \n"
    "clf108dc\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n";

// /proc/net/ipv6_route: the host's (default via fd00::1 dev eth0) and a lab namespace's, where the only ::/0
// entries are the kernel's own "unreachable" ones on lo (flags 0x00200200, metric ffffffff).
const std::string kHostRoute6 =
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
    "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
const std::string kLabRoute6 =
    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 clf108dc\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
    "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n"
    "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 clf108dc\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
// The lab namespace after `ip -6 route add default via fd00:18::2`.
const std::string kLabDefault6 = kLabRoute6 +
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000018000000000000000000000002 00000400 00000001 00000000 00000003 clf108dc\n";

struct Dir {
    std::string path;
    Dir() {
        char t[] = "/tmp/churn-synflood-unit-XXXXXX";
        REQUIRE(::mkdtemp(t) != nullptr);
        path = t;
    }
    void write(const std::string& name, const std::string& text) { std::ofstream(path + "/" + name) << text; }
    ~Dir() {
        ::unlink((path + "/route").c_str());
        ::unlink((path + "/ipv6_route").c_str());
        ::rmdir(path.c_str());
    }
};

struct Cli {
    int rc;
    std::string out, err;
    Options opt;
};
Cli run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "churn-synflood");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Cli c;
    std::ostringstream out, err;
    c.rc = parse_cli(static_cast<int>(argv.size()), argv.data(), c.opt, out, err);
    c.out = out.str();
    c.err = err.str();
    return c;
}
std::vector<std::string> with(std::vector<std::string> more) {
    std::vector<std::string> v = {"--target", "198.18.0.2:8080", "--spoof", "198.19.0.0/16"};
    v.insert(v.end(), more.begin(), more.end());
    return v;
}

}  // namespace

TEST_CASE("target: only inside 198.18.0.0/15", "[synflood]") {
    CHECK(check_target(ip4(198, 18, 0, 2)).empty());
    CHECK(check_target(ip4(198, 19, 255, 255)).empty());
    CHECK(check_target(ip4(198, 18, 0, 0)).empty());
    CHECK(check_target(ip4(198, 17, 255, 255)) == "198.17.255.255 is outside the lab range 198.18.0.0/15; refusing to flood it");
    CHECK_FALSE(check_target(ip4(198, 20, 0, 0)).empty());
    CHECK_FALSE(check_target(ip4(10, 0, 0, 1)).empty());
    CHECK_FALSE(check_target(ip4(127, 0, 0, 1)).empty());
}

TEST_CASE("spoof: inside the lab, /16 to /30, never containing the target", "[synflood]") {
    uint32_t t = ip4(198, 18, 0, 2);
    CHECK(check_spoof({ip4(198, 19, 0, 0), 16}, t).empty());
    CHECK(check_spoof({ip4(198, 19, 7, 4), 30}, t).empty());
    CHECK(check_spoof({ip4(198, 18, 1, 0), 24}, t).empty());
    CHECK(check_spoof({ip4(10, 0, 0, 0), 16}, t) == "10.0.0.0/16 is not inside the lab range 198.18.0.0/15");
    CHECK(check_spoof({ip4(198, 16, 0, 0), 14}, t) == "198.16.0.0/14 is not inside the lab range 198.18.0.0/15");
    CHECK(check_spoof({ip4(198, 18, 0, 0), 15}, t) == "198.18.0.0/15 is wider than /16");
    CHECK(check_spoof({ip4(198, 19, 0, 0), 31}, t) == "198.19.0.0/31 is narrower than /30");
    CHECK(check_spoof({ip4(198, 18, 0, 0), 16}, t) == "198.18.0.0/16 contains the target 198.18.0.2");
    CHECK(check_spoof({ip4(198, 18, 0, 0), 30}, t) == "198.18.0.0/30 contains the target 198.18.0.2");
}

TEST_CASE("prefix and target text: dotted decimal, no host bits, ports 1-65535", "[synflood]") {
    Prefix p;
    CHECK(parse_prefix("198.19.0.0/16", p).empty());
    CHECK((p.addr == ip4(198, 19, 0, 0) && p.len == 16 && p.size() == 65536));
    CHECK(parse_prefix("198.19.0.1/16", p) == "'198.19.0.1/16' has host bits set (did you mean 198.19.0.0/16?)");
    CHECK_FALSE(parse_prefix("198.19.0.0", p).empty());
    CHECK_FALSE(parse_prefix("198.19.0.0/33", p).empty());
    CHECK_FALSE(parse_prefix("198.19.0.0/", p).empty());
    CHECK_FALSE(parse_prefix("0xc6.19.0.0/16", p).empty());
    uint32_t a = 0;
    uint16_t port = 0;
    CHECK(parse_target("198.18.0.2:8080", a, port).empty());
    CHECK((a == ip4(198, 18, 0, 2) && port == 8080));
    CHECK_FALSE(parse_target("198.18.0.2:0", a, port).empty());
    CHECK_FALSE(parse_target("198.18.0.2:65536", a, port).empty());
    CHECK_FALSE(parse_target("198.18.0.2", a, port).empty());
    CHECK_FALSE(parse_target("host:80", a, port).empty());
}

TEST_CASE("default route in /proc/net/route text: the host's, a lab's with one added, none in a plain lab", "[synflood]") {
    auto host = default_route_v4(kHostRoute);
    REQUIRE(host);
    CHECK(host->describe() == "via 192.0.2.1 dev eth0");
    auto added = default_route_v4(kLabDefault);
    REQUIRE(added);
    CHECK(added->describe() == "via 198.18.0.2 dev clf108dc");
    auto dev = default_route_v4(kLabDevDefault);
    REQUIRE(dev);
    CHECK(dev->describe() == "dev clf108dc");
    CHECK_FALSE(default_route_v4(kLabRoute));
    CHECK_FALSE(default_route_v4(kLabUnreachable));
    CHECK_FALSE(default_route_v4(kRouteHeader));
    CHECK_FALSE(default_route_v4(""));
}

TEST_CASE("default route in /proc/net/ipv6_route text: lo's unreachable ::/0 does not count", "[synflood]") {
    auto host = default_route_v6(kHostRoute6);
    REQUIRE(host);
    CHECK(host->describe() == "via fd00::1 dev eth0");
    CHECK_FALSE(default_route_v6(kLabRoute6));
    auto added = default_route_v6(kLabDefault6);
    REQUIRE(added);
    CHECK(added->describe() == "via fd00:18::2 dev clf108dc");
}

TEST_CASE("check_namespace reads both files: refuses on either default route, or when route is unreadable", "[synflood]") {
    const std::string tail = "; run it only inside a lab namespace";
    {
        Dir d;
        d.write("route", kLabRoute);
        d.write("ipv6_route", kLabRoute6);
        CHECK(check_namespace(d.path).empty());
    }
    {
        Dir d;
        d.write("route", kLabDefault);
        d.write("ipv6_route", kLabRoute6);
        CHECK(check_namespace(d.path) == "this network namespace has a default route (via 198.18.0.2 dev clf108dc)" + tail);
    }
    {
        Dir d;
        d.write("route", kLabRoute);
        d.write("ipv6_route", kLabDefault6);
        CHECK(check_namespace(d.path) == "this network namespace has a default route (via fd00:18::2 dev clf108dc)" + tail);
    }
    {
        Dir d;  // IPv6 disabled: no ipv6_route file, and no refusal for it
        d.write("route", kLabRoute);
        CHECK(check_namespace(d.path).empty());
    }
    {
        Dir d;  // no route file: no proof, no flood
        std::string why = check_namespace(d.path);
        CHECK(why.find("cannot tell whether this network namespace has a default route: open(" + d.path + "/route): ENOENT") == 0);
    }
}

TEST_CASE("churn-synflood's command line: defaults, and one line with exit 2 for bad values", "[synflood]") {
    Cli ok = run_cli(with({}));
    REQUIRE(ok.rc == -1);
    CHECK(ok.opt.rate == 1000);
    CHECK(ok.opt.duration_s == 10);
    CHECK(ok.opt.count == 10000);  // rate x duration
    CHECK(ok.opt.syn_options == SynOptions::Mss);
    CHECK(run_cli(with({"--rate", "2000", "--duration", "0.5"})).opt.count == 1000);
    CHECK(run_cli(with({"--count", "7"})).opt.count == 7);
    CHECK(run_cli(with({"--syn-options", "linux"})).opt.syn_options == SynOptions::Linux);
    struct Bad {
        std::vector<std::string> args;
        std::string says;
    };
    for (const Bad& b : std::vector<Bad>{
             {{"--rate", "nan"}, "--rate: 'nan' is not a finite number"},
             {{"--rate", "inf"}, "--rate: 'inf' is not a finite number"},
             {{"--rate", "-1"}, "--rate: must be between 1 and 1e+06, got -1"},
             {{"--rate", "1000001"}, "--rate: must be between 1 and 1e+06"},
             {{"--duration", "nan"}, "--duration: 'nan' is not a finite number"},
             {{"--duration", "-3"}, "--duration: must be between"},
             {{"--duration", "601"}, "--duration: must be between 0.001 and 600, got 601"},
             {{"--count", "0"}, "--count: must be between 1"},
             {{"--count", "-5"}, "--count: must be between 1"},
             {{"--count", "1.5"}, "--count: '1.5' is not a whole number"},
             {{"--seed", "-1"}, "--seed: must be between 0"},
             {{"--syn-options", "all"}, "--syn-options"},
             {{"--json", ""}, "--json"},
         }) {
        Cli c = run_cli(with(b.args));
        INFO(b.args[0] << " " << b.args[1] << " -> " << c.err);
        CHECK(c.rc == 2);
        CHECK(c.err.find("churn-synflood: " + b.says) == 0);
        CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
        CHECK(c.out.empty());
    }
    Cli far = run_cli({"--target", "10.1.2.3:80", "--spoof", "198.19.0.0/16"});
    CHECK(far.rc == 2);
    CHECK(far.err == "churn-synflood: --target: 10.1.2.3 is outside the lab range 198.18.0.0/15; refusing to flood it\n");
    Cli wide = run_cli({"--target", "198.18.0.2:80", "--spoof", "198.18.0.0/15"});
    CHECK(wide.err == "churn-synflood: --spoof: 198.18.0.0/15 is wider than /16\n");
    CHECK(run_cli({"--spoof", "198.19.0.0/16"}).rc == 2);  // --target is required
    CHECK(run_cli({"--help"}).rc == 0);
}
