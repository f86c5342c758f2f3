// make run-levers: the report's arithmetic (TIME-WAIT lifetime from samples, the naive model and
// tcp_tw_reuse's line), the verdicts, a row directory as lab/scenario.sh leaves it, levers.json's round
// trip, and bad input named by file and key.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "report/levers.h"
#include "report/results.h"

using namespace churn::report;

namespace {

TwSeries series(std::initializer_list<std::tuple<double, long>> pts) {
    TwSeries s;
    for (auto [t, c] : pts) s.samples.push_back({t, c, 0});
    return s;
}

// The files of one row, as lab/scenario.sh writes them (cut down to what the report reads).
struct RowDir {
    std::filesystem::path root = std::filesystem::temp_directory_path() /
                                 ("levers-test-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    RowDir() { std::filesystem::create_directories(root / "1-baseline"); }
    ~RowDir() { std::filesystem::remove_all(root); }
    void put(const std::string& rel, const std::string& text) const { std::ofstream(root / rel) << text; }
    std::string dir() const { return root.string(); }
};

const char* kClient = R"({"tool": "churn-client", "mode": "churn", "rate": 500, "duration_s": 7, "rps": 140.5,
  "latency_us": {"p50": 300, "p99": 2000, "p999": 3000}, "connect_us": {"p50": 100, "p99": 900, "p999": 1000},
  "handshakes_per_s": 142, "requests_failed": 2500, "requests_unfinished": 0, "ports_in_range": 1000,
  "errors": {"EADDRNOTAVAIL": 2500}, "first_error_s": {"EADDRNOTAVAIL": 2.01}, "handshakes": 1000,
  "requests_ok": 1000, "requests_scheduled": 3500,
  "timeline": [{"t": 1, "requests": 500, "connects": 500, "errors": {}}, {"t": 2, "requests": 500, "connects": 500, "errors": {}},
               {"t": 3, "requests": 0, "connects": 0, "errors": {"EADDRNOTAVAIL": 500}}]})";
const char* kSysctl = R"({"client": {"net.ipv4.ip_local_port_range": [40000, 40999], "net.ipv4.tcp_tw_reuse": 2,
  "net.ipv4.tcp_tw_reuse_delay": 1000, "net.ipv4.tcp_fin_timeout": 60, "net.ipv4.tcp_max_tw_buckets": 131072},
  "server": {}, "overrides": {}})";
const char* kProbe = R"({"hosts": {
  "client": {"states_peak": {"TIME-WAIT": 1000}, "nstat_delta": {"TcpActiveOpens": 1000, "TcpOutRsts": 3}},
  "server": {"states_peak": {"TIME-WAIT": 0}, "nstat_delta": {"TcpEstabResets": 0}}}})";

}  // namespace

TEST_CASE("levers: TIME-WAIT lifetime from a batch's samples", "[levers]") {
    // Created from 0.5 s to 2.5 s, flat, first expiry at 60.6 s, none left at 62.6 s.
    auto l = tw_lifetime(series({{0.0, 0}, {0.5, 200}, {1.5, 700}, {2.5, 1000}, {30, 1000}, {60.6, 900}, {61.5, 300}, {62.6, 0}, {63, 0}}));
    REQUIRE(l);
    CHECK(l->first_created_s == 0.5);
    CHECK(l->last_created_s == 2.5);
    CHECK(*l->first_lifetime_s() == Approx(60.1));
    CHECK(*l->last_lifetime_s() == Approx(60.1));
    // Never any TIME-WAIT: nothing to measure. Watch ended before the first expiry: no lifetime.
    CHECK_FALSE(tw_lifetime(series({{0, 0}, {1, 0}})));
    auto open = tw_lifetime(series({{0, 10}, {1, 20}, {2, 20}}));
    REQUIRE(open);
    CHECK_FALSE(open->first_lifetime_s());
    CHECK_FALSE(open->last_lifetime_s());
    // Expired but not yet at zero when the watch stopped: the first lifetime only.
    auto partial = tw_lifetime(series({{0, 10}, {60, 5}}));
    CHECK(*partial->first_lifetime_s() == 60);
    CHECK_FALSE(partial->last_lifetime_s());
}

TEST_CASE("levers: the naive model and tcp_tw_reuse's line", "[levers]") {
    LeverRow r;
    r.id = "1-baseline", r.scenario = "churn", r.status = "ran", r.offered_rps = 3000, r.ports = 28232, r.tw_reuse = 2;
    CHECK(*r.model_first_s() == Approx(9.4107).epsilon(1e-3));
    CHECK_FALSE(r.reuse_line_per_s());  // 2 = loopback only: no line on a veth
    r.sources = 2;
    CHECK(*r.model_first_s() == Approx(18.821).epsilon(1e-3));
    r.sources = 1, r.tw_reuse = 1, r.reuse_delay_ms = 1000;
    CHECK(*r.reuse_line_per_s() == 28232);
    CHECK_FALSE(r.model_first_s());  // 3000/s below 28232/s: never
    r.reuse_delay_ms = 20000;
    CHECK(*r.reuse_line_per_s() == Approx(1411.6));
    CHECK(*r.model_first_s() == Approx(9.4107).epsilon(1e-3));  // above the line: as without reuse
    r.scenario = "pooled";
    CHECK_FALSE(r.model_first_s());
}

TEST_CASE("levers: verdicts follow the numbers", "[levers]") {
    LeverRow r;
    r.id = "3a-tw-reuse-under", r.scenario = "churn", r.status = "ran", r.offered_rps = 500, r.achieved_rps = 500, r.duration_s = 7, r.ports = 1000;
    r.tw_reuse = 1, r.reuse_delay_ms = 1000, r.tw_recycled = 2500;
    CHECK(row_verdict(r) == "500/s offered is below ports ÷ delay = 1000/s; holds: no EADDRNOTAVAIL in 7.00 s; 2500 ports taken over (TcpExtTWRecycled)");
    r.eaddrnotavail = 12, r.first_eaddrnotavail_s = 3.5;
    CHECK(row_verdict(r).find("holds; fails: EADDRNOTAVAIL after 3.50 s") == std::string::npos);
    CHECK(row_verdict(r).find("fails: EADDRNOTAVAIL after 3.50 s") != std::string::npos);

    LeverRow f;
    f.id = "4-fin-timeout", f.scenario = "churn", f.status = "ran", f.fin_timeout_s = 10;
    f.lifetime = TwLifetime{0.5, 2.5, 60.6, 62.6};
    CHECK(row_verdict(f) == "TIME-WAIT lived 60.1 s (first created → first expired), 60.1 s (last created → none left) "
                            "with tcp_fin_timeout=10: not shortened");
    f.lifetime = TwLifetime{0.5, 2.5, 10.6, 12.6};
    CHECK(row_verdict(f).find("SHORTER than 60 s") != std::string::npos);
    f.lifetime.reset();
    CHECK(row_verdict(f).find("not measured") != std::string::npos);

    LeverRow b;  // no EADDRNOTAVAIL, but most of the load unanswered: not "holds"
    b.id = "1-baseline", b.scenario = "churn", b.status = "ran", b.offered_rps = 3000, b.achieved_rps = 875, b.duration_s = 30;
    b.ports = 28232, b.connect_p99_ms = 41.5;
    CHECK(row_verdict(b) == "falls behind: 875 of 3000 requests/s answered, connect p99 41.5 ms; no EADDRNOTAVAIL in 30.0 s "
                            "(the naive model said 9.41 s)");
    b.achieved_rps = 2990;
    CHECK(row_verdict(b).rfind("holds: no EADDRNOTAVAIL", 0) == 0);

    LeverRow n;
    n.id = "6-linger0", n.status = "not run: needs churn-client --linger0";
    CHECK(row_verdict(n) == "not run: needs churn-client --linger0");
}

TEST_CASE("levers: a row directory, levers.json and back", "[levers]") {
    RowDir d;
    d.put("rows.tsv", "id\tscenario\tsettings\tstatus\n1-baseline\tchurn\tkernel defaults\tran\n"
                      "6-linger0\tchurn\tCLIENT_ARGS=--linger0\tnot run: needs churn-client --linger0\n");
    d.put("1-baseline/churn.json", kClient);
    d.put("1-baseline/sysctl.json", kSysctl);
    d.put("1-baseline/churn.probe.json", kProbe);
    d.put("1-baseline/churn.tw.csv", "t_s,client_tw,server_tw\n0.0,0,0\n0.6,300,0\n1.6,800,0\n2.6,1000,0\n");
    d.put("1-baseline/churn.load.json", R"({"probe_t_at_load_start": 0.6})");
    std::vector<LeverRow> rows = load_levers_dir(d.dir());
    REQUIRE(rows.size() == 2);
    const LeverRow& r = rows[0];
    CHECK(r.achieved_rps == 140.5);
    CHECK(r.connect_p99_ms == 0.9);
    CHECK(r.eaddrnotavail == 2500);
    CHECK(*r.first_eaddrnotavail_s == 2.01);
    CHECK(r.ports == 1000);
    CHECK(*r.model_first_s() == 2);
    CHECK(r.tw_peak_client == 1000);
    CHECK(r.rst_out_client == 3);
    CHECK(r.tw_recycled == 0);  // a counter that never moved is absent from the delta: 0, not an error
    CHECK(r.tw_series.front().first == Approx(-0.6));  // on the load's clock
    CHECK(r.verdict == "fails: EADDRNOTAVAIL after 2.01 s (model 2.00 s)");
    CHECK_FALSE(rows[1].ran());

    std::vector<LeverRow> back = parse_levers_json(levers_json(rows), "levers.json");
    REQUIRE(back.size() == 2);
    CHECK(back[0].verdict == r.verdict);
    CHECK(levers_json(back) == levers_json(rows));
    CHECK(render_levers_table(back) == render_levers_table(rows));
    CHECK(render_lever_quote(back, "1").find("row 1 (baseline)") != std::string::npos);
    CHECK_THROWS_WITH(render_lever_quote(back, "3a"), "no run-levers row '3a' in the evidence");
    CHECK(render_levers_table(back).find("| 6-linger0 | `CLIENT_ARGS=--linger0` | not run: needs churn-client --linger0 |") != std::string::npos);

    // A verdict typed into levers.json by hand does not survive: it is recomputed from the numbers.
    std::string edited = levers_json(rows);
    edited.replace(edited.find("fails: EADDRNOTAVAIL"), 5, "holds");
    CHECK(parse_levers_json(edited, "levers.json")[0].verdict == r.verdict);
}

TEST_CASE("levers: bad input is named by file and key", "[levers]") {
    RowDir d;
    d.put("rows.tsv", "1-baseline\tchurn\tkernel defaults\n");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("rows.tsv:1: want 4 tab-separated fields, got 3"));
    d.put("rows.tsv", "9-nope\tchurn\tx\tran\n");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("unknown row '9-nope'"));
    d.put("rows.tsv", "1-baseline\tchurn\tx\tran\n");
    d.put("1-baseline/churn.json", kClient);
    d.put("1-baseline/sysctl.json", kSysctl);
    d.put("1-baseline/churn.probe.json", R"({"hosts": {"client": {}}})");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("churn.probe.json: missing 'hosts.server'"));
    CHECK_THROWS_WITH(parse_levers_json(R"({"rows": []})", "levers.json"), "levers.json: 'rows' is not a non-empty array");
    CHECK_THROWS_WITH(parse_levers_json(R"({"rows": [{"id": "1-baseline", "what": "", "scenario": "churn", "settings": "", "status": "ran"}]})",
                                        "levers.json"),
                      "levers.json: rows[0]: missing 'offered_rps'");
}

namespace {

// Rows 1 and 10 as churn-report levers writes them into levers.json (the fields levers.final reads).
LeverRow final_row(const std::string& id, const std::string& scenario) {
    LeverRow r;
    r.id = id, r.scenario = scenario, r.status = "ran", r.what = id, r.offered_rps = 3000, r.duration_s = 40;
    r.settings = scenario == "churn" ? "kernel defaults" : "PROFILE=sysctl/pooled-service.conf CONNS=32";
    r.tw_reuse = scenario == "churn" ? 2 : 1, r.ports = 28232;
    return r;
}
std::vector<LeverRow> final_rows() {
    LeverRow b = final_row("1-baseline", "churn"), a = final_row("10-pool-profile", "pooled");
    b.achieved_rps = 941, b.p50_ms = 0.412, b.p99_ms = 61.2, b.connect_p99_ms = 52.4, b.handshakes = 28232;
    b.eaddrnotavail = 229, b.first_eaddrnotavail_s = 28.44, b.tw_peak_client = 28232, b.tw_peak_server = 3;
    b.active_opens_client = 28461, b.tw_end_client = TwAtEnd{28230, 28231, 28230}, b.tw_end_server = TwAtEnd{0, 0, 0};
    b.profile = "";
    a.achieved_rps = 3000, a.p50_ms = 0.211, a.p99_ms = 1.95, a.connect_p99_ms = 0.31, a.handshakes = 32, a.tw_peak_client = 32;
    a.active_opens_client = 32, a.tw_end_client = TwAtEnd{32, 32, 32}, a.tw_end_server = TwAtEnd{0, 0, 0};
    a.profile = "sysctl/pooled-service.conf";
    a.profile_settings = {{"net.ipv4.tcp_tw_reuse", "1", "row 3a (tw-reuse-under): reuse is safe below its line; EXPERIMENTS.md §6"}};
    std::vector<LeverRow> rows = {b, final_row("9-pool", "pooled"), a};
    for (LeverRow& r : rows) r.verdict = row_verdict(r);
    return rows;
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("levers: the final before/after renders from levers.json alone", "[levers]") {
    std::string text = levers_json(final_rows());
    std::vector<LeverRow> rows = parse_levers_json(text, "levers.json");
    CHECK(levers_json(rows) == text);  // the new fields survive the round trip
    std::string md = render_levers_final(rows);
    INFO(md);
    CHECK(has(md, "| | before (row 1: churn, kernel defaults) | after (row 10: pool + sysctl/pooled-service.conf) |\n|---|---:|---:|\n"));
    CHECK(has(md, "| offered req/s | 3000 | 3000 |\n| achieved req/s | 941 | 3000 |\n"));
    CHECK(has(md, "| latency p50 / p99 (ms) | 0.412 / 61.2 | 0.211 / 1.95 |\n| connect p99 (ms) | 52.4 | 0.310 |\n"));
    CHECK(has(md, "| handshakes (churn-client) | 28232 | 32 |\n"));
    CHECK(has(md, "| EADDRNOTAVAIL (count, first at) | 229, first at 28.4 s | 0 |\n"));
    CHECK(has(md, "| TIME-WAIT client host: peak (churn-probe) | 28232 | 32 |\n"));
    CHECK(has(md, "| TIME-WAIT client host: at the end, `ss` (churn-probe before / after) | 28230 (churn-probe 28231 / 28230) | 32 (churn-probe 32 / 32) |\n"));
    CHECK(has(md, "| TIME-WAIT server host: peak (churn-probe) | 3 | 0 |\n"));
    CHECK(has(md, "| TcpActiveOpens, client host (churn-probe) | 28461 | 32 |\n"));
    CHECK(has(md, "\nKernel settings changed:\n\n- `net.ipv4.tcp_tw_reuse = 1` (sysctl/pooled-service.conf; row 1-baseline ran with 2): "
                  "row 3a (tw-reuse-under): reuse is safe below its line; EXPERIMENTS.md §6\n"));
    CHECK_FALSE(has(md, "not recorded"));
    CHECK_FALSE(has(md, "9-pool"));
}

TEST_CASE("levers: the final before/after without a row, or from an older levers.json", "[levers]") {
    // A row absent from the evidence: an error naming it (the evidence is of another shape).
    std::vector<LeverRow> rows = final_rows();
    rows.pop_back();
    CHECK_THROWS_WITH(render_levers_final(rows), "levers.final: no row '10-pool-profile' in the evidence (want rows 1-baseline and 10-pool-profile)");
    // A row that did not run: its column says so, and no settings are claimed.
    rows = final_rows();
    rows.back().status = "not run: needs churn-sysctl";
    std::string md = render_levers_final(parse_levers_json(levers_json(rows), "levers.json"));
    CHECK(has(md, "| after (row 10: not run: needs churn-sysctl) |"));
    CHECK(has(md, "| achieved req/s | 941 | — |\n"));
    CHECK(has(md, "Kernel settings changed:\n\n- none measured: row 10-pool-profile not run: needs churn-sysctl.\n"));
    // A levers.json written before these fields existed: said so in the cells and under the table.
    rows = final_rows();
    for (LeverRow& r : rows) r.active_opens_client.reset(), r.tw_end_client.reset(), r.profile.reset();
    md = render_levers_final(parse_levers_json(levers_json(rows), "levers.json"));
    CHECK(has(md, "| TcpActiveOpens, client host (churn-probe) | not recorded | not recorded |\n"));
    CHECK(has(md, "| TIME-WAIT client host: at the end, `ss` (churn-probe before / after) | not recorded | not recorded |\n"));
    CHECK(has(md, "| after (row 10: pool, PROFILE=sysctl/pooled-service.conf CONNS=32) |"));
    CHECK(has(md, "- not recorded: this levers.json has no `sysctl_profile` for row 10-pool-profile.\n"));
    CHECK(has(md, "\n\"not recorded\": this levers.json was written before"));
}

TEST_CASE("levers: row 10's profile and the ss readings come from the row's files", "[levers]") {
    RowDir d;
    std::filesystem::create_directories(d.root / "10-pool-profile");
    d.put("pooled-service.conf", "# never: net.ipv4.tcp_fin_timeout: run-levers row 4 (fin-timeout)\n\n"
                                 "# why: row 3a (tw-reuse-under): reuse is safe below its line; EXPERIMENTS.md §6\n"
                                 "net.ipv4.tcp_tw_reuse = 1\n");
    std::string prof = (d.root / "pooled-service.conf").string();
    d.put("rows.tsv", "10-pool-profile\tpooled\tPROFILE=" + prof + " CONNS=32\tran\n");
    std::string c = kClient;
    c.replace(c.find("\"churn\""), 7, "\"pool\"");
    d.put("10-pool-profile/pooled.json", c);
    std::string sysctl = R"({"client": {"net.ipv4.ip_local_port_range": [40000, 40999], "net.ipv4.tcp_tw_reuse": 1},
      "server": {"net.ipv4.tcp_tw_reuse": 1}, "overrides": {}, "profile": ")" + prof + "\"}";
    d.put("10-pool-profile/sysctl.json", sysctl);
    d.put("10-pool-profile/pooled.probe.json", kProbe);
    d.put("10-pool-profile/pooled.tw.csv", "t_s,client_tw,server_tw\n0.0,0,0\n");
    d.put("10-pool-profile/pooled.crosscheck.json", R"([
      {"host": "client", "what": "TIME-WAIT vs ss", "probe_before": 31, "reference": 32, "probe_after": 33, "ok": true},
      {"host": "client", "what": "TcpActiveOpens vs nstat", "probe_before": 9, "reference": 9, "probe_after": 9, "ok": true},
      {"host": "server", "what": "TIME-WAIT vs ss", "probe_before": 0, "reference": 0, "probe_after": 0, "ok": true}])");
    std::vector<LeverRow> rows = load_levers_dir(d.dir());
    REQUIRE(rows.size() == 1);
    const LeverRow& r = rows[0];
    CHECK(*r.profile == prof);
    REQUIRE(r.profile_settings.size() == 1);
    CHECK(r.profile_settings[0].key == "net.ipv4.tcp_tw_reuse");
    CHECK(r.profile_settings[0].value == "1");
    CHECK(r.profile_settings[0].why == "row 3a (tw-reuse-under): reuse is safe below its line; EXPERIMENTS.md §6");
    CHECK(r.tw_end_client->ss == 32);
    CHECK(r.tw_end_client->probe_before == 31);
    CHECK(r.tw_end_client->probe_after == 33);
    CHECK(r.tw_end_server->ss == 0);
    CHECK(*r.active_opens_client == 1000);
    // levers.json carries them: the block needs no file but levers.json.
    std::string j = levers_json(rows);
    CHECK(has(j, "\"why\": \"row 3a (tw-reuse-under): reuse is safe below its line; EXPERIMENTS.md §6\""));
    CHECK(has(j, "\"tw_end_client\": {\n        \"ss\": 32"));

    // The profile edited since the run no longer describes it: an error, not a wrong justification.
    d.put("pooled-service.conf", "# why: row 3a (tw-reuse-under): x; EXPERIMENTS.md §6\nnet.ipv4.tcp_tw_reuse = 2\n");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("now says net.ipv4.tcp_tw_reuse = 2 but the client host ran with 1"));
    // A profile that no longer lints (no why): named, with its line.
    d.put("pooled-service.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("pooled-service.conf:1: net.ipv4.tcp_tw_reuse: no '# why:'"));
    std::filesystem::remove(d.root / "pooled-service.conf");
    CHECK_THROWS_WITH(load_levers_dir(d.dir()), Catch::Contains("pooled-service.conf: cannot open"));
}

TEST_CASE("levers: the plot's TIME-WAIT keeps each second's largest sample", "[levers]") {
    std::vector<std::pair<double, double>> s = {{-0.6, 0}, {-0.5, 0}, {0.0, 10}, {0.3, 300}, {0.7, 250}, {1.2, 400}, {1.9, 1000},
                                                {2.0, 1000}, {60.4, 1000}, {60.5, 900}, {61.0, 0}};
    std::vector<std::pair<double, double>> want = {{-0.6, 0}, {0.3, 300}, {1.9, 1000}, {2.0, 1000}, {60.4, 1000}, {61.0, 0}};
    CHECK(thin_max_per_second(s) == want);
    CHECK(thin_max_per_second({}).empty());
}
