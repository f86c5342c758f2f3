// levers.cc: make run-levers rows loaded from their files, the model, the verdicts, levers.json; see
// levers.h. Rendering (Markdown, gnuplot) is in levers_render.cc.
#include "report/levers.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/probe_run.h"
#include "report/results.h"
#include "report/table.h"

namespace churn::report {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

json parse(const std::string& text, const std::string& name) { return parse_object(text, name); }

// A value at a dotted path ("hosts.client.nstat_delta.TcpOutRsts"); `fallback` when any part is absent
// (a counter the kernel never moved is simply missing from older files), ReportError when not a number.
double at(const json& j, const std::string& path, const std::string& name, std::optional<double> fallback = std::nullopt) {
    const json* v = &j;
    std::istringstream parts(path);
    for (std::string k; std::getline(parts, k, '.');) {
        if (!v->is_object() || !v->contains(k)) {
            if (fallback) return *fallback;
            throw ReportError(name + ": missing '" + path + "'");
        }
        v = &(*v)[k];
    }
    if (v->is_null() && fallback) return *fallback;
    if (!v->is_number()) throw ReportError(name + ": '" + path + "' is not a number");
    return v->get<double>();
}
long lat(const json& j, const std::string& path, const std::string& name, std::optional<double> fallback = std::nullopt) {
    return static_cast<long>(at(j, path, name, fallback));
}

std::string s3(double x) { return format_sig(x, 3); }
std::string secs(double x) { return format_sig(x, 3) + " s"; }

}  // namespace

const std::vector<std::pair<std::string, std::string>>& lever_rows() {
    static const std::vector<std::pair<std::string, std::string>> rows = {
        {"1-baseline", "kernel defaults, churn (client closes first)"},
        {"2-wide-range", "ip_local_port_range = 1024 65535"},
        {"3a-tw-reuse-under", "tcp_tw_reuse=1, default delay: ports/delay far above the rate"},
        {"3b-tw-reuse-over", "tcp_tw_reuse=1, tcp_tw_reuse_delay raised: ports/delay below the rate"},
        {"4-fin-timeout", "tcp_fin_timeout=10"},
        {"5-tw-buckets", "tcp_max_tw_buckets small"},
        {"6-linger0", "churn-client --linger0 (SO_LINGER {1, 0})"},
        {"7-server-closes", "churn-server --close server"},
        {"8-two-sources", "two client addresses, --source (IP_BIND_ADDRESS_NO_PORT)"},
        {"9-pool", "churn-client --mode pool"},
        {"10-pool-profile", "the pool plus sysctl/pooled-service.conf"},
    };
    return rows;
}

std::optional<double> TwLifetime::first_lifetime_s() const {
    if (!first_expired_s) return std::nullopt;
    return *first_expired_s - first_created_s;
}
std::optional<double> TwLifetime::last_lifetime_s() const {
    if (!zero_s) return std::nullopt;
    return *zero_s - last_created_s;
}

std::optional<TwLifetime> tw_lifetime(const TwSeries& s) {
    TwLifetime l;
    size_t i = 0, n = s.samples.size();
    while (i < n && s.samples[i].client_tw == 0) ++i;
    if (i == n) return std::nullopt;
    l.first_created_s = l.last_created_s = s.samples[i].t_s;
    long peak = s.samples[i].client_tw;
    // Rising while the load creates them; the first sample below the peak is the first expiry (nothing
    // else removes a TIME-WAIT socket here: no tcp_tw_reuse, no bucket overflow in row 4).
    for (++i; i < n; ++i) {
        long c = s.samples[i].client_tw;
        if (c > peak) peak = c, l.last_created_s = s.samples[i].t_s;
        else if (c < peak) break;
    }
    if (i == n) return l;
    l.first_expired_s = s.samples[i].t_s;
    for (; i < n; ++i)
        if (s.samples[i].client_tw == 0) {
            l.zero_s = s.samples[i].t_s;
            break;
        }
    return l;
}

std::optional<double> LeverRow::reuse_line_per_s() const {
    if (tw_reuse != 1 || !reuse_delay_ms || *reuse_delay_ms <= 0) return std::nullopt;
    return static_cast<double>(ports * sources) * 1000.0 / static_cast<double>(*reuse_delay_ms);
}

std::optional<double> LeverRow::model_first_s() const {
    if (scenario == "pooled" || offered_rps <= 0 || ports <= 0) return std::nullopt;
    // With tcp_tw_reuse=1, a port comes back after the delay: below ports ÷ delay per second, never.
    if (auto line = reuse_line_per_s(); line && offered_rps < *line) return std::nullopt;
    return static_cast<double>(ports * sources) / offered_rps;
}

std::string row_verdict(const LeverRow& r) {
    if (!r.ran()) return r.status;
    std::string fails = r.eaddrnotavail > 0 && r.first_eaddrnotavail_s
                            ? "fails: EADDRNOTAVAIL after " + secs(*r.first_eaddrnotavail_s)
                            : "";
    std::string model = r.model_first_s() ? " (model " + secs(*r.model_first_s()) + ")" : "";
    // No EADDRNOTAVAIL is not "holds" when most of the load went unanswered: connect() slows as TIME-WAIT
    // fills the range (the port search), and an open-loop client then falls behind before it runs out.
    bool behind = r.achieved_rps < 0.9 * r.offered_rps;
    std::string none = "no EADDRNOTAVAIL in " + secs(r.duration_s) +
                       (r.model_first_s() ? " (the naive model said " + secs(*r.model_first_s()) + ")" : "");
    std::string outcome = !fails.empty() ? fails + model
                          : behind ? "falls behind: " + s3(r.achieved_rps) + " of " + s3(r.offered_rps) + " requests/s answered, connect p99 " +
                                         s3(r.connect_p99_ms) + " ms; " + none
                                   : "holds: " + none;
    const std::string& id = r.id;
    if (id == "3a-tw-reuse-under" || id == "3b-tw-reuse-over") {
        auto line = r.reuse_line_per_s();
        std::string side = !line ? "" : r.offered_rps < *line ? s3(r.offered_rps) + "/s offered is below ports ÷ delay = " + s3(*line) + "/s; "
                                                              : s3(r.offered_rps) + "/s offered is above ports ÷ delay = " + s3(*line) + "/s; ";
        return side + outcome + "; " + std::to_string(r.tw_recycled) + " ports taken over (TcpExtTWRecycled)";
    }
    if (id == "4-fin-timeout") {
        if (!r.lifetime || !r.lifetime->first_lifetime_s()) return "TIME-WAIT did not expire within the watch: lifetime not measured";
        double a = *r.lifetime->first_lifetime_s();
        auto b = r.lifetime->last_lifetime_s();
        return "TIME-WAIT lived " + secs(a) + " (first created → first expired)" +
               (b ? ", " + secs(*b) + " (last created → none left)" : "") + " with tcp_fin_timeout=" +
               std::to_string(r.fin_timeout_s) + (a >= 50 ? ": not shortened" : ": SHORTER than 60 s");
    }
    if (id == "5-tw-buckets") {
        // The line is rate-limited where a kernel prints it at all; none at all with overflows counted
        // means this kernel does not log it (at the level dmesg shows): the counter is then the only trace.
        std::string log;
        if (r.kernel_log && !r.kernel_log->readable) log = "; kernel log not readable";
        else if (r.kernel_log && r.kernel_log->after > r.kernel_log->before)
            log = "; kernel log: " + std::to_string(r.kernel_log->after - r.kernel_log->before) +
                  " new \"time wait bucket table overflow\" line(s), rate-limited";
        else if (r.kernel_log) log = "; no \"time wait bucket table overflow\" line in the kernel log: the counter is the only trace";
        return "TIME-WAIT capped at " + std::to_string(r.tw_peak_client) + " (tcp_max_tw_buckets=" + std::to_string(r.max_tw_buckets) +
               "): " + std::to_string(r.tw_overflow_client) + " closes skipped TIME-WAIT (TcpExtTCPTimeWaitOverflow)" + log + "; " + outcome;
    }
    if (id == "6-linger0") {
        std::string v = "client TIME-WAIT peak " + std::to_string(r.tw_peak_client) + "; RSTs sent by the client " +
                        std::to_string(r.rst_out_client) + ", resets counted by the server " + std::to_string(r.estab_resets_server) +
                        " (TcpEstabResets); " + outcome;
        if (!r.loss_not_run.empty()) v += "; the data-loss case not run: " + r.loss_not_run;
        if (r.loss)
            v += "; bulk --linger0: " + std::to_string(r.loss->lost()) + " of " + std::to_string(r.loss->bytes_written) +
                 " bytes written never delivered (at close: " + std::to_string(r.loss->unsent_at_close) + " unacknowledged" +
                 (r.loss->notsent_at_close >= 0 ? ", " + std::to_string(r.loss->notsent_at_close) + " never sent" : "") +
                 "; the server counted " + std::to_string(r.loss->server_resets) + " reset)";
        return v;
    }
    if (id == "7-server-closes")
        return "TIME-WAIT peak server host " + std::to_string(r.tw_peak_server) + ", client host " + std::to_string(r.tw_peak_client) + "; " + outcome;
    if (r.scenario == "pooled")
        return "no churn: " + std::to_string(r.handshakes) + " handshakes in all; " + outcome + "; client TIME-WAIT peak " +
               std::to_string(r.tw_peak_client);
    return outcome;
}

void load_lever_row(LeverRow& r, const std::string& d) {
    std::string base = d + "/" + r.scenario;
    ClientRun c = parse_client_json(read_text(base + ".json"), base + ".json");
    r.offered_rps = c.rate, r.duration_s = c.duration_s, r.achieved_rps = c.rps;
    r.p50_ms = c.latency.p50_us / 1000, r.p99_ms = c.latency.p99_us / 1000, r.connect_p99_ms = c.connect.p99_us / 1000;
    r.handshakes = c.handshakes;
    if (auto e = c.errors.find("EADDRNOTAVAIL"); e != c.errors.end()) r.eaddrnotavail = e->second;
    if (auto f = c.first_error_s.find("EADDRNOTAVAIL"); f != c.first_error_s.end()) r.first_eaddrnotavail_s = f->second;
    json cj = parse(read_text(base + ".json"), base + ".json");
    if (cj.contains("sources") && cj["sources"].is_array() && !cj["sources"].empty()) r.sources = static_cast<long>(cj["sources"].size());

    // The client host's effective settings, as the lab recorded them (not the settings asked for).
    std::string sp = d + "/sysctl.json";
    Sysctls sy = parse_sysctl_json(read_text(sp), sp);
    r.ports = sy.ports(), r.tw_reuse = sy.tw_reuse;
    json sj = parse(read_text(sp), sp);
    // The keys hold dots ("net.ipv4.tcp_fin_timeout"): looked up whole, -1 / nullopt when not recorded
    // (tcp_tw_reuse_delay exists only on kernels >= 6.12).
    auto sysctl = [&](const char* k) -> std::optional<long> {
        if (!sj.contains("client") || !sj["client"].contains(k)) return std::nullopt;
        if (!sj["client"][k].is_number()) throw ReportError(sp + ": 'client." + k + "' is not a number");
        return sj["client"][k].get<long>();
    };
    r.fin_timeout_s = sysctl("net.ipv4.tcp_fin_timeout").value_or(-1);
    r.max_tw_buckets = sysctl("net.ipv4.tcp_max_tw_buckets").value_or(-1);
    r.reuse_delay_ms = sysctl("net.ipv4.tcp_tw_reuse_delay");
    load_row_profile(r, sp, d);

    std::string pp = base + ".probe.json";
    json pj = parse(read_text(pp), pp);
    auto host = [&](const std::string& h, const std::string& rest, bool optional = true) {
        const json& hosts = pj.contains("hosts") ? pj["hosts"] : json::object();
        if (!hosts.contains(h)) throw ReportError(pp + ": missing 'hosts." + h + "'");
        std::istringstream parts(rest);
        const json* v = &hosts[h];
        for (std::string k; std::getline(parts, k, '/');) {
            if (!v->contains(k)) {
                if (optional) return 0L;
                throw ReportError(pp + ": missing 'hosts." + h + "." + rest + "'");
            }
            v = &(*v)[k];
        }
        if (!v->is_number()) throw ReportError(pp + ": 'hosts." + h + "." + rest + "' is not a number");
        return v->get<long>();
    };
    r.tw_peak_client = host("client", "states_peak/TIME-WAIT"), r.tw_peak_server = host("server", "states_peak/TIME-WAIT");
    r.tw_recycled = host("client", "nstat_delta/TcpExtTWRecycled");
    r.tw_overflow_client = host("client", "nstat_delta/TcpExtTCPTimeWaitOverflow");
    r.tw_overflow_server = host("server", "nstat_delta/TcpExtTCPTimeWaitOverflow");
    r.rst_out_client = host("client", "nstat_delta/TcpOutRsts"), r.rst_out_server = host("server", "nstat_delta/TcpOutRsts");
    r.estab_resets_server = host("server", "nstat_delta/TcpEstabResets");
    // The kernel's own count of SYNs sent (beside the client's handshakes): absent only in older files.
    if (pj["hosts"]["client"].contains("nstat_delta") && pj["hosts"]["client"]["nstat_delta"].contains("TcpActiveOpens"))
        r.active_opens_client = host("client", "nstat_delta/TcpActiveOpens");
    if (std::string cp = base + ".crosscheck.json"; file_exists(cp)) {
        std::string checks = read_text(cp);
        r.tw_end_client = tw_at_end(checks, "client", cp), r.tw_end_server = tw_at_end(checks, "server", cp);
    }
    // The server's own count of connections ended by a reset (churn-server JSON), when it wrote one.
    if (file_exists(base + ".server.json")) {
        json s = parse(read_text(base + ".server.json"), base + ".server.json");
        r.server_close_reset = lat(s, "closes.reset", base + ".server.json", 0);
    }

    std::istringstream csv(read_text(base + ".tw.csv"));
    TwSeries tw = parse_tw_csv(csv);
    if (r.id == "4-fin-timeout") r.lifetime = tw_lifetime(tw);
    double t0 = 0;
    if (file_exists(base + ".load.json")) t0 = at(parse(read_text(base + ".load.json"), base + ".load.json"), "probe_t_at_load_start", base + ".load.json", 0);
    for (const TwSample& s : tw.samples) r.tw_series.emplace_back(s.t_s - t0, static_cast<double>(s.client_tw));
    // A timeline second t counts the requests that completed in (t-1, t]: a step from t-1 to t (the plot
    // draws `steps`, so each value holds until the next point; the last one is closed at its end).
    for (const ClientRun::Second& s : c.timeline) r.rps_series.emplace_back(static_cast<double>(s.t - 1), static_cast<double>(s.requests));
    if (!c.timeline.empty()) r.rps_series.emplace_back(static_cast<double>(c.timeline.back().t), static_cast<double>(c.timeline.back().requests));

    if (file_exists(d + "/dmesg.json")) {
        json k = parse(read_text(d + "/dmesg.json"), d + "/dmesg.json");
        r.kernel_log = KernelLog{k.value("readable", false), lat(k, "before", d + "/dmesg.json"), lat(k, "after", d + "/dmesg.json")};
    }
    if (file_exists(d + "/loss.not-run")) {
        r.loss_not_run = read_text(d + "/loss.not-run");
        while (!r.loss_not_run.empty() && r.loss_not_run.back() == '\n') r.loss_not_run.pop_back();
    }
    if (file_exists(d + "/loss.client.json")) {
        std::string lc = d + "/loss.client.json", ls = d + "/loss.server.json";
        json a = parse(read_text(lc), lc), b = parse(read_text(ls), ls);
        r.loss = LingerLoss{lat(a, "bytes_written", lc), lat(a, "unsent_at_close", lc, -1), lat(a, "notsent_at_close", lc, -1),
                            lat(b, "bytes_discarded", ls), lat(b, "closes.reset", ls)};
    }
}

std::vector<LeverRow> load_levers_dir(const std::string& dir) {
    std::string manifest = dir + "/rows.tsv";
    std::vector<LeverRow> rows;
    for (const auto& [f, where] : read_manifest(manifest, "id", 4)) {
        LeverRow r;
        r.id = f[0], r.scenario = f[1], r.settings = f[2], r.status = f[3];
        for (const auto& [id, what] : lever_rows())
            if (id == r.id) r.what = what;
        if (r.what.empty()) throw ReportError(where + ": unknown row '" + r.id + "'");
        if (r.scenario != "churn" && r.scenario != "pooled") throw ReportError(where + ": scenario must be churn or pooled");
        if (r.ran()) load_lever_row(r, dir + "/" + r.id);
        r.verdict = row_verdict(r);
        rows.push_back(std::move(r));
    }
    if (rows.empty()) throw ReportError(manifest + ": no rows");
    // lab/levers.sh starts row 4 first (its wait overlaps the rest): the report keeps the order.
    auto rank = [](const LeverRow& r) {
        const auto& all = lever_rows();
        for (size_t i = 0; i < all.size(); ++i)
            if (all[i].first == r.id) return i;
        return all.size();
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const LeverRow& a, const LeverRow& b) { return rank(a) < rank(b); });
    return rows;
}

std::string levers_json(const std::vector<LeverRow>& rows) {
    auto opt = [](const auto& o) { return o ? ojson(*o) : ojson(nullptr); };
    ojson out = ojson::array();
    for (const LeverRow& r : rows) {
        ojson j = {{"id", r.id}, {"what", r.what}, {"scenario", r.scenario}, {"settings", r.settings}, {"status", r.status}};
        if (r.ran()) {
            j.update(ojson{{"offered_rps", r.offered_rps}, {"duration_s", r.duration_s}, {"achieved_rps", r.achieved_rps},
                           {"latency_p50_ms", r.p50_ms}, {"latency_p99_ms", r.p99_ms}, {"connect_p99_ms", r.connect_p99_ms},
                           {"handshakes", r.handshakes}, {"eaddrnotavail", r.eaddrnotavail},
                           {"first_eaddrnotavail_s", opt(r.first_eaddrnotavail_s)}, {"ports_in_range", r.ports},
                           {"sources", r.sources}, {"tw_reuse", r.tw_reuse}, {"tw_reuse_delay_ms", opt(r.reuse_delay_ms)},
                           {"tw_reuse_line_per_s", opt(r.reuse_line_per_s())}, {"model_first_eaddrnotavail_s", opt(r.model_first_s())},
                           {"tcp_fin_timeout_s", r.fin_timeout_s}, {"tcp_max_tw_buckets", r.max_tw_buckets},
                           {"tw_peak_client", r.tw_peak_client}, {"tw_peak_server", r.tw_peak_server},
                           {"TcpExtTWRecycled", r.tw_recycled}, {"TcpExtTCPTimeWaitOverflow_client", r.tw_overflow_client},
                           {"TcpExtTCPTimeWaitOverflow_server", r.tw_overflow_server}, {"TcpOutRsts_client", r.rst_out_client},
                           {"TcpOutRsts_server", r.rst_out_server}, {"TcpEstabResets_server", r.estab_resets_server},
                           {"server_closes_by_reset", r.server_close_reset}});
            ojson lt = nullptr, loss = nullptr, klog = nullptr;
            if (r.lifetime)
                lt = {{"first_created_s", r.lifetime->first_created_s}, {"last_created_s", r.lifetime->last_created_s},
                      {"first_expired_s", opt(r.lifetime->first_expired_s)}, {"zero_s", opt(r.lifetime->zero_s)},
                      {"first_lifetime_s", opt(r.lifetime->first_lifetime_s())}, {"last_lifetime_s", opt(r.lifetime->last_lifetime_s())}};
            if (r.loss)
                loss = {{"bytes_written", r.loss->bytes_written}, {"unsent_at_close", r.loss->unsent_at_close},
                        {"notsent_at_close", r.loss->notsent_at_close},
                        {"bytes_delivered", r.loss->bytes_delivered}, {"bytes_lost", r.loss->lost()}, {"server_resets", r.loss->server_resets}};
            if (r.kernel_log)
                klog = {{"readable", r.kernel_log->readable}, {"lines_before", r.kernel_log->before}, {"lines_after", r.kernel_log->after}};
            j["tw_lifetime"] = lt, j["linger0_loss"] = loss, j["kernel_log"] = klog;
            if (!r.loss_not_run.empty()) j["linger0_loss_not_run"] = r.loss_not_run;
            // For levers.final. Left out when not recorded, so an older levers.json reads back the same.
            auto end = [](const TwAtEnd& e) { return ojson{{"ss", e.ss}, {"probe_before", e.probe_before}, {"probe_after", e.probe_after}}; };
            if (r.active_opens_client) j["TcpActiveOpens_client"] = *r.active_opens_client;
            if (r.tw_end_client) j["tw_end_client"] = end(*r.tw_end_client);
            if (r.tw_end_server) j["tw_end_server"] = end(*r.tw_end_server);
            if (r.profile) {
                ojson settings = ojson::array();
                for (const ProfileSetting& p : r.profile_settings) settings.push_back({{"key", p.key}, {"value", p.value}, {"why", p.why}});
                j["sysctl_profile"] = r.profile->empty() ? ojson(nullptr) : ojson{{"path", *r.profile}, {"settings", settings}};
            }
        }
        j["verdict"] = r.verdict;
        out.push_back(j);
    }
    return ojson{{"rows", out}}.dump(2) + "\n";
}

std::vector<LeverRow> parse_levers_json(const std::string& text, const std::string& name) {
    json j = parse(text, name);
    if (!j.contains("rows") || !j["rows"].is_array() || j["rows"].empty()) throw ReportError(name + ": 'rows' is not a non-empty array");
    std::vector<LeverRow> rows;
    for (const json& x : j["rows"]) {
        std::string w = name + ": rows[" + std::to_string(rows.size()) + "]";
        LeverRow r;
        for (auto [k, dst] : {std::pair{"id", &r.id}, std::pair{"what", &r.what}, std::pair{"scenario", &r.scenario},
                              std::pair{"settings", &r.settings}, std::pair{"status", &r.status}}) {
            if (!x.contains(k) || !x[k].is_string()) throw ReportError(w + ": missing string '" + k + "'");
            *dst = x[k].get<std::string>();
        }
        if (r.ran()) {
            auto optd = [&](const char* k) { return x.contains(k) && !x[k].is_null() ? std::optional<double>(at(x, k, w)) : std::nullopt; };
            r.offered_rps = at(x, "offered_rps", w), r.duration_s = at(x, "duration_s", w), r.achieved_rps = at(x, "achieved_rps", w);
            r.p50_ms = at(x, "latency_p50_ms", w), r.p99_ms = at(x, "latency_p99_ms", w), r.connect_p99_ms = at(x, "connect_p99_ms", w);
            r.handshakes = lat(x, "handshakes", w), r.eaddrnotavail = lat(x, "eaddrnotavail", w);
            r.first_eaddrnotavail_s = optd("first_eaddrnotavail_s");
            r.ports = lat(x, "ports_in_range", w), r.sources = lat(x, "sources", w), r.tw_reuse = lat(x, "tw_reuse", w);
            if (auto d = optd("tw_reuse_delay_ms")) r.reuse_delay_ms = static_cast<long>(*d);
            r.fin_timeout_s = lat(x, "tcp_fin_timeout_s", w), r.max_tw_buckets = lat(x, "tcp_max_tw_buckets", w);
            r.tw_peak_client = lat(x, "tw_peak_client", w), r.tw_peak_server = lat(x, "tw_peak_server", w);
            r.tw_recycled = lat(x, "TcpExtTWRecycled", w);
            r.tw_overflow_client = lat(x, "TcpExtTCPTimeWaitOverflow_client", w), r.tw_overflow_server = lat(x, "TcpExtTCPTimeWaitOverflow_server", w);
            r.rst_out_client = lat(x, "TcpOutRsts_client", w), r.rst_out_server = lat(x, "TcpOutRsts_server", w);
            r.estab_resets_server = lat(x, "TcpEstabResets_server", w), r.server_close_reset = lat(x, "server_closes_by_reset", w);
            if (x.contains("tw_lifetime") && x["tw_lifetime"].is_object()) {
                const json& l = x["tw_lifetime"];
                TwLifetime t;
                t.first_created_s = at(l, "first_created_s", w), t.last_created_s = at(l, "last_created_s", w);
                if (!l["first_expired_s"].is_null()) t.first_expired_s = at(l, "first_expired_s", w);
                if (!l["zero_s"].is_null()) t.zero_s = at(l, "zero_s", w);
                r.lifetime = t;
            }
            if (x.contains("linger0_loss") && x["linger0_loss"].is_object()) {
                const json& l = x["linger0_loss"];
                r.loss = LingerLoss{lat(l, "bytes_written", w), lat(l, "unsent_at_close", w), lat(l, "notsent_at_close", w, -1),
                                    lat(l, "bytes_delivered", w), lat(l, "server_resets", w)};
            }
            if (x.contains("linger0_loss_not_run") && x["linger0_loss_not_run"].is_string())
                r.loss_not_run = x["linger0_loss_not_run"].get<std::string>();
            if (x.contains("kernel_log") && x["kernel_log"].is_object()) {
                const json& k = x["kernel_log"];
                r.kernel_log = KernelLog{k.value("readable", false), lat(k, "lines_before", w), lat(k, "lines_after", w)};
            }
            if (x.contains("TcpActiveOpens_client")) r.active_opens_client = lat(x, "TcpActiveOpens_client", w);
            for (auto [k, dst] : {std::pair{"tw_end_client", &r.tw_end_client}, std::pair{"tw_end_server", &r.tw_end_server}}) {
                if (!x.contains(k)) continue;
                const json& e = x[k];
                std::string we = w + "." + k;
                *dst = TwAtEnd{lat(e, "ss", we), lat(e, "probe_before", we), lat(e, "probe_after", we)};
            }
            if (x.contains("sysctl_profile")) {
                const json& p = x["sysctl_profile"];
                r.profile = "";
                if (!p.is_null()) {
                    std::string wp = w + ".sysctl_profile";
                    if (!p.is_object() || !p.contains("path") || !p["path"].is_string() || !p.contains("settings") || !p["settings"].is_array())
                        throw ReportError(wp + ": want {\"path\": string, \"settings\": [...]}");
                    r.profile = p["path"].get<std::string>();
                    for (const json& st : p["settings"]) {
                        ProfileSetting ps;
                        for (auto [k, dst] : {std::pair{"key", &ps.key}, std::pair{"value", &ps.value}, std::pair{"why", &ps.why}}) {
                            if (!st.is_object() || !st.contains(k) || !st[k].is_string())
                                throw ReportError(wp + ".settings[" + std::to_string(r.profile_settings.size()) + "]: missing string '" + k + "'");
                            *dst = st[k].get<std::string>();
                        }
                        r.profile_settings.push_back(std::move(ps));
                    }
                }
            }
        }
        // Derived, so recomputed: a verdict edited by hand in levers.json cannot survive into the docs.
        r.verdict = row_verdict(r);
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace churn::report
