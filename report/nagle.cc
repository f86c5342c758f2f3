// nagle.cc: make run-nagle's cases loaded from their files, the sweep's rows and nagle.json; see nagle.h.
// Rendering (Markdown, gnuplot) is in nagle_render.cc.
#include "report/nagle.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "report/results.h"

namespace churn::report {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

bool known_group(const std::string& g) { return g == "req" || g == "resp" || g == "pipe" || g == "sweep"; }

json load(const std::string& path) { return parse_object(read_text(path), path); }

// A number at j[key] (µs in churn-client's histograms); ReportError naming file and key when it is not one.
double num(const json& j, const std::string& key, const std::string& name) {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) throw ReportError(name + ": missing '" + key + "'");
    if (!j[key].is_number()) throw ReportError(name + ": '" + key + "' is not a number");
    return j[key].get<double>();
}
double num_or(const json& j, const std::string& key, const std::string& name, double fallback) {
    return j.is_object() && j.contains(key) && !j[key].is_null() ? num(j, key, name) : fallback;
}
const json& object_at(const json& j, const std::string& key, const std::string& name) {
    if (!j.contains(key) || !j[key].is_object()) throw ReportError(name + ": missing object '" + key + "'");
    return j[key];
}
// A switch as either side writes it: true/false, or "on"/"off".
std::optional<bool> switch_at(const json& j, const std::string& key) {
    if (!j.is_object() || !j.contains(key)) return std::nullopt;
    const json& v = j[key];
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) return v.get<std::string>() == "on";
    return std::nullopt;
}
std::optional<std::string> string_at(const json& j, const std::string& key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
    return j[key].get<std::string>();
}

// {"stalls": N, "stall_ms": T} in an object of churn-pcap decode --json (its totals, or one flow), added in.
bool add_stalls(const json& o, WireStalls& w, const std::string& name) {
    if (!o.is_object() || !o.contains("stalls")) return false;
    if (!o["stalls"].is_number()) throw ReportError(name + ": 'stalls' is not a number");
    w.count = w.count.value_or(0) + o["stalls"].get<long>();
    if (o.contains("stall_ms") && o["stall_ms"].is_number()) w.total_ms = w.total_ms.value_or(0) + o["stall_ms"].get<double>();
    return true;
}

void apply_flags(NagleCase& c) {
    // What was asked, for a side whose JSON does not say (a binary from before issue 11 says nothing).
    auto orv = [](const std::string& v, const char* d) { return v.empty() ? std::string(d) : v; };
    c.pattern = orv(flag_value(c.client_flags, "--pattern"), "single");
    c.client_write = orv(flag_value(c.client_flags, "--write"), "single");
    c.client_nodelay = flag_value(c.client_flags, "--nodelay") != "off" && !flag_present(c.client_flags, "--no-nodelay");
    c.client_quickack = flag_present(c.client_flags, "--quickack");
    c.response_pattern = orv(flag_value(c.server_flags, "--response-pattern"), "single");
    c.server_write = orv(flag_value(c.server_flags, "--write"), "single");
    c.server_nodelay = flag_value(c.server_flags, "--nodelay") != "off";
    c.server_quickack = flag_present(c.server_flags, "--quickack");
}

void load_client(NagleCase& c, const std::string& path) {
    json j = load(path);
    c.scheduled = static_cast<long>(num(j, "requests_scheduled", path)), c.ok = static_cast<long>(num(j, "requests_ok", path));
    c.failed = static_cast<long>(num(j, "requests_failed", path)), c.unfinished = static_cast<long>(num(j, "requests_unfinished", path));
    c.rps = num(j, "rps", path);
    const json& lat = object_at(j, "latency_us", path);
    c.p50_ms = num_or(lat, "p50", path + ": latency_us", 0) / 1000, c.p99_ms = num_or(lat, "p99", path + ": latency_us", 0) / 1000;
    c.max_ms = num_or(lat, "max", path + ": latency_us", 0) / 1000;
    if (j.contains("request_us") && j["request_us"].is_object()) {
        c.exchange_p50_ms = num_or(j["request_us"], "p50", path + ": request_us", 0) / 1000;
        c.exchange_p99_ms = num_or(j["request_us"], "p99", path + ": request_us", 0) / 1000;
    }
    if (auto v = string_at(j, "pattern")) c.pattern = *v;
    if (c.pattern == "pipeline" && j.contains("pipeline") && j["pipeline"].is_number_integer()) c.pipeline = j["pipeline"].get<long>();
    if (auto v = string_at(j, "write")) c.client_write = *v;
    if (auto v = switch_at(j, "nodelay")) c.client_nodelay = *v;
    if (auto v = switch_at(j, "quickack")) c.client_quickack = *v;
    if (j.contains("trace") && j["trace"].is_object())
        for (const char* k : {"lines", "requests", "count"})
            if (j["trace"].contains(k) && j["trace"][k].is_number()) {
                c.trace_lines = j["trace"][k].get<long>();
                break;
            }
}

void load_server(NagleCase& c, const std::string& path) {
    const json j = load(path);
    const json& o = object_at(j, "options", path);
    // Top level (issue 11's keys) first, then the options object, then what the flags asked for.
    for (const json* src : {&o, &j}) {
        if (auto v = string_at(*src, "response_pattern")) c.response_pattern = *v;
        if (auto v = string_at(*src, "write")) c.server_write = *v;
        if (auto v = switch_at(*src, "quickack")) c.server_quickack = *v;
    }
    if (auto v = switch_at(o, "nodelay")) c.server_nodelay = *v;
}

void load_settings(NagleCase& c, const std::string& path) {
    json j = load(path);
    auto get = [&](const char* side) {
        return j.contains(side) ? static_cast<long>(num_or(j[side], "net.ipv4.tcp_autocorking", path, -1)) : -1L;
    };
    c.client_autocorking = get("client"), c.server_autocorking = get("server");
}

long trace_lines(const std::string& path) {
    if (!file_exists(path)) return 0;
    std::istringstream in(read_text(path));
    long n = 0;
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') ++n;
    return n;
}

}  // namespace

std::string flag_value(const std::string& flags, const std::string& flag) {
    std::istringstream in(flags);
    for (std::string w; in >> w;) {
        if (w == flag) return (in >> w) ? w : std::string();
        if (w.rfind(flag + "=", 0) == 0) return w.substr(flag.size() + 1);
    }
    return "";
}
bool flag_present(const std::string& flags, const std::string& flag) {
    std::istringstream in(flags);
    for (std::string w; in >> w;)
        if (w == flag || w.rfind(flag + "=", 0) == 0) return true;
    return false;
}

WireStalls parse_wire_stalls(const std::string& text, const std::string& name) {
    json j = parse_object(text, name);
    WireStalls w;
    // The totals when the decoder gives them, else the sum over its flows. "stalls" nowhere: a churn-pcap
    // from before the detector, so no count at all (a zero would claim the wire was looked at).
    if (j.contains("totals") && add_stalls(j["totals"], w, name + ": totals")) return w;
    if (j.contains("flows") && j["flows"].is_array())
        for (const json& f : j["flows"]) add_stalls(f, w, name + ": flows");
    return w;
}

double SweepRow::extra_ms() const { return nagle && nodelay ? nagle->exchange_p50_ms - nodelay->exchange_p50_ms : 0; }

std::vector<SweepRow> sweep_rows(const NagleReport& rep) {
    std::map<double, SweepRow> by_rtt;
    for (const NagleCase& c : rep.cases) {
        if (c.group != "sweep" || !c.ran()) continue;
        SweepRow& r = by_rtt[c.rtt_ms];
        r.rtt_ms = c.rtt_ms;
        if (c.receiver_quickack()) r.quickack = &c;
        else if (c.writer_nagle()) r.nagle = &c;
        else r.nodelay = &c;
    }
    std::vector<SweepRow> out;
    for (auto& [rtt, r] : by_rtt)
        if (r.nagle && r.nodelay) out.push_back(r);
    return out;
}

void load_nagle_case(NagleCase& c, const std::string& d) {
    apply_flags(c);
    load_client(c, d + "/client.json");
    load_server(c, d + "/server.json");
    json p = load(d + "/path.json");
    c.rtt_ms = num(p, "rtt_ms", d + "/path.json");
    if (auto v = string_at(p, "path")) c.path = *v;
    if (file_exists(d + "/wire.json")) c.wire = parse_wire_stalls(read_text(d + "/wire.json"), d + "/wire.json");
    if (file_exists(d + "/settings.json")) load_settings(c, d + "/settings.json");
}

NagleReport load_nagle_dir(const std::string& dir) {
    std::string manifest = dir + "/cases.tsv";
    NagleReport rep;
    for (const auto& [f, where] : read_manifest(manifest, "id", 6)) {
        NagleCase c;
        c.id = f[0], c.group = f[1], c.client_flags = f[3], c.server_flags = f[4], c.status = f[5];
        if (!known_group(c.group)) throw ReportError(where + ": unknown group '" + c.group + "' (want req, resp, pipe or sweep)");
        if (c.ran()) load_nagle_case(c, dir + "/" + c.id);
        else apply_flags(c);
        rep.cases.push_back(std::move(c));
    }
    if (rep.cases.empty()) throw ReportError(manifest + ": no cases");
    rep.trace_requests = trace_lines(dir + "/trace.txt"), rep.sweep_trace_requests = trace_lines(dir + "/sweep-trace.txt");
    for (auto [name, w, has] : {std::tuple{"nagle", &rep.excerpt_nagle, &rep.has_excerpt_nagle},
                                std::tuple{"nodelay", &rep.excerpt_nodelay, &rep.has_excerpt_nodelay}}) {
        std::string p = dir + "/excerpt-" + name + ".wire.json";
        if (file_exists(p)) *w = parse_wire_stalls(read_text(p), p), *has = true;
    }
    return rep;
}

// ---- nagle.json ----

namespace {

ojson stalls_json(const WireStalls& w) {
    return ojson{{"count", w.count ? ojson(*w.count) : ojson(nullptr)}, {"total_ms", w.total_ms ? ojson(*w.total_ms) : ojson(nullptr)}};
}
WireStalls parse_stalls(const json& j) {
    WireStalls w;
    if (!j.is_object()) return w;
    if (j.contains("count") && j["count"].is_number()) w.count = j["count"].get<long>();
    if (j.contains("total_ms") && j["total_ms"].is_number()) w.total_ms = j["total_ms"].get<double>();
    return w;
}

}  // namespace

std::string nagle_json(const NagleReport& rep) {
    ojson cases = ojson::array();
    for (const NagleCase& c : rep.cases) {
        ojson j = {{"id", c.id}, {"group", c.group}, {"client_flags", c.client_flags}, {"server_flags", c.server_flags}, {"status", c.status}};
        if (c.ran())
            j.update(ojson{{"rtt_ms", c.rtt_ms}, {"path", c.path},
                           {"client", {{"pattern", c.pattern}, {"pipeline", c.pipeline}, {"write", c.client_write}, {"nodelay", c.client_nodelay},
                                       {"quickack", c.client_quickack}}},
                           {"server", {{"response_pattern", c.response_pattern}, {"write", c.server_write}, {"nodelay", c.server_nodelay},
                                       {"quickack", c.server_quickack}}},
                           {"scheduled", c.scheduled}, {"ok", c.ok}, {"failed", c.failed}, {"unfinished", c.unfinished},
                           {"trace_lines", c.trace_lines}, {"p50_ms", c.p50_ms}, {"p99_ms", c.p99_ms}, {"max_ms", c.max_ms}, {"rps", c.rps},
                           {"exchange_p50_ms", c.exchange_p50_ms}, {"exchange_p99_ms", c.exchange_p99_ms}, {"stalls", stalls_json(c.wire)},
                           {"tcp_autocorking", {{"client", c.client_autocorking}, {"server", c.server_autocorking}}}});
        cases.push_back(j);
    }
    ojson sweep = ojson::array();
    for (const SweepRow& r : sweep_rows(rep))
        sweep.push_back({{"rtt_ms", r.rtt_ms}, {"extra_ms", r.extra_ms()}, {"model_rtt_plus_delack_ms", r.model_sum_ms()},
                         {"model_max_rtt_delack_ms", r.model_max_ms()}});
    ojson ex = ojson::object();
    if (rep.has_excerpt_nagle) ex["nagle"] = {{"stalls", stalls_json(rep.excerpt_nagle)}};
    if (rep.has_excerpt_nodelay) ex["nodelay"] = {{"stalls", stalls_json(rep.excerpt_nodelay)}};
    // "sweep" is derived (parse_nagle_json recomputes it from the cases); it is here for readers and tests.
    return ojson{{"delack_min_ms", kDelackMinMs}, {"trace_requests", rep.trace_requests}, {"sweep_trace_requests", rep.sweep_trace_requests},
                 {"cases", cases}, {"sweep", sweep}, {"excerpts", ex}}
               .dump(2) + "\n";
}

NagleReport parse_nagle_json(const std::string& text, const std::string& name) {
    json j = parse_object(text, name);
    if (!j.contains("cases") || !j["cases"].is_array() || j["cases"].empty()) throw ReportError(name + ": 'cases' is not a non-empty array");
    NagleReport rep;
    rep.trace_requests = static_cast<long>(num_or(j, "trace_requests", name, 0));
    rep.sweep_trace_requests = static_cast<long>(num_or(j, "sweep_trace_requests", name, 0));
    for (const json& x : j["cases"]) {
        std::string w = name + ": cases[" + std::to_string(rep.cases.size()) + "]";
        NagleCase c;
        for (auto [k, dst] : {std::pair{"id", &c.id}, std::pair{"group", &c.group}, std::pair{"client_flags", &c.client_flags},
                              std::pair{"server_flags", &c.server_flags}, std::pair{"status", &c.status}}) {
            if (!x.contains(k) || !x[k].is_string()) throw ReportError(w + ": missing string '" + k + "'");
            *dst = x[k].get<std::string>();
        }
        apply_flags(c);
        if (c.ran()) {
            c.rtt_ms = num(x, "rtt_ms", w);
            if (auto v = string_at(x, "path")) c.path = *v;
            const json& cl = object_at(x, "client", w);
            const json& sv = object_at(x, "server", w);
            c.pattern = string_at(cl, "pattern").value_or(c.pattern), c.client_write = string_at(cl, "write").value_or(c.client_write);
            c.pipeline = static_cast<long>(num_or(cl, "pipeline", w + ": client", 0));
            c.client_nodelay = switch_at(cl, "nodelay").value_or(c.client_nodelay), c.client_quickack = switch_at(cl, "quickack").value_or(c.client_quickack);
            c.response_pattern = string_at(sv, "response_pattern").value_or(c.response_pattern);
            c.server_write = string_at(sv, "write").value_or(c.server_write);
            c.server_nodelay = switch_at(sv, "nodelay").value_or(c.server_nodelay), c.server_quickack = switch_at(sv, "quickack").value_or(c.server_quickack);
            c.scheduled = static_cast<long>(num(x, "scheduled", w)), c.ok = static_cast<long>(num(x, "ok", w));
            c.failed = static_cast<long>(num(x, "failed", w)), c.unfinished = static_cast<long>(num(x, "unfinished", w));
            c.trace_lines = static_cast<long>(num_or(x, "trace_lines", w, -1));
            c.p50_ms = num(x, "p50_ms", w), c.p99_ms = num(x, "p99_ms", w), c.max_ms = num(x, "max_ms", w), c.rps = num(x, "rps", w);
            c.exchange_p50_ms = num(x, "exchange_p50_ms", w), c.exchange_p99_ms = num(x, "exchange_p99_ms", w);
            c.wire = parse_stalls(x.value("stalls", json()));
            if (x.contains("tcp_autocorking") && x["tcp_autocorking"].is_object()) {
                c.client_autocorking = static_cast<long>(num_or(x["tcp_autocorking"], "client", w, -1));
                c.server_autocorking = static_cast<long>(num_or(x["tcp_autocorking"], "server", w, -1));
            }
        }
        if (!known_group(c.group)) throw ReportError(w + ": unknown group '" + c.group + "'");
        rep.cases.push_back(std::move(c));
    }
    if (j.contains("excerpts") && j["excerpts"].is_object()) {
        const json& e = j["excerpts"];
        if (e.contains("nagle")) rep.excerpt_nagle = parse_stalls(e["nagle"].value("stalls", json())), rep.has_excerpt_nagle = true;
        if (e.contains("nodelay")) rep.excerpt_nodelay = parse_stalls(e["nodelay"].value("stalls", json())), rep.has_excerpt_nodelay = true;
    }
    return rep;
}

}  // namespace churn::report
