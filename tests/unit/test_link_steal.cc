// churn-link's steal figure: /proc/stat's aggregate cpu line read as the kernel documents it (proc(5)).
#include <catch2/catch.hpp>

#include "link/steal.h"

using namespace churn;

TEST_CASE("link steal: the 8th value of the aggregate cpu line is steal; the total stops there") {
    std::string text =
        "cpu  4705 150 1120 16250 520 0 30 650 12 0\n"
        "cpu0 2000 70 500 8000 260 0 15 330 6 0\n"
        "intr 1234\n";
    auto t = parse_proc_stat(text);
    REQUIRE(t);
    CHECK(t->steal == 650);
    CHECK(t->total == 4705 + 150 + 1120 + 16250 + 520 + 0 + 30 + 650);  // guest (12) is inside user already
}

TEST_CASE("link steal: a window's percent, and no line or a short line is nullopt") {
    StealWindow w = steal_between({100, 10'000}, {750, 16'500});
    CHECK(w.steal_ticks == 650);
    CHECK(w.total_ticks == 6'500);
    CHECK(w.pct() == Approx(10.0));
    CHECK(StealWindow{}.pct() == 0);
    CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 4 5 6 7 8\n"));
    CHECK_FALSE(parse_proc_stat("cpu  1 2 3 4\n"));
}

TEST_CASE("link steal: this machine's /proc/stat parses, and its counters only grow") {
    CpuTicks a = read_cpu_ticks(), b = read_cpu_ticks();
    CHECK(a.total > 0);
    CHECK(b.total >= a.total);
    CHECK(b.steal >= a.steal);
}

// make run-cc shows the steal beside each run's goodput: from churn-link's JSON into cc.json and cc.md.
#include "report/cc.h"

TEST_CASE("link steal: run-cc's table shows the host's steal from churn-link's JSON, and n/a without it") {
    using namespace churn::report;
    CcRun r;
    r.cc = "bbr", r.loss_pct = 1, r.rtt_ms = 50, r.rate_mbps = 100, r.goodput_mbps = 90;
    apply_link_json(r, R"({"mode": "churn-link", "host": {"steal_ticks": 65, "total_ticks": 6000, "steal_pct": 1.0833},
                          "ab": {"packets_in": 100, "dropped_loss": 1, "dropped_queue": 0}})", "l.json");
    REQUIRE(r.steal_pct);
    CHECK(*r.steal_pct == Approx(1.0833));
    CcReport rep;
    rep.runs.push_back(r);
    CHECK_THAT(render_cc_table(rep), Catch::Contains("| host steal |") && Catch::Contains("| 1.1 % |"));
    CcReport back = parse_cc_json(cc_json(rep), "cc.json");
    REQUIRE(back.runs[0].steal_pct);
    CHECK(*back.runs[0].steal_pct == Approx(1.0833));
    CcRun old;  // a churn-link JSON from before steal was reported
    old.cc = "cubic", old.rate_mbps = 100;
    apply_link_json(old, R"({"mode": "churn-link", "ab": {"packets_in": 100, "dropped_loss": 1, "dropped_queue": 0}})", "o.json");
    CHECK_FALSE(old.steal_pct);
    rep.runs = {r, old};
    CHECK_THAT(render_cc_table(rep), Catch::Contains("| n/a |"));
    // Results from before churn-link measured steal render as they always did: no column at all.
    rep.runs = {old};
    CHECK_THAT(render_cc_table(rep), !Catch::Contains("host steal"));
}

#include "report/evidence.h"

TEST_CASE("link steal: the docs' run line names the host's steal when meta.json has it") {
    std::string base = R"("command": "make run-cc", "knobs": {}, "kernel": "6.18", "hostname": "vm", "nproc": 2,
                          "date": "2026-11-30T09:49:06Z", "git_commit": "c9c965df2e2f42f60015d7b0fffd6392ad87753d")";
    std::string with = "{" + base + R"(, "host_steal": {"ticks": 650, "of_ticks": 6500, "pct": 10.0}})";
    CHECK_THAT(churn::report::meta_line(with, "meta.json"), Catch::EndsWith("commit c9c965df2e2f, host steal 10 %."));
    CHECK_THAT(churn::report::meta_line("{" + base + "}", "meta.json"), Catch::EndsWith("commit c9c965df2e2f."));
}
