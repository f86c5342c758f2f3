// synflood.cc: make run-synflood's cases loaded from their files, the counter cross-check and
// synflood.json; see synflood.h. Rendering (Markdown, gnuplot) is in synflood_render.cc.
#include "report/synflood.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/results.h"

namespace churn::report {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

// The value at a path of keys (each a whole key: nstat and sysctl names hold dots): nullptr when any part
// is absent or null. num() wants a number there and names the file when there is none; num_or() falls
// back (a field older files lack, a histogram with no sample).
const json* find(const json& j, std::initializer_list<const char*> path) {
    const json* v = &j;
    for (const char* k : path) {
        if (!v->is_object() || !v->contains(k) || (*v)[k].is_null()) return nullptr;
        v = &(*v)[k];
    }
    return v;
}
std::string dotted(std::initializer_list<const char*> path) {
    std::string out;
    for (const char* k : path) out += (out.empty() ? "" : ".") + std::string(k);
    return out;
}
double num(const json& j, std::initializer_list<const char*> path, const std::string& name) {
    const json* v = find(j, path);
    if (!v) throw ReportError(name + ": missing '" + dotted(path) + "'");
    if (!v->is_number()) throw ReportError(name + ": '" + dotted(path) + "' is not a number");
    return v->get<double>();
}
double num_or(const json& j, std::initializer_list<const char*> path, const std::string& name, double fallback) {
    return find(j, path) ? num(j, path, name) : fallback;
}
long lnum(const json& j, std::initializer_list<const char*> path, const std::string& name) { return static_cast<long>(num(j, path, name)); }
long lnum_or(const json& j, std::initializer_list<const char*> path, const std::string& name, long fallback) {
    return find(j, path) ? lnum(j, path, name) : fallback;
}
json load(const std::string& path) { return parse_object(read_text(path), path); }

std::map<std::string, long> long_map(const json& j, const std::string& name) {
    std::map<std::string, long> out;
    if (!j.is_object()) throw ReportError(name + ": want an object of numbers");
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it->is_number()) throw ReportError(name + ": '" + it.key() + "' is not a number");
        out[it.key()] = it->get<long>();
    }
    return out;
}

Snapshot load_snapshot(const std::string& prefix) {
    Snapshot s;
    s.probe1 = parse_probe_nstat(read_text(prefix + ".probe1.json"), prefix + ".probe1.json");
    s.nstat = parse_nstat_text(read_text(prefix + ".nstat.txt"), prefix + ".nstat.txt");
    s.probe2 = parse_probe_nstat(read_text(prefix + ".probe2.json"), prefix + ".probe2.json");
    return s;
}

ClientView load_client(const std::string& path) {
    json j = load(path);
    ClientView c;
    c.scheduled = lnum(j, {"requests_scheduled"}, path), c.ok = lnum(j, {"requests_ok"}, path);
    c.failed = lnum(j, {"requests_failed"}, path), c.unfinished = lnum(j, {"requests_unfinished"}, path);
    c.handshakes = lnum(j, {"handshakes"}, path);
    // churn-client writes percentiles in µs; a histogram with no sample has none to give (0 or absent).
    c.connect_p50_ms = num_or(j, {"connect_us", "p50"}, path, 0) / 1000, c.connect_p99_ms = num_or(j, {"connect_us", "p99"}, path, 0) / 1000;
    c.connect_max_ms = num_or(j, {"connect_us", "max"}, path, 0) / 1000;
    c.latency_p99_ms = num_or(j, {"latency_us", "p99"}, path, 0) / 1000, c.request_p50_ms = num_or(j, {"request_us", "p50"}, path, 0) / 1000;
    if (j.contains("errors")) c.errors = long_map(j["errors"], path + ": errors");
    if (j.contains("timeline") && j["timeline"].is_array())
        for (const json& s : j["timeline"]) c.ok_per_second.emplace_back(lnum(s, {"t"}, path + ": timeline"), lnum(s, {"requests"}, path + ": timeline"));
    return c;
}

void load_settings(SynCase& c, const std::string& path) {
    json j = load(path);
    c.syncookies = lnum(j, {"server", "net.ipv4.tcp_syncookies"}, path);
    c.max_syn_backlog = lnum_or(j, {"server", "net.ipv4.tcp_max_syn_backlog"}, path, -1);
    c.somaxconn = lnum_or(j, {"server", "net.core.somaxconn"}, path, -1);
    c.timestamps = lnum(j, {"client", "net.ipv4.tcp_timestamps"}, path);
    c.syn_retries = lnum_or(j, {"client", "net.ipv4.tcp_syn_retries"}, path, -1);
    c.syn_linear_timeouts = lnum_or(j, {"client", "net.ipv4.tcp_syn_linear_timeouts"}, path, -1);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void load_flood(SynCase& c, const std::string& d) {
    json f = load(d + "/flood.json");
    std::string fp = d + "/flood.json";
    c.flood_rate = num(f, {"rate"}, fp), c.flood_duration_s = num(f, {"duration_s"}, fp);
    c.flood_sent = num(f, {"sent"}, fp), c.flood_achieved = num(f, {"achieved_rate"}, fp);
    json s = load(d + "/server.json");
    c.backlog = lnum(s, {"options", "backlog"}, d + "/server.json");
    double t0 = num(load(d + "/load.json"), {"probe_t_at_flood_start"}, d + "/load.json");
    // The watcher's lines: a torn last line (the watcher stopped mid-write) is skipped, nothing else is.
    std::istringstream in(read_text(d + "/probe.jsonl"));
    std::vector<double> during;
    size_t lineno = 0;
    for (std::string line; std::getline(in, line);) {
        ++lineno;
        json j = json::parse(line, nullptr, false);
        if (!j.is_object()) {
            if (in.peek() == EOF) break;
            throw ReportError(d + "/probe.jsonl:" + std::to_string(lineno) + ": not a JSON object");
        }
        double t = num(j, {"t"}, d + "/probe.jsonl") - t0;
        long n = lnum(j, {"states", "SYN-RECV"}, d + "/probe.jsonl:" + std::to_string(lineno));
        c.synrecv_series.emplace_back(t, static_cast<double>(n));
        c.synrecv_peak = std::max(c.synrecv_peak, n);
        if (t >= 2 && t <= c.flood_duration_s) during.push_back(static_cast<double>(n));
    }
    if (c.synrecv_series.empty()) throw ReportError(d + "/probe.jsonl: no samples");
    c.synrecv_median = median(during);
    json k = load(d + "/synrecv.check.json");
    auto opt = [&](const char* key) { return k.contains(key) && k[key].is_number() ? std::optional<long>(k[key].get<long>()) : std::nullopt; };
    c.synrecv_probe_before = opt("probe_before"), c.synrecv_ss = opt("ss"), c.synrecv_probe_after = opt("probe_after");
}

void load_long(SynCase& c, const std::string& d) {
    c.rtt_ms = num(load(d + "/path.json"), {"rtt_ms"}, d + "/path.json");
    json cj = load(d + "/client.json");
    c.mss_asked = lnum_or(cj, {"mss"}, d + "/client.json", 0);
    if (c.mss_asked == 0) {  // a churn-client without --mss in its JSON: the settings say what was asked
        size_t at = c.settings.find("--mss ");
        if (at != std::string::npos) c.mss_asked = std::stol(c.settings.substr(at + 6));
    }
    json s = load(d + "/server.json");
    c.body_bytes = lnum(s, {"options", "size"}, d + "/server.json");
}

void load_info(SynCase& c, const std::string& path) {
    json j = load(path);
    if (!j.contains("conns") || !j["conns"].is_array()) throw ReportError(path + ": missing 'conns'");
    for (const json& k : j["conns"]) {
        if (!k.is_object() || k.value("state", "") != "ESTAB") continue;
        c.has_info = true;
        c.snd_wscale = lnum(k, {"snd_wscale"}, path), c.snd_mss = lnum(k, {"mss"}, path), c.snd_wnd = lnum(k, {"snd_wnd"}, path);
        const json& o = k.contains("options") ? k["options"] : json::object();
        c.opt_ts = o.value("ts", false), c.opt_sack = o.value("sack", false), c.opt_wscale = o.value("wscale", false);
        return;
    }
}

}  // namespace

const std::vector<std::string>& syn_counters() {
    static const std::vector<std::string> names = {
        "TcpExtSyncookiesSent", "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed", "TcpExtTCPReqQFullDoCookies",
        "TcpExtTCPReqQFullDrop", "TcpExtListenOverflows", "TcpExtListenDrops", "TcpPassiveOpens", "TcpAttemptFails",
        "TcpExtTCPSynRetrans"};
    return names;
}

long CounterDeltas::get(const std::string& name) const {
    auto it = probe.find(name);
    return it == probe.end() ? 0 : it->second;
}
long ClientView::error(const std::string& e) const {
    auto it = errors.find(e);
    return it == errors.end() ? 0 : it->second;
}
double SynCase::throughput_kBps() const {
    return cli.request_p50_ms > 0 ? static_cast<double>(body_bytes) / cli.request_p50_ms : 0;  // B/ms = kB/s
}
double SynCase::window_cap_kBps() const { return rtt_ms > 0 ? 65535.0 / rtt_ms : 0; }

std::map<std::string, long> parse_nstat_text(const std::string& text, const std::string& name) {
    std::map<std::string, long> out;
    std::istringstream in(text);
    size_t lineno = 0;
    for (std::string line; std::getline(in, line);) {
        ++lineno;
        if (line.empty() || line[0] == '#') continue;  // "#kernel"
        std::istringstream f(line);
        std::string key, value;
        if (!(f >> key >> value)) throw ReportError(name + ":" + std::to_string(lineno) + ": want 'NAME VALUE [RATE]'");
        try {
            size_t used = 0;
            long v = std::stol(value, &used);
            if (used != value.size()) throw std::invalid_argument(value);
            out[key] = v;
        } catch (const std::exception&) {
            throw ReportError(name + ":" + std::to_string(lineno) + ": '" + value + "' is not a whole number (" + key + ")");
        }
    }
    if (out.empty()) throw ReportError(name + ": no counters");
    return out;
}

std::map<std::string, long> parse_probe_nstat(const std::string& text, const std::string& name) {
    json j = parse_object(text, name);
    if (!j.contains("nstat")) throw ReportError(name + ": missing 'nstat'");
    return long_map(j["nstat"], name + ": nstat");
}

CounterDeltas counter_deltas(const Snapshot& before, const Snapshot& after, const std::string& where) {
    CounterDeltas d;
    d.present = true;
    auto val = [](const std::map<std::string, long>& m, const std::string& k) -> std::optional<long> {
        auto it = m.find(k);
        return it == m.end() ? std::nullopt : std::optional<long>(it->second);
    };
    for (const std::string& k : syn_counters()) {
        // A counter this kernel lacks is absent from both tools: left out, not a zero.
        auto p1b = val(before.probe1, k), nb = val(before.nstat, k), p2b = val(before.probe2, k);
        auto p1a = val(after.probe1, k), na = val(after.nstat, k), p2a = val(after.probe2, k);
        if (!p1b && !nb && !p1a && !na) continue;
        if (!p1b || !nb || !p2b || !p1a || !na || !p2a) {
            d.disagree.push_back(where + ": " + k + " is missing from one of the readings");
            continue;
        }
        d.probe[k] = *p1a - *p1b;
        d.nstat[k] = *na - *nb;
        for (auto [side, lo, ref, hi] : {std::tuple{"before", *p1b, *nb, *p2b}, std::tuple{"after", *p1a, *na, *p2a}}) {
            if (ref < std::min(lo, hi) || ref > std::max(lo, hi))
                d.disagree.push_back(where + ": " + k + " " + side + ": nstat " + std::to_string(ref) + " outside churn-probe's " +
                                     std::to_string(lo) + " .. " + std::to_string(hi));
        }
    }
    return d;
}

void load_syn_case(SynCase& c, const std::string& d) {
    load_settings(c, d + "/settings.json");
    c.server = counter_deltas(load_snapshot(d + "/before"), load_snapshot(d + "/after"), c.id + " server host");
    if (file_exists(d + "/client-before.probe1.json"))
        c.client = counter_deltas(load_snapshot(d + "/client-before"), load_snapshot(d + "/client-after"), c.id + " client host");
    c.cli = load_client(d + "/client.json");
    if (c.kind == "flood") load_flood(c, d);
    if (c.kind == "accept") {
        json s = load(d + "/server.json");
        std::string sp = d + "/server.json";
        c.backlog = lnum(s, {"options", "backlog"}, sp);
        c.accepted = lnum(s, {"accepted"}, sp);
        if (s.contains("accept_stopped_at_s") && !s["accept_stopped_at_s"].is_null()) c.accept_stopped_at_s = num(s, {"accept_stopped_at_s"}, sp);
    }
    if (c.kind == "bulk" || c.kind == "synack") load_long(c, d);
    if (c.kind == "bulk" && file_exists(d + "/info.json")) load_info(c, d + "/info.json");
    if (c.kind == "synack") {
        size_t at = c.settings.find("--drop-synack ");
        if (at != std::string::npos) c.drop_synack = std::stol(c.settings.substr(at + 14));
        if (file_exists(d + "/link.json")) {
            json l = load(d + "/link.json");
            if ((l.contains("ab") && l["ab"].contains("dropped_synack")) || (l.contains("ba") && l["ba"].contains("dropped_synack")))
                c.link_dropped_synack = lnum_or(l, {"ab", "dropped_synack"}, d + "/link.json", 0) + lnum_or(l, {"ba", "dropped_synack"}, d + "/link.json", 0);
        }
    }
}

std::vector<SynCase> load_synflood_dir(const std::string& dir) {
    std::string manifest = dir + "/cases.tsv";
    std::vector<SynCase> cases;
    for (const auto& [f, where] : read_manifest(manifest, "id", 4)) {
        SynCase c;
        c.id = f[0], c.kind = f[1], c.settings = f[2], c.status = f[3];
        if (c.kind != "flood" && c.kind != "accept" && c.kind != "bulk" && c.kind != "synack")
            throw ReportError(where + ": unknown kind '" + c.kind + "' (want flood, accept, bulk or synack)");
        if (c.ran()) load_syn_case(c, dir + "/" + c.id);
        cases.push_back(std::move(c));
    }
    if (cases.empty()) throw ReportError(manifest + ": no cases");
    return cases;
}

// ---- synflood.json ----

namespace {

ojson deltas_json(const CounterDeltas& d) {
    if (!d.present) return nullptr;
    return ojson{{"churn_probe", d.probe}, {"nstat", d.nstat}, {"disagree", d.disagree}};
}
CounterDeltas parse_deltas(const json& j, const std::string& name) {
    CounterDeltas d;
    if (j.is_null()) return d;
    d.present = true;
    if (!j.is_object() || !j.contains("churn_probe") || !j.contains("nstat")) throw ReportError(name + ": want churn_probe and nstat");
    d.probe = long_map(j["churn_probe"], name + ".churn_probe"), d.nstat = long_map(j["nstat"], name + ".nstat");
    if (j.contains("disagree") && j["disagree"].is_array())
        for (const json& s : j["disagree"]) d.disagree.push_back(s.is_string() ? s.get<std::string>() : s.dump());
    return d;
}
template <typename T>
ojson opt(const std::optional<T>& o) { return o ? ojson(*o) : ojson(nullptr); }

}  // namespace

std::string synflood_json(const std::vector<SynCase>& cases) {
    ojson out = ojson::array();
    for (const SynCase& c : cases) {
        ojson j = {{"id", c.id}, {"kind", c.kind}, {"settings", c.settings}, {"status", c.status}};
        if (c.ran()) {
            const ClientView& v = c.cli;
            ojson ops = ojson::array();
            for (auto [t, n] : v.ok_per_second) ops.push_back({t, n});
            j.update(ojson{{"tcp_syncookies", c.syncookies}, {"client_tcp_timestamps", c.timestamps},
                           {"tcp_max_syn_backlog", c.max_syn_backlog}, {"somaxconn", c.somaxconn},
                           {"client_tcp_syn_retries", c.syn_retries}, {"client_tcp_syn_linear_timeouts", c.syn_linear_timeouts},
                           {"server_counters", deltas_json(c.server)}, {"client_counters", deltas_json(c.client)},
                           {"client", {{"scheduled", v.scheduled}, {"ok", v.ok}, {"failed", v.failed}, {"unfinished", v.unfinished},
                                       {"handshakes", v.handshakes}, {"connect_p50_ms", v.connect_p50_ms},
                                       {"connect_p99_ms", v.connect_p99_ms}, {"connect_max_ms", v.connect_max_ms},
                                       {"latency_p99_ms", v.latency_p99_ms}, {"request_p50_ms", v.request_p50_ms},
                                       {"errors", v.errors}, {"ok_per_second", ops}}}});
            if (c.kind == "flood")
                j.update(ojson{{"backlog", c.backlog}, {"flood_rate", c.flood_rate}, {"flood_duration_s", c.flood_duration_s},
                               {"flood_sent", c.flood_sent}, {"flood_achieved_rate", c.flood_achieved},
                               {"synrecv_peak", c.synrecv_peak}, {"synrecv_median", c.synrecv_median},
                               {"synrecv_check", {{"probe_before", opt(c.synrecv_probe_before)}, {"ss", opt(c.synrecv_ss)},
                                                  {"probe_after", opt(c.synrecv_probe_after)}}}});
            if (c.kind == "accept")
                j.update(ojson{{"backlog", c.backlog}, {"accepted", c.accepted}, {"accept_stopped_at_s", opt(c.accept_stopped_at_s)}});
            if (c.kind == "bulk" || c.kind == "synack")
                j.update(ojson{{"rtt_ms", c.rtt_ms}, {"mss_asked", c.mss_asked}, {"body_bytes", c.body_bytes}});
            if (c.kind == "bulk") {
                ojson info = nullptr;
                if (c.has_info)
                    info = {{"snd_wscale", c.snd_wscale}, {"snd_mss", c.snd_mss}, {"snd_wnd", c.snd_wnd},
                            {"options", {{"ts", c.opt_ts}, {"sack", c.opt_sack}, {"wscale", c.opt_wscale}}}};
                j.update(ojson{{"server_tcp_info", info}, {"throughput_kBps", c.throughput_kBps()}, {"window_cap_kBps", c.window_cap_kBps()}});
            }
            if (c.kind == "synack") j.update(ojson{{"drop_synack", c.drop_synack}, {"link_dropped_synack", opt(c.link_dropped_synack)}});
        }
        out.push_back(j);
    }
    return ojson{{"cases", out}}.dump(2) + "\n";
}

std::vector<SynCase> parse_synflood_json(const std::string& text, const std::string& name) {
    json j = parse_object(text, name);
    if (!j.contains("cases") || !j["cases"].is_array() || j["cases"].empty()) throw ReportError(name + ": 'cases' is not a non-empty array");
    std::vector<SynCase> cases;
    for (const json& x : j["cases"]) {
        std::string w = name + ": cases[" + std::to_string(cases.size()) + "]";
        SynCase c;
        for (auto [k, dst] : {std::pair{"id", &c.id}, std::pair{"kind", &c.kind}, std::pair{"settings", &c.settings}, std::pair{"status", &c.status}}) {
            if (!x.contains(k) || !x[k].is_string()) throw ReportError(w + ": missing string '" + k + "'");
            *dst = x[k].get<std::string>();
        }
        if (c.ran()) {
            c.syncookies = lnum(x, {"tcp_syncookies"}, w), c.timestamps = lnum(x, {"client_tcp_timestamps"}, w);
            c.max_syn_backlog = lnum_or(x, {"tcp_max_syn_backlog"}, w, -1), c.somaxconn = lnum_or(x, {"somaxconn"}, w, -1);
            c.syn_retries = lnum_or(x, {"client_tcp_syn_retries"}, w, -1), c.syn_linear_timeouts = lnum_or(x, {"client_tcp_syn_linear_timeouts"}, w, -1);
            c.server = parse_deltas(x.value("server_counters", json()), w + ".server_counters");
            c.client = parse_deltas(x.value("client_counters", json()), w + ".client_counters");
            if (!x.contains("client") || !x["client"].is_object()) throw ReportError(w + ": missing 'client'");
            const json& v = x["client"];
            std::string wc = w + ".client";
            c.cli.scheduled = lnum(v, {"scheduled"}, wc), c.cli.ok = lnum(v, {"ok"}, wc), c.cli.failed = lnum(v, {"failed"}, wc);
            c.cli.unfinished = lnum(v, {"unfinished"}, wc), c.cli.handshakes = lnum(v, {"handshakes"}, wc);
            c.cli.connect_p50_ms = num(v, {"connect_p50_ms"}, wc), c.cli.connect_p99_ms = num(v, {"connect_p99_ms"}, wc);
            c.cli.connect_max_ms = num(v, {"connect_max_ms"}, wc), c.cli.latency_p99_ms = num(v, {"latency_p99_ms"}, wc);
            c.cli.request_p50_ms = num(v, {"request_p50_ms"}, wc);
            if (v.contains("errors")) c.cli.errors = long_map(v["errors"], wc + ".errors");
            if (v.contains("ok_per_second") && v["ok_per_second"].is_array())
                for (const json& p : v["ok_per_second"])
                    if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number()) c.cli.ok_per_second.emplace_back(p[0].get<long>(), p[1].get<long>());
            if (c.kind == "flood") {
                c.backlog = lnum(x, {"backlog"}, w), c.flood_rate = num(x, {"flood_rate"}, w), c.flood_duration_s = num(x, {"flood_duration_s"}, w);
                c.flood_sent = num(x, {"flood_sent"}, w), c.flood_achieved = num(x, {"flood_achieved_rate"}, w);
                c.synrecv_peak = lnum(x, {"synrecv_peak"}, w), c.synrecv_median = num(x, {"synrecv_median"}, w);
                auto o = [&](const char* k) { return x.contains("synrecv_check") && x["synrecv_check"].contains(k) && x["synrecv_check"][k].is_number()
                                                         ? std::optional<long>(x["synrecv_check"][k].get<long>()) : std::nullopt; };
                c.synrecv_probe_before = o("probe_before"), c.synrecv_ss = o("ss"), c.synrecv_probe_after = o("probe_after");
            }
            if (c.kind == "accept") {
                c.backlog = lnum(x, {"backlog"}, w), c.accepted = lnum(x, {"accepted"}, w);
                if (x.contains("accept_stopped_at_s") && x["accept_stopped_at_s"].is_number()) c.accept_stopped_at_s = num(x, {"accept_stopped_at_s"}, w);
            }
            if (c.kind == "bulk" || c.kind == "synack")
                c.rtt_ms = num(x, {"rtt_ms"}, w), c.mss_asked = lnum(x, {"mss_asked"}, w), c.body_bytes = lnum(x, {"body_bytes"}, w);
            if (c.kind == "bulk" && x.contains("server_tcp_info") && x["server_tcp_info"].is_object()) {
                const json& i = x["server_tcp_info"];
                std::string wi = w + ".server_tcp_info";
                c.has_info = true;
                c.snd_wscale = lnum(i, {"snd_wscale"}, wi), c.snd_mss = lnum(i, {"snd_mss"}, wi), c.snd_wnd = lnum(i, {"snd_wnd"}, wi);
                const json& o = i.contains("options") ? i["options"] : json::object();
                c.opt_ts = o.value("ts", false), c.opt_sack = o.value("sack", false), c.opt_wscale = o.value("wscale", false);
            }
            if (c.kind == "synack") {
                c.drop_synack = lnum(x, {"drop_synack"}, w);
                if (x.contains("link_dropped_synack") && x["link_dropped_synack"].is_number()) c.link_dropped_synack = lnum(x, {"link_dropped_synack"}, w);
            }
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace churn::report
