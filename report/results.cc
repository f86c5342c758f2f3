// results.cc: load and check a compare run's files; see results.h.
#include "report/results.h"

#include <tuple>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "loop/sys.h"

namespace churn::report {
namespace {

using nlohmann::json;

json parse_json(const std::string& text, const std::string& name) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 1: ..."; keep the
        // part after the bracketed id so the message stays one readable line.
        std::string what = e.what();
        size_t close = what.find("] ");
        throw ReportError(name + ": malformed JSON: " + (close == std::string::npos ? what : what.substr(close + 2)));
    }
}

const json& member(const json& obj, const char* key, const std::string& name) {
    if (!obj.is_object() || !obj.contains(key)) throw ReportError(name + ": missing '" + key + "'");
    return obj.at(key);
}

double number(const json& obj, const char* key, const std::string& name) {
    const json& v = member(obj, key, name);
    if (!v.is_number()) throw ReportError(name + ": '" + key + "' is not a number");
    return v.get<double>();
}

std::string string_of(const json& obj, const char* key, const std::string& name) {
    const json& v = member(obj, key, name);
    if (!v.is_string()) throw ReportError(name + ": '" + key + "' is not a string");
    return v.get<std::string>();
}

template <typename T>
std::map<std::string, T> number_map(const json& obj, const char* key, const std::string& name) {
    const json& v = member(obj, key, name);
    if (!v.is_object()) throw ReportError(name + ": '" + key + "' is not an object");
    std::map<std::string, T> out;
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it->is_number()) throw ReportError(name + ": '" + key + "." + it.key() + "' is not a number");
        out[it.key()] = it->get<T>();
    }
    return out;
}

}  // namespace

ClientRun parse_client_json(const std::string& text, const std::string& name) {
    json j = parse_json(text, name);
    if (!j.is_object()) throw ReportError(name + ": not a JSON object");
    ClientRun r;
    r.mode = string_of(j, "mode", name);
    r.rate = number(j, "rate", name);
    r.duration_s = number(j, "duration_s", name);
    r.rps = number(j, "rps", name);
    auto percentiles = [&](const char* key) {
        const json& h = member(j, key, name);
        std::string hname = name + ": " + key;
        return Percentiles{number(h, "p50", hname), number(h, "p99", hname), number(h, "p999", hname)};
    };
    r.latency = percentiles("latency_us");
    r.connect = percentiles("connect_us");
    r.handshakes_per_s = number(j, "handshakes_per_s", name);
    r.requests_failed = static_cast<long>(number(j, "requests_failed", name));
    r.requests_unfinished = static_cast<long>(number(j, "requests_unfinished", name));
    // Informational: the model in the table uses sysctl.json, read by the lab outside the client.
    if (j.contains("ports_in_range")) r.ports_in_range = static_cast<long>(number(j, "ports_in_range", name));
    r.errors = number_map<long>(j, "errors", name);
    r.first_error_s = number_map<double>(j, "first_error_s", name);
    r.handshakes = static_cast<long>(number(j, "handshakes", name));
    r.requests_ok = static_cast<long>(number(j, "requests_ok", name));
    r.requests_scheduled = static_cast<long>(number(j, "requests_scheduled", name));
    const json& tl = member(j, "timeline", name);
    if (!tl.is_array()) throw ReportError(name + ": 'timeline' is not an array");
    for (const json& sec : tl) {
        std::string sname = name + ": timeline entry";
        ClientRun::Second s;
        s.t = static_cast<long>(number(sec, "t", sname));
        s.requests = static_cast<long>(number(sec, "requests", sname));
        s.connects = static_cast<long>(number(sec, "connects", sname));
        s.errors = number_map<long>(sec, "errors", sname);
        r.timeline.push_back(std::move(s));
    }
    return r;
}

Sysctls parse_sysctl_json(const std::string& text, const std::string& name) {
    json j = parse_json(text, name);
    const json& client = member(j, "client", name);
    std::string cname = name + ": client";
    const json& range = member(client, "net.ipv4.ip_local_port_range", cname);
    if (!range.is_array() || range.size() != 2 || !range[0].is_number_integer() || !range[1].is_number_integer())
        throw ReportError(cname + ": 'net.ipv4.ip_local_port_range' is not [lo, hi]");
    Sysctls s;
    s.port_lo = range[0].get<long>();
    s.port_hi = range[1].get<long>();
    if (s.port_hi < s.port_lo) throw ReportError(cname + ": ip_local_port_range hi < lo");
    if (client.contains("net.ipv4.tcp_tw_reuse")) s.tw_reuse = static_cast<long>(number(client, "net.ipv4.tcp_tw_reuse", cname));
    return s;
}

Meta parse_meta_json(const std::string& text, const std::string& name) {
    json j = parse_json(text, name);
    Meta m;
    m.command = string_of(j, "command", name);
    m.kernel = string_of(j, "kernel", name);
    m.hostname = string_of(j, "hostname", name);
    m.date = string_of(j, "date", name);
    m.nproc = static_cast<long>(number(j, "nproc", name));
    if (j.contains("git_commit") && j["git_commit"].is_string()) m.git_commit = j["git_commit"].get<std::string>();
    const json& knobs = member(j, "knobs", name);
    if (!knobs.is_object()) throw ReportError(name + ": 'knobs' is not an object");
    if (knobs.contains("WARMUP") && knobs["WARMUP"].is_number()) m.warmup_s = knobs["WARMUP"].get<double>();
    // nlohmann's default object is sorted by key; the order RATE DURATION ... is the one people type, so
    // print the known knobs in that order and any others after.
    static const char* const order[] = {"RATE", "DURATION", "CONNS", "SIZE", "WARMUP", "RTT", "CLOSE", "PORT"};
    auto text_of = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    for (const char* k : order)
        if (knobs.contains(k)) m.knobs += (m.knobs.empty() ? "" : " ") + std::string(k) + "=" + text_of(knobs[k]);
    for (auto it = knobs.begin(); it != knobs.end(); ++it) {
        bool known = false;
        for (const char* k : order) known = known || it.key() == k;
        if (!known) m.knobs += (m.knobs.empty() ? "" : " ") + it.key() + "=" + text_of(*it);
    }
    if (j.contains("sysctl_overrides") && j["sysctl_overrides"].is_object())
        for (auto it = j["sysctl_overrides"].begin(); it != j["sysctl_overrides"].end(); ++it)
            m.knobs += " " + it.key() + "=\"" + text_of(*it) + "\"";
    return m;
}

WireSummary parse_wire_json(const std::string& text, const std::string& name) {
    json j = parse_json(text, name);
    WireSummary w;
    w.present = true;
    const json& t = member(j, "totals", name);
    std::string tname = name + ": totals";
    w.handshakes = static_cast<long>(number(t, "handshakes", tname));
    w.requests = static_cast<long>(number(t, "requests", tname));
    w.reused_requests = static_cast<long>(number(t, "reused_requests", tname));
    w.handshakes_per_s = number(t, "handshakes_per_s", tname);
    const json& f = member(j, "file", name);
    w.window_s = number(f, "duration_s", name + ": file");
    if (t.contains("irtt_us") && t["irtt_us"].is_object() && t["irtt_us"].contains("p50") && t["irtt_us"]["p50"].is_number())
        w.irtt_p50_us = t["irtt_us"]["p50"].get<double>();
    return w;
}

PathInfo parse_path_json(const std::string& text, const std::string& name) {
    json j = parse_json(text, name);
    PathInfo p;
    p.present = true;
    p.rtt_ms = number(j, "rtt_ms", name);
    p.path = string_of(j, "path", name);
    return p;
}

CompareRun load_compare_dir(const std::string& dir) {
    auto path = [&](const char* f) { return dir + "/" + f; };
    CompareRun run;
    run.churn = parse_client_json(read_text(path("churn.json")), path("churn.json"));
    run.pooled = parse_client_json(read_text(path("pooled.json")), path("pooled.json"));
    for (auto [file, series, summary] : {std::tuple{"churn.tw.csv", &run.churn_tw_series, &run.churn_tw},
                                         std::tuple{"pooled.tw.csv", &run.pooled_tw_series, &run.pooled_tw}}) {
        std::istringstream in(read_text(path(file)));
        *series = parse_tw_csv(in);
        *summary = summarize(*series);
    }
    run.sysctl = parse_sysctl_json(read_text(path("sysctl.json")), path("sysctl.json"));
    run.meta = parse_meta_json(read_text(path("meta.json")), path("meta.json"));
    for (auto [file, summary] : {std::pair{"churn.probe.json", &run.churn_probe}, std::pair{"pooled.probe.json", &run.pooled_probe}})
        if (file_exists(path(file))) *summary = parse_probe_summary(read_text(path(file)), path(file));
    // Optional, like the probe's: runs from before the capture and the link lack them.
    for (auto [file, wire] : {std::pair{"churn.wire.json", &run.churn_wire}, std::pair{"pooled.wire.json", &run.pooled_wire}})
        if (file_exists(path(file))) *wire = parse_wire_json(read_text(path(file)), path(file));
    if (file_exists(path("churn.path.json"))) run.path = parse_path_json(read_text(path("churn.path.json")), path("churn.path.json"));
    return run;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ReportError(path + ": cannot open (" + errno_name(errno) + ")");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw ReportError(path + ": read failed");
    return ss.str();
}

std::vector<ManifestRow> read_manifest(const std::string& path, const std::string& header, size_t fields) {
    std::istringstream in(read_text(path));
    std::vector<ManifestRow> rows;
    std::string line;
    for (size_t lineno = 1; std::getline(in, line); ++lineno) {
        if (line.empty() || line.rfind(header + "\t", 0) == 0) continue;
        ManifestRow r;
        std::istringstream split(line);
        for (std::string x; std::getline(split, x, '\t');) r.f.push_back(x);
        if (line.back() == '\t') r.f.push_back("");  // getline drops a trailing empty field
        r.where = path + ":" + std::to_string(lineno);
        if (r.f.size() != fields)
            throw ReportError(r.where + ": want " + std::to_string(fields) + " tab-separated fields, got " + std::to_string(r.f.size()));
        rows.push_back(std::move(r));
    }
    return rows;
}

void write_text(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw ReportError(tmp + ": cannot create (" + errno_name(errno) + ")");
        out << text;
        out.flush();
        if (!out) throw ReportError(tmp + ": write failed");
    }
    // rename() replaces atomically within one filesystem: readers see the old file or the new one.
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        throw ReportError(sys_message("rename", tmp + " -> " + path, err));
    }
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

json parse_object(const std::string& text, const std::string& name) {
    // No exceptions from the parser: a malformed file is the user's input, reported as one line.
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw ReportError(name + ": malformed JSON (want an object)");
    return j;
}

}  // namespace churn::report
