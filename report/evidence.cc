// evidence.cc: block contents from evidence/; see evidence.h.
#include "report/evidence.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "report/cc.h"
#include "report/levers.h"
#include "report/nagle.h"
#include "report/reading.h"
#include "report/results.h"
#include "report/synflood.h"
#include "report/table.h"

namespace churn::report {

bool Evidence::has_raw(const std::string& name) const {
    std::string d = dir_ + "/" + name + "/";
    for (const char* f : {"churn.json", "pooled.json", "churn.tw.csv", "pooled.tw.csv", "sysctl.json", "meta.json"})
        if (!file_exists(d + f)) return false;
    return true;
}

std::string Evidence::table(const std::string& name) const {
    std::string d = dir_ + "/" + name;
    if (has_raw(name)) return render_table(load_compare_dir(d));
    if (file_exists(d + "/table.md")) return read_text(d + "/table.md");
    throw ReportError("generated block '" + name + "': no evidence in " + d + " (want table.md, or the files of a compare run)");
}

std::string Evidence::block(const std::string& name) const {
    // A make run-cc directory (cc.json): "cc" is the table with its meta line, "cc.checks" the issue's
    // expectations against the measurements, "cc.ss" the ss-style lines. All rendered from cc.json.
    size_t dot = name.find('.');
    std::string base = name.substr(0, dot);
    // A make run-levers directory (levers.json): "levers" is the table, the per-row verdicts and the meta
    // line; "levers.rung.3a" one line quoting row 3a (RUNBOOK.md's fix ladder); "levers.final" row 1 against
    // row 10 with row 10's sysctl profile (settings and why). Verdicts are recomputed.
    if (file_exists(dir_ + "/" + base + "/levers.json")) {
        std::string path = dir_ + "/" + base + "/levers.json";
        std::vector<LeverRow> rows = parse_levers_json(read_text(path), path);
        if (dot == std::string::npos) {
            std::string meta = dir_ + "/" + base + "/meta.json", out = render_levers_table(rows) + "\n";
            for (const LeverRow& r : rows) out += "- " + r.id + ": " + r.verdict + ".\n";
            return out + (file_exists(meta) ? "\n" + meta_line(read_text(meta), meta) + "\n" : "");
        }
        std::string view = name.substr(dot + 1);
        if (view.rfind("rung.", 0) == 0) return render_lever_quote(rows, view.substr(5));
        // "levers.final": issue 9's closing before/after, row 1 against row 10, and row 10's profile.
        if (view == "final") return render_levers_final(rows);
        throw ReportError("generated block '" + name + "': unknown view '" + view + "' (want final or rung.ROW, e.g. rung.3a)");
    }
    // A make run-synflood directory (synflood.json): "synflood" is the flood's counters table with the meta
    // line; "synflood.clients", ".accept", ".rtt", ".synack" the other tables, ".findings" a line per case,
    // ".quote" RUNBOOK.md's one line. A text file of the directory (synflood.cookie.annotate.txt) is shown
    // as it is, below.
    if (file_exists(dir_ + "/" + base + "/synflood.json") && !(dot != std::string::npos && (name.ends_with(".txt") || name.ends_with(".md")))) {
        std::string path = dir_ + "/" + base + "/synflood.json";
        std::vector<SynCase> cases = parse_synflood_json(read_text(path), path);
        if (dot == std::string::npos) {
            std::string meta = dir_ + "/" + base + "/meta.json";
            return render_syn_counters(cases) + (file_exists(meta) ? "\n" + meta_line(read_text(meta), meta) + "\n" : "");
        }
        std::string view = name.substr(dot + 1);
        if (view == "clients") return render_syn_clients(cases);
        if (view == "accept") return render_syn_accept(cases);
        if (view == "rtt") return render_syn_rtt(cases);
        if (view == "synack") return render_syn_synack(cases);
        if (view == "findings") return render_syn_findings(cases);
        if (view == "quote") return render_syn_quote(cases);
        throw ReportError("generated block '" + name + "': unknown view '" + view + "' (want clients, accept, rtt, synack, findings or quote)");
    }
    // A make run-nagle directory (nagle.json): "nagle" is the request-split table with the meta line;
    // "nagle.response" the response-split table, "nagle.pipeline" the pipelined one, "nagle.sweep" the RTT
    // sweep, "nagle.findings" a line per case. Its text files (nagle.excerpt-nagle.annotate.txt) are shown as they are, below.
    if (file_exists(dir_ + "/" + base + "/nagle.json") && !(dot != std::string::npos && (name.ends_with(".txt") || name.ends_with(".md")))) {
        std::string path = dir_ + "/" + base + "/nagle.json";
        NagleReport rep = parse_nagle_json(read_text(path), path);
        if (dot == std::string::npos) {
            std::string meta = dir_ + "/" + base + "/meta.json";
            return render_nagle_table(rep, "req") + (file_exists(meta) ? "\n" + meta_line(read_text(meta), meta) + "\n" : "");
        }
        std::string view = name.substr(dot + 1);
        if (view == "response") return render_nagle_table(rep, "resp");
        if (view == "pipeline") return render_nagle_table(rep, "pipe");
        if (view == "sweep") return render_nagle_sweep(rep);
        if (view == "findings") return render_nagle_findings(rep);
        throw ReportError("generated block '" + name + "': unknown view '" + view + "' (want response, pipeline, sweep or findings)");
    }
    if (file_exists(dir_ + "/" + base + "/cc.json")) {
        std::string path = dir_ + "/" + base + "/cc.json";
        CcReport rep = parse_cc_json(read_text(path), path);
        if (dot == std::string::npos) {
            std::string meta = dir_ + "/" + base + "/meta.json";
            return render_cc_table(rep) + (file_exists(meta) ? "\n" + meta_line(read_text(meta), meta) + "\n" : "");
        }
        std::string view = name.substr(dot + 1);
        if (view == "checks") return render_cc_checks(rep);
        if (view == "ss") return render_cc_ss(rep);
        throw ReportError("generated block '" + name + "': unknown view '" + view + "' (want checks or ss)");
    }
    // "compare.timeline" and "compare.reading" are other views of evidence/compare/.
    if (dot != std::string::npos) {
        std::string dir = name.substr(0, dot), view = name.substr(dot + 1);
        // "compare.churn.annotate.txt": a text file of the evidence (churn-pcap annotate's output, written
        // by lab/evidence.sh), shown as it is, in a code block.
        // "bench.bench-pcap.md": a Markdown table a make target wrote, included as it is.
        auto ends_with = [&](const char* ext) {
            size_t n = std::strlen(ext);
            return view.size() > n && view.compare(view.size() - n, n, ext) == 0;
        };
        if (ends_with(".txt") || ends_with(".md")) {
            std::string text = read_text(dir_ + "/" + dir + "/" + view);
            if (!text.empty() && text.back() != '\n') text += '\n';
            return ends_with(".txt") ? "```\n" + text + "```\n" : text;
        }
        if (!has_raw(dir)) throw ReportError("generated block '" + name + "': needs the raw files of a compare run in " + dir_ + "/" + dir);
        CompareRun run = load_compare_dir(dir_ + "/" + dir);
        if (view == "timeline") return render_timeline(run, 5);
        if (view == "reading") return render_reading(run);
        throw ReportError("generated block '" + name + "': unknown view '" + view + "' (want timeline or reading)");
    }
    std::string out = table(name);
    if (!out.empty() && out.back() != '\n') out += '\n';
    std::string meta = dir_ + "/" + name + "/meta.json";
    if (file_exists(meta)) out += "\n" + meta_line(read_text(meta), meta) + "\n";
    return out;
}

std::vector<std::string> Evidence::stale_tables(const std::vector<std::string>& names) const {
    std::vector<std::string> stale;
    for (const std::string& n : names) {
        if (n.find('.') != std::string::npos || !has_raw(n)) continue;
        std::string path = dir_ + "/" + n + "/table.md";
        if (!file_exists(path) || read_text(path) != table(n)) stale.push_back(path);
    }
    return stale;
}

std::vector<std::string> Evidence::refresh_tables(const std::vector<std::string>& names) const {
    std::vector<std::string> stale = stale_tables(names);
    for (const std::string& path : stale) {
        std::string n = path.substr(dir_.size() + 1);
        n = n.substr(0, n.find('/'));
        write_text(path, table(n));
    }
    return stale;
}

std::string meta_line(const std::string& meta_json_text, const std::string& name) {
    Meta m = parse_meta_json(meta_json_text, name);
    std::string line = "Run: `" + m.command + "` on " + m.hostname + " (" + std::to_string(m.nproc) +
                       " CPUs), kernel " + m.kernel + ", " + m.date;
    if (!m.git_commit.empty() && m.git_commit != "unknown") {
        // 12 hex digits name a commit unambiguously in a project this size; keep a "-dirty" mark.
        std::string c = m.git_commit;
        size_t dash = c.find('-');
        line += ", commit " + c.substr(0, std::min<size_t>(12, dash)) + (dash == std::string::npos ? "" : c.substr(dash));
    }
    // The host's steal over the run (lab/meta.sh, since issue 8): every timing figure above is to be read
    // beside it. Older meta.json files have none and render as they did.
    auto j = nlohmann::json::parse(meta_json_text, nullptr, false);
    if (j.is_object() && j.contains("host_steal") && j["host_steal"].is_object() && j["host_steal"].contains("pct") &&
        j["host_steal"]["pct"].is_number())
        line += ", host steal " + format_sig(j["host_steal"]["pct"].get<double>(), 2) + " %";
    return line + ".";
}

}  // namespace churn::report
