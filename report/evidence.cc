// evidence.cc: block contents from evidence/; see evidence.h.
#include "report/evidence.h"

#include <algorithm>

#include "report/reading.h"
#include "report/results.h"
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
    // "compare.timeline" and "compare.reading" are other views of evidence/compare/.
    size_t dot = name.find('.');
    if (dot != std::string::npos) {
        std::string dir = name.substr(0, dot), view = name.substr(dot + 1);
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
    return line + ".";
}

}  // namespace churn::report
