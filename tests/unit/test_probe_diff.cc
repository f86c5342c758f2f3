// churn-probe diff: watch runs (JSON lines, two hosts) and single samples, side by side.
#include <string>

#include <catch2/catch.hpp>

#include "probe/diff.h"
#include "probe/states.h"

using namespace churn::probe;

namespace {

std::string line(const char* host, double t, int tw, int estab, long opens) {
    return std::string("{\"seq\":0,\"host\":\"") + host + "\",\"mono_ns\":" + std::to_string(static_cast<long long>(t * 1e9)) +
           ",\"states\":{\"ESTAB\":" + std::to_string(estab) + ",\"TIME-WAIT\":" + std::to_string(tw) +
           "},\"total\":" + std::to_string(tw + estab) + ",\"nstat\":{\"TcpActiveOpens\":" + std::to_string(opens) +
           ",\"TcpCurrEstab\":" + std::to_string(estab) + "}}\n";
}

}  // namespace

TEST_CASE("diff: two watch runs, two hosts each: peaks, ends, counter rates, what changed", "[probe]") {
    std::string churn = line("client", 0, 0, 0, 1000) + line("server", 0, 0, 0, 0) + line("client", 5, 3000, 1, 4000) +
                        line("server", 5, 0, 1, 0) + line("client", 10, 2800, 0, 6000) + line("server", 10, 0, 0, 0) +
                        "{\"seq\":3,\"host\":\"cli";  // torn last line: skipped
    std::string pooled = line("client", 0, 0, 0, 50) + line("server", 0, 0, 0, 0) + line("client", 10, 32, 32, 82) +
                         line("server", 10, 0, 32, 0);
    RunFile a = parse_run(churn, "churn.jsonl"), b = parse_run(pooled, "pooled.jsonl");
    CHECK(a.malformed == 1);
    REQUIRE(a.hosts.size() == 2);
    CHECK(a.hosts[0].host == "client");
    CHECK(a.hosts[0].samples == 3);
    CHECK(a.hosts[0].duration_s == Approx(10));
    CHECK(a.hosts[0].peak[kTimeWait] == 3000);
    CHECK(a.hosts[0].last[kTimeWait] == 2800);
    CHECK(a.is_run());

    Diff d = diff_runs(a, b);
    CHECK(d.json["kind"] == "runs");
    CHECK(d.json["hosts"][0]["host"] == "client");
    CHECK(d.json["hosts"][0]["states"]["TIME-WAIT"]["a_peak"] == 3000);
    CHECK(d.json["hosts"][0]["states"]["TIME-WAIT"]["b_end"] == 32);
    CHECK(d.json["hosts"][0]["counters"]["TcpActiveOpens"]["a_delta"] == Approx(5000));
    CHECK(d.json["hosts"][0]["counters"]["TcpActiveOpens"]["a_per_s"] == Approx(500));
    CHECK(d.json["hosts"][0]["counters"]["TcpActiveOpens"]["b_per_s"] == Approx(3.2));
    CHECK_FALSE(d.json["hosts"][0]["counters"].contains("TcpCurrEstab"));  // a gauge: no delta
    CHECK(d.text.find("client: TIME-WAIT peak 3000 -> 32 (-99%)") != std::string::npos);
    CHECK(d.text.find("client: TcpActiveOpens over the run 5000 -> 32") != std::string::npos);
}

TEST_CASE("diff: two single samples: states A and B, counters B - A", "[probe]") {
    RunFile a = parse_run("{\n  \"host\": \"host\", \"states\": {\"CLOSE-WAIT\": 5},\n  \"nstat\": {\"TcpActiveOpens\": 10}\n}\n", "a.json");
    RunFile b = parse_run("{\"host\": \"other\", \"states\": {\"CLOSE-WAIT\": 205}, \"nstat\": {\"TcpActiveOpens\": 12}}", "b.json");
    CHECK_FALSE(a.is_run());
    Diff d = diff_runs(a, b);  // one host each: paired even though the labels differ
    CHECK(d.json["kind"] == "samples");
    CHECK(d.json["hosts"][0]["states"]["CLOSE-WAIT"]["b"] == 205);
    CHECK(d.json["hosts"][0]["counters"]["TcpActiveOpens"]["delta"] == 2);
    CHECK(d.text.find("CLOSE-WAIT 5 -> 205") != std::string::npos);
    CHECK(d.text.find("TcpActiveOpens +2 between the samples") != std::string::npos);
}

TEST_CASE("diff: a file with no samples is one clear error", "[probe]") {
    CHECK_THROWS_AS(parse_run("not json at all\n", "x.txt"), ProbeError);
    CHECK_THROWS_AS(parse_run("", "empty.json"), ProbeError);
    StateCounts c = counts_from_json(nlohmann::json::parse(R"({"ESTAB": 3, "TIME-WAIT": 4, "bogus": 9})"));
    CHECK(c[kEstablished] == 3);
    CHECK(c.total == 7);
    CHECK(counts_line(c) == "ESTAB 3, TIME-WAIT 4");
}
