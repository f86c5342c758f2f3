// profile.h: a sysctl profile (sysctl.d syntax) and its lint.
//
//   # why: run-levers row 3a (tw-reuse-under): ... EXPERIMENTS.md §6
//   net.ipv4.tcp_tw_reuse = 1
//
// The syntax is sysctl.d(5)'s, so that an operator can hand the same file to `sysctl -p FILE`:
// `key = value` or `key=value`; the key dotted or slashed; lines starting with '#' or ';' are comments
// (only whole lines: sysctl.d has no inline comments); a leading '-' on a setting means "ignore a
// failure to set it". The project adds its rules: every setting has a `# why:` comment in the comment
// block just above it, naming a run-levers row and EXPERIMENTS.md §6; only net.* keys (per network
// namespace); no key twice; values of the form the key takes; never the keys known.h marks never.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace churn::sysctl {

struct Setting {
    std::string key;             // dotted
    std::string value;           // whitespace squeezed ("1024 65535")
    bool ignore_errors = false;  // the line started with '-'
    int line = 0;
    std::string why;             // the text after "# why:"
    std::vector<std::string> rows;  // run-levers rows it names ("3a", "10")
};

struct Problem {
    std::string file;
    int line = 0;
    std::string message;
    std::string str() const { return file + ":" + std::to_string(line) + ": " + message; }
};

struct Profile {
    std::string path;
    std::vector<Setting> settings;   // every well-formed setting, problems or not
    std::vector<std::string> never;  // the text of "# never:" lines
    std::vector<Problem> problems;   // empty: the profile lints clean
};

// Parse and lint in one pass (the lint needs the comment block above each line anyway).
Profile parse_profile(std::string_view text, const std::string& path);
// The file at `path`; throws SysctlError (one line) when it cannot be read.
Profile load_profile(const std::string& path);

// The run-levers row ids (issue 9's table): 1 2 3a 3b 4 5 6 7 8 9 10.
const std::vector<std::string>& levers_rows();
// Rows named in a why text ("rows 3a/3b", "row 10 vs 9", "run-levers row 2 (wide-range)"); ids that are
// not rows go to `unknown`.
std::vector<std::string> rows_named(std::string_view why, std::vector<std::string>& unknown);

}  // namespace churn::sysctl
