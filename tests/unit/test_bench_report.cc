// churn-report bench against tests/unit/bench-run/, a small results directory in the shape lab/bench.sh
// leaves: runs.tsv with CPU, /proc/PID/io and perf syscall counts for both processes of every run, and the
// tools' own outputs. The numbers are made up so that every figure per unit comes out round.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/bench.h"

using namespace churn::report;

namespace {
const char* kFixture = "tests/unit/bench-run";

// A scratch directory for manifests that must fail, removed at scope exit.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/test-bench-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    void file(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
};

const BenchPair& pair(const Bench& b, const std::string& id) {
    for (const BenchPair& p : b.pairs)
        if (p.id == id) return p;
    FAIL("no pair " << id);
    throw;
}
}  // namespace

TEST_CASE("bench: units from wrk and ab", "[report][bench]") {
    CHECK(parse_wrk_requests("  1 threads and 50 connections\n  1045612 requests in 5.00s, 160.55MB read\n") == Approx(1045612));
    CHECK(parse_ab_requests("Complete requests:      150000\nFailed requests:        0\n") == Approx(150000));
    // A wrk that could not connect prints no count: not measured, never 0 requests.
    CHECK_FALSE(parse_wrk_requests("unable to connect to 198.18.0.2:8081 Connection refused\n").has_value());
    CHECK_FALSE(parse_wrk_requests("  0 threads requests in\n").has_value());
    Spread s = spread({5, 3, 4});
    CHECK(s.median == 4);
    CHECK(s.min == 3);
    CHECK(s.max == 5);
    CHECK(s.n == 3);
    CHECK(spread({}).n == 0);
}

TEST_CASE("bench: CPU and syscalls per unit, both processes, medians and spread", "[report][bench]") {
    Bench b = load_bench_dir(kFixture);
    REQUIRE(b.pairs.size() == 3);
    const BenchPair& p1 = pair(b, "1");
    CHECK(p1.tested == "cli");
    CHECK(p1.target_cpu == Approx(1.3));
    // Rates from the tools: churn-client's JSON rps, wrk's Requests/sec.
    CHECK(p1.ours_median() == Approx(100000));
    CHECK(p1.peer_median() == Approx(96000));
    CHECK(p1.met());

    // CPU per request of the tested side (the client): cpu_s / requests, not cpu_s / rate.
    Spread ours = p1.tested_cpu("ours"), peer = p1.tested_cpu("peer");
    CHECK(ours.median == Approx(4));
    CHECK(ours.min == Approx(3));
    CHECK(ours.max == Approx(5));
    CHECK(peer.median == Approx(7));
    CHECK(p1.cpu_ratio() == Approx(1.75));
    CHECK(p1.cpu_met());
    // The other end (nginx) is measured too.
    CHECK(p1.cost("ours", "srv", Cost::Cpu).median == Approx(6));

    // Syscalls per request, grouped; perf counted them in run 1 only, so n = 1.
    CHECK(p1.cost("ours", "cli", Cost::Syscalls).median == Approx(2.4));
    CHECK(p1.cost("ours", "cli", Cost::Syscalls).n == 1);
    CHECK(p1.cost("ours", "cli", Cost::Reads).median == Approx(1));
    CHECK(p1.cost("ours", "cli", Cost::Writes).median == Approx(1));  // sendto: not in syscw
    CHECK(p1.cost("ours", "cli", Cost::EpollWaits).median == Approx(0.3));
    CHECK(p1.cost("ours", "cli", Cost::Other).median == Approx(0.1));
    CHECK(p1.cost("ours", "cli", Cost::ProcIo).median == Approx(1));  // /proc/PID/io saw the reads only
    CHECK(p1.cost("ours", "cli", Cost::ReactorWaits).median == Approx(0.3));
    CHECK(p1.cost("peer", "cli", Cost::EpollWaits).median == Approx(1));
    CHECK(p1.cost("peer", "cli", Cost::ReactorWaits).n == 0);  // wrk has no reactor of ours

    const BenchPair& p2 = pair(b, "2");
    CHECK(p2.tested == "srv");
    CHECK(p2.tested_cpu("ours").median == Approx(4));  // churn-server, per wrk request
    CHECK(p2.tested_cpu("peer").median == Approx(6));
    CHECK(p2.cpu_ratio() == Approx(1.5));
    CHECK(p2.cost("ours", "srv", Cost::ReactorWaits).median == Approx(0.2));

    const BenchPair& p3 = pair(b, "3");
    CHECK(p3.tested_cpu("ours").median == Approx(40));  // per connection: handshakes
    CHECK(p3.tested_cpu("peer").median == Approx(30));  // ab: Complete requests
    CHECK(p3.cpu_ratio() == Approx(0.75));
    CHECK_FALSE(p3.cpu_met());
    // perf's "<not counted>" is not a count: no figure, rather than a zero.
    CHECK(p3.cost("ours", "cli", Cost::Conn).n == 0);
    CHECK(p3.runs[0].text.at("cli_sc_connect") == "<not counted>");
}

TEST_CASE("bench: bench.md tables and bench.json", "[report][bench]") {
    Bench b = load_bench_dir(kFixture);
    std::string md = render_bench_table(b);
    INFO(md);
    CHECK_THAT(md, Catch::Contains("| 1 | keep-alive client: churn-client --mode pool -c 50 vs wrk -t1 -c50 (-> nginx) | "
                                   "req/s | 100000 (80000–100000) (n=3) | 96000 (90000–100000) (n=3) | 1.04x | >= 1.0x | met |"));
    CHECK_THAT(md, Catch::Contains("| 1 | churn-client vs wrk | 4.00 (3.00–5.00) | 7.00 (6.00–8.00) | 1.75x | >= 1.3x | met | "
                                   "nginx 6.00 (6.00–6.00) | nginx 6.00 (6.00–6.00) | 2.0 (2.0–2.0) |"));
    CHECK_THAT(md, Catch::Contains("| 2 | churn-server vs nginx | 4.00 | 6.00 | 1.50x | >= 1.2x | met | wrk 5.00 | wrk 6.00 |"));
    CHECK_THAT(md, Catch::Contains("| 3 | churn-client vs ab | 40.0 | 30.0 | 0.750x | >= 1.3x | NOT met |"));
    CHECK_THAT(md, Catch::Contains("| 1 | churn-client | 2.40 | 1.00 | 1.00 | 0.300 | 0 | 0 | 0.100 | 1.00 | 0.300 |"));
    CHECK_THAT(md, Catch::Contains("| 1 | wrk | 3.00 | 1.00 | 1.00 | 1.00 | 0 | 0 | 0 | 2.00 | - |"));
    CHECK_THAT(md, Catch::Contains("| 1 | nginx (under churn-client) | 2.20 | 1.00 | 1.00 | 0.200 | 0 | 0 | 0 | 2.00 | - |"));
    CHECK_THAT(md, Catch::Contains("| 3 | churn-client | - | - | - | - | - | - | - | 1.00 | - |"));
    CHECK_THAT(md, Catch::Contains("pinned: every client on CPU 0, every server on CPU 1"));

    nlohmann::json j = nlohmann::json::parse(bench_json(b));
    REQUIRE(j["pairs"].size() == 3);
    CHECK(j["pairs"][0]["cpu_ratio"].get<double>() == Approx(1.75));
    CHECK(j["pairs"][0]["cpu_us"]["ours"]["min"].get<double>() == Approx(3));
    CHECK(j["pairs"][0]["costs"]["ours"]["cli"]["syscalls"]["median"].get<double>() == Approx(2.4));
    CHECK(j["pairs"][0]["costs"]["peer"]["cli"]["reactor_epoll_waits"].is_null());
    // The raw runs travel with the medians.
    REQUIRE(j["pairs"][0]["runs"].size() == 6);
    CHECK(j["pairs"][0]["runs"][0]["keys"]["cli_core"] == 0);
    CHECK(j["pairs"][0]["runs"][0]["units"].get<double>() == Approx(500000));
}

TEST_CASE("bench: bad manifests name the line; old manifests still load", "[report][bench]") {
    ScratchDir d;
    d.file("w.txt", "  100 requests in 1.00s, 1MB read\nRequests/sec: 100.00\n");
    d.file("c.json", R"({"rps": 50})");
    auto load = [&](const std::string& runs) {
        d.file("runs.tsv", runs);
        return load_bench_dir(d.path);
    };
    const std::string pair = "pair\t1\treq/s\tcli\t1\t1.3\tx\n";
    REQUIRE_THROWS_WITH(load("pair\t1\treq/s\tboth\t1\t1.3\tx\n"), Catch::Contains("runs.tsv:1: tested side 'both'"));
    REQUIRE_THROWS_WITH(load("pair\t1\treq/s\tcli\tone\t1.3\tx\n"), Catch::Contains("runs.tsv:1: target 'one' is not a number"));
    REQUIRE_THROWS_WITH(load(pair + "run\t1\tours\twrk\tw.txt\tn=1\tbogus\n"), Catch::Contains("runs.tsv:2: 'bogus' is not KEY=VALUE"));
    REQUIRE_THROWS_WITH(load(pair + "run\t1\tours\tjson:rps:requests_ok\tc.json\n"), Catch::Contains("c.json: no number 'requests_ok'"));
    REQUIRE_THROWS_WITH(load(pair + "run\t2\tours\twrk\tw.txt\n"), Catch::Contains("undeclared pair '2'"));

    // No units (json:rps alone): the rate loads, nothing per unit does.
    Bench b = load(pair + "run\t1\tours\tjson:rps\tc.json\tcli_cpu_s=1\n");
    CHECK(b.pairs[0].ours_median() == 50);
    CHECK(b.pairs[0].tested_cpu("ours").n == 0);
    // A key present but the units 100: 1 CPU second = 10 000 µs per request.
    b = load(pair + "run\t1\tours\twrk\tw.txt\tcli_cpu_s=1\n");
    CHECK(b.pairs[0].tested_cpu("ours").median == Approx(10000));

    // A run that counted syscalls with perf (perf=1) gives its syscalls, but neither its rate nor its CPU:
    // counting slowed it.
    d.file("w2.txt", "  200 requests in 1.00s, 1MB read\nRequests/sec: 50.00\n");
    b = load(pair + "run\t1\tours\twrk\tw.txt\tcli_cpu_s=1\n" + "run\t1\tours\twrk\tw2.txt\tperf=1\tcli_cpu_s=4\tcli_sc_all=600\n");
    CHECK(b.pairs[0].ours == std::vector<double>{100});
    CHECK(b.pairs[0].tested_cpu("ours").median == Approx(10000));
    CHECK(b.pairs[0].tested_cpu("ours").n == 1);
    CHECK(b.pairs[0].cost("ours", "cli", Cost::Syscalls).median == Approx(3));

    // A reference pair (targets 0) has no verdict; a floor pair beside a pair against wrk gives the best
    // ratio any client could reach against wrk: wrk's CPU per request over the floor's.
    d.file("w3.txt", "  100 requests in 1.00s, 1MB read\nRequests/sec: 100.00\n");
    d.file("f.json", R"({"rps": 100, "requests_ok": 100})");
    b = load(pair + "pair\t5\treq/s\tcli\t0\t0\tfloor\n" +
             "run\t1\tours\tjson:rps:requests_ok\tf.json\tcli_name=churn-client\tcli_cpu_s=0.0004\n" +
             "run\t1\tpeer\twrk\tw3.txt\tcli_name=wrk\tcli_cpu_s=0.0006\n" +
             "run\t5\tours\tjson:rps:requests_ok\tf.json\tcli_name=churn-client\tcli_cpu_s=0.00044\n" +
             "run\t5\tpeer\tjson:rps:requests_ok\tf.json\tcli_name=bench-floor\tcli_cpu_s=0.0004\n");
    std::string md = render_bench_table(b);
    CHECK_THAT(md, Catch::Contains("| - | reference |"));
    CHECK_THAT(md, Catch::Contains("**The client's floor.** bench-floor, which only waits, reads and writes, costs 4.00 µs per request (pair 5), and wrk 6.00 (pair 1): no client can be cheaper "
                                   "than wrk by more than 1.50x on this machine. churn-client costs 1.10x the floor"));
    CHECK(b.pairs[1].met());
    // The same for a server: nginx's CPU per request over the server floor's.
    b = load("pair\t2\treq/s\tsrv\t1\t1.2\ts\npair\t6\treq/s\tsrv\t0\t0\tsfloor\n"
             "run\t2\tpeer\twrk\tw3.txt\tsrv_name=nginx\tsrv_cpu_s=0.0005\n"
             "run\t6\tours\twrk\tw3.txt\tsrv_name=churn-server\tsrv_cpu_s=0.00042\n"
             "run\t6\tpeer\twrk\tw3.txt\tsrv_name=bench-floor\tsrv_cpu_s=0.0004\n");
    CHECK_THAT(render_bench_table(b), Catch::Contains("**The server's floor.** bench-floor, which only waits, reads and "
                                                      "writes, costs 4.00 µs per request (pair 6), and nginx 5.00 (pair 2): "
                                                      "no server can be cheaper than nginx by more than 1.25x on this "
                                                      "machine. churn-server costs 1.05x the floor (pair 6)."));
    // How busy: CPU seconds over wall seconds, per process, from runs without perf.
    b = load(pair + "run\t1\tours\twrk\tw.txt\twall_s=2\tcli_cpu_s=1.98\tsrv_cpu_s=1\tcli_name=churn-client\tsrv_name=nginx\n" +
             "run\t1\tours\twrk\tw.txt\tperf=1\twall_s=2\tcli_cpu_s=0.5\n");
    CHECK_THAT(render_bench_table(b), Catch::Contains("| 1 | churn-client 99.0 % | nginx 50.0 % | - | - |"));
    // Without the floor pair, no such line.
    b = load(pair + "run\t1\tpeer\twrk\tw3.txt\tcli_name=wrk\tcli_cpu_s=0.0006\n");
    CHECK_THAT(render_bench_table(b), !Catch::Contains("floor.**"));

    // The manifest of the three-run bench before issue 12: pair with 5 fields, the CPU as a bare fraction.
    b = load("pair\t1\treq/s\t1.1\told\nrun\t1\tours\twrk\tw.txt\t0.5\nrun\t1\tpeer\twrk\tw.txt\t1.0\n");
    CHECK(b.pairs[0].tested.empty());
    CHECK(b.pairs[0].tested_cpu("ours").median == Approx(5000));  // half a core at 100 req/s
    CHECK(b.pairs[0].cpu_ratio() == Approx(2));
    CHECK_THAT(render_bench_table(b), Catch::Contains("| 1 | old | req/s | 100.0 (n=1) | 100.0 (n=1) | 1.00x | >= 1.1x | NOT met |"));
}
