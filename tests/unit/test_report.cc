// churn-report's pure parts: the sampler CSV, the compare table, EXPERIMENTS.md block splicing, bench
// parsing. The client JSON here is a hand-made fixture in churn-client's schema; fixtures are for tests
// only, never for EXPERIMENTS.md.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "report/bench.h"
#include "report/evidence.h"
#include "report/probe_run.h"
#include "report/results.h"
#include "report/splice.h"
#include "report/table.h"
#include "report/tw_csv.h"

using namespace churn::report;
namespace fs = std::filesystem;

namespace {

// A scratch directory removed at scope exit.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/test-report-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { fs::remove_all(path); }
    std::string file(const std::string& name, const std::string& text) const {
        fs::create_directories(fs::path(path + "/" + name).parent_path());
        std::ofstream(path + "/" + name, std::ios::binary) << text;
        return path + "/" + name;
    }
};

// churn-client's JSON for a churn run at 3000 req/s on the default range, EADDRNOTAVAIL from 9.8 s.
const char* kChurnJson = R"({
  "mode": "churn", "target": "http://198.18.0.2:8080/", "rate": 3000, "duration_s": 20, "connections": 32,
  "requests_scheduled": 60000, "requests_ok": 29400, "requests_failed": 30590, "requests_unfinished": 10,
  "rps": 1470,
  "latency_us": {"count": 29400, "min": 40, "mean": 120, "p50": 85.3, "p90": 200, "p99": 1234, "p999": 15000, "max": 40000},
  "connect_us": {"count": 1, "min": 1, "mean": 1, "p50": 1, "p90": 1, "p99": 1, "p999": 1, "max": 1},
  "request_us": {"count": 1, "min": 1, "mean": 1, "p50": 1, "p90": 1, "p99": 1, "p999": 1, "max": 1},
  "handshakes": 29400, "handshakes_per_s": 1470, "requests_per_connection": 1,
  "errors": {"EADDRNOTAVAIL": 30587, "ETIMEDOUT": 3}, "protocol_errors": {},
  "first_error_s": {"EADDRNOTAVAIL": 9.81, "ETIMEDOUT": 15.2}, "ports_in_range": 28232, "timeline": []
})";

const char* kPooledJson = R"({
  "mode": "pool", "target": "http://198.18.0.2:8080/", "rate": 3000, "duration_s": 20, "connections": 32,
  "requests_scheduled": 60000, "requests_ok": 60000, "requests_failed": 0, "requests_unfinished": 0,
  "rps": 3000,
  "latency_us": {"count": 60000, "min": 30, "mean": 60, "p50": 52, "p90": 70, "p99": 140, "p999": 410, "max": 900},
  "connect_us": {"count": 32, "min": 1, "mean": 1, "p50": 1, "p90": 1, "p99": 1, "p999": 1, "max": 1},
  "request_us": {"count": 1, "min": 1, "mean": 1, "p50": 1, "p90": 1, "p99": 1, "p999": 1, "max": 1},
  "handshakes": 32, "handshakes_per_s": 1.6, "requests_per_connection": 1875,
  "errors": {}, "protocol_errors": {}, "first_error_s": {}, "ports_in_range": 28232, "timeline": []
})";

const char* kSysctlJson = R"({
  "client": {"net.ipv4.ip_local_port_range": [32768, 60999], "net.ipv4.tcp_tw_reuse": 2},
  "server": {"net.ipv4.ip_local_port_range": [32768, 60999], "net.ipv4.tcp_tw_reuse": 2},
  "overrides": {}
})";

const char* kMetaJson = R"({
  "command": "make compare RATE=3000 DURATION=20 CONNS=32 SIZE=64 WARMUP=0",
  "knobs": {"RATE": 3000, "DURATION": 20, "CONNS": 32, "SIZE": 64, "WARMUP": 0, "CLOSE": "client", "PORT": 8080},
  "sysctl_overrides": {}, "kernel": "6.18.0-test", "hostname": "labhost", "nproc": 2,
  "date": "2025-01-02T03:04:05Z", "git_commit": "0123456789abcdef0123456789abcdef01234567"
})";

const char* kChurnCsv = "t_s,client_tw,server_tw\n0.000,0,0\n5.010,14000,0\n10.020,28232,2\n21.000,28100,1\n";
const char* kPooledCsv = "t_s,client_tw,server_tw\n0.000,0,0\n10.000,0,0\n21.000,0,0\n";

void write_compare_dir(const TempDir& d, const std::string& sub = "") {
    std::string p = sub.empty() ? "" : sub + "/";
    d.file(p + "churn.json", kChurnJson);
    d.file(p + "pooled.json", kPooledJson);
    d.file(p + "churn.tw.csv", kChurnCsv);
    d.file(p + "pooled.tw.csv", kPooledCsv);
    d.file(p + "sysctl.json", kSysctlJson);
    d.file(p + "meta.json", kMetaJson);
}

TwSeries parse_csv(const std::string& text) {
    std::istringstream in(text);
    return parse_tw_csv(in);
}

}  // namespace

TEST_CASE("tw csv: header, samples, peak and final", "[report]") {
    TwSeries s = parse_csv(kChurnCsv);
    REQUIRE(s.samples.size() == 4);
    REQUIRE(s.malformed == 0);
    REQUIRE(s.samples[2].t_s == Approx(10.02));
    TwSummary sum = summarize(s);
    CHECK(sum.client_peak == 28232);
    CHECK(sum.client_final == 28100);
    CHECK(sum.server_peak == 2);
    CHECK(sum.server_final == 1);
    CHECK(sum.samples == 4);
}

TEST_CASE("tw csv: malformed lines are counted and skipped, not fatal", "[report]") {
    // A torn last line (the sampler killed mid-write), text, a missing field, an extra field, a negative
    // count, a repeated header; blank lines and a CR are not errors.
    TwSeries s = parse_csv(
        "t_s,client_tw,server_tw\n0.2,5,1\r\nbogus\n0.4,7\n0.6,1,2,3\n\n0.8,-1,0\nt_s,client_tw,server_tw\n"
        "1.0,12abc,0\n1.2,9,4\n1.4,3");
    CHECK(s.samples.size() == 2);
    CHECK(s.malformed == 7);
    CHECK(s.first_malformed == 3);
    TwSummary sum = summarize(s);
    CHECK(sum.client_peak == 9);
    CHECK(sum.client_final == 9);
    CHECK(sum.server_final == 4);
    CHECK(sum.malformed == 7);
}

TEST_CASE("tw csv: empty input gives zeros", "[report]") {
    TwSummary sum = summarize(parse_csv(""));
    CHECK(sum.samples == 0);
    CHECK(sum.client_peak == 0);
    CHECK(sum.client_final == 0);
}

TEST_CASE("format_sig: significant digits, no exponent", "[report]") {
    CHECK(format_sig(0.0853, 3) == "0.0853");
    CHECK(format_sig(12.34, 3) == "12.3");
    CHECK(format_sig(1234.6, 3) == "1235");
    CHECK(format_sig(9.41, 2) == "9.4");
    CHECK(format_sig(9.96, 2) == "10");
    CHECK(format_sig(0.999, 2) == "1.0");
    CHECK(format_sig(0, 3) == "0");
}

TEST_CASE("first EADDRNOTAVAIL cell next to the model ports/rate", "[report]") {
    ClientRun r = parse_client_json(kChurnJson, "churn.json");
    CHECK(first_error_cell(r, "EADDRNOTAVAIL", 28232) == "9.8 s (model 9.4 s)");
    ClientRun p = parse_client_json(kPooledJson, "pooled.json");
    CHECK(first_error_cell(p, "EADDRNOTAVAIL", 28232) == "never (model 9.4 s)");
    p.rate = 0;  // closed loop: no offered rate, no model
    CHECK(first_error_cell(p, "EADDRNOTAVAIL", 28232) == "never (model n/a)");
}

TEST_CASE("client json: missing or malformed is one clear error naming the file", "[report]") {
    ClientRun r = parse_client_json(kChurnJson, "churn.json");
    CHECK(r.mode == "churn");
    CHECK(r.latency.p99_us == 1234);
    CHECK(r.errors.at("EADDRNOTAVAIL") == 30587);

    std::string no_rps = kChurnJson;
    no_rps.replace(no_rps.find("\"rps\""), 5, "\"rpz\"");
    REQUIRE_THROWS_WITH(parse_client_json(no_rps, "d/churn.json"), "d/churn.json: missing 'rps'");
    REQUIRE_THROWS_WITH(parse_client_json("{\"mode\": ", "d/churn.json"), Catch::StartsWith("d/churn.json: malformed JSON"));
    REQUIRE_THROWS_WITH(parse_client_json("[1,2]", "x.json"), "x.json: not a JSON object");
    REQUIRE_THROWS_WITH(parse_sysctl_json(R"({"client": {"net.ipv4.ip_local_port_range": "1 2"}})", "s.json"),
                        Catch::Contains("is not [lo, hi]"));

    TempDir d;
    write_compare_dir(d);
    fs::remove(d.path + "/pooled.tw.csv");
    REQUIRE_THROWS_WITH(load_compare_dir(d.path), d.path + "/pooled.tw.csv: cannot open (ENOENT)");
}

TEST_CASE("compare table: one row per metric, churn | pooled, footer line", "[report]") {
    TempDir d;
    write_compare_dir(d);
    std::string md = render_table(load_compare_dir(d.path));
    CHECK_THAT(md, Catch::StartsWith("| metric | churn | pooled |\n|---|---:|---:|\n"));
    CHECK_THAT(md, Catch::Contains("| offered load (req/s) | 3000 | 3000 |"));
    CHECK_THAT(md, Catch::Contains("| achieved (ok responses/s) | 1470 | 3000 |"));
    CHECK_THAT(md, Catch::Contains("| latency p50 (ms) | 0.0853 | 0.0520 |"));
    CHECK_THAT(md, Catch::Contains("| latency p99 (ms) | 1.23 | 0.140 |"));
    CHECK_THAT(md, Catch::Contains("| latency p99.9 (ms) | 15.0 | 0.410 |"));
    CHECK_THAT(md, Catch::Contains("| TCP handshakes/s | 1470 | 1.60 |"));
    CHECK_THAT(md, Catch::Contains("| EADDRNOTAVAIL (connect failed) | 30587 | 0 |"));
    CHECK_THAT(md, Catch::Contains("| first EADDRNOTAVAIL | 9.8 s (model 9.4 s) | never (model 9.4 s) |"));
    CHECK_THAT(md, Catch::Contains("| TIME-WAIT client host, peak | 28232 | 0 |"));
    CHECK_THAT(md, Catch::Contains("| TIME-WAIT client host, final | 28100 | 0 |"));
    CHECK_THAT(md, Catch::Contains("| TIME-WAIT server host, peak | 2 | 0 |"));
    CHECK_THAT(md, Catch::Contains("| requests failed / unfinished | 30590 / 10 | 0 / 0 |"));
    CHECK_THAT(md, Catch::Contains("| other errors | ETIMEDOUT 3 | none |"));
    CHECK_THAT(md, Catch::Contains("\n\nRATE=3000 DURATION=20 CONNS=32 SIZE=64 WARMUP=0 CLOSE=client PORT=8080; "
                                   "client host ip_local_port_range 32768-60999 (28232 ports), tcp_tw_reuse 2; "
                                   "kernel 6.18.0-test; 2025-01-02T03:04:05Z\n"));
}

TEST_CASE("splice: outside text kept byte for byte, block content replaced", "[report]") {
    // CRLF prose, a marker with trailing spaces, and no final newline after the last line.
    std::string text =
        "# Title\r\nprose  with  spaces\r\n<!-- BEGIN GENERATED: a -->\nold a\n<!-- END GENERATED: a -->\n"
        "middle\n<!-- BEGIN GENERATED: b -->  \n<!-- END GENERATED: b -->\ntail without newline";
    auto gen = [](const std::string& name) { return "new " + name + "\n"; };
    std::string out = splice_blocks(text, gen);
    CHECK(out ==
          "# Title\r\nprose  with  spaces\r\n<!-- BEGIN GENERATED: a -->\nnew a\n<!-- END GENERATED: a -->\n"
          "middle\n<!-- BEGIN GENERATED: b -->  \nnew b\n<!-- END GENERATED: b -->\ntail without newline");
    CHECK(splice_blocks(out, gen) == out);  // idempotent
    CHECK_FALSE(first_stale_block(out, gen).has_value());
    CHECK(first_stale_block(text, gen) == std::optional<std::string>("a"));
    CHECK(splice_blocks("no blocks at all", gen) == "no blocks at all");
}

TEST_CASE("splice: unbalanced markers are errors naming the line", "[report]") {
    auto gen = [](const std::string&) { return std::string("x\n"); };
    REQUIRE_THROWS_WITH(find_blocks("a\n<!-- END GENERATED: x -->\n"), "line 2: END GENERATED: x without BEGIN");
    REQUIRE_THROWS_WITH(find_blocks("<!-- BEGIN GENERATED: x -->\n<!-- END GENERATED: y -->\n"),
                        Catch::StartsWith("line 2: END GENERATED: y closes block 'x'"));
    REQUIRE_THROWS_WITH(find_blocks("<!-- BEGIN GENERATED: x -->\n<!-- BEGIN GENERATED: y -->\n"),
                        Catch::StartsWith("line 2: BEGIN GENERATED: y inside block 'x'"));
    REQUIRE_THROWS_WITH(splice_blocks("\n\n<!-- BEGIN GENERATED: x -->\nstuff\n", gen),
                        "line 3: block 'x' has no END GENERATED line");
    // Not a marker: inline in prose, or a name with a space. Kept as text.
    CHECK(find_blocks("see `<!-- BEGIN GENERATED: x -->`\n<!-- BEGIN GENERATED: a b -->\n").empty());
}

TEST_CASE("experiments: compare block from evidence, --check catches a hand edit", "[report]") {
    TempDir d;
    write_compare_dir(d, "evidence/compare");
    Evidence ev(d.path + "/evidence");
    std::string table = render_table(load_compare_dir(d.path + "/evidence/compare"));
    d.file("evidence/compare/table.md", table);

    std::string block = ev.block("compare");
    CHECK(block == table + "\nRun: `make compare RATE=3000 DURATION=20 CONNS=32 SIZE=64 WARMUP=0` on labhost "
                           "(2 CPUs), kernel 6.18.0-test, 2025-01-02T03:04:05Z, commit 0123456789ab.\n");

    std::string doc = "# Experiments\n\nWhy churn fails.\n<!-- BEGIN GENERATED: compare -->\n"
                      "<!-- END GENERATED: compare -->\nConclusion.\n";
    auto gen = [&](const std::string& name) { return ev.block(name); };
    std::string fresh = splice_blocks(doc, gen);
    CHECK_FALSE(first_stale_block(fresh, gen).has_value());
    CHECK(ev.stale_tables({"compare"}).empty());

    // Someone makes churn look better by hand, in EXPERIMENTS.md...
    std::string edited = fresh;
    size_t at = edited.find("| 30587 |");
    REQUIRE(at != std::string::npos);
    edited.replace(at, 9, "| 305 |");
    CHECK(first_stale_block(edited, gen) == std::optional<std::string>("compare"));
    // ... or in evidence/compare/table.md, which the raw JSON contradicts.
    std::string t2 = table;
    t2.replace(t2.find("| 30587 |"), 9, "| 305 |");
    d.file("evidence/compare/table.md", t2);
    CHECK(ev.stale_tables({"compare"}) == std::vector<std::string>{d.path + "/evidence/compare/table.md"});
    ev.refresh_tables({"compare"});
    CHECK(read_text(d.path + "/evidence/compare/table.md") == table);

    // A block with no evidence at all is an error naming the block.
    REQUIRE_THROWS_WITH(ev.block("nosuch"), Catch::StartsWith("generated block 'nosuch': no evidence"));
}

TEST_CASE("bench: wrk and ab outputs, medians, manifest", "[report]") {
    const char* wrk =
        "Running 5s test @ http://198.18.0.2:8081/\n  1 threads and 50 connections\n"
        "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   235.12us   50.00us   2.00ms   90.00%\n"
        "  1045612 requests in 5.00s, 160.55MB read\nRequests/sec: 209122.40\nTransfer/sec:     32.11MB\n";
    const char* ab =
        "Concurrency Level:      50\nTime taken for tests:   4.285 seconds\nComplete requests:      150000\n"
        "Failed requests:        0\nRequests per second:    35005.83 [#/sec] (mean)\nTime per request:       1.428 [ms] (mean)\n";
    CHECK(parse_wrk_rps(wrk) == Approx(209122.40));
    CHECK(parse_ab_rps(ab) == Approx(35005.83));
    CHECK_FALSE(parse_wrk_rps("unable to connect to 198.18.0.2:8081 Connection refused\n").has_value());
    CHECK(median({3, 1, 2}) == 2);
    CHECK(median({4, 1, 3, 2}) == 2.5);
    CHECK(median({}) == 0);

    TempDir d;
    d.file("w1.txt", wrk);
    d.file("w2.txt", "Requests/sec: 200000.00\n");
    d.file("w3.txt", "Requests/sec: 210000.00\n");
    d.file("c1.json", R"({"rps": 240000.5, "handshakes_per_s": 0})");
    d.file("c2.json", R"({"rps": 230000})");
    d.file("c3.json", R"({"rps": 250000})");
    d.file("runs.tsv",
           "pair\t1\treq/s\t1.1\tchurn-client pool vs wrk, nginx\n"
           "run\t1\tours\tjson:rps\tc1.json\nrun\t1\tpeer\twrk\tw1.txt\n"
           "run\t1\tours\tjson:rps\tc2.json\nrun\t1\tpeer\twrk\tw2.txt\n"
           "run\t1\tours\tjson:rps\tc3.json\nrun\t1\tpeer\twrk\tw3.txt\n"
           "note\ttcp_tw_reuse=1 in the bench lab\n");
    Bench b = load_bench_dir(d.path);
    REQUIRE(b.pairs.size() == 1);
    CHECK(b.pairs[0].ours_median() == Approx(240000.5));
    CHECK(b.pairs[0].peer_median() == Approx(209122.40));
    CHECK(b.pairs[0].ratio() == Approx(240000.5 / 209122.40));
    CHECK(b.pairs[0].met());
    CHECK_THAT(render_bench_table(b), Catch::Contains("| 1 | churn-client pool vs wrk, nginx | req/s | 240000 (230000–250000) "
                                                      "(n=3) | 209122 (200000–210000) (n=3) | 1.15x | >= 1.1x | met |"));
    CHECK_THAT(bench_json(b), Catch::Contains("\"ratio\""));

    d.file("runs.tsv", "pair\t1\treq/s\t1.1\tx\nrun\t1\tpeer\twrk\tmissing.txt\n");
    REQUIRE_THROWS_WITH(load_bench_dir(d.path), d.path + "/missing.txt: cannot open (ENOENT)");
    d.file("bad.txt", "wrk: connection refused\n");
    d.file("runs.tsv", "pair\t1\treq/s\t1.1\tx\nrun\t1\tpeer\twrk\tbad.txt\n");
    REQUIRE_THROWS_WITH(load_bench_dir(d.path), Catch::Contains("bad.txt: no wrk result"));
}

namespace {

// Two hosts, three ticks of churn-probe watch, then a line torn by a SIGKILL.
std::string probe_line(long seq, const char* host, double t, long tw, long opens) {
    return "{\"seq\":" + std::to_string(seq) + ",\"t\":" + std::to_string(t) + ",\"host\":\"" + host +
           "\",\"netns\":\"churnlab-x-" + host + "\",\"source\":\"netlink\",\"states\":{\"ESTAB\":1,\"TIME-WAIT\":" +
           std::to_string(tw) + "},\"total\":" + std::to_string(tw + 1) + ",\"nstat\":{\"TcpActiveOpens\":" + std::to_string(opens) +
           "},\"sample_us\":" + std::to_string(100 + seq) + ",\"sample_cpu_us\":" + std::to_string(50000) + "}\n";
}

std::string probe_jsonl(long opens_end) {
    return probe_line(0, "client", 0.0, 0, 100) + probe_line(0, "server", 0.0, 0, 0) + probe_line(1, "client", 0.1, 500, 600) +
           probe_line(1, "server", 0.1, 3, 0) + probe_line(2, "client", 0.2, 400, opens_end) +
           probe_line(2, "server", 0.2, 1, 0) + "{\"seq\":3,\"t\":0.3,\"host\":\"cli";
}

}  // namespace

TEST_CASE("probe run: watch lines -> TIME-WAIT series, peaks, counter deltas; torn line skipped", "[report]") {
    ProbeRun r = parse_probe_jsonl(probe_jsonl(700), "churn.probe.jsonl");
    CHECK(r.malformed == 1);
    REQUIRE(r.tw.samples.size() == 3);
    CHECK(r.tw.samples[1].t_s == Approx(0.1));
    CHECK(r.tw.samples[1].client_tw == 500);
    CHECK(r.tw.samples[1].server_tw == 3);
    CHECK(r.hosts.at("client").states_peak.at("TIME-WAIT") == 500);
    CHECK(r.hosts.at("client").states_final.at("TIME-WAIT") == 400);
    CHECK(r.hosts.at("client").delta("TcpActiveOpens") == 600);
    CHECK(r.hosts.at("client").duration_s == Approx(0.2));
    CHECK(r.interval_ms == Approx(100));
    CHECK(r.max_sample_us == 102);
    CHECK(r.busy_s == Approx(0.3));                // 6 samples x 50 ms of CPU
    CHECK(r.busy_fraction() == Approx(0.3 / 0.2));  // over the client's 0.2 s: more than one CPU's worth
    CHECK(tw_csv_text(r.tw) == "t_s,client_tw,server_tw\n0.000,0,0\n0.100,500,3\n0.200,400,1\n");
    TwSummary s = summarize(r.tw);
    CHECK(s.client_peak == 500);
    CHECK(s.server_final == 1);

    ProbeSummary ps = parse_probe_summary(probe_summary_json(r, R"([{"host":"client","what":"TIME-WAIT","ok":true}])"), "x");
    CHECK(ps.present);
    CHECK(ps.client_active_opens == 600);
    CHECK(ps.crosschecks == 1);
    CHECK(ps.crosscheck_ok);
    REQUIRE_THROWS_WITH(parse_probe_jsonl("garbage\n", "p.jsonl"), "p.jsonl: no churn-probe watch samples in it");
    REQUIRE_THROWS_AS(parse_probe_summary("{}", "p.json"), ReportError);
}

TEST_CASE("compare table: with churn-probe files, a kernel TcpActiveOpens/s row and the source line", "[report]") {
    TempDir d;
    write_compare_dir(d);
    // 20 s runs (churn.json/pooled.json), WARMUP=0: 28000 and 32 kernel opens.
    d.file("churn.probe.jsonl", probe_jsonl(28100));
    d.file("pooled.probe.jsonl", probe_jsonl(132));
    d.file("churn.crosscheck.json", R"([{"host":"client","what":"TIME-WAIT","probe_before":400,"ss":400,"probe_after":400,"ok":true}])");
    derive_probe_files(d.path, "churn");
    derive_probe_files(d.path, "pooled");
    CHECK(read_text(d.path + "/churn.tw.csv").rfind("t_s,client_tw,server_tw\n0.000,0,0\n", 0) == 0);
    std::string md = render_table(load_compare_dir(d.path));
    CHECK_THAT(md, Catch::Contains("| TCP handshakes/s | 1470 | 1.60 |\n| TcpActiveOpens/s (kernel, client host) | 1400 | 1.60 |\n"));
    CHECK_THAT(md, Catch::Contains("| TIME-WAIT client host, peak | 500 | 500 |"));
    CHECK_THAT(md, Catch::Contains("cross-checked against ss and nstat at the end of each run (1 check, all agree)"));
}
