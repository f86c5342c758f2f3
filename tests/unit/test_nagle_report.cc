// make run-nagle's report against tests/unit/nagle-run/, a small results directory as lab/nagle.sh leaves
// it: three veth cases (one from a churn-client that does not name its write pattern, so the flags say
// it), one case not run, an RTT sweep at 0 and 50 ms, two excerpts; the stall counts in each shape
// churn-pcap's JSON may give them. Loaded, rendered, round-tripped through nagle.json, served as
// EXPERIMENTS.md blocks; bad input named by file and line.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "report/evidence.h"
#include "report/nagle.h"
#include "report/results.h"

using namespace churn::report;
namespace fs = std::filesystem;

namespace {

const char* kFixture = "tests/unit/nagle-run";

std::string fixture() {
    INFO(kFixture << " not found: run the unit tests from the repository root");
    REQUIRE(fs::is_directory(kFixture));
    return kFixture;
}

// A copy of the fixture to break, removed afterwards.
struct Copy {
    fs::path root = fs::temp_directory_path() / ("nagle-test-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    Copy() { fs::copy(fixture(), root, fs::copy_options::recursive); }
    ~Copy() { fs::remove_all(root); }
    void put(const std::string& rel, const std::string& text) const { std::ofstream(root / rel) << text; }
    std::string dir() const { return root.string(); }
};

const NagleCase& get(const NagleReport& r, const std::string& id) {
    for (const NagleCase& c : r.cases)
        if (c.id == id) return c;
    FAIL("no case " << id);
    throw 0;
}

}  // namespace

TEST_CASE("nagle: flags read as the lab script wrote them", "[nagle]") {
    CHECK(flag_value("--pattern split --write each --nodelay off", "--write") == "each");
    CHECK(flag_value("--pattern split --write=gather", "--write") == "gather");
    CHECK(flag_value("--pattern split", "--write").empty());
    CHECK(flag_value("--response-pattern split", "--pattern").empty());  // a whole word, not a suffix
    CHECK(flag_present("--pattern single --quickack", "--quickack"));
    CHECK_FALSE(flag_present("--pattern single", "--quickack"));
}

TEST_CASE("nagle: a results directory loaded", "[nagle]") {
    NagleReport r = load_nagle_dir(fixture());
    REQUIRE(r.cases.size() == 9);
    CHECK(r.trace_requests == 3);
    CHECK(r.sweep_trace_requests == 2);

    const NagleCase& n = get(r, "req-nagle");
    CHECK(n.ran());
    CHECK(n.writer() == "client");
    CHECK(n.writer_nagle());
    CHECK_FALSE(n.receiver_quickack());
    CHECK(n.pieces() == "split");
    CHECK(n.writes() == "each");
    CHECK(n.p50_ms == Approx(44.1));
    CHECK(n.p99_ms == Approx(90));
    CHECK(n.max_ms == Approx(95));
    CHECK(n.exchange_p50_ms == Approx(44));
    CHECK(n.trace_lines == 3);
    CHECK(n.client_autocorking == 1);
    REQUIRE(n.wire.count);
    CHECK(*n.wire.count == 2);
    CHECK(*n.wire.total_ms == Approx(87.5));

    const NagleCase& d = get(r, "req-nodelay");
    CHECK_FALSE(d.writer_nagle());
    CHECK(*d.wire.count == 0);

    // No write pattern in its JSON: the flags the script gave it say what it did.
    const NagleCase& g = get(r, "req-gather");
    CHECK(g.writes() == "gather");
    CHECK(g.writer_nagle());
    CHECK_FALSE(g.wire.count);  // a churn-pcap without the detector: no count, not a zero

    const NagleCase& resp = get(r, "resp-nagle");
    CHECK_FALSE(resp.ran());
    CHECK(resp.writer() == "server");
    CHECK(resp.writer_nagle());  // from --nodelay off
    CHECK(resp.status == "not run: needs churn-server --response-pattern");

    // Pipelined whole requests: the client is the writer, K from its JSON.
    const NagleCase& p = get(r, "pipe-nagle");
    CHECK(p.writer() == "client");
    CHECK(p.pieces() == "pipeline");
    CHECK(p.pipeline == 4);
    CHECK(p.writer_nagle());
    CHECK(*p.wire.count == 0);

    // No "stalls" in the totals: the flows' counts, summed.
    CHECK(*get(r, "sweep-rtt0-nagle").wire.count == 2);
    CHECK(*get(r, "sweep-rtt0-nodelay").wire.count == 0);
    CHECK(*get(r, "sweep-rtt50-nagle").wire.count == 2);  // two flows, one stall each
    CHECK(*get(r, "sweep-rtt50-nagle").wire.total_ms == Approx(83.5));
    REQUIRE(r.has_excerpt_nagle);
    CHECK(*r.excerpt_nagle.count == 3);
    CHECK(*r.excerpt_nodelay.count == 0);
}

TEST_CASE("nagle: the sweep against both models", "[nagle]") {
    NagleReport r = load_nagle_dir(fixture());
    std::vector<SweepRow> rows = sweep_rows(r);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].rtt_ms == 0);
    CHECK(rows[0].extra_ms() == Approx(43.8));
    CHECK(rows[0].model_sum_ms() == 40);
    CHECK(rows[0].model_max_ms() == 40);
    CHECK(rows[1].rtt_ms == 50);
    CHECK(rows[1].extra_ms() == Approx(94.8));
    CHECK(rows[1].model_sum_ms() == 90);
    CHECK(rows[1].model_max_ms() == 50);

    std::string md = render_nagle_sweep(r);
    INFO(md);
    CHECK(md.find("| 0 | 44.0 | 0.200 | 43.8 | 40 | 40 | both (equal here), off by 3.80 ms | 2 (44.0 ms each) |") != std::string::npos);
    CHECK(md.find("| 50 | 145 | 50.2 | 94.8 | 90 | 50 | RTT + 40, off by 4.80 ms | 2 (41.8 ms each) |") != std::string::npos);
    CHECK(md.find("sweep-trace.txt (2 requests)") != std::string::npos);

    // A row whose TCP_NODELAY case did not run has nothing to subtract: left out, not zero.
    Copy c;
    std::string tsv = read_text(c.dir() + "/cases.tsv");
    size_t at = tsv.find("sweep-rtt50-nodelay");
    size_t end = tsv.find('\n', at);
    tsv.replace(tsv.rfind('\t', end) + 1, end - tsv.rfind('\t', end) - 1, "not run: needs churn-link");
    c.put("cases.tsv", tsv);
    CHECK(sweep_rows(load_nagle_dir(c.dir())).size() == 1);
}

TEST_CASE("nagle: the tables and findings", "[nagle]") {
    NagleReport r = load_nagle_dir(fixture());
    std::string req = render_nagle_table(r, "req");
    INFO(req);
    CHECK(req.find("| req-nagle | head, then body | write() per piece | on | no | 3 / 3 | 44.1 | 90.0 | 95.0 | 2.90 | 44.0 | 2 (43.8 ms each) |") !=
          std::string::npos);
    CHECK(req.find("| req-nodelay | head, then body | write() per piece | off (TCP_NODELAY) | no | 3 / 3 | 0.0900 |") != std::string::npos);
    CHECK(req.find("| req-gather | head, then body | one writev() | on | no |") != std::string::npos);
    CHECK(req.find("— (no detector)") != std::string::npos);
    CHECK(req.find("same trace (3 requests, trace.txt)") != std::string::npos);

    std::string resp = render_nagle_table(r, "resp");
    CHECK(resp.find("No case of this kind ran.") != std::string::npos);
    CHECK(resp.find("resp-nagle (client --pattern single; server --response-pattern split --write each --nodelay off): not run") !=
          std::string::npos);

    std::string pipe = render_nagle_table(r, "pipe");
    INFO(pipe);
    CHECK(pipe.find("the client writes each send as") != std::string::npos);
    CHECK(pipe.find("| pipe-nagle | 4 whole requests back to back | write() per piece | on | no | 12 / 12 | 0.420 | 1.30 | 1.30 | 11.6 | 0.380 | 0 |") !=
          std::string::npos);
    CHECK(pipe.find("same trace (3 sends, trace.txt; each send is that many requests, each counted)") != std::string::npos);
    CHECK(render_nagle_md(r).find("### The client pipelines whole requests") != std::string::npos);

    std::string f = render_nagle_findings(r);
    INFO(f);
    CHECK(f.find("req-nagle takes 44.0 ms at p50, of req-nodelay 0.0800 ms: 43.9 ms held per exchange") != std::string::npos);
    CHECK(f.find("latency p99 90.0 ms before, 0.150 ms after") != std::string::npos);
    CHECK(f.find("- **resp-nagle**: not run: needs churn-server --response-pattern.") != std::string::npos);
    CHECK(f.find("3 stalls in the Nagle capture and 0 in the TCP_NODELAY one") != std::string::npos);

    std::string gp = nagle_gnuplot(r);
    CHECK(gp.find("$extra << EOD\n0 43.8\n50 94.8\nEOD") != std::string::npos);
    CHECK(gp.find("set output 'nagle.svg'") != std::string::npos);
    CHECK(gp.find("sum(x) = x + 40") != std::string::npos);
}

TEST_CASE("nagle: nagle.json renders what the directory rendered", "[nagle]") {
    NagleReport r = load_nagle_dir(fixture());
    std::string text = nagle_json(r);
    NagleReport back = parse_nagle_json(text, "nagle.json");
    CHECK(render_nagle_md(back) == render_nagle_md(r));
    CHECK(nagle_gnuplot(back) == nagle_gnuplot(r));
    CHECK(nagle_json(back) == text);
    CHECK(text.find("\"model_rtt_plus_delack_ms\": 90.0") != std::string::npos);
    CHECK(back.cases.size() == r.cases.size());
    for (const NagleCase& c : back.cases)
        if (c.id == "pipe-nagle") CHECK(c.pipeline == 4);  // K survives the round trip through nagle.json

    // The same blocks from evidence/nagle/ (nagle.json and meta.json), as make experiments reads them.
    fs::path ev = fs::temp_directory_path() / ("nagle-ev-" + std::to_string(::getpid()));
    fs::create_directories(ev / "nagle");
    std::ofstream(ev / "nagle" / "nagle.json") << text;
    std::ofstream(ev / "nagle" / "meta.json") << R"({"command": "make run-nagle", "knobs": {}, "kernel": "6.1", "hostname": "vm", "nproc": 2,
        "date": "2026-11-30T16:30:00Z", "git_commit": "0123456789abcdef", "host_steal": {"ticks": 1, "of_ticks": 100, "pct": 1.0}})";
    std::ofstream(ev / "nagle" / "excerpt-nagle.annotate.txt") << "flow 0 of excerpt-nagle.pcap\n";
    Evidence e(ev.string());
    CHECK(e.block("nagle") == render_nagle_table(r, "req") + "\nRun: `make run-nagle` on vm (2 CPUs), kernel 6.1, 2026-11-30T16:30:00Z, "
                                                             "commit 0123456789ab, host steal 1.0 %.\n");
    CHECK(e.block("nagle.response") == render_nagle_table(r, "resp"));
    CHECK(e.block("nagle.pipeline") == render_nagle_table(r, "pipe"));
    CHECK(e.block("nagle.pipeline").find("| pipe-nagle |") != std::string::npos);
    CHECK(e.block("nagle.sweep") == render_nagle_sweep(r));
    CHECK(e.block("nagle.findings") == render_nagle_findings(r));
    CHECK(e.block("nagle.excerpt-nagle.annotate.txt") == "```\nflow 0 of excerpt-nagle.pcap\n```\n");
    CHECK_THROWS_WITH(e.block("nagle.plot"), Catch::Contains("unknown view 'plot'"));
    fs::remove_all(ev);
}

TEST_CASE("nagle: bad input named by file and line", "[nagle]") {
    {
        Copy c;
        c.put("cases.tsv", "id\tgroup\trtt_ms\tclient_flags\tserver_flags\tstatus\nreq-nagle\treq\tveth\tran\n");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("cases.tsv:2: want 6 tab-separated fields, got 4"));
    }
    {
        Copy c;
        c.put("cases.tsv", "id\tgroup\trtt_ms\tclient_flags\tserver_flags\tstatus\nx\tbulk\tveth\t\t\tran\n");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("cases.tsv:2: unknown group 'bulk'"));
    }
    {
        Copy c;
        c.put("cases.tsv", "id\tgroup\trtt_ms\tclient_flags\tserver_flags\tstatus\n");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("cases.tsv: no cases"));
    }
    {
        Copy c;
        fs::remove(c.root / "req-nodelay" / "client.json");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("req-nodelay/client.json"));
    }
    {
        Copy c;
        c.put("req-nagle/client.json", R"({"requests_scheduled": 3, "requests_ok": 3, "requests_failed": 0, "requests_unfinished": 0, "rps": 1})");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("req-nagle/client.json: missing object 'latency_us'"));
    }
    {
        Copy c;
        c.put("req-nagle/path.json", R"({"rtt_ms": "fast"})");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("req-nagle/path.json: 'rtt_ms' is not a number"));
    }
    {
        Copy c;
        c.put("req-nagle/wire.json", "not json");
        CHECK_THROWS_AS(load_nagle_dir(c.dir()), ReportError);
    }
    {
        Copy c;
        c.put("req-nagle/wire.json", R"({"totals": {"stalls": "many"}})");
        CHECK_THROWS_WITH(load_nagle_dir(c.dir()), Catch::Contains("req-nagle/wire.json: totals: 'stalls' is not a number"));
    }
    CHECK_THROWS_WITH(parse_nagle_json(R"({"cases": []})", "nagle.json"), Catch::Contains("'cases' is not a non-empty array"));
    CHECK_THROWS_WITH(parse_nagle_json(R"({"cases": [{"id": "x"}]})", "nagle.json"), Catch::Contains("cases[0]: missing string 'group'"));
}
