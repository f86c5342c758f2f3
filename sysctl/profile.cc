// profile.cc: the sysctl.d parser and the project's lint; see profile.h.
#include "sysctl/profile.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>

#include "loop/sys.h"
#include "sysctl/known.h"
#include "sysctl/proc_sys.h"

namespace churn::sysctl {
namespace {

std::string_view trim(std::string_view s) {
    size_t a = s.find_first_not_of(" \t\r");
    if (a == std::string_view::npos) return {};
    size_t b = s.find_last_not_of(" \t\r");
    return s.substr(a, b - a + 1);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// What the comment block just above a setting said (a blank line or a setting ends a block).
struct Block {
    std::string why;
    int why_line = 0;
    int whys = 0;
};

}  // namespace

const std::vector<std::string>& levers_rows() {
    static const std::vector<std::string> rows = {"1", "2", "3a", "3b", "4", "5", "6", "7", "8", "9", "10"};
    return rows;
}

std::vector<std::string> rows_named(std::string_view why, std::vector<std::string>& unknown) {
    // "row" or "rows", then ids joined by / , & and or vs: "rows 3a/3b", "row 10 vs 9".
    static const std::regex list(R"(\brows?\s+(\d+[a-z]?(?:\s*(?:/|,|&|\band\b|\bor\b|\bvs\b\.?)\s*\d+[a-z]?)*))",
                                 std::regex::icase);
    static const std::regex id(R"(\d+[a-z]?)", std::regex::icase);
    std::vector<std::string> rows;
    std::string text(why);
    for (std::sregex_iterator m(text.begin(), text.end(), list), end; m != end; ++m) {
        std::string ids = (*m)[1];
        for (std::sregex_iterator i(ids.begin(), ids.end(), id); i != end; ++i) {
            std::string r = i->str();
            std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
            const auto& known = levers_rows();
            auto& into = std::find(known.begin(), known.end(), r) != known.end() ? rows : unknown;
            if (std::find(into.begin(), into.end(), r) == into.end()) into.push_back(r);
        }
    }
    return rows;
}

Profile parse_profile(std::string_view text, const std::string& path) {
    Profile p;
    p.path = path;
    Block block;
    std::map<std::string, int> first_line;
    auto problem = [&](int line, std::string msg) { p.problems.push_back({path, line, std::move(msg)}); };

    int lineno = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        ++lineno;

        if (line.empty()) {
            block = Block{};  // a blank line ends the comment block: a why is for the setting right below it
            continue;
        }
        if (line[0] == '#' || line[0] == ';') {
            std::string_view c = trim(line.substr(1));
            if (starts_with(c, "why:")) {
                block.why = std::string(trim(c.substr(4)));
                block.why_line = lineno;
                ++block.whys;
            } else if (starts_with(c, "never:")) {
                p.never.emplace_back(trim(c.substr(6)));
            }
            continue;
        }

        Setting s;
        s.line = lineno;
        if (line[0] == '-') {
            s.ignore_errors = true;
            line = trim(line.substr(1));
        }
        size_t eq = line.find('=');
        Block above = block;
        block = Block{};
        if (eq == std::string_view::npos) {
            problem(lineno, "malformed line: expected 'key = value', got '" + std::string(line) + "'");
            continue;
        }
        std::string_view raw_key = trim(line.substr(0, eq));
        std::string_view raw_value = trim(line.substr(eq + 1));
        if (raw_key.empty()) {
            problem(lineno, "malformed line: no key before '='");
            continue;
        }
        if (raw_key.find('*') != std::string_view::npos) {
            problem(lineno, "'" + std::string(raw_key) + "': globs are not supported in a profile; name each key");
            continue;
        }
        if (raw_key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") !=
            std::string_view::npos) {
            problem(lineno, "malformed key '" + std::string(raw_key) + "': only letters, digits, '_', '-', '.' and '/'");
            continue;
        }
        s.key = dotted_key(raw_key);
        s.value = squeeze(raw_value);
        if (s.value.empty()) {
            problem(lineno, s.key + ": no value after '='");
            continue;
        }
        // sysctl.d has no inline comments: `sysctl -p` would hand "1 # comment" to the kernel as the value.
        if (s.value.find_first_of("#;") != std::string::npos) {
            problem(lineno, s.key + ": '" + s.value + "': inline comments are not allowed (sysctl -p would write them as part of the value)");
            continue;
        }
        s.why = above.why;

        if (!starts_with(s.key, "net.")) {
            problem(lineno, s.key + ": not a net.* sysctl; only net.* sysctls belong to a network namespace, this one would change the whole host");
        } else if (const KeyInfo* k = key_info(s.key)) {
            if (k->never) problem(lineno, s.key + ": never goes in a profile: " + k->never);
            else if (std::string why = value_problem(*k, s.value); !why.empty()) problem(lineno, s.key + ": " + why);
        }
        if (auto [it, fresh] = first_line.emplace(s.key, lineno); !fresh)
            problem(lineno, "duplicate key " + s.key + " (first set at line " + std::to_string(it->second) + ")");

        if (above.whys == 0) {
            problem(lineno, s.key + ": no '# why:' comment just above it (one line naming a run-levers row and EXPERIMENTS.md §6)");
        } else if (above.whys > 1) {
            problem(above.why_line, s.key + ": more than one '# why:' line above it (one line, one justification)");
        } else {
            std::vector<std::string> unknown;
            s.rows = rows_named(above.why, unknown);
            if (!unknown.empty())
                problem(above.why_line, s.key + ": '# why:' names '" + unknown.front() + "', not a run-levers row (1, 2, 3a, 3b, 4-10)");
            else if (s.rows.empty())
                problem(above.why_line, s.key + ": '# why:' names no run-levers row (\"row 3a\", \"rows 3a/3b\")");
            if (above.why.find("EXPERIMENTS.md §6") == std::string::npos)
                problem(above.why_line, s.key + ": '# why:' does not cite EXPERIMENTS.md §6");
        }
        p.settings.push_back(std::move(s));
    }
    return p;
}

Profile load_profile(const std::string& path) {
    // A profile is a small text file; read it whole. O_CLOEXEC out of habit: nothing here execs.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        throw SysctlError("profile " + sys_message("open", path, err));
    }
    std::string text;
    int err = read_to_end(fd, text, 1 << 20);
    ::close(fd);
    if (err == EFBIG) throw SysctlError("profile " + path + ": larger than 1 MiB, not a sysctl profile");
    if (err) throw SysctlError("profile " + sys_message("read", path, err));  // EISDIR for a directory
    return parse_profile(text, path);
}

}  // namespace churn::sysctl
