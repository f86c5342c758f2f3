// make run-cc: the report's arithmetic (Mathis, the issue's checks), its inputs (a bulk client JSON, a
// churn-link JSON, runs.tsv), and churn-server --discard draining a real loopback connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "loop/clock.h"
#include "loop/reactor.h"
#include "report/cc.h"
#include "report/results.h"
#include "server/listener.h"
#include "server/options.h"

using namespace churn;
using namespace churn::report;

namespace {

// What churn-client --mode bulk writes, cut to three samples.
std::string bulk_json(const std::string& cc, double goodput, const std::string& extra = "") {
    return R"({"tool": "churn-client", "mode": "bulk", "cc": ")" + cc + R"(", "duration_s": 0.3,)" + extra +
           R"( "goodput_mbps": )" + std::to_string(goodput) + R"(, "retrans": 7, "mean_cwnd": 12.5,
  "mean_ssthresh": 9, "mss": 1448, "ss_lines": ["cubic wscale:7,7 rtt:50.1/0.2 mss:1448 cwnd:12"],
  "samples": [
    {"t": 0.1, "cwnd": 10, "ssthresh": null, "srtt_us": 0, "bytes_acked": 1000, "goodput_mbps": 0.08},
    {"t": 0.2, "cwnd": 14, "ssthresh": 9, "srtt_us": 50000, "bytes_acked": 126000, "goodput_mbps": 10},
    {"t": 0.3, "cwnd": 12, "ssthresh": 9, "srtt_us": 52000, "bytes_acked": 251000, "goodput_mbps": 10}]})";
}

const char* kLinkJson = R"({"mode": "churn-link", "seed": 1,
  "ab": {"packets_in": 20000, "dropped_loss": 200, "dropped_queue": 31},
  "ba": {"packets_in": 9000, "dropped_loss": 0, "dropped_queue": 0}})";

CcRun run(const char* cc, double loss, double goodput, double rate = 100) {
    CcRun r;
    r.cc = cc, r.loss_pct = loss, r.rtt_ms = 50, r.rate_mbps = rate, r.mss = 1448, r.goodput_mbps = goodput;
    r.mathis = mathis_mbps(1448, 50, loss);
    return r;
}

const CcCheck& check_named(const std::vector<CcCheck>& checks, const std::string& prefix) {
    for (const CcCheck& c : checks)
        if (c.what.rfind(prefix, 0) == 0) return c;
    FAIL("no check starting with '" << prefix << "'");
    return checks.front();
}

}  // namespace

TEST_CASE("Mathis: (MSS / RTT) x 1.22 / sqrt(p)", "[cc]") {
    // FACTS.md: MSS 1448 B, RTT 100 ms, p = 1 % -> about 1.4 Mbit/s.
    CHECK(*mathis_mbps(1448, 100, 1) == Approx(1.4131).epsilon(1e-3));
    CHECK(*mathis_mbps(1448, 50, 1) == Approx(2.8262).epsilon(1e-3));
    // Four times the loss, half the throughput.
    CHECK(*mathis_mbps(1448, 50, 4) == Approx(*mathis_mbps(1448, 50, 1) / 2));
    CHECK_FALSE(mathis_mbps(1448, 50, 0).has_value());
}

TEST_CASE("cc checks: the issue's three expectations at 1 % and the 0 % baseline", "[cc]") {
    std::vector<CcRun> runs = {run("cubic", 1, 3.0), run("bbr", 1, 90), run("cubic", 0, 93), run("bbr", 0, 94)};
    std::vector<CcCheck> c = cc_checks(runs);
    REQUIRE(c.size() == 5);
    CHECK(check_named(c, "BBR goodput at 1 %").met);           // 90 >= 0.8 x 100 x 0.99 = 79.2
    CHECK(check_named(c, "CUBIC goodput against Mathis").met); // 3.0 within [1.41, 5.65]
    CHECK(check_named(c, "BBR ÷ CUBIC").met);                  // 30x
    CHECK(check_named(c, "BBR ÷ CUBIC").measured == "30.0×");
    CHECK(check_named(c, "cubic at 0 %").met);
    CHECK(check_named(c, "bbr at 0 %").met);

    SECTION("each one can fail") {
        runs[0].goodput_mbps = 6;   // above 2 x Mathis (5.65)
        runs[1].goodput_mbps = 29;  // below 79.2, and under 5 x CUBIC
        runs[2].goodput_mbps = 70;  // a baseline that does not fill the link
        c = cc_checks(runs);
        CHECK_FALSE(check_named(c, "BBR goodput").met);
        CHECK_FALSE(check_named(c, "CUBIC goodput against Mathis").met);
        CHECK_FALSE(check_named(c, "BBR ÷ CUBIC").met);
        CHECK_FALSE(check_named(c, "cubic at 0 %").met);
        CHECK(check_named(c, "BBR goodput").expected == "≥ 79.2 Mbit/s (0.8 × link × (1 − p))");
    }
    SECTION("CUBIC below half of Mathis fails too") {
        runs[0].goodput_mbps = 1.0;
        CHECK_FALSE(check_named(cc_checks(runs), "CUBIC goodput against Mathis").met);
    }
    SECTION("a level with only one algorithm has no ratio") {
        runs.erase(runs.begin());  // no CUBIC at 1 %
        for (const CcCheck& x : cc_checks(runs)) CHECK(x.what.find("÷") == std::string::npos);
    }
}

TEST_CASE("cc: a bulk client JSON and a churn-link JSON", "[cc]") {
    CcRun r = parse_bulk_json(bulk_json("cubic", 6.69), "c.json");
    CHECK(r.cc == "cubic");
    CHECK(r.goodput_mbps == Approx(6.69));
    CHECK(r.retrans == 7);
    CHECK(r.mss == 1448);
    CHECK(r.mean_ssthresh == 9);
    CHECK(r.mean_srtt_ms == Approx(51));  // the sample before the first RTT measurement (0) is left out
    REQUIRE(r.samples.size() == 3);
    CHECK(r.samples[2].bytes_acked == 251000);
    CHECK(r.ss_lines.size() == 1);

    apply_link_json(r, kLinkJson, "l.json");
    CHECK(*r.link_loss_pct == Approx(1.0));
    CHECK(*r.queue_drops == 31);
    CcRun n;
    apply_link_json(n, R"({"mode": "netem"})", "l.json");  // netem: no counters, no made-up zeros
    CHECK_FALSE(n.link_loss_pct.has_value());
    CHECK_FALSE(n.queue_drops.has_value());

    CHECK_THROWS_WITH(parse_bulk_json(bulk_json("bbr", 1, R"( "error": "connect(198.18.0.2:8080): ECONNREFUSED",)"), "c.json"),
                      Catch::Contains("c.json: the run failed") && Catch::Contains("ECONNREFUSED"));
    CHECK_THROWS_WITH(parse_bulk_json(R"({"cc": "bbr"})", "c.json"), "c.json: missing 'goodput_mbps'");
    CHECK_THROWS_WITH(parse_bulk_json("{", "c.json"), Catch::StartsWith("c.json: malformed JSON"));
}

TEST_CASE("cc: runs.tsv to cc.json and back, the table", "[cc]") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("churn-cc-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto put = [&](const std::string& f, const std::string& text) { std::ofstream(dir / f) << text; };
    put("runs.tsv", "cc\tloss_pct\trtt_ms\trate_mbps\tqueue_pkts\tclient\tlink\n"
                    "cubic\t1\t50\t100\t417\tc.json\tl.json\nbbr\t1\t50\t100\t417\tb.json\tl.json\n");
    put("c.json", bulk_json("cubic", 3.1));
    put("b.json", bulk_json("bbr", 91));
    put("l.json", kLinkJson);

    CcReport rep = load_cc_dir(dir.string());
    REQUIRE(rep.runs.size() == 2);
    CHECK(*rep.runs[0].mathis == Approx(2.8262).epsilon(1e-3));
    CHECK(rep.checks.size() == 3);
    CcReport back = parse_cc_json(cc_json(rep), "cc.json");
    CHECK(render_cc_md(back) == render_cc_md(rep));
    CHECK(back.runs[1].queue_drops == 31L);
    std::string table = render_cc_table(rep);
    CHECK_THAT(table, Catch::Contains("| cubic | 1 % | 1.00 % | 31 | 3.10 |"));
    CHECK_THAT(table, Catch::Contains("n/a (not loss-based)"));  // no Mathis figure for BBR
    CHECK_THAT(cc_gnuplot(rep), Catch::Contains("set output 'cwnd.svg'") && Catch::Contains("set output 'throughput.svg'"));

    // The kernel fell back to another algorithm: the run must not be filed under the one asked for.
    put("b.json", bulk_json("cubic", 91));
    CHECK_THROWS_WITH(load_cc_dir(dir.string()), Catch::Contains("asked for bbr, the kernel says cubic"));
    put("runs.tsv", "cubic\t1\t50\n");
    CHECK_THROWS_WITH(load_cc_dir(dir.string()), Catch::Contains("runs.tsv:1: want 7 tab-separated fields"));
    fs::remove_all(dir);
}

TEST_CASE("churn-server --discard: reads an 8 MiB upload to the end, counts it, answers nothing", "[cc][server]") {
    ServerOptions opt;
    std::ostringstream out, err;
    const char* argv[] = {"churn-server", "--listen", "127.0.0.1:18080", "--discard"};
    REQUIRE(parse_cli(4, argv, opt, out, err) == -1);
    REQUIRE(opt.discard);
    // Port 0 (the kernel picks a free one) is refused on the command line, so set it here: tests run
    // next to each other and must not race for a fixed port.
    reinterpret_cast<sockaddr_in*>(&opt.endpoint.addr)->sin_port = 0;

    Reactor reactor;
    Responses responses = Responses::build(opt.size);
    ServerStats stats;
    Listener listener(reactor, opt, responses, stats);
    std::string local = listener.local();
    int port = std::stoi(local.substr(local.rfind(':') + 1));

    // A blocking client in its own thread: 8 MiB, then FIN, then wait for the server's close (read 0).
    // Over Connection::Limits::discard_cap (4 MiB): the ready list may have to finish a wakeup.
    constexpr size_t kBytes = 8 << 20;
    long got_back = -1;
    std::thread client([&] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            std::string chunk(64 * 1024, 'x');
            for (size_t sent = 0; sent < kBytes;) {
                ssize_t n = ::write(fd, chunk.data(), chunk.size());
                if (n <= 0) break;
                sent += static_cast<size_t>(n);
            }
            ::shutdown(fd, SHUT_WR);
            char b[16];
            got_back = ::read(fd, b, sizeof b);  // 0: the server closed without a byte of HTTP
        }
        ::close(fd);
    });
    uint64_t deadline = mono_us() + 5'000'000;
    reactor.every(1000, [&] {
        if (stats.close_client == 1 || mono_us() > deadline) reactor.stop();
    });
    reactor.run();
    client.join();
    CHECK(stats.bytes_discarded == kBytes);
    CHECK(stats.bytes_in == kBytes);
    CHECK(stats.bytes_out == 0);
    CHECK(stats.requests == 0);
    CHECK(stats.close_client == 1);
    CHECK(got_back == 0);
}
