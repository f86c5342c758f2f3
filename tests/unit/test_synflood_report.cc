// make run-synflood's report: a small results directory as lab/synflood.sh leaves it (one flood case,
// one long-RTT download, one lost-SYN-ACK case, one case not run), loaded, cross-checked, rendered, and
// round-tripped through synflood.json; bad input named by file and line.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "report/evidence.h"
#include "report/results.h"
#include "report/synflood.h"

using namespace churn::report;

namespace {

struct CaseDir {
    std::filesystem::path root = std::filesystem::temp_directory_path() /
                                 ("synflood-test-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    ~CaseDir() { std::filesystem::remove_all(root); }
    void put(const std::string& rel, const std::string& text) const {
        std::filesystem::create_directories((root / rel).parent_path());
        std::ofstream(root / rel) << text;
    }
    std::string dir() const { return root.string(); }
};

// One snapshot (churn-probe, nstat, churn-probe) with every counter of the set at `base`, some moved.
void snapshot(const CaseDir& d, const std::string& prefix, long sent, long recv, long drop, long nstat_sent) {
    auto probe = [&](long s) {
        return "{\"host\":\"x\",\"nstat\":{\"TcpExtSyncookiesSent\":" + std::to_string(s) + ",\"TcpExtSyncookiesRecv\":" + std::to_string(recv) +
               ",\"TcpExtSyncookiesFailed\":0,\"TcpExtTCPReqQFullDoCookies\":" + std::to_string(s) + ",\"TcpExtTCPReqQFullDrop\":" +
               std::to_string(drop) + ",\"TcpExtListenOverflows\":0,\"TcpExtListenDrops\":" + std::to_string(drop) +
               ",\"TcpPassiveOpens\":" + std::to_string(recv) + ",\"TcpAttemptFails\":0,\"TcpExtTCPSynRetrans\":3,\"TcpActiveOpens\":9}}";
    };
    d.put(prefix + ".probe1.json", probe(sent));
    d.put(prefix + ".probe2.json", probe(sent));
    d.put(prefix + ".nstat.txt", "#kernel\nTcpExtSyncookiesSent            " + std::to_string(nstat_sent) +
                                     "                0.0\nTcpExtSyncookiesRecv " + std::to_string(recv) +
                                     " 0.0\nTcpExtSyncookiesFailed 0 0.0\nTcpExtTCPReqQFullDoCookies " + std::to_string(sent) +
                                     " 0.0\nTcpExtTCPReqQFullDrop " + std::to_string(drop) + " 0.0\nTcpExtListenOverflows 0 0.0\n"
                                     "TcpExtListenDrops " + std::to_string(drop) + " 0.0\nTcpPassiveOpens " + std::to_string(recv) +
                                     " 0.0\nTcpAttemptFails 0 0.0\nTcpExtTCPSynRetrans 3 0.0\n");
}

const char* kSettings = R"({"server": {"net.ipv4.tcp_syncookies": 1, "net.ipv4.tcp_max_syn_backlog": 2048, "net.ipv4.tcp_synack_retries": 5,
  "net.core.somaxconn": 4096}, "client": {"net.ipv4.tcp_timestamps": 1, "net.ipv4.tcp_syn_retries": 6, "net.ipv4.tcp_syn_linear_timeouts": 4}})";

std::string client_json(long scheduled, long ok, long hs, long p50_us, long p99_us, long max_us, long req_p50_us, const char* errors) {
    return "{\"mode\": \"churn\", \"requests_scheduled\": " + std::to_string(scheduled) + ", \"requests_ok\": " + std::to_string(ok) +
           ", \"requests_failed\": 0, \"requests_unfinished\": " + std::to_string(scheduled - ok) + ", \"handshakes\": " + std::to_string(hs) +
           ", \"connect_us\": {\"count\": " + std::to_string(hs) + ", \"p50\": " + std::to_string(p50_us) + ", \"p99\": " + std::to_string(p99_us) +
           ", \"max\": " + std::to_string(max_us) + "}, \"latency_us\": {\"p99\": 5000}, \"request_us\": {\"p50\": " + std::to_string(req_p50_us) +
           "}, \"errors\": " + errors + ", \"timeline\": [{\"t\": 1, \"requests\": 20}, {\"t\": 2, \"requests\": 0}]}";
}

// The fixture: flood-cookies1 ran (1000 cookies sent, 20 back), bulk-cookies2-ts0 and synack-drop1-cookies2 ran,
// accept-overflow did not.
void fixture(const CaseDir& d) {
    d.put("cases.tsv", "id\tkind\tsettings\tstatus\n"
                       "flood-cookies1\tflood\ttcp_syncookies=1\tran\n"
                       "accept-overflow\taccept\tchurn-server --accept-for 2s --backlog 16\tnot run: needs churn-server --accept-for\n"
                       "bulk-cookies2-ts0\tbulk\ttcp_syncookies=2 tcp_timestamps=0 --mss 1400\tran\n"
                       "synack-drop1-cookies2\tsynack\tchurn-link --drop-synack 1, tcp_syncookies=2\tran\n");
    d.put("flood-cookies1/settings.json", kSettings);
    snapshot(d, "flood-cookies1/before", 0, 0, 0, 0);
    snapshot(d, "flood-cookies1/after", 1000, 20, 0, 1000);
    d.put("flood-cookies1/client.json", client_json(20, 20, 20, 150, 900, 1200, 400, "{}"));
    d.put("flood-cookies1/flood.json", R"({"target": "198.18.0.2:8080", "rate": 100, "duration_s": 10, "sent": 1000, "achieved_rate": 99.9})");
    d.put("flood-cookies1/server.json", R"({"accepted": 20, "options": {"backlog": 128}})");
    d.put("flood-cookies1/load.json", R"({"probe_t_at_flood_start": 1.0, "client_start_s": 1})");
    // SYN-RECV: 0 before the flood, 129 through it (median from 2 s in), 64 after; a torn last line.
    std::string jsonl;
    for (int i = 0; i <= 13; ++i) {
        int n = i < 1 ? 0 : i <= 11 ? 129 : 64;
        jsonl += "{\"t\":" + std::to_string(i) + ".0,\"host\":\"srv\",\"states\":{\"SYN-RECV\":" + std::to_string(n) + "}}\n";
    }
    d.put("flood-cookies1/probe.jsonl", jsonl + "{\"t\":14.0,\"host\"");
    d.put("flood-cookies1/synrecv.check.json", R"({"probe_before": 129, "ss": 129, "probe_after": 128})");

    std::string settings_ts0 = kSettings;
    settings_ts0.replace(settings_ts0.find("\"net.ipv4.tcp_timestamps\": 1"), 28, "\"net.ipv4.tcp_timestamps\": 0");
    settings_ts0.replace(settings_ts0.find("\"net.ipv4.tcp_syncookies\": 1"), 28, "\"net.ipv4.tcp_syncookies\": 2");
    for (const char* c : {"bulk-cookies2-ts0", "synack-drop1-cookies2"}) {
        std::string cd = c;
        d.put(cd + "/settings.json", settings_ts0);
        d.put(cd + "/path.json", R"({"rtt_ms": 200, "rate_mbit": 100, "path": "churn-link"})");
        snapshot(d, cd + "/before", 0, 0, 0, 0);
    }
    snapshot(d, "bulk-cookies2-ts0/after", 1, 1, 0, 1);
    d.put("bulk-cookies2-ts0/client.json", client_json(1, 1, 1, 200000, 200000, 200000, 8000000, "{}"));
    d.put("bulk-cookies2-ts0/server.json", R"({"accepted": 1, "options": {"size": 2000000, "backlog": 4096}})");
    d.put("bulk-cookies2-ts0/info.json", R"({"conns": [{"state": "ESTAB", "mss": 1300, "snd_wscale": 0, "snd_wnd": 65535,
        "options": {"ts": false, "sack": false, "wscale": false, "ecn": false}}]})");

    snapshot(d, "synack-drop1-cookies2/after", 20, 10, 0, 20);
    snapshot(d, "synack-drop1-cookies2/client-before", 0, 0, 0, 0);
    snapshot(d, "synack-drop1-cookies2/client-after", 0, 0, 0, 0);
    d.put("synack-drop1-cookies2/client.json", client_json(10, 10, 10, 1205000, 1206000, 1206000, 201000, "{}"));
    d.put("synack-drop1-cookies2/server.json", R"({"accepted": 10, "options": {"size": 64, "backlog": 4096}})");
    d.put("synack-drop1-cookies2/link.json", R"({"ab": {"dropped_synack": 0}, "ba": {"dropped_synack": 10}})");
}

const SynCase& find(const std::vector<SynCase>& cs, const std::string& id) {
    for (const SynCase& c : cs)
        if (c.id == id) return c;
    FAIL("no case " << id);
    throw 0;
}

}  // namespace

TEST_CASE("synflood: a results directory loaded and cross-checked", "[synflood]") {
    CaseDir d;
    fixture(d);
    auto cases = load_synflood_dir(d.dir());
    REQUIRE(cases.size() == 4);
    const SynCase& f = find(cases, "flood-cookies1");
    CHECK(f.ran());
    CHECK(f.syncookies == 1);
    CHECK(f.syn_linear_timeouts == 4);
    CHECK(f.server.get("TcpExtSyncookiesSent") == 1000);
    CHECK(f.server.get("TcpExtSyncookiesRecv") == 20);
    CHECK(f.server.disagree.empty());
    CHECK(f.server.probe.count("TcpActiveOpens") == 0);  // only the set of issue 10
    CHECK(f.backlog == 128);
    CHECK(f.flood_sent == 1000);
    // The torn last line is skipped; times are since the flood started (t0 = 1.0).
    REQUIRE(f.synrecv_series.size() == 14);
    CHECK(f.synrecv_series.front().first == -1);
    CHECK(f.synrecv_peak == 129);
    CHECK(f.synrecv_median == 129);  // from 2 s in to the end of the 10 s flood, the drain after it excluded
    CHECK(*f.synrecv_ss == 129);
    CHECK(*f.synrecv_probe_after == 128);
    CHECK_FALSE(find(cases, "accept-overflow").ran());

    const SynCase& b = find(cases, "bulk-cookies2-ts0");
    CHECK(b.mss_asked == 1400);  // from the settings: this client.json has no "mss"
    CHECK(b.has_info);
    CHECK(b.snd_mss == 1300);
    CHECK_FALSE(b.opt_wscale);
    CHECK(b.throughput_kBps() == Approx(250));  // 2 000 000 B in 8 s
    CHECK(b.window_cap_kBps() == Approx(327.675));

    const SynCase& s = find(cases, "synack-drop1-cookies2");
    CHECK(s.drop_synack == 1);
    CHECK(*s.link_dropped_synack == 10);
    CHECK(s.client.present);
    CHECK(s.cli.connect_p50_ms == Approx(1205));
}

TEST_CASE("synflood: nstat outside churn-probe's bracket is a disagreement", "[synflood]") {
    CaseDir d;
    fixture(d);
    snapshot(d, "flood-cookies1/after", 1000, 20, 0, 1007);  // nstat says 1007, churn-probe 1000 and 1000
    auto cases = load_synflood_dir(d.dir());
    const SynCase& f = find(cases, "flood-cookies1");
    REQUIRE(f.server.disagree.size() == 1);
    CHECK(f.server.disagree[0].find("TcpExtSyncookiesSent after: nstat 1007 outside churn-probe's 1000 .. 1000") != std::string::npos);
    CHECK(render_syn_counters(cases).find("DISAGREES") != std::string::npos);
    CHECK(render_syn_findings(cases).find("COUNTER CROSS-CHECK FAILED") != std::string::npos);
}

TEST_CASE("synflood: the tables, findings, quote and plot", "[synflood]") {
    CaseDir d;
    fixture(d);
    auto cases = load_synflood_dir(d.dir());
    std::string counters = render_syn_counters(cases);
    CHECK(counters.find("| server host | tcp_syncookies=1 |") != std::string::npos);
    CHECK(counters.find("| TcpExtSyncookiesSent | 1000 |") != std::string::npos);
    CHECK(counters.find("| SYN-RECV during the flood: median / peak (churn-probe watch) | 129 / 129 |") != std::string::npos);
    CHECK(counters.find("| SYN-RECV mid-flood: `ss` (churn-probe before / after) | 129 (129 / 128) |") != std::string::npos);
    CHECK(counters.find("agrees (10 counters)") != std::string::npos);

    std::string clients = render_syn_clients(cases);
    CHECK(clients.find("| 1 | 20 / 20 | 100 % | 20 | 0.150 / 0.900 / 1.20 | 0 | 0 | 5.00 |") != std::string::npos);
    // The retransmit schedule from the client host's sysctls: 4 linear, then doubling.
    CHECK(clients.find("sent again at 1.00, 2.00, 3.00, 4.00, 5.00, 7.00 s") != std::string::npos);

    std::string rtt = render_syn_rtt(cases);
    CHECK(rtt.find("| 2 | 0 | 1 / 1 | none | 0 | 1300 (1400) | 65535 | 8.00 | 250 | 328 |") != std::string::npos);
    std::string synack = render_syn_synack(cases);
    CHECK(synack.find("| 1 | 2 | 10 | 1205 / 1206 | 10 | 0 | 0 | 20 / 10 |") != std::string::npos);
    // A kind whose only case did not run: the reason, no empty row.
    std::string accept = render_syn_accept(cases);
    CHECK(accept.find("accept-overflow (churn-server --accept-for 2s --backlog 16): not run: needs churn-server --accept-for") != std::string::npos);

    std::string findings = render_syn_findings(cases);
    CHECK(findings.find("- **flood-cookies1**: tcp_syncookies=1: SYN-RECV median 129 (peak 129, backlog 128); 1000 cookies sent, 20 came back valid") !=
          std::string::npos);
    CHECK(render_syn_quote(cases).find("tcp_syncookies=1: SYN-RECV 129, SyncookiesSent 1000") != std::string::npos);

    std::string gp = synflood_gnuplot(cases);
    CHECK(gp.find("set output 'synrecv.svg'") != std::string::npos);
    CHECK(gp.find("$s0 << EOD\n-1 0\n0 129\n") != std::string::npos);
    CHECK(gp.find("title 'tcp\\_syncookies=1'") != std::string::npos);
}

TEST_CASE("synflood: synflood.json renders what the directory rendered", "[synflood]") {
    CaseDir d;
    fixture(d);
    auto cases = load_synflood_dir(d.dir());
    auto back = parse_synflood_json(synflood_json(cases), "synflood.json");
    REQUIRE(back.size() == cases.size());
    CHECK(render_syn_counters(back) == render_syn_counters(cases));
    CHECK(render_syn_clients(back) == render_syn_clients(cases));
    CHECK(render_syn_rtt(back) == render_syn_rtt(cases));
    CHECK(render_syn_synack(back) == render_syn_synack(cases));
    CHECK(render_syn_findings(back) == render_syn_findings(cases));
    CHECK(synflood_json(back) == synflood_json(cases));
}

TEST_CASE("synflood: bad input is named by file and line", "[synflood]") {
    CaseDir d;
    fixture(d);
    auto err = [&] {
        try {
            load_synflood_dir(d.dir());
        } catch (const ReportError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    d.put("flood-cookies1/after.nstat.txt", "#kernel\nTcpExtSyncookiesSent lots 0.0\n");
    CHECK(err() == d.dir() + "/flood-cookies1/after.nstat.txt:2: 'lots' is not a whole number (TcpExtSyncookiesSent)");
    fixture(d);
    std::filesystem::remove(d.root / "flood-cookies1/flood.json");
    CHECK(err() == d.dir() + "/flood-cookies1/flood.json: cannot open (ENOENT)");
    fixture(d);
    d.put("flood-cookies1/flood.json", R"({"rate": 100, "duration_s": 10, "achieved_rate": 99.9})");
    CHECK(err() == d.dir() + "/flood-cookies1/flood.json: missing 'sent'");
    fixture(d);
    d.put("cases.tsv", "id\tkind\tsettings\tstatus\nx\tstorm\t-\tran\n");
    CHECK(err() == d.dir() + "/cases.tsv:2: unknown kind 'storm' (want flood, accept, bulk or synack)");
    CHECK_THROWS_AS(parse_synflood_json(R"({"cases": []})", "s.json"), ReportError);
}

TEST_CASE("synflood: the generated blocks of evidence/synflood", "[synflood]") {
    CaseDir d;
    fixture(d);
    auto cases = load_synflood_dir(d.dir());
    d.put("ev/synflood/synflood.json", synflood_json(cases));
    d.put("ev/synflood/meta.json", R"({"command": "make run-synflood", "kernel": "6.18", "hostname": "vm", "nproc": 2,
      "date": "2026-11-30T15:00:00Z", "git_commit": "0123456789abcdef", "knobs": {"SYNFLOOD_RATE": 100}})");
    d.put("ev/synflood/cookie.annotate.txt", "flow 0\nSYN cookie: likely");
    Evidence ev(d.dir() + "/ev");
    std::string main = ev.block("synflood");
    CHECK(main.rfind(render_syn_counters(cases), 0) == 0);
    CHECK(main.find("Run: `make run-synflood` on vm (2 CPUs), kernel 6.18, 2026-11-30T15:00:00Z, commit 0123456789ab.") != std::string::npos);
    CHECK(ev.block("synflood.rtt") == render_syn_rtt(cases));
    CHECK(ev.block("synflood.synack") == render_syn_synack(cases));
    CHECK(ev.block("synflood.quote") == render_syn_quote(cases));
    CHECK(ev.block("synflood.cookie.annotate.txt") == "```\nflow 0\nSYN cookie: likely\n```\n");
    CHECK_THROWS_WITH(ev.block("synflood.nope"), Catch::Contains("unknown view 'nope'"));
}
