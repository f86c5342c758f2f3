// levers_final.cc: issue 9's closing before/after (generated block levers.final): what it needs from a
// row's files beyond the levers table (row 10's sysctl profile, TIME-WAIT by ss at the end of the run),
// and its rendering from levers.json alone; see levers.h.
#include <nlohmann/json.hpp>

#include "report/levers.h"
#include "report/results.h"
#include "report/table.h"
#include "sysctl/profile.h"

namespace churn::report {
namespace {

using nlohmann::json;

std::string s3(double x) { return format_sig(x, 3); }
std::string n(long x) { return std::to_string(x); }
long lat(const json& j, const char* k, const std::string& name) {
    if (!j.is_object() || !j.contains(k)) throw ReportError(name + ": missing '" + k + "'");
    if (!j[k].is_number()) throw ReportError(name + ": '" + k + "' is not a number");
    return j[k].get<long>();
}

// A sysctl.json value as a profile writes it: 1, "1024 65535" ([1024, 65535]), "bbr".
std::string sysctl_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
        std::string out;
        for (const json& x : v) out += (out.empty() ? "" : " ") + sysctl_text(x);
        return out;
    }
    return v.dump();
}

}  // namespace

// The profile the row ran with (sysctl.json "profile"), parsed by the sysctl module's own parser, its
// settings checked against what the lab recorded in both namespaces: the file is read now, at report
// time, so a profile edited since the run must not pass for the one that was applied.
void load_row_profile(LeverRow& r, const std::string& sysctl_json_path, const std::string& row_dir) {
    const std::string& sp = sysctl_json_path;
    json sj = json::parse(read_text(sp), nullptr, false);
    if (!sj.is_object()) throw ReportError(sp + ": malformed JSON (want an object)");
    r.profile = "";
    if (!sj.contains("profile")) return;
    if (!sj["profile"].is_string()) throw ReportError(sp + ": 'profile' is not a string");
    std::string path = sj["profile"].get<std::string>();
    r.profile = path;
    // lab/levers.sh runs from the repository root and records the path as given (sysctl/X.conf); from
    // elsewhere, the root is three levels above the row (ROOT/results/levers-TS/ROW).
    std::string file = path;
    if (!path.empty() && path[0] != '/' && !file_exists(path) && file_exists(row_dir + "/../../../" + path))
        file = row_dir + "/../../../" + path;
    // Named by the row's sysctl.json too: "cannot open sysctl/X.conf" alone would not say which run wants it.
    std::string text;
    try {
        text = read_text(file);
    } catch (const ReportError& e) {
        throw ReportError(sp + ": 'profile': " + e.what() + " (churn-report levers reads it from the repository root)");
    }
    churn::sysctl::Profile prof = churn::sysctl::parse_profile(text, path);
    if (!prof.problems.empty()) throw ReportError(sp + ": profile " + prof.problems.front().str());
    for (const churn::sysctl::Setting& st : prof.settings) {
        for (const char* host : {"client", "server"}) {
            if (!sj.contains(host) || !sj[host].contains(st.key))
                throw ReportError(sp + ": profile " + path + " sets " + st.key + " but '" + host + "." + st.key + "' was not recorded");
            std::string had = sysctl_text(sj[host][st.key]);
            if (had != st.value)
                throw ReportError(sp + ": profile " + path + " now says " + st.key + " = " + st.value + " but the " + host +
                                  " host ran with " + had + " (the profile changed since the run?)");
        }
        r.profile_settings.push_back({st.key, st.value, st.why});
    }
}

// SCENARIO.crosscheck.json (lab/scenario.sh): [{"host", "what": "TIME-WAIT vs ss", "probe_before",
// "reference", "probe_after", "ok"}, ...]. nullopt when the file or the entry is absent (older runs).
std::optional<TwAtEnd> tw_at_end(const std::string& crosscheck_json_text, const std::string& host, const std::string& name) {
    json checks = json::parse(crosscheck_json_text, nullptr, false);
    if (!checks.is_array()) throw ReportError(name + ": malformed JSON (want an array)");
    for (const json& c : checks) {
        if (!c.is_object() || c.value("host", "") != host || c.value("what", "") != "TIME-WAIT vs ss") continue;
        // null: the reading failed, and lab/scenario.sh has already failed the run loudly.
        if (!c.contains("reference") || c["reference"].is_null()) return std::nullopt;
        return TwAtEnd{lat(c, "reference", name), lat(c, "probe_before", name), lat(c, "probe_after", name)};
    }
    return std::nullopt;
}

namespace {

// "before (row 1: churn, kernel defaults)": the row's number, its load and its kernel settings, all
// from the row (the profile's path when one was applied, else rows.tsv's settings column).
std::string final_label(const LeverRow& r, const char* side) {
    std::string num = r.id.substr(0, r.id.find('-'));
    if (!r.ran()) return std::string(side) + " (row " + num + ": " + r.status + ")";
    std::string load = r.scenario == "pooled" ? "pool" : r.scenario;
    bool profiled = r.profile && !r.profile->empty();
    return std::string(side) + " (row " + num + ": " + load + (profiled ? " + " + *r.profile : ", " + r.settings) + ")";
}

const char* kNotRecorded = "not recorded";

std::string tw_end_cell(const std::optional<TwAtEnd>& e) {
    return e ? n(e->ss) + " (churn-probe " + n(e->probe_before) + " / " + n(e->probe_after) + ")" : kNotRecorded;
}

// A profile key's value in another row, where levers.json holds it (the sysctls the report reads).
std::optional<long> recorded_value(const LeverRow& r, const std::string& key) {
    if (key == "net.ipv4.tcp_tw_reuse" && r.tw_reuse >= 0) return r.tw_reuse;
    if (key == "net.ipv4.tcp_fin_timeout" && r.fin_timeout_s >= 0) return r.fin_timeout_s;
    if (key == "net.ipv4.tcp_max_tw_buckets" && r.max_tw_buckets >= 0) return r.max_tw_buckets;
    if (key == "net.ipv4.tcp_tw_reuse_delay") return r.reuse_delay_ms;
    return std::nullopt;
}

}  // namespace

std::string render_levers_final(const std::vector<LeverRow>& rows) {
    auto find = [&](const char* id) -> const LeverRow& {
        for (const LeverRow& r : rows)
            if (r.id == id) return r;
        throw ReportError(std::string("levers.final: no row '") + id + "' in the evidence (want rows 1-baseline and 10-pool-profile)");
    };
    const LeverRow& before = find("1-baseline");
    const LeverRow& after = find("10-pool-profile");
    bool missing = false;
    // One table line: the measure, then its cell for each row (a row that did not run: "—").
    auto line = [&](const std::string& what, auto cell) {
        std::string out = "| " + what + " |";
        for (const LeverRow* r : {&before, &after}) {
            std::string c = r->ran() ? cell(*r) : "—";
            missing |= c.find(kNotRecorded) != std::string::npos;
            out += " " + c + " |";
        }
        return out + "\n";
    };
    std::string md = "| | " + final_label(before, "before") + " | " + final_label(after, "after") + " |\n|---|---:|---:|\n";
    md += line("offered req/s", [](const LeverRow& r) { return s3(r.offered_rps); });
    md += line("achieved req/s", [](const LeverRow& r) { return s3(r.achieved_rps); });
    md += line("latency p50 / p99 (ms)", [](const LeverRow& r) { return s3(r.p50_ms) + " / " + s3(r.p99_ms); });
    md += line("connect p99 (ms)", [](const LeverRow& r) { return s3(r.connect_p99_ms); });
    md += line("handshakes (churn-client)", [](const LeverRow& r) { return n(r.handshakes); });
    md += line("EADDRNOTAVAIL (count, first at)", [](const LeverRow& r) {
        return n(r.eaddrnotavail) + (r.first_eaddrnotavail_s ? ", first at " + s3(*r.first_eaddrnotavail_s) + " s" : "");
    });
    md += line("TIME-WAIT client host: peak (churn-probe)", [](const LeverRow& r) { return n(r.tw_peak_client); });
    md += line("TIME-WAIT client host: at the end, `ss` (churn-probe before / after)", [](const LeverRow& r) { return tw_end_cell(r.tw_end_client); });
    md += line("TIME-WAIT server host: peak (churn-probe)", [](const LeverRow& r) { return n(r.tw_peak_server); });
    md += line("TIME-WAIT server host: at the end, `ss` (churn-probe before / after)", [](const LeverRow& r) { return tw_end_cell(r.tw_end_server); });
    md += line("TcpActiveOpens, client host (churn-probe)", [](const LeverRow& r) {
        return r.active_opens_client ? n(*r.active_opens_client) : std::string(kNotRecorded);
    });
    auto both = [&](double a, double b) { return s3(a) == s3(b) ? s3(a) : s3(a) + " and " + s3(b); };
    if (before.ran() && after.ran())
        md += "\nBoth rows in a fresh lab, " + both(before.offered_rps, after.offered_rps) + " requests/s offered for " +
              both(before.duration_s, after.duration_s) + " s. TIME-WAIT at the end: `ss -tan state time-wait` in the host's "
              "namespace once the load had stopped, churn-probe's own readings just before and after it in brackets.\n";

    md += "\nKernel settings changed:\n\n";
    if (!after.ran()) {
        md += "- none measured: row " + after.id + " " + after.status + ".\n";
    } else if (!after.profile) {
        missing = true;
        md += "- not recorded: this levers.json has no `sysctl_profile` for row " + after.id + ".\n";
    } else if (after.profile->empty()) {
        md += "- none: row " + after.id + " ran without a sysctl profile.\n";
    } else {
        for (const ProfileSetting& p : after.profile_settings) {
            std::optional<long> was = before.ran() ? recorded_value(before, p.key) : std::nullopt;
            md += "- `" + p.key + " = " + p.value + "` (" + *after.profile + (was ? "; row " + before.id + " ran with " + n(*was) : "") +
                  "): " + p.why + "\n";
        }
        if (after.profile_settings.empty()) md += "- none: " + *after.profile + " holds no setting.\n";
    }
    if (missing)
        md += "\n\"not recorded\": this levers.json was written before `churn-report levers` stored those readings; "
              "`churn-report levers DIR` on the run's directory writes them (from its crosscheck.json, probe.json and profile).\n";
    return md;
}

}  // namespace churn::report
